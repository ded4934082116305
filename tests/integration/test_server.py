"""Crossroads under LangGraph Server: settings from env or assistant context, and a real
``langgraph dev`` on loopback driven by ``langgraph-sdk``.

The first tests check :mod:`crossroads.graphs.server` in process (no server needed). The
``dev_server`` tests start ``langgraph dev`` (in-memory runtime) once per module on
127.0.0.1 and a free port, offline (``CROSSROADS_OFFLINE=1``), with analytics, version
checks and tracing off, in a temporary working directory, and stop it by its PID.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph_sdk import get_client
from typing_extensions import TypedDict

from crossroads.errors import ConfigurationError
from crossroads.graphs.server import SERVER_ONLY, ServerContext, serve, settings_for_run
from crossroads.settings import Settings
from tests.stubs.langgraph_dev import LANGGRAPH_CLI, DevServerError, langgraph_dev

STARTUP_TIMEOUT_S = 90.0
RUN_TIMEOUT_S = 60.0
APP_GRAPHS = {"crossroads", "calculator", "researcher", "writers"}


# -- settings on a server, in process -------------------------------------------------


class ProbeState(TypedDict, total=False):
    question: str
    seen: dict[str, Any]


async def _record_settings(state: ProbeState, runtime: Runtime[Settings]) -> dict[str, Any]:
    settings = runtime.context
    assert isinstance(settings, Settings), f"nodes must see Settings, got {type(settings)}"
    return {
        "seen": {
            "offline": settings.offline,
            "search_backends": settings.search_backends,
            "max_tries": settings.max_tries,
        }
    }


def _probe_graph() -> Any:
    builder = StateGraph(ProbeState, context_schema=Settings)
    builder.add_node("record", _record_settings)
    builder.add_edge(START, "record")
    builder.add_edge("record", END)
    return serve(builder, name="probe")


async def test_a_run_without_context_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # LangGraph builds the context as context_schema(**{}); with plain Settings that would be
    # the defaults (online, local+wikipedia), ignoring these variables.
    monkeypatch.setenv("CROSSROADS_OFFLINE", "1")
    monkeypatch.setenv("CROSSROADS_SEARCH", "local")
    result = await _probe_graph().ainvoke({"question": "q"}, context={})
    assert result["seen"] == {"offline": True, "search_backends": ("local",), "max_tries": 3}


async def test_run_context_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSROADS_OFFLINE", "1")
    monkeypatch.setenv("CROSSROADS_SEARCH", "local,wikipedia")
    result = await _probe_graph().ainvoke(
        {"question": "q"}, context={"search_backends": ["wikipedia"], "max_tries": 2}
    )
    # search_backends and max_tries from the context; offline still from the environment.
    assert result["seen"] == {"offline": True, "search_backends": ("wikipedia",), "max_tries": 2}


def test_json_lists_become_the_tuples_settings_expect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSROADS_SERVER_MODELS", "p:one,p:two,p:three")
    settings = settings_for_run(
        {"role_models": {"router": ["p:one", "p:two"]}, "fallback_models": ["p:three"]}
    )
    assert settings.role_models["router"] == ("p:one", "p:two")
    assert settings.models_for("router") == ("p:one", "p:two", "p:three")


def test_secrets_and_paths_only_come_from_the_server_environment() -> None:
    with pytest.raises(ConfigurationError, match="GOOGLE_API_KEY") as caught:
        settings_for_run({"google_api_key": "secret", "max_tries": 2})
    assert "google_api_key" in str(caught.value)
    with pytest.raises(ConfigurationError, match="CROSSROADS_CHECKPOINT_URL"):
        settings_for_run({"checkpoint_url": "postgresql://x"})


def test_unknown_context_keys_are_named() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown setting\(s\) max_triez"):
        settings_for_run({"max_triez": 2})


def test_invalid_context_values_fail_with_the_settings_message() -> None:
    with pytest.raises(ConfigurationError, match="max_tries must be at least 1"):
        settings_for_run({"max_tries": 0})


def test_every_setting_is_either_per_run_or_server_only() -> None:
    # A new Settings field must be placed on purpose: in ServerContext, or in SERVER_ONLY.
    per_run = {field.name for field in dataclasses.fields(ServerContext)}
    every = {field.name for field in dataclasses.fields(Settings)}
    assert per_run.isdisjoint(SERVER_ONLY)
    assert per_run | set(SERVER_ONLY) == every


def test_the_run_context_is_derived_from_settings_in_json_types() -> None:
    # Settings takes chat-model objects and tuples; a run context carries names and lists.
    types = {field.name: field.type for field in dataclasses.fields(ServerContext)}
    assert types["model"] == str | None
    assert types["role_models"] == dict[str, str | list[str]] | None
    assert types["fallback_models"] == list[str] | None
    assert types["search_backends"] == list[str] | None
    assert types["max_tries"] == int | None
    assert all(field.default is None for field in dataclasses.fields(ServerContext))


def test_served_graphs_bound_their_runs() -> None:
    from crossroads.graphs import server

    for graph in (server.app, server.calculator, server.researcher, server.writers):
        assert graph.context_schema is ServerContext
        assert graph.config is not None
        assert graph.config["recursion_limit"] == Settings().effective_recursion_limit


# -- a real `langgraph dev` -----------------------------------------------------------


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``langgraph dev`` on 127.0.0.1, offline; yields its URL, then stops it by PID."""
    if not LANGGRAPH_CLI.exists():
        pytest.fail(f"{LANGGRAPH_CLI} is missing: pip install 'crossroads[server]'")
    try:
        with langgraph_dev(
            tmp_path_factory.mktemp("langgraph-dev"),
            startup_timeout=STARTUP_TIMEOUT_S,
            # the operator offers this model to assistants (finding 1 of issue 16)
            env={"CROSSROADS_SERVER_MODELS": "google_genai:gemini-2.5-flash"},
        ) as url:
            yield url
    except DevServerError as error:
        pytest.fail(str(error))


@pytest.mark.integration
async def test_every_graph_is_an_assistant(dev_server: str) -> None:
    client = get_client(url=dev_server, timeout=RUN_TIMEOUT_S)
    assistants = await client.assistants.search(limit=50)
    by_graph = {assistant["graph_id"]: assistant["assistant_id"] for assistant in assistants}
    assert set(by_graph) >= APP_GRAPHS
    schemas = await client.assistants.get_schemas(by_graph["crossroads"])
    assert set(schemas["context_schema"]["properties"]) == {
        field.name for field in dataclasses.fields(ServerContext)
    }


@pytest.mark.integration
async def test_a_thread_streams_a_math_run_then_answers_a_follow_up(dev_server: str) -> None:
    client = get_client(url=dev_server, timeout=RUN_TIMEOUT_S)
    thread = await client.threads.create()
    thread_id = thread["thread_id"]

    events: list[tuple[str, Any]] = []
    async for part in client.runs.stream(
        thread_id,
        "crossroads",
        input={"question": "What is 15% of 240?"},
        stream_mode=["updates", "values"],
    ):
        events.append((part.event, part.data))
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "metadata"
    assert "error" not in kinds, events
    updated_nodes = [next(iter(data)) for kind, data in events if kind == "updates"]
    assert updated_nodes[:2] == ["intake", "router"]
    assert updated_nodes[-1] == "respond"
    routed = next(data["router"] for kind, data in events if kind == "updates" and "router" in data)
    assert routed["route"] == "math"
    final = next(data for kind, data in reversed(events) if kind == "values")
    assert final["route"] == "math"
    assert final["mode"] == "offline"  # CROSSROADS_OFFLINE=1 reached the nodes
    assert re.search(r"\b36\b", final["answer"]), final["answer"]

    follow_up = await client.runs.wait(
        thread_id, "crossroads", input={"question": "and divided by 4?"}
    )
    assert isinstance(follow_up, dict)
    assert follow_up["route"] == "math"
    assert re.search(r"\b9\b", follow_up["answer"]), follow_up["answer"]

    state = await client.threads.get_state(thread_id)
    messages = state["values"]["messages"]
    assert [message["type"] for message in messages] == ["human", "ai", "human", "ai"]
    assert messages[2]["content"] == "and divided by 4?"


@pytest.mark.integration
async def test_assistant_context_beats_the_server_environment(dev_server: str) -> None:
    client = get_client(url=dev_server, timeout=RUN_TIMEOUT_S)
    # The server runs with CROSSROADS_OFFLINE=1; a model in the assistant's context wins
    # (a model given in code means "not offline"), so the run is in llm mode and fails
    # honestly for want of a key instead of answering offline.
    assistant = await client.assistants.create(
        "crossroads", context={"model": "google_genai:gemini-2.5-flash", "max_tries": 2}
    )
    result = await client.runs.wait(
        None, assistant["assistant_id"], input={"question": "What is 15% of 240?"}
    )
    assert isinstance(result, dict)
    assert result["mode"] == "llm"
    assert "GOOGLE_API_KEY" in (result["error"] or "")


@pytest.mark.integration
async def test_an_agent_runs_as_its_own_assistant(dev_server: str) -> None:
    client = get_client(url=dev_server, timeout=RUN_TIMEOUT_S)
    result = await client.runs.wait(None, "calculator", input={"question": "What is 3 times 4?"})
    assert isinstance(result, dict)
    assert re.search(r"\b12\b", result["answer"]), result["answer"]
    assert set(result) <= {"answer", "sources", "steps", "usage", "error", "handoff", "last_value"}
