"""Search several retrievers as one, with bounded retries and per-backend failure reports.

:class:`MultiRetriever` asks each configured backend in order. A backend that fails with a
transient error (timeout, connection failure or 5xx, rate limit) is retried up to ``retries``
times after a short jittered exponential backoff that never undercuts the server's
``Retry-After`` (the tenacity loop of :func:`crossroads.retry.retrying`); a rate limit whose
``Retry-After`` is longer than ``max_delay`` is not retried (waiting that long inside a
question is worse than moving on).
A permanent error (bad key, no index) is not retried. Either way the other backends still run,
and the failure is reported in :attr:`SearchOutcome.failures` instead of being raised, so the
research agent can answer from what did work and say what did not.

Results are merged in backend order (each backend's own ranking inside), and a passage whose
source was already returned by an earlier backend is dropped.

Usage::

    multi = MultiRetriever([WikipediaRetriever(), LocalIndex(home / "index")])
    outcome = multi.search("Egyptian pyramids", k=3)
    outcome.passages, outcome.failures   # [...], [("wikipedia", "Wikipedia did not answer...")]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crossroads.errors import ConfigurationError, InputError
from crossroads.retry import retrying
from crossroads.tools.retrievers.base import (
    BackendUnavailable,
    Passage,
    RateLimited,
    RetrievalError,
    RetrievalTimeout,
    Retriever,
)

__all__ = ["MultiRetriever", "SearchOutcome"]

ERROR_NO_BACKENDS = (
    "No search backend is configured: enable Wikipedia, Tavily, a local index or a ZIM file."
)
ERROR_DUPLICATE_BACKEND = "Search backend {name!r} is configured twice."
ERROR_BAD_RETRIES = "retries must be between 0 and {limit}, got {retries}"
ERROR_EMPTY_QUERY = "The search query is empty."

# Hard ceiling on retries whatever the settings say: every loop is bounded.
MAX_RETRIES = 5
_TRANSIENT_ERRORS = (RetrievalTimeout, BackendUnavailable, RateLimited)


@dataclass(frozen=True)
class SearchOutcome:
    """What a :meth:`MultiRetriever.search` found, and which backends failed.

    Attributes:
        passages: Merged passages: backend order first, each backend's ranking within.
        failures: ``(backend name, message)`` for every backend that finally failed.
    """

    passages: list[Passage] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


class MultiRetriever:
    """Combines retrievers; retries transient failures; reports failures instead of raising.

    Args:
        backends: Retrievers in order of preference.
        retries: Extra attempts per backend after a transient failure (0 to 5).
        backoff: Ceiling of the first retry's wait, in seconds; doubled for each later one. The
            wait is drawn between 0 and the ceiling ("full jitter") so that parallel callers
            do not retry in lockstep, and is never shorter than a rate limit's ``retry_after``.
        max_delay: Longest wait before one retry, in seconds.
        stop_at_first: Stop after the first backend that returned passages (a fallback chain)
            instead of searching them all.
        sleep: Function used to wait; tests pass a recorder.

    Raises:
        ConfigurationError: If there is no backend or a backend name appears twice.
        ValueError: If ``retries`` is out of range.
    """

    def __init__(
        self,
        backends: Sequence[Retriever],
        retries: int = 1,
        backoff: float = 0.2,
        *,
        max_delay: float = 2.0,
        stop_at_first: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not backends:
            raise ConfigurationError(ERROR_NO_BACKENDS)
        names = [b.name for b in backends]
        for name in names:
            if names.count(name) > 1:
                raise ConfigurationError(ERROR_DUPLICATE_BACKEND.format(name=name))
        if not 0 <= retries <= MAX_RETRIES:
            raise ValueError(ERROR_BAD_RETRIES.format(limit=MAX_RETRIES, retries=retries))
        self.backends = list(backends)
        self.retries = retries
        self.backoff = max(0.0, backoff)
        self.max_delay = max(0.0, max_delay)
        self.stop_at_first = stop_at_first
        self._sleep = sleep

    @property
    def names(self) -> list[str]:
        """Names of the backends, in order."""
        return [b.name for b in self.backends]

    def search(self, query: str, k: int) -> SearchOutcome:
        """Search the backends for ``query``, up to ``k`` passages from each.

        Args:
            query: Search words.
            k: Maximum number of passages per backend.

        Returns:
            The merged passages and the failures; never raises for a backend failure.

        Raises:
            InputError: If ``query`` is empty.
        """
        if not query.strip():
            raise InputError(ERROR_EMPTY_QUERY)
        passages: list[Passage] = []
        failures: list[tuple[str, str]] = []
        seen_sources: set[str] = set()
        for backend in self.backends:
            try:
                found = self._search_with_retries(backend, query, k)
            except RetrievalError as exc:
                failures.append((backend.name, str(exc)))
                continue
            fresh = [
                p for p in sorted(found, key=lambda p: -p.score) if p.source not in seen_sources
            ]
            seen_sources.update(p.source for p in fresh)
            passages.extend(fresh)
            if self.stop_at_first and fresh:
                break
        return SearchOutcome(passages=passages, failures=failures)

    def _search_with_retries(self, backend: Retriever, query: str, k: int) -> list[Passage]:
        retry = retrying(
            attempts=self.retries + 1,
            base=min(self.backoff, self.max_delay),
            cap=self.max_delay,
            retry_on=lambda error: isinstance(error, _TRANSIENT_ERRORS),
            sleep=self._sleep,
        )
        found: list[Passage] = retry(backend.search, query, k)
        return found
