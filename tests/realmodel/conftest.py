"""The `realmodel` tier: a real small instruct model behind an OpenAI-compatible server.

Start the server with ``scripts/start-llama`` (needs the ``realmodel`` extra) and point the
tier at it; without ``CROSSROADS_TEST_LLM_URL`` every test here is skipped, saying why::

    export CROSSROADS_TEST_LLM_URL="$(scripts/start-llama)"
    .venv/bin/pytest tests/realmodel
    scripts/stop-llama

The tests assert what the framework owes its user with any model: a ``Result`` within its
budget, no markup leaked, a clear error when the model cannot do the job; correctness only
where a 135M model is capable. Temperature 0 and a fixed seed keep the replies repeatable.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

from crossroads import Crossroads
from crossroads.settings import ROLES
from tests.stubs import StubServer

URL_VAR = "CROSSROADS_TEST_LLM_URL"
REQUEST_BUDGET_S = 150.0
MODEL = "openai:smollm2-135m-instruct"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    url = os.environ.get(URL_VAR)
    for item in items:
        if "tests/realmodel" not in str(item.fspath).replace(os.sep, "/"):
            continue
        item.add_marker(pytest.mark.realmodel)
        # A real model on one CPU thread: a test makes up to three requests, each within
        # its own budget (the suite's default 120 s is for scripted models).
        item.add_marker(pytest.mark.timeout(REQUEST_BUDGET_S * 3 + 60))
        if not url:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"no model server: set {URL_VAR} (export {URL_VAR}=$(scripts/start-llama))"
                )
            )


@pytest.fixture(scope="session")
def llm_url() -> str:
    url = os.environ.get(URL_VAR, "")
    pytest.importorskip("langchain_openai", reason="the realmodel extra is not installed")
    return url


@pytest.fixture
def real_app(llm_url: str, make_app: Callable[..., Crossroads]) -> Callable[..., Crossroads]:
    """``real_app(**settings)``: an app on the real model, in-memory threads, LLM router
    (closed after the test by ``make_app``)."""

    def make(**overrides: Any) -> Crossroads:
        settings: dict[str, Any] = {
            "router_threshold": 1.01,  # always ask the model, never the classifier
            "temperatures": dict.fromkeys(ROLES, 0.0),
            "model_kwargs": {"base_url": llm_url, "api_key": "not-needed", "seed": 7},
            "request_timeout": 60.0,
            # A 135M model on one CPU thread of a busy machine can take longer than the
            # default 15 s (meant for a person at a terminal) to read a long prompt.
            "first_byte_timeout": 60.0,
            "max_seconds": REQUEST_BUDGET_S,
            "search_backends": ("local",),
        }
        return make_app(MODEL, **{**settings, **overrides})

    return make


class CountingProxy(StubServer):
    """A loopback relay in front of the model server that counts the chat requests it
    forwards: what the server saw, to compare with what Crossroads counted in ``usage``.

    Replies are relayed as they arrive (chunk by chunk), so streaming and first-byte timeouts
    behave as they do without it.
    """

    PROTOCOL: ClassVar[str] = "HTTP/1.1"

    def __init__(self, upstream: str) -> None:
        super().__init__()
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def chat_requests(self) -> int:
        return sum(r["path"].rstrip("/").endswith("/chat/completions") for r in self.requests)

    def handle(self, request: BaseHTTPRequestHandler, record: dict[str, Any]) -> None:
        body = json.dumps(record["json"]).encode() if record["json"] is not None else b""
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=300)
        try:
            headers = {"Content-Type": request.headers.get("Content-Type", "")}
            connection.request(request.command, request.path, body=body, headers=headers)
            reply = connection.getresponse()
            request.send_response(reply.status)
            request.send_header("Content-Type", reply.getheader("Content-Type", ""))
            request.send_header("Transfer-Encoding", "chunked")
            request.end_headers()
            while chunk := reply.read1(65536):
                request.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                request.wfile.flush()
            request.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away (a timed-out call): stop relaying
            request.close_connection = True
        finally:
            connection.close()


@pytest.fixture
def counting_proxy(llm_url: str) -> Iterator[CountingProxy]:
    with CountingProxy(llm_url) as proxy:
        yield proxy
