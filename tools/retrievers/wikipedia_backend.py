"""Wikipedia search through the ``wikipedia`` package, with a timeout that really holds.

The ``wikipedia`` package (1.4) is convenient but has two traps:

* it calls ``requests.get(API_URL, params=..., headers=...)`` with **no timeout**, so a stalled
  server hangs the caller for as long as the socket stays open (minutes);
* its endpoint (``API_URL``) and its ``@cache`` on ``search``/``summary`` are module globals,
  so changing them for one caller changes them for every thread and every other user.

What this module patches, once, and why it is safe: the name ``requests`` inside the module
``wikipedia.wikipedia`` is replaced by :class:`_TimeoutInjectingRequests`, a stand-in that
forwards every attribute to the real ``requests`` module. Only its ``get`` differs, and only
while a :class:`WikipediaRetriever` call is running in the current thread or task (a
:class:`~contextvars.ContextVar` says so): then it sends the request to that retriever's
endpoint, injects ``timeout=`` (the smaller of the per-request timeout and what is left of the
call's overall deadline), sets our User-Agent and raises on HTTP errors. Outside such a call it
calls ``requests.get`` exactly as the package asked, so other users of ``wikipedia`` see no
change. ``API_URL``, ``set_lang`` and the rate-limit globals are never touched, and the cached
``search`` is bypassed (``search.__wrapped__``) because its cache key ignores the endpoint.
The package parses disambiguation pages without naming a parser; its module's ``BeautifulSoup``
is replaced by one that names ``html.parser``, so it neither warns nor depends on what else is
installed.

The deadline is checked before each request and caps each request's socket timeout; a server
that trickles bytes slower than the read timeout but never pauses that long could still stretch
one request, which ``requests`` cannot prevent without a separate watchdog thread.

Usage::

    retriever = WikipediaRetriever(timeout=5.0)
    passages = retriever.search("Egyptian pyramids", k=3)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import requests
import wikipedia
import wikipedia.wikipedia as wikipedia_module
from bs4 import BeautifulSoup

from crossroads.retry import parse_retry_after
from crossroads.tools.retrievers.base import (
    BackendUnavailable,
    Passage,
    RateLimited,
    RetrievalError,
    RetrievalTimeout,
    trim_to_relevant,
)

__all__ = ["WikipediaRetriever"]

BACKEND_NAME = "wikipedia"
USER_AGENT = "crossroads/0.1 (https://github.com/crossroads; research agent)"

ERROR_TIMEOUT = "Wikipedia did not answer within {timeout:g} s (endpoint {api_url})."
ERROR_UNREACHABLE = "Wikipedia could not be reached at {api_url}: {detail}"
ERROR_SERVER = "Wikipedia answered HTTP {status} ({api_url}); try again later."
ERROR_RATE_LIMITED = "Wikipedia is rate-limiting us (HTTP 429); wait before searching again."
ERROR_HTTP = "Wikipedia refused the request with HTTP {status} ({api_url})."
ERROR_NOT_JSON = "Wikipedia answered with something that is not JSON ({api_url})."
ERROR_UNEXPECTED_SHAPE = "Wikipedia's answer did not have the expected shape ({api_url}): {detail}"
ERROR_API = "Wikipedia reported an error: {detail}"
ERROR_BAD_TIMEOUT = "timeout must be a positive number of seconds, got {timeout!r}"

_T = TypeVar("_T")


@dataclass(frozen=True)
class _CallSettings:
    """What the stand-in ``requests.get`` applies during one retriever call."""

    api_url: str
    per_request_timeout: float
    deadline: float  # time.monotonic() value after which no new request may start


_ACTIVE_CALL: ContextVar[_CallSettings | None] = ContextVar(
    "crossroads_wikipedia_call", default=None
)


class _TimeoutInjectingRequests:
    """Stand-in for ``requests`` inside ``wikipedia.wikipedia`` (see the module docstring)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(requests, name)

    def get(self, url: str, params: Any = None, **kwargs: Any) -> requests.Response:
        settings = _ACTIVE_CALL.get()
        if settings is None:
            return requests.get(url, params=params, **kwargs)
        remaining = settings.deadline - time.monotonic()
        if remaining <= 0:
            # Several requests make one search; the deadline bounds them together.
            raise requests.Timeout("overall deadline reached before the next request")
        headers = dict(kwargs.pop("headers", None) or {})
        headers["User-Agent"] = USER_AGENT
        kwargs["timeout"] = min(settings.per_request_timeout, remaining)
        response = requests.get(settings.api_url, params=params, headers=headers, **kwargs)
        response.raise_for_status()
        return response


_install_lock = threading.Lock()

# The package parses disambiguation pages with ``BeautifulSoup(html)`` and no parser name, which
# warns (GuessedAtParserWarning) and may pick a different parser on another machine. Its module
# gets a BeautifulSoup that names the standard library's parser instead.
_NAMED_PARSER_SOUP = partial(BeautifulSoup, features="html.parser")


def _install_requests_stand_in() -> None:
    """Put the stand-in into ``wikipedia.wikipedia`` once; idempotent and thread-safe."""
    with _install_lock:
        if not isinstance(wikipedia_module.requests, _TimeoutInjectingRequests):
            wikipedia_module.requests = _TimeoutInjectingRequests()
        wikipedia_module.BeautifulSoup = _NAMED_PARSER_SOUP


def default_api_url(lang: str) -> str:
    """The MediaWiki API endpoint of the Wikipedia in language ``lang`` (``"en"``, ``"fr"``...)."""
    return f"https://{lang.strip().lower()}.wikipedia.org/w/api.php"


class WikipediaRetriever:
    """Searches Wikipedia and returns the relevant part of each matching article.

    One search costs one search request plus two requests per article (page info, then the
    plain-text extract); all of them together must finish within ``timeout`` seconds.

    Args:
        timeout: Seconds the whole search may take (and the limit for each request).
        lang: Wikipedia language prefix, used when ``api_url`` is not given.
        api_url: Full ``.../w/api.php`` endpoint, e.g. a mirror or a test stub.
        max_chars: Length limit of each passage's text (see ``trim_to_relevant``).

    Raises:
        ValueError: If ``timeout`` is not positive.
    """

    name = BACKEND_NAME

    def __init__(
        self,
        timeout: float = 5.0,
        lang: str = "en",
        api_url: str | None = None,
        *,
        max_chars: int = 1500,
    ) -> None:
        if not timeout > 0:
            raise ValueError(ERROR_BAD_TIMEOUT.format(timeout=timeout))
        self.timeout = float(timeout)
        self.api_url = api_url or default_api_url(lang)
        self.max_chars = max_chars
        _install_requests_stand_in()

    def search(self, query: str, k: int) -> list[Passage]:
        """Find up to ``k`` articles for ``query`` and return their relevant text.

        Articles that vanished between search and fetch are skipped; a disambiguation page is
        replaced by its first option not already in the results.

        Args:
            query: Search words, e.g. ``"Egyptian pyramids"``.
            k: Maximum number of passages.

        Returns:
            Passages best first; ``source`` is the article URL, ``score`` is ``1 / (1 + rank)``
            in Wikipedia's own ranking.

        Raises:
            RetrievalTimeout: The search did not finish within ``timeout``.
            RateLimited: Wikipedia answered HTTP 429.
            BackendUnavailable: Connection failed or the server answered 5xx.
            RetrievalError: Any other failure (bad answer, API error).
        """
        if k <= 0 or not query.strip():
            return []
        with self._call():
            titles: list[str] = self._guarded(
                lambda: wikipedia.search.__wrapped__(query, results=k)
            )
            passages: list[Passage] = []
            seen_titles = set(titles)
            for title in titles:
                if len(passages) >= k:
                    break
                page = self._guarded(partial(self._load_page, title, seen_titles))
                if page is None:
                    continue
                passages.append(
                    Passage(
                        title=page.title,
                        text=trim_to_relevant(page.content, query, self.max_chars),
                        source=page.url,
                        score=1.0 / (1 + len(passages)),
                        backend=BACKEND_NAME,
                    )
                )
        return passages

    @staticmethod
    def _load_page(title: str, seen_titles: set[str]) -> Any | None:
        """Load a page and its content; ``None`` if missing or an unusable disambiguation."""
        try:
            page = wikipedia.WikipediaPage(title, redirect=True)
        except wikipedia.PageError:
            return None
        except wikipedia.DisambiguationError as ambiguous:
            # Follow the first option we do not already have, once: a bounded, cheap guess.
            option = next((o for o in ambiguous.options if o not in seen_titles), None)
            if option is None:
                return None
            seen_titles.add(option)
            try:
                page = wikipedia.WikipediaPage(option, redirect=True)
            except (wikipedia.PageError, wikipedia.DisambiguationError):
                return None
        _ = page.content  # fetched now so that its request runs under the deadline
        return page

    @contextmanager
    def _call(self) -> Iterator[None]:
        settings = _CallSettings(
            api_url=self.api_url,
            per_request_timeout=self.timeout,
            deadline=time.monotonic() + self.timeout,
        )
        token = _ACTIVE_CALL.set(settings)
        try:
            yield
        finally:
            _ACTIVE_CALL.reset(token)

    def _guarded(self, action: Callable[[], _T]) -> _T:
        """Run ``action`` and translate every failure it can have into our typed errors."""
        api_url = self.api_url
        try:
            return action()
        except requests.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
            raise RetrievalTimeout(
                ERROR_TIMEOUT.format(timeout=self.timeout, api_url=api_url), backend=BACKEND_NAME
            ) from exc
        except requests.HTTPError as exc:
            raise _http_error(exc, api_url) from exc
        except requests.ConnectionError as exc:
            raise BackendUnavailable(
                ERROR_UNREACHABLE.format(api_url=api_url, detail=type(exc).__name__),
                backend=BACKEND_NAME,
            ) from exc
        except wikipedia.HTTPTimeoutError as exc:
            raise RetrievalTimeout(
                ERROR_TIMEOUT.format(timeout=self.timeout, api_url=api_url), backend=BACKEND_NAME
            ) from exc
        except wikipedia.WikipediaException as exc:
            raise RetrievalError(ERROR_API.format(detail=exc), backend=BACKEND_NAME) from exc
        except ValueError as exc:  # includes requests' JSONDecodeError
            raise RetrievalError(
                ERROR_NOT_JSON.format(api_url=api_url), backend=BACKEND_NAME
            ) from exc
        except (KeyError, IndexError, TypeError, AssertionError) as exc:
            # The package indexes straight into the JSON; a different shape surfaces as these.
            raise RetrievalError(
                ERROR_UNEXPECTED_SHAPE.format(api_url=api_url, detail=repr(exc)),
                backend=BACKEND_NAME,
            ) from exc


def _http_error(exc: requests.HTTPError, api_url: str) -> RetrievalError:
    status = exc.response.status_code if exc.response is not None else 0
    if status == 429:
        headers = exc.response.headers if exc.response is not None else {}
        return RateLimited(
            ERROR_RATE_LIMITED,
            backend=BACKEND_NAME,
            retry_after=parse_retry_after(headers.get("Retry-After")),
        )
    if status >= 500:
        return BackendUnavailable(
            ERROR_SERVER.format(status=status, api_url=api_url), backend=BACKEND_NAME
        )
    return RetrievalError(ERROR_HTTP.format(status=status, api_url=api_url), backend=BACKEND_NAME)
