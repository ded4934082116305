"""Unit tests for crossroads.retry, on real exception objects from each client library."""

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
from tenacity import RetryCallState, Retrying
from yarl import URL

from crossroads.errors import (
    MAX_CHAIN_DEPTH,
    BudgetExceeded,
    ModelError,
    RetrievalError,
    RetrievalTimeout,
)
from crossroads.retry import (
    ERROR_BAD_ATTEMPTS,
    ERROR_BAD_BASE,
    ERROR_BAD_CAP,
    async_retrying,
    http_status,
    is_transient,
    parse_duration,
    parse_retry_after,
    retry_after_seconds,
    retrying,
    wait_retry_after,
)
from crossroads.tools.retrievers.base import RateLimited

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
        (None, None),  # no header
        ("Wed, 21 Oct 2015", None),  # a date without its time is not an HTTP date
        (format_datetime(FIXED_NOW - timedelta(minutes=5), usegmt=True), 0.0),  # past date
        ("Sat, 01 Mar 2025 12:01:00 GMT", 60.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
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


# --------------------------------------------------------------------------- tenacity wait


def wait_before_retry(wait: wait_retry_after, error: BaseException, retry_number: int) -> float:
    """The wait tenacity asks ``wait`` for after failed attempt ``retry_number`` (1 = first)."""
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = retry_number
    state.set_exception((type(error), error, None))
    return wait(state)


@pytest.fixture
def top_of_range(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jitter always draws the top of its range, to expose the ceiling of each retry."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)


@pytest.fixture
def bottom_of_range(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jitter always draws the bottom of its range (zero), to expose the server's floor."""
    monkeypatch.setattr(random, "uniform", lambda low, high: low)


@pytest.mark.usefixtures("top_of_range")
@pytest.mark.parametrize(
    ("retry_number", "ceiling"),
    [(1, 0.5), (2, 1.0), (4, 4.0), (6, 16.0), (7, 20.0), (10_000, 20.0)],
)
def test_wait_ceiling_doubles_then_caps(retry_number: int, ceiling: float) -> None:
    wait = wait_retry_after(base=0.5, cap=20.0)
    assert wait_before_retry(wait, TimeoutError(), retry_number) == pytest.approx(ceiling)


def test_wait_is_jittered_over_the_whole_range() -> None:
    random.seed(1234)
    wait = wait_retry_after(base=1.0, cap=100.0)
    draws = [wait_before_retry(wait, TimeoutError(), 5) for _ in range(500)]
    assert min(draws) < 2.0 and max(draws) > 14.0  # full jitter spans [0, 16]
    assert all(0.0 <= d <= 16.0 for d in draws)


@pytest.mark.usefixtures("bottom_of_range")
@pytest.mark.parametrize(
    ("error", "asked"),
    [
        pytest.param(requests_http_error(429, {"Retry-After": "7"}), 7.0, id="retry-after"),
        pytest.param(
            wrapped(GoogleRateLimitError("429"), genai_client_error(429, retry_delay="1.5s")),
            1.5,
            id="gemini-retry-info",
        ),
        pytest.param(RateLimited("slow down", retry_after=3.0), 3.0, id="backend-rate-limited"),
    ],
)
def test_wait_is_never_shorter_than_the_server_asked(error: BaseException, asked: float) -> None:
    # Without the hint the draw would be 0 s: the server's delay is what makes the wait.
    wait = wait_retry_after(base=0.5, cap=20.0)
    assert wait_before_retry(wait, error, 1) == pytest.approx(asked)


@pytest.mark.usefixtures("bottom_of_range")
def test_wait_is_capped_even_when_the_server_asks_for_more() -> None:
    wait = wait_retry_after(base=0.5, cap=20.0)
    assert wait_before_retry(wait, requests_http_error(429, {"Retry-After": "60"}), 1) == 20.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base": -1.0}, ERROR_BAD_BASE.format(base=-1.0)),
        ({"base": float("nan")}, ERROR_BAD_BASE.format(base=float("nan"))),
        ({"base": 2.0, "cap": 1.0}, ERROR_BAD_CAP.format(base=2.0, cap=1.0)),
    ],
)
def test_wait_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        wait_retry_after(**kwargs)
    assert str(raised.value) == message


@given(
    retry_number=st.integers(min_value=1, max_value=5_000),
    base=st.floats(min_value=1e-3, max_value=10.0),
    extra_cap=st.floats(min_value=0.0, max_value=100.0),
    asked=st.one_of(st.none(), st.floats(min_value=0.0, max_value=200.0)),
)
def test_wait_bounds_hold_for_any_input(
    retry_number: int, base: float, extra_cap: float, asked: float | None
) -> None:
    cap = base + extra_cap
    error = RateLimited("slow down", retry_after=asked)
    delay = wait_before_retry(wait_retry_after(base=base, cap=cap), error, retry_number)
    assert 0.0 <= delay <= cap
    if asked is not None:
        assert delay >= min(asked, cap)


# --------------------------------------------------------------------------- the loops


class Flaky:
    """Fails with each of ``errors`` in turn, then answers ``"ok"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_retrying_retries_transient_failures_and_waits_what_the_server_asked() -> None:
    sleeps: list[float] = []
    flaky = Flaky(genai_client_error(429, retry_delay="3s"), httpx.ReadTimeout("slow"))

    assert retrying(attempts=3, sleep=sleeps.append)(flaky) == "ok"

    assert flaky.calls == 3
    assert sleeps[0] == pytest.approx(3.0)  # the RetryInfo delay, not the <= 0.5 s draw
    assert 0.0 <= sleeps[1] <= 1.0


def test_retrying_is_bounded_and_reraises_the_last_failure_unchanged() -> None:
    sleeps: list[float] = []
    last = ConnectionResetError("third")
    flaky = Flaky(ConnectionResetError("first"), ConnectionResetError("second"), last)

    with pytest.raises(ConnectionResetError) as raised:
        retrying(attempts=3, sleep=sleeps.append)(flaky)

    assert raised.value is last
    assert flaky.calls == 3 and len(sleeps) == 2


def test_retrying_does_not_retry_lasting_failures_or_waits_longer_than_the_cap() -> None:
    sleeps: list[float] = []
    bad_request = Flaky(genai_errors.ClientError(400, {}, None))
    with pytest.raises(genai_errors.ClientError):
        retrying(attempts=3, sleep=sleeps.append)(bad_request)
    long_wait = Flaky(requests_http_error(429, {"Retry-After": "60"}))
    with pytest.raises(requests.HTTPError):
        retrying(attempts=3, cap=20.0, sleep=sleeps.append)(long_wait)

    assert bad_request.calls == 1 and long_wait.calls == 1 and sleeps == []


def test_retrying_never_waits_past_the_time_left() -> None:
    sleeps: list[float] = []
    flaky = Flaky(genai_client_error(429, retry_delay="5s"))
    with pytest.raises(genai_errors.ClientError):
        retrying(attempts=3, seconds_left=lambda: 4.0, sleep=sleeps.append)(flaky)
    assert flaky.calls == 1 and sleeps == []


def test_retrying_rejects_a_bad_number_of_attempts() -> None:
    with pytest.raises(ValueError) as raised:
        retrying(attempts=0)
    assert str(raised.value) == ERROR_BAD_ATTEMPTS.format(attempts=0)


async def test_async_retrying_honours_the_servers_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record)
    flaky = Flaky(requests_http_error(503, {"Retry-After": "2"}))

    async def call() -> str:
        return flaky()

    assert await async_retrying(attempts=2)(call) == "ok"
    assert sleeps == [pytest.approx(2.0)]


async def test_async_retrying_matches_tenacitys_loop_after_an_inline_first_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first attempt runs outside tenacity; from a first failure on, the waits, the
    number of attempts and the error re-raised are those of tenacity's loop."""
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record)
    failures = [httpx.ReadTimeout(f"slow {n}") for n in range(4)]
    flaky = Flaky(*failures)

    async def call() -> str:
        return flaky()

    with pytest.raises(httpx.ReadTimeout) as raised:
        await async_retrying(attempts=3, base=0.5, cap=20.0)(call)
    assert flaky.calls == 3 and raised.value is failures[2]
    # Backoff draws for attempts 1 and 2: within [0, 0.5] and [0, 1.0] (full jitter).
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0

    once = Flaky(ValueError("not transient"))

    async def refused() -> str:
        return once()

    with pytest.raises(ValueError):
        await async_retrying(attempts=3)(refused)
    assert once.calls == 1 and len(sleeps) == 2


async def test_async_retrying_builds_no_loop_when_the_first_try_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_loop(**options: Any) -> Any:
        raise AssertionError("tenacity's loop was built for a call that succeeded")

    monkeypatch.setattr("crossroads.retry.AsyncRetrying", no_loop)

    async def call() -> str:
        return "ok"

    assert await async_retrying(attempts=3)(call) == "ok"
