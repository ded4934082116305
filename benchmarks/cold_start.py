"""CLI cold start: ``crossroads ask "What is 15% of 240?"`` offline, in a fresh process.

Baseline, measured in the same run: ``python -c "import langgraph.graph"`` (the least any
LangGraph program pays before doing anything). Both run as new processes, interleaved,
``--runs`` times each (default 7) after one warm-up of each (so the OS file cache is warm
for both, and writes the bytecode caches that ``pip install`` would have written); the
median wall time is reported, and the ratio CLI ÷ baseline. Each CLI run uses
its own empty ``CROSSROADS_HOME`` (a new SQLite thread store), and ``CROSSROADS_OFFLINE=1``.
The CPU time (user + system) of each run is reported beside its wall time: on a machine
other work shares, it moves less with the load.

``-X importtime`` of one CLI run is summarised too: the slowest top-level imports.

    .venv/bin/python benchmarks/cold_start.py [--runs N]

Writes ``benchmarks/out/cold_start.json`` and prints a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent / "out" / "cold_start.json"
QUESTION = "What is 15% of 240?"
TIMEOUT_S = 120


def cli_command() -> list[str]:
    return [sys.executable, "-m", "crossroads", "ask", QUESTION]


def baseline_command() -> list[str]:
    return [sys.executable, "-c", "import langgraph.graph"]


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command``."""
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    return elapsed, children_cpu() - cpu


def env_for(home: str) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE is dropped: the warm-up pair writes the bytecode caches, as
    # ``pip install`` does at install time. Without them each start compiles every module
    # from source (about 3 s of langgraph + langchain-core alone here), which is not what
    # an installed program pays.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CROSSROADS_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update({"CROSSROADS_HOME": home, "CROSSROADS_OFFLINE": "1"})
    return env


def slowest_imports(env: dict[str, str], top: int = 8) -> list[tuple[str, float]]:
    """Top-level packages by cumulative import time (ms) in one CLI run."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *cli_command()[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) <= 1:  # a top-level import
            name = match.group(3).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(match.group(1)) / 1000
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    samples: dict[str, list[float]] = {"crossroads ask": [], "import langgraph.graph": []}
    cpu: dict[str, list[float]] = {name: [] for name in samples}
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(args.runs + 1):
            home = Path(tmp) / f"home{number}"
            runs = {
                "crossroads ask": timed(cli_command(), env_for(str(home))),
                "import langgraph.graph": timed(baseline_command(), env_for(str(home))),
            }
            if number:  # the first pair warms the file cache
                for name, (wall, used) in runs.items():
                    samples[name].append(wall)
                    cpu[name].append(used)
        imports = slowest_imports(env_for(str(Path(tmp) / "importtime")))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    ratio = medians["crossroads ask"] / medians["import langgraph.graph"]
    cpu_ratio = cpu_medians["crossroads ask"] / cpu_medians["import langgraph.graph"]
    load = os.getloadavg()
    report: dict[str, Any] = {
        "benchmark": "cold_start",
        "python": platform.python_version(),
        "runs": args.runs,
        "median_s": medians,
        "samples_s": samples,
        "ratio": ratio,
        "cpu_median_s": cpu_medians,
        "cpu_samples_s": cpu,
        "cpu_ratio": cpu_ratio,
        "load_average": load,
        "slowest_imports_ms": imports,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"cold start, median of {args.runs} interleaved runs (load average {load[0]:.1f})")
    print(f"{'':<26}{'wall':>8}{'CPU':>8}")
    for name, value in medians.items():
        print(f"{name:<26}{value:>7.2f}s{cpu_medians[name]:>7.2f}s")
    print(f"{'ratio':<26}{ratio:>7.2f}×{cpu_ratio:>7.2f}×")
    print("slowest top-level imports of one CLI run (ms): ", end="")
    print(", ".join(f"{name} {ms:.0f}" for name, ms in imports))
    print(f"JSON: {OUTPUT}")


if __name__ == "__main__":
    main()
