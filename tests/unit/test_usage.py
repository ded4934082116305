"""Usage kept one way: the request's ledger, and the state's copy of it (crossroads.usage)."""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from crossroads import Crossroads, Result, usage
from crossroads.errors import BudgetExceeded
from crossroads.llm import ModelCaller
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel
from crossroads.usage import Usage, UsageLedger, add_call, empty_usage, latest_usage, request_ledger
from tests.unit.test_writers import PART_3, STORY_REQUEST, review_model

HI = [HumanMessage(content="hi")]


def calls(count: int, node: str = "n") -> Usage:
    record = empty_usage()
    for _ in range(count):
        record = add_call(record, node, {"input_tokens": 5, "output_tokens": 2})
    return record


def test_the_same_copy_arriving_twice_is_counted_once() -> None:
    # An agent subgraph receives the request's usage and hands it back whole.
    copy = calls(3)
    assert latest_usage(copy, copy) == copy
    assert latest_usage(None, copy) == latest_usage(copy, None) == copy


def test_the_later_copy_wins_in_every_field_and_node() -> None:
    earlier = calls(1, "router")
    later = add_call(add_call(earlier, "writers.critic", {"input_tokens": 9}), "router", None)
    merged = latest_usage(later, earlier)
    assert merged == later
    assert merged["by_node"]["router"]["llm_calls"] == 2
    assert merged["llm_calls"] == 3 and merged["input_tokens"] == 14


def test_add_call_counts_a_call_and_its_tokens_per_node() -> None:
    record = add_call(empty_usage(), "a", {"input_tokens": 4, "output_tokens": 1})
    record = add_call(record, "a", {"output_tokens": 3}, count_call=False)
    assert record == {
        "llm_calls": 1,
        "input_tokens": 4,
        "output_tokens": 4,
        "by_node": {"a": {"llm_calls": 1, "input_tokens": 4, "output_tokens": 4}},
    }


def test_a_handed_out_copy_does_not_change_with_later_calls() -> None:
    ledger = UsageLedger()
    ledger.record("a", None)
    handed_out = ledger.usage
    ledger.record("a", None)
    assert handed_out["llm_calls"] == 1 and ledger.usage["llm_calls"] == 2


def test_nodes_of_one_request_share_one_ledger() -> None:
    started = time.time()
    first = request_ledger({"started_at": started})
    assert request_ledger({"started_at": started, "usage": empty_usage()}) is first
    assert request_ledger({"started_at": started + 1}) is not first
    assert request_ledger({}) is not request_ledger({})  # no request: a ledger of its own


def test_a_request_this_process_has_not_seen_starts_from_its_persisted_usage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(usage, "_LEDGERS", OrderedDict())
    persisted = calls(4)
    ledger = request_ledger({"started_at": time.time(), "usage": persisted})
    assert ledger.usage == persisted


def test_a_ledger_catches_up_with_a_copy_that_got_further_elsewhere() -> None:
    started = time.time()
    ledger = request_ledger({"started_at": started, "usage": calls(2)})
    assert request_ledger({"started_at": started, "usage": calls(5)}) is ledger
    assert ledger.usage["llm_calls"] == 5


async def test_two_callers_of_one_request_share_its_call_budget() -> None:
    """Under the old split each caller counted only its own calls on top of the state's."""
    model = ScriptedChatModel(default="ok")
    settings = Settings(model=model, max_llm_calls=2)
    state = {"started_at": time.time()}
    await ModelCaller(settings, state, "a").ainvoke("writer", HI)
    second = ModelCaller(settings, state, "b")
    await second.ainvoke("writer", HI)
    with pytest.raises(BudgetExceeded, match="max_llm_calls"):
        await second.ainvoke("writer", HI)
    assert len(model.calls) == 2
    assert second.usage_update()["by_node"].keys() == {"a", "b"}


# --- an interrupt, resumed by a process that never saw the request -------------------------


def _pause_then_resume_elsewhere(
    store: Path, monkeypatch: pytest.MonkeyPatch, **settings: object
) -> tuple[ScriptedChatModel, Crossroads, Result]:
    model = review_model()
    with Crossroads(
        model, checkpointer=store, review=True, router_threshold=1.01, **settings
    ) as first:
        paused = first.ask(STORY_REQUEST, thread_id="review")
        assert paused.interrupt is not None
    monkeypatch.setattr(usage, "_LEDGERS", OrderedDict())  # another process: no ledgers
    second = Crossroads(model, checkpointer=store, review=True, router_threshold=1.01, **settings)
    return model, second, second.resume("review", True)


def test_usage_before_a_pause_survives_a_resume_in_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, app, done = _pause_then_resume_elsewhere(tmp_path / "t.sqlite", monkeypatch)
    with app:
        assert done.error is None and PART_3 in done.answer
        counted = done.usage
        assert counted["llm_calls"] == len(model.calls) == 12
        # before the pause: router, creative, planner, critic; after: 3 parts, 3 critiques, 2
        # bible updates.
        assert counted["by_node"]["router"]["llm_calls"] == 1
        assert counted["by_node"]["writers.creative"]["llm_calls"] == 1
        assert counted["by_node"]["writers.writer"]["llm_calls"] == 3


def test_the_call_budget_counts_calls_made_before_a_pause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, app, done = _pause_then_resume_elsewhere(
        tmp_path / "t.sqlite", monkeypatch, max_llm_calls=10
    )
    with app:
        assert "max_llm_calls" in (done.error or "")
        assert done.usage["llm_calls"] == len(model.calls) == 10
