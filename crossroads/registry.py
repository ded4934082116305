"""The agent registry: which agents the router can choose from.

An agent is registered with a name (its route label), a description and a few example
questions; the router's multiple-choice question is built from these, never from
hard-coded branches. ``math``, ``fact`` and ``none`` are simply the three built-in
registrations (see ``crossroads.graphs.builtin_agents``).

    >>> from crossroads.registry import AgentSpec
    >>> spec = AgentSpec(name="units", description="Converts between units.",
    ...                  build=my_builder, examples=("how many km is 3 miles?",))

``build`` returns the agent's subgraph (an uncompiled ``StateGraph`` or a compiled graph)
whose state follows the agent contract (``crossroads.contract.AgentState``): it reads ``question`` (and
``messages``, ``context``, ``last_value``) and returns ``answer``, ``sources``, ``steps``,
``usage``, ``error`` and ``handoff``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crossroads.errors import ConfigurationError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED_NAMES = frozenset(
    {"intake", "summarize", "router", "respond", "plan_step", "start", "end"}
)
"""Node names of the app graph itself (:func:`crossroads.graphs.app.build_app_graph`; a test
keeps the two in step), and LangGraph's own ``start``/``end``: an agent named like one of
them would replace that node."""

BAD_NAME = (
    "agent name {name!r} is not valid: use snake_case (lower-case letters, digits and "
    "underscores, starting with a letter, at most 40 characters)"
)
RESERVED = "agent name {name!r} is reserved for the app graph's own nodes; pick another"
DUPLICATE = "two agents are named {name!r}; agent names must be unique"
NO_DESCRIPTION = "agent {name!r} needs a description: the router chooses by it"
NOT_CALLABLE = "agent {name!r}: build must be a callable returning the agent's graph"


@dataclass(frozen=True)
class AgentSpec:
    """One agent the router can choose.

    Attributes:
        name: The route label (snake_case, unique).
        description: One or two sentences the router reads to decide.
        build: Returns the agent's subgraph.
        examples: Example questions for the router's few-shot prompt.
        node: Node name in the app graph (default: ``name``).
    """

    name: str
    description: str
    build: Callable[[], Any]
    examples: tuple[str, ...] = ()
    node: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            raise ConfigurationError(BAD_NAME.format(name=self.name))
        if self.name in RESERVED_NAMES:
            raise ConfigurationError(RESERVED.format(name=self.name))
        if not isinstance(self.description, str) or not self.description.strip():
            raise ConfigurationError(NO_DESCRIPTION.format(name=self.name))
        if not callable(self.build):
            raise ConfigurationError(NOT_CALLABLE.format(name=self.name))
        node = self.node or self.name
        if not NAME_PATTERN.match(node):
            raise ConfigurationError(BAD_NAME.format(name=node))
        if node in RESERVED_NAMES:
            raise ConfigurationError(RESERVED.format(name=node))
        object.__setattr__(self, "node", node)
        object.__setattr__(self, "examples", tuple(self.examples))


def validate_agents(specs: Iterable[AgentSpec]) -> tuple[AgentSpec, ...]:
    """Check a set of agents: at least one, unique names and node names.

    Raises:
        ConfigurationError: on an empty set or a duplicate name.
    """
    result = tuple(specs)
    if not result:
        raise ConfigurationError("at least one agent must be registered")
    seen: set[str] = set()
    for spec in result:
        for key in {spec.name, spec.node}:
            if key in seen:
                raise ConfigurationError(DUPLICATE.format(name=key))
            seen.add(key)
    return result


_registered: list[AgentSpec] = []
_lock = threading.Lock()


def register_agent(
    name: str,
    description: str,
    builder: Callable[[], Any],
    *,
    examples: Sequence[str] = (),
    node: str = "",
) -> AgentSpec:
    """Register an agent for every ``Crossroads`` created afterwards in this process.

    Returns:
        The spec that was registered.

    Raises:
        ConfigurationError: invalid name, or the name is taken.
    """
    spec = AgentSpec(
        name=name,
        description=description,
        build=builder,
        examples=tuple(examples),
        node=node,
    )
    with _lock:
        validate_agents([*_registered, spec])
        _registered.append(spec)
    return spec


BAD_MODULE = "could not import the agent module {module!r} (CROSSROADS_AGENTS): {error}"


def load_agent_modules(modules: Iterable[str]) -> None:
    """Import modules that register agents (``CROSSROADS_AGENTS``), once each.

    A module registers its agents at import time with :func:`register_agent`, so a server
    (``langgraph.json``), the CLI and ``Crossroads()`` all see the same set.

    Raises:
        ConfigurationError: a module cannot be imported.
    """
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as error:  # an ImportError, or the module's own failure
            raise ConfigurationError(BAD_MODULE.format(module=module, error=error)) from None


def registered_agents() -> tuple[AgentSpec, ...]:
    """Agents added with :func:`register_agent`, in order."""
    with _lock:
        return tuple(_registered)


def unregister_agent(name: str) -> None:
    """Remove an agent added with :func:`register_agent` (tests, notebooks)."""
    with _lock:
        _registered[:] = [spec for spec in _registered if spec.name != name]
