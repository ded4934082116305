"""Shared test setup: hermetic environment, a temp data directory, scripted apps.

Every test runs with the Crossroads environment variables cleared and ``CROSSROADS_HOME``
pointing at a temporary directory, so no test reads a developer's keys or writes to their
home. Sockets are disabled except loopback (pytest-socket, configured in pyproject.toml).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from crossroads import Crossroads
from crossroads.testing import ScriptedChatModel
from tests.stubs.langgraph_dev import SCRUBBED_ENV

pytest_plugins = ["tests.stubs.gemini_client"]  # the ``stub`` and ``async_model`` fixtures

ENV_VARS = (*SCRUBBED_ENV, "CROSSROADS_OFFLINE", "LANGSMITH_TRACING")
"""Variables that change what Crossroads does: cleared for every test."""

REAL_DATA_DIR = Path.home() / ".crossroads"
"""The developer's own data folder: no test may create or open anything in it."""


def _guard_real_data_dir(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: refuse any file, folder or SQLite open under the real ``~/.crossroads``.

    The hermetic environment points ``CROSSROADS_HOME`` elsewhere, but code that builds
    ``Settings()`` by hand (not from the environment) falls back to the default folder; this
    makes such a path fail the test that took it instead of leaving files in the real home.
    """
    if event not in {"open", "sqlite3.connect", "os.mkdir"} or not args:
        return
    target = args[0]
    if isinstance(target, str | Path) and str(target).startswith(str(REAL_DATA_DIR)):
        raise PermissionError(f"a test touched the real data folder: {event} {target}")


sys.addaudithook(_guard_real_data_dir)


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


@pytest.fixture(autouse=True)
async def close_sdk_clients(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    """Close every ``langgraph_sdk`` client a test module made with ``get_client``.

    Warnings are errors in this suite, and an SDK client left open is an unclosed socket
    when the garbage collector finds it, often during a later test.
    """
    made: list[Any] = []
    original = getattr(request.module, "get_client", None)
    if original is not None and getattr(original, "__module__", "").startswith("langgraph_sdk"):

        def tracking(*args: Any, **kwargs: Any) -> Any:
            client = original(*args, **kwargs)
            made.append(client)
            return client

        monkeypatch.setattr(request.module, "get_client", tracking)
    yield
    for client in made:
        await client.aclose()


POSTGRES_URL_VARIABLE = "CROSSROADS_TEST_POSTGRES_URL"
"""The test PostgreSQL server (``scripts/start-postgres`` prints it; ``.ci/run`` sets it)."""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The test server's URL, pointed at a fresh schema that is dropped afterwards."""
    import psycopg

    base = os.environ[POSTGRES_URL_VARIABLE]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(base, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
