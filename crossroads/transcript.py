"""The whole conversation of a thread, stored once per message, outside the checkpoints.

A thread's checkpoint keeps only a bounded window of messages (``Settings.history_messages``),
so what a turn costs does not grow with the conversation. What the window drops is kept here:
when a request has finished, its thread's messages that are not stored yet are appended, one
row each (append-only, keyed by message id, so a message is stored once however often the
window is seen). :meth:`crossroads.Crossroads.history` reads this transcript, followed by
any message of the window not in it yet.

* SQLite: a table ``crossroads_transcript`` in the thread store's own file, written on the
  saver's connection under its lock;
* the in-memory saver: a list per thread, held beside the saver for the life of the process;
* any other saver (PostgreSQL, one you pass): nothing is kept; ``history`` shows the window.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

Turn = tuple[str, str]
"""``(speaker, text)``: ``"you"`` for a question, the answering route (or ``"assistant"``)."""

_CREATE = (
    "CREATE TABLE IF NOT EXISTS crossroads_transcript ("
    "thread_id TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, "
    "speaker TEXT NOT NULL, content TEXT NOT NULL, UNIQUE (thread_id, message_id))"
)
_MEMORY: weakref.WeakKeyDictionary[InMemorySaver, dict[str, dict[str, Turn]]] = (
    weakref.WeakKeyDictionary()
)


def speaker_and_text(message: BaseMessage) -> Turn:
    """How ``history`` shows a message."""
    speaker = "you" if message.type == "human" else (message.name or "assistant")
    return speaker, message.content if isinstance(message.content, str) else ""


def _sqlite(saver: BaseCheckpointSaver) -> Any:
    """``saver`` if it is an ``AsyncSqliteSaver`` (only possible once its module is loaded)."""
    module = sys.modules.get("langgraph.checkpoint.sqlite.aio")
    return saver if module is not None and isinstance(saver, module.AsyncSqliteSaver) else None


async def setup(saver: BaseCheckpointSaver) -> None:
    """Create the transcript table of a SQLite store (nothing to do for other savers)."""
    sqlite = _sqlite(saver)
    if sqlite is not None:
        async with sqlite.lock:
            await sqlite.conn.execute(_CREATE)
            await sqlite.conn.commit()


async def record(
    saver: BaseCheckpointSaver, thread_id: str, messages: Sequence[BaseMessage]
) -> None:
    """Append the questions and answers of ``messages`` that are not stored yet."""
    rows = [
        (thread_id, message.id, *speaker_and_text(message))
        for message in messages
        if isinstance(message, HumanMessage | AIMessage) and message.id
    ]
    if not rows:
        return
    sqlite = _sqlite(saver)
    if sqlite is not None:
        async with sqlite.lock:
            await sqlite.conn.executemany(
                "INSERT OR IGNORE INTO crossroads_transcript "
                "(thread_id, message_id, speaker, content) VALUES (?, ?, ?, ?)",
                rows,
            )
            await sqlite.conn.commit()
    elif isinstance(saver, InMemorySaver):
        stored = _MEMORY.setdefault(saver, {}).setdefault(thread_id, {})
        for _, message_id, speaker, text in rows:
            stored.setdefault(message_id, (speaker, text))


async def read(
    saver: BaseCheckpointSaver, thread_id: str, window: Sequence[BaseMessage]
) -> list[Turn]:
    """The whole conversation: the stored transcript, then the messages of ``window`` (the
    thread's latest checkpoint) it does not hold yet (a request paused for a review)."""
    stored: list[tuple[str, Turn]] = []
    sqlite = _sqlite(saver)
    if sqlite is not None:
        async with (
            sqlite.lock,
            sqlite.conn.execute(
                "SELECT message_id, speaker, content FROM crossroads_transcript "
                "WHERE thread_id = ? ORDER BY seq",
                (thread_id,),
            ) as cursor,
        ):
            stored = [(row[0], (row[1], row[2])) for row in await cursor.fetchall()]
    elif isinstance(saver, InMemorySaver):
        stored = list(_MEMORY.get(saver, {}).get(thread_id, {}).items())
    seen = {message_id for message_id, _ in stored}
    return [turn for _, turn in stored] + [
        speaker_and_text(message)
        for message in window
        if isinstance(message, HumanMessage | AIMessage) and message.id not in seen
    ]


async def forget(saver: BaseCheckpointSaver, thread_id: str) -> None:
    """Delete the transcript of ``thread_id``."""
    sqlite = _sqlite(saver)
    if sqlite is not None:
        async with sqlite.lock:
            await sqlite.conn.execute(
                "DELETE FROM crossroads_transcript WHERE thread_id = ?", (thread_id,)
            )
            await sqlite.conn.commit()
    elif isinstance(saver, InMemorySaver):
        _MEMORY.get(saver, {}).pop(thread_id, None)
