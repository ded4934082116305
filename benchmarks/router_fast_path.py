"""Router fast path: how many LLM router calls the offline classifier saves, at what accuracy.

On the packaged held-out split (questions the classifier never trained on), the real
``decide_route`` runs twice per question, in the same run:

* **baseline**: the LLM router always decides (``router_threshold`` above 1, so the
  classifier is never "confident enough");
* **fast path**: the shipped threshold; the classifier decides when it is confident and the
  LLM router is called only for the rest.

The LLM is a ScriptedChatModel that always answers the true label (a *perfect* router), so
the baseline's accuracy is 100% by construction and any loss is the classifier's. With a real
model the baseline would be below 100% and the comparison would need real calls, which this
machine cannot make; what is measured here is the call saving and the accuracy of the
classifier on the questions it takes.

    .venv/bin/python benchmarks/router_fast_path.py

Writes ``benchmarks/out/router_fast_path.json`` and prints a table.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from crossroads.agents.router import decide_route
from crossroads.graphs.builtin_agents import BUILTIN_AGENTS
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel
from crossroads.tools.offline_router import DEFAULT_CONFIDENCE_THRESHOLD, heldout_examples

OUTPUT = Path(__file__).resolve().parent / "out" / "router_fast_path.json"


def perfect_router(labels: dict[str, str]) -> ScriptedChatModel:
    """A scripted LLM router that answers each question's true label."""

    def reply(messages: list[BaseMessage]) -> dict[str, str]:
        question = str(messages[-1].content)
        return {"route": labels[question], "reason": "perfect scripted router"}

    return ScriptedChatModel(default=reply)


async def run(threshold: float, labels: dict[str, str]) -> dict[str, Any]:
    model = perfect_router(labels)
    settings = Settings(model=model, router_threshold=threshold)
    correct = calls = 0
    started = time.perf_counter()
    for question, label in labels.items():
        decision, caller = await decide_route(settings, BUILTIN_AGENTS, {"question": question})
        correct += decision.route == label
        calls += caller.usage_update()["llm_calls"] if caller else 0
    seconds = time.perf_counter() - started
    return {
        "threshold": threshold,
        "questions": len(labels),
        "router_llm_calls": calls,
        "calls_per_question": calls / len(labels),
        "accuracy": correct / len(labels),
        "seconds": seconds,
    }


def main() -> None:
    labels = {example.text: example.label for example in heldout_examples()}
    baseline = asyncio.run(run(1.01, labels))
    fast = asyncio.run(run(DEFAULT_CONFIDENCE_THRESHOLD, labels))
    saving = 1 - fast["router_llm_calls"] / max(1, baseline["router_llm_calls"])
    report = {"baseline": baseline, "fast_path": fast, "call_saving": saving}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2))
    print(f"held-out questions: {len(labels)}")
    print(f"{'':12} {'router calls':>13} {'calls/q':>8} {'accuracy':>9}")
    for name, row in (("LLM always", baseline), ("fast path", fast)):
        print(
            f"{name:12} {row['router_llm_calls']:>13} {row['calls_per_question']:>8.3f} "
            f"{row['accuracy']:>9.3%}"
        )
    print(f"router calls saved: {saving:.1%} (threshold {DEFAULT_CONFIDENCE_THRESHOLD})")


if __name__ == "__main__":
    main()
