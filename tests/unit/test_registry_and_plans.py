"""Your own agents (a registry of routes) and multi-step plans across agents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from crossroads import Crossroads, register_agent
from crossroads.errors import ConfigurationError
from crossroads.graphs.app import build_app_graph
from crossroads.graphs.builtin_agents import BUILTIN_AGENTS, FACT, MATH, NONE
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.registry import RESERVED_NAMES, AgentSpec, registered_agents, unregister_agent
from crossroads.testing import ScriptedChatModel
from crossroads.tools.retrievers import Passage
from tests.helpers import echo_agent_graph
from tests.stubs.wikipedia_stub import wiki_url

MakeApp = Callable[..., Crossroads]

UNITS = AgentSpec(
    name="units",
    description="Converts between units of measure (miles, km, pounds, kg, °F, °C).",
    examples=("how many km is 3 miles?",),
    build=lambda: echo_agent_graph("units"),
)

FRANCE = Passage(
    title="Demographics of France",
    text="France had a population of 68,400,000 people on 1 January 2024.",
    source=wiki_url("Demographics of France"),
    score=1.0,
    backend="fake",
)


class OnePassage:
    name = "fake"

    def search(self, query: str, k: int) -> list[Passage]:
        return [FRANCE]


@pytest.fixture
def clean_registry() -> Iterator[None]:
    before = {spec.name for spec in registered_agents()}
    yield
    for spec in registered_agents():
        if spec.name not in before:
            unregister_agent(spec.name)


def test_a_fourth_agent_is_routed_to(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": "units", "reason": "conversion"}]})
    app = make_app(model, agents=[*BUILTIN_AGENTS, UNITS])
    result = app.ask("how many km is 26 miles?")
    assert result.route == "units"
    assert result.answer == "units: how many km is 26 miles?"
    assert "- units: Converts between units" in model.calls_for("router")[0].prompt
    assert "units" in app.graph.get_graph().nodes


def test_register_agent_adds_it_to_new_apps(make_app: MakeApp, clean_registry: None) -> None:
    register_agent(
        "company_docs",
        "Answers questions about our company's internal handbook.",
        lambda: echo_agent_graph("company_docs"),
        examples=["what is our vacation policy?"],
    )
    model = ScriptedChatModel(by_role={"router": [{"route": "company_docs", "reason": "hr"}]})
    app = make_app(model)
    assert app.ask("how many vacation days do I get?").route == "company_docs"
    assert [spec.name for spec in app.agents][-1] == "company_docs"


def test_the_classifier_fast_path_is_off_when_other_agents_exist(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": "units", "reason": "x"}]})
    app = make_app(model, agents=[*BUILTIN_AGENTS, UNITS], router_threshold=0.0)
    assert app.ask("What is 12 times 7?").route == "units"  # the LLM decided, not the classifier


def test_duplicate_names_are_rejected(clean_registry: None) -> None:
    with pytest.raises(ConfigurationError, match="must be unique"):
        Crossroads(offline=True, checkpointer="memory", agents=[*BUILTIN_AGENTS, MATH])
    register_agent("units", "Converts units.", lambda: echo_agent_graph("units"))
    with pytest.raises(ConfigurationError, match="must be unique"):
        register_agent("units", "Converts units again.", lambda: echo_agent_graph("units"))


@pytest.mark.parametrize("name", ["Units", "unit-converter", "2units", "", "router", "a" * 41])
def test_names_must_be_snake_case_and_free(name: str) -> None:
    with pytest.raises(ConfigurationError):
        AgentSpec(name=name, description="x", build=lambda: None)


@pytest.mark.parametrize("field", ["name", "node"])
def test_an_agent_named_like_an_app_node_gets_a_clear_error(field: str) -> None:
    """Every node of the app graph is reserved, under either of an agent's names (a raw
    LangGraph ``ValueError`` about a duplicate node is what this used to give)."""
    nodes = set(build_app_graph(agents=BUILTIN_AGENTS).nodes) - {
        spec.node for spec in BUILTIN_AGENTS
    }
    assert nodes and nodes <= RESERVED_NAMES
    for node in sorted(nodes):
        names = {"name": node} if field == "name" else {"name": "mine", "node": node}
        with pytest.raises(ConfigurationError, match=f"agent name '{node}' is reserved"):
            AgentSpec(**names, description="x", build=lambda: None)


def test_an_agent_needs_a_description() -> None:
    with pytest.raises(ConfigurationError, match="needs a description"):
        AgentSpec(name="units", description="  ", build=lambda: None)


def france_agents() -> list[AgentSpec]:
    fact = replace(
        FACT, build=partial(build_researcher_graph, search_factory=lambda s: OnePassage())
    )
    return [MATH, fact, NONE]


FRANCE_PLAN = {
    "route": "fact",
    "reason": "needs a fact, then a calculation",
    "steps": [
        {"route": "fact", "question": "What is the population of France?"},
        {"route": "math", "question": "Divide the population of France by 3."},
    ],
}


def test_france_runs_fact_then_math(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [FRANCE_PLAN],
            "researcher": ["France had about 68,400,000 inhabitants in 2024 [1]."],
            "calculator": ["68400000 / 3", "A third of France's population is 22,800,000."],
        }
    )
    app = make_app(model, agents=france_agents())
    result = app.ask("What is the population of France divided by 3?")
    assert result.error is None, result.error
    assert "22,800,000" in result.answer
    extraction = model.calls_for("calculator")[0].prompt
    assert "68,400,000" in extraction  # the fact's number reached the calculator's prompt
    assert "<earlier_results>" in extraction
    assert [s["title"] for s in result.sources] == ["Demographics of France"]
    agents = [step["agent"] for step in result.steps]
    assert agents.index("researcher") < agents.index("calculator")
    plan_steps = [s for s in result.steps if s["agent"] == "planner"]
    assert [s["detail"]["route"] for s in plan_steps] == ["fact", "math"]
    assert app.history(result.thread_id or "")[0] == (
        "you",
        "What is the population of France divided by 3?",
    )


def test_a_plan_longer_than_the_limit_is_cut_with_a_note(make_app: MakeApp) -> None:
    plan = {
        "route": "fact",
        "reason": "three steps",
        "steps": [
            {"route": "fact", "question": "population of France?"},
            {"route": "math", "question": "divide it by 3"},
            {"route": "none", "question": "write a poem about the result"},
        ],
    }
    model = ScriptedChatModel(
        by_role={
            "router": [plan],
            "researcher": ["About 68,400,000 people [1]."],
            "calculator": ["68400000 / 3", "That is 22,800,000."],
        }
    )
    app = make_app(model, agents=france_agents(), max_plan_steps=2)
    result = app.ask("population of France divided by 3, as a poem")
    assert "22,800,000" in result.answer
    assert "max_plan_steps" in result.answer
    router_step = result.steps[0]["detail"]
    assert len(router_step["plan"]) == 2
    assert "1 more step" in router_step["plan_cut"]
    assert not model.calls_for("writer")


def test_a_failed_step_ends_the_plan_with_what_was_learned(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [FRANCE_PLAN],
            "researcher": ["About 68,400,000 people [1]."],
            "calculator": ["the population / three"] * 3,
        }
    )
    app = make_app(model, agents=france_agents(), max_tries=3)
    result = app.ask("What is the population of France divided by 3?")
    assert result.error is not None and "plan stopped at step 2 of 2" in result.error
    assert "What I learned so far" in result.answer
    assert "68,400,000" in result.answer


def test_a_one_step_plan_is_just_a_route(make_app: MakeApp) -> None:
    plan: dict[str, Any] = {
        "route": "none",
        "reason": "chat",
        "steps": [{"route": "none", "question": "hi"}],
    }
    model = ScriptedChatModel(by_role={"router": [plan]})
    app = make_app(
        model, agents=[replace(s, build=partial(echo_agent_graph, s.name)) for s in BUILTIN_AGENTS]
    )
    result = app.ask("hi")
    assert result.answer == "none: hi"
    assert not [s for s in result.steps if s["agent"] == "planner"]


def test_agent_modules_from_the_environment_are_registered(
    monkeypatch: pytest.MonkeyPatch, clean_registry: None
) -> None:
    monkeypatch.setenv("CROSSROADS_AGENTS", "tests.agent_module")
    with Crossroads(offline=True, checkpointer="memory") as app:
        assert [spec.name for spec in app.agents] == ["math", "fact", "none", "units"]
        assert "units" in app.graph.get_graph().nodes


def test_a_missing_agent_module_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSROADS_AGENTS", "no_such_module_here")
    with pytest.raises(ConfigurationError, match="could not import the agent module"):
        Crossroads(offline=True, checkpointer="memory")


def test_offline_a_registered_agent_is_reached_through_its_examples(make_app: MakeApp) -> None:
    from examples.unit_converter import UNITS_AGENT

    app = make_app(offline=True, agents=[*BUILTIN_AGENTS, UNITS_AGENT], router_threshold=None)
    converted = app.ask("how many km is 26.2 miles?")
    assert converted.route == "units"
    assert converted.answer == "26.2 mile = 42.1648 km"
    assert converted.steps[0]["detail"]["decided_by"] == "examples"
    # the built-in routes still go through the classifier
    assert app.ask("What is 15% of 240?").route == "math"
    poem = app.ask("write a poem about miles davis")  # one shared word is not enough
    assert poem.route == "none"


def test_offline_example_matching_ignores_common_question_words(make_app: MakeApp) -> None:
    from examples.unit_converter import UNITS_AGENT

    app = make_app(offline=True, agents=[*BUILTIN_AGENTS, UNITS_AGENT], router_threshold=None)
    # "how many" is in the units examples too; it must not pull a word problem there
    assert app.route("I had 10 apples and ate 4. How many apples are left?").route == "math"
