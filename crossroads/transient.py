"""Tell passing failures (rate limits, dropped connections, timeouts) from lasting ones.

Crossroads retries a model or search call only when another try can succeed. This
module answers that question for an exception, without any network access:

* :func:`is_transient` says whether an exception is worth a retry;
* :func:`retry_after_seconds` reads how long the server asked us to wait, from a
  ``Retry-After`` header (seconds or an HTTP date), Gemini's ``google.rpc.RetryInfo``
  ``retryDelay`` (``"7s"``) or Tavily's ``retry_after_seconds``;
* :func:`backoff_delay` turns an attempt number and that hint into a sleep.

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

    for attempt in range(max_tries):
        try:
            return call()
        except Exception as exc:
            if attempt + 1 == max_tries or not is_transient(exc):
                raise
            time.sleep(backoff_delay(attempt, retry_after=retry_after_seconds(exc)))
"""

from __future__ import annotations

import functools
import importlib
import math
import random
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from crossroads.errors import BudgetExceeded, ConfigurationError, InputError

TRANSIENT_HTTP_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Statuses that mean "try again later": timeout, too early, rate limit, server trouble."""

MAX_CHAIN_DEPTH = 8
"""How many exceptions of a ``__cause__``/``__context__`` chain are examined at most."""

RETRY_INFO_TYPE_SUFFIX = "google.rpc.RetryInfo"

ERROR_NEGATIVE_ATTEMPT = (
    "backoff_delay: attempt must be 0 or more (0 = before the first retry), got {attempt!r}"
)
ERROR_BAD_BASE = "backoff_delay: base must be a positive number of seconds, got {base!r}"
ERROR_BAD_CAP = (
    "backoff_delay: cap must be a finite number of seconds >= base ({base!r}), got {cap!r}"
)

# Beyond this many doublings every ceiling is the cap anyway; stopping here avoids
# float overflow for absurd attempt numbers.
_MAX_DOUBLINGS = 64

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


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` then its causes, as Python prints them; bounded and cycle-safe."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and len(seen) < MAX_CHAIN_DEPTH and id(current) not in seen:
        seen.add(id(current))
        yield current
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:
            current = None
        else:
            current = current.__context__


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
    for link in _exception_chain(exc):
        verdict = _verdict(link)
        if verdict is not None:
            return verdict
    return False


# --------------------------------------------------------------------------- retry-after


def _finite_non_negative(value: float) -> float | None:
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(value: str, *, now: datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header value: delta seconds or an HTTP date.

    Args:
        value: The header value, e.g. ``"7"``, ``"1.5"`` or
            ``"Wed, 21 Oct 2015 07:28:00 GMT"``.
        now: The current time, for dates (default: the real current time, UTC).

    Returns:
        Seconds to wait (0.0 for a date in the past), or ``None`` when unparseable.
    """
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
    explicit = getattr(exc, "retry_after_seconds", None)  # Tavily keyless limits
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
    ``.retry_after_seconds`` attribute (Tavily). When several are present the longest
    wins, so we never come back earlier than any of them asked.

    Args:
        exc: The exception to inspect (wrappers are followed to their causes).
        now: The current time, used only for HTTP-date headers (default: now, UTC).

    Returns:
        Seconds to wait, or ``None`` when no hint is present.
    """
    hints = [hint for link in _exception_chain(exc) for hint in _retry_hints(link, now)]
    return max(hints) if hints else None


# --------------------------------------------------------------------------- backoff

_default_rng = random.Random()


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 20.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to sleep before retry number ``attempt + 1`` ("full jitter" backoff).

    The delay is drawn uniformly from ``[0, min(cap, base * 2**attempt)]``, which
    spreads clients out better than a fixed exponential schedule. A server hint wins
    over the draw: the result is never shorter than ``retry_after``. Everything is
    capped at ``cap``; a caller that must honour a ``retry_after`` longer than
    ``cap`` should give up instead of retrying early.

    Args:
        attempt: 0 before the first retry, 1 before the second, and so on.
        base: Ceiling of the first draw, in seconds (> 0).
        cap: Upper bound on any delay, in seconds (>= base).
        retry_after: The server's requested wait (see :func:`retry_after_seconds`);
            ``None``, negative or non-finite values are ignored.
        rng: Source of randomness, for reproducible tests (default: a module RNG).

    Returns:
        The delay in seconds, between 0 and ``cap``.

    Raises:
        ValueError: When ``attempt`` is negative, ``base`` is not positive or
            ``cap`` is smaller than ``base``.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise ValueError(ERROR_NEGATIVE_ATTEMPT.format(attempt=attempt))
    if not (math.isfinite(base) and base > 0):
        raise ValueError(ERROR_BAD_BASE.format(base=base))
    if not (math.isfinite(cap) and cap >= base):
        raise ValueError(ERROR_BAD_CAP.format(base=base, cap=cap))
    ceiling = min(cap, base * 2.0 ** min(attempt, _MAX_DOUBLINGS))
    delay = (rng or _default_rng).uniform(0.0, ceiling)
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        delay = max(delay, retry_after)
    return min(delay, cap)
