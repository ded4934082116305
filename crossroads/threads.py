"""Saved conversations: what ``crossroads threads`` and the chat's ``/threads`` show.

A thread is identified by its id; its title is its first question and its last-used time is
the timestamp of its newest checkpoint. Reading them costs one pass over the store's
checkpoints (bounded by ``limit``), and one state and transcript read per thread listed.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crossroads.transcript import forget as forget_transcript
from crossroads.transcript import read as read_transcript

TITLE_CHARS = 60


def new_thread_id() -> str:
    """A fresh thread id: the day it was made, then 12 random hex digits
    (``20261130-3f9c2a1b7d4e``), so a list of threads reads in order and ids do not collide."""
    return time.strftime("%Y%m%d-") + uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class ThreadInfo:
    """One saved conversation.

    Attributes:
        thread_id: Its id (``--thread``).
        title: Its first question, cut to :data:`TITLE_CHARS` characters.
        last_used: When its newest checkpoint was written (UTC), if known.
        messages: How many messages (questions and answers) it holds.
    """

    thread_id: str
    title: str
    last_used: datetime | None
    messages: int


def _parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _title(turns: list[tuple[str, str]]) -> str:
    for speaker, content in turns:
        if speaker == "you":
            text = " ".join(content.split())
            return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"
    return ""


async def list_threads(graph: Any, limit: int = 100) -> list[ThreadInfo]:
    """The saved threads, most recently used first (at most ``limit``)."""
    saver = graph.checkpointer
    newest: dict[str, datetime | None] = {}
    async for item in saver.alist(None, limit=limit * 50):
        configurable = item.config["configurable"]
        thread = configurable.get("thread_id")
        if not thread or configurable.get("checkpoint_ns") or thread in newest:
            continue
        newest[thread] = _parse_ts(item.checkpoint.get("ts"))
        if len(newest) >= limit:
            break
    infos = []
    for thread, when in newest.items():
        snapshot = await graph.aget_state({"configurable": {"thread_id": thread}})
        window = list((snapshot.values or {}).get("messages") or [])
        turns = await read_transcript(saver, thread, window)
        infos.append(ThreadInfo(thread, _title(turns), when, len(turns)))
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(infos, key=lambda info: info.last_used or epoch, reverse=True)


async def delete_thread(graph: Any, thread_id: str) -> None:
    """Delete every checkpoint of ``thread_id``, and its transcript."""
    await graph.checkpointer.adelete_thread(thread_id)
    await forget_transcript(graph.checkpointer, thread_id)
