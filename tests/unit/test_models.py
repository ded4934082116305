"""The model resolver: one helper over init_chat_model, failures as sentences."""

from __future__ import annotations

import importlib.util
import time
from typing import Any

import pytest

from crossroads.errors import ConfigurationError
from crossroads.models import check_models, resolve_model
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel


def test_a_model_object_is_used_as_it_is() -> None:
    model = ScriptedChatModel(default="hi")
    assert resolve_model(model, temperature=0, settings=Settings()) is model


def test_gemini_without_a_key_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="set GOOGLE_API_KEY"):
        resolve_model("google_genai:gemini-2.5-flash", temperature=0, settings=Settings())


@pytest.fixture
def without_langchain_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if langchain-openai were not installed (the `realmodel` extra installs it)."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name.split(".")[0] == "langchain_openai" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.usefixtures("without_langchain_openai")
def test_missing_provider_package_says_what_to_install() -> None:
    with pytest.raises(ConfigurationError, match="pip install langchain-openai"):
        resolve_model("openai:gpt-4.1-mini", temperature=0, settings=Settings())


@pytest.mark.parametrize("spec", ["gemini", ":x", "google_genai:", ""])
def test_malformed_spec(spec: str) -> None:
    with pytest.raises(ConfigurationError, match="provider:model"):
        resolve_model(spec, temperature=0, settings=Settings())


def test_gemini_client_gets_our_timeout_and_no_client_retries() -> None:
    settings = Settings(google_api_key="test-key", request_timeout=7.5)
    started = time.perf_counter()
    model = resolve_model("google_genai:gemini-2.5-flash", temperature=0.3, settings=settings)
    assert time.perf_counter() - started < 5  # building a client makes no network call
    assert model.max_retries == 0  # type: ignore[attr-defined]
    assert model.timeout == 7.5  # type: ignore[attr-defined]
    assert model.temperature == 0.3  # type: ignore[attr-defined]


def test_user_kwargs_win_over_ours() -> None:
    settings = Settings(
        google_api_key="test-key",
        model_kwargs={"max_retries": 2, "base_url": "http://127.0.0.1:9"},
    )
    model = resolve_model("google_genai:gemini-2.5-flash", temperature=0, settings=settings)
    assert model.max_retries == 2  # type: ignore[attr-defined]


def test_resolved_models_are_cached() -> None:
    settings = Settings(google_api_key="test-key")
    first = resolve_model("google_genai:gemini-2.5-flash", temperature=0, settings=settings)
    again = resolve_model("google_genai:gemini-2.5-flash", temperature=0, settings=settings)
    other = resolve_model("google_genai:gemini-2.5-flash", temperature=0.5, settings=settings)
    assert first is again
    assert first is not other


def test_check_models_reports_a_role_without_model() -> None:
    with pytest.raises(ConfigurationError, match="no chat model is configured for the router"):
        check_models(Settings(), ("router",))


@pytest.mark.usefixtures("without_langchain_openai")
def test_check_models_also_checks_the_fallbacks() -> None:
    settings = Settings(
        model=ScriptedChatModel(default="hi"), fallback_models=("openai:gpt-4.1-mini",)
    )
    with pytest.raises(ConfigurationError, match="pip install langchain-openai"):
        check_models(settings, ("router",))
