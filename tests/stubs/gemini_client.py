"""The real ``ChatGoogleGenerativeAI`` pointed at a :class:`GeminiStub`, for the tests that
check the stub, the client's wire facts (``tests/contract``) and Crossroads' fault handling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from langchain_google_genai import ChatGoogleGenerativeAI

from tests.stubs.gemini_stub import GeminiStub

MODEL = "gemini-2.5-flash"
CLIENT_TIMEOUT_S = 0.5


def make_model(stub: GeminiStub, **overrides: Any) -> ChatGoogleGenerativeAI:
    """The client with retries off and a short timeout, unless ``overrides`` say otherwise."""
    settings: dict[str, Any] = {
        "model": MODEL,
        "google_api_key": "test",
        "base_url": stub.base_url,
        "max_retries": 0,
        "timeout": CLIENT_TIMEOUT_S,
    }
    settings.update(overrides)
    return ChatGoogleGenerativeAI(**settings)


@pytest.fixture
def stub() -> Iterator[GeminiStub]:
    with GeminiStub() as running:
        yield running


@pytest.fixture
async def async_model(stub: GeminiStub) -> AsyncIterator[ChatGoogleGenerativeAI]:
    model = make_model(stub)
    yield model
    # Close the SDK's aiohttp session on this loop, so no "unclosed session" warnings.
    assert model.client is not None
    await model.client.aio.aclose()
