"""Small builders shared by tests (not fixtures: plain functions)."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from crossroads.contract import AgentInput, AgentOutput, AgentState
from crossroads.registry import AgentSpec


def echo_agent_graph(name: str, *, handoff: str | None = None) -> StateGraph[Any, Any, Any, Any]:
    """An agent that answers "<name>: <question>" (or gives up with ``handoff``)."""

    async def answer(state: AgentState) -> dict[str, Any]:
        if handoff:
            return {
                "answer": "",
                "handoff": handoff,
                "steps": [{"agent": name, "action": "gave up"}],
            }
        return {
            "answer": f"{name}: {state['question']}",
            "steps": [{"agent": name, "action": "echo"}],
        }

    graph = StateGraph(AgentState, input_schema=AgentInput, output_schema=AgentOutput)
    graph.add_node("answer", answer)
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    return graph


def echo_specs(**handoffs: str) -> list[AgentSpec]:
    """math/fact/none agents that echo, with the built-in descriptions."""
    from crossroads.graphs.builtin_agents import BUILTIN_AGENTS

    return [
        AgentSpec(
            name=spec.name,
            node=spec.node,
            description=spec.description,
            examples=spec.examples,
            build=lambda name=spec.name: echo_agent_graph(name, handoff=handoffs.get(name)),
        )
        for spec in BUILTIN_AGENTS
    ]
