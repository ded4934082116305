"""Durable threads: ``kill -9`` in the middle of a request loses no earlier turn.

The real CLI (``python -m crossroads ask ... --thread work``) runs in child processes on a
SQLite thread store under ``CROSSROADS_HOME``, with the real Gemini client pointed at the
Gemini stub in this process (``CROSSROADS_BASE_URL``). The stub answers the first question;
for the second it answers the router and the calculator's extraction, then hangs on the
phrasing call. Once the stub has seen that call, the child is killed with ``SIGKILL``: no
handler, no ``finally``, no flush. Then:

* the store still holds the first turn, question and answer, and the second question, and
  its last checkpoint says the interrupted request was inside the calculator;
* a new process re-asks the interrupted question on the same thread and answers it, and its
  prompt shows it saw the earlier turn;
* in-process, :meth:`Crossroads.resume` continues an interrupted request from its last
  checkpoint instead of starting again: the router and the extraction are not asked twice.

The API runs every request with ``durability="sync"``: a checkpoint is on disk before the
next step starts, which is what makes this work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

from crossroads import Crossroads
from crossroads.checkpoints import sqlite_path
from crossroads.graphs.app import build_app_graph
from crossroads.settings import Settings
from tests.integration.test_faults import APPLES, PHRASE_MARK, model_of
from tests.stubs.gemini_stub import GeminiStub, Hang, RecordedRequest, StubAction

pytestmark = pytest.mark.integration

THREAD = "work"
FIRST = APPLES.format(n=10)
INTERRUPTED = APPLES.format(n=20)
# Bounds for the child processes (each one imports the whole stack, a few seconds).
CHILD_TIMEOUT_S = 90.0
HANG_SEEN_TIMEOUT_S = 60.0


class HangOnPhrasing:
    """Plays the model, but hangs the phrasing call of ``INTERRUPTED`` while ``hang`` is set."""

    def __init__(self) -> None:
        self.model = model_of("math")
        self.hang = threading.Event()
        self.hang.set()
        self.hung = threading.Event()

    def __call__(self, request: RecordedRequest) -> StubAction | None:
        phrasing = request.system_text.startswith(PHRASE_MARK)
        if phrasing and self.hang.is_set() and "<question>\n" + INTERRUPTED in request.prompt_text:
            self.hung.set()
            return Hang(seconds=120)
        return self.model(request)


@pytest.fixture
def stub() -> Iterator[GeminiStub]:
    with GeminiStub() as running:
        yield running


def child_env(stub: GeminiStub) -> dict[str, str]:
    """The CLI's environment: the stub as Gemini, local search only, our CROSSROADS_HOME."""
    env = dict(os.environ)  # CROSSROADS_HOME is the test's (see conftest.hermetic_env)
    env.update(
        {
            "GOOGLE_API_KEY": "test",
            "CROSSROADS_BASE_URL": stub.base_url,
            "CROSSROADS_SEARCH": "local",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def cli(question: str) -> list[str]:
    return [sys.executable, "-m", "crossroads", "ask", question, "--thread", THREAD, "--json"]


def ask_in_child(stub: GeminiStub, question: str) -> dict[str, Any]:
    done = subprocess.run(
        cli(question),
        env=child_env(stub),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def wait_for(condition: Callable[[], bool], timeout: float, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if child.poll() is not None:
            raise AssertionError(f"the child ended early: {child.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("the child never reached the hanging call")
        time.sleep(0.05)


def kill_mid_request(stub: GeminiStub, responder: HangOnPhrasing) -> None:
    """Ask ``INTERRUPTED`` in a child and SIGKILL it while the phrasing call hangs."""
    child = subprocess.Popen(
        cli(INTERRUPTED),
        env=child_env(stub),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(responder.hung.is_set, HANG_SEEN_TIMEOUT_S, child)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        for pipe in (child.stdout, child.stderr):  # a killed child's pipes are ours to close
            if pipe is not None:
                pipe.close()
    assert child.returncode == -signal.SIGKILL


def stored_state(home: Path) -> Any:
    """The thread's last checkpoint, read straight from the SQLite file."""
    with SqliteSaver.from_conn_string(str(sqlite_path(Settings(home=home)))) as saver:
        graph = build_app_graph().compile(checkpointer=saver)
        return graph.get_state({"configurable": {"thread_id": THREAD}})


def test_kill_9_mid_request_loses_no_turn_and_a_new_process_reanswers(
    stub: GeminiStub, hermetic_env: Path
) -> None:
    responder = HangOnPhrasing()
    stub.responder = responder
    first = ask_in_child(stub, FIRST)
    assert first["answer"] == "You have 6 apples left." and first["error"] is None

    kill_mid_request(stub, responder)

    snapshot = stored_state(hermetic_env)
    messages = [(m.type, m.content) for m in snapshot.values["messages"]]
    assert messages == [
        ("human", FIRST),
        ("ai", "You have 6 apples left."),
        ("human", INTERRUPTED),  # asked, never answered: the process died
    ]
    assert snapshot.next == ("calculator",)  # it died inside the calculator

    responder.hang.clear()
    seen_before = stub.request_count
    again = ask_in_child(stub, INTERRUPTED)

    assert again["answer"] == "You have 16 apples left." and again["error"] is None
    rerun_prompts = [request.prompt_text for request in stub.requests[seen_before:]]
    assert any("You have 6 apples left." in prompt for prompt in rerun_prompts)
    with Crossroads(offline=True) as app:  # reads the same SQLite store
        assert app.history(THREAD) == [
            ("you", FIRST),
            ("math", "You have 6 apples left."),
            ("you", INTERRUPTED),
            ("you", INTERRUPTED),
            ("math", "You have 16 apples left."),
        ]


def test_resume_continues_an_interrupted_request_from_its_last_checkpoint(
    stub: GeminiStub, hermetic_env: Path
) -> None:
    responder = HangOnPhrasing()
    stub.responder = responder
    ask_in_child(stub, FIRST)
    kill_mid_request(stub, responder)
    responder.hang.clear()
    seen_before = stub.request_count

    with Crossroads(
        model="google_genai:gemini-2.5-flash",
        google_api_key="test",
        model_kwargs={"base_url": stub.base_url},
    ) as app:
        result = app.resume(THREAD)
        history = app.history(THREAD)

    assert result.error is None
    assert result.answer == "You have 16 apples left."
    assert history == [
        ("you", FIRST),
        ("math", "You have 6 apples left."),
        ("you", INTERRUPTED),
        ("math", "You have 16 apples left."),
    ]
    resumed = stub.requests[seen_before:]
    assert [request.system_text.startswith(PHRASE_MARK) for request in resumed] == [True]
