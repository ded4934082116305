"""Stub HTTP servers on 127.0.0.1 that speak real wire protocols, for integration tests.

Each stub is a context manager that starts a threaded HTTP server on a free loopback port and
stops it on exit::

    with WikipediaStub() as stub:
        WikipediaRetriever(api_url=stub.api_url).search("Egyptian pyramids", k=2)

Every stub has a ``mode`` that can be changed while it runs (``"ok"``; ``"slow"``, which answers
after ``slow_seconds``; ``"stall"``, which answers nothing for ``stall_seconds``; ``"error500"``;
and per-stub extras), and records the requests it received in ``requests``.
A stalled handler waits on an event that is set when the stub stops, so closing a stub never
waits for a stall to end.

Shared here: :class:`StubServer` (the server plumbing) and :data:`CORPUS`, a handful of short
articles that all stubs serve, so tests can use the same questions against every backend.
"""

from __future__ import annotations

import json
import threading
import types
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Article:
    """One article of the built-in corpus."""

    pageid: int
    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


CORPUS: tuple[Article, ...] = (
    Article(
        736,
        "Egyptian pyramids",
        (
            "The Egyptian pyramids are ancient masonry structures located in Egypt. "
            "Most were built as tombs for the pharaohs and their consorts during the Old and "
            "Middle Kingdom periods.",
            "== Construction ==\nThe pyramids were built with limestone blocks quarried nearby. "
            "Workers moved the blocks on sledges and ramps.",
            "The Great Pyramid of Giza, built for the pharaoh Khufu, is the largest Egyptian "
            "pyramid and the only one of the Seven Wonders of the Ancient World still standing.",
        ),
    ),
    Article(
        22989,
        "Paris",
        (
            "Paris is the capital and largest city of France, on the river Seine.",
            "== Landmarks ==\nThe Eiffel Tower was completed in 1889 for the World's Fair.",
        ),
    ),
    Article(
        20408,
        "Marie Curie",
        (
            "Marie Curie was a Polish and naturalised-French physicist and chemist who conducted "
            "pioneering research on radioactivity.",
            "She was the first woman to win a Nobel Prize and the only person to win Nobel Prizes "
            "in two scientific fields, physics and chemistry.",
        ),
    ),
)


class StubServer:
    """A threaded HTTP server on 127.0.0.1:0 whose requests go to :meth:`handle`.

    Subclasses implement :meth:`handle` and may add modes to :attr:`MODES`.

    Args:
        mode: Initial mode.
        stall_seconds: How long a request waits in ``"stall"`` mode (released early on close).
        slow_seconds: Delay before each answer in ``"slow"`` mode.
    """

    MODES: ClassVar[frozenset[str]] = frozenset({"ok", "slow", "stall", "error500"})
    PROTOCOL: ClassVar[str] = "HTTP/1.0"
    """``HTTP/1.1`` keeps connections open between requests, as real API servers do (clients
    then pool them); answers must then carry a length or be chunked."""

    def __init__(
        self, mode: str = "ok", *, stall_seconds: float = 30.0, slow_seconds: float = 0.3
    ) -> None:
        self.mode = mode
        self.stall_seconds = stall_seconds
        self.slow_seconds = slow_seconds
        self.requests: list[dict[str, Any]] = []
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in self.MODES:
            raise ValueError(f"unknown mode {value!r}; choose from {sorted(self.MODES)}")
        self._mode = value

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running stub."""
        if self._server is None:
            raise RuntimeError("the stub is not running; use it in a with statement")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = stub.PROTOCOL

            def do_GET(self) -> None:
                stub._dispatch(self)

            def do_POST(self) -> None:
                stub._dispatch(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.close()

    def _dispatch(self, request: BaseHTTPRequestHandler) -> None:
        # Recorded before the mode applies, so tests can count tries against a failing stub.
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw_body = request.rfile.read(length) if length else b""
        try:
            json_body = json.loads(raw_body) if raw_body else None
        except ValueError:
            json_body = None
        record = {
            "method": request.command,
            "path": url.path,
            "params": {
                key: values[-1]
                for key, values in parse_qs(url.query, keep_blank_values=True).items()
            },
            "headers": dict(request.headers.items()),
            "json": json_body,
        }
        self.requests.append(record)
        if self.mode == "stall":
            # Longer than any client timeout in the tests; ends early when the stub closes.
            self._closing.wait(self.stall_seconds)
            return
        if self.mode == "slow":
            self._closing.wait(self.slow_seconds)
        if self.mode == "error500":
            self.send_json(request, 500, {"error": "internal server error (stub)"})
            return
        self.handle(request, record)

    def handle(self, request: BaseHTTPRequestHandler, record: dict[str, Any]) -> None:
        """Answer one request in a non-failing mode; subclasses implement it.

        Args:
            request: The handler, to write the answer with.
            record: The parsed request: method, path, params (query string), headers, json.
        """
        raise NotImplementedError

    @staticmethod
    def send_json(
        request: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)


def words(text: str) -> set[str]:
    """Lower-case alphanumeric words of ``text`` (the stubs' crude search matching)."""
    cleaned = "".join(ch.lower() if ch.isalnum() else " " for ch in text)
    return {w for w in cleaned.split() if len(w) > 2}


def rank_articles(query: str, limit: int) -> list[Article]:
    """Articles sharing words with ``query``, most shared words first (title words count double)."""
    wanted = words(query)
    scored = []
    for article in CORPUS:
        score = 2 * len(wanted & words(article.title)) + len(wanted & words(article.text))
        if score:
            scored.append((score, article))
    scored.sort(key=lambda pair: -pair[0])
    return [article for _, article in scored[:limit]]
