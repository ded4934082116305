"""An agent module for CROSSROADS_AGENTS tests: importing it registers ``units``."""

from __future__ import annotations

from crossroads.registry import register_agent, registered_agents
from tests.helpers import echo_agent_graph

if "units" not in {spec.name for spec in registered_agents()}:
    register_agent(
        "units",
        "Converts between units of measure.",
        lambda: echo_agent_graph("units"),
        examples=["how many km is 3 miles?"],
    )
