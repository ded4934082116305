"""A small stand-in for an OpenAI-compatible chat server, over real HTTP on 127.0.0.1.

The real ``langchain-openai`` client (and the ``openai`` SDK under it) talks to it exactly as
it talks to Ollama, vLLM, LM Studio or llama.cpp's server. One endpoint is served,
``POST /v1/chat/completions``, plain or streamed (server-sent events, with a final usage
chunk when ``stream_options.include_usage`` is set). Every request is recorded; every reply
is ``reply(request_body)`` (default: ``"ok"``) with fixed token counts, so tests can compare
what Crossroads counted with what the server saw.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

PROMPT_TOKENS = 11
COMPLETION_TOKENS = 3


class OpenAIStub:
    """``with OpenAIStub() as stub:`` serves on ``stub.base_url`` (``http://127.0.0.1:PORT/v1``)."""

    def __init__(self, reply: Callable[[dict[str, Any]], str] = lambda body: "ok") -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append(body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self.send_error(404)
                    return
                text = stub.reply(body)
                if body.get("stream"):
                    self._stream(body, text)
                else:
                    self._send(200, "application/json", json.dumps(completion(body, text)))

            def _send(self, status: int, kind: str, payload: str) -> None:
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], text: str) -> None:
                events = [chunk(body, {"role": "assistant", "content": text}, None)]
                events.append(chunk(body, {}, "stop"))
                if (body.get("stream_options") or {}).get("include_usage"):
                    events.append({**chunk(body, {}, None), "choices": [], "usage": usage()})
                lines = [f"data: {json.dumps(event)}\n\n" for event in events]
                self._send(200, "text/event-stream", "".join(lines) + "data: [DONE]\n\n")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


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
