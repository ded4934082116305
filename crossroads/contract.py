"""The agent contract: what every agent subgraph receives from the app and hands back.

It sits below the agents (``agents/`` import it, never ``graphs/``) and below the graphs that
wire them (``graphs/state.py`` builds the app's state on :class:`Source` and :class:`Step`).
Your own agent follows it too: read ``question`` (and ``messages``, ``context``,
``last_value``), return ``answer``, ``steps`` and ``usage`` (see ``examples/unit_converter.py``).

Reducers are written by one place each. An agent subgraph never receives the parent's
``steps`` or ``sources`` (they are not in :class:`AgentInput`), so what it returns is only
what it added, and the parent's reducer adds it once. ``usage`` is the exception: it is the
request's ledger (see :mod:`crossroads.usage`), which an agent receives and hands back whole;
return ``caller.usage_update()`` from a node that called a model.
"""

from __future__ import annotations

import html
import operator
from collections.abc import Sequence
from typing import Annotated, Any, NotRequired

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from crossroads.settings import Settings
from crossroads.usage import Usage, latest_usage


class Source(TypedDict):
    """A source an answer cites; ``index`` matches the answer's ``[n]`` markers."""

    index: int
    title: str
    url: str
    backend: str
    snippet: NotRequired[str]


class Step(TypedDict):
    """One visible step of a request, for ``Result.steps``."""

    agent: str
    action: str
    detail: NotRequired[Any]


def run_settings(runtime: Runtime[Settings]) -> Settings:
    """The settings a node runs with: the run's context, or the environment's when the graph
    was started without one (LangGraph Studio, a bare ``ainvoke``)."""
    return runtime.context or Settings.from_env()


def step(agent: str, action: str, detail: Any = None) -> Step:
    """One visible step of a request, as an agent's node returns it in ``steps``."""
    return {"agent": agent, "action": action, "detail": detail}


class AgentInput(TypedDict, total=False):
    """What every agent subgraph receives from the app."""

    question: str
    messages: list[AnyMessage]
    route: str
    started_at: float
    mode: str
    last_value: int | float | None
    context: str
    summary: str
    """Running summary of the turns that have left the thread's window (empty when none have,
    or offline); see :mod:`crossroads.agents.summary`."""
    usage: Usage
    """The request's usage so far (what this agent's budget counts from)."""


class AgentOutput(TypedDict, total=False):
    """What every agent subgraph hands back to the app."""

    answer: str
    sources: list[Source]
    steps: list[Step]
    usage: Usage
    error: str | None
    handoff: str | None
    gave_up: bool
    """The agent could not answer (its answer says why) but did not hand the question back:
    a plan stops there; a single question ends with that answer."""
    last_value: int | float | None


class AgentState(AgentInput, AgentOutput, total=False):
    """Base for an agent subgraph's internal state: the shared contract plus reducers.

    Agents subclass it and add their private keys.
    """

    sources: Annotated[list[Source], operator.add]
    steps: Annotated[list[Step], operator.add]
    usage: Annotated[Usage, latest_usage]


def earlier_messages(messages: Sequence[BaseMessage], question: str) -> list[BaseMessage]:
    """The thread's history before the current question.

    The app's ``intake`` puts the question into ``messages`` before any agent runs (the
    checkpointed thread must hold it, and a chat client's turn arrives already inside
    ``messages``), so an agent that shows the model "the conversation so far" leaves that
    last message out: a human message whose text is ``question``. During a multi-step plan
    ``question`` is the step's sub-question and the user's message stays in the history.
    """
    earlier = list(messages)
    if earlier and isinstance(earlier[-1], HumanMessage) and earlier[-1].content == question:
        earlier.pop()
    return earlier


SUMMARY_SPEAKER = "earlier (summary)"
"""How :func:`conversation_lines` labels the running summary of turns no longer in the window."""


def recent_turns(
    messages: Sequence[BaseMessage], question: str, last: int
) -> list[HumanMessage | AIMessage]:
    """The last ``last`` questions and answers before the current question, with text content."""
    earlier = earlier_messages(messages, question)
    return [
        message
        for message in earlier[-last:]
        if isinstance(message, HumanMessage | AIMessage) and message.text.strip()
    ]


def turn_lines(turns: Sequence[BaseMessage], *, summary: str = "", chars: int) -> list[str]:
    """Questions and answers as ``speaker: text`` lines for a prompt, after the running summary.

    Each text is cut to ``chars`` characters and HTML-escaped: answers can carry retrieved
    text, and a prompt fences the lines in a tag of its own.
    """
    lines = (
        [f"{SUMMARY_SPEAKER}: {html.escape(summary.strip(), quote=False)}"]
        if summary.strip()
        else []
    )
    for message in turns:
        if isinstance(message, HumanMessage | AIMessage) and message.text.strip():
            speaker = "user" if isinstance(message, HumanMessage) else "assistant"
            lines.append(f"{speaker}: {html.escape(message.text.strip()[:chars], quote=False)}")
    return lines


def conversation_lines(
    messages: Sequence[BaseMessage],
    question: str,
    *,
    summary: str = "",
    last: int,
    chars: int,
) -> list[str]:
    """The conversation before the current question, as prompt lines (see :func:`turn_lines`):
    the running summary of turns that have left the thread's window, then the last ``last``
    messages."""
    return turn_lines(recent_turns(messages, question, last), summary=summary, chars=chars)
