"""A tiny MCP server (stdio) for the MCP-agent tests: a made-up weather service."""

from __future__ import annotations

from mcp.server.fastmcp import FastMCP

server = FastMCP(name="weather")
FORECASTS = {"oslo": "Sunny, 21 °C", "bergen": "Rain, 12 °C"}


@server.tool()
def forecast(city: str) -> str:
    """Tomorrow's weather for a city."""
    found = FORECASTS.get(city.strip().lower())
    if found is None:
        raise ValueError(f"no forecast for {city!r}")
    return f"{found} in {city.strip().title()} tomorrow"


if __name__ == "__main__":
    server.run("stdio")
