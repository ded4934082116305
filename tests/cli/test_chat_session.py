"""``ChatSession.ask`` in-process: what the chat prints when the answer that stands is not the
text that streamed (the pseudo-terminal tests in ``test_chat_pty.py`` drive the whole REPL)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

from crossroads import Crossroads
from crossroads.cli import chat
from crossroads.testing import ScriptedChatModel


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    monkeypatch.setattr(chat, "out", Console(file=buffer, force_terminal=False, width=100))
    yield buffer


def session(monkeypatch: pytest.MonkeyPatch, model: ScriptedChatModel) -> chat.ChatSession:
    def make_app(name: Any, offline: bool, **_: Any) -> Crossroads:
        return Crossroads(model, checkpointer="memory", router_threshold=1.01)

    monkeypatch.setattr(chat, "make_app", make_app)
    return chat.ChatSession(None, None, offline=False)


def asked(monkeypatch: pytest.MonkeyPatch, phrasings: list[str]) -> chat.ChatSession:
    """A chat session that asked the apple question once; the calculator extracts "10 - 4"
    and phrases the result with ``phrasings`` (a refused one is retried once)."""
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "arithmetic"}],
            "calculator": ["10 - 4", *phrasings],
        }
    )
    talk = session(monkeypatch, model)
    try:
        talk.ask("I have 10 apples and ate 4. How many are left?")
    finally:
        talk.close()
    return talk


def test_a_refused_phrasing_that_streamed_is_followed_by_the_checked_answer(
    monkeypatch: pytest.MonkeyPatch, printed: io.StringIO
) -> None:
    # The phrasing states 7, the engine computed 6: refused twice, the template stands.
    talk = asked(monkeypatch, ["You have 7 apples left.", "You have 7 apples left."])
    shown = printed.getvalue()
    assert "You have 7 apples left." in shown  # it streamed
    assert f"{chat.REPLACED} 10 - 4 = 6." in shown
    assert talk.last is not None and talk.last.answer == "10 - 4 = 6."


def test_an_answer_that_streamed_as_it_stands_is_printed_once(
    monkeypatch: pytest.MonkeyPatch, printed: io.StringIO
) -> None:
    asked(monkeypatch, ["You have 6 apples left."])
    shown = printed.getvalue()
    assert shown.count("You have 6 apples left.") == 1 and chat.REPLACED not in shown
