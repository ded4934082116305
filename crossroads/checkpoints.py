"""Where threads live: choosing and opening a checkpointer.

* default: SQLite in ``$CROSSROADS_HOME/threads.sqlite`` (langgraph-checkpoint-sqlite), so a
  thread survives restarts, including a process killed in the middle of a request;
* ``"memory"``: in-process only (tests, notebooks);
* ``"sqlite:///path/to/file.sqlite"`` or a ``.sqlite``/``.db`` path;
* ``"postgresql://..."`` (``Settings.checkpoint_url`` or ``CROSSROADS_CHECKPOINT_URL``):
  langgraph-checkpoint-postgres, for servers (``pip install 'crossroads[postgres]'``). It
  runs over a small connection pool that checks each connection before use, so a
  connection the database closed (idle timeout, restart, failover) is replaced instead of
  failing every later request; connecting is bounded by ``POSTGRES_CONNECT_TIMEOUT_S``;
* any ``BaseCheckpointSaver`` object, used as it is.

Async savers hold an event loop; they are opened on the loop that runs the graph.

Every saver Crossroads opens reads its rows with :func:`strict_serializer`: only the plain
types Crossroads stores (JSON values, LangChain messages, LangGraph's own records) are
rebuilt, and pickled rows are refused. LangGraph's permissive default imports and calls any
constructor a row names, so one crafted row in ``threads.sqlite`` would run code when the
thread is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from crossroads.errors import ConfigurationError
from crossroads.retry import async_retrying
from crossroads.settings import Settings

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

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
NO_ANSWER = "the server did not complete a connection within {seconds} s"

POSTGRES_CONNECT_TIMEOUT_S = 10
"""Seconds to connect to PostgreSQL (and to wait for a free pooled connection)."""
POSTGRES_POOL_SIZE = 4
"""Connections per app. The saver serialises its queries on one lock, so more would idle."""


def strict_serializer() -> JsonPlusSerializer:
    """The checkpoint serializer of every saver Crossroads opens.

    ``allowed_msgpack_modules=None`` rebuilds only LangGraph's built-in safe types
    (``SAFE_MSGPACK_TYPES``: messages, documents, ``Send``/``Interrupt``/``Command``, dates,
    UUIDs...); Crossroads keeps everything else as JSON values (TypedDicts), so it needs no
    type of its own. Any other constructor in a row comes back as plain data, never called.
    No pickle fallback.
    """
    return JsonPlusSerializer(pickle_fallback=False, allowed_msgpack_modules=None)


def private_folder(folder: Path) -> None:
    """Create ``folder`` (and parents) readable by its owner only (0700).

    Threads and the document index hold conversations and your documents; other users of
    the machine have no business reading them. An existing folder keeps its mode: it may be
    one the user chose and shares on purpose (the files in it are made 0600 regardless).
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def _private_files(database: Path) -> None:
    """Make a SQLite file and its journal files owner-only (0600)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = database.with_name(database.name + suffix)
        with contextlib.suppress(OSError):
            if candidate.is_file():
                candidate.chmod(0o600)


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
        return InMemorySaver(serde=strict_serializer())
    text = str(spec)
    if text.startswith(("postgresql://", "postgres://")):
        try:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
            from psycopg_pool import AsyncConnectionPool  # noqa: F401  (checked here, used below)
        except ImportError:
            raise ConfigurationError(NEEDS_POSTGRES) from None

        try:
            pool = await _open_postgres_pool(text, stack)
            postgres = AsyncPostgresSaver(conn=pool, serde=strict_serializer())
            await _setup_postgres(postgres)
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
        path = path.expanduser()
        private_folder(path.parent)
        import aiosqlite

        connection = await stack.enter_async_context(aiosqlite.connect(str(path)))
        saver = AsyncSqliteSaver(connection, serde=strict_serializer())
        await saver.setup()  # also switches the file to WAL (a lasting property of the file)
        await _tune_sqlite(saver)
        _private_files(path)
    except Exception as error:
        raise ConfigurationError(CANNOT_OPEN.format(where=path, error=error)) from None
    return saver


SETUP_TRIES = 5


async def _setup_postgres(saver: Any) -> None:
    """Create or migrate the tables; safe when several processes open a new store at once.

    ``setup()`` is not atomic across processes: two that find migration ``v`` missing both
    insert it, and the second fails on the primary key although the tables are now ready.
    That one conflict is retried (bounded); on the next pass the migration is seen as done.
    """
    from psycopg.errors import UniqueViolation

    retry = async_retrying(
        attempts=SETUP_TRIES,
        base=0.1,
        cap=1.0,
        retry_on=lambda error: isinstance(error, UniqueViolation),
    )
    await retry(saver.setup)


SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
"""Per connection. In WAL mode ``synchronous=NORMAL`` syncs at checkpoints of the WAL, not at
every commit: a killed process loses nothing committed (the WAL is in the OS's cache); only
a power cut or OS crash can lose the last commits, never corrupt the file. ``FULL`` (the
default) pays an fsync per commit, and a request commits about ten times."""


async def _tune_sqlite(saver: Any) -> None:
    for pragma in SQLITE_PRAGMAS:
        await saver.conn.execute(pragma)


async def _open_postgres_pool(url: str, stack: AsyncExitStack) -> AsyncConnectionPool[Any]:
    """Open a checked, bounded connection pool for the PostgreSQL saver; ``stack`` closes it.

    One direct connection comes first, so a wrong password or an unknown database is
    reported with the server's own words (a pool would only time out).
    """
    from psycopg import AsyncConnection
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    # The settings AsyncPostgresSaver.from_conn_string uses: autocommit, no server-side
    # prepared statements (they break behind PgBouncer), rows as dicts.
    connection_kwargs: dict[str, Any] = {
        "autocommit": True,
        "prepare_threshold": 0,
        "row_factory": dict_row,
        "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
    }
    try:
        probe = await asyncio.wait_for(
            AsyncConnection.connect(url, **connection_kwargs), timeout=POSTGRES_CONNECT_TIMEOUT_S
        )
    except TimeoutError:
        raise TimeoutError(NO_ANSWER.format(seconds=POSTGRES_CONNECT_TIMEOUT_S)) from None
    await probe.close()
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=POSTGRES_POOL_SIZE,
        kwargs=connection_kwargs,
        check=AsyncConnectionPool.check_connection,
        timeout=POSTGRES_CONNECT_TIMEOUT_S,
        open=False,
    )
    stack.push_async_callback(pool.close)  # before open, so a failed open is cleaned up too
    await pool.open(wait=True, timeout=POSTGRES_CONNECT_TIMEOUT_S)
    return pool


async def prune_thread(saver: BaseCheckpointSaver, thread_id: str) -> None:
    """Keep only the thread's latest checkpoint: call it when a request has finished.

    A finished request's step-by-step checkpoints (and its agents') serve only to resume it
    after a crash; once it is answered they are dead weight, and keeping them made a store
    grow with every turn. SQLite and the in-memory saver are pruned here; other savers are
    left as they are (PostgreSQL has its own ``aprune``).

    The latest checkpoint is found by its id alone (the newest root checkpoint, as the
    savers' own ``get_tuple`` picks it), never loaded whole: loading it read and decoded
    every channel of the thread, on every request, only to learn its id.
    """
    sqlite = sys.modules.get("langgraph.checkpoint.sqlite.aio")  # only if a saver needed it
    if sqlite is not None and isinstance(saver, sqlite.AsyncSqliteSaver):
        database: Any = saver
        async with database.lock, database.conn.cursor() as cursor:
            # Writes first: their condition reads the checkpoints table, which still holds
            # the latest root checkpoint (kept either way). No root checkpoint: nothing goes.
            for table in ("writes", "checkpoints"):
                await cursor.execute(_PRUNE_SQL.format(table=table), (thread_id,) * 3)
            await database.conn.commit()
    elif isinstance(saver, InMemorySaver):
        roots = saver.storage.get(thread_id, {}).get("", {})
        if not roots:
            return
        keep = max(roots)
        kept = saver.serde.loads_typed(roots[keep][0])
        _prune_memory(saver, thread_id, keep, kept.get("channel_versions", {}))


_PRUNE_SQL = (
    "DELETE FROM {table} WHERE thread_id = ? AND NOT (checkpoint_ns = '' AND checkpoint_id = "
    "(SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '')) "
    "AND EXISTS (SELECT 1 FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '')"
)
"""Delete a thread's rows but those of its latest root checkpoint (ids grow with time, so the
largest is the latest, which is what ``AsyncSqliteSaver.aget_tuple`` returns)."""


def _prune_memory(
    saver: InMemorySaver, thread_id: str, keep: str, kept_versions: dict[str, Any]
) -> None:
    """Delete a thread's checkpoints but ``keep``, with their writes and the channel values
    only they used, by key: the saver's ``writes`` and ``blobs`` are flat dictionaries over
    every thread, and scanning them made each request's prune cost grow with the number of
    threads in the process. Every blob was stored by a checkpoint that names its version,
    so the deleted checkpoints' ``channel_versions`` name every blob that may go."""
    namespaces = saver.storage.get(thread_id, {})
    for namespace, checkpoints in list(namespaces.items()):
        for checkpoint_id in [c for c in checkpoints if namespace or c != keep]:
            stored, _metadata, _parent = checkpoints.pop(checkpoint_id)
            saver.writes.pop((thread_id, namespace, checkpoint_id), None)
            versions = saver.serde.loads_typed(stored).get("channel_versions", {})
            for channel, version in versions.items():
                if namespace or kept_versions.get(channel) != version:
                    saver.blobs.pop((thread_id, namespace, channel, version), None)
        if namespace and not checkpoints:
            del namespaces[namespace]
