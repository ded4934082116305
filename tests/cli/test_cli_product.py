"""The ``crossroads`` command as a finished product: exit codes and ``--json`` status, stdin,
an unusable data folder, model-string mistakes, threads, a stalled model server."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pexpect
import pytest

from crossroads.validation import MAX_QUESTION_CHARS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "crossroads" / "data" / "result.schema.json").read_text())
CLI = [sys.executable, "-m", "crossroads"]
STALL_BOUND_S = 60.0
"""What the README promises for a server that accepts and never answers (default settings):
one first-byte timeout (15 s) for the first model call, none for the later ones of the same
request, plus start-up. The bound leaves room for a loaded machine."""


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=180,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        input=stdin,
        check=False,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


# -- exit codes and status -----------------------------------------------------------------


def test_an_answer_exits_0_with_status_answered() -> None:
    proc = run("ask", "What is 15% of 240?", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    jsonschema.validate(data, SCHEMA)
    assert (data["status"], data["exit_code"]) == ("answered", 0)


def test_an_offline_decline_exits_1_with_status_declined() -> None:
    proc = run("ask", "write a haiku about rain", "--json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    jsonschema.validate(data, SCHEMA)
    assert (data["status"], data["exit_code"]) == ("declined", 1)
    plain = run("ask", "write a haiku about rain")
    assert plain.returncode == 1
    assert "Writing needs a chat model" in plain.stdout


@pytest.mark.timeout(600)  # several start-ups of the CLI
def test_a_provider_failure_exits_1_with_one_line() -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    env = {"GOOGLE_API_KEY": "fake", "CROSSROADS_BASE_URL": "http://127.0.0.1:9"}
    proc = run("ask", "write a haiku about rain", env=env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "cannot reach the model server at 127.0.0.1:9 (connection refused)" in lines[0]
    assert "object at 0x" not in lines[0]
    data = json.loads(run("ask", "write a haiku about rain", "--json", env=env).stdout)
    assert (data["status"], data["exit_code"]) == ("failed", 1)


def test_help_documents_exit_codes_the_length_limit_and_stdin() -> None:
    boxed = run("ask", "--help", env={"COLUMNS": "300"}).stdout
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", boxed).split())  # rich draws help in boxes
    assert "Exit codes: 0 answered; 1 no answer" in text
    assert f"at most {MAX_QUESTION_CHARS:,} characters" in text
    assert "- reads it from standard input" in text
    assert "Exit codes" in run("--help").stdout


# -- stdin -------------------------------------------------------------------------------------


def test_ask_dash_reads_the_question_from_stdin() -> None:
    proc = run("ask", "-", "--json", stdin="What is 12 * 7?\n")
    assert proc.returncode == 0, proc.stderr
    assert "84" in json.loads(proc.stdout)["answer"]


def test_ask_dash_refuses_an_empty_or_huge_stdin_in_one_line() -> None:
    assert "the question is empty" in one_line_error(run("ask", "-", stdin=""))
    huge = "x" * (MAX_QUESTION_CHARS * 5)
    assert f"the limit is {MAX_QUESTION_CHARS:,}" in one_line_error(run("ask", "-", stdin=huge))


# -- an unusable data folder ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("ask", "What is 2 + 2?"),
        ("ask", "What is 2 + 2?", "--thread", "t"),
        ("chat",),
        ("index", "docs"),
        ("threads",),
        ("threads", "prune"),
        ("eval", "calculator", "--offline"),
    ],
)
def test_a_data_folder_that_is_a_file_is_one_line_and_exit_2(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    line = one_line_error(run(*command, env={"CROSSROADS_HOME": str(home)}, stdin=""))
    assert f"the data folder {home} is not usable: it is a file, not a folder" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_data_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    try:
        line = one_line_error(run("ask", "What is 2 + 2?", env={"CROSSROADS_HOME": str(home)}))
    finally:
        home.chmod(0o700)
    assert f"the data folder {home} is not usable: permission denied" in line


def test_a_data_folder_that_cannot_be_created_names_the_cause() -> None:
    home = "/proc/crossroads-cannot-exist/home"  # /proc refuses new folders, even to root
    line = one_line_error(run("ask", "What is 2 + 2?", env={"CROSSROADS_HOME": home}))
    assert f"the data folder {home} is not usable: " in line
    assert "set CROSSROADS_HOME to a writable folder" in line


# -- model strings -------------------------------------------------------------------------------


def test_a_hyphenated_provider_suggests_the_underscore_one() -> None:
    line = one_line_error(run("ask", "hi", "--model", "google-genai:gemini-2.5-flash"))
    assert "did you mean 'google_genai'" in line
    assert "pip install" not in line


def test_an_unknown_provider_lists_the_supported_ones() -> None:
    line = one_line_error(run("ask", "hi", "--model", "foo:bar"))
    assert "supported providers:" in line and "google_genai" in line
    assert "langchain-foo" not in line


# -- threads -----------------------------------------------------------------------------------


@pytest.mark.timeout(600)  # several start-ups of the CLI
def test_a_one_off_ask_keeps_no_thread_and_thread_keeps_one(tmp_path: Path) -> None:
    env = {"CROSSROADS_HOME": str(tmp_path / "home")}
    once = run("ask", "What is 2 + 2?", "--json", env=env)
    assert json.loads(once.stdout)["thread_id"] is None
    assert "no saved conversations yet" in run("threads", env=env).stdout

    kept = run("ask", "What is 12 * 7?", "--thread", "work", env=env)
    assert "new conversation: work" in kept.stderr
    again = run("ask", "and divided by 4?", "--thread", "work", env=env)
    assert "new conversation" not in again.stderr
    assert "21" in again.stdout

    listing = run("threads", env=env).stdout
    assert re.search(r"work\s+just now · 4 message\(s\)\s+What is 12 \* 7\?", listing), listing
    shown = run("threads", "show", "work", env=env).stdout
    assert "you What is 12 * 7?" in shown and "and divided by 4?" in shown

    assert "no saved conversation 'nope'" in one_line_error(run("threads", "show", "nope", env=env))
    assert run("threads", "delete", "work", env=env).returncode == 0
    assert "no saved conversations yet" in run("threads", env=env).stdout


@pytest.mark.timeout(600)  # several start-ups of the CLI
def test_prune_deletes_only_threads_older_than_the_age(tmp_path: Path) -> None:
    env = {"CROSSROADS_HOME": str(tmp_path / "home")}
    run("ask", "What is 1 + 1?", "--thread", "one", env=env)
    run("ask", "What is 2 + 2?", "--thread", "two", env=env)
    kept = run("threads", "prune", "--older-than", "2w", env=env)
    assert kept.returncode == 0, kept.stderr
    assert "deleted 0 conversation(s)" in kept.stdout
    pruned = run("threads", "prune", "--older-than", "0min", env=env)
    assert "deleted 2 conversation(s)" in pruned.stdout
    assert "no saved conversations yet" in run("threads", env=env).stdout
    assert "--older-than must look like" in one_line_error(
        run("threads", "prune", "--older-than", "soon", env=env)
    )
    # Once a traceback (OverflowError from timedelta): an age too long is a mistake too.
    assert "--older-than is at most 36500d" in one_line_error(
        run("threads", "prune", "--older-than", "99999999999999d", env=env)
    )


# -- a model server that accepts connections and never answers -----------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


def silent_env(port: int, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GOOGLE_API_KEY": "fake",
        "CROSSROADS_BASE_URL": f"http://127.0.0.1:{port}",
        "CROSSROADS_HOME": str(home),
    }


@pytest.mark.timeout(600)  # several start-ups of the CLI
def test_a_silent_model_server_ends_ask_with_exit_1_and_one_line(
    silent_server: int, tmp_path: Path
) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [*CLI, "ask", "write a haiku about rain"],
        capture_output=True,
        text=True,
        timeout=180,
        env=silent_env(silent_server, tmp_path),
        cwd=ROOT,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert elapsed < STALL_BOUND_S
    assert proc.stderr == ""
    (line,) = proc.stdout.strip().splitlines()
    assert "the model server sent nothing within 15 s (first_byte_timeout)" in line


@pytest.mark.timeout(600)  # several start-ups of the CLI
def test_ask_on_a_terminal_shows_a_spinner_with_step_names_while_it_waits(
    silent_server: int, tmp_path: Path
) -> None:
    started = time.monotonic()
    child = pexpect.spawn(
        sys.executable,
        [*CLI[1:], "ask", "write a haiku about rain"],
        env=silent_env(silent_server, tmp_path),
        cwd=str(ROOT),
        encoding="utf-8",
        timeout=120,
        dimensions=(24, 120),
    )
    try:
        # The step and the elapsed time, counting up while the writer's model says nothing.
        child.expect(r"writing part 1 · [1-9]\d*s")
        child.expect("sent nothing within 15 s")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 1
    assert time.monotonic() - started < STALL_BOUND_S
