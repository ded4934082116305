"""State schemas: the app's state and the contract every agent subgraph follows.

This module is a leaf: it imports nothing from ``agents/`` or the graph builders, so agents
may import it for their node signatures (the one thing an agent takes from ``graphs/``).

Per-request keys (``answer``, ``sources``, ``steps``, ``usage``, ``error``, ...) are reset by
the app's ``intake`` node at the start of every question; ``messages`` and ``last_value``
live for the whole thread, so follow-ups work.

Reducers are written by one place each. An agent subgraph never receives the parent's
``usage``, ``steps`` or ``sources`` (they are not in :class:`AgentInput`), so what it returns
is only what it added, and the parent's reducer adds it once.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from crossroads.usage import Usage, merge_usage


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


class InputState(TypedDict, total=False):
    """What a caller passes in: ``question``, or ``messages`` (chat clients such as
    agent-chat-ui), whose last human message is the question and the rest history."""

    question: str
    """The user's question, already validated (see ``crossroads.validation``)."""
    messages: Annotated[list[AnyMessage], add_messages]
    """Chat-style input: appended to the thread's history; the last one must be human."""


class OutputState(TypedDict, total=False):
    """What a run hands back (``crossroads.Result`` is built from it).

    ``messages`` is there for chat clients, which render the thread from it."""

    messages: Annotated[list[AnyMessage], add_messages]
    answer: str
    route: str
    route_reason: str
    sources: list[Source]
    usage: Usage
    steps: list[Step]
    error: str | None
    mode: str


class AppState(TypedDict, total=False):
    """The app graph's full state."""

    messages: Annotated[list[AnyMessage], add_messages]
    """Conversation history of the thread (question and answer of every turn)."""
    question: str
    route: str
    """The route chosen for this question (an agent's registered name)."""
    route_reason: str
    route_confidence: float | None
    answer: str
    sources: Annotated[list[Source], operator.add]
    steps: Annotated[list[Step], operator.add]
    usage: Annotated[Usage, merge_usage]
    error: str | None
    handoff: str | None
    """Set by an agent that gave up: why, so the router can re-route once."""
    gave_up: bool
    """The agent could not answer (its answer says why) but did not hand the question back:
    a plan stops there; a single question ends with that answer."""
    tried_routes: list[str]
    """Routes already tried for this question."""
    started_at: float
    """Wall-clock start of the request, for the time budget."""
    mode: str
    """``"llm"`` or ``"offline"``."""
    last_value: int | float | None
    """The calculator's last result in this thread (``ans`` in follow-ups)."""
    context: str
    """Earlier results a multi-step plan hands to the next step."""
    usage_before: Usage
    """Snapshot of ``usage`` taken when an agent starts (see :class:`AgentInput`)."""
    plan: list[dict[str, str]]
    """Multi-step plan from the router: ``{"route", "question"}`` steps, in order."""
    plan_index: int
    """Steps of ``plan`` started so far."""
    plan_results: list[dict[str, str]]
    """Finished steps: route, question and answer, for later steps and the final answer."""
    plan_note: str
    """Why the plan was cut short, if it was."""
    original_question: str
    """The user's question while a plan runs its sub-questions in ``question``."""
    chat_input: bool
    """The question came as a chat turn (``messages`` input): the reply carries route and
    sources in its text, for clients that render only messages."""
    asked_id: str | None
    """Id of the human message the last request answered (so a chat turn is taken once)."""


class AgentInput(TypedDict, total=False):
    """What every agent subgraph receives from the app."""

    question: str
    messages: list[AnyMessage]
    route: str
    started_at: float
    mode: str
    last_value: int | float | None
    context: str
    usage_before: Usage
    """Usage so far in this request, so budgets count the whole request."""


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
    usage: Annotated[Usage, merge_usage]
