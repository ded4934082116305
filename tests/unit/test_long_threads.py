"""Long conversations stay small, requests stay lean (issue 19).

* a thread keeps a bounded window of messages (``Settings.history_messages``), so what a turn
  stores does not grow with the conversation, and follow-ups still work;
* ``Settings.durability`` picks when checkpoints are written; a writer's review still pauses
  and resumes with the fewest writes;
* the SQLite store runs in WAL with ``synchronous=NORMAL``;
* edge functions are async (LangGraph would run a sync one in a thread pool);
* a math question imports none of the retrieval-only libraries.
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from crossroads import Crossroads, Settings
from crossroads.checkpoints import open_checkpointer
from crossroads.errors import ConfigurationError
from crossroads.graphs.app import build_app_graph
from tests.unit.test_writers import STORY_REQUEST, review_model

FOLLOW_UP = "and divided by 4?"


def question(turn: int) -> str:
    return FOLLOW_UP if turn % 3 == 0 else f"What is {turn} + {turn * 2}?"


def stored_bytes(saver: InMemorySaver) -> int:
    """Serialized bytes the saver holds: checkpoints, metadata, channel blobs, writes."""
    total = 0
    for namespaces in saver.storage.values():
        for checkpoints in namespaces.values():
            for (_, checkpoint), (_, metadata), _parent in checkpoints.values():
                total += len(checkpoint) + len(metadata)
    total += sum(len(blob or b"") for _, blob in saver.blobs.values())
    for writes in saver.writes.values():
        total += sum(len(value or b"") for _, _, (_, value), _ in writes.values())
    return total


def test_a_thread_keeps_a_bounded_window_and_follow_ups_still_work() -> None:
    with Crossroads(offline=True, checkpointer="memory", history_messages=4) as app:
        answers = [app.ask(question(turn), thread_id="t") for turn in range(1, 10)]
        history = app.history("t")
        values = app.graph.get_state({"configurable": {"thread_id": "t"}}).values

    assert all(a.route == "math" and a.error is None for a in answers)
    # turn 8: 8 + 16 = 24; turn 9 is a follow-up on it: 24 / 4 = 6
    assert answers[8].answer == "24 / 4 = 6."
    assert len(values["messages"]) == 4
    assert history == [
        ("you", question(8)),
        ("math", "8 + 16 = 24."),
        ("you", FOLLOW_UP),
        ("math", "24 / 4 = 6."),
    ]


def test_what_a_turn_stores_does_not_grow_with_the_thread() -> None:
    saver = InMemorySaver()
    added: list[int] = []
    settings = {"history_messages": 6, "keep_checkpoints": True}  # every turn's rows stay
    with Crossroads(offline=True, checkpointer=saver, **settings) as app:
        before = stored_bytes(saver)
        for turn in range(1, 31):
            app.ask(question(turn), thread_id="long")
            after = stored_bytes(saver)
            added.append(after - before)
            before = after
    # Without the window, turn 30 stores about three times what turn 10 does.
    assert added[29] < added[9] * 1.15


def test_agents_see_only_the_window(scripted: Callable[..., Any], make_app: Any) -> None:
    model = scripted(router=[{"route": "none", "reason": "chat"}] * 4, default="hello")
    app = make_app(model, history_messages=2)
    for text in ("first remark", "second remark", "third remark"):
        app.ask(text, thread_id="w")
    last_router_prompt = model.calls_for("router")[-1].prompt
    assert "third remark" in last_router_prompt
    assert "first remark" not in last_router_prompt and "second remark" not in last_router_prompt


@pytest.mark.parametrize(
    ("field", "value"), [("history_messages", 1), ("history_messages", "8"), ("durability", "x")]
)
def test_bad_history_or_durability_settings_are_refused(field: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=field):
        Settings(**{field: value})


def checkpoints_of(saver: InMemorySaver, thread: str) -> int:
    return sum(len(c) for c in saver.storage[thread].values())


def test_durability_exit_writes_one_checkpoint_per_request() -> None:
    counts = {}
    for mode in ("sync", "exit"):
        saver = InMemorySaver()
        with Crossroads(
            offline=True, checkpointer=saver, durability=mode, keep_checkpoints=True
        ) as app:
            assert app.ask("What is 2 + 3?", thread_id="d").answer == "2 + 3 = 5."
            app.ask(FOLLOW_UP, thread_id="d")
        counts[mode] = checkpoints_of(saver, "d")
    assert counts["exit"] == 2  # one per request
    assert counts["sync"] > 4 * counts["exit"]


def test_a_review_pauses_and_resumes_with_durability_exit(make_app: Any) -> None:
    model = review_model()
    app = make_app(model, review=True, durability="exit")
    paused = app.ask(STORY_REQUEST, thread_id="r")
    assert paused.interrupt is not None and paused.interrupt["type"] == "plan_review"
    done = app.resume("r", True)
    assert done.interrupt is None and done.error is None and done.answer


def rows(path: Path, thread: str) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        return tuple(  # type: ignore[return-value]
            db.execute(f"SELECT count(*) FROM {table} WHERE thread_id = ?", (thread,)).fetchone()[0]
            for table in ("checkpoints", "writes")
        )


def test_a_finished_request_leaves_only_the_latest_checkpoint_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "threads.sqlite"
    with Crossroads(offline=True, checkpointer=path) as app:
        for turn in range(1, 7):
            app.ask(question(turn), thread_id="p")
        app.ask("What is 1 + 1?", thread_id="other")
    assert rows(path, "p")[0] == 1 and rows(path, "other")[0] == 1
    with Crossroads(offline=True, checkpointer=path) as again:  # a new process, same store
        assert (
            again.ask(FOLLOW_UP, thread_id="p").answer == "3.75 / 4 = 0.9375."
        )  # turn 6 left 3.75
        assert [speaker for speaker, _ in again.history("p")] == ["you", "math"] * 4
    with Crossroads(offline=True, checkpointer=path, keep_checkpoints=True) as keeping:
        keeping.ask(FOLLOW_UP, thread_id="p")
    assert rows(path, "p")[0] > 5


def test_pruning_the_memory_saver_keeps_the_thread_usable() -> None:
    saver = InMemorySaver()
    sizes = []
    with Crossroads(offline=True, checkpointer=saver) as app:
        for turn in range(1, 21):
            app.ask(question(turn), thread_id="m")
            sizes.append(stored_bytes(saver))
        assert app.ask(FOLLOW_UP, thread_id="m").answer == "60 / 4 = 15."  # turn 20: 20 + 40
    assert checkpoints_of(saver, "m") == 1
    assert sizes[19] < sizes[9] * 1.1  # the store stops growing once the window is full


def test_the_sqlite_store_uses_wal_and_synchronous_normal(tmp_path: Path) -> None:
    path = tmp_path / "threads.sqlite"

    async def open_and_read() -> tuple[str, int]:
        async with AsyncExitStack() as stack:
            saver: Any = await open_checkpointer(path, Settings(home=tmp_path), stack)
            async with saver.conn.execute("PRAGMA journal_mode") as cursor:
                mode = (await cursor.fetchone())[0]
            async with saver.conn.execute("PRAGMA synchronous") as cursor:
                synchronous = (await cursor.fetchone())[0]
        return mode, synchronous

    mode, synchronous = asyncio.run(open_and_read())
    assert mode == "wal" and synchronous == 1  # 1 is NORMAL (FULL, the default, is 2)
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_app_graph_and_the_calculator_have_only_async_edges() -> None:
    graph = build_app_graph().compile()
    specs = list(graph.builder.branches.items())
    calculator = graph.builder.nodes["calculator"].runnable
    specs += list(calculator.builder.branches.items())
    assert specs
    for node, branches in specs:
        for name, branch in branches.items():
            path = branch.path  # a RunnableCallable: ``func`` is None when it is async
            assert path.func is None and inspect.iscoroutinefunction(path.afunc), (
                f"{node} → {name} is sync"
            )


def test_a_math_question_imports_no_retrieval_library(hermetic_env: Path) -> None:
    code = (
        "import sys\n"
        "from crossroads import Crossroads\n"
        "with Crossroads(offline=True, checkpointer='memory') as app:\n"
        "    assert app.ask('What is 15% of 240?').answer == '240 * 15 / 100 = 36.'\n"
        "print(sorted(m for m in ('bm25s', 'pypdf', 'bs4', 'wikipedia', 'tavily')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
