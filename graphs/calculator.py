"""The calculator agent's subgraph (placeholder until the agent lands: it answers honestly)."""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph

from crossroads.graphs.unavailable import build_unavailable_graph


def build_calculator_graph() -> StateGraph[Any, Any, Any, Any]:
    """The calculator subgraph."""
    return build_unavailable_graph(
        "calculator", "The calculator agent is not built yet, so I cannot compute this."
    )
