"""The router: a multiple-choice question, malformed output handled, fast path, re-route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crossroads import Crossroads
from crossroads.agents.router import route_schema, router_messages
from crossroads.graphs.builtin_agents import BUILTIN_AGENTS
from crossroads.testing import ScriptedChatModel
from tests.helpers import echo_agent_graph, echo_specs

MakeApp = Callable[..., Crossroads]


@pytest.mark.parametrize(
    ("question", "route", "node"),
    [
        ("What is 5 plus 3?", "math", "calculator"),
        ("Who wrote Pride and Prejudice?", "fact", "researcher"),
        ("Write a haiku about rain", "none", "writers"),
    ],
)
def test_each_route_reaches_its_agent(
    make_app: MakeApp, question: str, route: str, node: str
) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": route, "reason": "because"}]})
    result = make_app(model, agents=echo_specs()).ask(question)
    assert result.route == route
    assert result.answer == f"{route}: {question}"
    assert result.route_reason == "because"
    assert result.usage["llm_calls"] == 1
    assert result.usage["by_node"]["router"]["llm_calls"] == 1
    assert result.usage["input_tokens"] > 0
    assert [step["agent"] for step in result.steps] == ["router", route]


def test_malformed_output_gets_one_retry_that_shows_the_error(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": ["I am not sure.", {"route": "math", "reason": "sum"}]}
    )
    # Words, not a bare expression: "5 + 3" would be routed to math without a model call.
    result = make_app(model, agents=echo_specs()).ask("what do five and three make together?")
    assert result.route == "math"
    calls = model.calls_for("router")
    assert len(calls) == 2
    assert "could not be used" in calls[1].prompt
    assert "math, fact, none" in calls[1].prompt


@pytest.mark.parametrize(
    ("reply", "route"),
    [
        ("math, definitely", "math"),
        ("The answer is: Fact.", "fact"),
        ("none of the others fit; math does not apply", "none"),
        ('```json\n{"route": "fact", "reason": "a capital"}\n```', "fact"),
    ],
)
def test_a_plain_text_reply_is_read_leniently(make_app: MakeApp, reply: str, route: str) -> None:
    # Small models answer the multiple-choice question in words or in a fenced JSON block:
    # the first choice named is the answer, with no second call.
    model = ScriptedChatModel(by_role={"router": [reply]})
    result = make_app(model, agents=echo_specs()).ask("something")
    assert result.route == route
    assert result.steps[0]["detail"]["decided_by"] == "llm"
    assert len(model.calls_for("router")) == 1


def test_a_label_outside_the_choices_is_malformed(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": [{"route": "poetry", "reason": "x"}, {"route": "none", "reason": "y"}]}
    )
    result = make_app(model, agents=echo_specs()).ask("a poem please")
    assert result.route == "none"
    assert len(model.calls_for("router")) == 2


def test_empty_output_twice_falls_back_to_none(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": ["", ""]})
    result = make_app(model, agents=echo_specs()).ask("hmm")
    assert result.route == "none"
    assert "unusable twice" in result.route_reason
    assert result.usage["llm_calls"] == 2
    assert result.steps[0]["detail"]["decided_by"] == "fallback"


def test_choices_come_from_the_registered_agents() -> None:
    specs = [*BUILTIN_AGENTS]
    from crossroads.registry import AgentSpec

    units = AgentSpec(
        name="units",
        description="Converts between units of measure.",
        examples=("how many km is 3 miles?",),
        build=lambda: echo_agent_graph("units"),
    )
    messages = router_messages([*specs, units], "3 miles in km?", [])
    system = str(messages[0].content)
    assert "- units: Converts between units of measure." in system
    assert '"how many km is 3 miles?"' in system
    schema = route_schema(["math", "units"])
    assert schema.model_validate({"route": "units", "reason": "r"})
    with pytest.raises(ValueError):
        schema.model_validate({"route": "fact", "reason": "r"})


def test_history_reaches_the_router_for_follow_ups(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": [{"route": "math", "reason": "a"}, {"route": "math", "reason": "b"}]}
    )
    app = make_app(model, agents=echo_specs())
    # Neither a bare expression nor a short follow-up (both are routed without a model call).
    app.ask("I bought twelve boxes of seven eggs each", thread_id="t")
    follow_up = "and then take that whole number of eggs and multiply it by three please"
    app.ask(follow_up, thread_id="t")
    second = model.calls_for("router")[1].prompt
    assert "twelve boxes of seven eggs" in second
    assert second.count(follow_up) == 1


def test_an_agent_that_gives_up_is_rerouted_once(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "numbers"}, {"route": "fact", "reason": "2"}]
        }
    )
    app = make_app(model, agents=echo_specs(math="no numbers in this question"))
    result = app.ask("how many moons does Mars have?")
    assert result.route == "fact"
    second = model.calls_for("router")[1].prompt
    assert "no numbers in this question" in second
    # the tried route is no longer a choice
    assert "- math:" not in second


def test_reroute_happens_at_most_once(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": [{"route": "math", "reason": "1"}, {"route": "fact", "reason": "2"}]}
    )
    app = make_app(model, agents=echo_specs(math="not math", fact="nothing found"))
    result = app.ask("?? question ??")
    assert result.route == "fact"
    assert len(model.calls_for("router")) == 2
    assert result.answer.startswith("Sorry, I could not answer")


def test_route_api_decides_without_running_an_agent(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": "fact", "reason": "who question"}]})
    app = make_app(model, agents=echo_specs())
    decision = app.route("who built the pyramids?")
    assert (decision.route, decision.reason, decision.decided_by) == ("fact", "who question", "llm")
    assert app.threads() == []


def test_fast_path_skips_the_llm_when_the_classifier_is_confident(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": "fact", "reason": "unused"}]})
    app = make_app(model, agents=echo_specs(), router_threshold=0.0)
    result = app.ask("What is 12 times 7?")
    assert result.route == "math"
    assert model.calls_for("router") == []
    assert result.steps[0]["detail"]["decided_by"] == "classifier"
    assert result.usage["llm_calls"] == 0


def test_unsure_classifier_hands_over_to_the_llm(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": "fact", "reason": "llm"}]})
    app = make_app(model, agents=echo_specs(), router_threshold=1.01)
    assert app.ask("What is 12 times 7?").route == "fact"
    assert len(model.calls_for("router")) == 1


def test_offline_routing_uses_the_classifier(make_app: MakeApp) -> None:
    app = make_app(offline=True, agents=echo_specs())
    decisions: dict[str, Any] = {
        q: app.route(q).route
        for q in ("What is 15% of 240?", "who wrote hamlet", "write me a poem about cats")
    }
    assert decisions == {
        "What is 15% of 240?": "math",
        "who wrote hamlet": "fact",
        "write me a poem about cats": "none",
    }
