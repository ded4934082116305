"""Benchmark the calculator agent's paths against baselines measured in the same run.

The agent's cost is dominated by model calls, so the model here is a
:class:`~crossroads.testing.ScriptedChatModel` with a fixed ``LATENCY`` per call (no network);
what is measured is how many calls each path makes and what the graph adds around them.

* **fast path vs extraction**: ``"12*7"`` (computed directly, answered without a model call) against
  ``"what is twelve times seven"`` (extract, evaluate, phrase). Ratio: fast / extraction.
* **votes=3 vs votes=1**: the three samples are requested concurrently, so the wall time
  should stay near one call's. Ratio: votes=3 / votes=1.
* **graph overhead**: the whole subgraph with a zero-latency model on the fast path, against
  the engine alone (``evaluate_program``) on the same text. Ratio: agent / engine.

Timing: each case runs ``RUNS`` times on a freshly compiled subgraph; the median wall time is
reported in ms.

    .venv/bin/python benchmarks/calculator_agent.py

Writes ``benchmarks/out/calculator_agent.json`` and prints a short table.
"""

from __future__ import annotations

import asyncio
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage

from crossroads.contract import AgentInput
from crossroads.graphs.calculator import build_calculator_graph
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel
from crossroads.tools.calculator import evaluate_program

OUTPUT = Path(__file__).resolve().parent / "out" / "calculator_agent.json"
LATENCY = 0.05
"""Seconds per scripted model call."""
RUNS = 21


def scripted(latency: float) -> ScriptedChatModel:
    # The phrase prompt carries <result>; anything else is an extraction.
    return ScriptedChatModel(
        rules=[("<result>", "12 times 7 is 84."), (".*", "12 * 7")], latency=latency
    )


async def run_agent(question: str, *, latency: float, votes: int = 1) -> tuple[float, int]:
    """One run of the compiled subgraph: wall seconds and model calls."""
    model = scripted(latency)
    graph = build_calculator_graph().compile()
    state: AgentInput = {
        "question": question,
        "messages": [HumanMessage(content=question)],
        "started_at": time.time(),
    }
    start = time.perf_counter()
    output = await graph.ainvoke(state, context=Settings(model=model, votes=votes))
    elapsed = time.perf_counter() - start
    assert output.get("last_value") == 84, output
    return elapsed, len(model.calls)


async def median_agent(question: str, *, latency: float, votes: int = 1) -> dict[str, Any]:
    timings: list[float] = []
    calls = 0
    for _ in range(RUNS):
        elapsed, calls = await run_agent(question, latency=latency, votes=votes)
        timings.append(elapsed)
    return {"ms": statistics.median(timings) * 1000, "model_calls": calls}


def median_engine(text: str) -> dict[str, Any]:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        evaluate_program(text)
        timings.append(time.perf_counter() - start)
    return {"ms": statistics.median(timings) * 1000, "model_calls": 0}


async def main() -> None:
    await run_agent("12*7", latency=0)  # warm imports and LangGraph's first compile
    rows: list[dict[str, Any]] = []

    fast = await median_agent("12*7", latency=LATENCY)
    extraction = await median_agent("what is twelve times seven", latency=LATENCY)
    rows.append(
        {"case": "fast path", **fast, "baseline": "extraction path", **_ratio(fast, extraction)}
    )
    rows.append({"case": "extraction path", **extraction, "baseline": "", "ratio": None})

    one_vote = await median_agent("what is twelve times seven", latency=LATENCY)
    three_votes = await median_agent("what is twelve times seven", latency=LATENCY, votes=3)
    rows.append(
        {"case": "votes=3", **three_votes, "baseline": "votes=1", **_ratio(three_votes, one_vote)}
    )

    agent = await median_agent("12*7", latency=0)
    engine = median_engine("12*7")
    rows.append(
        {"case": "agent, 0 ms model", **agent, "baseline": "engine alone", **_ratio(agent, engine)}
    )

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(
        json.dumps(
            {
                "latency_s": LATENCY,
                "runs": RUNS,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"model latency {LATENCY * 1000:.0f} ms per call, median of {RUNS} runs")
    print(f"{'case':<20} {'ms':>9} {'calls':>6}  {'ratio':>7}  baseline")
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        print(
            f"{row['case']:<20} {row['ms']:>9.2f} {row['model_calls']:>6}  {ratio:>7}  {row['baseline']}"
        )
    print(f"wrote {OUTPUT}")


def _ratio(measured: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float]:
    return {"ratio": measured["ms"] / baseline["ms"]}


if __name__ == "__main__":
    asyncio.run(main())
