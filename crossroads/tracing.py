"""OpenTelemetry tracing, not tied to one vendor (the ``otel`` extra).

    from opentelemetry.sdk.trace import TracerProvider
    from crossroads.tracing import instrument

    instrument(provider)          # or instrument() to use the global tracer provider
    Crossroads().ask("What is 15% of 240?")

From then on every run in the process (``Crossroads``, the CLI's app, a graph you compile
yourself, ``langgraph dev`` if your agent module calls it) emits:

* ``crossroads.request``: one per run of a graph: ``crossroads.thread_id``, and when it ends
  ``crossroads.route``, ``crossroads.mode``, ``crossroads.llm_calls``, the token totals and
  ``crossroads.error`` (status ERROR when the request failed);
* ``crossroads.node``: one per graph node (``crossroads.node``, ``crossroads.agent``: the
  agent subgraph it belongs to, if any), nested as the graph nests;
* ``crossroads.llm``: one per model call (``crossroads.role``, ``gen_ai.request.model``,
  ``gen_ai.usage.input_tokens`` / ``output_tokens``; status ERROR with the exception when the
  call failed).

Prompt and reply text are **not** recorded unless you pass ``capture_content=True`` (then
``gen_ai.prompt`` and ``gen_ai.completion``, clipped to 4,000 characters). Spans go wherever
the provider's exporters send them (OTLP to Jaeger, Tempo, Honeycomb, Langfuse...). It works
beside LangSmith (``LANGSMITH_TRACING=true``); the two do not know of each other.

It is a LangChain callback handler registered with ``langchain_core``'s configure hook, so
the graphs need no change. Needs the ``otel`` extra: ``pip install 'crossroads[otel]'``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

from crossroads.errors import ConfigurationError

MISSING_EXTRA = "tracing needs the otel extra: pip install 'crossroads[otel]'"
MAX_CONTENT_CHARS = 4_000
REQUEST_SPAN = "crossroads.request"
NODE_SPAN = "crossroads.node"
LLM_SPAN = "crossroads.llm"


class OpenTelemetryHandler(BaseCallbackHandler):
    """Turns LangGraph/LangChain run events into OpenTelemetry spans (see the module doc)."""

    raise_error = False
    run_inline = True

    def __init__(self, tracer: Any, *, capture_content: bool = False) -> None:
        self.tracer = tracer
        self.capture_content = capture_content
        self.enabled = True
        self._spans: dict[UUID, Any] = {}
        self._owner: dict[UUID, UUID | None] = {}  # run -> the run whose span is its parent
        self._lock = threading.Lock()

    # -- bookkeeping ------------------------------------------------------------------

    def _parent_span(self, parent_run_id: UUID | None) -> Any:
        with self._lock:
            run = parent_run_id
            while run is not None:
                if run in self._spans:
                    return self._spans[run]
                run = self._owner.get(run)
        return None

    def _start(
        self, name: str, run_id: UUID, parent_run_id: UUID | None, attributes: dict[str, Any]
    ) -> None:
        from opentelemetry import trace

        parent = self._parent_span(parent_run_id)
        context = trace.set_span_in_context(parent) if parent is not None else None
        span = self.tracer.start_span(
            name, context=context, attributes={k: v for k, v in attributes.items() if v is not None}
        )
        with self._lock:
            self._spans[run_id] = span
            self._owner[run_id] = parent_run_id

    def _remember(self, run_id: UUID, parent_run_id: UUID | None) -> None:
        with self._lock:
            self._owner[run_id] = parent_run_id

    def _end(self, run_id: UUID, error: BaseException | None = None) -> None:
        from opentelemetry.trace import Status, StatusCode

        with self._lock:
            span = self._spans.pop(run_id, None)
            self._owner.pop(run_id, None)
        if span is None:
            return
        if error is not None and not _is_pause(error):
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:200]))
        span.end()

    # -- graphs and nodes ---------------------------------------------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        metadata = metadata or {}
        name = kwargs.get("name") or (serialized or {}).get("name") or ""
        node = metadata.get("langgraph_node")
        if parent_run_id is None:
            self._start(
                REQUEST_SPAN,
                run_id,
                None,
                {"crossroads.graph": str(name), "crossroads.thread_id": metadata.get("thread_id")},
            )
        elif node and name == node:
            namespace = str(metadata.get("langgraph_checkpoint_ns") or "")
            agent = namespace.split(":", 1)[0] if "|" in namespace else None
            self._start(
                NODE_SPAN,
                run_id,
                parent_run_id,
                {"crossroads.node": str(node), "crossroads.agent": agent},
            )
        else:
            self._remember(run_id, parent_run_id)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            span = self._spans.get(run_id)
            is_request = span is not None and self._owner.get(run_id) is None
        if is_request and isinstance(outputs, Mapping):
            _set_result(span, outputs)
        self._end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    # -- model calls --------------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not self.enabled:
            return
        metadata = metadata or {}
        params = kwargs.get("invocation_params") or {}
        model = params.get("model") or params.get("model_name") or metadata.get("ls_model_name")
        attributes: dict[str, Any] = {
            "crossroads.role": metadata.get("crossroads_role"),
            "crossroads.node": metadata.get("langgraph_node"),
            "gen_ai.request.model": str(model) if model else None,
            "gen_ai.system": metadata.get("ls_provider"),
        }
        if self.capture_content:
            text = "\n".join(f"{m.type}: {m.text}" for batch in messages for m in batch)
            attributes["gen_ai.prompt"] = text[:MAX_CONTENT_CHARS]
        self._start(LLM_SPAN, run_id, parent_run_id, attributes)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            span = self._spans.get(run_id)
        if span is not None:
            for batch in response.generations:
                for generation in batch:
                    message = getattr(generation, "message", None)
                    usage = getattr(message, "usage_metadata", None) or {}
                    span.set_attribute(
                        "gen_ai.usage.input_tokens", int(usage.get("input_tokens", 0) or 0)
                    )
                    span.set_attribute(
                        "gen_ai.usage.output_tokens", int(usage.get("output_tokens", 0) or 0)
                    )
                    if self.capture_content:
                        span.set_attribute(
                            "gen_ai.completion", str(generation.text)[:MAX_CONTENT_CHARS]
                        )
        self._end(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)


def _is_pause(error: BaseException) -> bool:
    """A graph pausing for a person (``interrupt``) is not a failure."""
    return type(error).__name__ in {"GraphInterrupt", "NodeInterrupt", "ParentCommand"}


def _set_result(span: Any, outputs: Mapping[str, Any]) -> None:
    from opentelemetry.trace import Status, StatusCode

    for key in ("route", "mode"):
        if outputs.get(key):
            span.set_attribute(f"crossroads.{key}", str(outputs[key]))
    usage = outputs.get("usage")
    if isinstance(usage, Mapping):
        for key in ("llm_calls", "input_tokens", "output_tokens"):
            if key in usage:
                span.set_attribute(f"crossroads.{key}", int(usage[key] or 0))
    error = outputs.get("error")
    if error:
        span.set_attribute("crossroads.error", str(error)[:500])
        span.set_status(Status(StatusCode.ERROR, str(error)[:200]))


_handler: OpenTelemetryHandler | None = None
_hook_lock = threading.Lock()


def instrument(
    tracer_provider: Any = None, *, capture_content: bool = False
) -> OpenTelemetryHandler:
    """Emit OpenTelemetry spans for every Crossroads run in this process.

    Calling it again changes the provider and ``capture_content`` of the one handler.

    Args:
        tracer_provider: An ``opentelemetry.sdk.trace.TracerProvider`` (default: the global
            one, see ``opentelemetry.trace.set_tracer_provider``).
        capture_content: Record prompt and reply text on model-call spans.

    Raises:
        ConfigurationError: the ``otel`` extra is not installed.
    """
    global _handler
    try:
        from opentelemetry import trace
    except ImportError:
        raise ConfigurationError(MISSING_EXTRA) from None
    from langchain_core.tracers.context import register_configure_hook

    from crossroads import __version__

    tracer = trace.get_tracer("crossroads", __version__, tracer_provider=tracer_provider)
    with _hook_lock:
        if _handler is None:
            _handler = OpenTelemetryHandler(tracer, capture_content=capture_content)
            # A context variable whose default is the handler: every run in every thread
            # (Crossroads runs its graph on a loop thread of its own) picks it up.
            variable: ContextVar[OpenTelemetryHandler | None] = ContextVar(
                "crossroads_otel", default=_handler
            )
            register_configure_hook(variable, inheritable=True)
        else:
            _handler.tracer = tracer
            _handler.capture_content = capture_content
        _handler.enabled = True
    return _handler


def uninstrument() -> None:
    """Stop emitting spans (runs already started still end their spans)."""
    if _handler is not None:
        _handler.enabled = False


__all__: Sequence[str] = ["OpenTelemetryHandler", "instrument", "uninstrument"]
