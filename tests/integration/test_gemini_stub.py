"""The real ``ChatGoogleGenerativeAI`` client against the Gemini stub.

Two purposes: prove the stub speaks the wire protocol well enough for the real client
(text, streaming, tool calls, structured output, usage, model name), and check what
Crossroads needs from each fault, whatever exception class or URL a given google-genai
release uses: a 429 and its retry hint are read (``retry_after_seconds``), a hang ends
within the client timeout, drops and 5xx are transient (``is_transient``), malformed
JSON and unscripted requests are not, and ``max_retries=0`` means one request.

Which exception classes and URL paths the locked release uses, and how the SDK's own
retries behave, are pinned separately in ``tests/contract/test_google_genai.py``
(marker ``contract``): an upgrade that changes them fails there, by name, instead of
breaking these tests.
"""

from __future__ import annotations

import socket
import threading
import time
from functools import reduce
from operator import add
from typing import Literal

import httpx
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_google_genai import ChatGoogleGenerativeAI
from pydantic import BaseModel

from crossroads.retry import http_status, is_transient, retry_after_seconds
from tests.stubs.gemini_client import MODEL, make_model  # fixtures: stub, async_model
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

API_VERSIONS = ("v1beta", "v1")  # google-genai 1.x/2.x call v1beta, 3.6 calls v1
# Generous upper bound for "fails fast" checks: ten times the client timeout.
FAIL_FAST_BOUND_S = 5.0


class Person(BaseModel):
    """Schema for the structured-output tests."""

    name: str
    age: int


def add_numbers(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def statuses(exc: BaseException | None) -> set[int]:
    """HTTP statuses anywhere in an exception's cause chain (wrappers differ by release)."""
    found: set[int] = set()
    for _ in range(10):
        if exc is None:
            break
        status = http_status(exc)
        if status is not None:
            found.add(status)
        exc = exc.__cause__ or exc.__context__
    return found


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
    version, path = request.path.lstrip("/").split("/", 1)
    assert version in API_VERSIONS
    assert path == f"models/{MODEL}:generateContent"
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
    with pytest.raises(Exception) as raised:
        make_model(stub).invoke("nobody scripted this")

    assert 501 in statuses(raised.value)
    assert ERROR_UNSCRIPTED in str(raised.value)
    assert not is_transient(raised.value)


def test_a_failing_responder_fails_the_call_with_its_message(stub: GeminiStub) -> None:
    def broken(request: RecordedRequest) -> StubAction | None:
        raise LookupError("no rule for this prompt")

    stub.responder = broken
    with pytest.raises(Exception) as raised:
        make_model(stub).invoke("anything")

    assert "no rule for this prompt" in str(raised.value)


def test_server_failure_accepts_only_5xx() -> None:
    with pytest.raises(ValueError, match="5xx"):
        ServerFailure(429)


@pytest.mark.parametrize("version", API_VERSIONS)
def test_both_api_versions_are_served(stub: GeminiStub, version: str) -> None:
    stub.enqueue(TextReply("served"))
    with httpx.Client(base_url=stub.base_url, timeout=2.0) as client:
        reply = client.post(
            f"/{version}/models/{MODEL}:generateContent",
            json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        )
    assert reply.status_code == 200
    assert reply.json()["candidates"][0]["content"]["parts"][0]["text"] == "served"


@pytest.mark.parametrize("version", API_VERSIONS)
def test_unknown_paths_and_non_sse_streams_are_rejected(stub: GeminiStub, version: str) -> None:
    with httpx.Client(base_url=stub.base_url, timeout=2.0) as client:
        assert client.post(f"/{version}/models/m:countTokens", json={}).status_code == 404
        assert client.post(f"/{version}/models/m:streamGenerateContent", json={}).status_code == 400
        not_json = client.post(f"/{version}/models/m:generateContent", content=b"not json")
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


FAULTS: list[tuple[str, StubAction, bool]] = [
    # (name, what the stub does, whether Crossroads must treat it as transient)
    ("rate-limit", RateLimited(), True),
    ("server-503", ServerFailure(503), True),
    ("server-500", ServerFailure(500), True),
    ("hang", Hang(seconds=30), True),
    ("drop", DropConnection(), True),
    ("malformed-json", MalformedJson(), False),
]
FAULT_PARAMS = [pytest.param(action, transient, id=name) for name, action, transient in FAULTS]


@pytest.mark.parametrize(("action", "transient"), FAULT_PARAMS)
def test_fault_fails_fast_after_one_request_and_is_classified(
    stub: GeminiStub, action: StubAction, transient: bool
) -> None:
    stub.enqueue(action)
    started = time.monotonic()

    with pytest.raises(Exception) as raised:
        make_model(stub).invoke("hello")

    assert time.monotonic() - started < FAIL_FAST_BOUND_S  # a hang is bounded by the timeout
    assert stub.request_count == 1  # max_retries=0: exactly one HTTP request
    assert is_transient(raised.value) is transient


@pytest.mark.parametrize(("action", "transient"), FAULT_PARAMS)
def test_fault_while_streaming(stub: GeminiStub, action: StubAction, transient: bool) -> None:
    stub.enqueue(action)
    started = time.monotonic()

    with pytest.raises(Exception) as raised:
        list(make_model(stub).stream("hello"))

    assert time.monotonic() - started < FAIL_FAST_BOUND_S
    assert stub.request_count == 1
    if not isinstance(action, MalformedJson):  # a broken SSE event may read as either
        assert is_transient(raised.value) is transient


@pytest.mark.parametrize(("action", "transient"), FAULT_PARAMS)
async def test_fault_with_async_client(
    stub: GeminiStub,
    async_model: ChatGoogleGenerativeAI,
    action: StubAction,
    transient: bool,
) -> None:
    stub.enqueue(action)
    started = time.monotonic()

    with pytest.raises(Exception) as raised:
        await async_model.ainvoke("hello")

    assert time.monotonic() - started < FAIL_FAST_BOUND_S
    assert stub.request_count == 1
    assert is_transient(raised.value) is transient


def test_rate_limit_hints_are_read_through_the_wrapper(stub: GeminiStub) -> None:
    stub.enqueue(
        RateLimited(retry_delay="12s", retry_after_header="3"),
        RateLimited(retry_delay="1.5s", retry_after_header=None),
    )
    model = make_model(stub)

    with pytest.raises(Exception) as first:
        model.invoke("hello")
    with pytest.raises(Exception) as second:
        model.invoke("hello")

    assert 429 in statuses(first.value)
    assert retry_after_seconds(first.value) == pytest.approx(12.0)  # the longer hint wins
    assert retry_after_seconds(second.value) == pytest.approx(1.5)  # RetryInfo alone


# --------------------------------------------------------------------------- client retries


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
