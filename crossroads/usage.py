"""Usage accounting: model calls and tokens, in total and per node, kept one way.

**One ledger per request.** Every model call is written, as it happens, into the request's
:class:`UsageLedger` by :class:`~crossroads.llm.ModelCaller` (the only code that calls
models). Everything else reads that one record:

* **budgets** (``max_llm_calls``, ``max_tokens``) are checked against the ledger, so they
  count the whole request: the router, every agent subgraph, each step of a plan, the writer
  team, a node that failed, and nodes or callers that run side by side;
* **a failed node** loses nothing: its calls are in the ledger before it raises, and its
  guard (:func:`crossroads.graphs.guard.guarded`) hands the ledger on like any other node;
* **the state's ``usage`` channel is the ledger's persisted copy.** A node returns
  ``caller.usage_update()``: the ledger as it stands, not a delta. The channel's reducer
  (:func:`latest_usage`) keeps the later of two copies, so the same copy arriving twice (an
  agent subgraph receives the request's ``usage`` and hands it back) is counted once. That is
  why agents may be given the request's usage: there is no separate "usage before this agent"
  snapshot any more;
* **an interrupt** (the writers' plan review) checkpoints that copy with the paused
  subgraph; a resume in another process, where the request's ledger is not in memory, starts
  the ledger again from the state it resumes (:func:`request_ledger`), so budgets and
  ``Result.usage`` still count the calls made before the pause;
* ``Result.usage`` (streamed or not) and ``usage["by_node"]`` are the app state's channel.

Before, the same facts were kept three ways: deltas summed by the reducer, a ``usage_before``
snapshot that the router and ``plan_step`` copied into each agent for its budget, and a
context variable through which a node's guard found the callers of a node that failed.
Those missed calls made side by side (two branches of an agent, or two callers in one node,
each checked its budget without the other's calls) and needed each new path (a plan step, a
re-route) to remember to refresh the snapshot.

Why "the later copy" is safe: one request runs in one process at a time (its thread's
lock), so every copy of its usage is a snapshot of one record that only grows, and of two
snapshots the later one is larger in every field. ``Usage`` stays a plain dict, so it
checkpoints and serialises as it is.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, cast

from langgraph.config import get_config
from typing_extensions import TypedDict


class NodeUsage(TypedDict):
    """Usage of one node."""

    llm_calls: int
    input_tokens: int
    output_tokens: int


class Usage(TypedDict):
    """Usage of a request: totals plus a breakdown by node."""

    llm_calls: int
    input_tokens: int
    output_tokens: int
    by_node: dict[str, NodeUsage]


_FIELDS = ("llm_calls", "input_tokens", "output_tokens")


def empty_usage() -> Usage:
    """A fresh, all-zero usage record."""
    return {"llm_calls": 0, "input_tokens": 0, "output_tokens": 0, "by_node": {}}


def _combine(left: Usage | None, right: Usage | None, pick: Any) -> Usage:
    """``left`` and ``right`` combined field by field (totals and each node) with ``pick``,
    into a new record (the inputs are left as they were)."""
    result = empty_usage()
    totals = cast(dict[str, int], result)
    nodes = cast(dict[str, dict[str, int]], result["by_node"])
    for part in (left, right):
        if not part:
            continue
        fields = cast(Mapping[str, Any], part)
        for key in _FIELDS:
            totals[key] = pick(totals[key], int(fields.get(key, 0) or 0))
        for node, counts in (part.get("by_node") or {}).items():
            given = cast(Mapping[str, Any], counts)
            mine = nodes.get(node)
            if mine is None:
                nodes[node] = {key: int(given.get(key, 0) or 0) for key in _FIELDS}
            else:
                for key in _FIELDS:
                    mine[key] = pick(mine[key], int(given.get(key, 0) or 0))
    return result


def latest_usage(left: Usage | None, right: Usage | None) -> Usage:
    """Reducer of the ``usage`` channel: the later of two copies of the request's ledger.

    Copies of one growing record differ only in how far they got, so the later one is the
    larger in every field; ``None`` counts as nothing yet. Equal copies (a node handing back
    the ledger it was given) are not combined again: records are never changed in place.
    """
    if left is not None and left == right:
        return left
    return _combine(left, right, max)


def add_call(
    usage: Usage,
    node: str,
    tokens: Mapping[str, int] | None,
    *,
    count_call: bool = True,
) -> Usage:
    """Return ``usage`` plus one call (and/or its tokens) made by ``node``."""
    delta: NodeUsage = {
        "llm_calls": 1 if count_call else 0,
        "input_tokens": int((tokens or {}).get("input_tokens", 0)),
        "output_tokens": int((tokens or {}).get("output_tokens", 0)),
    }
    return _combine(usage, {**delta, "by_node": {node: delta}}, operator.add)


class UsageLedger:
    """The usage of one request so far: every model call of the request is written here."""

    def __init__(self, start: Usage | None = None) -> None:
        self._usage = latest_usage(None, start)

    @property
    def usage(self) -> Usage:
        """The record as it stands (a new dict after every call: it is replaced, never
        changed in place, so what was handed out stays as it was)."""
        return self._usage

    def record(
        self, node: str, tokens: Mapping[str, int] | None, *, count_call: bool = True
    ) -> None:
        """Add one call (and/or its tokens) made by ``node``."""
        self._usage = add_call(self._usage, node, tokens, count_call=count_call)

    def catch_up(self, persisted: Usage | None) -> None:
        """Take in a persisted copy that got further than this process saw (the request ran
        on elsewhere, e.g. a plan review resumed by another process, then paused again)."""
        # None: nothing persisted, nothing to take in. An equal copy is the reducer's to skip.
        if persisted is not None:
            self._usage = latest_usage(self._usage, persisted)


_LEDGERS: OrderedDict[tuple[str | None, float], UsageLedger] = OrderedDict()
_LEDGERS_LOCK = threading.Lock()
_LEDGER_REQUESTS = 1024
"""Ledgers of the newest requests kept in memory; an older one is rebuilt from its state."""


def request_ledger(state: Mapping[str, Any]) -> UsageLedger:
    """The ledger of the request a node runs in, found by its ``started_at`` and thread.

    A request this process has not seen yet (a resume in another process, or a ledger pushed
    out by newer requests) starts from the ``usage`` in ``state``: the copy persisted so far.
    A state with no ``started_at`` (a subgraph or a caller used on its own) gets a ledger of
    its own, started from its ``usage``.
    """
    persisted = cast("Usage | None", state.get("usage"))
    started = state.get("started_at")
    if not started:
        return UsageLedger(persisted)
    key = (_thread_id(), float(started))
    with _LEDGERS_LOCK:
        ledger = _LEDGERS.get(key)
        if ledger is None:
            ledger = _LEDGERS[key] = UsageLedger(persisted)
            while len(_LEDGERS) > _LEDGER_REQUESTS:
                _LEDGERS.popitem(last=False)
        else:
            ledger.catch_up(persisted)
        return ledger


def _thread_id() -> str | None:
    """The running graph's thread, so two requests that started in the same instant on
    different threads keep apart; ``None`` outside a graph run."""
    try:
        thread = get_config().get("configurable", {}).get("thread_id")
    except RuntimeError:
        return None
    return None if thread is None else str(thread)
