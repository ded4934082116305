"""Run every quick benchmark and write ``benchmarks/RESULTS.md``.

Each benchmark is a plain script that writes its JSON to ``benchmarks/out/``; this runs them
one after another as subprocesses (each with a time limit, so one stuck script cannot hang the
run), then writes RESULTS.md: the machine (CPUs, CPU model, Python, key package versions) and
the date, a table for each of the four headline benchmarks built from their JSON (overhead,
concurrency, cost, retrieval), and the printed table of every other script as it printed it.

    .venv/bin/python benchmarks/run_all.py            # all quick benchmarks (about a minute)
    .venv/bin/python benchmarks/run_all.py cost       # only some, by name

``server_runs.py`` (a LangGraph dev server per run) and ``load_test.py`` (500 requests against a
faulty model stub) are slow and left out unless named.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RESULTS = HERE / "RESULTS.md"
TIME_LIMIT_S = 600
HEADLINE = ("overhead", "concurrency", "cost", "retrieval")
OTHERS = (
    "calculator_engine",
    "calculator_agent",
    "offline_router",
    "router_fast_path",
    "writers_cost",
    "long_thread",
    "cold_start",
)
SLOW = ("server_runs", "load_test")
KEEP_MARKER = "<!-- kept by run_all.py: hand-written before/after notes -->"
PACKAGES = (
    "langgraph",
    "langchain",
    "langchain-core",
    "langgraph-supervisor",
    "langchain-community",
    "bm25s",
    "rank-bm25",
    "scikit-learn",
    "numexpr",
)


def machine() -> dict[str, Any]:
    cpu_model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": usable,
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "packages": versions,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def run_script(name: str) -> dict[str, Any]:
    """Run ``benchmarks/NAME.py``; its stdout, exit code and time."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(HERE / f"{name}.py")],
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT_S,
            check=False,
        )
        output, code = proc.stdout, proc.returncode
        if code != 0:
            output += proc.stderr[-2000:]
    except subprocess.TimeoutExpired:
        output, code = f"stopped after {TIME_LIMIT_S} s", -1
    return {"stdout": output, "rc": code, "seconds": time.perf_counter() - started}


def load(name: str) -> dict[str, Any]:
    return json.loads((OUT / f"{name}.json").read_text(encoding="utf-8"))


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def overhead_section(data: dict[str, Any]) -> str:
    rows = []
    for case, entry in data["cases"].items():
        ms, ratios = entry["median_ms"], entry["ratios"]
        rows.append(
            [
                case,
                f"{ms['crossroads']:.2f}",
                f"{ms['langgraph']:.2f}",
                f"{ms['langgraph + InMemorySaver']:.2f}",
                f"{ms['function']:.2f}",
                f"{ratios['crossroads / langgraph']:.1f}×",
                f"{ratios['crossroads / langgraph + InMemorySaver']:.1f}×",
                f"{ratios['crossroads / function']:.1f}×",
                f"{ms['classifier alone']:.2f}",
            ]
        )
    header = ["case", "Crossroads ms", "LangGraph ms", "+ InMemorySaver ms", "function ms"]
    header += ["÷ LangGraph", "÷ + saver", "÷ function", "classifier alone ms"]
    return (
        "Zero-latency scripted model; the same model calls (Crossroads' prompts, recorded and "
        f"replayed); median of {data['runs']} interleaved runs. With no model latency this is "
        "the worst case for Crossroads: its per-request work (validation, checkpoints, the "
        "offline classifier, usage accounting, the hop to its event loop) is all there is. "
        "With 200 ms per call it is the part of the N = 1 concurrency ratio above 1.0 "
        "(section 2). Timings on a shared machine vary between runs; the ratios are from one "
        "run.\n\n" + table(header, rows)
    )


def concurrency_section(data: dict[str, Any]) -> str:
    rows = [
        [
            str(row["requests"]),
            str(row["model_calls"]),
            f"{row['wall_s']:.2f}",
            f"{row['wall_over_sequential_calls']:.3f}",
            f"{row['perfect_overlap']:.3f}",
            f"{row['wall_over_one_request']:.2f}",
            str(row["failed_requests"]),
        ]
        for row in data["rows"]
    ]
    header = ["N requests", "model calls", "wall s", "wall ÷ (calls × 200 ms)"]
    header += ["perfect overlap", "wall ÷ one request", "failed"]
    return (
        f"`aask` × N at once; each call sleeps {data['latency_s'] * 1000:.0f} ms. The limit "
        "for `wall ÷ (calls × 200 ms)` is 1.0 (one call at a time); perfect overlap is 1/N. "
        "At N = 1 the ratio is a little above 1.0: one request's own orchestration time on "
        "top of its two calls. At large N the remainder is CPU work per request (the "
        "classifier, the graph) on this machine's CPUs.\n\n" + table(header, rows)
    )


def cost_section(data: dict[str, Any]) -> str:
    rows = []
    for name, entry in data["summary"].items():
        total = entry["all"]
        rows.append(
            [
                name,
                f"{total['llm_calls']:.2f}",
                f"{entry['math']['llm_calls']:.2f}",
                f"{entry['fact']['llm_calls']:.2f}",
                f"{total['input_tokens']:.0f}",
                f"{total['input_tokens_vs_react']:.2f}",
                f"{total['message_chars']:.0f}",
                f"{total['schema_chars']:.0f}",
                f"{total['prompt_chars']:.0f}",
                f"{total['prompt_chars_vs_react']:.2f}",
                f"{total['accuracy']:.0%}",
            ]
        )
    header = ["system", "calls/q", "math", "fact", "input tokens/q", "÷ ReAct", "message chars"]
    header += ["schema chars", "all chars", "÷ ReAct", "answered right"]
    ours = data["summary"]["Crossroads"]["all"]
    calls_goal = "met" if ours["llm_calls"] <= 1.5 else "not met"
    size_goal = "met" if ours["prompt_chars_vs_react"] <= 0.5 else "not met"
    return (
        f"{data['questions']} questions (the shipped {' and '.join(data['suites'])} suites), a "
        "perfect scripted model for every system. Input tokens are the scripted model's "
        "estimate (message text ÷ 4); schema chars are the tool/output schemas bound to each "
        "call, which that estimate leaves out.\n\n"
        + table(header, rows)
        + "\n\nCrossroads' minimum per question, by design: no call for a bare expression "
        "(computed and answered with a template sentence), 2 for a word problem (extract, "
        "phrase), 1 for a short direct fact question (its keywords are the query; answer), 2 "
        "for a rambling one (rewrite, answer), plus a grading call when a passage is a "
        "borderline match; the classifier saves the router call. The per-question counts "
        "are in benchmarks/out/cost.json."
        + f"\n\nGoals: at most 1.5 calls per question on average: {calls_goal} "
        f"({ours['llm_calls']:.2f}). At most half of ReAct's prompt size: {size_goal} "
        f"({ours['prompt_chars_vs_react']:.2f} of ReAct's characters with schemas, "
        f"{ours['input_tokens_vs_react']:.2f} of its message tokens alone). What a perfect "
        "script cannot show: answer quality, and how often a real model makes a ReAct agent "
        "or a supervisor loop more than the minimum (or Crossroads retry an extraction); "
        "those need a real model and a suite run with `crossroads eval --model ...`."
    )


def retrieval_section(data: dict[str, Any]) -> str:
    seconds, query, ratios = data["index_seconds"], data["query_ms"], data["ratios"]
    rows = [
        ["index: LangChain BM25Retriever (baseline)",
         f"{seconds['langchain_bm25retriever_on_chunks']:.3f} s", "1.00"],
        ["index: bm25s on the same chunks", f"{seconds['bm25s_on_chunks']:.3f} s",
         f"{ratios['bm25s_vs_bm25retriever_index']:.2f}"],
        ["index: build_index from files (read, parse, chunk, index, save)",
         f"{seconds['build_index_from_files']:.3f} s",
         f"{ratios['build_index_vs_bm25retriever_index']:.2f}"],
        ["re-index, nothing changed (÷ first build)",
         f"{seconds['build_index_nothing_changed']:.3f} s",
         f"{ratios['reindex_unchanged_vs_first_build']:.2f}"],
        ["query median: BM25Retriever (baseline)",
         f"{query['langchain_bm25retriever']['median']:.2f} ms", "1.00"],
        ["query median: LocalIndex.search", f"{query['local_index']['median']:.2f} ms",
         f"{ratios['query_median_local_vs_bm25retriever']:.3f}"],
    ]  # fmt: skip
    return (
        f"{data['documents']} generated documents, {data['chunks']} chunks, {data['queries']} "
        f"queries, k={data['k']}; top-{data['k']} overlap between the two: "
        f"{data['top5_overlap_mean']:.0%}.\n\n" + table(["measure", "value", "ratio"], rows)
    )


SECTIONS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "overhead": ("1. Orchestration overhead", overhead_section),
    "concurrency": ("2. Concurrency", concurrency_section),
    "cost": ("3. Cost per question", cost_section),
    "retrieval": ("4. Retrieval: local index against LangChain's BM25Retriever", retrieval_section),
}


def write_results(info: dict[str, Any], runs: dict[str, dict[str, Any]]) -> None:
    packages = ", ".join(f"{name} {version}" for name, version in info["packages"].items())
    parts = [
        "# Benchmark results",
        "",
        "Written by `.venv/bin/python benchmarks/run_all.py` (see benchmarks/README.md); every "
        "figure below was measured in that run. Ratios compare against a baseline measured in "
        "the same run.",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['cpus']} CPU(s), {info['cpu_model']}, {info['system']}",
        f"- python {info['python']}; {packages}",
        "",
    ]
    for name, (title, render) in SECTIONS.items():
        if name not in runs:
            continue
        parts += [f"## {title}", ""]
        if runs[name]["rc"] != 0:
            parts += [f"Failed (exit {runs[name]['rc']}):", "", "```", runs[name]["stdout"], "```"]
        else:
            parts += [render(load(name))]
        parts.append("")
    others = [name for name in runs if name not in SECTIONS]
    if others:
        parts += ["## Other benchmarks (their own printed tables)", ""]
        for name in others:
            run = runs[name]
            status = "" if run["rc"] == 0 else f" (failed, exit {run['rc']})"
            parts += [f"### {name}{status}", "", "```", run["stdout"].rstrip(), "```", ""]
    skipped = [name for name in SLOW if name not in runs and (HERE / f"{name}.py").exists()]
    if skipped:
        parts += [
            f"Not run here (slow): {', '.join(skipped)}; run by name, e.g. "
            f"`.venv/bin/python benchmarks/run_all.py {skipped[0]}`.",
            "",
        ]
    # Hand-written notes below KEEP_MARKER (before/after tables of a change) are kept.
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if KEEP_MARKER in old:
        parts += [old[old.index(KEEP_MARKER) :]]
    RESULTS.write_text("\n".join(parts), encoding="utf-8")


def main(argv: list[str]) -> int:
    # By default, the quick benchmarks present in this checkout; named ones must exist.
    names = argv or [n for n in (*HEADLINE, *OTHERS) if (HERE / f"{n}.py").exists()]
    unknown = [n for n in names if n not in (*HEADLINE, *OTHERS, *SLOW)]
    missing = [n for n in names if not (HERE / f"{n}.py").exists()]
    if unknown or missing:
        print(f"unknown or missing benchmark(s): {', '.join(unknown + missing)}", file=sys.stderr)
        return 2
    info = machine()
    runs: dict[str, dict[str, Any]] = {}
    for name in names:
        print(f"== {name}", flush=True)
        runs[name] = run_script(name)
        print(runs[name]["stdout"].rstrip(), flush=True)
        print(f"({runs[name]['seconds']:.1f} s, exit {runs[name]['rc']})", flush=True)
    write_results(info, runs)
    print(f"wrote {RESULTS}")
    return 0 if all(run["rc"] == 0 for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
