"""The ``crossroads`` command: ask, chat, index, graph, threads, eval, mcp.

:mod:`crossroads.cli.commands` holds the typer app, the helpers every command shares and the
one-shot commands; :mod:`crossroads.cli.chat`, :mod:`crossroads.cli.evaluate` and
:mod:`crossroads.cli.mcp` add their command to that app when imported, which this package
does (so the help lists the commands in this order). Imports point one way:
``commands`` ← ``chat``, ``evaluate``, ``mcp`` ← this package (nothing imports back).
"""

from __future__ import annotations

from crossroads.cli import chat, evaluate, mcp  # noqa: F401  (each registers its command on ``app``)
from crossroads.cli.commands import app, run

__all__ = ["app", "run"]
