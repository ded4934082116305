"""An agent built from an MCP server's tools answers through the router."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("langchain_mcp_adapters")

from crossroads import Crossroads
from crossroads.errors import ConfigurationError
from crossroads.graphs.builtin_agents import default_agents
from crossroads.mcp_agent import mcp_agent
from crossroads.testing import ScriptedChatModel, tool_call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SERVER = Path(__file__).resolve().parents[1] / "stubs" / "weather_mcp.py"
WEATHER = {"transport": "stdio", "command": sys.executable, "args": [str(SERVER)]}


def _weather() -> object:
    return mcp_agent(
        "weather",
        "Tomorrow's weather forecast for a city.",
        WEATHER,
        examples=("will it rain in Bergen tomorrow?",),
    )


def test_mcp_agent_answers_through_the_router(make_app: Callable[..., Crossroads]) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "weather", "reason": "a forecast"}],
            "weather": [tool_call("forecast", {"city": "oslo"}), "Sunny and 21 °C in Oslo."],
        }
    )
    app = make_app(model, agents=[*default_agents(), _weather()])
    result = app.ask("What's the weather in Oslo tomorrow?")
    assert result.route == "weather" and result.error is None
    assert result.answer == "Sunny and 21 °C in Oslo."
    # The server really ran: its reply is what the model saw before answering.
    assert "Sunny, 21 °C in Oslo tomorrow" in model.calls_for("weather")[1].prompt
    assert [s["url"] for s in result.sources] == ["mcp://weather/forecast"]
    assert [s["action"] for s in result.steps if s["agent"] == "weather"] == ["tool"]


def test_a_tool_error_goes_back_to_the_model(make_app: Callable[..., Crossroads]) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "weather", "reason": "a forecast"}],
            "weather": [tool_call("forecast", {"city": "Atlantis"}), "I have no forecast there."],
        }
    )
    app = make_app(model, agents=[*default_agents(), _weather()])
    result = app.ask("Weather in Atlantis tomorrow?")
    assert result.answer == "I have no forecast there."
    assert "no forecast for 'Atlantis'" in model.calls_for("weather")[1].prompt


def test_an_unreachable_server_is_a_clear_error(make_app: Callable[..., Crossroads]) -> None:
    broken = mcp_agent(
        "weather",
        "Tomorrow's weather forecast for a city.",
        {"transport": "stdio", "command": sys.executable, "args": ["-c", "raise SystemExit(3)"]},
    )
    model = ScriptedChatModel(by_role={"router": [{"route": "weather", "reason": "forecast"}]})
    result = make_app(model, agents=[*default_agents(), broken]).ask("Weather in Oslo?")
    assert result.error and "weather MCP server could not be reached" in result.error
    assert model.calls_for("weather") == []


def test_a_connection_without_transport_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="needs a 'transport'"):
        mcp_agent("weather", "Forecasts.", {"command": "x"})
