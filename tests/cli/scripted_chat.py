"""Run ``crossroads chat`` with a scripted model, for pseudo-terminal tests.

The real CLI runs unchanged; only the model is replaced (``crossroads.cli.chat.make_app`` builds
the chat's app), so the test drives the real REPL, streaming, slash commands and SQLite threads.

Usage: python tests/cli/scripted_chat.py [chat options...]
"""

from __future__ import annotations

import sys
from typing import Any

from crossroads import Crossroads, cli
from crossroads.cli import chat
from crossroads.testing import ScriptedChatModel


def _reply(messages: list[Any]) -> Any:
    prompt = "\n".join(str(m.content) for m in messages)
    if "router of Crossroads" in prompt:
        if "slow" in prompt.split("\n")[-1]:
            return {"route": "none", "reason": "slow request"}
        return {"route": "none", "reason": "a chat request"}
    return "Hello from the scripted writer, streamed word by word."


def scripted_app(model: str | None, offline: bool, *, keep_threads: bool = True) -> Crossroads:
    chat_model = ScriptedChatModel(default=_reply)
    return Crossroads(
        chat_model,
        router_threshold=1.01,
        agents=_agents(),
        checkpointer=None if keep_threads else "memory",
    )


def _agents() -> Any:
    from tests.cli.slow_agent import slow_writer_specs

    return slow_writer_specs()


if __name__ == "__main__":
    chat.make_app = scripted_app
    sys.argv = ["crossroads", *sys.argv[1:]]
    cli.run()
