"""The ``crossroads`` command run as a real subprocess: exit codes, one-line errors, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from crossroads import __version__

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "crossroads" / "data" / "result.schema.json").read_text())
CLI = [sys.executable, "-m", "crossroads"]


def run(*args: str | bytes, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"crossroads {__version__}"


def test_ask_json_matches_the_schema_offline() -> None:
    proc = run("ask", "What is 15% of 240?", "--json", "--offline")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["route"] == "math"
    assert data["mode"] == "offline"
    assert data["usage"]["llm_calls"] == 0


def test_the_schema_rejects_a_result_missing_fields() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"answer": "x", "route": "math"}, SCHEMA)


def test_ask_with_no_key_runs_offline() -> None:
    proc = run("ask", "What is 15% of 240?")
    assert proc.returncode == 0, proc.stderr
    assert "36" in proc.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("ask", ""), "the question is empty"),
        (("ask", "   \t "), "the question is empty"),
        # A provider whose package no extra installs (openai comes with the realmodel extra).
        (("ask", "hi", "--model", "anthropic:claude-sonnet-4"), "pip install langchain-anthropic"),
        (("ask", "hi", "--model", "google_genai:gemini-2.5-flash"), "set GOOGLE_API_KEY"),
        (("ask", "hi", "--model", "gemini"), "provider:model"),
        (("index", "/no/such/folder"), "/no/such/folder"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(args: tuple[str, ...], fragment: str) -> None:
    assert_one_line_error(run(*args), fragment)


def test_invalid_utf8_argument_is_refused_clearly() -> None:
    proc = subprocess.run(
        [*CLI, "ask", b"caf\xe9 prices"],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
        check=False,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, stderr
    assert "not valid UTF-8 (byte 0xe9" in stderr
    assert "Traceback" not in stderr


def test_bad_environment_is_a_one_line_error() -> None:
    proc = run("ask", "hi", env={"CROSSROADS_MODEL_KWARGS": "{oops"})
    assert_one_line_error(proc, "CROSSROADS_MODEL_KWARGS must be a JSON object")


def test_graph_prints_the_snapshot() -> None:
    proc = run("graph")
    assert proc.returncode == 0
    assert proc.stdout == (ROOT / "tests" / "snapshots" / "app_graph.mmd").read_text()


def test_ask_thread_continues_after_a_restart() -> None:
    first = run("ask", "What is 12 * 7?", "--thread", "work", "--json")
    assert json.loads(first.stdout)["answer"]
    second = run("ask", "and divided by 4?", "--thread", "work", "--json")
    data = json.loads(second.stdout)
    assert data["thread_id"] == "work"
    assert "21" in data["answer"]


def test_index_then_ask_offline(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.md").write_text(
        "# The Harbour Lighthouse\n\nThe harbour lighthouse was built in 1871 by the "
        "engineer Ada Brennan. Its lamp can be seen 20 nautical miles away.\n"
    )
    indexed = run("index", str(docs), "--quiet")
    assert indexed.returncode == 0, indexed.stderr
    assert "indexed 1 file(s)" in indexed.stdout
    proc = run("ask", "who built the harbour lighthouse?", "--json", "--offline")
    data = json.loads(proc.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["route"] == "fact"
    assert "Ada Brennan" in data["answer"]
    assert data["sources"] and "lighthouse.md#chunk-" in data["sources"][0]["url"]


def test_graph_shows_agents_registered_through_the_environment() -> None:
    proc = run("graph", env={"CROSSROADS_AGENTS": "tests.agent_module", "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert "router -.-> units;" in proc.stdout


def test_a_file_the_index_cannot_read_is_reported_once_in_plain_words(tmp_path: Path) -> None:
    """The parser's own log lines ("invalid pdf header", "EOF marker not found") and the
    index's warning once reached the terminal beside the command's own "skipped" line."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "broken.pdf").write_bytes(b"\x00\x01 not a pdf")
    (docs / "ok.md").write_text("The lighthouse was built in 1871.\n")
    proc = run("index", str(docs), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "indexed 1 file(s)" in proc.stdout
    assert proc.stderr.count("broken.pdf") == 1, proc.stderr
    assert proc.stderr.lstrip().startswith("skipped"), proc.stderr
    assert "EOF marker" not in proc.stderr and "Skipped" not in proc.stderr


def test_an_unusable_thread_id_is_a_one_line_error() -> None:
    # Undecodable bytes on the command line reached SQLite and crashed with a traceback.
    assert_one_line_error(run("ask", "What is 2+3?", "--thread", b"ab\xffcd"), "not valid UTF-8")
    escaped = run("ask", "What is 2+3?", "--thread", "work\x1b[31m")
    assert_one_line_error(escaped, "control character (U+001B) at position 4")
    assert_one_line_error(run("ask", "hi", "--thread", "x" * 300), "the limit is 200")
