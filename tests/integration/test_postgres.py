"""Threads in PostgreSQL: ``Crossroads(checkpoint_url=...)`` against a real local server.

``scripts/start-postgres`` starts a throwaway server on 127.0.0.1 and prints its URL; CI
exports it as ``CROSSROADS_TEST_POSTGRES_URL``. Without that variable the tests that need
the server are skipped (so a laptop without PostgreSQL still passes); the connect-timeout
test needs no server and always runs.

Each test works in its own schema (``search_path`` in the URL), so tests never see each
other's threads and a run leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from crossroads import Crossroads
from crossroads.errors import ConfigurationError

URL_VARIABLE = "CROSSROADS_TEST_POSTGRES_URL"
CHILD_TIMEOUT_S = 120
SILENT_SERVER_SLACK_S = 10.0

needs_postgres = pytest.mark.skipif(
    not os.environ.get(URL_VARIABLE),
    reason=f"{URL_VARIABLE} is not set (start a server with scripts/start-postgres)",
)

# One process asks on a thread and exits; what it prints is read by the test.
CHILD = textwrap.dedent(
    """
    import json, sys
    from crossroads import Crossroads

    url, thread_id, question = sys.argv[1:4]
    with Crossroads(offline=True, checkpoint_url=url) as app:
        result = app.ask(question, thread_id=thread_id)
    print(json.dumps({"route": result.route, "answer": result.answer, "error": result.error}))
    """
)


def _ask_in_a_new_process(
    url: str, thread_id: str, question: str, env_home: Path
) -> dict[str, str]:
    env = {**os.environ, "CROSSROADS_HOME": str(env_home)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, thread_id, question],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.integration
@needs_postgres
def test_a_thread_survives_a_process_restart(postgres_url: str, tmp_path: Path) -> None:
    thread_id = f"thread-{uuid.uuid4().hex}"
    first = _ask_in_a_new_process(postgres_url, thread_id, "What is 15% of 240?", tmp_path)
    assert first["route"] == "math"
    assert re.search(r"\b36\b", first["answer"]), first
    # A second process has only the database to go on: "and divided by 4?" needs the 36.
    second = _ask_in_a_new_process(postgres_url, thread_id, "and divided by 4?", tmp_path)
    assert second["error"] is None, second
    assert re.search(r"\b9\b", second["answer"]), second

    # A third reads the history of the thread as the two earlier processes left it.
    with Crossroads(offline=True, checkpoint_url=postgres_url) as app:
        history = app.history(thread_id)
        threads = app.threads()
    assert [speaker for speaker, _ in history] == ["you", "math", "you", "math"]
    assert history[0][1] == "What is 15% of 240?"
    assert history[2][1] == "and divided by 4?"
    assert threads == [thread_id]
    # Nothing was written to SQLite: the URL decided where threads live.
    assert not (tmp_path / "threads.sqlite").exists()


@pytest.mark.integration
@needs_postgres
def test_a_dropped_connection_does_not_break_the_app(postgres_url: str) -> None:
    # Managed databases close idle connections and PostgreSQL restarts; a long-lived app
    # must reconnect instead of failing every later request.
    with Crossroads(offline=True, checkpoint_url=postgres_url) as app:
        assert re.search(r"\b36\b", app.ask("What is 15% of 240?", thread_id="t").answer)
        with psycopg.connect(postgres_url, autocommit=True, connect_timeout=10) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        follow_up = app.ask("and divided by 4?", thread_id="t")
        assert follow_up.error is None, follow_up.error
        assert re.search(r"\b9\b", follow_up.answer), follow_up.answer


@pytest.mark.integration
@needs_postgres
def test_a_wrong_password_is_a_clear_configuration_error(postgres_url: str) -> None:
    wrong = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:not-the-password@", postgres_url)
    assert wrong != postgres_url
    with (
        Crossroads(offline=True, checkpoint_url=wrong) as app,
        pytest.raises(ConfigurationError, match="password authentication failed") as caught,
    ):
        app.ask("What is 15% of 240?")
    assert "not-the-password" not in str(caught.value)


@pytest.mark.integration
def test_a_silent_server_fails_within_the_connect_timeout() -> None:
    # A port that accepts TCP and never answers (a black-holed address, a stuck proxy):
    # opening the store must give up, not hang the first request.
    from crossroads.checkpoints import POSTGRES_CONNECT_TIMEOUT_S

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_stay_silent() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
    thread.start()
    try:
        url = f"postgresql://nobody:secret@127.0.0.1:{port}/nothing"
        started = time.monotonic()
        with (
            Crossroads(offline=True, checkpoint_url=url) as app,
            pytest.raises(ConfigurationError, match="did not complete a connection"),
        ):
            app.ask("What is 15% of 240?")
        elapsed = time.monotonic() - started
        assert accepted, "the client never reached the silent server"
        assert elapsed < POSTGRES_CONNECT_TIMEOUT_S + SILENT_SERVER_SLACK_S
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for connection in accepted:
            connection.close()
