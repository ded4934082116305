"""The real ``ChatGoogleGenerativeAI`` client against the Gemini stub.

Two purposes: prove the stub speaks the wire protocol well enough for the real client
(text, streaming, tool calls, structured output, usage, model name), and pin down
what the client raises for each fault and how its own retries behave, because
Crossroads' retry logic (``crossroads.transient``) is built on those facts:

* 429 -> ``GoogleRateLimitError`` (cause: ``google.genai.errors.ClientError``, code 429);
* 5xx -> ``GoogleAPIError`` (itself a ``google.genai.errors.ServerError``);
* hang past ``timeout=`` -> ``httpx.ReadTimeout`` (sync) / builtin ``TimeoutError`` (async);
* dropped connection -> ``httpx.RemoteProtocolError`` (sync) /
  ``aiohttp.ServerDisconnectedError`` (async: google-genai uses aiohttp when installed);
* malformed JSON -> ``json.JSONDecodeError`` (invoke) /
  ``google.genai.errors.UnknownApiResponseError`` (stream);
* ``max_retries=N`` means N attempts in all (0 and 1 both mean a single request); the
  SDK retries 408/429/5xx and httpx timeouts, not dropped connections, on its own
  1 s, 2 s, 4 s... schedule, ignoring the server's Retry-After / RetryInfo.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from functools import reduce
from operator import add
from typing import Any, Literal

import aiohttp
import httpx
import pytest
from google.genai import errors as genai_errors
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_google_genai import ChatGoogleGenerativeAI
from langchain_google_genai.chat_models import GoogleAPIError, GoogleRateLimitError
from pydantic import BaseModel

from crossroads.transient import is_transient, retry_after_seconds
from tests.stubs.gemini_stub import (
    ERROR_UNSCRIPTED,
    DropConnection,
    FunctionCallReply,
    GeminiStub,
    Hang,
    MalformedJson,
    RateLimited,
    RecordedRequest,
    ServerFailure,
    StructuredReply,
    StubAction,
    TextReply,
)

pytestmark = pytest.mark.integration

MODEL = "gemini-2.5-flash"
CLIENT_TIMEOUT_S = 0.5
# Generous upper bound for "fails fast" checks: ten times the client timeout.
FAIL_FAST_BOUND_S = 5.0


class Person(BaseModel):
    """Schema for the structured-output tests."""

    name: str
    age: int


def add_numbers(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.fixture
def stub() -> Iterator[GeminiStub]:
    with GeminiStub() as running:
        yield running


def make_model(stub: GeminiStub, **overrides: Any) -> ChatGoogleGenerativeAI:
    settings: dict[str, Any] = {
        "model": MODEL,
        "google_api_key": "test",
        "base_url": stub.base_url,
        "max_retries": 0,
        "timeout": CLIENT_TIMEOUT_S,
    }
    settings.update(overrides)
    return ChatGoogleGenerativeAI(**settings)


@pytest.fixture
async def async_model(stub: GeminiStub) -> AsyncIterator[ChatGoogleGenerativeAI]:
    model = make_model(stub)
    yield model
    # Close the SDK's aiohttp session on this loop, so no "unclosed session" warnings.
    assert model.client is not None
    await model.client.aio.aclose()


# --------------------------------------------------------------------------- happy paths


def test_invoke_returns_text_usage_and_model_name(stub: GeminiStub) -> None:
    stub.enqueue(TextReply("Paris is the capital."))
    model = make_model(stub)

    reply = model.invoke([SystemMessage("Answer briefly."), HumanMessage("Capital of France?")])

    assert isinstance(reply, AIMessage)
    assert reply.content == "Paris is the capital."
    # Default token counts are word counts: 2 system + 3 prompt words, 4 reply words.
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == 5
    assert reply.usage_metadata["output_tokens"] == 4
    assert reply.usage_metadata["total_tokens"] == 9
    assert reply.response_metadata["model_name"] == MODEL
    assert reply.response_metadata["finish_reason"] == "STOP"

    (request,) = stub.requests
    assert request.path == f"/v1beta/models/{MODEL}:generateContent"
    assert request.model == MODEL
    assert not request.stream
    assert request.headers["x-goog-api-key"] == "test"
    assert request.system_text == "Answer briefly."
    assert request.last_user_text == "Capital of France?"


def test_explicit_token_counts_and_model_version_reach_the_message() -> None:
    with GeminiStub(model_version="gemini-2.5-flash-001") as stub:
        stub.enqueue(TextReply("ok", prompt_tokens=120, output_tokens=7))
        reply = make_model(stub).invoke("hi")

    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == 120
    assert reply.usage_metadata["output_tokens"] == 7
    assert reply.response_metadata["model_name"] == "gemini-2.5-flash-001"


def test_stream_yields_several_chunks_with_cumulative_usage_turned_into_deltas(
    stub: GeminiStub,
) -> None:
    stub.enqueue(TextReply("one two three four five six", stream_chunks=3))

    chunks = list(make_model(stub).stream("count to six"))

    texts = [chunk.content for chunk in chunks if chunk.content]
    assert texts == ["one two ", "three four ", "five six"]
    merged = reduce(add, chunks)
    assert isinstance(merged, AIMessageChunk)
    assert merged.content == "one two three four five six"
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["output_tokens"] == 6
    assert merged.usage_metadata["input_tokens"] == 3
    (request,) = stub.requests
    assert request.stream
    assert request.path.endswith(":streamGenerateContent")
    assert request.query == {"alt": "sse"}


async def test_async_invoke_and_stream(
    stub: GeminiStub, async_model: ChatGoogleGenerativeAI
) -> None:
    stub.enqueue(TextReply("async hello"), TextReply("streamed async reply", stream_chunks=2))

    reply = await async_model.ainvoke("hi")
    pieces = [chunk.content async for chunk in async_model.astream("hi again")]

    assert reply.content == "async hello"
    assert "".join(str(piece) for piece in pieces) == "streamed async reply"
    assert [request.stream for request in stub.requests] == [False, True]


def test_bind_tools_turns_a_function_call_into_a_tool_call(stub: GeminiStub) -> None:
    stub.enqueue(FunctionCallReply("add_numbers", {"a": 10, "b": 4}))

    reply = make_model(stub).bind_tools([add_numbers]).invoke("ten plus four")

    assert isinstance(reply, AIMessage)
    (call,) = reply.tool_calls
    assert call["name"] == "add_numbers"
    assert call["args"] == {"a": 10, "b": 4}
    (request,) = stub.requests
    assert request.function_names == ("add_numbers",)


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_with_structured_output_parses_the_reply_in_either_wire_form(
    stub: GeminiStub, method: Literal["json_schema", "function_calling"]
) -> None:
    stub.enqueue(StructuredReply({"name": "Ada", "age": 36}))

    structured = make_model(stub).with_structured_output(Person, method=method)
    result = structured.invoke("Who wrote the first program?")

    assert result == Person(name="Ada", age=36)
    (request,) = stub.requests
    if method == "json_schema":  # langchain-google-genai's default
        assert request.wants_json
        assert request.generation_config["responseJsonSchema"]["title"] == "Person"
        assert request.function_names == ()
    else:
        assert not request.wants_json
        assert request.allowed_function_names == ("Person",)


def test_structured_output_default_method_is_json_schema(stub: GeminiStub) -> None:
    stub.enqueue(StructuredReply({"name": "Ada", "age": 36}))

    make_model(stub).with_structured_output(Person).invoke("who?")

    assert stub.requests[0].wants_json


# --------------------------------------------------------------------------- scripting


def test_responder_answers_matching_prompts_before_the_queue(stub: GeminiStub) -> None:
    def route(request: RecordedRequest) -> StubAction | None:
        return TextReply("math") if "2+2" in request.last_user_text else None

    stub.responder = route
    stub.enqueue(TextReply("from the queue"))
    model = make_model(stub)

    assert model.invoke("what is 2+2").content == "math"
    assert stub.pending == 1
    assert model.invoke("tell me a story").content == "from the queue"
    assert stub.pending == 0


def test_default_answers_when_queue_is_empty() -> None:
    with GeminiStub(default=TextReply("default")) as stub:
        stub.enqueue(TextReply("first"))
        model = make_model(stub)
        assert [model.invoke("x").content for _ in range(3)] == ["first", "default", "default"]


def test_unscripted_request_fails_loudly_and_is_not_transient(stub: GeminiStub) -> None:
    with pytest.raises(GoogleAPIError) as raised:
        make_model(stub).invoke("nobody scripted this")

    assert raised.value.code == 501
    assert ERROR_UNSCRIPTED in str(raised.value)
    assert not is_transient(raised.value)


def test_a_failing_responder_fails_the_call_with_its_message(stub: GeminiStub) -> None:
    def broken(request: RecordedRequest) -> StubAction | None:
        raise LookupError("no rule for this prompt")

    stub.responder = broken
    with pytest.raises(GoogleAPIError) as raised:
        make_model(stub).invoke("anything")

    assert "no rule for this prompt" in str(raised.value)


def test_server_failure_accepts_only_5xx() -> None:
    with pytest.raises(ValueError, match="5xx"):
        ServerFailure(429)


def test_unknown_paths_and_non_sse_streams_are_rejected(stub: GeminiStub) -> None:
    with httpx.Client(base_url=stub.base_url, timeout=2.0) as client:
        assert client.post("/v1beta/models/m:countTokens", json={}).status_code == 404
        assert client.post("/v1beta/models/m:streamGenerateContent", json={}).status_code == 400
        not_json = client.post("/v1beta/models/m:generateContent", content=b"not json")
        assert not_json.status_code == 400
    assert stub.request_count == 3  # rejected requests are still recorded


def test_hang_does_not_hold_up_shutdown() -> None:
    stub = GeminiStub(default=Hang(seconds=60)).start()
    with socket.create_connection(("127.0.0.1", stub.port), timeout=5) as raw:
        raw.sendall(
            b"POST /v1beta/models/m:generateContent HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        )
        deadline = time.monotonic() + 5
        while stub.request_count == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stub.request_count == 1  # the handler is now inside the hang

        started = time.monotonic()
        stub.stop()
        assert time.monotonic() - started < FAIL_FAST_BOUND_S


# --------------------------------------------------------------------------- faults


FAULTS: list[tuple[str, StubAction, type[BaseException], bool]] = [
    ("rate-limit", RateLimited(), GoogleRateLimitError, True),
    ("server-503", ServerFailure(503), GoogleAPIError, True),
    ("server-500", ServerFailure(500), GoogleAPIError, True),
    ("hang", Hang(seconds=30), httpx.ReadTimeout, True),
    ("drop", DropConnection(), httpx.RemoteProtocolError, True),
    ("malformed-json", MalformedJson(), json.JSONDecodeError, False),
]


@pytest.mark.parametrize(
    ("action", "expected", "transient"),
    [
        pytest.param(action, expected, transient, id=name)
        for name, action, expected, transient in FAULTS
    ],
)
def test_fault_raises_the_documented_type_after_one_request(
    stub: GeminiStub, action: StubAction, expected: type[BaseException], transient: bool
) -> None:
    stub.enqueue(action)
    started = time.monotonic()

    with pytest.raises(expected) as raised:
        make_model(stub).invoke("hello")

    assert time.monotonic() - started < FAIL_FAST_BOUND_S
    assert stub.request_count == 1  # max_retries=0: exactly one HTTP request
    assert is_transient(raised.value) is transient


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param(RateLimited(), GoogleRateLimitError, id="rate-limit"),
        pytest.param(ServerFailure(503), GoogleAPIError, id="server-503"),
        pytest.param(Hang(seconds=30), httpx.ReadTimeout, id="hang"),
        pytest.param(DropConnection(), httpx.RemoteProtocolError, id="drop"),
        pytest.param(MalformedJson(), genai_errors.UnknownApiResponseError, id="malformed-json"),
    ],
)
def test_fault_while_streaming(
    stub: GeminiStub, action: StubAction, expected: type[BaseException]
) -> None:
    stub.enqueue(action)

    with pytest.raises(expected):
        list(make_model(stub).stream("hello"))

    assert stub.request_count == 1


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param(RateLimited(), GoogleRateLimitError, id="rate-limit"),
        pytest.param(ServerFailure(503), GoogleAPIError, id="server-503"),
        pytest.param(Hang(seconds=30), TimeoutError, id="hang"),
        pytest.param(DropConnection(), aiohttp.ServerDisconnectedError, id="drop"),
        pytest.param(MalformedJson(), json.JSONDecodeError, id="malformed-json"),
    ],
)
async def test_fault_with_async_client(
    stub: GeminiStub,
    async_model: ChatGoogleGenerativeAI,
    action: StubAction,
    expected: type[BaseException],
) -> None:
    stub.enqueue(action)
    started = time.monotonic()

    with pytest.raises(expected) as raised:
        await async_model.ainvoke("hello")

    assert time.monotonic() - started < FAIL_FAST_BOUND_S
    assert stub.request_count == 1
    assert is_transient(raised.value) is not isinstance(action, MalformedJson)


def test_rate_limit_carries_retry_info_and_retry_after_through_the_wrapper(
    stub: GeminiStub,
) -> None:
    stub.enqueue(
        RateLimited(retry_delay="12s", retry_after_header="3"),
        RateLimited(retry_delay="1.5s", retry_after_header=None),
    )
    model = make_model(stub)

    with pytest.raises(GoogleRateLimitError) as first:
        model.invoke("hello")
    with pytest.raises(GoogleRateLimitError) as second:
        model.invoke("hello")

    cause = first.value.__cause__
    assert isinstance(cause, genai_errors.ClientError)
    assert cause.code == 429
    assert cause.status == "RESOURCE_EXHAUSTED"
    assert retry_after_seconds(first.value) == pytest.approx(12.0)  # the longer hint wins
    assert retry_after_seconds(second.value) == pytest.approx(1.5)  # RetryInfo alone


# --------------------------------------------------------------------------- client retries


def test_client_default_is_six_attempts() -> None:
    # Crossroads must pass max_retries explicitly, or the SDK retries under our own loop.
    model = ChatGoogleGenerativeAI(model=MODEL, google_api_key="test")
    assert model.max_retries == 6


@pytest.mark.parametrize(("max_retries", "attempts"), [(0, 1), (1, 1), (2, 2)])
def test_max_retries_counts_attempts_not_retries(
    stub: GeminiStub, max_retries: int, attempts: int
) -> None:
    stub.default = ServerFailure(503)

    with pytest.raises(GoogleAPIError):
        make_model(stub, max_retries=max_retries).invoke("hello")

    assert stub.request_count == attempts


def test_client_retries_a_503_by_itself_when_allowed(stub: GeminiStub) -> None:
    stub.enqueue(ServerFailure(503), TextReply("recovered"))

    reply = make_model(stub, max_retries=2).invoke("hello")

    assert reply.content == "recovered"
    assert stub.request_count == 2


def test_client_retries_timeouts_but_not_dropped_connections(stub: GeminiStub) -> None:
    stub.enqueue(Hang(seconds=30), TextReply("after timeout"))
    assert make_model(stub, max_retries=2).invoke("a").content == "after timeout"
    assert stub.request_count == 2

    stub.clear()
    stub.enqueue(DropConnection(), TextReply("never reached"))
    with pytest.raises(httpx.RemoteProtocolError):
        make_model(stub, max_retries=2).invoke("b")
    assert stub.request_count == 1


def test_client_retry_ignores_the_servers_retry_hint(stub: GeminiStub) -> None:
    # The server says "retry now" (0 s) yet the SDK waits its own first backoff step
    # (initial 1 s plus up to 1 s jitter). A lower bound only: it proves the hint is
    # ignored, so Crossroads has to read retry hints itself with SDK retries off.
    stub.enqueue(RateLimited(retry_delay="0s", retry_after_header="0"), TextReply("ok"))

    make_model(stub, max_retries=2).invoke("hello")

    first, second = stub.requests
    assert second.received_at - first.received_at >= 0.9


def test_each_call_is_one_request_with_retries_off(stub: GeminiStub) -> None:
    stub.default = TextReply("fine")
    model = make_model(stub)

    for _ in range(5):
        model.invoke("again")
    list(model.stream("stream"))

    assert stub.request_count == 6


def test_stub_survives_concurrent_callers(stub: GeminiStub) -> None:
    stub.default = TextReply("shared")
    model = make_model(stub)
    results: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        text = str(model.invoke("parallel").content)
        with lock:
            results.append(text)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert results == ["shared"] * 8
    assert stub.request_count == 8
