"""Retrievers: plain search tools (no LLM inside) that turn a query into passages.

* :class:`WikipediaRetriever` – the ``wikipedia`` package, with a real timeout.
* :class:`TavilyRetriever` – Tavily web search through ``tavily-python``.
* :class:`LocalIndex` / :func:`build_index` – a BM25 index over your own files.
* :class:`ZimRetriever` – an offline Kiwix ``.zim`` file (optional ``libzim``).
* :class:`MultiRetriever` – several of the above with retries, fallback and failure reports.

All return :class:`Passage` objects and raise :class:`RetrievalError` subclasses; see
:mod:`crossroads.tools.retrievers.base`.
"""

from crossroads.tools.retrievers.base import (
    BackendUnavailable,
    Passage,
    RateLimited,
    RetrievalError,
    RetrievalTimeout,
    Retriever,
    trim_to_relevant,
)
from crossroads.tools.retrievers.local_index import IndexStats, LocalIndex, build_index
from crossroads.tools.retrievers.multi import MultiRetriever, SearchOutcome
from crossroads.tools.retrievers.tavily_backend import TavilyRetriever
from crossroads.tools.retrievers.wikipedia_backend import WikipediaRetriever
from crossroads.tools.retrievers.zim import ZimRetriever

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
