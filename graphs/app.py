"""The app graph: intake → router → one agent → respond.

```
START → intake ─┬─ (summarize) ─ router ─┬──────────────┬─ calculator ─┬─ respond → END
                │                        └─ plan_step ──┼─ researcher ─┤
                │                             ▲         └─ writers ────┤
                │                             └────────────────────────┘ (next step of a plan)
                └─ respond (the question was unusable)
```

* ``intake`` validates the question, appends it to the thread's ``messages`` and resets the
  per-request keys (``Overwrite`` bypasses their reducers), so each answer's sources, steps
  and usage are its own. It also drops the oldest messages beyond
  ``Settings.history_messages``: the thread keeps a bounded window, which is what every agent
  receives, so a checkpoint's size does not grow with the conversation.
* ``summarize`` runs only when turns leave the window and a model is configured: it folds
  them into the thread's running ``summary`` before they go (see
  ``crossroads.agents.summary``).
* ``router`` picks an agent (see ``crossroads.agents.router``).
* each agent is its own subgraph, added as a node, so streaming with ``subgraphs=True``
  and ``get_graph(xray=True)`` show inside it.
* an agent that gives up sets ``handoff``; the request goes back to the router once, with
  the failed route excluded.
* a question that needs several agents ("the population of France divided by 3") gets an
  ordered plan from the router; ``plan_step`` runs its steps one by one, each agent seeing
  the earlier results in ``context``. A failed step ends the plan with what was learned.
* ``respond`` settles the final answer and appends it to ``messages``.
* edge functions are ``async``: LangGraph runs a sync one in a thread pool on every call.

:func:`build_app_graph` returns an **uncompiled** graph so callers pick the checkpointer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Hashable, Sequence
from typing import Any
from uuid import uuid4

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from crossroads.agents import summary
from crossroads.agents.router import make_router_node
from crossroads.contract import Source, run_settings
from crossroads.errors import InputError
from crossroads.graphs.builtin_agents import default_agents
from crossroads.graphs.guard import guarded
from crossroads.graphs.state import AppState, InputState, OutputState
from crossroads.registry import AgentSpec, validate_agents
from crossroads.settings import Settings
from crossroads.tools.markup import strip_echoed_markup
from crossroads.usage import empty_usage
from crossroads.validation import clean_question

MAX_REROUTES = 1
PLAN_RESULT = "step {number} ({route}): {question} -> {answer}"
PLAN_FAILED = "the plan stopped at step {step} of {of} ({why})"
NO_ANSWER = "Sorry, I could not answer that."
NO_INPUT = (
    'no question in the input: send {"question": "..."} or {"messages": [...]} ending with '
    "the human message to answer"
)
NO_TEXT = (
    "the question is empty: the message holds only {kinds} content, and Crossroads reads "
    "text; type the question"
)
FAILED_ANSWER = "Sorry, I could not answer that: {error}"
MAX_FOOTER_SOURCES = 8


async def intake(state: AppState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Validate the question and start a fresh request on the thread."""
    settings = run_settings(runtime)
    reset: dict[str, Any] = {
        "answer": "",
        "route": "",
        "route_reason": "",
        "route_confidence": None,
        "sources": Overwrite([]),
        "steps": Overwrite([]),
        "usage": Overwrite(empty_usage()),
        "error": None,
        "handoff": None,
        "gave_up": False,
        "tried_routes": [],
        "started_at": time.time(),
        "mode": "llm" if settings.has_model else "offline",
        "context": "",
        "plan": [],
        "plan_index": 0,
        "plan_results": [],
        "plan_note": "",
        "chat_input": False,
    }
    turn = _chat_turn(state)
    raw: Any = _message_text(turn) if turn is not None else state.get("question", "")
    if turn is None and not raw:
        return {**reset, "question": "", "error": NO_INPUT}
    try:
        question = clean_question(raw)
    except InputError as error:
        return {
            **reset,
            "chat_input": turn is not None,
            "asked_id": turn.id if turn is not None else state.get("asked_id"),
            "question": str(raw)[:200],
            "error": _only_attachments(turn) or str(error),
        }
    # A chat turn is already in ``messages`` (the input's reducer added it): replace it, by id,
    # with its plain text, so history holds strings whatever content blocks the client sent.
    asked = HumanMessage(content=question, id=turn.id if turn is not None else str(uuid4()))
    history = list(state.get("messages") or [])
    if turn is not None:
        history = history[:-1]
    return {
        **reset,
        "chat_input": turn is not None,
        "question": question,
        "original_question": question,
        # Older turns beyond the window go; a chat turn is already the last message and is
        # replaced (same id) by ``asked``, so it is not counted as history.
        "messages": [*_forget(history, settings), asked],
        "asked_id": asked.id,
    }


def _forget(history: Sequence[AnyMessage], settings: Settings) -> list[RemoveMessage]:
    """Removals that keep the thread's ``messages`` within the window once this turn ends.

    Without them every checkpoint of a long thread carries its whole transcript. When the
    leaving turns are to be summarised, ``summarize`` removes them instead, after reading them.
    """
    if summary.wanted(settings):
        return []
    count = summary.leaving(history, settings.history_messages, batch=False)
    return [RemoveMessage(id=m.id) for m in history[:count] if m.id]


def _chat_turn(state: AppState) -> HumanMessage | None:
    """The human message a chat-style input (``{"messages": [...]}``) just added, if any.

    A thread's last message is normally the answer to its last turn; a human message there
    that intake has not taken yet was sent with this input.
    """
    messages = state.get("messages") or []
    if not messages or not isinstance(messages[-1], HumanMessage):
        return None
    last = messages[-1]
    return last if last.id is None or last.id != state.get("asked_id") else None


def _only_attachments(message: HumanMessage | None) -> str | None:
    """Why a chat turn with content blocks but no text has no question (a chat client can
    send an image or a file alone), or ``None`` when that is not the case."""
    if message is None or isinstance(message.content, str) or _message_text(message).strip():
        return None
    kinds = sorted(
        {
            str(block.get("type") or "unknown")
            for block in message.content
            if isinstance(block, dict)
        }
    )
    if not kinds:
        return None
    return NO_TEXT.format(kinds=", ".join(f"'{kind}'" for kind in kinds))


def _message_text(message: HumanMessage) -> str:
    """A message's text: its string content, or its text blocks joined."""
    if isinstance(message.content, str):
        return message.content
    parts = [
        block if isinstance(block, str) else str(block.get("text", ""))
        for block in message.content
        if isinstance(block, str) or block.get("type") == "text"
    ]
    return "\n".join(part for part in parts if part)


async def after_intake(state: AppState, runtime: Runtime[Settings]) -> str:
    """Unusable questions skip the router; turns leaving the window go through ``summarize``
    first when they are summarised."""
    if state.get("error"):
        return "respond"
    settings = run_settings(runtime)
    history = (state.get("messages") or [])[:-1]
    if summary.wanted(settings) and summary.leaving(
        history, settings.history_messages, batch=False
    ):
        return "summarize"
    return "router"


async def after_router(state: AppState) -> str:
    """A plan starts with ``plan_step``; a single route goes straight to its agent; a router
    whose model failed for good ends the request (its calls are counted, see ``guarded``)."""
    if state.get("error"):
        return "respond"
    return "plan_step" if state.get("plan") else state["route"]


async def after_agent(state: AppState) -> str:
    """Next plan step, back to the router once if the agent gave up, else ``respond``."""
    plan = state.get("plan") or []
    if plan:
        failed = (
            state.get("error")
            or state.get("handoff")
            or state.get("gave_up")
            or not state.get("answer")
        )
        if not failed and (state.get("plan_index") or 0) < len(plan):
            return "plan_step"
        return "respond"
    rerouted = len(state.get("tried_routes") or []) - 1
    if state.get("handoff") and not state.get("error") and rerouted < MAX_REROUTES:
        return "router"
    return "respond"


async def plan_step(state: AppState) -> dict[str, Any]:
    """Start the next step of the plan: its sub-question, with earlier results as context."""
    plan = state.get("plan") or []
    index = state.get("plan_index") or 0
    results = list(state.get("plan_results") or [])
    if index > 0:
        previous = plan[index - 1]
        results.append({**previous, "answer": (state.get("answer") or "").strip()})
    step = plan[index]
    context = "\n".join(
        PLAN_RESULT.format(number=n, **result) for n, result in enumerate(results, start=1)
    )
    return {
        "question": step["question"],
        "route": step["route"],
        "plan_index": index + 1,
        "plan_results": results,
        "context": context,
        "answer": "",
        "handoff": None,
        "gave_up": False,
        "steps": [
            {
                "agent": "planner",
                "action": "step",
                "detail": {"step": index + 1, "of": len(plan), **step},
            }
        ],
    }


def _plan_answer(state: AppState, answer: str) -> tuple[str, str | None]:
    """The final answer of a plan, and an error if it did not finish."""
    plan = state.get("plan") or []
    done = list(state.get("plan_results") or [])
    failed = state.get("error") or state.get("handoff") or state.get("gave_up") or not answer
    note = state.get("plan_note") or ""
    if not failed and (state.get("plan_index") or 0) >= len(plan):
        return (f"{answer}\n\n({note})" if note else answer), None
    step = state.get("plan_index") or 0
    why = state.get("error") or state.get("handoff") or (answer if state.get("gave_up") else "")
    why = why or "no answer"
    learned = "\n".join(f"- {r['question']}: {r['answer']}" for r in done) or "- nothing yet"
    error = PLAN_FAILED.format(step=step, of=len(plan), why=why)
    return f"{error}. What I learned so far:\n{learned}", error


async def respond(state: AppState) -> dict[str, Any]:
    """Settle the final answer and add it to the conversation."""
    question = state.get("original_question") or state.get("question") or ""
    # Small models echo the prompt's fences and escapes; none of it belongs in an answer.
    answer = strip_echoed_markup((state.get("answer") or "").strip(), source=question)
    error = state.get("error")
    if state.get("plan"):
        answer, error = _plan_answer(state, answer)
    if not answer:
        answer = FAILED_ANSWER.format(error=error) if error else NO_ANSWER
    # ``question`` is cleared so that the next input must bring its own (see ``intake``).
    update: dict[str, Any] = {"answer": answer, "error": error, "question": ""}
    route = state.get("route") or None
    chat = bool(state.get("chat_input"))
    messages = state.get("messages") or []
    # Answer the turn's question if intake added one (a rejected input never reached it).
    if chat or (messages and isinstance(messages[-1], HumanMessage)):
        sources = list(state.get("sources") or [])
        update["messages"] = [
            AIMessage(
                content=answer + chat_footer(route, sources) if chat else answer,
                name=route,
                response_metadata={"crossroads": {"route": route, "sources": sources}},
            )
        ]
    return update


def _md(text: str) -> str:
    """``text`` with Markdown's active characters escaped (titles come from retrieved pages)."""
    return re.sub(r"([\\`*_{}\[\]()<>#!|~])", r"\\\1", " ".join(text.split()))


def chat_footer(route: str | None, sources: Sequence[Source]) -> str:
    """Route and sources under an answer, in Markdown, for chat clients that show only text."""
    lines = [f"\n\n---\n*route: {_md(route or 'none')}*"]
    for source in sources[:MAX_FOOTER_SOURCES]:
        title = _md(str(source.get("title", "")))[:120]
        url = str(source.get("url", "")).replace("`", "")[:200]
        lines.append(f"[{source.get('index', '?')}] {title}" + (f" · `{url}`" if url else ""))
    return "  \n".join(lines)


def compile_agent(spec: AgentSpec) -> Any:
    """Compile an agent's subgraph (it inherits the parent's checkpointer)."""
    graph = spec.build()
    if isinstance(graph, StateGraph):
        return graph.compile(name=spec.node)
    return graph


def build_app_graph(
    *, agents: Sequence[AgentSpec] | None = None
) -> StateGraph[AppState, Settings, InputState, OutputState]:
    """Build the app graph for a set of agents (default: built-ins plus registered ones).

    Args:
        agents: The agents the router chooses among.

    Returns:
        The uncompiled graph; compile it with the checkpointer you want.

    Raises:
        ConfigurationError: duplicate or invalid agent names.
    """
    specs = validate_agents(agents if agents is not None else default_agents())
    graph = StateGraph(
        AppState, context_schema=Settings, input_schema=InputState, output_schema=OutputState
    )
    graph.add_node("intake", intake)
    graph.add_node("summarize", summary.summarize)
    graph.add_node("router", guarded("router", "route", make_router_node(specs)))
    graph.add_node("respond", respond)
    graph.add_node("plan_step", plan_step)
    routes: dict[Hashable, str] = {spec.name: spec.node for spec in specs}
    for spec in specs:
        graph.add_node(spec.node, compile_agent(spec))
        graph.add_conditional_edges(
            spec.node,
            after_agent,
            {"router": "router", "plan_step": "plan_step", "respond": "respond"},
        )
    graph.add_edge(START, "intake")
    graph.add_conditional_edges(
        "intake",
        after_intake,
        {"summarize": "summarize", "router": "router", "respond": "respond"},
    )
    graph.add_edge("summarize", "router")
    graph.add_conditional_edges(
        "router", after_router, {**routes, "plan_step": "plan_step", "respond": "respond"}
    )
    graph.add_conditional_edges("plan_step", _step_agent, routes)
    graph.add_edge("respond", END)
    return graph


async def _step_agent(state: AppState) -> str:
    return state["route"]
