"""Every decision between nodes is an ``async def``: LangGraph runs a sync edge function in a
thread pool on every call (issue 19 measured 6 such edges at 0.7 ms a request)."""

from __future__ import annotations

from typing import Any

import pytest

from crossroads.graphs import (
    build_app_graph,
    build_calculator_graph,
    build_researcher_graph,
    build_writers_graph,
)


@pytest.mark.parametrize(
    "build",
    [build_app_graph, build_calculator_graph, build_researcher_graph, build_writers_graph],
    ids=lambda build: build.__name__,
)
def test_every_conditional_edge_is_async(build: Any) -> None:
    graph = build()
    decisions = [
        (node, name, spec.path)
        for node, branches in graph.branches.items()
        for name, spec in branches.items()
    ]
    assert decisions
    sync = [(node, name) for node, name, path in decisions if path.func is not None]
    assert sync == []
