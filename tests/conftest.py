"""Shared test setup: hermetic environment, a temp data directory, scripted apps.

Every test runs with the Crossroads environment variables cleared and ``CROSSROADS_HOME``
pointing at a temporary directory, so no test reads a developer's keys or writes to their
home. Sockets are disabled except loopback (pytest-socket, configured in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crossroads import Crossroads
from crossroads.testing import ScriptedChatModel
from tests.stubs.langgraph_dev import SCRUBBED_ENV

ENV_VARS = (*SCRUBBED_ENV, "CROSSROADS_OFFLINE", "LANGSMITH_TRACING")
"""Variables that change what Crossroads does: cleared for every test."""


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Clear Crossroads' environment and give each test its own data directory."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "crossroads-home"
    monkeypatch.setenv("CROSSROADS_HOME", str(home))
    return home


@pytest.fixture
def make_app() -> Iterator[Callable[..., Crossroads]]:
    """Factory for apps on an in-memory thread store; closes them after the test.

    ``make_app(model, **settings)``: ``router_threshold=1.01`` by default so the LLM
    router always runs (the offline classifier is never "confident enough"); pass
    ``router_threshold=None`` to use the shipped threshold.
    """
    apps: list[Crossroads] = []

    def make(model: Any = None, **overrides: Any) -> Crossroads:
        overrides.setdefault("checkpointer", "memory")
        overrides.setdefault("router_threshold", 1.01)
        app = Crossroads(model, **overrides)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def scripted() -> Callable[..., ScriptedChatModel]:
    """Shortcut: ``scripted(router=[...], calculator=[...])`` builds a ScriptedChatModel."""

    def build(default: Any = None, **by_role: list[Any]) -> ScriptedChatModel:
        return ScriptedChatModel(by_role=dict(by_role), default=default)

    return build
