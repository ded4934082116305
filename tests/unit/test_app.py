"""The app graph end to end with scripted models: results, threads, streaming, budgets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from crossroads import Crossroads, Result
from crossroads.contract import AgentInput, AgentOutput, AgentState
from crossroads.graphs.app import build_app_graph
from crossroads.graphs.guard import guarded
from crossroads.llm import ModelCaller
from crossroads.registry import AgentSpec
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel
from tests.helpers import echo_specs

MakeApp = Callable[..., Crossroads]


def chatty_agent(name: str = "none", calls: int = 100) -> AgentSpec:
    """An agent that keeps calling the model, like an endless critic ⇄ writer loop."""

    async def loop(state: AgentState, runtime: Runtime[Settings]) -> dict[str, Any]:
        caller = ModelCaller(runtime.context, state, f"{name}.loop")
        text = ""
        try:
            for _ in range(calls):
                reply = await caller.ainvoke("writer", [HumanMessage(content="again")], answer=True)
                text = str(reply.content)
        finally:
            usage = caller.usage_update()
        return {"answer": text, "usage": usage}

    async def guarded_loop(state: AgentState, runtime: Runtime[Settings]) -> dict[str, Any]:
        try:
            return await loop(state, runtime)
        except Exception:
            raise

    def build() -> StateGraph[Any, Any, Any, Any]:
        graph = StateGraph(AgentState, input_schema=AgentInput, output_schema=AgentOutput)
        graph.add_node("loop", guarded(name, "loop", guarded_loop))
        graph.add_edge(START, "loop")
        graph.add_edge("loop", END)
        return graph

    return AgentSpec(name=name, node="writers", description="writes", build=build)


def test_result_fields_are_filled(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": "fact", "reason": "who"}]})
    result = make_app(model, agents=echo_specs()).ask("Who built the pyramids?", thread_id="abc")
    assert isinstance(result, Result)
    assert result.thread_id == "abc"
    assert result.mode == "llm"
    assert result.error is None
    data = result.to_dict()
    assert set(data) >= {"answer", "route", "sources", "usage", "steps", "error"}


def test_threads_keep_history_and_questions_are_isolated(make_app: MakeApp) -> None:
    model = ScriptedChatModel(default={"route": "none", "reason": "chat"})
    app = make_app(model, agents=echo_specs())
    first = app.ask("hello", thread_id="one")
    app.ask("again", thread_id="one")
    app.ask("elsewhere", thread_id="two")
    assert app.history("one") == [
        ("you", "hello"),
        ("none", "none: hello"),
        ("you", "again"),
        ("none", "none: again"),
    ]
    assert [speaker for speaker, _ in app.history("two")] == ["you", "none"]
    assert set(app.threads()) == {"one", "two"}
    # per-request keys are reset: steps of the second turn are its own
    second = app.ask("third", thread_id="one")
    assert len(second.steps) == len(first.steps)
    assert second.usage["llm_calls"] == 1


def test_sqlite_threads_survive_a_new_app(tmp_path: Path) -> None:
    store = tmp_path / "threads.sqlite"
    model = ScriptedChatModel(default={"route": "none", "reason": "chat"})
    with Crossroads(model, checkpointer=store, agents=echo_specs(), router_threshold=1.01) as app:
        app.ask("remember me", thread_id="work")
    with Crossroads(model, checkpointer=store, agents=echo_specs(), router_threshold=1.01) as app:
        assert app.history("work")[0] == ("you", "remember me")
        assert app.threads() == ["work"]


def test_default_store_is_sqlite_under_crossroads_home(hermetic_env: Path) -> None:
    model = ScriptedChatModel(default={"route": "none", "reason": "chat"})
    with Crossroads(model, agents=echo_specs(), router_threshold=1.01) as app:
        app.ask("hi", thread_id="x")
    assert (hermetic_env / "threads.sqlite").exists()


def test_stream_events_in_order(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": [{"route": "none", "reason": "chat"}], "writer": ["hello there friend"]}
    )
    app = make_app(model, agents=[chatty_agent(calls=1)])
    events = list(app.stream("say hi"))
    kinds = [event.type for event in events]
    assert kinds[-1] == "result"
    assert kinds.index("route") < kinds.index("token")
    tokens = "".join(event.text for event in events if event.type == "token")
    assert tokens == "hello there friend"
    nodes = {event.node for event in events if event.type == "node_start"}
    assert {"intake", "router", "writers", "writers/loop", "respond"} <= nodes
    result = events[-1].result
    assert result is not None and result.answer == "hello there friend"


async def test_astream_and_aask_from_another_event_loop(make_app: MakeApp) -> None:
    model = ScriptedChatModel(default={"route": "none", "reason": "chat"})
    app = make_app(model, agents=echo_specs())
    events = [event async for event in app.astream("hi")]
    assert events[-1].type == "result"
    results = await asyncio.gather(*(app.aask(f"q{i}", thread_id=f"t{i}") for i in range(10)))
    assert [r.answer for r in results] == [f"none: q{i}" for i in range(10)]


def test_call_budget_stops_an_endless_loop_with_the_best_answer_so_far(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": [{"route": "none", "reason": "story"}]}, default="draft"
    )
    app = make_app(model, agents=[chatty_agent(calls=1000)], max_llm_calls=6)
    result = app.ask("write forever")
    assert result.error is not None and "max_llm_calls" in result.error
    assert result.usage["llm_calls"] == 6
    assert len(model.calls) == 6


def fan_out_agent(calls_per_branch: tuple[int, ...]) -> AgentSpec:
    """An agent whose branches call the model side by side (LangGraph runs them together)."""

    def branch(index: int, calls: int) -> Any:
        async def run(state: AgentState, runtime: Runtime[Settings]) -> dict[str, Any]:
            caller = ModelCaller(runtime.context, state, f"none.branch{index}")
            for _ in range(calls):
                await caller.ainvoke("writer", [HumanMessage(content=f"branch {index}")])
            return {"usage": caller.usage_update(), "steps": [{"agent": "none", "action": "b"}]}

        return guarded("none", f"branch{index}", run)

    def build() -> StateGraph[Any, Any, Any, Any]:
        graph = StateGraph(AgentState, input_schema=AgentInput, output_schema=AgentOutput)
        for index, calls in enumerate(calls_per_branch):
            graph.add_node(f"branch{index}", branch(index, calls))
            graph.add_edge(START, f"branch{index}")
            graph.add_edge(f"branch{index}", END)
        return graph

    return AgentSpec(name="none", node="writers", description="writes", build=build)


def test_call_budget_counts_the_router_and_branches_running_side_by_side(
    make_app: MakeApp,
) -> None:
    """Router (1 call) + branches of 1 and 2 calls under a budget of 3: the fourth call is
    refused, whichever branch makes it, and the failed branch's earlier calls still count.
    Under the old split (each branch counted the usage before the agent plus its own) all
    four calls were made and the request ended without an error."""
    model = ScriptedChatModel(
        by_role={"router": [{"route": "none", "reason": "chat"}]}, default="draft"
    )
    app = make_app(model, agents=[fan_out_agent((1, 2))], max_llm_calls=3)
    result = app.ask("two at once")
    assert result.error is not None and "max_llm_calls" in result.error
    assert result.usage["llm_calls"] == len(model.calls) == 3
    by_node = result.usage["by_node"]
    assert by_node["router"]["llm_calls"] == 1
    branches = sum(counts["llm_calls"] for node, counts in by_node.items() if node != "router")
    assert branches == 2


def test_usage_of_branches_side_by_side_is_counted_once(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": [{"route": "none", "reason": "chat"}]}, default="draft"
    )
    result = make_app(model, agents=[fan_out_agent((2, 3))]).ask("two at once")
    assert result.error is None
    assert result.usage["llm_calls"] == len(model.calls) == 6
    assert result.usage["by_node"]["none.branch0"]["llm_calls"] == 2
    assert result.usage["by_node"]["none.branch1"]["llm_calls"] == 3
    assert result.usage["input_tokens"] == sum(
        counts["input_tokens"] for counts in result.usage["by_node"].values()
    )


def test_token_budget(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": [{"route": "none", "reason": "story"}]}, default="word " * 200
    )
    app = make_app(model, agents=[chatty_agent(calls=1000)], max_tokens=2_000)
    result = app.ask("write forever")
    assert result.error is not None and "max_tokens" in result.error
    assert result.usage["input_tokens"] + result.usage["output_tokens"] >= 2_000
    assert result.usage["llm_calls"] < 20


def test_wall_time_budget_caps_a_hanging_model(make_app: MakeApp) -> None:
    model = ScriptedChatModel(default={"route": "none", "reason": "x"}, latency=30)
    app = make_app(model, agents=echo_specs(), max_seconds=1.0)
    result = app.ask("anything")
    assert result.error is not None and "max_seconds" in result.error


def test_model_failure_becomes_a_clear_error(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [ValueError("provider exploded")]})
    result = make_app(model, agents=echo_specs(), model_retries=0).ask("hm")
    assert result.error is not None
    assert "the model call failed: provider exploded (the router model" in result.error
    assert result.answer


def test_graph_builder_is_uncompiled_and_snapshot_matches() -> None:
    builder = build_app_graph()
    assert isinstance(builder, StateGraph)
    drawing = builder.compile().get_graph().draw_mermaid()
    snapshot = Path(__file__).parent.parent / "snapshots" / "app_graph.mmd"
    assert drawing == snapshot.read_text(encoding="utf-8"), (
        "the app graph's wiring changed; if intended, update tests/snapshots/app_graph.mmd "
        "with `crossroads graph > tests/snapshots/app_graph.mmd`"
    )


def test_duplicate_agent_names_are_rejected() -> None:
    from crossroads.errors import ConfigurationError

    specs = echo_specs()
    with pytest.raises(ConfigurationError, match="must be unique"):
        Crossroads(offline=True, agents=[*specs, specs[0]], checkpointer="memory")


def test_messages_in_state_are_langchain_messages(make_app: MakeApp) -> None:
    model = ScriptedChatModel(default={"route": "none", "reason": "chat"})
    app = make_app(model, agents=echo_specs())
    app.ask("hi", thread_id="m")

    async def read() -> list[Any]:
        state = await app.graph.aget_state({"configurable": {"thread_id": "m"}})
        return list(state.values["messages"])

    messages = asyncio.run(read())
    assert isinstance(messages[0], HumanMessage) and isinstance(messages[1], AIMessage)


def test_input_and_output_schemas_are_json_schemas() -> None:
    """LangGraph Server and Studio show these; typing.TypedDict on 3.11 breaks them."""
    graph = build_app_graph().compile()
    schema = graph.get_input_jsonschema()
    # Either key may carry the question (``messages`` for chat clients); intake checks it.
    assert {"question", "messages"} <= set(schema["properties"]) and not schema.get("required")
    output = graph.get_output_jsonschema()["properties"]
    assert {"answer", "route", "sources", "usage", "steps", "error", "mode", "messages"} <= set(
        output
    )


def test_an_app_nobody_closed_exits_quietly(tmp_path: Path) -> None:
    """Dropped inside ``asyncio.run``, the app is garbage-collected on its own loop thread."""
    import subprocess
    import sys

    script = (
        "import asyncio, gc\n"
        "from crossroads import Crossroads\n"
        "async def main():\n"
        "    app = Crossroads(offline=True, checkpointer='memory')\n"
        "    print((await app.aask('What is 2+2?')).answer)\n"
        "asyncio.run(main())\n"
        "gc.collect()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "CROSSROADS_HOME": str(tmp_path)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "4" in proc.stdout
    assert "Traceback" not in proc.stderr and "RuntimeError" not in proc.stderr


def test_graphs_exports_uncompiled_builders() -> None:
    from crossroads import graphs

    for name in graphs.__all__:
        assert isinstance(getattr(graphs, name)(), StateGraph), name
