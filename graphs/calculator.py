"""The calculator agent's subgraph: prepare → extract ⇄ evaluate → phrase (or give up).

```
START → prepare ─┬─ computed ──────────────────────────► phrase ─► END
                 ├─ answered (offline, unreadable; no value) ────► END
                 └─ unread ─► extract ─► evaluate ─┬─ computed ─► phrase
                                 ▲                 ├─ retry ────┘ (back to extract)
                                 └─────────────────┤
                                                   ├─ answered (no value) ──► END
                                                   └─ exhausted ─► give_up ─► END
```

The nodes and prompts live in :mod:`crossroads.agents.calculator`; each node records what it
decided in the private ``outcome`` key, and this module only maps outcomes to edges. Every
node is wrapped with :func:`~crossroads.graphs.guard.guarded`, so a spent budget or a failed
model ends the subgraph with ``error`` set instead of raising.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from langgraph.graph import END, START, StateGraph

from crossroads.agents.calculator import (
    AGENT,
    CalcState,
    evaluate,
    extract,
    give_up,
    phrase,
    prepare,
)
from crossroads.contract import AgentInput, AgentOutput
from crossroads.graphs.guard import guarded, stop_on_error
from crossroads.settings import Settings


def _follow(outcomes: Mapping[str, str]) -> Callable[[CalcState], Awaitable[str]]:
    """An edge router: END on error, else the node for the state's ``outcome`` (async, so
    LangGraph does not hand it to a thread pool)."""

    async def choose(state: CalcState) -> str:
        if state.get("error"):
            return END
        return outcomes.get(state.get("outcome") or "", END)

    return choose


def build_calculator_graph() -> StateGraph[CalcState, Settings, AgentInput, AgentOutput]:
    """Build the calculator subgraph.

    Returns:
        The uncompiled graph (the app compiles it as a node; compile it yourself to run it
        alone, with ``context=Settings(...)``).
    """
    graph = StateGraph(
        CalcState, context_schema=Settings, input_schema=AgentInput, output_schema=AgentOutput
    )
    graph.add_node("prepare", guarded(AGENT, "prepare", prepare))
    graph.add_node("extract", guarded(AGENT, "extract", extract))
    graph.add_node("evaluate", guarded(AGENT, "evaluate", evaluate))
    graph.add_node("phrase", guarded(AGENT, "phrase", phrase))
    graph.add_node("give_up", guarded(AGENT, "give_up", give_up))
    graph.add_edge(START, "prepare")
    graph.add_conditional_edges(
        "prepare",
        _follow({"computed": "phrase", "unread": "extract"}),
        ["phrase", "extract", END],
    )
    graph.add_conditional_edges("extract", stop_on_error("evaluate", END), ["evaluate", END])
    graph.add_conditional_edges(
        "evaluate",
        _follow({"computed": "phrase", "retry": "extract", "exhausted": "give_up"}),
        ["phrase", "extract", "give_up", END],
    )
    graph.add_edge("phrase", END)
    graph.add_edge("give_up", END)
    return graph
