"""Crossroads as an MCP server (``crossroads mcp``), on the official ``mcp`` SDK (its ``FastMCP``).

Three tools, each with a typed input schema (the SDK derives it from the annotations):

* ``ask``: the whole app (router + agents): answer, route, sources, error, thread id;
* ``calculate``: the safe calculator engine only (no model, no words);
* ``search_documents``: the local index built by ``crossroads index`` (no model, no network).

Transports: stdio (an IDE or assistant starts ``crossroads mcp``) and streamable HTTP, which
binds only to a loopback address. With no model configured the app runs in offline mode, so
all three tools work with no key. A bad argument comes back as a tool error (``isError``)
whose text says what to fix; the server keeps running.

Needs the ``mcp`` extra: ``pip install 'crossroads[mcp]'``.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from crossroads.errors import ConfigurationError, CrossroadsError
from crossroads.settings import Settings
from crossroads.validation import MAX_QUESTION_CHARS, MAX_THREAD_ID_CHARS

if TYPE_CHECKING:
    from mcp.server.fastmcp import FastMCP

    from crossroads.api import Crossroads

MISSING_EXTRA = "crossroads mcp needs the mcp extra: pip install 'crossroads[mcp]'"
NOT_LOOPBACK = (
    "--host {host} is not a loopback address; the MCP HTTP transport has no authentication, "
    "so it only listens on 127.0.0.1, ::1 or localhost"
)
NO_INDEX = "no document index yet: run `crossroads index PATH` first (index folder: {path})"
MAX_RESULTS = 20
MAX_EXPRESSION_CHARS = 2_000

Question = Annotated[
    str,
    Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The question, in words."),
]
ThreadId = Annotated[
    str | None,
    Field(
        default=None,
        max_length=MAX_THREAD_ID_CHARS,
        description="Conversation to continue (follow-ups such as 'and times 3?'); "
        "omit for a new one.",
    ),
]
Expression = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_EXPRESSION_CHARS,
        description="Arithmetic only, e.g. '240 * 15 / 100' or 'x = 3; x ** 2' "
        "(+ - * / // % **, sqrt, log, sin, ...). No words or units.",
    ),
]
Query = Annotated[str, Field(min_length=1, max_length=1_000, description="Search words.")]
Limit = Annotated[int, Field(ge=1, le=MAX_RESULTS, description="How many passages at most.")]


def build_server(
    crossroads: Crossroads,
    settings: Settings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
) -> FastMCP:
    """The MCP server for one :class:`~crossroads.Crossroads` app.

    Args:
        crossroads: The app ``ask`` runs (its thread store keeps ``thread_id`` conversations).
        settings: Where ``search_documents`` finds the index (default: the app's settings).
        host: Loopback address for the HTTP transport.
        port: Port for the HTTP transport.

    Raises:
        ConfigurationError: the ``mcp`` extra is not installed.
    """
    try:
        from mcp.server.fastmcp import FastMCP
        from mcp.server.fastmcp.exceptions import ToolError
    except ImportError:
        raise ConfigurationError(MISSING_EXTRA) from None

    from crossroads.tools.calculator import CalculatorError, evaluate, format_number
    from crossroads.tools.retrievers import LocalIndex

    settings = settings or crossroads.settings
    index = LocalIndex(settings.data_dir / "index")
    server = FastMCP(
        name="crossroads",
        host=check_loopback(host),
        port=port,
        instructions="Ask Crossroads a question (math, facts from the user's documents, "
        "writing), compute arithmetic exactly, or search the user's indexed documents.",
    )

    @server.tool()
    async def ask(question: Question, thread_id: ThreadId = None) -> dict[str, Any]:
        """Ask Crossroads: a router hands the question to its calculator, researcher or
        writers. Returns the answer, the route taken, the sources and the thread id."""
        try:
            result = await crossroads.aask(question, thread_id=thread_id)
        except CrossroadsError as error:
            raise ToolError(str(error)) from None
        return {
            "answer": result.answer,
            "route": result.route,
            "sources": list(result.sources),
            "error": result.error,
            "mode": result.mode,
            "thread_id": result.thread_id,
        }

    @server.tool()
    def calculate(expression: Expression) -> str:
        """Compute arithmetic exactly with Crossroads' safe engine (no model)."""
        try:
            return format_number(evaluate(expression))
        except CalculatorError as error:
            raise ToolError(f"cannot compute {expression[:80]!r}: {error}") from None

    @server.tool()
    def search_documents(query: Query, limit: Limit = 5) -> list[dict[str, Any]]:
        """Search the documents indexed with `crossroads index` (BM25, no model)."""
        if not index.exists():
            raise ToolError(NO_INDEX.format(path=index.directory))
        try:
            passages = index.search(query, limit)
        except CrossroadsError as error:
            raise ToolError(str(error)) from None
        return [
            {"title": p.title, "text": p.text, "source": p.source, "score": round(p.score, 4)}
            for p in passages
        ]

    return server


def check_loopback(host: str) -> str:
    """``host`` if it is a loopback address, else :class:`ConfigurationError`."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ConfigurationError(NOT_LOOPBACK.format(host=host))


def serve(
    crossroads: Crossroads,
    *,
    transport: Literal["stdio", "http"] = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
) -> None:
    """Run the MCP server until the client disconnects (stdio) or Ctrl-C (HTTP)."""
    server = build_server(crossroads, host=host, port=port)
    server.run("stdio" if transport == "stdio" else "streamable-http")
