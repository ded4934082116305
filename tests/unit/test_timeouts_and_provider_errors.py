"""Bounded waits (first-byte timeout, a stalled server asked once per request) and provider
failures said as one sentence a person can act on."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from google.genai import errors as genai_errors
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableConfig, RunnableLambda

from crossroads.errors import ConfigurationError, ModelError
from crossroads.llm import ModelCaller, _watched
from crossroads.models import resolve_model
from crossroads.provider_errors import describe_provider_error
from crossroads.settings import Settings


class SlowStreamer(BaseChatModel):
    """Waits ``before`` seconds, then streams two chunks ``between`` seconds apart."""

    before: float = 0.0
    between: float = 0.0
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "slow-streamer"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    async def _agenerate(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> ChatResult:
        self.calls += 1
        await asyncio.sleep(self.before + self.between)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="a b"))])

    async def _astream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        self.calls += 1
        await asyncio.sleep(self.before)
        yield ChatGenerationChunk(message=AIMessageChunk(content="a "))
        await asyncio.sleep(self.between)
        yield ChatGenerationChunk(message=AIMessageChunk(content="b"))


HI = [HumanMessage(content="hi")]


async def test_a_server_that_sends_nothing_is_given_up_on_at_the_first_byte_timeout() -> None:
    silent = SlowStreamer(before=30)
    settings = Settings(model=silent, first_byte_timeout=0.3, request_timeout=20, model_retries=2)
    started = time.monotonic()
    with pytest.raises(ModelError) as failure:
        await ModelCaller(settings, {}, "test").ainvoke("writer", HI)
    assert time.monotonic() - started < 5  # not the 20 s request timeout, nor 3 x 0.3 s waits
    assert "sent nothing within 0.3 s (first_byte_timeout)" in str(failure.value)
    assert failure.value.kind == "timeout"
    assert silent.calls == 1  # a silent server is not asked again


async def test_a_slow_reply_that_has_started_is_not_cut_at_the_first_byte_timeout() -> None:
    slow = SlowStreamer(before=0.05, between=0.8)
    settings = Settings(model=slow, first_byte_timeout=0.3, request_timeout=20)
    reply = await ModelCaller(settings, {}, "test").ainvoke("writer", HI)
    assert reply.content == "a b"  # 0.85 s in all, well past the 0.3 s first-byte timeout


async def test_a_started_reply_inside_a_chain_is_not_cut_at_the_first_byte_timeout() -> None:
    """Structured calls run the model inside a chain (model, then parser): the watch ignores
    the chain's own events but must still see the model's first token."""
    slow = SlowStreamer(before=0.05, between=0.8)

    async def model_then_parse(messages: Any, config: RunnableConfig) -> str:
        reply = await slow.ainvoke(messages, config)
        return str(reply.content).upper()

    chain = RunnableLambda(model_then_parse, name="structured_output")
    assert await _watched(chain, HI, 0.3, 20.0, {"tags": ["role:test"]}) == "A B"


async def test_a_started_reply_is_still_bounded_by_the_request_timeout() -> None:
    slow = SlowStreamer(before=0.05, between=30)
    settings = Settings(model=slow, first_byte_timeout=0.3, request_timeout=0.8, model_retries=0)
    started = time.monotonic()
    with pytest.raises(ModelError, match=r"no reply within 0\.8 s"):
        await ModelCaller(settings, {}, "test").ainvoke("writer", HI)
    assert time.monotonic() - started < 5


async def test_a_stalled_model_is_skipped_by_later_calls_of_the_same_request() -> None:
    silent = SlowStreamer(before=30)
    settings = Settings(model=silent, first_byte_timeout=0.2, request_timeout=20)
    state = {"started_at": time.time()}
    for role in ("router", "calculator"):
        with pytest.raises(ModelError, match="sent nothing"):
            await ModelCaller(settings, state, "test").ainvoke(role, HI)
    assert silent.calls == 1
    # Another request asks again.
    with pytest.raises(ModelError):
        await ModelCaller(settings, {"started_at": time.time() + 1}, "test").ainvoke("router", HI)
    assert silent.calls == 2


def test_a_negative_first_byte_timeout_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="first_byte_timeout"):
        Settings(first_byte_timeout=0)


# -- provider failures as sentences ------------------------------------------------------------


def google_error(code: int, status: str, message: str, reason: str = "") -> Exception:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    body = {"error": {"code": code, "message": message, "status": status, "details": details}}
    error_type = genai_errors.ServerError if code >= 500 else genai_errors.ClientError
    return error_type(code, body)


def wrapped(cause: Exception) -> Exception:
    try:
        try:
            raise cause
        except Exception as inner:
            raise RuntimeError(f"Error calling model: {inner}") from inner
    except RuntimeError as outer:
        return outer


def http_error(code: int) -> Exception:
    request = httpx.Request("POST", "https://api.example.com/v1/chat")
    response = httpx.Response(code, request=request)
    return httpx.HTTPStatusError(f"{code}", request=request, response=response)


@pytest.mark.parametrize(
    ("error", "kind", "fragment", "code"),
    [
        (
            google_error(400, "INVALID_ARGUMENT", "API key not valid.", "API_KEY_INVALID"),
            "key_rejected",
            "rejected the API key",
            "HTTP 400 INVALID_ARGUMENT API_KEY_INVALID",
        ),
        (http_error(401), "key_rejected", "rejected the API key", "HTTP 401"),
        (
            google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded."),
            "quota",
            "rate limit or quota",
            "HTTP 429 RESOURCE_EXHAUSTED",
        ),
        (
            google_error(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta"),
            "model_not_found",
            "does not know this model",
            "HTTP 404 NOT_FOUND",
        ),
        (http_error(503), "server", "server error", "HTTP 503"),
        (
            OSError(
                "Cannot connect to host models.provider.example:443 "
                "ssl:<ssl.SSLContext object at 0x7f3a2b1c0d90> [Name or service not known]"
            ),
            "unreachable",
            "cannot reach the model server at models.provider.example:443 "
            "(the name does not resolve)",
            "",
        ),
        (
            ConnectionRefusedError(111, "Connection refused"),
            "unreachable",
            "connection refused",
            "",
        ),
        (socket.gaierror(-2, "Name or service not known"), "unreachable", "does not resolve", ""),
    ],
)
def test_provider_failures_become_one_actionable_sentence(
    error: Exception, kind: str, fragment: str, code: str
) -> None:
    for candidate in (error, wrapped(error)):
        failure = describe_provider_error(candidate)
        assert failure.kind == kind
        assert fragment in failure.message
        assert failure.code == code
        assert "\n" not in failure.message
        assert "object at 0x" not in failure.message and "{" not in failure.message


def test_an_unknown_failure_keeps_its_first_line_without_object_reprs() -> None:
    failure = describe_provider_error(ValueError("odd <foo.Bar object at 0xdeadbeef> thing\nmore"))
    assert failure.kind == "other"
    assert failure.message == "the model call failed: odd … thing"


async def test_the_model_error_carries_the_sentence_and_the_provider_code() -> None:
    from crossroads.testing import ScriptedChatModel

    failing = ScriptedChatModel(replies=[google_error(429, "RESOURCE_EXHAUSTED", "Quota.")] * 5)
    settings = Settings(model=failing, model_retries=0)
    with pytest.raises(ModelError) as raised:
        await ModelCaller(settings, {}, "test").ainvoke("writer", HI)
    message = str(raised.value)
    assert message.startswith("the model server refused the request because a rate limit")
    assert "(the writer model; tried: ScriptedChatModel; provider code: HTTP 429" in message
    assert raised.value.code == "HTTP 429 RESOURCE_EXHAUSTED"


# -- model strings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "near"),
    [
        ("google-genai:gemini-2.5-flash", "'google_genai'"),
        ("Google_GenAI:gemini-2.5-flash", "'google_genai'"),
        ("olama:llama3.2", "'ollama'"),
        ("open_ai:gpt-4.1", "'openai'"),
    ],
)
def test_a_mistyped_provider_gets_the_nearest_known_prefix(spec: str, near: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        resolve_model(spec, temperature=0, settings=Settings(google_api_key="k"))
    assert f"did you mean {near}" in str(raised.value)
    assert "pip install" not in str(raised.value)


def test_an_unknown_provider_lists_the_supported_ones_and_invents_no_package() -> None:
    with pytest.raises(ConfigurationError) as raised:
        resolve_model("foo:bar", temperature=0, settings=Settings())
    message = str(raised.value)
    assert "unknown model provider 'foo'" in message
    assert "google_genai" in message and "ollama" in message and "openai" in message
    assert "langchain-foo" not in message and "pip install" not in message
