"""Graph assembly: the app graph and each agent's subgraph.

Every builder returns an **uncompiled** ``StateGraph``, so the caller chooses the
checkpointer (``.compile(checkpointer=...)``); ``crossroads.Crossroads`` compiles the app
graph with SQLite by default, and ``crossroads.graphs.server`` compiles them for LangGraph
Server.

The builders are imported on first use: agents import ``crossroads.graphs.state``, and an
eager import of the builders here would import those agents back while they load.
"""

from __future__ import annotations

import importlib
from typing import Any

_BUILDERS = {
    "build_app_graph": "crossroads.graphs.app",
    "build_calculator_graph": "crossroads.graphs.calculator",
    "build_researcher_graph": "crossroads.graphs.researcher",
    "build_writers_graph": "crossroads.graphs.writers",
}

__all__ = sorted(_BUILDERS)


def __getattr__(name: str) -> Any:
    if name in _BUILDERS:
        return getattr(importlib.import_module(_BUILDERS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
