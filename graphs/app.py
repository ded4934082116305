"""The app graph: intake → router → one agent → respond.

```
START → intake ─┬─ router ─┬─ calculator ─┬─ respond → END
                │          ├─ researcher ─┤
                │          └─ writers ────┘
                └─ respond (the question was unusable)
```

* ``intake`` validates the question, appends it to the thread's ``messages`` and resets the
  per-request keys (``Overwrite`` bypasses their reducers), so each answer's sources, steps
  and usage are its own.
* ``router`` picks an agent (see ``crossroads.agents.router``).
* each agent is its own subgraph, added as a node, so streaming with ``subgraphs=True``
  and ``get_graph(xray=True)`` show inside it.
* an agent that gives up sets ``handoff``; the request goes back to the router once, with
  the failed route excluded.
* ``respond`` settles the final answer and appends it to ``messages``.

:func:`build_app_graph` returns an **uncompiled** graph so callers pick the checkpointer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from crossroads.agents.router import make_router_node
from crossroads.errors import InputError
from crossroads.graphs.registry import default_agents
from crossroads.graphs.state import AppState, InputState, OutputState
from crossroads.registry import AgentSpec, validate_agents
from crossroads.settings import Settings
from crossroads.usage import empty_usage
from crossroads.validation import clean_question

MAX_REROUTES = 1
NO_ANSWER = "Sorry, I could not answer that."
FAILED_ANSWER = "Sorry, I could not answer that: {error}"


async def intake(state: AppState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Validate the question and start a fresh request on the thread."""
    settings = runtime.context or Settings.from_env()
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
        "tried_routes": [],
        "started_at": time.time(),
        "mode": "llm" if settings.has_model else "offline",
        "context": "",
    }
    try:
        question = clean_question(state.get("question", ""))
    except InputError as error:
        return {**reset, "question": str(state.get("question", ""))[:200], "error": str(error)}
    return {**reset, "question": question, "messages": [HumanMessage(content=question)]}


def after_intake(state: AppState) -> str:
    """Unusable questions skip the router."""
    return "respond" if state.get("error") else "router"


def after_agent(state: AppState) -> str:
    """Back to the router once if the agent gave up, else on to ``respond``."""
    rerouted = len(state.get("tried_routes") or []) - 1
    if state.get("handoff") and not state.get("error") and rerouted < MAX_REROUTES:
        return "router"
    return "respond"


async def respond(state: AppState) -> dict[str, Any]:
    """Settle the final answer and add it to the conversation."""
    answer = (state.get("answer") or "").strip()
    error = state.get("error")
    if not answer:
        answer = FAILED_ANSWER.format(error=error) if error else NO_ANSWER
    update: dict[str, Any] = {"answer": answer}
    if state.get("messages") and not (error and not state.get("route")):
        update["messages"] = [AIMessage(content=answer, name=state.get("route") or None)]
    return update


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
    graph.add_node("router", make_router_node(specs))
    graph.add_node("respond", respond)
    for spec in specs:
        graph.add_node(spec.node, compile_agent(spec))
        graph.add_conditional_edges(
            spec.node, after_agent, {"router": "router", "respond": "respond"}
        )
    graph.add_edge(START, "intake")
    graph.add_conditional_edges("intake", after_intake, {"router": "router", "respond": "respond"})
    graph.add_conditional_edges("router", _pick_agent, {spec.name: spec.node for spec in specs})
    graph.add_edge("respond", END)
    return graph


def _pick_agent(state: AppState) -> str:
    return state["route"]
