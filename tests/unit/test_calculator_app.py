"""The calculator agent through the whole app: routing, usage, threads, re-routing, streaming."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph import END, START, StateGraph

from crossroads import Crossroads
from crossroads.contract import AgentInput, AgentOutput, AgentState
from crossroads.graphs.builtin_agents import MATH
from crossroads.registry import AgentSpec
from crossroads.testing import ScriptedChatModel

APPLES = "I have 10 apples and I ate four. How many do I have left?"
MATH_ROUTE = {"route": "math", "reason": "arithmetic"}

MakeApp = Callable[..., Crossroads]
Scripted = Callable[..., ScriptedChatModel]


def test_apples_end_to_end(make_app: MakeApp, scripted: Scripted) -> None:
    model = scripted(router=[MATH_ROUTE], calculator=["10 - 4", "You have 6 apples left."])
    result = make_app(model).ask(APPLES, thread_id="t")
    assert "6" in result.answer
    assert result.route == "math"
    assert result.error is None
    assert result.mode == "llm"
    assert result.usage["llm_calls"] == 3  # router + extract + phrase
    assert result.usage["by_node"]["calculator.extract"]["llm_calls"] == 1
    assert result.usage["by_node"]["calculator.phrase"]["llm_calls"] == 1
    assert [step["action"] for step in result.steps if step["agent"] == "calculator"] == [
        "fast_path",
        "extract",
        "evaluate",
        "phrase",
    ]


def test_follow_up_on_the_same_thread_uses_ans(make_app: MakeApp, scripted: Scripted) -> None:
    model = scripted(
        router=[MATH_ROUTE, MATH_ROUTE],
        calculator=["12 times 7 is 84.", "ans / 4", "84 divided by 4 is 21."],
    )
    app = make_app(model)
    first = app.ask("12 * 7", thread_id="thread")
    assert "84" in first.answer
    second = app.ask("and divided by 4?", thread_id="thread")
    assert second.answer == "84 divided by 4 is 21."
    extraction = model.calls_for("calculator")[1].prompt
    assert "ans = 84" in extraction
    assert "12 * 7" in extraction  # the earlier turn is shown for context
    # The result of the follow-up is the thread's new previous result.
    state = app.graph.get_state({"configurable": {"thread_id": "thread"}})
    assert state.values["last_value"] == 21


def test_follow_up_on_another_thread_has_no_ans(make_app: MakeApp, scripted: Scripted) -> None:
    model = scripted(router=[MATH_ROUTE, MATH_ROUTE], calculator=["84.", "84 / 4", "It is 21."])
    app = make_app(model)
    app.ask("12 * 7", thread_id="one")
    app.ask("and 84 divided by 4?", thread_id="two")
    assert "ans =" not in model.calls_for("calculator")[1].prompt


def _other_agent_graph() -> StateGraph[Any, Any, Any, Any]:
    async def answer(state: AgentState) -> dict[str, Any]:
        return {"answer": "The other agent answered."}

    graph = StateGraph(AgentState, input_schema=AgentInput, output_schema=AgentOutput)
    graph.add_node("answer", answer)
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    return graph


def test_giving_up_hands_the_question_back_to_the_router(
    make_app: MakeApp, scripted: Scripted
) -> None:
    other = AgentSpec(name="other", description="Everything else.", build=_other_agent_graph)
    model = scripted(
        router=[MATH_ROUTE, {"route": "other", "reason": "not arithmetic"}],
        calculator=["NOT MATH"],
    )
    # The model says it is not arithmetic, and the offline reader cannot read it either.
    result = make_app(model, agents=[MATH, other]).ask("What is the blorp of 10 and 4?")
    assert result.route == "other"
    assert result.answer == "The other agent answered."
    gave_up = [step for step in result.steps if step["action"] == "give_up"]
    assert gave_up and gave_up[0]["detail"]["tries"] == 1
    reroute_prompt = model.calls_for("router")[1].prompt
    assert "could not turn the question into arithmetic" in reroute_prompt
    assert result.usage["llm_calls"] == 3  # router, 1 extraction, router again


def test_offline_percent_of(make_app: MakeApp) -> None:
    result = make_app(offline=True).ask("What is 15% of 240?")
    assert "36" in result.answer
    assert result.route == "math"
    assert result.mode == "offline"
    assert result.usage["llm_calls"] == 0


def test_offline_with_a_configured_model_never_calls_it(make_app: MakeApp) -> None:
    model = ScriptedChatModel()
    result = make_app(model, offline=True).ask(APPLES)
    assert "6" in result.answer
    assert model.calls == []


def test_phrase_tokens_stream_as_the_answer(make_app: MakeApp, scripted: Scripted) -> None:
    model = scripted(router=[MATH_ROUTE], calculator=["10 - 4", "You have 6 apples left."])
    events = list(make_app(model).stream(APPLES))
    tokens = "".join(event.text for event in events if event.type == "token")
    assert tokens == "You have 6 apples left."
    final = events[-1].result
    assert final is not None and final.answer == tokens
