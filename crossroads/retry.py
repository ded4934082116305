"""The one retry module: what is worth retrying, how long to wait, and who retries what.

Crossroads retries a model or search call only when another try can succeed, and never
sooner than the server asked. The loops are tenacity's; this module supplies the judgement:

* :func:`is_transient` says whether an exception is worth a retry;
* :func:`retry_after_seconds` reads how long the server asked us to wait, from a
  ``Retry-After`` header (seconds or an HTTP date, :func:`parse_retry_after`), Gemini's
  ``google.rpc.RetryInfo`` ``retryDelay`` (``"7s"``), Tavily's ``retry_after_seconds`` or a
  search backend's ``RateLimited.retry_after``;
* :class:`wait_retry_after` is a tenacity wait that never undercuts that hint: full-jitter
  exponential backoff, raised to the server's delay, capped;
* :func:`retrying` / :func:`async_retrying` build the bounded tenacity loops (attempts, the
  longest single wait, the time left) that the model caller and the retrievers run;
* :func:`node_retry_policy` is LangGraph's node-level ``RetryPolicy`` for non-LLM I/O.

Which layer retries what. A transient failure (rate limit, overload, timeout, dropped
connection) is retried at the lowest layer that can do it well, so retries never stack:

==========================  ============================================================
layer                       retries
==========================  ============================================================
provider clients            nothing: :mod:`crossroads.models` sets ``max_retries=0``
``ModelCaller`` (per call)  model calls (:func:`async_retrying`): jittered backoff that
                            never undercuts the server's ``Retry-After``/``retryDelay``,
                            inside the request's budgets, then the role's fallback models
``MultiRetriever``          each search backend's typed ``RetrievalError`` failures
                            (``RetrievalTimeout``, ``BackendUnavailable``, ``RateLimited``,
                            :func:`retrying`); a backend that still fails is *reported*,
                            not raised
node ``RetryPolicy``        what escapes both: a raw transient exception from non-LLM I/O
                            in a node, such as a custom retriever (``search_factory``) that
                            raises ``requests.ConnectionError`` or ``httpx.ReadTimeout``
                            instead of a ``RetrievalError``
PostgreSQL store setup      only the migration race of two processes creating the same
                            new store (``UniqueViolation``), :mod:`crossroads.checkpoints`
==========================  ============================================================

A server that asks for a longer wait than the layer's longest (``cap``) gets no retry at
that layer: coming back earlier than asked would only fail again, so the model caller moves
on to the fallback models and a retriever reports the backend.

Why not a ``RetryPolicy`` on nodes that call a model: a policy re-runs the whole node, so
the calls that already succeeded in it are made (and paid for) again, and it cannot honour
``Retry-After``. Model calls are retried inside :class:`~crossroads.llm.ModelCaller`, and
their failures reach the graph as :class:`~crossroads.errors.CrossroadsError`, which
:func:`is_transient` judges lasting, so a policy on such a node would never fire anyway.
So the policy goes on nodes whose I/O is not a model call and whose re-run is cheap and
harmless: in the built-in graphs, the research agent's ``retrieve`` node
(:mod:`crossroads.graphs.researcher`). A failure that outlives it reaches
:class:`crossroads.Crossroads`, which ends the request with a clear ``error``.

How an exception is judged. The exception and then its causes are examined in turn
(``__cause__``, else ``__context__`` unless suppressed; at most
:data:`MAX_CHAIN_DEPTH` links), and the first one that gives a verdict decides:

1. an HTTP status found on it (``.status_code``, ``.code``, ``.status`` or
   ``.response.status_code``): transient exactly when it is one of
   :data:`TRANSIENT_HTTP_STATUSES`;
2. a known transient type: builtin ``TimeoutError``/``ConnectionError``; requests'
   ``ConnectionError``, ``Timeout``, ``ChunkedEncodingError``; httpx (and its fork
   httpx2) ``TimeoutException``, ``NetworkError``, ``RemoteProtocolError``, ``ProxyError``;
   aiohttp connection errors (the google-genai SDK uses aiohttp for async calls when it
   is installed); Tavily's ``TimeoutError`` and ``UsageLimitExceededError`` (its 429);
   a LangChain ``ModelError`` whose ``is_retryable`` is true;
3. a known lasting type: TLS/certificate failures, malformed URLs, Crossroads' own
   configuration, input and budget errors, and programming errors (``TypeError``,
   ``ValueError``, ``KeyError``...), so that a bug raised while handling a timeout is
   not retried just because the timeout is its implicit ``__context__``.

Anything else is not transient. What the real clients raise was checked against the
Gemini stub in ``tests/integration/test_gemini_stub.py``: ``ChatGoogleGenerativeAI``
raises ``GoogleRateLimitError`` (cause: ``google.genai.errors.ClientError`` 429) and
``GoogleAPIError`` (a ``ServerError`` 5xx) for HTTP errors, and lets ``httpx``/
``aiohttp``/``TimeoutError`` exceptions through unwrapped for timeouts and drops.

Typical use::

    fetch = retrying(attempts=3, base=0.5, cap=20.0)
    page = fetch(requests.get, url, timeout=10)   # retried on 429/5xx/drops, Retry-After kept
"""

from __future__ import annotations

import functools
import importlib
import math
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from langgraph.types import RetryPolicy
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from crossroads.errors import (
    BudgetExceeded,
    ConfigurationError,
    InputError,
    exception_chain,
)
from crossroads.settings import Settings

TRANSIENT_HTTP_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Statuses that mean "try again later": timeout, too early, rate limit, server trouble."""


RETRY_INFO_TYPE_SUFFIX = "google.rpc.RetryInfo"

ERROR_BAD_BASE = "retry wait: base must be a finite number of seconds >= 0, got {base!r}"
ERROR_BAD_CAP = "retry wait: cap must be a finite number of seconds >= base ({base!r}), got {cap!r}"
ERROR_BAD_ATTEMPTS = "retrying: attempts must be 1 or more, got {attempts!r}"

# Types whose verdict is "no" even when raised while handling a transient error.
_PROGRAMMING_ERRORS: tuple[type[BaseException], ...] = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    ImportError,
    LookupError,
    NameError,
    NotImplementedError,
    RecursionError,
    TypeError,
    ValueError,
)
_CROSSROADS_LASTING: tuple[type[BaseException], ...] = (
    BudgetExceeded,
    ConfigurationError,
    InputError,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)s\s*$")
_DELTA_SECONDS = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*$")


# --------------------------------------------------------------------------- library types


def _optional_module(name: str) -> Any:
    """Import ``name`` if installed; the classifier must work with any subset of clients."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _attributes(module: Any, names: tuple[str, ...]) -> list[type[BaseException]]:
    if module is None:
        return []
    found = (getattr(module, name, None) for name in names)
    return [cls for cls in found if isinstance(cls, type) and issubclass(cls, BaseException)]


@functools.cache
def _transient_types() -> tuple[type[BaseException], ...]:
    """Exception types that are transient whatever their message (loaded once, lazily)."""
    types: list[type[BaseException]] = [TimeoutError, ConnectionError]
    types += _attributes(
        _optional_module("requests.exceptions"),
        ("ConnectionError", "Timeout", "ChunkedEncodingError"),
    )
    for name in ("httpx", "httpx2"):
        types += _attributes(
            _optional_module(name),
            ("TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError"),
        )
    types += _attributes(
        _optional_module("aiohttp"),
        ("ClientConnectionError", "ClientPayloadError", "ServerTimeoutError"),
    )
    types += _attributes(
        _optional_module("tavily.errors"), ("TimeoutError", "UsageLimitExceededError")
    )
    return tuple(types)


@functools.cache
def _lasting_types() -> tuple[type[BaseException], ...]:
    """Types that look like network trouble but a retry cannot fix (TLS, bad URL, protocol)."""
    types: list[type[BaseException]] = []
    types += _attributes(_optional_module("requests.exceptions"), ("SSLError",))
    for name in ("httpx", "httpx2"):
        types += _attributes(_optional_module(name), ("UnsupportedProtocol", "LocalProtocolError"))
    types += _attributes(_optional_module("aiohttp"), ("ClientSSLError", "InvalidURL"))
    return tuple(types)


@functools.cache
def _retryable_model_error_type() -> type[BaseException] | None:
    """LangChain's ``ModelError``, whose subclasses say ``is_retryable`` themselves."""
    module = _optional_module("langchain_core.exceptions")
    found = _attributes(module, ("ModelError",))
    return found[0] if found else None


# --------------------------------------------------------------------------- chain


def _as_status(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    return None


def http_status(exc: BaseException) -> int | None:
    """The HTTP status carried by one exception (not its causes), if any.

    Looks at ``.status_code``, ``.status``, ``.code`` and the same names on
    ``.response``; only integers from 100 to 599 count, so gRPC status names
    (``"RESOURCE_EXHAUSTED"``) and other kinds of codes are ignored.

    Args:
        exc: The exception to inspect.

    Returns:
        The status code, or ``None`` when the exception carries none.
    """
    for holder in (exc, getattr(exc, "response", None)):
        if holder is None:
            continue
        # ``status`` before ``code``: aiohttp deprecates ``code``; Google's string
        # ``status`` ("UNAVAILABLE") is skipped by the integer check.
        for name in ("status_code", "status", "code"):
            try:
                status = _as_status(getattr(holder, name, None))
            except Exception:  # a response object may raise on attribute access
                status = None
            if status is not None:
                return status
    return None


def _verdict(exc: BaseException) -> bool | None:
    """Whether this one exception decides transient (True), lasting (False), or neither."""
    if not isinstance(exc, Exception):  # KeyboardInterrupt, CancelledError, SystemExit
        return False
    if isinstance(exc, _lasting_types()):
        return False
    status = http_status(exc)
    if status is not None:
        return status in TRANSIENT_HTTP_STATUSES
    if isinstance(exc, _transient_types()):
        return True
    model_error = _retryable_model_error_type()
    if (
        model_error is not None
        and isinstance(exc, model_error)
        and getattr(exc, "is_retryable", False)
    ):
        return True
    if isinstance(exc, _CROSSROADS_LASTING + _PROGRAMMING_ERRORS):
        return False
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the call that raised ``exc`` may succeed.

    Rate limits, server overload (HTTP 408/425/429/500/502/503/504), timeouts and
    dropped connections are transient; bad requests, bad keys, bad URLs, TLS failures
    and programming errors are not. The module docstring lists the rules.

    Args:
        exc: The exception a provider, search backend or HTTP client raised, possibly
            wrapped by LangChain or Crossroads (causes are followed).

    Returns:
        True when another attempt could succeed.
    """
    for link in exception_chain(exc):
        verdict = _verdict(link)
        if verdict is not None:
            return verdict
    return False


# --------------------------------------------------------------------------- retry-after


def _finite_non_negative(value: float) -> float | None:
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header value: delta seconds or an HTTP date.

    Args:
        value: The header value, e.g. ``"7"``, ``"1.5"`` or
            ``"Wed, 21 Oct 2015 07:28:00 GMT"``; ``None`` when the header is absent.
        now: The current time, for dates (default: the real current time, UTC).

    Returns:
        Seconds to wait (0.0 for a date in the past), or ``None`` when absent or unparseable.
    """
    if value is None:
        return None
    if match := _DELTA_SECONDS.match(value):
        return _finite_non_negative(float(match.group(1)))
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means "-0000"
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    if current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    return max(0.0, (when - current).total_seconds())


def parse_duration(value: Any) -> float | None:
    """Parse a protobuf ``Duration`` in its JSON form (``"7s"``, ``"1.5s"``) or dict form.

    Args:
        value: ``"7s"`` / ``"0.250s"``, or ``{"seconds": 7, "nanos": 5e8}``.

    Returns:
        Seconds, or ``None`` when ``value`` is not a duration.
    """
    if isinstance(value, str):
        match = _DURATION.match(value)
        return _finite_non_negative(float(match.group(1))) if match else None
    if isinstance(value, Mapping):
        seconds, nanos = value.get("seconds", 0), value.get("nanos", 0)
        try:
            return _finite_non_negative(float(seconds) + float(nanos) / 1e9)
        except (TypeError, ValueError):
            return None
    return None


def _header(headers: Any, name: str) -> str | None:
    """Read a header from httpx, requests, aiohttp or plain-dict headers."""
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    for key in (name, name.lower()):  # plain dicts are case-sensitive
        try:
            value = getter(key)
        except Exception:
            return None
        if isinstance(value, str):
            return value
    return None


def _retry_info_delays(details: Any) -> Iterator[float]:
    """RetryInfo delays in a Google error body (``{"error": {"details": [...]}}``)."""
    if isinstance(details, Mapping) and isinstance(details.get("error"), Mapping):
        details = details["error"].get("details")
    if not isinstance(details, list):
        return
    for item in details:
        if not isinstance(item, Mapping):
            continue
        type_url = item.get("@type")
        if isinstance(type_url, str) and type_url.endswith(RETRY_INFO_TYPE_SUFFIX):
            delay = parse_duration(item.get("retryDelay"))
            if delay is not None:
                yield delay


def _retry_hints(exc: BaseException, now: datetime | None) -> Iterator[float]:
    """Every wait hint carried by one exception."""
    # Tavily's keyless limits say ``retry_after_seconds``; our ``RateLimited`` ``retry_after``.
    for name in ("retry_after_seconds", "retry_after"):
        explicit = getattr(exc, name, None)
        if isinstance(explicit, int | float) and not isinstance(explicit, bool):
            checked = _finite_non_negative(float(explicit))
            if checked is not None:
                yield checked
    response = getattr(exc, "response", None)
    for headers in (getattr(exc, "headers", None), getattr(response, "headers", None)):
        value = _header(headers, "Retry-After") if headers is not None else None
        parsed = parse_retry_after(value, now=now) if value is not None else None
        if parsed is not None:
            yield parsed
    yield from _retry_info_delays(getattr(exc, "details", None))


def retry_after_seconds(exc: BaseException, *, now: datetime | None = None) -> float | None:
    """How long the server asked the client to wait before retrying, if it said so.

    Reads, on the exception and its causes: a ``Retry-After`` header on ``.headers``
    or ``.response.headers`` (seconds or HTTP date), Gemini's ``google.rpc.RetryInfo``
    ``retryDelay`` in ``.details`` (``google.genai.errors.APIError``), and a numeric
    ``.retry_after_seconds`` (Tavily) or ``.retry_after`` (a search backend's
    :class:`~crossroads.tools.retrievers.base.RateLimited`) attribute. When several are
    present the longest wins, so we never come back earlier than any of them asked.

    Args:
        exc: The exception to inspect (wrappers are followed to their causes).
        now: The current time, used only for HTTP-date headers (default: now, UTC).

    Returns:
        Seconds to wait, or ``None`` when no hint is present.
    """
    hints = [hint for link in exception_chain(exc) for hint in _retry_hints(link, now)]
    return max(hints) if hints else None


# --------------------------------------------------------------------------- tenacity


class wait_retry_after(wait_base):
    """Full-jitter exponential backoff that never undercuts the server's requested delay.

    Before retry ``n`` (1 for the first) the wait is drawn uniformly from
    ``[0, min(cap, base * 2**(n-1))]`` (tenacity's ``wait_random_exponential``, which spreads
    clients out better than a fixed schedule), then raised to :func:`retry_after_seconds` of
    the failure when the server said how long to wait, and capped at ``cap``. A caller that
    must honour a longer hint than ``cap`` should not retry at all (:func:`retrying` does not).

    Args:
        base: Ceiling of the first draw, in seconds (>= 0).
        cap: Upper bound on any wait, in seconds (>= base).

    Raises:
        ValueError: When ``base`` is negative or not finite, or ``cap`` is below ``base``.
    """

    def __init__(self, base: float = 0.5, cap: float = 20.0) -> None:
        if not (math.isfinite(base) and base >= 0):
            raise ValueError(ERROR_BAD_BASE.format(base=base))
        if not (math.isfinite(cap) and cap >= base):
            raise ValueError(ERROR_BAD_CAP.format(base=base, cap=cap))
        self.cap = cap
        self._backoff = wait_random_exponential(multiplier=base, max=cap)

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = self._backoff(retry_state)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        hint = retry_after_seconds(error) if error is not None else None
        if hint is not None:
            delay = max(delay, hint)
        return min(delay, self.cap)


class stop_when_out_of_time(stop_base):
    """Stop when the coming wait would use up the time left (``seconds_left()``).

    Sleeping through the rest of a budget only to fail then is worse than failing now.
    """

    def __init__(self, seconds_left: Callable[[], float]) -> None:
        self.seconds_left = seconds_left

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep >= self.seconds_left()


def asks_too_long(error: BaseException, cap: float) -> bool:
    """Whether the server asked for a longer wait than ``cap`` (then a retry is pointless)."""
    hint = retry_after_seconds(error)
    return hint is not None and hint > cap


def _check_attempts(attempts: int) -> None:
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValueError(ERROR_BAD_ATTEMPTS.format(attempts=attempts))


def _options(
    attempts: int,
    base: float,
    cap: float,
    retry_on: Callable[[BaseException], bool],
    seconds_left: Callable[[], float] | None,
) -> dict[str, Any]:
    _check_attempts(attempts)
    stop: stop_base = stop_after_attempt(attempts)
    if seconds_left is not None:
        stop = stop | stop_when_out_of_time(seconds_left)
    return {
        "stop": stop,
        "wait": wait_retry_after(base, cap),
        "retry": retry_if_exception(
            lambda error: retry_on(error) and not asks_too_long(error, cap)
        ),
        "reraise": True,
    }


def retrying(
    *,
    attempts: int,
    base: float = 0.5,
    cap: float = 20.0,
    retry_on: Callable[[BaseException], bool] = is_transient,
    seconds_left: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Retrying:
    """A bounded tenacity loop for blocking calls: ``retrying(...)(fn, *args)``.

    Args:
        attempts: Tries in all, the first included (>= 1).
        base: Ceiling of the first jittered wait, in seconds (see :class:`wait_retry_after`).
        cap: Longest single wait; a server asking for more gets no retry.
        retry_on: Which failures are worth another try (default :func:`is_transient`).
        seconds_left: Time left in the caller's budget; no wait may use it up.
        sleep: Function used to wait (default ``time.sleep``; tests pass a recorder).

    Returns:
        A ``tenacity.Retrying`` that re-raises the last failure unchanged when it gives up.
    """
    options = _options(attempts, base, cap, retry_on, seconds_left)
    return Retrying(**options) if sleep is None else Retrying(sleep=sleep, **options)


def async_retrying(
    *,
    attempts: int,
    base: float = 0.5,
    cap: float = 20.0,
    retry_on: Callable[[BaseException], bool] = is_transient,
    seconds_left: Callable[[], float] | None = None,
) -> FirstTryInline:
    """:func:`retrying` for coroutines: ``await async_retrying(...)(coroutine_fn, *args)``.

    The first attempt runs outside tenacity's loop (see :class:`FirstTryInline`)."""
    _check_attempts(attempts)
    return FirstTryInline(functools.partial(_options, attempts, base, cap, retry_on, seconds_left))


class FirstTryInline:
    """An ``AsyncRetrying`` whose first attempt is a plain ``await``.

    Nearly every model call succeeds at once, and tenacity's loop costs its bookkeeping
    even then (2–3% of a zero-latency request; ``benchmarks/RESULTS.md``, issue 19). A
    first failure is handed to a real ``AsyncRetrying`` as its attempt 1, so whether to
    retry, how long to wait, when to stop and what is re-raised are all tenacity's, as if
    the loop had run from the start. A ``BaseException`` that is not an ``Exception``
    (cancellation) propagates at once, unretried. The loop's options (stop, wait and retry
    strategies) are built only then, by ``options``.
    """

    def __init__(self, options: Callable[[], dict[str, Any]]) -> None:
        self._options = options

    async def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except Exception as error:
            first: Exception | None = error

        async def attempt(*args: Any, **kwargs: Any) -> Any:
            nonlocal first
            if first is not None:
                failed, first = first, None
                raise failed
            return await fn(*args, **kwargs)

        return await AsyncRetrying(**self._options())(attempt, *args, **kwargs)


# --------------------------------------------------------------------------- graph nodes

MAX_NODE_ATTEMPTS = 4
"""Attempts of one node at most (the first included), whatever ``model_retries`` says."""

FIRST_RETRY_INTERVAL_S = 0.5
"""Wait before the first retry; doubled for each later one (LangGraph adds up to 1 s of
jitter to every wait)."""

MAX_RETRY_INTERVAL_S = 4.0
"""Longest wait between two attempts, before jitter."""


def node_retry_policy(settings: Settings | None = None) -> RetryPolicy:
    """The ``RetryPolicy`` for nodes that do non-LLM I/O.

    Typical use, in a graph builder::

        graph.add_node("fetch", guarded("mine", "fetch", fetch), retry_policy=node_retry_policy())

    Args:
        settings: Supplies ``model_retries``, Crossroads' number of retries of a transient
            failure (default: ``Settings()``). A policy is fixed when the graph is built,
            before any run's settings are known, so the built-in graphs use the default
            (3 attempts) whatever a run's ``model_retries`` says.

    Returns:
        A policy that retries only transient failures (:func:`is_transient`), at most
        ``min(settings.model_retries + 1, MAX_NODE_ATTEMPTS)`` attempts in all, with
        jittered exponential backoff; ``model_retries=0`` means a single attempt. Its
        ``retry_on``, unlike LangGraph's default, knows requests' ``ConnectionError``/
        ``Timeout``, httpx's and aiohttp's network errors and HTTP 429.
    """
    chosen = settings if settings is not None else Settings()
    attempts = max(1, min(chosen.model_retries + 1, MAX_NODE_ATTEMPTS))
    return RetryPolicy(
        initial_interval=FIRST_RETRY_INTERVAL_S,
        backoff_factor=2.0,
        max_interval=MAX_RETRY_INTERVAL_S,
        max_attempts=attempts,
        jitter=True,
        retry_on=is_transient,
    )
