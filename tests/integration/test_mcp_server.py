"""``crossroads mcp`` driven by the MCP SDK's own client, over stdio and streamable HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from crossroads.tools.retrievers import build_index
from tests.stubs.langgraph_dev import free_port, log_tail, stop

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

NOTE = "The harbour lighthouse was built in 1871 by the engineer Ada Brennan.\n"


def _env() -> dict[str, str]:
    return {**os.environ, "CROSSROADS_OFFLINE": "1"}


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def _exercise(client: ClientSession, *, indexed: bool) -> None:
    await client.initialize()
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"ask", "calculate", "search_documents"}
    schema = tools["calculate"].inputSchema
    assert schema["required"] == ["expression"]
    assert schema["properties"]["expression"]["type"] == "string"
    assert tools["search_documents"].inputSchema["properties"]["limit"]["maximum"] == 20
    assert tools["ask"].inputSchema["required"] == ["question"]

    calc = await client.call_tool("calculate", {"expression": "240 * 15 / 100"})
    assert not calc.isError and _text(calc) == "36"

    asked = await client.call_tool("ask", {"question": "What is 15% of 240?"})
    assert not asked.isError, _text(asked)
    answer = asked.structuredContent
    assert answer["route"] == "math" and "36" in answer["answer"] and answer["mode"] == "offline"
    follow = await client.call_tool(
        "ask", {"question": "and divided by 4?", "thread_id": answer["thread_id"]}
    )
    assert "9" in follow.structuredContent["answer"], follow.structuredContent

    found = await client.call_tool("search_documents", {"query": "who built the lighthouse"})
    if indexed:
        assert not found.isError, _text(found)
        hits = found.structuredContent
        hits = hits.get("result", hits) if isinstance(hits, dict) else hits
        assert "Ada Brennan" in hits[0]["text"] and hits[0]["source"].endswith("#chunk-1")
    else:
        assert found.isError and "crossroads index" in _text(found)

    # Bad arguments: a tool error that says what is wrong; the server keeps serving.
    for name, arguments, expected in [
        ("calculate", {"expression": "2 +"}, "cannot compute"),
        ("calculate", {"expression": "__import__('os')"}, "cannot compute"),
        ("calculate", {}, "expression"),
        ("calculate", {"expression": 5}, "expression"),
        ("ask", {"question": ""}, "question"),
        ("ask", {"question": "hi", "thread_id": "a\x1b]0;pwned\x07"}, "control character"),
        ("search_documents", {"query": "x", "limit": 500}, "limit"),
    ]:
        bad = await client.call_tool(name, arguments)
        assert bad.isError, (name, arguments)
        assert expected in _text(bad), _text(bad)
    again = await client.call_tool("calculate", {"expression": "2 ** 10"})
    assert _text(again) == "1024"


async def test_stdio_transport(hermetic_env: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.md").write_text(NOTE)
    build_index([docs], hermetic_env / "index")
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "crossroads", "mcp", "--offline"], env=_env()
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await _exercise(client, indexed=True)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path / "mcp.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "crossroads", "mcp", "--transport", "http", "--port", str(port)],
            env=_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 150
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"crossroads mcp did not start:\n{log_tail(log_path)}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)


async def test_streamable_http_transport(http_server: str) -> None:
    async with (
        streamable_http_client(http_server) as (read, write, _),
        ClientSession(read, write) as client,
    ):
        await _exercise(client, indexed=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--transport", "http", "--host", "0.0.0.0"], "not a loopback address"),
        (["--transport", "sse"], "--transport must be stdio or http"),
        (["--port", "70000"], "--port must be 1-65535"),
    ],
)
def test_bad_options_are_one_line_errors(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crossroads", "mcp", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
