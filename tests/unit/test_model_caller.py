"""ModelCaller: retries of transient failures, Retry-After, fallbacks, usage."""

from __future__ import annotations

import time
from typing import Literal

import httpx
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from crossroads.llm import ModelCaller
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel

HI = [HumanMessage(content="hi")]


def rate_limited(seconds: str) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1")
    response = httpx.Response(429, headers={"Retry-After": seconds}, request=request)
    return httpx.HTTPStatusError("429 Too Many Requests", request=request, response=response)


async def test_transient_error_is_retried_after_the_requested_wait() -> None:
    model = ScriptedChatModel(replies=[rate_limited("0.3"), "fine"])
    caller = ModelCaller(Settings(model=model, model_retries=2), {}, "test")
    started = time.monotonic()
    reply = await caller.ainvoke("writer", [HumanMessage(content="hi")])
    assert reply.content == "fine"
    assert time.monotonic() - started >= 0.3  # the provider's Retry-After was honoured
    assert caller.usage_update()["llm_calls"] == 2


async def test_a_wait_longer_than_the_cap_goes_to_the_fallback_without_retrying() -> None:
    primary = ScriptedChatModel(replies=[rate_limited("120"), "too soon"])
    fallback = ScriptedChatModel(replies=["from the fallback"])
    settings = Settings(model=primary, fallback_models=(fallback,), model_retries=3)
    caller = ModelCaller(settings, {}, "test")
    started = time.monotonic()
    reply = await caller.ainvoke("writer", [HumanMessage(content="hi")])
    assert reply.content == "from the fallback"
    assert len(primary.calls) == 1
    assert time.monotonic() - started < 10  # it did not sleep 120 s


async def test_a_permanent_error_is_not_retried_on_the_same_model() -> None:
    primary = ScriptedChatModel(replies=[ValueError("bad request"), "unused"])
    fallback = ScriptedChatModel(replies=["ok"])
    settings = Settings(model=primary, fallback_models=(fallback,), model_retries=3)
    caller = ModelCaller(settings, {}, "test")
    assert (await caller.ainvoke("writer", [HumanMessage(content="hi")])).content == "ok"
    assert len(primary.calls) == 1


async def test_usage_is_counted_per_node_from_usage_metadata() -> None:
    model = ScriptedChatModel(replies=["one two three four"])
    caller = ModelCaller(Settings(model=model), {}, "writers.write")
    await caller.ainvoke("writer", [HumanMessage(content="x" * 40)])
    usage = caller.usage_update()
    assert usage["llm_calls"] == 1
    assert usage["input_tokens"] == 10
    assert usage["by_node"]["writers.write"]["output_tokens"] == usage["output_tokens"] > 0


async def test_a_call_that_timed_out_still_counts_its_prompt() -> None:
    # The server read the prompt (it may still be generating): a token budget that counted 0
    # for it would let a stalling model run on (issue 22).
    slow = ScriptedChatModel(replies=["late"], latency=5.0)
    fallback = ScriptedChatModel(replies=["ok"])
    settings = Settings(model=slow, fallback_models=(fallback,), request_timeout=0.2)
    caller = ModelCaller(settings, {}, "test")
    await caller.ainvoke("writer", [HumanMessage(content="x" * 400)])
    usage = caller.usage_update()
    assert usage["llm_calls"] == 2
    assert usage["input_tokens"] >= 100 + 100  # the timed-out prompt and the fallback's


# --- one retry of an unusable structured reply (the router's and the planner's) -----------


class Choice(BaseModel):
    pick: Literal["tea", "coffee"]


def _ask_again(error: str) -> str:
    return f"unusable ({error}); answer with tea or coffee"


async def test_an_unusable_structured_reply_is_asked_once_more_with_why() -> None:
    model = ScriptedChatModel(replies=["no idea", '{"pick": "tea"}'])
    caller = ModelCaller(Settings(model=model, structured_output="text"), {}, "test")
    reply = await caller.astructured("router", Choice, HI, retry=_ask_again)
    assert reply.parsed == Choice(pick="tea")
    first, second = model.calls
    assert "unusable (" not in first.prompt
    assert "unusable (the reply held no JSON object" in second.prompt
    assert caller.usage_update()["llm_calls"] == 2


async def test_a_structured_reply_unusable_twice_is_reported_not_retried_again() -> None:
    model = ScriptedChatModel(replies=["no idea", '{"pick": "milk"}', '{"pick": "tea"}'])
    caller = ModelCaller(Settings(model=model, structured_output="text"), {}, "test")
    reply = await caller.astructured("router", Choice, HI, retry=_ask_again)
    assert reply.parsed is None and reply.error is not None and "pick" in reply.error
    assert len(model.calls) == 2


async def test_without_a_retry_message_an_unusable_reply_is_reported_at_once() -> None:
    model = ScriptedChatModel(replies=["no idea", '{"pick": "tea"}'])
    caller = ModelCaller(Settings(model=model, structured_output="text"), {}, "test")
    reply = await caller.astructured("router", Choice, HI)
    assert reply.parsed is None and len(model.calls) == 1


async def test_a_usable_structured_reply_is_not_asked_again() -> None:
    model = ScriptedChatModel(replies=['{"pick": "coffee"}'])
    caller = ModelCaller(Settings(model=model, structured_output="text"), {}, "test")
    reply = await caller.astructured("router", Choice, HI, retry=_ask_again)
    assert reply.parsed == Choice(pick="coffee") and len(model.calls) == 1
