"""Contract: what the locked google-genai / langchain-google-genai release does on the wire.

These tests pin facts about a third-party client, not Crossroads behaviour: the API version
in the URL, the exception class raised for each fault, and how the SDK's own retries behave.
Crossroads does not depend on any one answer (``crossroads.retry`` classifies errors by
their status and by the transport families it knows, and ``tests/integration`` checks that),
but an upgrade that changes one of these facts should be *seen*: run
``scripts/check-latest`` and a failure here names the fact that moved.

Seen with the lock (google-genai 3.6.1, langchain-google-genai 4.4.3): ``/v1`` paths and
``httpx2`` errors; google-genai 1.x/2.x used ``/v1beta`` and ``httpx``.
"""

from __future__ import annotations

import time

import pytest
from langchain_google_genai import ChatGoogleGenerativeAI

from tests.stubs.gemini_client import MODEL, make_model  # fixtures: stub, async_model
from tests.stubs.gemini_stub import (
    DropConnection,
    GeminiStub,
    Hang,
    MalformedJson,
    RateLimited,
    ServerFailure,
    StubAction,
    TextReply,
)

pytestmark = [pytest.mark.contract, pytest.mark.integration]

API_VERSION = "v1"


def qualified(exc: BaseException) -> str:
    """``package.Class`` of an exception: what a release changes when it swaps a transport."""
    return f"{type(exc).__module__.split('.')[0]}.{type(exc).__qualname__}"


def test_api_version_in_the_url(stub: GeminiStub) -> None:
    stub.enqueue(TextReply("ok"))
    make_model(stub).invoke("hi")
    assert stub.requests[0].path == f"/{API_VERSION}/models/{MODEL}:generateContent"


SYNC_FAULTS = [
    pytest.param(RateLimited(), "langchain_google_genai.GoogleRateLimitError", id="rate-limit"),
    pytest.param(ServerFailure(503), "langchain_google_genai.GoogleAPIError", id="server-503"),
    pytest.param(Hang(seconds=30), "httpx2.ReadTimeout", id="hang"),
    pytest.param(DropConnection(), "httpx2.RemoteProtocolError", id="drop"),
    pytest.param(MalformedJson(), "json.JSONDecodeError", id="malformed-json"),
]


@pytest.mark.parametrize(("action", "expected"), SYNC_FAULTS)
def test_invoke_raises(stub: GeminiStub, action: StubAction, expected: str) -> None:
    stub.enqueue(action)
    with pytest.raises(Exception) as raised:
        make_model(stub).invoke("hello")
    assert qualified(raised.value) == expected


STREAM_FAULTS = [
    *SYNC_FAULTS[:4],
    pytest.param(MalformedJson(), "google.UnknownApiResponseError", id="malformed-json"),
]


@pytest.mark.parametrize(("action", "expected"), STREAM_FAULTS)
def test_stream_raises(stub: GeminiStub, action: StubAction, expected: str) -> None:
    stub.enqueue(action)
    with pytest.raises(Exception) as raised:
        list(make_model(stub).stream("hello"))
    assert qualified(raised.value) == expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param(RateLimited(), "langchain_google_genai.GoogleRateLimitError", id="rate-limit"),
        pytest.param(ServerFailure(503), "langchain_google_genai.GoogleAPIError", id="server-503"),
        pytest.param(Hang(seconds=30), "builtins.TimeoutError", id="hang"),
        pytest.param(DropConnection(), "aiohttp.ServerDisconnectedError", id="drop"),
        pytest.param(MalformedJson(), "json.JSONDecodeError", id="malformed-json"),
    ],
)
async def test_async_invoke_raises(
    stub: GeminiStub, async_model: ChatGoogleGenerativeAI, action: StubAction, expected: str
) -> None:
    stub.enqueue(action)
    with pytest.raises(Exception) as raised:
        await async_model.ainvoke("hello")
    assert qualified(raised.value) == expected


def test_client_default_is_six_attempts() -> None:
    # Crossroads must pass max_retries explicitly, or the SDK retries under our own loop.
    model = ChatGoogleGenerativeAI(model=MODEL, google_api_key="test")
    assert model.max_retries == 6


@pytest.mark.parametrize(("max_retries", "attempts"), [(0, 1), (1, 1), (2, 2)])
def test_max_retries_counts_attempts_not_retries(
    stub: GeminiStub, max_retries: int, attempts: int
) -> None:
    stub.default = ServerFailure(503)
    with pytest.raises(Exception):  # noqa: B017
        make_model(stub, max_retries=max_retries).invoke("hello")
    assert stub.request_count == attempts


def test_client_retries_a_503_by_itself_when_allowed(stub: GeminiStub) -> None:
    stub.enqueue(ServerFailure(503), TextReply("recovered"))
    assert make_model(stub, max_retries=2).invoke("hello").content == "recovered"
    assert stub.request_count == 2


def test_client_retries_timeouts_but_not_dropped_connections(stub: GeminiStub) -> None:
    stub.enqueue(Hang(seconds=30), TextReply("after timeout"))
    assert make_model(stub, max_retries=2).invoke("a").content == "after timeout"
    assert stub.request_count == 2

    stub.clear()
    stub.enqueue(DropConnection(), TextReply("never reached"))
    with pytest.raises(Exception):  # noqa: B017
        make_model(stub, max_retries=2).invoke("b")
    assert stub.request_count == 1


def test_client_retry_ignores_the_servers_retry_hint(stub: GeminiStub) -> None:
    # The server says "retry now" (0 s) yet the SDK waits its own first backoff step
    # (initial 1 s plus up to 1 s jitter): Crossroads has to read retry hints itself.
    stub.enqueue(RateLimited(retry_delay="0s", retry_after_header="0"), TextReply("ok"))
    started = time.monotonic()
    make_model(stub, max_retries=2).invoke("hello")
    first, second = stub.requests
    assert second.received_at - first.received_at >= 0.9
    assert time.monotonic() - started < 10
