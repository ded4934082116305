"""Usage accounting: model calls and tokens, in total and per node.

``Usage`` is a plain dict so it checkpoints and serialises as it is. Nodes return the usage
they added; the state's reducer (:func:`merge_usage`) adds it up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

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
    return merge_usage(usage, {**delta, "by_node": {node: delta}})


def merge_usage(left: Usage | None, right: Usage | None) -> Usage:
    """Reducer: add two usage records (``None`` counts as zero)."""
    result = empty_usage()
    for part in (left, right):
        if not part:
            continue
        totals = cast(dict[str, Any], result)
        for key in _FIELDS:
            totals[key] += int(cast(Mapping[str, Any], part).get(key, 0) or 0)
        for node, counts in (part.get("by_node") or {}).items():
            mine = cast(
                dict[str, int],
                result["by_node"].setdefault(
                    node, {"llm_calls": 0, "input_tokens": 0, "output_tokens": 0}
                ),
            )
            for key in _FIELDS:
                mine[key] += int(cast(Mapping[str, Any], counts).get(key, 0) or 0)
    return result
