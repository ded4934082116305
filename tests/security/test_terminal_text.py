"""Finding 10 of the attack review: document and model text must not drive the terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from crossroads.api import Result
from crossroads.cli import commands as cli
from crossroads.terminal import json_for_terminal, plain_for_terminal

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = (
    "The lighthouse keeper logs every storm \x1b]0;pwned-title\x07 in red ink "
    "\x1b[2J\x1b[H and \x1b]8;;http://evil.example/\x1b\\a link\x1b]8;;\x1b\\ at dawn.\n"
)
PAGE = (
    "The harbour has a stone pier and a museum about the ships of the coast. " * 3
    + HOSTILE
    + "The lighthouse keeper logs the tides \x9b31m in blue ink \x9d0;pwned\x9c by night.\n"
)
"""A page that is text with a few sequences in it: the sequences alone would be more than 5%
control characters, and the indexer would skip the file as binary (nothing to test)."""


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "CROSSROADS_HOME": str(home),
        "CROSSROADS_OFFLINE": "1",
        "CROSSROADS_SEARCH": "local",
    }
    return subprocess.run(
        [sys.executable, "-m", "crossroads", *args],
        capture_output=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_escape_sequences_in_a_document_never_reach_stdout(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.txt").write_text(PAGE, encoding="utf-8")
    home = tmp_path / "home"
    indexed = _run(home, "index", str(docs))
    assert b"indexed 1 file(s)" in indexed.stdout, indexed.stdout + indexed.stderr

    plain = _run(home, "ask", "What does the lighthouse keeper log?")
    as_json = _run(home, "ask", "What does the lighthouse keeper log?", "--json")

    assert plain.returncode == 0, plain.stderr
    assert b"logs every storm" in plain.stdout and b"red ink" in plain.stdout  # it was answered
    for proc in (plain, as_json):
        shown = proc.stdout + proc.stderr
        assert b"\x1b" not in shown and b"\x07" not in shown
        # The 8-bit forms, as UTF-8: CSI U+009B, OSC U+009D, ST U+009C.
        assert b"\xc2\x9b" not in shown and b"\xc2\x9d" not in shown and b"\xc2\x9c" not in shown
    # --json escapes them instead: a program reading it gets the passage as it was.
    assert "\x9b31m in blue ink" in json.loads(as_json.stdout)["answer"]


def test_a_source_url_with_markup_is_printed_not_parsed(monkeypatch: object) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    setattr(cli, "out", console)  # noqa: B010 - the module's console, for this test
    result = Result(
        answer="See [1] [/bold]",
        sources=[
            {
                "index": 1,
                "title": "Evil [/link] title \x1b]0;x\x07",
                "url": "https://example.org/a[/b]c",
                "backend": "wikipedia",
            }
        ],
    )
    try:
        cli.print_result(result)
    finally:
        setattr(cli, "out", Console())  # noqa: B010
    shown = buffer.getvalue()
    assert "See [1] [/bold]" in shown
    assert "Evil [/link] title" in shown
    assert "https://example.org/a[/b]c" in shown
    assert "\x1b" not in shown


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    cleaned = plain_for_terminal(text)
    assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 for c in cleaned)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("red \x9b31malert\x9b0m", "red alert"),  # 8-bit CSI, as some terminals honour it
        ("a\x9d0;pwned-title\x9cb", "ab"),  # 8-bit OSC ended by 8-bit ST
        ("see \x9d8;;http://evil.example/\x07this\x9d8;;\x07 link", "see this link"),
        ("x\x90q#0;2;0;0;0\x1b\\y", "xy"),  # 8-bit DCS (sixel) ended by ESC \
        ("plain \x1b[1;31mtext\x1b[0m", "plain text"),
    ],
)
def test_a_sequence_goes_whole_with_its_parameters(text: str, shown: str) -> None:
    assert plain_for_terminal(text) == shown


@given(st.text())
def test_json_for_a_terminal_keeps_the_data_and_shows_no_control_character(text: str) -> None:
    line = json_for_terminal({"answer": text, "sources": [{"title": text}]})
    assert json.loads(line) == {"answer": text, "sources": [{"title": text}]}
    assert plain_for_terminal(line) == line  # nothing in it a terminal would act on
    assert "\n" not in line
