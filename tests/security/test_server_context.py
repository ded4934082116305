"""Findings 1 and 9 of the attack review: a run context chooses only what the operator allows.

The attacks are replayed against a real ``langgraph dev`` that holds a (fake) Gemini key and
talks to a Gemini stub (the operator's endpoint); a second stub plays the attacker's host.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import get_client

from crossroads.errors import ConfigurationError
from crossroads.graphs.server import check_client_choices, settings_for_run
from crossroads.settings import Settings
from tests.stubs.gemini_stub import GeminiStub, TextReply
from tests.stubs.langgraph_dev import LANGGRAPH_CLI, DevServerError, langgraph_dev

STARTUP_TIMEOUT_S = 90.0
RUN_TIMEOUT_S = 60.0
SERVER_KEY = "AIza-operator-secret-key-0123456789"
MODEL = "google_genai:gemini-2.5-flash"


# -- the rule, in process ---------------------------------------------------------------


def test_provider_kwargs_cannot_come_from_a_run() -> None:
    with pytest.raises(ConfigurationError, match="CROSSROADS_BASE_URL"):
        settings_for_run({"model_kwargs": {"base_url": "http://attacker.invalid"}})


@pytest.mark.parametrize(
    ("name", "value"),
    [("max_llm_calls", 10**9), ("max_seconds", 1e12), ("votes", 1000), ("max_tokens", 10**12)],
)
def test_budgets_above_the_server_are_refused(name: str, value: float) -> None:
    with pytest.raises(ConfigurationError, match=f"{name}=.* only lower it"):
        settings_for_run({name: value})


def test_budgets_below_the_server_are_kept() -> None:
    settings = settings_for_run({"max_llm_calls": 3, "max_seconds": 10.0, "votes": 1})
    assert (settings.max_llm_calls, settings.max_seconds, settings.votes) == (3, 10.0, 1)


def test_only_listed_models_may_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSROADS_MODEL", MODEL)
    monkeypatch.setenv("CROSSROADS_SERVER_MODELS", "google_genai:gemini-2.5-pro")
    assert settings_for_run({"model": "google_genai:gemini-2.5-pro"}).model == (
        "google_genai:gemini-2.5-pro"
    )
    for context in (
        {"model": "openai:gpt-4o"},
        {"fallback_models": ["openai:gpt-4o"]},
        {"role_models": {"writer": ["google_genai:gemini-2.5-pro", "some.module:Model"]}},
    ):
        with pytest.raises(ConfigurationError, match="not one this server offers"):
            settings_for_run(context)


def test_search_backends_temperatures_and_roles_are_checked() -> None:
    server = Settings(search_backends=("local",))
    with pytest.raises(ConfigurationError, match="search backend 'tavily'"):
        check_client_choices({"search_backends": ("tavily",)}, server, ())
    with pytest.raises(ConfigurationError, match="from 0 to 2"):
        check_client_choices({"temperatures": {"writer": 50}}, server, ())
    with pytest.raises(ConfigurationError, match="unknown role"):
        check_client_choices({"temperatures": {"__class__": 0.1}}, server, ())
    check_client_choices(
        {"temperatures": {"writer": 1.2}, "search_backends": ("local",)}, server, ()
    )


@pytest.mark.parametrize("key", ["role_models", "temperatures"])
def test_tables_by_role_must_be_objects_of_known_roles(key: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{key} in the run context must be an object"):
        check_client_choices({key: ("writer",)}, Settings(), ())
    with pytest.raises(ConfigurationError, match="unknown role 'poet'"):
        check_client_choices({key: {"poet": 0.5}}, Settings(), ())


# -- the attacks, against a real `langgraph dev` ----------------------------------------


@pytest.fixture(scope="module")
def stubs() -> Iterator[tuple[GeminiStub, GeminiStub]]:
    """The operator's model endpoint and the attacker's host."""
    with (
        GeminiStub(default=TextReply("operator reply")) as operator,
        GeminiStub(default=TextReply("attacker reply")) as attacker,
    ):
        yield operator, attacker


@pytest.fixture(scope="module")
def online_server(
    tmp_path_factory: pytest.TempPathFactory, stubs: tuple[GeminiStub, GeminiStub]
) -> Iterator[str]:
    if not LANGGRAPH_CLI.exists():
        pytest.fail(f"{LANGGRAPH_CLI} is missing: pip install 'crossroads[server]'")
    operator, _ = stubs
    env = {
        "CROSSROADS_OFFLINE": "0",
        "CROSSROADS_MODEL": MODEL,
        "GOOGLE_API_KEY": SERVER_KEY,
        "CROSSROADS_BASE_URL": operator.base_url,
        "CROSSROADS_SEARCH": "local",
    }
    try:
        with langgraph_dev(
            tmp_path_factory.mktemp("langgraph-dev-online"),
            startup_timeout=STARTUP_TIMEOUT_S,
            env=env,
        ) as url:
            yield url
    except DevServerError as error:
        pytest.fail(str(error))


def _keys_seen(stub: GeminiStub) -> list[str]:
    return [str(request.headers.get("x-goog-api-key", "")) for request in stub.requests]


@pytest.mark.integration
async def test_a_run_cannot_send_the_servers_key_to_another_host(
    online_server: str, stubs: tuple[GeminiStub, GeminiStub]
) -> None:
    operator, attacker = stubs
    client = get_client(url=online_server, timeout=RUN_TIMEOUT_S)
    hijack = {"model_kwargs": {"base_url": attacker.base_url}}

    # 1. one run with the endpoint in its context
    thread = await client.threads.create()
    await client.runs.wait(
        thread["thread_id"], "crossroads", input={"question": "Write a haiku"}, context=hijack
    )
    # 2. the default assistant patched, then another client's ordinary run
    assistants = await client.assistants.search(graph_id="crossroads", limit=5)
    default = assistants[0]["assistant_id"]
    # A refused update is as good as a refused run; what matters is where calls go.
    with contextlib.suppress(Exception):
        await client.assistants.update(default, context=hijack)
    victim = await client.threads.create()
    await client.runs.wait(
        victim["thread_id"], "crossroads", input={"question": "Write a haiku about rain"}
    )

    assert attacker.request_count == 0, _keys_seen(attacker)
    # The victim's run did reach a model: the operator's endpoint, with the operator's key.
    assert operator.request_count > 0
    assert set(_keys_seen(operator)) == {SERVER_KEY}


@pytest.mark.integration
async def test_a_run_cannot_raise_the_servers_budgets(online_server: str) -> None:
    client = get_client(url=online_server, timeout=RUN_TIMEOUT_S)
    thread = await client.threads.create()
    result: Any = await client.runs.wait(
        thread["thread_id"],
        "calculator",
        input={"question": "What is 3 times 4?"},
        context={"max_llm_calls": 10**9, "max_seconds": 1e12, "votes": 1000},
        raise_error=False,
    )
    runs = await client.runs.list(thread["thread_id"])
    assert [run["status"] for run in runs] == ["error"], (runs, result)
    # The server hides the message from the client; the error type is ours.
    assert result["__error__"]["error"] == "ConfigurationError", result


@pytest.mark.integration
async def test_a_run_cannot_pick_an_unlisted_model(online_server: str) -> None:
    client = get_client(url=online_server, timeout=RUN_TIMEOUT_S)
    thread = await client.threads.create()
    result: Any = await client.runs.wait(
        thread["thread_id"],
        "calculator",
        input={"question": "What is 3 times 4?"},
        context={"model": "openai:gpt-4o"},
        raise_error=False,
    )
    runs = await client.runs.list(thread["thread_id"])
    assert [run["status"] for run in runs] == ["error"], (runs, result)
    assert result["__error__"]["error"] == "ConfigurationError", result
