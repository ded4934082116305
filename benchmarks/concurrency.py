"""Concurrency: N requests at once (``aask``) against a model that takes 200 ms per call.

A :class:`~crossroads.testing.ScriptedChatModel` with ``latency=0.2`` sleeps 200 ms per call
(``asyncio.sleep``: it waits like a network call, it does not burn CPU). Each request is the
word problem "I have 10 apples and I ate four...": the classifier routes it, then extract and
phrase, so 2 model calls one after the other.

For N concurrent requests the wall time is compared with two references:

* ``wall ÷ (calls × 200 ms)``, where ``calls`` is every model call made by all N requests:
  the time a one-at-a-time server would need. 1.0 is the limit (no concurrency at all);
  lower is better, and perfect overlap is ``1 / N``.
* ``wall ÷ (chain × 200 ms)``, where ``chain`` is the calls one request makes in sequence
  (2): how far N requests at once are from taking as long as one. 1.0 is perfect.

    .venv/bin/python benchmarks/concurrency.py

Writes ``benchmarks/out/concurrency.json`` and prints a short table.
"""

from __future__ import annotations

import asyncio
import json
import platform
import time
from pathlib import Path
from typing import Any

from overhead import QUESTION, scripted  # the same question and model (benchmarks/)

from crossroads import Crossroads

OUTPUT = Path(__file__).resolve().parent / "out" / "concurrency.json"
LATENCY = 0.2
LEVELS = (1, 10, 50, 100)


async def burst(app: Crossroads, count: int) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    results = await asyncio.gather(*(app.aask(QUESTION) for _ in range(count)))
    return time.perf_counter() - started, list(results)


def main() -> None:
    rows = []
    with Crossroads(scripted(LATENCY), checkpointer="memory") as app:
        asyncio.run(burst(app, 2))  # warm-up: loads the classifier, compiles, opens the loop
        for count in LEVELS:
            wall, results = asyncio.run(burst(app, count))
            calls = sum(r.usage["llm_calls"] for r in results)
            chain = max(r.usage["llm_calls"] for r in results)
            failures = sum(1 for r in results if r.error or "6" not in r.answer)
            rows.append(
                {
                    "requests": count,
                    "model_calls": calls,
                    "calls_per_request": chain,
                    "wall_s": wall,
                    "wall_over_sequential_calls": wall / (calls * LATENCY),
                    "perfect_overlap": 1 / count,
                    "wall_over_one_request": wall / (chain * LATENCY),
                    "failed_requests": failures,
                }
            )
    result = {
        "benchmark": "concurrency",
        "latency_s": LATENCY,
        "question": QUESTION,
        "python": platform.python_version(),
        "rows": rows,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2), encoding="utf-8")

    print(f"aask × N, model latency {LATENCY * 1000:.0f} ms per call")
    print(
        f"{'N':>5}{'calls':>7}{'wall s':>9}{'÷ (calls×0.2s)':>16}{'perfect':>9}"
        f"{'÷ one request':>15}{'failed':>8}"
    )
    for row in rows:
        print(
            f"{row['requests']:>5}{row['model_calls']:>7}{row['wall_s']:>9.2f}"
            f"{row['wall_over_sequential_calls']:>16.3f}{row['perfect_overlap']:>9.3f}"
            f"{row['wall_over_one_request']:>15.2f}{row['failed_requests']:>8}"
        )
    print(f"JSON: {OUTPUT}")


if __name__ == "__main__":
    main()
