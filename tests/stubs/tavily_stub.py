"""A stub of Tavily's ``POST /search`` that the real ``tavily-python`` client can talk to.

It checks ``Authorization: Bearer <api_key>`` (HTTP 401 with Tavily's ``detail.error`` body
otherwise), reads the JSON request (``query``, ``max_results``, ``include_answer``...) and
answers like Tavily: ``query``, ``answer``, ``images``, ``results`` (``title``, ``url``,
``content``, ``score``, ``raw_content``), ``response_time``, ``request_id``.

Modes: ``ok``, ``slow``, ``stall``, ``error500``, ``rate_limited`` (HTTP 429 with ``Retry-After`` set to
:attr:`TavilyStub.retry_after`), ``not_json``.

Usage::

    with TavilyStub(api_key="tvly-test") as stub:
        retriever = TavilyRetriever("tvly-test", base_url=stub.base_url)
"""

from __future__ import annotations

import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

from tests.stubs import StubServer, rank_articles

DEFAULT_API_KEY = "tvly-stub-key"


class TavilyStub(StubServer):
    """Tavily API stub; ``base_url`` is what ``TavilyRetriever(base_url=...)`` takes.

    Args:
        api_key: The only key the stub accepts.
        mode: Initial mode.
        stall_seconds: How long ``stall`` mode waits.
        slow_seconds: Delay before each answer in ``slow`` mode.
        retry_after: ``Retry-After`` header value sent in ``rate_limited`` mode.
    """

    MODES: ClassVar[frozenset[str]] = StubServer.MODES | {"rate_limited", "not_json"}

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        mode: str = "ok",
        *,
        stall_seconds: float = 30.0,
        slow_seconds: float = 0.3,
        retry_after: str = "3",
    ) -> None:
        super().__init__(mode, stall_seconds=stall_seconds, slow_seconds=slow_seconds)
        self.api_key = api_key
        self.retry_after = retry_after

    def handle(self, request: BaseHTTPRequestHandler, record: dict[str, Any]) -> None:
        body = record["json"]
        if request.command != "POST" or record["path"] != "/search":
            self.send_json(request, 404, {"detail": {"error": "Not Found"}})
            return
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            error = "Unauthorized: missing or invalid API key."
            self.send_json(request, 401, {"detail": {"error": error}})
            return
        if self.mode == "rate_limited":
            error = "Your request has been blocked due to excessive requests."
            self.send_json(
                request, 429, {"detail": {"error": error}}, {"Retry-After": self.retry_after}
            )
            return
        if self.mode == "not_json":
            payload = b"<html>upstream proxy error</html>"
            request.send_response(200)
            request.send_header("Content-Type", "text/html")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
            return
        if not isinstance(body, dict) or not str(body.get("query", "")).strip():
            self.send_json(request, 400, {"detail": {"error": "Query is missing."}})
            return
        self.send_json(request, 200, self.answer(body))

    @staticmethod
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        """Tavily's JSON answer to one search request (``ok`` mode)."""
        query = str(body["query"])
        max_results = int(body.get("max_results") or 5)
        articles = rank_articles(query, max_results)
        results = [
            {
                "title": article.title,
                "url": "https://example.org/" + article.title.lower().replace(" ", "-"),
                "content": article.text,
                "score": round(0.9 - 0.1 * rank, 4),
                "raw_content": None,
            }
            for rank, article in enumerate(articles)
        ]
        include_answer = bool(body.get("include_answer"))
        return {
            "query": query,
            "follow_up_questions": None,
            "answer": articles[0].paragraphs[0] if include_answer and articles else None,
            "images": [],
            "results": results,
            "response_time": 0.01,
            "request_id": str(uuid.uuid4()),
        }
