"""Your own agent: unit conversion with no model, the agent itself in about fifty lines.

This is the worked example for adding a route to Crossroads (notebook
``notebooks/05_your_own_agent.ipynb`` runs it). An agent is three things:

* a **tool**: :func:`convert`, a plain function with no model inside;
* a **subgraph** that follows the agent contract of :mod:`crossroads.contract`: it reads
  ``question`` and returns ``answer``, ``steps`` and ``usage`` (``handoff`` when it gives up,
  so the router can try another agent once). Its private key, ``conversion``, never leaves it;
* an :class:`~crossroads.registry.AgentSpec`: the route name and the description the router
  chooses by.

::

    from crossroads import Crossroads
    from crossroads.graphs.builtin_agents import BUILTIN_AGENTS
    from crossroads.examples.unit_converter import UNITS_AGENT

    app = Crossroads(agents=[*BUILTIN_AGENTS, UNITS_AGENT])
    app.ask("how many km is 26.2 miles?").answer   # '26.2 mile = 42.1648 km'

or, for every app made afterwards in this process,
``crossroads.register_agent("units", description, build_units_graph, examples=[...])``.

Reading the question is a regular expression, not a model: the agent answers the same with or
without a key, and says plainly (with a ``handoff``) when it cannot read a question.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.graph import END, START, StateGraph

from crossroads.contract import AgentInput, AgentOutput, AgentState, step
from crossroads.errors import InputError
from crossroads.graphs.guard import guarded
from crossroads.registry import AgentSpec
from crossroads.settings import Settings
from crossroads.usage import empty_usage

AGENT = "units"

# unit -> (quantity, scale, offset): value_in_base = value * scale + offset.
# Bases: metre, kilogram, kelvin. Offsets exist only for the temperature scales.
UNITS: dict[str, tuple[str, float, float]] = {
    "m": ("length", 1.0, 0.0),
    "km": ("length", 1000.0, 0.0),
    "cm": ("length", 0.01, 0.0),
    "mile": ("length", 1609.344, 0.0),
    "ft": ("length", 0.3048, 0.0),
    "inch": ("length", 0.0254, 0.0),
    "kg": ("mass", 1.0, 0.0),
    "g": ("mass", 0.001, 0.0),
    "lb": ("mass", 0.45359237, 0.0),
    "oz": ("mass", 0.028349523125, 0.0),
    "°C": ("temperature", 1.0, 273.15),
    "°F": ("temperature", 5 / 9, 273.15 - 32 * 5 / 9),
    "K": ("temperature", 1.0, 0.0),
}
ALIASES = {
    **{name.lower().removeprefix("°"): name for name in UNITS},
    **dict.fromkeys(["meter", "meters", "metre", "metres"], "m"),
    **dict.fromkeys(["kilometer", "kilometers", "kilometre", "kilometres"], "km"),
    **dict.fromkeys(["miles", "mi"], "mile"),
    **dict.fromkeys(["foot", "feet"], "ft"),
    **dict.fromkeys(["inches"], "inch"),
    **dict.fromkeys(["kilogram", "kilograms", "kilo", "kilos"], "kg"),
    **dict.fromkeys(["gram", "grams"], "g"),
    **dict.fromkeys(["pound", "pounds", "lbs"], "lb"),
    **dict.fromkeys(["ounce", "ounces"], "oz"),
    **dict.fromkeys(["celsius", "centigrade"], "°C"),
    **dict.fromkeys(["fahrenheit"], "°F"),
    **dict.fromkeys(["kelvin"], "K"),
}

UNKNOWN_UNIT = "unknown unit {unit!r}; known units: {known}"
MISMATCH = "cannot convert {source} ({a}) to {target} ({b}): they measure different things"
UNREADABLE = (
    "I could not read a unit conversion in this question; ask like "
    "'how many km is 26 miles?' or '100 °F in celsius'"
)

_NUMBER = r"(?P<value>-?\d[\d,]*(?:\.\d+)?)"
_UNIT = r"(?:degrees?\s+)?(?P<{name}>°?[a-z]+)"
_SOURCE, _TARGET = _UNIT.format(name="src"), _UNIT.format(name="dst")
QUESTION_PATTERNS = (
    # "26 miles in km", "convert 100°F to celsius"
    re.compile(rf"{_NUMBER}\s*{_SOURCE}\s+(?:in|to|into|as)\s+{_TARGET}"),
    # "how many km is 26 miles?", "how many km is a marathon of 26.2 miles?"
    re.compile(rf"how many\s+{_TARGET}\b[^\d]{{0,40}}?{_NUMBER}\s*{_SOURCE}"),
)


def unit_named(text: str) -> str:
    """The canonical unit for ``text`` (``"miles"`` → ``"mile"``).

    Raises:
        InputError: the unit is not known.
    """
    unit = ALIASES.get(text.strip().lower().removeprefix("°"))
    if unit is None:
        raise InputError(UNKNOWN_UNIT.format(unit=text, known=", ".join(UNITS)))
    return unit


def convert(value: float, source: str, target: str) -> float:
    """Convert ``value`` from unit ``source`` to unit ``target`` (the agent's tool).

    Raises:
        InputError: a unit is unknown, or the two measure different quantities.
    """
    (kind_a, scale_a, offset_a), (kind_b, scale_b, offset_b) = (
        UNITS[unit_named(source)],
        UNITS[unit_named(target)],
    )
    if kind_a != kind_b:
        raise InputError(MISMATCH.format(source=source, a=kind_a, target=target, b=kind_b))
    return (value * scale_a + offset_a - offset_b) / scale_b


# --- the agent: two nodes, an edge and a spec ------------------------------------------


class UnitsState(AgentState, total=False):
    """The contract's keys plus this agent's private one."""

    conversion: dict[str, Any]
    """What the question asks for: ``value``, ``source`` and ``target`` units."""


async def read_question(state: UnitsState) -> dict[str, Any]:
    """Find "<number> <unit> in <unit>" in the question, or give up with a handoff."""
    for pattern in QUESTION_PATTERNS:
        if found := pattern.search(state["question"].lower()):
            value = float(found["value"].replace(",", ""))
            asked = {"value": value, "source": found["src"], "target": found["dst"]}
            return {"conversion": asked, "steps": [step(AGENT, "read", asked)]}
    gave_up = step(AGENT, "give_up", UNREADABLE)
    return {"answer": UNREADABLE, "handoff": "not a unit conversion", "steps": [gave_up]}


async def answer(state: UnitsState) -> dict[str, Any]:
    """Call the tool and phrase the result; a tool error becomes an honest answer."""
    asked = state["conversion"]
    try:
        source, target = unit_named(asked["source"]), unit_named(asked["target"])
    except InputError as error:  # another agent may know this unit: hand the question back
        failed = step(AGENT, "convert", {"error": str(error)})
        return {
            "answer": f"I could not convert that: {error}.",
            "handoff": str(error),
            "steps": [failed],
        }
    try:
        value = convert(asked["value"], source, target)
    except InputError as error:  # km to kg: no other agent can do better, so no handoff
        return {
            "answer": f"I could not convert that: {error}.",
            "steps": [step(AGENT, "convert", {"error": str(error)})],
        }
    done = step(AGENT, "convert", {"value": value, "unit": target})
    text = f"{asked['value']:g} {source} = {value:.6g} {target}"
    return {"answer": text, "steps": [done], "usage": empty_usage()}  # no model was called


def read_or_stop(state: UnitsState) -> str:
    """Edge after ``read``: on to ``answer`` when the question was read, else the end."""
    return "answer" if state.get("conversion") and not state.get("error") else END


def build_units_graph() -> StateGraph[UnitsState, Settings, AgentInput, AgentOutput]:
    """The agent's subgraph (uncompiled): ``read → answer``, ending early when unread."""
    graph = StateGraph(
        UnitsState, context_schema=Settings, input_schema=AgentInput, output_schema=AgentOutput
    )
    graph.add_node("read", guarded(AGENT, "read", read_question))
    graph.add_node("answer", guarded(AGENT, "answer", answer))
    graph.add_edge(START, "read")
    graph.add_conditional_edges("read", read_or_stop, ["answer", END])
    graph.add_edge("answer", END)
    return graph


UNITS_AGENT = AgentSpec(
    name=AGENT,
    description="Converts a quantity between units of measure: length (km, miles, feet), "
    "mass (kg, pounds, ounces) and temperature (°C, °F, kelvin).",
    build=build_units_graph,
    examples=("how many km is 26 miles?", "100 °F in celsius", "convert 5 pounds to kg"),
)
"""The spec to route to: ``Crossroads(agents=[*BUILTIN_AGENTS, UNITS_AGENT])``."""
