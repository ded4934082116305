"""Retrievers: plain search tools (no LLM inside) that turn a query into passages.

* :class:`WikipediaRetriever` – the ``wikipedia`` package, with a real timeout.
* :class:`TavilyRetriever` – Tavily web search through ``tavily-python``.
* :class:`LocalIndex` / :func:`build_index` – a BM25 index over your own files.
* :class:`ZimRetriever` – an offline Kiwix ``.zim`` file (optional ``libzim``).
* :class:`MultiRetriever` – several of the above with retries, fallback and failure reports.

All return :class:`Passage` objects and raise :class:`RetrievalError` subclasses; see
:mod:`crossroads.tools.retrievers.base`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from crossroads.tools.retrievers.base import (
    BackendUnavailable,
    Passage,
    RateLimited,
    RetrievalError,
    RetrievalTimeout,
    Retriever,
    trim_to_relevant,
)
from crossroads.tools.retrievers.multi import MultiRetriever, SearchOutcome

if TYPE_CHECKING:
    from crossroads.tools.retrievers.local_index import IndexStats, LocalIndex, build_index
    from crossroads.tools.retrievers.tavily_backend import TavilyRetriever
    from crossroads.tools.retrievers.wikipedia_backend import WikipediaRetriever
    from crossroads.tools.retrievers.zim import ZimRetriever

# The backends are imported when first used: their libraries (bm25s and SciPy, pypdf,
# BeautifulSoup, wikipedia, tavily) cost about half a second to import, and a request that
# searches nothing (a math question) needs none of them.
_LAZY = {
    "IndexStats": "local_index",
    "LocalIndex": "local_index",
    "build_index": "local_index",
    "TavilyRetriever": "tavily_backend",
    "WikipediaRetriever": "wikipedia_backend",
    "ZimRetriever": "zim",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BackendUnavailable",
    "IndexStats",
    "LocalIndex",
    "MultiRetriever",
    "Passage",
    "RateLimited",
    "RetrievalError",
    "RetrievalTimeout",
    "Retriever",
    "SearchOutcome",
    "TavilyRetriever",
    "WikipediaRetriever",
    "ZimRetriever",
    "build_index",
    "trim_to_relevant",
]
