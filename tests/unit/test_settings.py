"""Settings: one precedence rule (code > env > defaults) and clear errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from crossroads import settings as settings_module
from crossroads.errors import ConfigurationError
from crossroads.settings import DEFAULT_GEMINI_MODEL, ENVIRONMENT, Settings, variables_for


def test_defaults_apply_without_env() -> None:
    settings = Settings.from_env({})
    assert settings.model is None
    assert not settings.has_model
    assert settings.max_tries == 3
    assert settings.search_backends == ("local", "wikipedia")
    assert settings.data_dir == Path.home() / ".crossroads"


def test_google_key_selects_gemini_by_default() -> None:
    settings = Settings.from_env({"GOOGLE_API_KEY": "k"})
    assert settings.model == DEFAULT_GEMINI_MODEL
    assert settings.google_api_key == "k"
    assert settings.has_model


def test_env_beats_defaults_and_code_beats_env() -> None:
    env = {
        "CROSSROADS_MODEL": "ollama:llama3.2",
        "CROSSROADS_HOME": "/tmp/x",
        "GOOGLE_API_KEY": "k",
    }
    from_env = Settings.from_env(env)
    assert from_env.model == "ollama:llama3.2"
    assert from_env.home == Path("/tmp/x")
    from_code = Settings.from_env(env, model="openai:gpt-4.1-mini", home=Path("/tmp/y"))
    assert from_code.model == "openai:gpt-4.1-mini"
    assert from_code.home == Path("/tmp/y")


def test_none_in_code_means_not_passed() -> None:
    settings = Settings.from_env({"CROSSROADS_MODEL": "ollama:llama3.2"}, model=None)
    assert settings.model == "ollama:llama3.2"


def test_model_kwargs_from_env_merge_under_code_values() -> None:
    env = {
        "CROSSROADS_MODEL_KWARGS": '{"timeout": 5, "max_retries": 1}',
        "CROSSROADS_BASE_URL": "http://127.0.0.1:9",
    }
    settings = Settings.from_env(env, model_kwargs={"timeout": 9})
    assert settings.model_kwargs == {
        "timeout": 9,
        "max_retries": 1,
        "base_url": "http://127.0.0.1:9",
    }


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"CROSSROADS_MODEL_KWARGS": "{not json"}, "must be a JSON object"),
        ({"CROSSROADS_MODEL_KWARGS": "[1, 2]"}, "must be a JSON object"),
        ({"CROSSROADS_OFFLINE": "maybe"}, "CROSSROADS_OFFLINE must be"),
        ({"CROSSROADS_SEARCH": "local,bing"}, "unknown search backend 'bing'"),
    ],
)
def test_bad_env_values_give_actionable_errors(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        Settings.from_env(env)


def test_bad_code_values_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="max_tries must be at least 1"):
        Settings(max_tries=0)
    with pytest.raises(ConfigurationError, match="unknown setting"):
        Settings.from_env({}, max_trys=2)


def test_offline_env_is_overridden_by_an_explicit_model_in_code() -> None:
    assert not Settings.from_env({"CROSSROADS_OFFLINE": "1"}, model="ollama:x").offline
    assert Settings.from_env({"CROSSROADS_OFFLINE": "1"}).offline
    assert not Settings.from_env({"CROSSROADS_OFFLINE": "1", "GOOGLE_API_KEY": "k"}).has_model


def test_recursion_limit_follows_the_budget() -> None:
    small = Settings(max_llm_calls=5).effective_recursion_limit
    large = Settings(max_llm_calls=50).effective_recursion_limit
    assert small < large < 10_000
    assert Settings(recursion_limit=42).effective_recursion_limit == 42


def test_models_for_role_with_fallbacks() -> None:
    settings = Settings(
        model="a:one",
        role_models={"writer": ("b:two", "c:three")},
        fallback_models=("d:four", "a:one"),
    )
    assert settings.models_for("router") == ("a:one", "d:four")
    assert settings.models_for("writer") == ("b:two", "c:three", "d:four", "a:one")
    assert settings.temperature_for("creative") > settings.temperature_for("router")


def test_every_environment_variable_fills_a_setting_and_is_documented() -> None:
    fields = {field.name for field in dataclasses.fields(Settings)}
    for variable in ENVIRONMENT:
        assert variable.setting in fields, variable.name
        assert f"``{variable.name}``" in (settings_module.__doc__ or ""), variable.name
    assert variables_for("model_kwargs") == ("CROSSROADS_MODEL_KWARGS", "CROSSROADS_BASE_URL")
    assert variables_for("max_tries") == ()


@pytest.mark.parametrize(
    ("env", "setting", "expected"),
    [
        ({"CROSSROADS_ZIM": "/w.zim"}, "search_backends", ("local", "zim", "wikipedia")),
        ({"TAVILY_API_KEY": "t"}, "search_backends", ("local", "wikipedia", "tavily")),
        ({"TAVILY_API_KEY": "t", "CROSSROADS_SEARCH": "local"}, "search_backends", ("local",)),
        ({"CROSSROADS_AGENTS": " a.b , ,c "}, "agent_modules", ("a.b", "c")),
        ({"CROSSROADS_OFFLINE": ""}, "offline", False),  # set but empty still counts
        ({"GOOGLE_API_KEY": ""}, "google_api_key", None),  # an empty key is no key
        ({"CROSSROADS_MODEL": " ollama:x "}, "model", "ollama:x"),
        ({"CROSSROADS_THREAD_LOCK_TIMEOUT": "2.5"}, "thread_lock_timeout", 2.5),
        ({"CROSSROADS_HOME": "~/cr"}, "home", Path("~/cr").expanduser()),
    ],
)
def test_each_environment_variable_is_read_by_its_rule(
    env: dict[str, str], setting: str, expected: object
) -> None:
    assert getattr(Settings.from_env(env), setting) == expected


def test_a_bad_number_in_the_environment_is_one_clear_line() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env({"CROSSROADS_THREAD_LOCK_TIMEOUT": "soon"})
    assert str(raised.value) == "thread_lock_timeout must be at least >0; got 'soon'"
