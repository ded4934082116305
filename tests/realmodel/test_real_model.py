"""A real model through the real langchain-openai client: what the framework owes with any
model (see conftest.py for how to run this tier)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from crossroads import Crossroads, Result
from crossroads.tools.retrievers import build_index
from tests.realmodel.conftest import CountingProxy

pytestmark = pytest.mark.realmodel

Make = Callable[..., Crossroads]
LEAKS = re.compile(r"&(?:lt|gt|amp|quot);|</?(?:passage|question|search_query|result|expression)\b")
ROUTES = {"math", "fact", "none"}


def assert_clean(result: Result, question: str) -> None:
    assert result.answer.strip(), "every request ends with text"
    leaked = [leak for leak in LEAKS.findall(result.answer) if leak not in question]
    assert not leaked, f"markup leaked into the answer: {leaked} in {result.answer!r}"


def router_suite(limit: int) -> list[dict[str, str]]:
    text = resources.files("crossroads.data").joinpath("suite_router.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return rows[:: max(1, len(rows) // limit)][:limit]


def test_the_router_gives_a_valid_route_for_suite_questions(real_app: Make) -> None:
    app = real_app()
    for row in router_suite(6):
        decision = app.route(row["question"])
        assert decision.route in ROUTES, row["question"]
        # The model's reply was read (JSON or plain text), not a 500 or a parse failure.
        assert decision.decided_by in {"llm", "expression"}, (row["question"], decision.reason)


def test_a_bare_expression_is_computed(real_app: Make) -> None:
    result = real_app().ask("12 * 7")
    assert result.error is None
    assert result.answer == "12 * 7 = 84."


def test_a_word_problem_ends_in_the_calculator_with_a_result(real_app: Make) -> None:
    question = "I have 10 apples and I ate four. How many do I have left?"
    result = real_app().ask(question)
    assert_clean(result, question)
    if result.route == "math":
        # Lenient extraction, or the word-math reader when the model cannot extract.
        assert result.error is None
        assert "6" in result.answer
        assert result.usage["llm_calls"] <= 30


def test_a_follow_up_on_a_thread_goes_to_the_calculator(real_app: Make) -> None:
    app = real_app()
    app.ask("12 * 7", thread_id="t")
    result = app.ask("and divided by 4?", thread_id="t")
    assert result.route == "math"
    assert result.steps[0]["detail"]["decided_by"] == "follow_up"
    assert_clean(result, "and divided by 4?")


def test_a_fact_from_the_documents_comes_with_its_source(real_app: Make, tmp_path: Path) -> None:
    # SmolLM2 cited no passage in 10 of 10 such answers, and added facts of its own: an
    # answer from the researcher must still come with the sources it was taken from.
    corpus = Path(str(resources.files("crossroads") / "data" / "example_corpus"))
    build_index([corpus], tmp_path / "index", progress=False)
    question = "How tall is the Cape Morrow lighthouse?"
    result = real_app(router_threshold=None, home=tmp_path, max_llm_calls=8).ask(question)
    assert_clean(result, question)
    assert result.route == "fact", result.route_reason  # the classifier is sure of this one
    if not result.answer.startswith("I don't know"):
        assert result.sources, result.answer
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", result.answer)}
        assert cited and cited <= set(range(1, len(result.sources) + 1)), result.answer


def test_streaming_ends_with_a_result_and_counted_usage(real_app: Make) -> None:
    app = real_app(max_llm_calls=8)
    events = list(app.stream("What is the capital of Australia?"))
    results = [event.result for event in events if event.type == "result"]
    assert len(results) == 1 and results[0] is not None
    result = results[0]
    assert_clean(result, "What is the capital of Australia?")
    assert result.usage["llm_calls"] >= 1, (result.route, result.usage, result.steps, result.error)
    assert result.usage["input_tokens"] > 0  # streamed calls count their tokens too


def test_the_writer_team_ends_with_text_within_its_budget(real_app: Make) -> None:
    question = "Write a two-line poem about the sea."
    started = time.monotonic()
    result = real_app(max_llm_calls=12, max_seconds=150.0, max_parts=1).ask(question)
    elapsed = time.monotonic() - started
    assert_clean(result, question)
    assert not result.answer.lstrip().startswith("Notes"), result.answer
    assert result.usage["llm_calls"] <= 12
    assert elapsed < 150.0 + 30.0


def test_a_tight_time_budget_ends_the_request_on_time(real_app: Make, llm_url: str) -> None:
    started = time.monotonic()
    result = real_app(max_seconds=4.0).ask("Write a long story about a lighthouse keeper.")
    elapsed = time.monotonic() - started
    assert result.answer.strip()
    # Each call's timeout is cut to what is left and capped replies stop on the server.
    assert elapsed < 4.0 + 20.0
    # ... and the server is not left generating a reply nobody waits for: it answers a
    # one-token request at once (it serves one request at a time).
    started = time.monotonic()
    request = urllib.request.Request(
        f"{llm_url}/chat/completions",
        data=json.dumps(
            {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        assert reply.status == 200
    assert time.monotonic() - started < 15.0


def test_usage_counts_every_call_the_server_saw(
    real_app: Make, counting_proxy: CountingProxy
) -> None:
    app = real_app(
        model_kwargs={"base_url": counting_proxy.api_url, "api_key": "not-needed", "seed": 7}
    )
    for question in (
        "I have 10 apples and I ate four. How many do I have left?",
        "What is the capital of Australia?",
        "Write a two-line poem about the sea.",
    ):
        before = counting_proxy.chat_requests
        result = app.ask(question)
        seen = counting_proxy.chat_requests - before
        assert seen >= 1
        assert result.usage["llm_calls"] == seen, (question, result.usage)
        # llama.cpp's server sends no usage in a streamed reply: tokens are then estimated,
        # never left at 0 (a token budget that counts 0 would never end a request).
        assert result.usage["input_tokens"] >= 10 * seen, (question, result.usage, result.error)
        assert result.usage["output_tokens"] >= 1, (question, result.usage)


def test_plan_review_pauses_before_writing_and_resumes_to_text(real_app: Make) -> None:
    # The offline classifier routes (the model's own routing is tested above): this test is
    # about the pause and the resume.
    app = real_app(review=True, router_threshold=0.0, max_llm_calls=16, max_seconds=150.0)
    question = "Write a story in three parts about a lighthouse keeper and a storm."
    paused = app.ask(question, thread_id="review")
    assert paused.interrupt is not None, paused.answer
    assert paused.interrupt["type"] == "plan_review"
    assert paused.interrupt["outline"], "the person sees a plan to approve"
    done = app.resume("review", True)
    assert done.interrupt is None
    assert_clean(done, question)
    assert not done.answer.lstrip().startswith("Notes"), done.answer
    assert done.usage["llm_calls"] <= 16


def test_turns_leaving_the_window_are_summarised_and_the_thread_goes_on(
    real_app: Make,
) -> None:
    # A window of two messages: from the second turn on, the previous turn leaves and is
    # folded into the running summary by the real model; the thread keeps answering.
    app = real_app(history_messages=2, summary_words=40)
    app.ask("12 * 7", thread_id="s")
    result = app.ask("100 + 5", thread_id="s")
    assert result.error is None and "105" in result.answer
    (memory,) = [s for s in result.steps if s["agent"] == "memory"]
    assert memory["detail"]["folded"] == 2
    assert result.usage["by_node"]["summary"]["llm_calls"] == 1
    values = app.graph.get_state({"configurable": {"thread_id": "s"}}).values
    assert len(values["messages"]) <= 2
    if "failed" not in memory["detail"]:
        assert 0 < len(values["summary"].split()) <= 41
