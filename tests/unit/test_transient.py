"""Unit tests for crossroads.transient, on real exception objects from each client library."""

from __future__ import annotations

import asyncio
import io
import random
import urllib.error
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime
from typing import Any

import aiohttp
import httpx
import pytest
import requests
import tavily.errors as tavily_errors
from aiohttp.client_reqrep import ConnectionKey
from google.genai import errors as genai_errors
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.exceptions import ModelAuthenticationError, ModelConnectionError
from langchain_google_genai.chat_models import (
    ChatGoogleGenerativeAIError,
    GoogleAPIError,
    GoogleInvalidRequestError,
    GoogleRateLimitError,
)
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from crossroads.errors import BudgetExceeded, ModelError, RetrievalError, RetrievalTimeout
from crossroads.transient import (
    ERROR_BAD_BASE,
    ERROR_BAD_CAP,
    ERROR_NEGATIVE_ATTEMPT,
    MAX_CHAIN_DEPTH,
    backoff_delay,
    http_status,
    is_transient,
    parse_duration,
    parse_retry_after,
    retry_after_seconds,
)

FIXED_NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


# --------------------------------------------------------------------------- helpers


def google_error_body(code: int, status: str, retry_delay: str | None = None) -> dict[str, Any]:
    """The JSON body Gemini sends with an error (what ``APIError.details`` holds)."""
    error: dict[str, Any] = {"code": code, "message": "m", "status": status}
    if retry_delay is not None:
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
            {"@type": RETRY_INFO, "retryDelay": retry_delay},
        ]
    return {"error": error}


def genai_client_error(
    code: int, *, retry_delay: str | None = None, headers: dict[str, str] | None = None
) -> genai_errors.ClientError:
    response = httpx.Response(code, headers=headers or {})
    body = google_error_body(code, "RESOURCE_EXHAUSTED", retry_delay)
    return genai_errors.ClientError(code, body, response)


def wrapped(outer: BaseException, cause: BaseException) -> BaseException:
    """``outer`` raised ``from cause``, as a real ``raise ... from`` leaves it."""
    try:
        raise outer from cause
    except BaseException as caught:
        return caught


def raised_while_handling(outer: BaseException, context: BaseException) -> BaseException:
    """``outer`` raised inside ``except context`` (implicit ``__context__``)."""
    try:
        try:
            raise context
        except BaseException:
            raise outer  # noqa: B904 - the implicit context is what is under test
    except BaseException as caught:
        return caught


def requests_http_error(status: int, headers: dict[str, str] | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return requests.HTTPError(f"{status} error", response=response)


def httpx_status_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "https://api.example.test/v1")
    response = httpx.Response(status, headers=headers or {}, request=request)
    return httpx.HTTPStatusError(f"{status}", request=request, response=response)


def aiohttp_response_error(
    status: int, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponseError:
    request_info = aiohttp.RequestInfo(
        url=URL("https://api.example.test/v1"),
        method="POST",
        headers=CIMultiDictProxy(CIMultiDict()),
    )
    proxy = CIMultiDictProxy(CIMultiDict(headers or {}))
    return aiohttp.ClientResponseError(request_info, (), status=status, message="x", headers=proxy)


def aiohttp_ssl_error() -> aiohttp.ClientSSLError:
    key = ConnectionKey("api.example.test", 443, True, True, None, None, None, None)
    return aiohttp.ClientSSLError(key, OSError("handshake failed"))


def urllib_http_error(status: int, retry_after: str | None = None) -> urllib.error.HTTPError:
    headers = Message()
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return urllib.error.HTTPError("https://x.test", status, "err", headers, io.BytesIO(b""))


# --------------------------------------------------------------------------- is_transient


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(TimeoutError("slow"), id="builtin-timeout"),
        pytest.param(ConnectionResetError("reset"), id="builtin-connection-reset"),
        pytest.param(ConnectionRefusedError("refused"), id="builtin-connection-refused"),
        pytest.param(requests.ConnectionError("down"), id="requests-connection"),
        pytest.param(requests.ReadTimeout("slow"), id="requests-read-timeout"),
        pytest.param(requests.ConnectTimeout("slow"), id="requests-connect-timeout"),
        pytest.param(requests.exceptions.ChunkedEncodingError("cut"), id="requests-chunked"),
        pytest.param(httpx.ReadTimeout("slow"), id="httpx-read-timeout"),
        pytest.param(httpx.ConnectError("refused"), id="httpx-connect"),
        pytest.param(httpx.RemoteProtocolError("server hung up"), id="httpx-remote-protocol"),
        pytest.param(httpx.ReadError("reset"), id="httpx-read-error"),
        pytest.param(aiohttp.ServerDisconnectedError(), id="aiohttp-disconnected"),
        pytest.param(aiohttp.SocketTimeoutError(), id="aiohttp-socket-timeout"),
        pytest.param(aiohttp.ClientPayloadError("truncated"), id="aiohttp-payload"),
        pytest.param(tavily_errors.TimeoutError(10), id="tavily-timeout"),
        pytest.param(tavily_errors.UsageLimitExceededError("slow down"), id="tavily-429"),
        pytest.param(
            tavily_errors.TavilyKeylessLimitError("limit", code="rate", retry_after_seconds=3),
            id="tavily-keyless-limit",
        ),
        pytest.param(genai_client_error(429), id="genai-429"),
        pytest.param(genai_errors.ClientError(408, {}, None), id="genai-408"),
        pytest.param(genai_errors.ServerError(500, {}, None), id="genai-500"),
        pytest.param(genai_errors.ServerError(503, {}, None), id="genai-503"),
        pytest.param(GoogleAPIError(code=502, response_json={}), id="langchain-google-502"),
        pytest.param(
            wrapped(GoogleRateLimitError("rate"), genai_client_error(429)),
            id="langchain-google-rate-limit",
        ),
        pytest.param(ModelConnectionError("down"), id="langchain-model-connection"),
        pytest.param(requests_http_error(503), id="requests-http-503"),
        pytest.param(httpx_status_error(504), id="httpx-status-504"),
        pytest.param(aiohttp_response_error(425), id="aiohttp-status-425"),
        pytest.param(urllib_http_error(429), id="urllib-429"),
        pytest.param(RetrievalTimeout("wiki slow", backend="wikipedia"), id="crossroads-timeout"),
    ],
)
def test_transient_errors_are_recognised(exc: BaseException) -> None:
    assert is_transient(exc) is True


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(ValueError("bad"), id="value-error"),
        pytest.param(RuntimeError("unknown"), id="unclassified"),
        pytest.param(KeyboardInterrupt(), id="keyboard-interrupt"),
        pytest.param(asyncio.CancelledError(), id="cancelled"),
        pytest.param(requests.exceptions.SSLError("cert"), id="requests-ssl"),
        pytest.param(httpx.UnsupportedProtocol("ftp://"), id="httpx-unsupported-protocol"),
        pytest.param(httpx.LocalProtocolError("bad header"), id="httpx-local-protocol"),
        pytest.param(aiohttp_ssl_error(), id="aiohttp-ssl"),
        pytest.param(tavily_errors.InvalidAPIKeyError("key"), id="tavily-bad-key"),
        pytest.param(tavily_errors.BadRequestError("query"), id="tavily-bad-request"),
        pytest.param(genai_errors.ClientError(400, {}, None), id="genai-400"),
        pytest.param(genai_errors.ClientError(401, {}, None), id="genai-401"),
        pytest.param(genai_errors.ServerError(501, {}, None), id="genai-501"),
        pytest.param(genai_errors.UnknownApiResponseError("not json"), id="genai-bad-json"),
        pytest.param(
            wrapped(GoogleInvalidRequestError("bad"), genai_errors.ClientError(400, {}, None)),
            id="langchain-google-invalid",
        ),
        pytest.param(
            wrapped(ChatGoogleGenerativeAIError("bad"), genai_errors.ClientError(404, {}, None)),
            id="langchain-google-404",
        ),
        pytest.param(ModelAuthenticationError("key"), id="langchain-auth"),
        pytest.param(requests_http_error(404), id="requests-http-404"),
        pytest.param(httpx_status_error(401), id="httpx-status-401"),
        pytest.param(aiohttp_response_error(403), id="aiohttp-status-403"),
        pytest.param(urllib_http_error(400), id="urllib-400"),
        pytest.param(BudgetExceeded("out of calls"), id="crossroads-budget"),
    ],
)
def test_lasting_errors_are_not_transient(exc: BaseException) -> None:
    assert is_transient(exc) is False


def test_wrappers_are_judged_by_their_explicit_cause() -> None:
    assert is_transient(
        wrapped(ModelError("gemini failed"), genai_errors.ServerError(503, {}, None))
    )
    assert is_transient(wrapped(RetrievalError("wiki", backend="w"), requests.ReadTimeout("t")))
    assert not is_transient(
        wrapped(ModelError("gemini failed"), genai_errors.ClientError(400, {}, None))
    )


def test_implicit_context_counts_only_for_exceptions_without_a_verdict() -> None:
    # A plain wrapper raised while handling a timeout inherits the timeout's verdict...
    assert is_transient(raised_while_handling(RuntimeError("wrapper"), TimeoutError("t")))
    # ...but a bug or a spent budget raised in the same place must not be retried.
    assert not is_transient(raised_while_handling(KeyError("k"), TimeoutError("t")))
    assert not is_transient(raised_while_handling(BudgetExceeded("b"), genai_client_error(429)))


def test_from_none_hides_the_context() -> None:
    try:
        try:
            raise TimeoutError("t")
        except TimeoutError:
            raise RuntimeError("clean") from None
    except RuntimeError as exc:
        suppressed = exc
    assert not is_transient(suppressed)


def test_chain_walk_is_bounded_and_survives_cycles() -> None:
    near: BaseException = ConnectionError("deep")
    for level in range(MAX_CHAIN_DEPTH - 1):
        near = wrapped(RuntimeError(f"level {level}"), near)
    assert is_transient(near)  # cause at the last examined link still counts

    too_deep = wrapped(RuntimeError("one more"), near)
    assert not is_transient(too_deep)

    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert is_transient(first) is False


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (genai_errors.ClientError(429, {}, None), 429),
        (requests_http_error(502), 502),
        (httpx_status_error(503), 503),
        (aiohttp_response_error(504), 504),
        (urllib_http_error(408), 408),
        (tavily_errors.TavilyKeylessLimitError("l", code="rate_limited"), None),  # str code
        (requests.ConnectionError("no response"), None),
    ],
)
def test_http_status_reads_the_usual_attributes(exc: BaseException, expected: int | None) -> None:
    assert http_status(exc) == expected


def test_http_status_ignores_booleans_and_out_of_range_codes() -> None:
    class OddError(Exception):
        code = True
        status = 1000

    assert http_status(OddError()) is None
    assert is_transient(OddError()) is False


# --------------------------------------------------------------------------- retry_after


def test_retry_after_reads_gemini_retry_info_through_the_langchain_wrapper() -> None:
    rate_limit = wrapped(GoogleRateLimitError("429"), genai_client_error(429, retry_delay="1.5s"))
    assert retry_after_seconds(rate_limit) == pytest.approx(1.5)


def test_retry_after_prefers_the_longest_hint() -> None:
    exc = genai_client_error(429, retry_delay="12s", headers={"Retry-After": "7"})
    assert retry_after_seconds(exc) == pytest.approx(12.0)


@pytest.mark.parametrize(
    "exc",
    [
        requests_http_error(429, {"Retry-After": "7"}),
        httpx_status_error(503, {"retry-after": "7"}),
        aiohttp_response_error(429, {"Retry-After": "7"}),
        urllib_http_error(429, retry_after="7"),
        genai_client_error(429, headers={"Retry-After": "7"}),
        tavily_errors.TavilyKeylessLimitError("limit", retry_after_seconds=7),
    ],
)
def test_retry_after_reads_headers_of_each_client(exc: BaseException) -> None:
    assert retry_after_seconds(exc) == pytest.approx(7.0)


def test_retry_after_http_date() -> None:
    later = format_datetime(FIXED_NOW + timedelta(seconds=30), usegmt=True)
    exc = requests_http_error(503, {"Retry-After": later})
    assert retry_after_seconds(exc, now=FIXED_NOW) == pytest.approx(30.0)


def test_retry_after_is_none_without_a_hint() -> None:
    assert retry_after_seconds(genai_client_error(429)) is None
    assert retry_after_seconds(TimeoutError()) is None
    assert retry_after_seconds(requests_http_error(429, {"Retry-After": "soon"})) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-3", None),
        ("soon", None),
        ("", None),
        (format_datetime(FIXED_NOW - timedelta(minutes=5), usegmt=True), 0.0),  # past date
        ("Sat, 01 Mar 2025 12:01:00 GMT", 60.0),
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, now=FIXED_NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7s", 7.0),
        ("1.5s", 1.5),
        ("0.250s", 0.25),
        ({"seconds": 2, "nanos": 500_000_000}, 2.5),
        ("7", None),
        ("-1s", None),
        (7, None),
        ({"seconds": "x"}, None),
    ],
)
def test_parse_duration(value: Any, expected: float | None) -> None:
    assert parse_duration(value) == expected


# --------------------------------------------------------------------------- backoff


class UpperBoundRandom(random.Random):
    """Always draws the top of the range, to expose the ceiling of each attempt."""

    def uniform(self, a: float, b: float) -> float:
        return b


class LowerBoundRandom(random.Random):
    """Always draws the bottom of the range (zero), to expose the retry_after floor."""

    def uniform(self, a: float, b: float) -> float:
        return a


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(0, 0.5), (1, 1.0), (3, 4.0), (5, 16.0), (6, 20.0), (10_000, 20.0)]
)
def test_backoff_ceiling_doubles_then_caps(attempt: int, ceiling: float) -> None:
    assert backoff_delay(attempt, rng=UpperBoundRandom()) == pytest.approx(ceiling)


def test_backoff_is_jittered_over_the_whole_range() -> None:
    rng = random.Random(1234)
    draws = [backoff_delay(4, base=1.0, cap=100.0, rng=rng) for _ in range(500)]
    assert min(draws) < 2.0 and max(draws) > 14.0  # full jitter spans [0, 16]
    assert all(0.0 <= d <= 16.0 for d in draws)


def test_backoff_never_shorter_than_retry_after() -> None:
    assert backoff_delay(0, retry_after=7.0, rng=LowerBoundRandom()) == pytest.approx(7.0)


def test_backoff_is_capped_even_when_the_server_asks_for_more() -> None:
    assert backoff_delay(0, cap=20.0, retry_after=60.0, rng=LowerBoundRandom()) == 20.0


@pytest.mark.parametrize("retry_after", [-1.0, float("nan"), float("inf"), None])
def test_backoff_ignores_unusable_retry_after(retry_after: float | None) -> None:
    assert backoff_delay(2, retry_after=retry_after, rng=LowerBoundRandom()) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempt": -1}, ERROR_NEGATIVE_ATTEMPT.format(attempt=-1)),
        ({"attempt": 0, "base": 0.0}, ERROR_BAD_BASE.format(base=0.0)),
        ({"attempt": 0, "base": float("nan")}, ERROR_BAD_BASE.format(base=float("nan"))),
        ({"attempt": 0, "base": 2.0, "cap": 1.0}, ERROR_BAD_CAP.format(base=2.0, cap=1.0)),
    ],
)
def test_backoff_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        backoff_delay(**kwargs)
    assert str(raised.value) == message


@given(
    attempt=st.integers(min_value=0, max_value=5_000),
    base=st.floats(min_value=1e-3, max_value=10.0),
    extra_cap=st.floats(min_value=0.0, max_value=100.0),
    retry_after=st.one_of(st.none(), st.floats(min_value=0.0, max_value=200.0)),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_backoff_bounds_hold_for_any_input(
    attempt: int, base: float, extra_cap: float, retry_after: float | None, seed: int
) -> None:
    cap = base + extra_cap
    delay = backoff_delay(
        attempt, base=base, cap=cap, retry_after=retry_after, rng=random.Random(seed)
    )
    assert 0.0 <= delay <= cap
    if retry_after is not None:
        assert delay >= min(retry_after, cap)
