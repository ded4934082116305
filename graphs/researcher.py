"""The researcher agent's subgraph (placeholder until the agent lands: it answers honestly)."""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph

from crossroads.graphs.unavailable import build_unavailable_graph


def build_researcher_graph() -> StateGraph[Any, Any, Any, Any]:
    """The researcher subgraph."""
    return build_unavailable_graph(
        "researcher", "The research agent is not built yet, so I cannot look this up."
    )
