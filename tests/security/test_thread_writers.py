"""Finding 8: two writers on one thread must not lose answers.

The attack: two processes ask questions on one thread at the same time. Before the fix both
started each request from the same checkpoint and the last write won (15 + 15 questions: 31
stored, 19 answers, exit 0 for both). Now a thread is written by one request at a time
(:mod:`crossroads.thread_locks`): the other waits, or fails with one line and exit code 1.
Real processes throughout, because the lock has to hold between processes.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crossroads import Crossroads, Settings, ThreadBusy
from crossroads.thread_locks import ThreadLocks, lock_name

QUESTIONS_EACH = 4
THREAD = "shared"
CHILD_TIMEOUT_S = 120
URL_VARIABLE = "CROSSROADS_TEST_POSTGRES_URL"
WINDOW = 200  # history_messages: keep every turn, so the count below sees them all

# One writer: waits for the start signal, then asks its questions one after the other.
WRITER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from crossroads import Crossroads

    home, go, name, count, url = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    store = {"checkpoint_url": url} if url else {}
    with Crossroads(offline=True, home=home, history_messages=200, **store) as app:
        app.history("warm-up")  # open the store before the race starts
        while not go.exists():
            time.sleep(0.01)
        errors = []
        for i in range(count):
            result = app.ask(f"What is {i} + {ord(name[0])}?", thread_id="shared")
            errors.append(result.error)
    print(json.dumps(errors))
    """
)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CROSSROADS_", "GOOGLE_"))}
    return {**env, "CROSSROADS_HOME": str(home), "CROSSROADS_OFFLINE": "1"}


def _turns(home: Path, url: str = "") -> tuple[int, int]:
    store = {"checkpoint_url": url} if url else {}
    with Crossroads(offline=True, home=home, history_messages=WINDOW, **store) as app:
        speakers = [speaker for speaker, _ in app.history(THREAD)]
    questions = speakers.count("you")
    return questions, len(speakers) - questions


def _race(home: Path, go: Path, url: str = "") -> None:
    """Two writer processes ask on one thread at once; both must answer every question."""
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), str(go), name, str(QUESTIONS_EACH), url],
            env=_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    time.sleep(0.5)
    go.touch()  # (each writer has opened its store by now or soon; either way they overlap)
    outputs = [writer.communicate(timeout=CHILD_TIMEOUT_S) for writer in writers]

    for writer, (stdout, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
        assert json.loads(stdout) == [None] * QUESTIONS_EACH
    assert _turns(home, url) == (2 * QUESTIONS_EACH, 2 * QUESTIONS_EACH)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_two_processes_on_one_thread_lose_no_answer(tmp_path: Path) -> None:
    _race(tmp_path / "home", tmp_path / "go")


@pytest.mark.integration
@pytest.mark.timeout(300)
@pytest.mark.skipif(
    not os.environ.get(URL_VARIABLE),
    reason=f"{URL_VARIABLE} is not set (start a server with scripts/start-postgres)",
)
def test_two_processes_on_one_postgres_thread_lose_no_answer(
    tmp_path: Path, postgres_url: str
) -> None:
    _race(tmp_path / "home", tmp_path / "go", postgres_url)


def _hold_thread_lock(home: Path, thread: str) -> int:
    """Take ``thread``'s lock as another process would (the OS lock on its file)."""
    folder = home / "threads.sqlite.locks"
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / f"{lock_name(thread)}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_busy_thread_is_refused_with_one_line_and_exit_1(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Crossroads(offline=True, home=home) as app:  # create the store
        app.ask("What is 1 + 1?", thread_id=THREAD)
    descriptor = _hold_thread_lock(home, THREAD)
    try:
        started = time.monotonic()
        refused = subprocess.run(
            [sys.executable, "-m", "crossroads", "ask", "--thread", THREAD, "What is 2 + 2?"],
            env={**_env(home), "CROSSROADS_THREAD_LOCK_TIMEOUT": "1"},
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
        waited = time.monotonic() - started
    finally:
        os.close(descriptor)

    assert refused.returncode == 1, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert "in use by another request" in lines[-1]
    assert "Traceback" not in refused.stderr
    assert waited >= 1
    assert _turns(home) == (1, 1)  # the refused question was not stored


def test_a_waiting_request_runs_once_the_thread_is_free(tmp_path: Path) -> None:
    """Within one process too: the second request waits for the first, then answers."""
    home = tmp_path / "home"
    descriptor = _hold_thread_lock(home, THREAD)
    with Crossroads(offline=True, home=home, thread_lock_timeout=0.3) as app:
        try:
            with pytest.raises(ThreadBusy, match="in use by another request"):
                app.ask("What is 2 + 2?", thread_id=THREAD)
        finally:
            os.close(descriptor)
        assert app.ask("What is 2 + 2?", thread_id=THREAD).answer
        assert [s == "you" for s, _ in app.history(THREAD)] == [True, False]


async def test_a_request_waiting_in_this_process_gives_up_at_the_timeout() -> None:
    locks = ThreadLocks(None, None)  # an in-memory store: the in-process lock alone
    async with locks.hold(THREAD, 5):
        started = time.monotonic()
        with pytest.raises(ThreadBusy, match="in use by another request"):
            async with locks.hold(THREAD, 0.2):
                pass
        assert 0.2 <= time.monotonic() - started < 5
        async with locks.hold("another thread", 0.2):  # other threads are not held up
            pass
    async with locks.hold(THREAD, 0.2):  # free again once released
        pass


def test_the_wait_is_a_setting_with_a_bound() -> None:
    assert Settings().thread_lock_timeout == 30.0
    assert Settings.from_env({"CROSSROADS_THREAD_LOCK_TIMEOUT": "2.5"}).thread_lock_timeout == 2.5
    with pytest.raises(Exception, match="thread_lock_timeout"):
        Settings(thread_lock_timeout=0)
