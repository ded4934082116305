"""The app graph's state: what a caller passes in, what a run hands back, and what the app
graph keeps in between. The agent contract it is built on lives in :mod:`crossroads.contract`.

Per-request keys (``answer``, ``sources``, ``steps``, ``usage``, ``error``, ...) are reset by
the app's ``intake`` node at the start of every question; ``messages`` and ``last_value``
live for the whole thread, so follow-ups work.
"""

from __future__ import annotations

import operator
from typing import Annotated

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from crossroads.contract import Source, Step
from crossroads.usage import Usage, latest_usage


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
    usage: Annotated[Usage, latest_usage]
    """The request's usage: the latest copy of its ledger (see :mod:`crossroads.usage`)."""
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
    summary: str
    """Running summary of the turns that have left ``messages`` (with a model; see
    :mod:`crossroads.agents.summary`). It lives for the whole thread, like ``messages``."""
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
