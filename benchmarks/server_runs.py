"""Benchmark runs through a local LangGraph dev server: sequential against concurrent.

Starts ``langgraph dev`` (the in-memory runtime) on 127.0.0.1 and a free port, offline
(``CROSSROADS_OFFLINE=1``, no model, no network), and measures, in one run:

* ``RUNS`` runs one after another (each waits for the last): the in-memory runtime's queue
  picks new runs up on a tick of about a second, so this pays that wait on every run;
* the same number of runs sent at once (each on its own thread), which share the ticks and
  run ``--n-jobs-per-worker`` at a time;
* the baseline: the same questions through ``Crossroads(offline=True).aask`` in this
  process, one after another, which is what the graph itself costs.

Every run is a math question on its own (pre-created) thread, answered by the offline
calculator. The server is stopped by its PID at the end, whatever happens.

    .venv/bin/python benchmarks/server_runs.py [--runs 200] [--jobs 10]

Writes ``benchmarks/out/server_runs.json`` and prints a short table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client

from crossroads import Crossroads

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the dev-server launcher lives with the tests

from tests.stubs.langgraph_dev import langgraph_dev  # noqa: E402

OUTPUT = ROOT / "benchmarks" / "out" / "server_runs.json"
STARTUP_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 300.0
WARMUP_RUNS = 3
DEFAULT_RUNS = 200
DEFAULT_JOBS = 10  # `langgraph dev`'s own default for --n-jobs-per-worker
GRAPH_ID = "crossroads"


def question(index: int) -> str:
    """A math question the offline calculator answers (varied, so nothing is cached)."""
    return f"What is {index % 90 + 5}% of {240 + index}?"


@contextmanager
def dev_server(jobs: int) -> Iterator[str]:
    """Run ``langgraph dev`` offline on loopback; yield its URL; stop it by PID."""
    workdir = Path(tempfile.mkdtemp(prefix="crossroads-bench-"))
    extra = ["--n-jobs-per-worker", str(jobs), "--server-log-level", "WARNING"]
    with langgraph_dev(workdir, startup_timeout=STARTUP_TIMEOUT_S, extra_args=extra) as url:
        yield url


def _check(result: Any) -> None:
    if not isinstance(result, dict) or result.get("route") != "math" or result.get("error"):
        raise SystemExit(f"unexpected run result: {result!r}")


async def time_server(url: str, runs: int) -> dict[str, float]:
    """Seconds for ``runs`` sequential and ``runs`` concurrent runs, each on its own thread."""
    client = get_client(url=url, timeout=RUN_TIMEOUT_S)
    for index in range(WARMUP_RUNS):
        _check(await client.runs.wait(None, GRAPH_ID, input={"question": question(index)}))

    threads = [(await client.threads.create())["thread_id"] for _ in range(2 * runs)]
    sequential_threads, concurrent_threads = threads[:runs], threads[runs:]

    started = time.perf_counter()
    for index, thread_id in enumerate(sequential_threads):
        _check(await client.runs.wait(thread_id, GRAPH_ID, input={"question": question(index)}))
    sequential = time.perf_counter() - started

    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            client.runs.wait(thread_id, GRAPH_ID, input={"question": question(index)})
            for index, thread_id in enumerate(concurrent_threads)
        )
    )
    concurrent = time.perf_counter() - started
    for result in results:
        _check(result)
    return {"sequential_s": sequential, "concurrent_s": concurrent}


async def time_in_process(runs: int) -> float:
    """Seconds for ``runs`` sequential ``aask`` calls in this process (the graph's own cost)."""
    with Crossroads(offline=True, checkpointer="memory") as app:
        for index in range(WARMUP_RUNS):
            _check((await app.aask(question(index))).to_dict())
        started = time.perf_counter()
        for index in range(runs):
            result = await app.aask(question(index), thread_id=f"bench-{index}")
            _check(result.to_dict())
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="--n-jobs-per-worker")
    args = parser.parse_args()
    if args.runs < 1 or args.jobs < 1:
        raise SystemExit("--runs and --jobs must be at least 1")

    os.environ["CROSSROADS_OFFLINE"] = "1"
    in_process = asyncio.run(time_in_process(args.runs))
    with dev_server(args.jobs) as url:
        server = asyncio.run(time_server(url, args.runs))

    sequential, concurrent = server["sequential_s"], server["concurrent_s"]
    report = {
        "runs": args.runs,
        "n_jobs_per_worker": args.jobs,
        "in_process_sequential_s": round(in_process, 3),
        "server_sequential_s": round(sequential, 3),
        "server_concurrent_s": round(concurrent, 3),
        "sequential_over_concurrent": round(sequential / concurrent, 2),
        "server_sequential_over_in_process": round(sequential / in_process, 2),
        "per_run_ms": {
            "in_process": round(1000 * in_process / args.runs, 1),
            "server_sequential": round(1000 * sequential / args.runs, 1),
            "server_concurrent": round(1000 * concurrent / args.runs, 1),
        },
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")

    print(f"{args.runs} offline math runs, langgraph dev on loopback, {args.jobs} jobs/worker")
    print(f"{'':28}{'total s':>10}{'per run ms':>12}{'vs in-process':>15}")
    rows = (
        ("in-process, sequential", in_process),
        ("server, sequential", sequential),
        ("server, concurrent", concurrent),
    )
    for label, seconds in rows:
        print(
            f"{label:28}{seconds:>10.2f}{1000 * seconds / args.runs:>12.1f}"
            f"{seconds / in_process:>14.2f}x"
        )
    print(f"sequential / concurrent through the server: {sequential / concurrent:.1f}x")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
