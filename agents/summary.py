"""The running summary: turns that leave a thread's window are folded into a few sentences.

A thread keeps a bounded window of messages (``Settings.history_messages``) so that a long
conversation costs no more per turn than a short one. With a model, what leaves the window
is not simply forgotten: the app's ``summarize`` node asks the ``summary`` role to fold the
leaving turns into the thread's ``summary`` (at most ``Settings.summary_words`` words), and
every agent shows that summary to its model before the recent turns
(:func:`crossroads.contract.conversation_lines`). Offline, or with ``summary_words=0``, the
window alone is kept.

Turns leave half a window at a time (at least the overflow), so a long conversation makes
one summary call every few turns, not one per turn. The call counts in the request's usage
and budgets like any other. If it fails (a spent budget, a model that failed for good), the
old summary stays, the turns still leave the window, and the question is answered anyway:
memory is a help to the answer, never a reason to lose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from langgraph.runtime import Runtime

from crossroads.agents import summary_prompts as prompts
from crossroads.contract import run_settings, step, turn_lines
from crossroads.errors import CrossroadsError
from crossroads.llm import ModelCaller
from crossroads.settings import Settings
from crossroads.tools.markup import strip_echoed_markup

ROLE = "summary"
TURN_CHARS = 1500
"""Each leaving message is cut to this many characters in the summary's prompt."""


def leaving(history: Sequence[AnyMessage], window: int, *, batch: bool) -> int:
    """How many of the oldest messages of ``history`` leave the window this turn.

    The turn adds two messages (question and answer), so ``len(history) + 2 - window`` must
    go. With ``batch`` (a summary will be written) at least half the window goes at once, so
    the next few turns need no summary call.
    """
    extra = len(history) + 2 - window
    if extra <= 0:
        return 0
    return min(len(history), max(extra, window // 2)) if batch else extra


def summary_messages(summary: str, turns: Sequence[BaseMessage], words: int) -> list[BaseMessage]:
    """The prompt that folds ``turns`` into ``summary``."""
    lines = turn_lines(turns, chars=TURN_CHARS)
    earlier = prompts.EARLIER_SUMMARY.format(summary=summary.strip()) if summary.strip() else ""
    return [
        SystemMessage(content=prompts.SUMMARY_SYSTEM.format(words=words)),
        HumanMessage(content=prompts.SUMMARY_HUMAN.format(earlier=earlier, turns="\n".join(lines))),
    ]


def clip_words(text: str, words: int) -> str:
    """``text`` cut to ``words`` words (a model may run past the limit it was given)."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


async def fold(
    summary: str, turns: Sequence[BaseMessage], caller: ModelCaller, words: int
) -> tuple[str, str | None]:
    """The new summary and, if the model failed, why (the old summary is kept then)."""
    try:
        reply = await caller.ainvoke(ROLE, summary_messages(summary, turns, words))
    except CrossroadsError as error:
        return summary, str(error)
    text = strip_echoed_markup(reply.text.strip())
    if not text:
        return summary, "the model returned an empty summary"
    return clip_words(text, words), None


def wanted(settings: Settings) -> bool:
    """Whether turns leaving the window are summarised (a model, and ``summary_words > 0``)."""
    return settings.has_model and settings.summary_words > 0


async def summarize(state: dict[str, Any], runtime: Runtime[Settings]) -> dict[str, Any]:
    """Fold the turns leaving the window into the thread's summary, then let them go.

    The app's ``intake`` routes here only when a model is configured, ``summary_words`` is
    above 0 and turns are leaving; it has put this turn's question last in ``messages``.
    """
    settings = run_settings(runtime)
    messages = list(state.get("messages") or [])
    history = messages[:-1]
    count = leaving(history, settings.history_messages, batch=True)
    turns = history[:count]
    caller = ModelCaller(settings, state, "summary")
    summary, failure = await fold(state.get("summary") or "", turns, caller, settings.summary_words)
    detail: dict[str, Any] = {"folded": count, "words": len(summary.split())}
    if failure:
        detail["failed"] = failure
    return {
        "summary": summary,
        "messages": [RemoveMessage(id=m.id) for m in turns if m.id],
        "usage": caller.usage_update(),
        "steps": [step("memory", "summarize", detail)],
    }
