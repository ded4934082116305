"""The real langchain-openai client against an OpenAI-protocol stub on 127.0.0.1 (the protocol
of Ollama, vLLM, LM Studio and llama.cpp's server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from crossroads import Crossroads
from crossroads.models import release_models, resolve_model
from crossroads.settings import Settings
from tests.stubs.openai_stub import COMPLETION_TOKENS, PROMPT_TOKENS, OpenAIStub

pytest.importorskip("langchain_openai")


def reply(body: dict[str, Any]) -> str:
    """The router's JSON when asked for a route, a sentence otherwise."""
    if "RouteChoice" in json.dumps(body):
        return '{"route": "none", "reason": "small talk", "steps": []}'
    return "none"


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub(reply=reply) as server:
        yield server


def settings_for(stub: OpenAIStub, **overrides: object) -> Settings:
    kwargs = {"base_url": stub.api_url, "api_key": "not-needed"}
    return Settings(model_kwargs=kwargs, **overrides)  # type: ignore[arg-type]


def test_a_model_keeps_working_on_a_second_event_loop(stub: OpenAIStub) -> None:
    # Each Crossroads app runs its own loop. langchain-openai shares one async HTTP client per
    # base URL across the process, so the second loop used to get "Event loop is closed".
    settings = settings_for(stub)
    clients = []

    async def one_call() -> str:
        model = resolve_model("openai:stub", temperature=0.0, settings=settings)
        reply = await model.ainvoke("hello")
        clients.append(model.http_async_client)  # type: ignore[attr-defined]
        await release_models()
        return str(reply.content)

    assert asyncio.run(one_call()) == "none"
    assert asyncio.run(one_call()) == "none"
    assert len(stub.requests) == 2
    assert clients[0] is not clients[1]
    assert all(client.is_closed for client in clients)  # closed with their loop


def test_two_apps_in_turn_both_reach_the_server_and_count_what_it_served(
    stub: OpenAIStub,
) -> None:
    counted = []
    for _ in range(2):
        before = len(stub.requests)
        with Crossroads(
            "openai:stub",
            checkpointer="memory",
            router_threshold=1.01,  # always ask the model
            max_llm_calls=4,
            model_kwargs={"base_url": stub.api_url, "api_key": "not-needed"},
        ) as app:
            result = app.ask("Tell me something nice.")
        served = len(stub.requests) - before
        assert served >= 1
        assert result.usage["llm_calls"] == served
        assert result.usage["input_tokens"] == served * PROMPT_TOKENS
        assert result.usage["output_tokens"] == served * COMPLETION_TOKENS
        counted.append(served)
    assert counted[0] == counted[1]


def test_a_plain_text_reply_to_a_json_schema_request_is_read_not_a_dead_model() -> None:
    # Small models answer "math" where JSON was asked for; the openai SDK's streamed reader
    # then raises a bare ValueError. That is an unusable reply (next strategy), not a failure.
    with (
        OpenAIStub(reply=lambda body: "math") as server,
        Crossroads(
            "openai:stub",
            checkpointer="memory",
            router_threshold=1.01,
            max_llm_calls=12,
            model_kwargs={"base_url": server.api_url, "api_key": "not-needed"},
        ) as app,
    ):
        result = app.ask("How many legs do 3 spiders have?")
    assert result.route == "math", result.error
    assert result.steps[0]["detail"]["decided_by"] == "llm"
    assert "response_format" in server.requests[0]["json"]  # the native strategy was tried first
