"""``crossroads chat`` driven in a real pseudo-terminal (pexpect), as a person would use it."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "you>"


def ignore_sigint() -> None:
    """Start the chat the way a background job of a non-interactive shell would (CI runners
    often do): with SIGINT ignored, so Python installs no Ctrl-C handler of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def spawn(home: Path, *args: str, scripted: bool = True) -> pexpect.spawn:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CROSSROADS_HOME": str(home),
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    program = (
        [str(ROOT / "tests" / "cli" / "scripted_chat.py")] if scripted else ["-m", "crossroads"]
    )
    child = pexpect.spawn(
        sys.executable,
        [*program, "chat", *args],
        env=env,
        cwd=str(ROOT),
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 120),
        preexec_fn=ignore_sigint,
    )
    child.expect(PROMPT)
    return child


@pytest.fixture
def children() -> Iterator[list[pexpect.spawn]]:
    spawned: list[pexpect.spawn] = []
    yield spawned
    for child in spawned:
        if child.isalive():
            child.terminate(force=True)


def quit_chat(child: pexpect.spawn) -> None:
    child.sendeof()
    child.expect("bye")
    child.expect(pexpect.EOF)
    child.wait()
    assert child.exitstatus == 0


def test_question_streams_an_answer_with_a_route_badge(
    tmp_path: Path, children: list[pexpect.spawn]
) -> None:
    child = spawn(tmp_path, "--thread", "a")
    children.append(child)
    child.sendline("hi there")
    child.expect(r"\[writing\]")  # the writers' route, by what it does
    child.expect("Hello from the scripted writer, streamed word by word.")
    child.expect(PROMPT)
    child.sendline("/usage")
    child.expect(r"1 question\(s\), 2 model call\(s\)")
    child.expect(PROMPT)
    quit_chat(child)


def test_new_and_history(tmp_path: Path, children: list[pexpect.spawn]) -> None:
    child = spawn(tmp_path, "--thread", "first")
    children.append(child)
    child.sendline("remember the lighthouse")
    child.expect(PROMPT)
    child.sendline("/history")
    child.expect("you.*remember the lighthouse")
    child.expect(PROMPT)
    child.sendline("/new")
    child.expect("new conversation: ")
    child.expect(PROMPT)
    child.sendline("/history")
    child.expect("this conversation is empty")
    child.expect(PROMPT)
    child.sendline("/threads")
    child.expect("first")
    child.expect(PROMPT)
    quit_chat(child)


def test_ctrl_c_cancels_the_answer_and_keeps_the_conversation(
    tmp_path: Path, children: list[pexpect.spawn]
) -> None:
    child = spawn(tmp_path, "--thread", "c")
    children.append(child)
    child.sendline("hello first")
    child.expect("streamed word by word")
    child.expect(PROMPT)
    child.sendline("please be slow")  # the scripted writer sleeps 30 s on this one
    child.expect(r"\[writing\]")
    # While it waits, a spinner after the badge names the step and counts the seconds.
    child.expect(r"writing · [1-9]\d*s")
    child.sendintr()
    child.expect("cancelled", timeout=15)
    child.expect(PROMPT)
    child.sendline("/history")
    child.expect("hello first")
    child.expect("streamed word by word")
    child.expect(PROMPT)
    child.sendline("and now quickly")  # the chat still works after a cancel
    child.expect("streamed word by word")
    child.expect(PROMPT)
    quit_chat(child)


def test_restart_with_thread_shows_the_history(
    tmp_path: Path, children: list[pexpect.spawn]
) -> None:
    child = spawn(tmp_path, "--thread", "work")
    children.append(child)
    child.sendline("note the harbour")
    child.expect("streamed word by word")
    child.expect(PROMPT)
    quit_chat(child)

    again = spawn(tmp_path, "--thread", "work")
    children.append(again)
    again.sendline("/history")
    again.expect("note the harbour")
    again.expect(PROMPT)
    quit_chat(again)


def test_offline_chat_says_what_is_available(tmp_path: Path, children: list[pexpect.spawn]) -> None:
    child = spawn(tmp_path, scripted=False)
    children.append(child)
    assert "offline mode" in (child.before or "")
    child.sendline("What is 15% of 240?")
    child.expect(r"\[math\]")
    child.expect("36")
    child.expect(PROMPT)
    child.sendline("/help")
    child.expect("/model NAME")
    child.expect(PROMPT)
    quit_chat(child)
