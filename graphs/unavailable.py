"""A stand-in agent for a route whose agent cannot run (for example, writing offline).

It answers honestly what it cannot do, and makes no model call.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from crossroads.contract import AgentInput, AgentOutput, AgentState


def build_unavailable_graph(name: str, message: str) -> StateGraph[Any, Any, Any, Any]:
    """A one-node subgraph that answers ``message`` and marks the request as not done."""

    async def explain(state: AgentState) -> dict[str, Any]:
        return {
            "answer": message,
            "steps": [{"agent": name, "action": "unavailable", "detail": message}],
        }

    graph = StateGraph(AgentState, input_schema=AgentInput, output_schema=AgentOutput)
    graph.add_node("explain", explain)
    graph.add_edge(START, "explain")
    graph.add_edge("explain", END)
    return graph
