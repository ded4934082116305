"""A small stand-in for an OpenAI-compatible chat server, over real HTTP on 127.0.0.1.

The real ``langchain-openai`` client (and the ``openai`` SDK under it) talks to it exactly as
it talks to Ollama, vLLM, LM Studio or llama.cpp's server. One endpoint is served,
``POST /v1/chat/completions``, plain or streamed (server-sent events, with a final usage
chunk when ``stream_options.include_usage`` is set), over keep-alive connections as real
servers do. Every request is recorded (``requests[i]["json"]`` is its body); every reply is
``reply(request_body)`` (default: ``"ok"``) with fixed token counts, so tests can compare what
Crossroads counted with what the server saw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

from tests.stubs import StubServer

PROMPT_TOKENS = 11
COMPLETION_TOKENS = 3


class OpenAIStub(StubServer):
    """``with OpenAIStub() as stub:`` serves on ``stub.api_url`` (``http://127.0.0.1:PORT/v1``)."""

    PROTOCOL: ClassVar[str] = "HTTP/1.1"

    def __init__(self, reply: Callable[[dict[str, Any]], str] = lambda body: "ok") -> None:
        super().__init__()
        self.reply = reply

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1"

    def handle(self, request: BaseHTTPRequestHandler, record: dict[str, Any]) -> None:
        if record["path"].rstrip("/") != "/v1/chat/completions":
            self.send_json(request, 404, {"error": "not found (stub)"})
            return
        body = record["json"] or {}
        text = self.reply(body)
        if not body.get("stream"):
            self.send_json(request, 200, completion(body, text))
            return
        events = [chunk(body, {"role": "assistant", "content": text}, None)]
        events.append(chunk(body, {}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**chunk(body, {}, None), "choices": [], "usage": usage()})
        lines = [f"data: {json.dumps(event)}\n\n" for event in events]
        payload = ("".join(lines) + "data: [DONE]\n\n").encode()
        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)


def usage() -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    }


def completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "stub"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": usage(),
    }


def chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "stub"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
