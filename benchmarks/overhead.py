"""Orchestration overhead: Crossroads' app graph against a hand-written graph and a function.

With a zero-latency :class:`~crossroads.testing.ScriptedChatModel`, a request's time is all
orchestration: validation, state and reducers, checkpoints, the offline classifier, prompt
building, usage accounting, the event loop hop. Three ways make the very same model calls
(the prompts Crossroads sent, recorded once and replayed):

* **Crossroads**: ``Crossroads(model=scripted, checkpointer="memory").ask(question)``;
* **LangGraph**: a minimal hand-written ``StateGraph``, one node per model call, compiled
  without a checkpointer (and, as a second row, with LangGraph's ``InMemorySaver``, which is
  what ``checkpointer="memory"`` gives Crossroads);
* **function**: a plain Python function calling the model in a loop;
* **same shape**: a bare LangGraph graph shaped like Crossroads' own (``intake → router →
  calculator subgraph (prepare → extract → evaluate → phrase) → respond``, async nodes and
  edges, a ``messages`` list with ``add_messages``), compiled with the same saver and run on
  a loop in a background thread the way Crossroads runs (an anyio portal). It makes the
  same calls in the same nodes, and nothing else: this is what LangGraph itself costs for
  Crossroads' design. Measured with ``InMemorySaver`` and with SQLite (``AsyncSqliteSaver``,
  WAL, ``synchronous=NORMAL``, as Crossroads opens it), each against Crossroads on the same
  saver;
* **N2**: a parent graph with one subgraph node holding one node per call (sync, the same
  saver), the smallest graph that has a subgraph.

Cases: a word problem (the classifier routes, so extract + phrase: 2 calls) and the same with
the LLM router forced (``router_threshold=1.01``: 3 calls). All variants of a case run
interleaved (in a new, seeded order every iteration), ``RUNS`` times each after a warm-up,
in one process; the median is reported, and the ratios are Crossroads ÷ each baseline
(ratios of medians; ``paired_ratios`` are the medians of the per-iteration ratios, steadier
on a shared machine). The offline classifier's own time (it runs on every request, and
decides the route when it is confident) is timed alone in the same loop, to show how much
of the difference it is.

    .venv/bin/python benchmarks/overhead.py

Writes ``benchmarks/out/overhead.json`` and prints a short table.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypedDict

from anyio.from_thread import start_blocking_portal
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from crossroads import Crossroads
from crossroads.agents.router import classifier_guess, route_schema
from crossroads.checkpoints import open_checkpointer
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel

OUTPUT = Path(__file__).resolve().parent / "out" / "overhead.json"
RUNS = int(os.environ.get("OVERHEAD_RUNS", "60"))
WARMUP = 5
ORDER_SEED = 19
QUESTION = "I have 10 apples and I ate four. How many are left?"
CASES = {"classifier routes (2 calls)": None, "LLM router forced (3 calls)": 1.01}


def scripted(latency: float = 0.0) -> ScriptedChatModel:
    """A model that answers QUESTION right, taking ``latency`` seconds a call (also used by
    concurrency.py)."""
    # Rules are never used up, so one model serves every run; <result> marks the phrase call.
    return ScriptedChatModel(
        rules=[
            ("You are the router", {"route": "math", "reason": "arithmetic"}),
            ("<result>", "You have 6 apples left."),
            (".*", "10 - 4"),
        ],
        latency=latency,
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


class ShapeState(TypedDict, total=False):
    question: str
    route: str
    expression: str
    answer: str
    messages: Annotated[list[AnyMessage], add_messages]


def same_shape_graph(callers: list[Callable[[], Any]], checkpointer: Any) -> Any:
    """Crossroads' shape in bare LangGraph: the same nodes, the calls where Crossroads makes
    them (the router's when forced, then extract and phrase), nothing else."""
    *routing, extract_call, phrase_call = callers

    async def intake(state: ShapeState) -> dict[str, Any]:
        return {"messages": [HumanMessage(content=state["question"])], "answer": ""}

    async def router(state: ShapeState) -> dict[str, Any]:
        for call in routing:
            call()
        return {"route": "math"}

    async def prepare(state: ShapeState) -> dict[str, Any]:
        return {"expression": ""}

    async def extract(state: ShapeState) -> dict[str, Any]:
        return {"expression": str(extract_call().content)}

    async def evaluate(state: ShapeState) -> dict[str, Any]:
        return {"answer": state["expression"]}

    async def phrase(state: ShapeState) -> dict[str, Any]:
        return {"answer": str(phrase_call().content)}

    async def respond(state: ShapeState) -> dict[str, Any]:
        return {"messages": [AIMessage(content=state["answer"])]}

    async def go(state: ShapeState) -> str:
        return "next"

    agent = StateGraph(ShapeState)
    for name, node in (("prepare", prepare), ("extract", extract)):
        agent.add_node(name, node)
    agent.add_node("evaluate", evaluate)
    agent.add_node("phrase", phrase)
    agent.add_edge(START, "prepare")
    agent.add_conditional_edges("prepare", go, {"next": "extract"})
    agent.add_conditional_edges("extract", go, {"next": "evaluate"})
    agent.add_conditional_edges("evaluate", go, {"next": "phrase"})
    agent.add_edge("phrase", END)
    app = StateGraph(ShapeState)
    app.add_node("intake", intake)
    app.add_node("router", router)
    app.add_node("calculator", agent.compile(name="calculator"))
    app.add_node("respond", respond)
    app.add_edge(START, "intake")
    app.add_conditional_edges("intake", go, {"next": "router"})
    app.add_conditional_edges("router", go, {"next": "calculator"})
    app.add_conditional_edges("calculator", go, {"next": "respond"})
    app.add_edge("respond", END)
    return app.compile(checkpointer=checkpointer)


def n2_graph(callers: list[Callable[[], Any]]) -> Any:
    """A parent with one subgraph node; the subgraph has one node per call (sync)."""
    inner = StateGraph(ReplayState)
    names = [f"call_{number}" for number in range(len(callers))]
    for name, call in zip(names, callers, strict=True):

        def node(state: ReplayState, call: Callable[[], Any] = call) -> dict[str, Any]:
            return {"answer": str(getattr(call(), "content", ""))}

        inner.add_node(name, node)
    for before, after in zip([START, *names], [*names, END], strict=True):
        inner.add_edge(before, after)
    outer = StateGraph(ReplayState)
    outer.add_node("agent", inner.compile())
    outer.add_edge(START, "agent")
    outer.add_edge("agent", END)
    return outer.compile(checkpointer=InMemorySaver())


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
    n2 = n2_graph(callers)
    # The same-shape graphs run on their own loop in a background thread, as Crossroads does.
    portal_cm = start_blocking_portal(name="baseline-loop")
    portal = portal_cm.__enter__()
    scratch = tempfile.TemporaryDirectory()
    stack = AsyncExitStack()
    sqlite_path = Path(scratch.name) / "baseline.sqlite"
    sqlite_saver = portal.call(
        open_checkpointer, sqlite_path, Settings(home=Path(scratch.name)), stack
    )
    shape_memory = same_shape_graph(callers, InMemorySaver())
    shape_sqlite = same_shape_graph(callers, sqlite_saver)
    sqlite_app = Crossroads(
        model, checkpointer=Path(scratch.name) / "crossroads.sqlite", router_threshold=threshold
    )

    def run_shape(graph: Any) -> Any:
        config = {"configurable": {"thread_id": uuid.uuid4().hex}}
        return portal.call(
            partial(graph.ainvoke, {"question": QUESTION}, config, durability="sync")
        )

    variants: dict[str, Callable[[], Any]] = {
        "crossroads": lambda: app.ask(QUESTION),
        "same shape + InMemorySaver": lambda: run_shape(shape_memory),
        "N2 + InMemorySaver": lambda: n2.invoke(
            {"question": QUESTION}, {"configurable": {"thread_id": uuid.uuid4().hex}}
        ),
        "crossroads sqlite": lambda: sqlite_app.ask(QUESTION),
        "same shape + sqlite": lambda: run_shape(shape_sqlite),
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
        shuffler = random.Random(ORDER_SEED)
        for number in range(WARMUP + RUNS):
            # Interleaved, so drift hits all alike; in a new order every iteration (seeded),
            # so no variant always runs first or after the same neighbour: what ran just
            # before leaves the caches warm or cold for the next, and that moved a paired
            # ratio by 3.5% in a null test (the same variant timed twice in a row).
            order = list(variants)
            shuffler.shuffle(order)
            for name in order:
                run = variants[name]
                started = time.perf_counter()
                run()
                if number >= WARMUP:
                    samples[name].append(time.perf_counter() - started)
        calls_made = app.ask(QUESTION).usage["llm_calls"]
    sqlite_app.close()
    portal.call(stack.aclose)
    portal_cm.__exit__(None, None, None)
    scratch.cleanup()
    medians = {name: median_ms(values) for name, values in samples.items()}
    return {
        "model_calls": calls_made,
        "median_ms": medians,
        "p95_ms": {
            name: statistics.quantiles(values, n=20)[-1] * 1000 for name, values in samples.items()
        },
        # Each iteration runs every variant back to back, so the ratio of two variants' times
        # within one iteration is free of the drift between iterations; its median is the
        # steadier figure when the machine is shared.
        "paired_ratios": {
            f"{mine} / {theirs}": statistics.median(
                a / b for a, b in zip(samples[mine], samples[theirs], strict=True)
            )
            for mine, theirs in (
                ("crossroads", "same shape + InMemorySaver"),
                ("crossroads", "N2 + InMemorySaver"),
                ("crossroads sqlite", "same shape + sqlite"),
            )
        },
        "ratios": {
            **{
                f"crossroads / {name}": medians["crossroads"] / medians[name]
                for name in medians
                if name not in {"crossroads", "classifier alone"} and "sqlite" not in name
            },
            "crossroads sqlite / same shape + sqlite": medians["crossroads sqlite"]
            / medians["same shape + sqlite"],
            "crossroads sqlite / crossroads": medians["crossroads sqlite"] / medians["crossroads"],
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
    print("same-shape baselines (ms; ratios are Crossroads ÷ baseline, same saver)")
    for name, entry in results.items():
        ms, ratios = entry["median_ms"], entry["ratios"]
        print(
            f"{name:<30} memory {ms['crossroads']:.2f} vs {ms['same shape + InMemorySaver']:.2f}"
            f" = {ratios['crossroads / same shape + InMemorySaver']:.2f}×;"
            f" ÷ N2 {ratios['crossroads / N2 + InMemorySaver']:.2f}×;"
            f" sqlite {ms['crossroads sqlite']:.2f} vs {ms['same shape + sqlite']:.2f}"
            f" = {ratios['crossroads sqlite / same shape + sqlite']:.2f}×;"
            f" sqlite ÷ memory {ratios['crossroads sqlite / crossroads']:.2f}×"
        )
        paired = entry["paired_ratios"]
        print(
            f"{'':<30} paired (median of per-iteration ratios): ÷ same shape"
            f" {paired['crossroads / same shape + InMemorySaver']:.2f}×;"
            f" ÷ N2 {paired['crossroads / N2 + InMemorySaver']:.2f}×;"
            f" sqlite ÷ shape {paired['crossroads sqlite / same shape + sqlite']:.2f}×"
        )
    print(f"JSON: {OUTPUT}")


if __name__ == "__main__":
    main()
