"""The `realmodel` tier: a real small instruct model behind an OpenAI-compatible server.

Start the server with ``scripts/start-llama`` (needs the ``realmodel`` extra) and point the
tier at it; without ``CROSSROADS_TEST_LLM_URL`` every test here is skipped, saying why::

    export CROSSROADS_TEST_LLM_URL="$(scripts/start-llama)"
    .venv/bin/pytest tests/realmodel
    scripts/stop-llama

The tests assert what the framework owes its user with any model: a ``Result`` within its
budget, no markup leaked, a clear error when the model cannot do the job; correctness only
where a 135M model is capable. Temperature 0 and a fixed seed keep the replies repeatable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crossroads import Crossroads
from crossroads.settings import ROLES

URL_VAR = "CROSSROADS_TEST_LLM_URL"
MODEL = "openai:smollm2-135m-instruct"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    url = os.environ.get(URL_VAR)
    for item in items:
        if "tests/realmodel" not in str(item.fspath).replace(os.sep, "/"):
            continue
        item.add_marker(pytest.mark.realmodel)
        if not url:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"no model server: set {URL_VAR} (export {URL_VAR}=$(scripts/start-llama))"
                )
            )


@pytest.fixture(scope="session")
def llm_url() -> str:
    url = os.environ.get(URL_VAR, "")
    pytest.importorskip("langchain_openai", reason="the realmodel extra is not installed")
    return url


@pytest.fixture
def real_app(llm_url: str) -> Iterator[Callable[..., Crossroads]]:
    """``real_app(**settings)``: an app on the real model, in-memory threads, LLM router."""
    apps: list[Crossroads] = []

    def make(**overrides: Any) -> Crossroads:
        settings: dict[str, Any] = {
            "checkpointer": "memory",
            "router_threshold": 1.01,  # always ask the model, never the classifier
            "temperatures": dict.fromkeys(ROLES, 0.0),
            "model_kwargs": {"base_url": llm_url, "api_key": "not-needed", "seed": 7},
            "request_timeout": 60.0,
            "max_seconds": 180.0,
            "search_backends": ("local",),
        }
        settings.update(overrides)
        app = Crossroads(MODEL, **settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()
