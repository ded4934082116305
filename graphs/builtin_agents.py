"""The built-in agents: math, fact and none are simply three registrations."""

from __future__ import annotations

from crossroads.graphs.calculator import build_calculator_graph
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.graphs.writers import build_writers_graph
from crossroads.registry import AgentSpec, registered_agents

MATH = AgentSpec(
    name="math",
    node="calculator",
    description=(
        "Computes a number from numbers given in the question or the conversation: "
        "arithmetic, percentages, word problems, follow-ups on the last result."
    ),
    examples=(
        "What is 5 plus 3?",
        "I have 10 apples and I ate four. How many do I have left?",
        "what is 15% of 240?",
        "and divided by 4?",
    ),
    build=build_calculator_graph,
)

FACT = AgentSpec(
    name="fact",
    node="researcher",
    description=(
        "Looks up facts about the world (people, places, events, dates, definitions, "
        "numbers that must be looked up) and answers with sources."
    ),
    examples=(
        "Who wrote Pride and Prejudice?",
        "gee, I'm wondering whether they make those pyramids that are in like Egypt",
        "capital of australia",
        "When did the Berlin Wall fall?",
    ),
    build=build_researcher_graph,
)

NONE = AgentSpec(
    name="none",
    node="writers",
    description=(
        "Everything else: writing (stories, poems, emails, plans), advice, opinions and chat."
    ),
    examples=(
        "Write a haiku about rain",
        "Reply politely to this email declining the meeting",
        "Tell me a story about a dragon named Ada",
        "hi, how are you?",
    ),
    build=build_writers_graph,
)

BUILTIN_AGENTS: tuple[AgentSpec, ...] = (MATH, FACT, NONE)


def default_agents() -> tuple[AgentSpec, ...]:
    """The built-in agents plus those added with ``register_agent``."""
    return (*BUILTIN_AGENTS, *registered_agents())
