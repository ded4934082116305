"""Build the research agent's search backends from :class:`~crossroads.settings.Settings`.

:func:`make_search` turns ``settings.search_backends`` (for example ``("local", "wikipedia")``)
into one :class:`~crossroads.tools.retrievers.MultiRetriever`. A backend whose prerequisites
are missing is **skipped with a note**, never an error, so a fresh install with no local index
still searches Wikipedia, and the agent can tell the user what it did not search and why:

==============  ===============================================================
``local``       needs an index in ``settings.data_dir / "index"`` (``crossroads index``)
``zim``         needs ``settings.zim_path`` (``CROSSROADS_ZIM``) and ``libzim``
``wikipedia``   network; skipped offline
``tavily``      network and ``settings.tavily_api_key``; skipped offline
==============  ===============================================================

Offline (``not settings.has_model``) only the backends on this machine are used: the
offline mode promises no model calls, and it is also what people choose when they have no
network, where a Wikipedia search would only wait for its timeout.

The local index and ZIM retrievers are shared between requests (they load an index or open
an archive once; both are thread-safe and notice a rebuilt index), so asking many questions
does not reload them every time.

Endpoints are injectable for tests and mirrors through keyword arguments, never through the
environment: ``make_search(settings, wikipedia_api_url=stub.api_url)``. The research graph
takes a ``search_factory`` for the same purpose (see ``crossroads.graphs.researcher``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from crossroads.errors import ConfigurationError
from crossroads.settings import Settings
from crossroads.tools.retrievers import MultiRetriever, Retriever

__all__ = [
    "LOCAL_BACKENDS",
    "NETWORK_BACKENDS",
    "SearchFactory",
    "SearchSetup",
    "make_retriever",
    "make_search",
]

LOCAL_BACKENDS = frozenset({"local", "zim"})
"""Backends that read files on this machine."""
NETWORK_BACKENDS = frozenset({"wikipedia", "tavily"})
"""Backends that need the network; never used offline."""

INDEX_DIR_NAME = "index"

SKIP_NO_INDEX = "no local index yet in {directory} (build one with `crossroads index PATH`)"
SKIP_NO_ZIM = "no ZIM file configured (set CROSSROADS_ZIM or Settings(zim_path=...))"
SKIP_NO_TAVILY_KEY = "no Tavily API key (set TAVILY_API_KEY)"
SKIP_OFFLINE = "offline mode searches only files on this machine"
NOTHING_USABLE = "No search backend can be used: {notes}."

# Retries per backend after a transient failure, and the first backoff delay (seconds). One
# retry absorbs a blip without doubling the wait on a backend that is really down.
SEARCH_RETRIES = 1
SEARCH_BACKOFF = 0.2
# Shared retrievers kept at most (distinct index directories, ZIM files, Tavily keys).
_SHARED_LIMIT = 16

_T = TypeVar("_T")


@dataclass(frozen=True)
class SearchSetup:
    """The retriever to search with, and the configured backends that were left out.

    Attributes:
        retriever: The usable backends combined, or ``None`` when none can be used.
        skipped: ``(backend, why)`` for each configured backend that was left out.
    """

    retriever: MultiRetriever | None
    skipped: tuple[tuple[str, str], ...] = ()


SearchFactory = Callable[[Settings], "SearchSetup | MultiRetriever | Retriever"]
"""What the research graph calls to get its retriever for a run's settings."""


_shared_lock = threading.Lock()
_shared: dict[Hashable, Any] = {}


def _shared_instance(key: Hashable, build: Callable[[], _T]) -> _T:
    """One instance per ``key`` for the whole process (oldest dropped beyond the limit)."""
    with _shared_lock:
        if key in _shared:
            found: _T = _shared[key]
            return found
    instance = build()  # outside the lock: opening a ZIM file may take a moment
    with _shared_lock:
        instance = _shared.setdefault(key, instance)
        while len(_shared) > _SHARED_LIMIT:
            del _shared[next(iter(_shared))]
    return instance


def make_search(
    settings: Settings,
    *,
    wikipedia_api_url: str | None = None,
    tavily_base_url: str | None = None,
) -> SearchSetup:
    """Build the backends named in ``settings.search_backends`` that can be used now.

    Args:
        settings: The run's settings (backends, ZIM path, timeout, Tavily key, data dir).
        wikipedia_api_url: MediaWiki ``.../w/api.php`` endpoint instead of Wikipedia's own
            (a mirror, or a stub server in tests).
        tavily_base_url: Tavily API root instead of ``https://api.tavily.com``.

    Returns:
        The combined retriever (``None`` when no backend is usable) and what was skipped.
    """
    offline = not settings.has_model
    backends: list[Retriever] = []
    skipped: list[tuple[str, str]] = []
    for name in dict.fromkeys(settings.search_backends):  # keep order, drop repeats
        if offline and name in NETWORK_BACKENDS:
            skipped.append((name, SKIP_OFFLINE))
            continue
        try:
            backend = _build_backend(name, settings, wikipedia_api_url, tavily_base_url)
        except ConfigurationError as why:
            skipped.append((name, str(why)))
            continue
        backends.append(backend)
    if not backends:
        return SearchSetup(retriever=None, skipped=tuple(skipped))
    retriever = MultiRetriever(backends, retries=SEARCH_RETRIES, backoff=SEARCH_BACKOFF)
    return SearchSetup(retriever=retriever, skipped=tuple(skipped))


def make_retriever(settings: Settings) -> MultiRetriever:
    """The configured backends as one retriever (see :func:`make_search`).

    Raises:
        ConfigurationError: If no configured backend can be used; the message says why for
            each of them.
    """
    setup = make_search(settings)
    if setup.retriever is None:
        notes = "; ".join(f"{name}: {why}" for name, why in setup.skipped) or "none configured"
        raise ConfigurationError(NOTHING_USABLE.format(notes=notes))
    return setup.retriever


def _build_backend(
    name: str,
    settings: Settings,
    wikipedia_api_url: str | None,
    tavily_base_url: str | None,
) -> Retriever:
    """One backend, or :class:`ConfigurationError` saying what it lacks.

    Each backend's module is imported here, when a request first searches it.
    """
    if name == "local":
        from crossroads.tools.retrievers.local_index import LocalIndex

        directory = (settings.data_dir / INDEX_DIR_NAME).expanduser().resolve()
        index = _shared_instance(("local", directory), lambda: LocalIndex(directory))
        if not index.exists():
            raise ConfigurationError(SKIP_NO_INDEX.format(directory=directory))
        return index
    if name == "zim":
        if settings.zim_path is None:
            raise ConfigurationError(SKIP_NO_ZIM)
        path = Path(settings.zim_path).expanduser().resolve()
        from crossroads.tools.retrievers.zim import ZimRetriever

        return _shared_instance(("zim", path), lambda: ZimRetriever(path))
    if name == "wikipedia":
        from crossroads.tools.retrievers.wikipedia_backend import WikipediaRetriever

        return WikipediaRetriever(timeout=settings.search_timeout, api_url=wikipedia_api_url)
    if name == "tavily":
        key = (settings.tavily_api_key or "").strip()
        if not key:
            raise ConfigurationError(SKIP_NO_TAVILY_KEY)
        timeout = settings.search_timeout
        from crossroads.tools.retrievers.tavily_backend import TavilyRetriever

        return _shared_instance(
            ("tavily", key, timeout, tavily_base_url),
            lambda: TavilyRetriever(api_key=key, timeout=timeout, base_url=tavily_base_url),
        )
    # Settings validates names, so this is a programming error, not a user's.
    raise ValueError(f"unknown search backend {name!r}")
