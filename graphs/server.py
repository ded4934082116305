"""Entry points for LangGraph Server and ``langgraph dev``, named in ``langgraph.json``.

``app`` is the whole Crossroads graph (router plus agents); ``calculator``, ``researcher``
and ``writers`` are each agent's subgraph on its own, so every agent is an assistant that
LangGraph Studio can draw and run by itself (input: ``{"question": ...}``).

Settings on a server: the rule of :meth:`Settings.from_env` applies. A run's context
(an assistant's ``context`` merged with the run's own) counts as code-level values, which
beat the server's environment variables, which beat the defaults::

    client.assistants.create("crossroads", context={"max_llm_calls": 10, "offline": True})

Why a schema of its own: LangGraph builds the graph's context with
``context_schema(**context)``, so with :class:`Settings` as the schema a run without context
would get a default-constructed ``Settings()`` and ignore ``CROSSROADS_OFFLINE``,
``GOOGLE_API_KEY`` and the rest of the environment. :class:`ServerContext` lists the
settings an assistant may carry, in JSON types (so Studio can show a form and the server
drops unknown keys), and constructing it returns ``Settings.from_env(**context)`` — the nodes
see a complete :class:`Settings`, exactly as they do under :class:`crossroads.Crossroads`.

Left out of the context on purpose: API keys (secrets belong in the server's environment,
not in assistant records every API client can read) and process-level choices (data
directory, ZIM file, thread store), which belong to the deployment.

Threads: the server keeps them in its own store (``langgraph dev``: in memory, saved under
``.langgraph_api/``; LangGraph Server: its PostgreSQL database), so the graphs here are
compiled without a checkpointer. ``docs/server.md`` explains how it scales out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph

from crossroads.errors import ConfigurationError
from crossroads.graphs.app import build_app_graph
from crossroads.graphs.calculator import build_calculator_graph
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.graphs.writers import build_writers_graph
from crossroads.registry import load_agent_modules
from crossroads.settings import Settings

NOT_PER_RUN = (
    "setting(s) {names} cannot come from an assistant or a run; set them in the server's "
    "environment ({variables})"
)
UNKNOWN_CONTEXT = "unknown setting(s) {names} in the run context; known: {known}"

SERVER_ONLY: Mapping[str, str] = {
    "google_api_key": "GOOGLE_API_KEY",
    "tavily_api_key": "TAVILY_API_KEY",
    "home": "CROSSROADS_HOME",
    "zim_path": "CROSSROADS_ZIM",
    "checkpoint_url": "CROSSROADS_CHECKPOINT_URL",
    "agent_modules": "CROSSROADS_AGENTS",
}
"""Settings a run context may not carry, with the environment variable that sets each."""

# JSON has lists, not tuples; Settings uses tuples for ordered choices (fallback chains).
_TUPLE_FIELDS = ("fallback_models", "search_backends")


@dataclass(frozen=True, kw_only=True)
class ServerContext:
    """The settings an assistant or a run may set; ``None`` means "server env or default".

    Constructing it returns a :class:`Settings` (see :func:`settings_for_run`), which is
    what LangGraph hands the nodes as ``runtime.context``. Each field means what the
    :class:`Settings` field of the same name means.
    """

    model: str | None = None
    role_models: dict[str, str | list[str]] | None = None
    fallback_models: list[str] | None = None
    temperatures: dict[str, float] | None = None
    model_kwargs: dict[str, Any] | None = None
    offline: bool | None = None
    request_timeout: float | None = None
    model_retries: int | None = None
    max_tries: int | None = None
    votes: int | None = None
    max_llm_calls: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None
    recursion_limit: int | None = None
    search_backends: list[str] | None = None
    search_timeout: float | None = None
    max_passages: int | None = None
    router_threshold: float | None = None
    max_plan_revisions: int | None = None
    max_part_revisions: int | None = None
    max_parts: int | None = None
    review: bool | None = None
    max_plan_steps: int | None = None

    # LangGraph calls ``context_schema(**context)``; returning the finished Settings here is
    # the one place the server's context meets the environment (see the module docstring).
    def __new__(cls, **context: Any) -> Settings:  # type: ignore[misc]
        return settings_for_run(context)


def settings_for_run(context: Mapping[str, Any] | None) -> Settings:
    """The settings of one server run: ``context`` over the environment over defaults.

    Args:
        context: The run's context as the server passes it (JSON values); ``None`` values
            count as "not given".

    Returns:
        Complete settings, read from ``os.environ`` and ``context``.

    Raises:
        ConfigurationError: a key is unknown, may only come from the server's environment,
            or a value is invalid.
    """
    given = {key: value for key, value in (context or {}).items() if value is not None}
    server_only = sorted(set(given) & set(SERVER_ONLY))
    if server_only:
        raise ConfigurationError(
            NOT_PER_RUN.format(
                names=", ".join(server_only),
                variables=", ".join(SERVER_ONLY[name] for name in server_only),
            )
        )
    known = {field.name for field in dataclasses.fields(ServerContext)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigurationError(
            UNKNOWN_CONTEXT.format(names=", ".join(unknown), known=", ".join(sorted(known)))
        )
    for name in _TUPLE_FIELDS:
        if isinstance(given.get(name), list):
            given[name] = tuple(given[name])
    if isinstance(given.get("role_models"), Mapping):
        given["role_models"] = {
            role: tuple(chain) if isinstance(chain, list) else chain
            for role, chain in given["role_models"].items()
        }
    return Settings.from_env(**given)


def serve(
    builder: StateGraph[Any, Any, Any, Any], *, name: str
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile ``builder`` for the server: :class:`ServerContext` and a bounded run.

    The server supplies the checkpointer and store. The ``recursion_limit`` follows the
    server's budgets (as ``Crossroads`` does for each run), since LangGraph's own default
    is about 10,000 steps; a client may still pass its own in the run's config.

    Args:
        builder: An uncompiled graph from one of the ``build_*_graph`` builders.
        name: The graph's name (shown in Studio and traces).
    """
    builder.context_schema = ServerContext
    limit = Settings.from_env().effective_recursion_limit
    return builder.compile(name=name).with_config(recursion_limit=limit)


# Your own agents (modules named in CROSSROADS_AGENTS register them on import) are part of
# the served app graph, its drawing in Studio and its router's choices.
load_agent_modules(Settings.from_env().agent_modules)

app = serve(build_app_graph(), name="crossroads")
"""The whole Crossroads app: router, calculator, researcher, writers and registered agents."""

calculator = serve(build_calculator_graph(), name="calculator")
"""The calculator agent alone."""

researcher = serve(build_researcher_graph(), name="researcher")
"""The research agent alone."""

writers = serve(build_writers_graph(), name="writers")
"""The writing team alone."""

__all__ = [
    "SERVER_ONLY",
    "ServerContext",
    "app",
    "calculator",
    "researcher",
    "serve",
    "settings_for_run",
    "writers",
]
