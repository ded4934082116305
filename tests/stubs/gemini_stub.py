"""A scriptable stand-in for the Gemini API, served over real HTTP on 127.0.0.1.

Integration tests point the real ``ChatGoogleGenerativeAI`` client (and the
``google-genai`` SDK under it) at this server, so every byte the client sends and
parses goes through the same code it runs in production. Only the two endpoints
that chat models use are served:

* ``POST /v1beta/models/{model}:generateContent`` answers with one JSON object;
* ``POST /v1beta/models/{model}:streamGenerateContent?alt=sse`` answers with
  server-sent events (``data: {...}`` blocks) in chunked transfer encoding, the
  text split over several events and usage counted cumulatively, as Gemini does.

What each request gets is decided, in this order, by

1. the *responder* hook, a callable that sees the :class:`RecordedRequest`
   (prompt text, tools, schema) and returns an action or ``None`` to pass;
2. the *queue* of actions added with :meth:`GeminiStub.enqueue`, first in first out;
3. the *default* action (``None`` makes an unscripted request fail loudly with 501).

Actions are small frozen dataclasses: :class:`TextReply`, :class:`FunctionCallReply`,
:class:`StructuredReply` (answers a ``with_structured_output`` call in whichever of the
two wire forms the request asked for), and the faults :class:`RateLimited` (429 with a
``google.rpc.RetryInfo`` detail and a ``Retry-After`` header), :class:`ServerFailure`
(5xx), :class:`Hang`, :class:`DropConnection` and :class:`MalformedJson`.

Every request is recorded (path, model, headers, parsed body) before it is answered,
so tests can assert on prompts and count calls.

Typical use::

    with GeminiStub() as stub:
        stub.enqueue(RateLimited(retry_delay_s=2), TextReply("Paris"))
        model = ChatGoogleGenerativeAI(
            model="gemini-2.5-flash", google_api_key="test",
            base_url=stub.base_url, max_retries=0,
        )
        ...
        assert stub.requests[-1].last_user_text == "Capital of France?"
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

# Paths the google-genai SDK builds for chat calls on the Gemini Developer API.
ENDPOINT_PATTERN = re.compile(
    r"^/(?P<version>v1beta|v1alpha|v1)/models/(?P<model>[^/:]+)"
    r":(?P<method>generateContent|streamGenerateContent)$"
)

ERROR_UNKNOWN_PATH = (
    "GeminiStub serves only models/{model}:generateContent and :streamGenerateContent"
)
ERROR_BODY_NOT_JSON = "GeminiStub: the request body is not a JSON object"
ERROR_STREAM_NEEDS_SSE = "GeminiStub streams only with alt=sse (what google-genai sends)"
ERROR_UNSCRIPTED = (
    "GeminiStub has no scripted reply for this request: enqueue one, set a responder "
    "or give the stub a default action"
)
ERROR_NO_FUNCTION_FOR_STRUCTURED = (
    "StructuredReply: the request asked neither for JSON (responseMimeType) nor for a "
    "function call (tools), so there is no wire form to answer in"
)
ERROR_RESPONDER_FAILED = "GeminiStub: the responder raised {error!r}"
ERROR_NOT_A_SERVER_STATUS = "ServerFailure needs a 5xx status, got {status}"
MESSAGE_RATE_LIMITED = "Resource has been exhausted (e.g. check quota)."
MESSAGE_SERVER_FAILURE = {
    500: ("INTERNAL", "An internal error has occurred. Please retry or report the issue."),
    502: ("UNAVAILABLE", "Bad gateway."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out. Please try again."),
}
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
QUOTA_FAILURE_TYPE = "type.googleapis.com/google.rpc.QuotaFailure"

# How long a connection may sit idle between keep-alive requests before the handler
# thread gives up on it; short, so no thread outlives a test by much.
IDLE_CONNECTION_TIMEOUT_S = 5.0


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True, kw_only=True)
class _ContentReply:
    """Fields shared by the replies that carry a candidate.

    Token counts default to whitespace-separated word counts of the prompt and of
    the reply, which keeps them deterministic and easy to predict in a test.
    """

    prompt_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str = "STOP"


@dataclass(frozen=True)
class TextReply(_ContentReply):
    """Answer with text; streamed as ``stream_chunks`` events split at word boundaries."""

    text: str
    stream_chunks: int = 3


@dataclass(frozen=True)
class FunctionCallReply(_ContentReply):
    """Answer with a ``functionCall`` part (what ``bind_tools`` turns into a tool call)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StructuredReply(_ContentReply):
    """Answer a structured-output request with ``data``.

    ``with_structured_output`` sends either ``generationConfig.responseMimeType =
    application/json`` (method ``json_schema``, langchain-google-genai's default) or a
    forced function call (method ``function_calling``). This reply looks at the
    request and uses the matching form: JSON text, or a ``functionCall`` named after
    the only allowed (or first declared) function.
    """

    data: Mapping[str, Any]


@dataclass(frozen=True)
class RateLimited:
    """Answer 429 RESOURCE_EXHAUSTED with a RetryInfo detail and a Retry-After header.

    ``retry_after_header=None`` sends no header, for testing RetryInfo on its own.
    """

    retry_delay: str = "7s"
    retry_after_header: str | None = "7"


@dataclass(frozen=True)
class ServerFailure:
    """Answer with a Google-shaped 5xx error (500, 502, 503 or 504)."""

    status: int = 503

    def __post_init__(self) -> None:
        if not 500 <= self.status <= 599:
            raise ValueError(ERROR_NOT_A_SERVER_STATUS.format(status=self.status))


@dataclass(frozen=True)
class Hang:
    """Accept the request and say nothing for ``seconds`` (longer than the client's timeout).

    The wait ends early when the stub stops, so a hang never holds up shutdown.
    """

    seconds: float = 30.0


@dataclass(frozen=True)
class DropConnection:
    """Close the socket without writing a single byte of response."""


@dataclass(frozen=True)
class MalformedJson:
    """Answer 200 with a body (or SSE event) that is not valid JSON."""

    body: str = '{"candidates": [{"content": {"parts": [{"text": "cut off'


StubAction = (
    TextReply
    | FunctionCallReply
    | StructuredReply
    | RateLimited
    | ServerFailure
    | Hang
    | DropConnection
    | MalformedJson
)


# --------------------------------------------------------------------------- requests


def _part_texts(content: Any) -> list[str]:
    """Texts of the ``text`` parts of one Gemini ``Content`` object (robust to junk)."""
    if not isinstance(content, Mapping):
        return []
    parts = content.get("parts")
    if not isinstance(parts, list):
        return []
    return [p["text"] for p in parts if isinstance(p, Mapping) and isinstance(p.get("text"), str)]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stub received it.

    Attributes:
        method: HTTP method (always ``POST`` for the served endpoints).
        path: URL path without the query string.
        query: Query parameters (first value of each).
        model: Model name taken from the path (``gemini-2.5-flash``); empty if unknown.
        stream: Whether this was ``streamGenerateContent``.
        headers: Request headers, names lower-cased.
        body: The parsed JSON body (empty when it was not JSON).
        received_at: ``time.monotonic()`` when the request arrived, for measuring the
            gaps a client leaves between retries.
    """

    method: str
    path: str
    query: Mapping[str, str]
    model: str
    stream: bool
    headers: Mapping[str, str]
    body: Mapping[str, Any]
    received_at: float

    @property
    def system_text(self) -> str:
        """Text of ``systemInstruction``, parts joined by newlines."""
        return "\n".join(_part_texts(self.body.get("systemInstruction")))

    @property
    def prompt_text(self) -> str:
        """Text of every part of every turn in ``contents``, joined by newlines."""
        contents = self.body.get("contents")
        if not isinstance(contents, list):
            return ""
        return "\n".join(text for turn in contents for text in _part_texts(turn))

    @property
    def last_user_text(self) -> str:
        """Text of the last ``user`` turn: the question a single call is about."""
        contents = self.body.get("contents")
        if not isinstance(contents, list):
            return ""
        for turn in reversed(contents):
            if isinstance(turn, Mapping) and turn.get("role") == "user":
                texts = _part_texts(turn)
                if texts:
                    return "\n".join(texts)
        return ""

    @property
    def function_names(self) -> tuple[str, ...]:
        """Names of all declared functions (tools), in declaration order."""
        names: list[str] = []
        tools = self.body.get("tools")
        for tool in tools if isinstance(tools, list) else []:
            declarations = tool.get("functionDeclarations") if isinstance(tool, Mapping) else None
            for declaration in declarations if isinstance(declarations, list) else []:
                if isinstance(declaration, Mapping) and isinstance(declaration.get("name"), str):
                    names.append(declaration["name"])
        return tuple(names)

    @property
    def allowed_function_names(self) -> tuple[str, ...]:
        """``toolConfig.functionCallingConfig.allowedFunctionNames`` (forced tool choice)."""
        config = self.body.get("toolConfig")
        calling = config.get("functionCallingConfig") if isinstance(config, Mapping) else None
        names = calling.get("allowedFunctionNames") if isinstance(calling, Mapping) else None
        return tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()

    @property
    def generation_config(self) -> Mapping[str, Any]:
        """``generationConfig`` (temperature, responseMimeType, schema, ...)."""
        config = self.body.get("generationConfig")
        return config if isinstance(config, Mapping) else {}

    @property
    def wants_json(self) -> bool:
        """Whether the request asked for a JSON body (structured output, JSON mode)."""
        return self.generation_config.get("responseMimeType") == "application/json"


Responder = Callable[[RecordedRequest], StubAction | None]
"""Chooses a reply from the request, or returns ``None`` to let the queue decide."""


# --------------------------------------------------------------------------- wire format


def _word_count(text: str) -> int:
    return len(text.split())


def _split_words(text: str, pieces: int) -> list[str]:
    """Split ``text`` into at most ``pieces`` consecutive pieces that join back exactly."""
    words = re.findall(r"\S+\s*|\s+", text)
    if pieces <= 1 or len(words) <= 1:
        return [text]
    pieces = min(pieces, len(words))
    size, extra = divmod(len(words), pieces)
    chunks, start = [], 0
    for index in range(pieces):
        end = start + size + (1 if index < extra else 0)
        chunks.append("".join(words[start:end]))
        start = end
    return chunks


def _usage(prompt_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens,
    }


def _response_json(
    parts: list[dict[str, Any]],
    *,
    finish_reason: str | None,
    usage: dict[str, int],
    model_version: str,
    response_id: str,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model_version,
        "responseId": response_id,
    }


def _error_json(code: int, status: str, message: str, details: list[Any] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return json.dumps({"error": error}).encode()


# --------------------------------------------------------------------------- server


class _StubHTTPServer(ThreadingHTTPServer):
    """Threaded server that remembers its open sockets so ``stop`` can cut them."""

    daemon_threads = True
    block_on_close = False
    # The listen backlog. socketserver's default of 5 makes the kernel reset connections
    # when a load test opens a hundred at once; the kernel caps it at somaxconn anyway.
    request_queue_size = 1024
    stub: GeminiStub

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that went away mid-reply (they timed out on purpose in tests)."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        super().handle_error(request, client_address)


class _GeminiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API; httpx pools connections
    timeout = IDLE_CONNECTION_TIMEOUT_S
    server: _StubHTTPServer
    server_version = "GeminiStub/1"

    def setup(self) -> None:
        super().setup()
        self.server.stub._track(self.connection, opened=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.stub._track(self.connection, opened=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: pytest shows stderr of failing tests, and access logs are noise."""

    def do_POST(self) -> None:
        stub = self.server.stub
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = None
        match = ENDPOINT_PATTERN.match(split.path)
        query = {key: values[0] for key, values in parse_qs(split.query).items()}
        request = RecordedRequest(
            method="POST",
            path=split.path,
            query=query,
            model=match["model"] if match else "",
            stream=bool(match and match["method"] == "streamGenerateContent"),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=parsed if isinstance(parsed, dict) else {},
            received_at=time.monotonic(),
        )
        stub._record(request)
        if match is None:
            self._send_json(404, _error_json(404, "NOT_FOUND", ERROR_UNKNOWN_PATH))
            return
        if not isinstance(parsed, dict):
            self._send_json(400, _error_json(400, "INVALID_ARGUMENT", ERROR_BODY_NOT_JSON))
            return
        if request.stream and query.get("alt") != "sse":
            self._send_json(400, _error_json(400, "INVALID_ARGUMENT", ERROR_STREAM_NEEDS_SSE))
            return
        try:
            action = stub._next_action(request)
        except Exception as error:  # a broken test hook must fail the call, not the socket
            message = ERROR_RESPONDER_FAILED.format(error=error)
            self._send_json(501, _error_json(501, "UNIMPLEMENTED", message))
            return
        if action is None:
            self._send_json(501, _error_json(501, "UNIMPLEMENTED", ERROR_UNSCRIPTED))
            return
        self._perform(action, request)

    def do_GET(self) -> None:
        self._send_json(404, _error_json(404, "NOT_FOUND", ERROR_UNKNOWN_PATH))

    # -- actions ------------------------------------------------------------------

    def _perform(self, action: StubAction, request: RecordedRequest) -> None:
        stub = self.server.stub
        if isinstance(action, Hang):
            # Wake on stop so a hanging reply never delays the end of a test.
            stub._stopping.wait(action.seconds)
            self.close_connection = True
            return
        if isinstance(action, DropConnection):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(action, MalformedJson):
            if request.stream:
                self._send_sse([action.body])
            else:
                self._send_json(200, action.body.encode())
            return
        if isinstance(action, RateLimited):
            details = [
                {
                    "@type": QUOTA_FAILURE_TYPE,
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        }
                    ],
                },
                {"@type": RETRY_INFO_TYPE, "retryDelay": action.retry_delay},
            ]
            headers = {}
            if action.retry_after_header is not None:
                headers["Retry-After"] = action.retry_after_header
            body = _error_json(429, "RESOURCE_EXHAUSTED", MESSAGE_RATE_LIMITED, details)
            self._send_json(429, body, headers)
            return
        if isinstance(action, ServerFailure):
            status, message = MESSAGE_SERVER_FAILURE.get(
                action.status, ("INTERNAL", "Server error.")
            )
            self._send_json(action.status, _error_json(action.status, status, message))
            return
        self._send_candidate(action, request)

    def _send_candidate(
        self, action: TextReply | FunctionCallReply | StructuredReply, request: RecordedRequest
    ) -> None:
        stub = self.server.stub
        model_version = stub.model_version or request.model
        response_id = f"stub-{stub.request_count}"
        prompt_tokens = (
            action.prompt_tokens
            if action.prompt_tokens is not None
            else _word_count(request.system_text) + _word_count(request.prompt_text)
        )
        chunks: list[list[dict[str, Any]]]
        if isinstance(action, StructuredReply):
            action_parts = self._structured_parts(action, request)
            if action_parts is None:
                self._send_json(
                    400, _error_json(400, "INVALID_ARGUMENT", ERROR_NO_FUNCTION_FOR_STRUCTURED)
                )
                return
            chunks = [action_parts]
        elif isinstance(action, FunctionCallReply):
            chunks = [[{"functionCall": {"name": action.name, "args": dict(action.args)}}]]
        else:
            pieces = _split_words(action.text, action.stream_chunks if request.stream else 1)
            chunks = [[{"text": piece}] for piece in pieces]
        # Output tokens are counted on the whole reply, then spread over the chunks so
        # the cumulative count of the last chunk equals the total, as Gemini reports.
        reply_text = " ".join(
            part["text"] if "text" in part else json.dumps(part["functionCall"]["args"])
            for chunk in chunks
            for part in chunk
        )
        total_output = (
            action.output_tokens if action.output_tokens is not None else _word_count(reply_text)
        )
        events: list[dict[str, Any]] = []
        for index, parts in enumerate(chunks):
            last = index == len(chunks) - 1
            so_far = total_output if last else (total_output * (index + 1)) // len(chunks)
            events.append(
                _response_json(
                    parts,
                    finish_reason=action.finish_reason if last else None,
                    usage=_usage(prompt_tokens, so_far),
                    model_version=model_version,
                    response_id=response_id,
                )
            )
        if request.stream:
            self._send_sse([json.dumps(event) for event in events])
        else:  # a non-streamed reply was built as exactly one chunk
            self._send_json(200, json.dumps(events[0]).encode())

    @staticmethod
    def _structured_parts(
        action: StructuredReply, request: RecordedRequest
    ) -> list[dict[str, Any]] | None:
        if request.wants_json:
            return [{"text": json.dumps(dict(action.data))}]
        names = request.allowed_function_names or request.function_names
        if not names:
            return None
        return [{"functionCall": {"name": names[0], "args": dict(action.data)}}]

    # -- writing ------------------------------------------------------------------

    def _send_json(
        self, status: int, body: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_sse(self, events: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            self._write_chunk(f"data: {event}\r\n\r\n".encode())
        self._write_chunk(b"")  # zero-length chunk ends the body

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class GeminiStub:
    """A Gemini API server on 127.0.0.1 that answers from a script.

    Args:
        default: Action for requests that neither the responder nor the queue
            answers; ``None`` makes such requests fail with HTTP 501.
        responder: Optional hook consulted first for every request.
        model_version: ``modelVersion`` to report; by default the model in the URL.
    """

    def __init__(
        self,
        *,
        default: StubAction | None = None,
        responder: Responder | None = None,
        model_version: str | None = None,
    ) -> None:
        self.default = default
        self.responder = responder
        self.model_version = model_version
        self._queue: deque[StubAction] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._open_sockets: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _StubHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _StubHTTPServer(("127.0.0.1", 0), _GeminiHandler)
        server.stub = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake hanging replies, cut open connections, free the port."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            sockets = list(self._open_sockets)
        for sock in sockets:
            # A socket may already be closed by the client or the handler.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the stub listens on (only while started)."""
        if self._server is None:
            raise RuntimeError("GeminiStub is not running: use `with GeminiStub() as stub:`")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to ``ChatGoogleGenerativeAI``."""
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *actions: StubAction) -> None:
        """Append actions; each answers one request, in order."""
        with self._lock:
            self._queue.extend(actions)

    @property
    def pending(self) -> int:
        """How many queued actions have not been used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many requests have been received so far."""
        with self._lock:
            return len(self._requests)

    def clear(self) -> None:
        """Forget recorded requests and queued actions (default and responder stay)."""
        with self._lock:
            self._requests.clear()
            self._queue.clear()

    # -- used by the handler ------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_action(self, request: RecordedRequest) -> StubAction | None:
        responder = self.responder
        if responder is not None:
            chosen = responder(request)
            if chosen is not None:
                return chosen
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.default

    def _track(self, sock: socket.socket, *, opened: bool) -> None:
        with self._lock:
            if opened:
                self._open_sockets.add(sock)
            else:
                self._open_sockets.discard(sock)
