"""ScriptedChatModel: the fake chat model every offline test relies on."""

from __future__ import annotations

import asyncio
import threading
from typing import Literal

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from crossroads.llm import CURRENT_ROLE
from crossroads.testing import ScriptedChatModel, ScriptExhausted, tool_call


class Choice(BaseModel):
    route: Literal["math", "fact", "none"]
    reason: str


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_invoke_carries_usage_and_model_name() -> None:
    model = ScriptedChatModel(replies=["four words right here"], model_name="scripted-x")
    reply = model.invoke("hello there")
    assert reply.content == "four words right here"
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] > 0
    assert reply.usage_metadata["input_tokens"] > 0
    assert reply.response_metadata["model_name"] == "scripted-x"


async def test_async_and_streaming_paths() -> None:
    model = ScriptedChatModel(replies=["one two three", "a b"])
    assert (await model.ainvoke("x")).content == "one two three"
    chunks = [chunk async for chunk in model.astream("y")]
    assert "".join(str(c.content) for c in chunks) == "a b"
    assert len([c for c in chunks if c.content]) == 2
    assert any(c.usage_metadata for c in chunks)


def test_sync_stream_yields_word_chunks() -> None:
    model = ScriptedChatModel(replies=["alpha beta gamma"])
    pieces = [str(chunk.content) for chunk in model.stream("go")]
    assert "".join(pieces) == "alpha beta gamma"
    assert len([p for p in pieces if p]) == 3


def test_structured_output_from_a_dict() -> None:
    model = ScriptedChatModel(replies=[{"route": "fact", "reason": "a who question"}])
    parsed = model.with_structured_output(Choice).invoke("who?")
    assert parsed == Choice(route="fact", reason="a who question")


def test_structured_output_with_text_reply_is_reported_not_raised() -> None:
    model = ScriptedChatModel(replies=["I think it's math"])
    out = model.with_structured_output(Choice, include_raw=True).invoke("?")
    assert out["parsed"] is None
    assert isinstance(out["raw"], AIMessage)


def test_bind_tools_replies_with_tool_calls() -> None:
    model = ScriptedChatModel(replies=[tool_call("add", {"a": 2, "b": 3}), {"a": 1, "b": 1}])
    bound = model.bind_tools([add])
    first = bound.invoke("add 2 and 3")
    assert first.tool_calls[0]["name"] == "add"
    assert first.tool_calls[0]["args"] == {"a": 2, "b": 3}
    second = bound.invoke("add 1 and 1")  # a dict with one bound tool becomes its call
    assert second.tool_calls[0]["args"] == {"a": 1, "b": 1}
    assert model.calls[0].tools == ("add",)


async def test_stream_of_a_structured_reply_still_parses() -> None:
    model = ScriptedChatModel(replies=[{"route": "none", "reason": "chat"}])
    structured = model.with_structured_output(Choice)
    results = [part async for part in structured.astream("hi")]
    assert results[-1] == Choice(route="none", reason="chat")


def test_role_queues_then_rules_then_general_queue_then_default() -> None:
    model = ScriptedChatModel(
        by_role={"router": ["from role"]},
        rules=[(r"pyramids", "from rule")],
        replies=["from queue"],
        default="from default",
    )
    token = CURRENT_ROLE.set("router")
    try:
        assert model.invoke("pyramids").content == "from role"
        assert model.invoke("pyramids").content == "from rule"  # role queue is used up
    finally:
        CURRENT_ROLE.reset(token)
    assert model.invoke("something").content == "from queue"
    assert model.invoke("something").content == "from default"
    assert [call.role for call in model.calls] == ["router", "router", None, None]


def test_role_from_a_tag_when_called_outside_crossroads() -> None:
    model = ScriptedChatModel(by_role={"critic": ["fine"]})
    assert model.with_config(tags=["role:critic"]).invoke("check").content == "fine"
    assert model.calls_for("critic")


def test_exhausted_script_names_the_role_and_prompt() -> None:
    model = ScriptedChatModel()
    with pytest.raises(ScriptExhausted, match=r"role None.*what now"):
        model.invoke("what now")


def test_scripted_exceptions_and_callables() -> None:
    model = ScriptedChatModel(
        replies=[TimeoutError("slow"), lambda messages: f"echo {messages[-1].content}"]
    )
    with pytest.raises(TimeoutError):
        model.invoke("a")
    assert model.invoke([HumanMessage(content="b")]).content == "echo b"


def test_concurrent_calls_each_get_exactly_one_reply() -> None:
    replies = [f"r{i}" for i in range(200)]
    model = ScriptedChatModel(replies=list(replies))
    seen: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            text = str(model.invoke("q").content)
            with lock:
                seen.append(text)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == sorted(replies)


async def test_concurrent_async_calls_with_latency_overlap() -> None:
    model = ScriptedChatModel(default="ok", latency=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(model.ainvoke("q") for _ in range(20)))
    assert loop.time() - started < 2.0  # 20 x 0.2 s would be 4 s if serialised
