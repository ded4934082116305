"""One long conversation: bytes stored per turn and latency as the thread grows.

Offline math questions (no model) on ONE thread, ``--turns`` of them (default 200; the
issue's figure is ``--turns 1000``), once with the SQLite thread store and once with the
in-memory saver. Every fourth question is a follow-up ("and divided by 4?") so the thread's
history is really used. For each store it reports, at turns 10, 100 and 1,000 (those
reached):

* latency: the median of the ``WINDOW`` turns ending at that turn, and its ratio to a
  reference measured at the same time: a fresh thread, given 9 turns first (not timed),
  whose turns 10, 11, ... are interleaved with the long thread's turns. The ratio is
  "turn N ÷ turn 10" with the machine's load the same for both, which matters on a shared
  machine;
* bytes the long thread's turn added to the store (the median of the same turns): for
  SQLite the bytes of the rows it wrote (``checkpoints``, ``writes`` and the transcript's
  ``crossroads_transcript``), for memory the serialized bytes the saver holds (its
  transcript is a list of Python strings beside it, not counted);
* the store's total size at the end (SQLite: file + WAL, every thread), the process's peak
  RSS, and how many messages ``history`` returns at the end.

One warm-up question on another thread comes first (imports, the classifier, the graph).

    .venv/bin/python benchmarks/long_thread.py               # 200 turns
    .venv/bin/python benchmarks/long_thread.py --turns 1000  # the issue's measure

Writes ``benchmarks/out/long_thread.json`` and prints a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from crossroads import Crossroads

OUTPUT = Path(__file__).resolve().parent / "out" / "long_thread.json"
MARKS = (10, 100, 1000)
WINDOW = 10
THREAD = "long"


def question(turn: int) -> str:
    if turn % 4 == 0:
        return "and divided by 4?"
    return f"What is {turn % 97 + 3}% of {240 + turn}?"


def sqlite_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


class SqliteRows:
    """Bytes of the rows a thread wrote since the last call (a reader on the same file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last = ""
        self.last_seq = 0

    def __call__(self) -> int:
        with sqlite3.connect(self.path) as db:
            row = db.execute(
                "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0),"
                " max(checkpoint_id) FROM checkpoints WHERE thread_id = ? AND checkpoint_id > ?",
                (THREAD, self.last),
            ).fetchone()
            writes = db.execute(
                "SELECT coalesce(sum(length(value)), 0) FROM writes"
                " WHERE thread_id = ? AND checkpoint_id > ?",
                (THREAD, self.last),
            ).fetchone()[0]
            transcript = db.execute(
                "SELECT coalesce(sum(length(message_id) + length(speaker) + length(content)), 0),"
                " max(seq) FROM crossroads_transcript WHERE thread_id = ? AND seq > ?",
                (THREAD, self.last_seq),
            ).fetchone()
        self.last = row[1] or self.last
        self.last_seq = transcript[1] or self.last_seq
        return int(row[0]) + int(writes) + int(transcript[0])


def memory_bytes(saver: InMemorySaver) -> int:
    """Serialized bytes an InMemorySaver holds (checkpoints, metadata, blobs, writes)."""
    total = 0
    for namespaces in saver.storage.values():
        for checkpoints in namespaces.values():
            for (_, checkpoint), (_, metadata), _parent in checkpoints.values():
                total += len(checkpoint) + len(metadata)
    for _, blob in saver.blobs.values():
        total += len(blob or b"")
    for writes in saver.writes.values():
        for _task, _channel, (_, value), _path in writes.values():
            total += len(value or b"")
    return total


def timed_ask(app: Crossroads, text: str, thread: str) -> tuple[float, bool]:
    started = time.perf_counter()
    result = app.ask(text, thread_id=thread)
    return time.perf_counter() - started, result.route != "math" or result.error is not None


def run(store: str, turns: int, workdir: Path, **settings: Any) -> dict[str, Any]:
    path = workdir / f"{store}.sqlite"
    saver = InMemorySaver() if store == "memory" else None
    marks_due = [mark for mark in MARKS if mark <= turns]
    latencies: list[float] = []
    references: dict[int, list[float]] = {mark: [] for mark in marks_due}
    added: list[int] = []
    wrong = 0
    with Crossroads(offline=True, checkpointer=saver or path, **settings) as app:
        app.ask(question(1), thread_id="warm-up")
        if saver is not None:
            total = memory_bytes(saver)

            def size() -> int:
                nonlocal total
                now = memory_bytes(saver)
                grown, total = now - total, now
                return grown
        else:
            size = SqliteRows(path)
        size()
        for turn in range(1, turns + 1):
            elapsed, failed = timed_ask(app, question(turn), THREAD)
            latencies.append(elapsed)
            added.append(size())
            wrong += failed
            mark = next((m for m in marks_due if m - WINDOW < turn <= m), None)
            if mark is not None:
                reference = f"reference-{mark}"
                if not references[mark]:
                    for earlier in range(1, 10):  # the reference reaches its turn 10 untimed
                        app.ask(question(earlier), thread_id=reference)
                at = 10 + len(references[mark])
                elapsed, failed = timed_ask(app, question(at), reference)
                references[mark].append(elapsed)
                wrong += failed
                size()  # not the long thread's bytes
        history = len(app.history(THREAD))
    marks: dict[str, dict[str, float]] = {}
    for mark in marks_due:
        span = slice(mark - WINDOW, mark)
        ms = statistics.median(latencies[span]) * 1000
        reference_ms = statistics.median(references[mark]) * 1000
        marks[str(mark)] = {
            "ms": ms,
            "reference_turn_10_ms": reference_ms,
            "ratio_to_turn_10": ms / reference_ms,
            "bytes_per_turn": statistics.median(added[span]),
        }
    return {
        "store": store,
        "turns": turns,
        "file_bytes": sqlite_bytes(path) if saver is None else memory_bytes(saver),
        "total_s": sum(latencies),
        "marks": marks,
        "history_messages_at_end": history,
        "wrong_or_failed_turns": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200, help="turns on the thread (>= 1)")
    parser.add_argument("--stores", default="sqlite,memory", help="comma-separated")
    parser.add_argument(
        "--history-messages", type=int, default=None, help="Settings.history_messages"
    )
    args = parser.parse_args()
    if args.turns < 1:
        parser.error("--turns must be at least 1")
    stores = [s for s in args.stores.split(",") if s]
    if not set(stores) <= {"sqlite", "memory"}:
        parser.error("--stores takes sqlite and/or memory")
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"history_messages": args.history_messages} if args.history_messages else {}
        results = [run(store, args.turns, Path(tmp), **settings) for store in stores]
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()
    report = {
        "benchmark": "long_thread",
        "python": platform.python_version(),
        "peak_rss_mb": peak_rss_mb,
        "load_average": load,
        "results": results,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(
        f"one thread, {args.turns} offline math turns; median of {WINDOW} turns ending at N;"
        f" load average {load[0]:.1f}"
    )
    print(f"{'store':<8}{'turn':>6}{'ms':>9}{'turn 10 ms':>12}{'ratio':>8}{'bytes/turn':>12}")
    for entry in results:
        for mark, values in entry["marks"].items():
            print(
                f"{entry['store']:<8}{mark:>6}{values['ms']:>9.1f}"
                f"{values['reference_turn_10_ms']:>12.1f}{values['ratio_to_turn_10']:>8.2f}"
                f"{values['bytes_per_turn']:>12,.0f}"
            )
        print(
            f"{entry['store']:<8} store {entry['file_bytes'] / 1e6:.1f} MB in "
            f"{entry['total_s']:.1f} s; history {entry['history_messages_at_end']} messages; "
            f"wrong/failed turns {entry['wrong_or_failed_turns']}"
        )
    print(f"peak RSS {peak_rss_mb:.0f} MB; JSON: {OUTPUT}")


if __name__ == "__main__":
    main()
