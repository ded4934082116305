"""Where threads live: choosing and opening a checkpointer.

* default: SQLite in ``$CROSSROADS_HOME/threads.sqlite`` (langgraph-checkpoint-sqlite), so a
  thread survives restarts, including a process killed in the middle of a request;
* ``"memory"``: in-process only (tests, notebooks);
* ``"sqlite:///path/to/file.sqlite"`` or a ``.sqlite``/``.db`` path;
* ``"postgresql://..."`` (``Settings.checkpoint_url`` or ``CROSSROADS_CHECKPOINT_URL``):
  langgraph-checkpoint-postgres, for servers (``pip install 'crossroads[postgres]'``);
* any ``BaseCheckpointSaver`` object, used as it is.

Async savers hold an event loop; they are opened on the loop that runs the graph.
"""

from __future__ import annotations

import importlib.util
from contextlib import AsyncExitStack
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from crossroads.errors import ConfigurationError
from crossroads.settings import Settings

CheckpointerSpec = BaseCheckpointSaver | str | Path | None

NEEDS_POSTGRES = (
    "a postgresql:// checkpoint URL needs langgraph-checkpoint-postgres: "
    "run `pip install 'crossroads[postgres]'`"
)
BAD_SPEC = (
    "checkpointer {spec!r} is not understood: pass 'memory', a .sqlite path, "
    "'sqlite:///path', 'postgresql://...' or a BaseCheckpointSaver"
)
CANNOT_OPEN = "cannot open the thread store {where}: {error}"


def sqlite_path(settings: Settings) -> Path:
    """The default SQLite thread store."""
    return settings.data_dir / "threads.sqlite"


async def open_checkpointer(
    spec: CheckpointerSpec, settings: Settings, stack: AsyncExitStack
) -> BaseCheckpointSaver:
    """Open the checkpointer ``spec`` names; ``stack`` closes it later.

    Raises:
        ConfigurationError: unknown spec, missing package, or the store cannot be opened.
    """
    if isinstance(spec, BaseCheckpointSaver):
        return spec
    if spec is None:
        spec = settings.checkpoint_url or sqlite_path(settings)
    if isinstance(spec, str) and spec == "memory":
        return InMemorySaver()
    text = str(spec)
    if text.startswith(("postgresql://", "postgres://")):
        if importlib.util.find_spec("langgraph.checkpoint.postgres") is None:
            raise ConfigurationError(NEEDS_POSTGRES)
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        try:
            postgres = await stack.enter_async_context(AsyncPostgresSaver.from_conn_string(text))
            await postgres.setup()
        except Exception as error:
            raise ConfigurationError(
                CANNOT_OPEN.format(where="(PostgreSQL)", error=error)
            ) from None
        return postgres
    if text.startswith("sqlite:///"):
        path = Path(text.removeprefix("sqlite:///"))
    elif isinstance(spec, Path) or text.endswith((".sqlite", ".db", ".sqlite3")):
        path = Path(text)
    else:
        raise ConfigurationError(BAD_SPEC.format(spec=spec))
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    try:
        path.expanduser().parent.mkdir(parents=True, exist_ok=True)
        saver = await stack.enter_async_context(
            AsyncSqliteSaver.from_conn_string(str(path.expanduser()))
        )
        await saver.setup()
    except Exception as error:
        raise ConfigurationError(CANNOT_OPEN.format(where=path, error=error)) from None
    return saver
