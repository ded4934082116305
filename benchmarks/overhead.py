"""Orchestration overhead: Crossroads' app graph against a hand-written graph and a function.

With a zero-latency :class:`~crossroads.testing.ScriptedChatModel`, a request's time is all
orchestration: validation, state and reducers, checkpoints, the offline classifier, prompt
building, usage accounting, the event loop hop. Three ways make the very same model calls
(the prompts Crossroads sent, recorded once and replayed):

* **Crossroads**: ``Crossroads(model=scripted, checkpointer="memory").ask(question)``;
* **LangGraph**: a minimal hand-written ``StateGraph``, one node per model call, compiled
  without a checkpointer (and, as a second row, with LangGraph's ``InMemorySaver``, which is
  what ``checkpointer="memory"`` gives Crossroads);
* **function**: a plain Python function calling the model in a loop.

Cases: a word problem (the classifier routes, so extract + phrase: 2 calls) and the same with
the LLM router forced (``router_threshold=1.01``: 3 calls). All variants of a case run
interleaved, ``RUNS`` times each after a warm-up, in one process; the median is reported, and
the ratios are Crossroads ÷ each baseline. The offline classifier's own time (it runs on every
request, and decides the route when it is confident) is timed alone in the same loop, to show
how much of the difference it is.

    .venv/bin/python benchmarks/overhead.py

Writes ``benchmarks/out/overhead.json`` and prints a short table.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.messages import BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from crossroads import Crossroads
from crossroads.agents.router import classifier_guess, route_schema
from crossroads.testing import ScriptedChatModel

OUTPUT = Path(__file__).resolve().parent / "out" / "overhead.json"
RUNS = 60
WARMUP = 5
QUESTION = "I have 10 apples and I ate four. How many are left?"
CASES = {"classifier routes (2 calls)": None, "LLM router forced (3 calls)": 1.01}


def scripted() -> ScriptedChatModel:
    # Rules are never used up, so one model serves every run; <result> marks the phrase call.
    return ScriptedChatModel(
        rules=[
            ("You are the router", {"route": "math", "reason": "arithmetic"}),
            ("<result>", "You have 6 apples left."),
            (".*", "10 - 4"),
        ]
    )


class ReplayState(TypedDict, total=False):
    question: str
    answer: str


def recorded_calls(threshold: float | None) -> list[tuple[list[BaseMessage], bool]]:
    """The prompts Crossroads sends for QUESTION, and whether each had a schema bound."""
    model = scripted()
    with Crossroads(model, checkpointer="memory", router_threshold=threshold) as app:
        app.ask(QUESTION)
    return [(list(call.messages), bool(call.tools)) for call in model.calls]


def make_callers(
    model: ScriptedChatModel, calls: list[tuple[list[BaseMessage], bool]]
) -> list[Callable[[], Any]]:
    """One callable per recorded call, bound the way a hand-written graph would bind it."""
    structured = model.with_structured_output(route_schema(["math", "fact", "none"]))
    callers: list[Callable[[], Any]] = []
    for messages, has_schema in calls:
        runnable: Any = structured if has_schema else model
        callers.append(partial(runnable.invoke, messages))
    return callers


def hand_written_graph(callers: list[Callable[[], Any]], *, checkpointed: bool) -> Any:
    graph = StateGraph(ReplayState)
    names = [f"call_{number}" for number in range(len(callers))]
    for name, call in zip(names, callers, strict=True):

        def node(state: ReplayState, call: Callable[[], Any] = call) -> dict[str, Any]:
            reply = call()
            return {"answer": str(getattr(reply, "content", reply))}

        graph.add_node(name, node)
    for before, after in zip([START, *names], [*names, END], strict=True):
        graph.add_edge(before, after)
    return graph.compile(checkpointer=InMemorySaver() if checkpointed else None)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run_case(threshold: float | None) -> dict[str, Any]:
    calls = recorded_calls(threshold)
    model = scripted()
    callers = make_callers(model, calls)
    plain_graph = hand_written_graph(callers, checkpointed=False)
    saved_graph = hand_written_graph(callers, checkpointed=True)

    def plain_function() -> str:
        answer = ""
        for call in callers:
            answer = str(getattr(call(), "content", ""))
        return answer

    app = Crossroads(model, checkpointer="memory", router_threshold=threshold)
    variants: dict[str, Callable[[], Any]] = {
        "crossroads": lambda: app.ask(QUESTION),
        "langgraph": lambda: plain_graph.invoke({"question": QUESTION}),
        "langgraph + InMemorySaver": lambda: saved_graph.invoke(
            {"question": QUESTION}, {"configurable": {"thread_id": uuid.uuid4().hex}}
        ),
        "function": plain_function,
        # Not a baseline: the part of Crossroads' time that is its routing classifier.
        "classifier alone": lambda: classifier_guess(QUESTION),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    with app:
        for number in range(WARMUP + RUNS):
            for name, run in variants.items():  # interleaved: drift hits all alike
                started = time.perf_counter()
                run()
                if number >= WARMUP:
                    samples[name].append(time.perf_counter() - started)
        calls_made = app.ask(QUESTION).usage["llm_calls"]
    medians = {name: median_ms(values) for name, values in samples.items()}
    return {
        "model_calls": calls_made,
        "median_ms": medians,
        "p95_ms": {
            name: statistics.quantiles(values, n=20)[-1] * 1000 for name, values in samples.items()
        },
        "ratios": {
            f"crossroads / {name}": medians["crossroads"] / medians[name]
            for name in medians
            if name not in {"crossroads", "classifier alone"}
        },
    }


def main() -> None:
    results = {name: run_case(threshold) for name, threshold in CASES.items()}
    result = {
        "benchmark": "overhead",
        "question": QUESTION,
        "runs": RUNS,
        "model": "ScriptedChatModel, zero latency",
        "python": platform.python_version(),
        "cases": results,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2), encoding="utf-8")

    print(f"zero-latency scripted model, median of {RUNS} runs (ms per request)")
    print(f"{'case':<30}{'crossroads':>11}{'langgraph':>10}{'+saver':>8}{'function':>10}", end="")
    print(f"{'÷ langgraph':>13}{'÷ +saver':>10}{'÷ function':>12}{'classifier':>12}")
    for name, entry in results.items():
        ms, ratios = entry["median_ms"], entry["ratios"]
        print(
            f"{name:<30}{ms['crossroads']:>11.2f}{ms['langgraph']:>10.2f}"
            f"{ms['langgraph + InMemorySaver']:>8.2f}{ms['function']:>10.2f}"
            f"{ratios['crossroads / langgraph']:>13.1f}"
            f"{ratios['crossroads / langgraph + InMemorySaver']:>10.1f}"
            f"{ratios['crossroads / function']:>12.1f}"
            f"{ms['classifier alone']:>12.2f}"
        )
    print(f"JSON: {OUTPUT}")


if __name__ == "__main__":
    main()
