"""Graph assembly: the app graph and each agent's subgraph.

Every builder returns an **uncompiled** ``StateGraph``, so the caller chooses the
checkpointer (``.compile(checkpointer=...)``); ``crossroads.Crossroads`` compiles the app
graph with SQLite by default, and ``crossroads.graphs.server`` compiles them for LangGraph
Server.
"""

from __future__ import annotations

from crossroads.graphs.app import build_app_graph
from crossroads.graphs.calculator import build_calculator_graph
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.graphs.writers import build_writers_graph

__all__ = [
    "build_app_graph",
    "build_calculator_graph",
    "build_researcher_graph",
    "build_writers_graph",
]
