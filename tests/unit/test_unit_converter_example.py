"""The worked example of your own agent (``examples/unit_converter.py``): tool, subgraph, route."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crossroads import Crossroads, Settings, register_agent
from crossroads.errors import InputError
from crossroads.graphs.builtin_agents import BUILTIN_AGENTS
from crossroads.registry import registered_agents, unregister_agent
from crossroads.testing import ScriptedChatModel
from examples.unit_converter import (
    UNITS_AGENT,
    UNREADABLE,
    build_units_graph,
    convert,
    unit_named,
)
from tests.helpers import echo_specs

MakeApp = Callable[..., Crossroads]
ROUTE_UNITS = {"route": "units", "reason": "a unit conversion"}


# --- the tool --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (26.2, "mile", "km", 42.1648128),
        (1, "km", "m", 1000),
        (12, "inch", "ft", 1),
        (1, "lb", "kg", 0.45359237),
        (16, "oz", "lb", 1),
        (100, "°C", "°F", 212),
        (-40, "°F", "°C", -40),
        (0, "K", "°C", -273.15),
        (98.6, "°F", "K", 310.15),
    ],
)
def test_convert(value: float, source: str, target: str, expected: float) -> None:
    assert convert(value, source, target) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    ("written", "unit"),
    [("Miles", "mile"), ("°f", "°F"), ("celsius", "°C"), ("kelvin", "K"), ("kilos", "kg")],
)
def test_units_are_read_by_alias(written: str, unit: str) -> None:
    assert unit_named(written) == unit


def test_an_unknown_unit_names_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown unit 'parsecs'; known units: m, km"):
        convert(3, "parsecs", "km")


def test_different_quantities_do_not_convert() -> None:
    with pytest.raises(InputError, match="measure different things"):
        convert(5, "kg", "km")


# --- the subgraph on its own -------------------------------------------------------------


async def run_alone(question: str) -> dict[str, Any]:
    graph = build_units_graph().compile()
    output = await graph.ainvoke({"question": question}, context=Settings(offline=True))
    return dict(output)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("how many km is 26.2 miles?", "26.2 mile = 42.1648 km"),
        ("Convert 100°F to celsius, please", "100 °F = 37.7778 °C"),
        ("what is 1,500 grams in pounds", "1500 g = 3.30693 lb"),
        ("how many feet are in 2 miles", "2 mile = 10560 ft"),
        ("How many km is a marathon of 26.2 miles?", "26.2 mile = 42.1648 km"),
        ("how many degrees fahrenheit is -40 °C", "-40 °C = -40 °F"),
    ],
)
async def test_the_subgraph_answers_without_a_model(question: str, answer: str) -> None:
    output = await run_alone(question)
    assert output["answer"] == answer
    assert "conversion" not in output  # the private key stays inside the agent
    assert set(output) <= {"answer", "sources", "steps", "usage", "error", "handoff", "last_value"}
    assert [step["action"] for step in output["steps"]] == ["read", "convert"]
    assert output.get("handoff") is None


async def test_an_unreadable_question_is_handed_back() -> None:
    output = await run_alone("what is the tallest mountain?")
    assert output["answer"] == UNREADABLE
    assert output["handoff"] == "not a unit conversion"
    assert [step["action"] for step in output["steps"]] == ["give_up"]


# --- through the app ---------------------------------------------------------------------


def test_the_router_sends_conversions_to_it(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [ROUTE_UNITS]})
    app = make_app(model, agents=[*BUILTIN_AGENTS, UNITS_AGENT])
    result = app.ask("how many km is 26.2 miles?")
    assert (result.route, result.answer, result.error) == ("units", "26.2 mile = 42.1648 km", None)
    assert result.usage["llm_calls"] == 1  # the router; the agent itself calls no model
    router_prompt = model.calls_for("router")[0].prompt
    assert "- units: Converts a quantity between units" in router_prompt
    assert "units" in app.graph.get_graph().nodes


def test_an_unknown_unit_is_handed_to_another_agent(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={"router": [ROUTE_UNITS, {"route": "fact", "reason": "look it up"}]}
    )
    app = make_app(model, agents=[*echo_specs(), UNITS_AGENT])
    result = app.ask("how many km is 3 parsecs?")
    assert result.route == "fact"
    assert result.answer == "fact: how many km is 3 parsecs?"
    assert "unknown unit 'parsecs'" in model.calls_for("router")[1].prompt


def test_a_mismatch_is_answered_not_handed_on(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [ROUTE_UNITS]})
    app = make_app(model, agents=[*echo_specs(), UNITS_AGENT])
    result = app.ask("what is 5 kg in km?")
    assert result.route == "units"
    assert "measure different things" in result.answer
    assert len(model.calls_for("router")) == 1


@pytest.fixture
def units_registered() -> Iterator[None]:
    assert "units" not in {spec.name for spec in registered_agents()}
    yield
    unregister_agent("units")


def test_register_agent_with_the_example(make_app: MakeApp, units_registered: None) -> None:
    register_agent(
        UNITS_AGENT.name,
        UNITS_AGENT.description,
        build_units_graph,
        examples=UNITS_AGENT.examples,
    )
    model = ScriptedChatModel(by_role={"router": [ROUTE_UNITS]})
    result = make_app(model).ask("100 °C in fahrenheit")
    assert result.answer == "100 °C = 212 °F"
