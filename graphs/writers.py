"""The writers agent's subgraph (placeholder until the agent lands: it answers honestly)."""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph

from crossroads.graphs.unavailable import build_unavailable_graph


def build_writers_graph() -> StateGraph[Any, Any, Any, Any]:
    """The writers subgraph."""
    return build_unavailable_graph("writers", "I can only help with math or fact questions.")
