"""Node guards: an agent's failure becomes state, not an exception from deep in LangGraph.

Agent subgraph builders wrap their nodes with :func:`guarded`. When a node raises a
:class:`~crossroads.errors.CrossroadsError` (a spent budget, a model that failed for good, a
missing key), the wrapper returns ``{"error": ..., "steps": [...]}`` instead, keeping
everything the agent produced before, and the builder's edges send ``error`` straight to the
end with :func:`stop_on_error`. Programming errors still raise: they are bugs, not states.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from crossroads.contract import step
from crossroads.errors import BudgetExceeded, CrossroadsError
from crossroads.usage import request_ledger

NodeFn = Callable[..., Awaitable[dict[str, Any]]]


def guarded(agent: str, action: str, node: NodeFn) -> NodeFn:
    """Wrap an async node so a ``CrossroadsError`` ends the agent cleanly.

    Args:
        agent: Agent name, recorded in the step.
        action: Node's action name, recorded in the step.
        node: The async node function (``state, runtime`` or ``state``).
    """

    @functools.wraps(node)
    async def run(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return await node(*args, **kwargs)
        except CrossroadsError as error:
            failure = error
        # The calls made before the failure were paid for: they are in the request's ledger,
        # which goes into the state as every node's usage does.
        state = args[0] if args else kwargs.get("state") or {}
        kind = "budget" if isinstance(failure, BudgetExceeded) else type(failure).__name__
        detail = {"failed": kind, "why": str(failure)}
        return {
            "usage": request_ledger(state).usage,
            "error": str(failure),
            "steps": [step(agent, action, detail)],
        }

    return run


def stop_on_error(next_node: str, end: str) -> Callable[[dict[str, Any]], Awaitable[str]]:
    """A router for ``add_conditional_edges``: ``end`` when ``state["error"]``, else ``next_node``.

    It is async: LangGraph runs a sync edge function in a thread pool on every call.
    """

    async def choose(state: dict[str, Any]) -> str:
        return end if state.get("error") else next_node

    return choose
