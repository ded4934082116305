"""``crossroads mcp``: serve Crossroads over MCP (the server itself is
:mod:`crossroads.mcp_server`)."""

from __future__ import annotations

from typing import Annotated

import typer

from crossroads.cli.commands import (
    ModelOption,
    OfflineOption,
    app,
    err,
    fail,
    make_app,
    user_errors,
)


@app.command("mcp")
def mcp_command(
    transport: Annotated[
        str, typer.Option("--transport", help="stdio (default) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[str, typer.Option("--host", help="HTTP only: a loopback address.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="HTTP only: the port.")] = 8765,
    model: ModelOption = None,
    offline: OfflineOption = False,
) -> None:
    """Serve Crossroads over MCP: tools ask, calculate and search_documents."""
    from crossroads.mcp_server import check_loopback, serve

    if transport not in {"stdio", "http"}:
        raise fail(f"--transport must be stdio or http, not {transport!r}")
    if not 0 < port < 65536:
        raise fail(f"--port must be 1-65535, not {port}")
    with user_errors():
        check_loopback(host)
        with make_app(model, offline) as crossroads:
            if transport == "http":
                err.print(f"crossroads MCP server on http://{host}:{port}/mcp (Ctrl-C stops)")
            serve(
                crossroads,
                transport="http" if transport == "http" else "stdio",
                host=host,
                port=port,
            )
