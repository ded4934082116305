"""Finding 10 of the attack review: document and model text must not drive the terminal."""

from __future__ import annotations

import io
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
from crossroads.terminal import plain_for_terminal

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = (
    "The lighthouse keeper logs every storm \x1b]0;pwned-title\x07 in red ink "
    "\x1b[2J\x1b[H and \x1b]8;;http://evil.example/\x1b\\a link\x1b]8;;\x1b\\ at dawn.\n"
)


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
    (docs / "lighthouse.txt").write_text(HOSTILE)
    home = tmp_path / "home"
    assert _run(home, "index", "--quiet", str(docs)).returncode == 0

    proc = _run(home, "ask", "What does the lighthouse keeper log?")

    assert proc.returncode == 0, proc.stderr
    assert b"lighthouse" in proc.stdout.lower()  # the passage did reach the answer
    assert b"\x1b" not in proc.stdout + proc.stderr
    assert b"\x07" not in proc.stdout + proc.stderr


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
