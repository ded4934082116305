"""OpenTelemetry spans (the ``otel`` extra), read back from the SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode

from crossroads import Crossroads
from crossroads.testing import ScriptedChatModel
from crossroads.tracing import instrument, uninstrument

QUESTION = "I have 10 apples and I ate four. How many are left?"


@pytest.fixture
def exporter() -> Iterator[Callable[..., InMemorySpanExporter]]:
    def start(**options: Any) -> InMemorySpanExporter:
        memory = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        instrument(provider, **options)
        return memory

    yield start
    uninstrument()


def _model() -> ScriptedChatModel:
    return ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "arithmetic"}],
            "calculator": ["10 - 4", "You have 6 apples left."],
        }
    )


def test_request_node_and_model_call_spans(
    exporter: Callable[..., InMemorySpanExporter], make_app: Callable[..., Crossroads]
) -> None:
    memory = exporter()
    result = make_app(_model()).ask(QUESTION, thread_id="otel")
    assert result.answer == "You have 6 apples left."
    spans = memory.get_finished_spans()

    (request,) = [s for s in spans if s.name == "crossroads.request"]
    attributes = dict(request.attributes or {})
    assert attributes["crossroads.route"] == "math"
    assert attributes["crossroads.thread_id"] == "otel"
    assert attributes["crossroads.llm_calls"] == result.usage["llm_calls"] == 3
    assert attributes["crossroads.input_tokens"] == result.usage["input_tokens"] > 0
    assert request.status.status_code is not StatusCode.ERROR

    nodes = {
        dict(s.attributes or {})["crossroads.node"]: s for s in spans if s.name == "crossroads.node"
    }
    assert {"intake", "router", "calculator", "respond", "extract", "phrase"} <= set(nodes)
    assert dict(nodes["extract"].attributes or {})["crossroads.agent"] == "calculator"
    # Nesting: a node inside the calculator agent is a child of the calculator node's span.
    by_id = {s.context.span_id: s for s in spans}
    parent = by_id[nodes["extract"].parent.span_id]
    assert dict(parent.attributes or {})["crossroads.node"] == "calculator"
    assert nodes["router"].parent.span_id == request.context.span_id

    calls = [s for s in spans if s.name == "crossroads.llm"]
    roles = sorted(dict(s.attributes or {})["crossroads.role"] for s in calls)
    assert roles == ["calculator", "calculator", "router"]
    for call in calls:
        attributes = dict(call.attributes or {})
        assert attributes["gen_ai.usage.output_tokens"] > 0
        assert call.parent is not None and call.context.trace_id == request.context.trace_id
    # No prompt or reply text unless asked for.
    every_value = " ".join(str(v) for s in spans for v in dict(s.attributes or {}).values())
    assert "apples" not in every_value


def test_prompt_text_only_when_opted_in(
    exporter: Callable[..., InMemorySpanExporter], make_app: Callable[..., Crossroads]
) -> None:
    memory = exporter(capture_content=True)
    make_app(_model()).ask(QUESTION)
    calls = [s for s in memory.get_finished_spans() if s.name == "crossroads.llm"]
    prompts = [dict(s.attributes or {}).get("gen_ai.prompt", "") for s in calls]
    assert all("apples" in str(prompt) for prompt in prompts)
    assert any(
        "You have 6 apples left." in str(dict(s.attributes or {})["gen_ai.completion"])
        for s in calls
    )


def test_a_failed_model_call_is_an_error_span(
    exporter: Callable[..., InMemorySpanExporter], make_app: Callable[..., Crossroads]
) -> None:
    memory = exporter()
    model = ScriptedChatModel(by_role={"router": [ValueError("provider said no")]})
    result = make_app(model, model_retries=0, fallback_models=()).ask(QUESTION)
    spans = memory.get_finished_spans()
    failed = [
        s for s in spans if s.name == "crossroads.llm" and s.status.status_code is StatusCode.ERROR
    ]
    assert failed and "provider said no" in str(failed[0].status.description)
    (request,) = [s for s in spans if s.name == "crossroads.request"]
    assert result.error and "provider said no" in result.error
    assert request.status.status_code is StatusCode.ERROR
    assert "provider said no" in str(request.status.description)


def test_uninstrument_stops_spans(
    exporter: Callable[..., InMemorySpanExporter], make_app: Callable[..., Crossroads]
) -> None:
    memory = exporter()
    uninstrument()
    make_app(_model()).ask(QUESTION)
    assert memory.get_finished_spans() == ()
