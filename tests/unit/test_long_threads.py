"""Long conversations stay small, requests stay lean (issue 19).

* a thread keeps a bounded window of messages (``Settings.history_messages``), so what a turn
  stores does not grow with the conversation, and follow-ups still work;
* ``Settings.durability`` picks when checkpoints are written; a writer's review still pauses
  and resumes with the fewest writes;
* the SQLite store runs in WAL with ``synchronous=NORMAL``;
* edge functions are async (LangGraph would run a sync one in a thread pool);
* an offline math question (the CLI on SQLite, the API in memory) imports none of the
  training-time, retrieval-only or other-store libraries.
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
    assert [m.content for m in values["messages"]] == [
        question(8),
        "8 + 16 = 24.",
        FOLLOW_UP,
        "24 / 4 = 6.",
    ]
    # ``history`` shows the whole conversation, from the transcript.
    assert len(history) == 18
    assert history[:2] == [("you", question(1)), ("math", "1 + 2 = 3.")]
    assert history[-2:] == [("you", FOLLOW_UP), ("math", "24 / 4 = 6.")]


def sqlite_rows(database: Path, query: str) -> list[Any]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def test_the_sqlite_transcript_stores_each_message_once_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    database = tmp_path / "threads.sqlite"
    with Crossroads(offline=True, checkpointer=database, history_messages=4) as app:
        for turn in range(1, 8):
            app.ask(question(turn), thread_id="t")
        app.ask("What is 2 + 2?", thread_id="other")
    # Append-only: 7 turns = 14 rows, each message once although the window saw most twice.
    assert sqlite_rows(
        database,
        "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM crossroads_transcript"
        " WHERE thread_id = 't'",
    ) == [(14, 14)]
    with Crossroads(offline=True, checkpointer=database, history_messages=4) as app:
        history = app.history("t")
        infos = {info.thread_id: info for info in app.thread_infos()}
        app.delete_thread("t")
        assert app.history("t") == []
        assert app.history("other") == [("you", "What is 2 + 2?"), ("math", "2 + 2 = 4.")]
    assert [speaker for speaker, _ in history] == ["you", "math"] * 7
    assert history[0] == ("you", question(1)) and history[-1] == ("math", "7 + 14 = 21.")
    assert infos["t"].title == question(1) and infos["t"].messages == 14
    assert sqlite_rows(
        database, "SELECT COUNT(*) FROM crossroads_transcript WHERE thread_id = 't'"
    ) == [(0,)]


def test_a_paused_turn_shows_in_history_before_it_is_stored(make_app: Any) -> None:
    app = make_app(review_model(), review=True)
    paused = app.ask(STORY_REQUEST, thread_id="r")
    assert paused.interrupt is not None
    assert app.history("r") == [("you", STORY_REQUEST)]
    finished = app.resume("r")
    assert app.history("r") == [("you", STORY_REQUEST), ("none", finished.answer)]


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
        assert [speaker for speaker, _ in again.history("p")] == ["you", "math"] * 7
        window = again.graph.get_state({"configurable": {"thread_id": "p"}}).values["messages"]
        assert len(window) == 8
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


def test_pruning_the_memory_saver_keeps_exactly_what_the_latest_checkpoint_needs() -> None:
    saver = InMemorySaver()
    with Crossroads(offline=True, checkpointer=saver) as app:
        for turn in range(1, 6):
            for thread in ("a", "b"):
                app.ask(question(turn), thread_id=thread)
        for thread in ("a", "b"):
            latest = saver.get_tuple({"configurable": {"thread_id": thread}})
            assert latest is not None
            versions = latest.checkpoint["channel_versions"]
            needed = {(thread, "", channel, version) for channel, version in versions.items()}
            assert {key for key in saver.blobs if key[0] == thread} <= needed
            assert {key for key in saver.writes if key[0] == thread} <= {
                (thread, "", latest.config["configurable"]["checkpoint_id"])
            }
            assert set(saver.storage[thread]) == {""}  # the agents' namespaces are gone
        # what stays still answers: the window and last_value come back whole
        assert app.ask(FOLLOW_UP, thread_id="a").answer == "15 / 4 = 3.75."


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


NOT_ON_THE_MATH_PATH = (
    "sklearn",
    "scipy",
    "bm25s",
    "pypdf",
    "bs4",
    "wikipedia",
    "tavily",
    "langchain_google_genai",
    "langgraph.checkpoint.postgres",
    "psycopg",
)
"""Training-time (scikit-learn, SciPy), retrieval-only and other-store packages: an offline
math question needs none of them, and each costs start-up time (issue 19)."""

CLI_ASK = (
    "import runpy, sys\n"
    "sys.argv = ['crossroads', 'ask', 'What is 15% of 240?']\n"
    "try:\n"
    "    runpy.run_module('crossroads', run_name='__main__')\n"
    "except SystemExit as done:\n"
    "    assert not done.code, done.code\n"
)
API_ASK = (
    "import sys\n"
    "from crossroads import Crossroads\n"
    "with Crossroads(offline=True, checkpointer='memory') as app:\n"
    "    print(app.ask('What is 15% of 240?').answer)\n"
)


def run_and_list_loaded(code: str) -> tuple[str, str]:
    """Run ``code`` in a new interpreter; its output, and the last line: which of
    :data:`NOT_ON_THE_MATH_PATH` it had imported."""
    report = f"print('loaded:', sorted(m for m in {NOT_ON_THE_MATH_PATH!r} if m in sys.modules))\n"
    done = subprocess.run(
        [sys.executable, "-c", code + report],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("code", [CLI_ASK, API_ASK], ids=["cli-sqlite", "api-memory"])
def test_an_offline_math_question_imports_no_training_or_retrieval_library(
    hermetic_env: Path, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    monkeypatch.setenv("CROSSROADS_OFFLINE", "1")
    output, loaded = run_and_list_loaded(code)
    assert "36" in output
    assert loaded == "loaded: []"


def test_the_import_check_sees_a_package_that_is_loaded(hermetic_env: Path) -> None:
    """The check above can fail: a package imported on the way is reported."""
    _, loaded = run_and_list_loaded(API_ASK.replace("import sys\n", "import sys, bm25s\n"))
    assert "'bm25s'" in loaded


def test_a_loaded_classifier_predicts_without_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crossroads.agents import router
    from crossroads.tools.offline_router import OfflineRouter

    OfflineRouter.load()  # what the first request of a process does, in a worker thread

    async def no_worker(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the classifier went to a worker thread")

    monkeypatch.setattr(router.asyncio, "to_thread", no_worker)
    with Crossroads(offline=True, checkpointer="memory") as app:
        result = app.ask("I have 10 apples and I ate four. How many are left?")
    assert result.route == "math" and "classifier" in result.route_reason


def test_langgraph_still_refuses_a_subgraph_without_checkpoints_under_durability_sync() -> None:
    """Why the agent subgraphs keep their checkpoints (docs/performance.md): LangGraph 1.2
    fails a run with ``durability="sync"`` whose subgraph was compiled with
    ``checkpointer=False``. When this test fails, LangGraph has fixed it: measure again
    whether the subgraphs should run without checkpoints under ``"async"``/``"exit"``."""
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    class Count(TypedDict, total=False):
        n: int

    async def add_one(state: Count) -> Count:
        return {"n": state.get("n", 0) + 1}

    inner = StateGraph(Count)
    inner.add_node("add_one", add_one)
    inner.add_edge(START, "add_one")
    inner.add_edge("add_one", END)
    outer = StateGraph(Count)
    outer.add_node("agent", inner.compile(checkpointer=False))
    outer.add_edge(START, "agent")
    outer.add_edge("agent", END)
    app = outer.compile(checkpointer=InMemorySaver())

    def run(durability: Any, thread: str) -> Any:
        config: Any = {"configurable": {"thread_id": thread}}
        return asyncio.run(app.ainvoke({"n": 0}, config, durability=durability))

    assert run("exit", "e") == {"n": 1} and run("async", "a") == {"n": 1}
    with pytest.raises(AttributeError, match="_put_checkpoint_fut"):
        run("sync", "s")
