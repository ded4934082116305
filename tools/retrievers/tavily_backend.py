"""Web search through Tavily's official client (``tavily-python``), with our own timeout.

``TavilyClient`` (0.8.x) posts JSON to ``{api_base_url}/search`` through a ``requests.Session``
with a default timeout of 60 s. We pass our own shorter ``timeout`` on every call, point the
client at ``base_url`` when given (a proxy, or a stub in tests), and give it a session of our
own so that a response hook can remember the ``Retry-After`` header of a 429: the client's
``UsageLimitExceededError`` does not carry it.

The client's exceptions are translated into Crossroads' typed errors. Its ``TimeoutError`` is
*not* the builtin one, so it would slip past ``except TimeoutError``; it becomes
:class:`RetrievalTimeout` here.

Usage::

    with TavilyRetriever(api_key="tvly-...") as retriever:
        passages = retriever.search("Egyptian pyramids", k=5)
"""

from __future__ import annotations

import threading
import types
from typing import Any

import requests
from tavily import TavilyClient
from tavily import errors as tavily_errors

from crossroads.errors import ConfigurationError
from crossroads.retry import parse_retry_after
from crossroads.tools.retrievers.base import (
    BackendUnavailable,
    Passage,
    RateLimited,
    RetrievalError,
    RetrievalTimeout,
    trim_to_relevant,
)

__all__ = ["TavilyRetriever"]

BACKEND_NAME = "tavily"

ERROR_MISSING_KEY = "Tavily needs an API key: set TAVILY_API_KEY (get one at tavily.com)."
ERROR_BAD_TIMEOUT = "timeout must be a positive number of seconds, got {timeout!r}"
ERROR_TIMEOUT = "Tavily did not answer within {timeout:g} s."
ERROR_BAD_KEY = "Tavily rejected the API key (HTTP 401): check TAVILY_API_KEY."
ERROR_FORBIDDEN = "Tavily refused the request (HTTP 403): {detail}"
ERROR_BAD_REQUEST = "Tavily rejected the request as invalid (HTTP 400): {detail}"
ERROR_RATE_LIMITED = "Tavily's rate or usage limit was hit (HTTP 429){wait}: {detail}"
ERROR_SERVER = "Tavily answered HTTP {status}; try again later."
ERROR_HTTP = "Tavily answered HTTP {status}."
ERROR_UNREACHABLE = "Tavily could not be reached at {base_url}: {detail}"
ERROR_NOT_JSON = "Tavily answered with something that is not the expected JSON: {detail}"

# Tavily caps a request at 120 s anyway; anything above that is a typo.
_MAX_TIMEOUT = 120.0


class TavilyRetriever:
    """Searches the web with Tavily and returns each result's content as a passage.

    Args:
        api_key: Tavily API key (``tvly-...``). Read from the environment by ``crossroads``
            settings, never here.
        timeout: Seconds one search may take (Tavily's client would wait 60 s).
        base_url: API root instead of ``https://api.tavily.com``.
        search_depth: Tavily's ``search_depth`` (``"basic"`` costs one credit).
        max_chars: Length limit of each passage's text.

    Raises:
        ConfigurationError: If ``api_key`` is empty.
        ValueError: If ``timeout`` is not positive.
    """

    name = BACKEND_NAME

    def __init__(
        self,
        api_key: str,
        timeout: float = 8.0,
        base_url: str | None = None,
        *,
        search_depth: str = "basic",
        max_chars: int = 1500,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ConfigurationError(ERROR_MISSING_KEY)
        if not timeout > 0:
            raise ValueError(ERROR_BAD_TIMEOUT.format(timeout=timeout))
        self.timeout = min(float(timeout), _MAX_TIMEOUT)
        self.search_depth = search_depth
        self.max_chars = max_chars
        self._last_retry_after = threading.local()
        self._session = requests.Session()
        self._session.hooks["response"].append(self._remember_retry_after)
        self._client = TavilyClient(
            api_key=api_key.strip(), api_base_url=base_url, session=self._session
        )
        self.base_url = self._client.base_url

    def search(self, query: str, k: int) -> list[Passage]:
        """Search the web for ``query``.

        Args:
            query: Search words.
            k: Maximum number of passages (Tavily's ``max_results``).

        Returns:
            Passages in Tavily's order; ``score`` is Tavily's relevance score, ``source`` the URL.

        Raises:
            RetrievalTimeout: No answer within ``timeout``.
            RateLimited: HTTP 429; ``retry_after`` holds the server's ``Retry-After`` if sent.
            BackendUnavailable: Connection failed or Tavily answered 5xx.
            RetrievalError: Bad key (401), forbidden (403), bad request (400), bad answer.
        """
        if k <= 0 or not query.strip():
            return []
        self._last_retry_after.value = None
        try:
            answer = self._client.search(
                query,
                max_results=k,
                search_depth=self.search_depth,
                include_answer=False,
                timeout=self.timeout,
            )
        except tavily_errors.TimeoutError as exc:
            raise RetrievalTimeout(
                ERROR_TIMEOUT.format(timeout=self.timeout), backend=BACKEND_NAME
            ) from exc
        except requests.Timeout as exc:  # a timeout outside the client's own try block
            raise RetrievalTimeout(
                ERROR_TIMEOUT.format(timeout=self.timeout), backend=BACKEND_NAME
            ) from exc
        except tavily_errors.UsageLimitExceededError as exc:
            retry_after: float | None = getattr(self._last_retry_after, "value", None)
            if retry_after is None and isinstance(exc, tavily_errors.TavilyKeylessLimitError):
                retry_after = exc.retry_after_seconds
            wait = f", retry after {retry_after:g} s" if retry_after is not None else ""
            raise RateLimited(
                ERROR_RATE_LIMITED.format(wait=wait, detail=exc or "no detail"),
                backend=BACKEND_NAME,
                retry_after=retry_after,
            ) from exc
        except tavily_errors.InvalidAPIKeyError as exc:
            raise RetrievalError(ERROR_BAD_KEY, backend=BACKEND_NAME) from exc
        except tavily_errors.ForbiddenError as exc:
            raise RetrievalError(
                ERROR_FORBIDDEN.format(detail=exc or "no detail"), backend=BACKEND_NAME
            ) from exc
        except tavily_errors.BadRequestError as exc:
            raise RetrievalError(
                ERROR_BAD_REQUEST.format(detail=exc or "no detail"), backend=BACKEND_NAME
            ) from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500:
                raise BackendUnavailable(
                    ERROR_SERVER.format(status=status), backend=BACKEND_NAME
                ) from exc
            raise RetrievalError(ERROR_HTTP.format(status=status), backend=BACKEND_NAME) from exc
        except requests.ConnectionError as exc:
            raise BackendUnavailable(
                ERROR_UNREACHABLE.format(base_url=self.base_url, detail=type(exc).__name__),
                backend=BACKEND_NAME,
            ) from exc
        except ValueError as exc:  # requests' JSONDecodeError on a 200 that is not JSON
            raise RetrievalError(ERROR_NOT_JSON.format(detail=exc), backend=BACKEND_NAME) from exc
        return self._to_passages(answer, query, k)

    def _to_passages(self, answer: Any, query: str, k: int) -> list[Passage]:
        try:
            results = answer["results"]
            passages = [
                Passage(
                    title=str(result.get("title") or result["url"]),
                    text=trim_to_relevant(str(result.get("content") or ""), query, self.max_chars),
                    source=str(result["url"]),
                    score=float(result.get("score") or 0.0),
                    backend=BACKEND_NAME,
                )
                for result in results[:k]
            ]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise RetrievalError(
                ERROR_NOT_JSON.format(detail=repr(exc)), backend=BACKEND_NAME
            ) from exc
        return [p for p in passages if p.text]

    def _remember_retry_after(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # A requests response hook: runs in the calling thread, hence the thread-local.
        if response.status_code == 429:
            self._last_retry_after.value = parse_retry_after(response.headers.get("Retry-After"))

    def close(self) -> None:
        """Close the HTTP session (connections are pooled between searches)."""
        self._session.close()

    def __enter__(self) -> TavilyRetriever:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.close()
