"""One request at a time per thread, across processes.

Two requests that write one thread at once both start from the same checkpoint; the last
to write wins and the other's answer is lost (and each one's pruning could delete the
other's checkpoints). So a request holds its thread's lock from before its first step
until its checkpoints are pruned:

* SQLite: an OS file lock (``fcntl.flock``) on ``<database>.locks/<sha256 of the thread
  id>.lock`` beside the database. The OS drops it when the process dies, so a killed
  request never leaves a thread locked;
* PostgreSQL: a session advisory lock (``pg_try_advisory_lock(hashtext(...))``) held on a
  connection of its own for the whole request; closing it (or the process dying) frees it;
* anything else (the in-memory saver, a saver object you pass): a lock per thread within
  this process.

A request waits at most ``Settings.thread_lock_timeout`` seconds (30 by default) for the
lock, polling, then fails with :class:`ThreadBusy`: one sentence, and nothing was written.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sys
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from crossroads.errors import ThreadBusy

THREAD_BUSY = (
    "thread {thread!r} is in use by another request; waited {seconds:g} s "
    "(thread_lock_timeout) - try again when it has finished"
)
POLL_S = 0.05
"""Seconds between two tries of a lock another process holds."""


def lock_name(thread_id: str) -> str:
    """A file-system- and log-safe name for ``thread_id`` (any text, any length)."""
    return hashlib.sha256(thread_id.encode("utf-8", "surrogatepass")).hexdigest()


class ThreadLocks:
    """The locks of one app's thread store (see the module docstring)."""

    def __init__(self, folder: Path | None, postgres_url: str | None) -> None:
        self._folder = folder
        self._postgres_url = postgres_url
        self._local: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    async def for_saver(cls, saver: BaseCheckpointSaver) -> ThreadLocks:
        """The right kind of lock for ``saver``'s store."""
        folder: Path | None = None
        url: str | None = None
        # Only a loaded module can have made ``saver``: importing a saver class (and its
        # driver) just to ask would cost every start-up; PostgreSQL's, about 0.15 s.
        sqlite = sys.modules.get("langgraph.checkpoint.sqlite.aio")
        postgres = sys.modules.get("langgraph.checkpoint.postgres.aio")
        store: Any = saver
        if sqlite is not None and isinstance(saver, sqlite.AsyncSqliteSaver):
            async with store.conn.execute("PRAGMA database_list") as cursor:
                rows = await cursor.fetchall()
            main = next((row[2] for row in rows if row[1] == "main"), "")
            if main:  # "" is an in-memory or temporary database: in-process locks do
                database = Path(main)
                folder = database.with_name(database.name + ".locks")
        elif postgres is not None and isinstance(saver, postgres.AsyncPostgresSaver):
            conn: Any = store.conn
            url = getattr(conn, "conninfo", None)
            if url is None:  # a single connection rather than a pool
                url = conn.info.dsn
        return cls(folder, url)

    @contextlib.asynccontextmanager
    async def hold(self, thread_id: str, timeout: float) -> AsyncIterator[None]:
        """Hold ``thread_id`` for the body; wait at most ``timeout`` seconds for it.

        Raises:
            ThreadBusy: the thread stayed in use for ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        busy = ThreadBusy(THREAD_BUSY.format(thread=thread_id, seconds=timeout))
        # Requests of this process queue here first (fair, and no polling among them).
        local = self._local.get(thread_id)
        if local is None:
            local = self._local[thread_id] = asyncio.Lock()
        try:
            # ``asyncio.timeout``, not ``wait_for``: that ran every acquire, even of a free
            # lock, in a task of its own.
            async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                await local.acquire()
        except TimeoutError:
            raise busy from None
        try:
            if self._folder is not None:
                async with self._file_lock(thread_id, deadline, busy):
                    yield
            elif self._postgres_url is not None:
                async with self._advisory_lock(thread_id, deadline, busy):
                    yield
            else:
                yield
        finally:
            local.release()

    @contextlib.asynccontextmanager
    async def _file_lock(
        self, thread_id: str, deadline: float, busy: ThreadBusy
    ) -> AsyncIterator[None]:
        import fcntl

        assert self._folder is not None
        self._folder.mkdir(mode=0o700, exist_ok=True)
        path = self._folder / f"{lock_name(thread_id)}.lock"
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise busy from None
                    await asyncio.sleep(POLL_S)
            yield  # the lock file stays (removing it would race with a waiter's open)
        finally:
            os.close(descriptor)  # also releases the lock

    @contextlib.asynccontextmanager
    async def _advisory_lock(
        self, thread_id: str, deadline: float, busy: ThreadBusy
    ) -> AsyncIterator[None]:
        from psycopg import AsyncConnection

        assert self._postgres_url is not None
        key = f"crossroads-thread:{thread_id}"
        seconds = max(deadline - time.monotonic(), 1)
        connection = await asyncio.wait_for(
            AsyncConnection.connect(self._postgres_url, autocommit=True, connect_timeout=10),
            timeout=seconds + 10,
        )
        try:
            while True:
                cursor = await connection.execute(
                    "SELECT pg_try_advisory_lock(hashtext(%s))", [key]
                )
                row = await cursor.fetchone()
                if row is not None and row[0]:
                    break
                if time.monotonic() >= deadline:
                    raise busy
                await asyncio.sleep(POLL_S * 4)
            yield
        finally:
            await connection.close()  # ends the session, which releases the lock
