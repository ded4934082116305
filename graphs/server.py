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
settings an assistant may carry, derived from :class:`Settings` in JSON types (so Studio can
show a form and the server drops unknown keys), and constructing it returns ``Settings.from_env(**context)`` — the nodes
see a complete :class:`Settings`, exactly as they do under :class:`crossroads.Crossroads`.

Left out of the context on purpose: API keys (secrets belong in the server's environment,
not in assistant records every API client can read), provider keyword arguments (a
``base_url`` there would send the server's key and the user's prompt to any host) and
process-level choices (data directory, ZIM file, thread store, agent modules), which belong
to the deployment.

A client chooses only among what the operator allows (:func:`check_client_choices`):
models the server runs or lists in ``CROSSROADS_SERVER_MODELS``, search backends the server
uses, temperatures within 0-2, and budgets and limits no larger than the server's own (the
server's values are ceilings a client may only lower).

Threads: the server keeps them in its own store (``langgraph dev``: in memory, saved under
``.langgraph_api/``; LangGraph Server: its PostgreSQL database), so the graphs here are
compiled without a checkpointer. ``docs/server.md`` explains how it scales out.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from langchain_core.language_models import BaseChatModel
from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph

from crossroads.errors import ConfigurationError
from crossroads.graphs.app import build_app_graph
from crossroads.graphs.calculator import build_calculator_graph
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.graphs.writers import build_writers_graph
from crossroads.registry import load_agent_modules
from crossroads.settings import ROLES, Settings, server_models_from_env, variables_for

NOT_PER_RUN = (
    "setting(s) {names} cannot come from an assistant or a run; set them in the server's "
    "environment ({variables})"
)
UNKNOWN_CONTEXT = "unknown setting(s) {names} in the run context; known: {known}"
ABOVE_CEILING = (
    "{name}={value!r} in the run context is above this server's {name}={ceiling!r}; "
    "an assistant or run may only lower it"
)
MODEL_NOT_ALLOWED = (
    "model {model!r} in the run context is not one this server offers; allowed: {allowed} "
    "(the operator lists more in CROSSROADS_SERVER_MODELS)"
)
BACKEND_NOT_ALLOWED = (
    "search backend {name!r} in the run context is not one this server uses; allowed: {allowed}"
)
BAD_TEMPERATURE = "temperature for {role!r} in the run context must be a number from 0 to 2"
BAD_ROLE = "unknown role {role!r} in the run context; roles: {roles}"
NOT_AN_OBJECT = "{key} in the run context must be an object"

SERVER_ONLY: Mapping[str, str] = {
    name: " or ".join(variables_for(name)) or "the server's Settings"
    for name in (
        "google_api_key",
        "tavily_api_key",
        "home",
        "zim_path",
        "checkpoint_url",
        "agent_modules",
        "model_kwargs",
        # Store, protocol and output-size settings are the operator's (set in code where no
        # variable exists): a client must not turn off a lock, a cap or checkpoint pruning.
        "thread_lock_timeout",
        "max_reply_chars",
        "output_caps",
        "structured_output",
        "first_byte_timeout",
        "durability",
        "keep_checkpoints",
        "history_messages",
    )
}
"""Settings a run context may not carry, with the environment variable that sets each."""

CEILINGS = (
    "request_timeout",
    "model_retries",
    "max_tries",
    "votes",
    "max_llm_calls",
    "max_tokens",
    "max_seconds",
    "recursion_limit",
    "search_timeout",
    "max_passages",
    "max_plan_revisions",
    "max_part_revisions",
    "max_parts",
    "max_plan_steps",
)
"""Budgets and limits whose server value is a ceiling: a run context may only lower them."""

# JSON has lists, not tuples; Settings uses tuples for ordered choices (fallback chains).
_TUPLE_FIELDS = ("fallback_models", "search_backends")


def _json_type(annotation: Any) -> Any:
    """The JSON type a run context carries for a :class:`Settings` type: chat-model objects
    dropped (a context holds names), tuples as lists, mappings as dicts, paths as strings."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        kept = [_json_type(arg) for arg in args if arg not in (BaseChatModel, type(None))]
        return functools.reduce(operator.or_, kept)
    if origin is tuple:
        return list[_json_type(args[0])]  # type: ignore[misc]
    if origin in (Mapping, dict):
        return dict[_json_type(args[0]), _json_type(args[1])]  # type: ignore[misc]
    return str if annotation is Path else annotation


def _per_run_fields() -> list[tuple[str, Any, Any]]:
    hints = get_type_hints(Settings)
    return [
        (item.name, _json_type(hints[item.name]) | None, dataclasses.field(default=None))
        for item in dataclasses.fields(Settings)
        if item.name not in SERVER_ONLY
    ]


def _settings_for_context(cls: type, **context: Any) -> Settings:
    # LangGraph calls ``context_schema(**context)``; returning the finished Settings here is
    # the one place the server's context meets the environment (see the module docstring).
    return settings_for_run(context)


ServerContext = dataclasses.make_dataclass(
    "ServerContext",
    _per_run_fields(),
    frozen=True,
    kw_only=True,
    namespace={
        "__new__": _settings_for_context,
        "__module__": __name__,
        "__doc__": """The settings an assistant or a run may set; ``None`` means "server env
    or default".

    Derived from :class:`Settings`: every field not in :data:`SERVER_ONLY`, in its JSON
    type (names instead of chat-model objects, lists instead of tuples), so Studio can show
    a form and the server drops unknown keys. Constructing it returns a :class:`Settings`
    (see :func:`settings_for_run`), which is what LangGraph hands the nodes as
    ``runtime.context``. Each field means what the :class:`Settings` field of the same
    name means.
    """,
    },
)


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
    server = Settings.from_env()
    check_client_choices(given, server, server_models_from_env())
    return Settings.from_env(**given)


def check_client_choices(
    given: Mapping[str, Any], server: Settings, listed_models: tuple[str, ...]
) -> None:
    """Refuse a run context that goes beyond what the server's operator allows.

    Args:
        given: The run context's values (JSON lists already turned into tuples).
        server: The server's own settings (its environment over the defaults).
        listed_models: Extra models the operator offers (``CROSSROADS_SERVER_MODELS``).

    Raises:
        ConfigurationError: a budget above the server's, a model or search backend the
            server does not offer, or a temperature or role out of range.
    """
    for name in CEILINGS:
        if name not in given:
            continue
        value = given[name]
        ceiling = (
            server.effective_recursion_limit if name == "recursion_limit" else getattr(server, name)
        )
        if isinstance(value, bool) or not isinstance(value, int | float) or value > ceiling:
            raise ConfigurationError(ABOVE_CEILING.format(name=name, value=value, ceiling=ceiling))
    allowed = _server_models(server, listed_models)
    chosen: list[Any] = []
    if "model" in given:
        chosen.append(given["model"])
    chosen.extend(given.get("fallback_models") or ())
    for _, chain in _per_role(given, "role_models"):
        chosen.extend(chain if isinstance(chain, tuple) else (chain,))
    for model in chosen:
        if not isinstance(model, str) or model not in allowed:
            raise ConfigurationError(
                MODEL_NOT_ALLOWED.format(model=model, allowed=", ".join(sorted(allowed)) or "none")
            )
    for backend in given.get("search_backends") or ():
        if backend not in server.search_backends:
            raise ConfigurationError(
                BACKEND_NOT_ALLOWED.format(name=backend, allowed=", ".join(server.search_backends))
            )
    for role, value in _per_role(given, "temperatures"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
            raise ConfigurationError(BAD_TEMPERATURE.format(role=role))


def _per_role(given: Mapping[str, Any], key: str) -> Iterator[tuple[str, Any]]:
    """The ``(role, value)`` pairs of the run context's ``key`` (``role_models``,
    ``temperatures``), each role checked as it comes.

    Raises:
        ConfigurationError: ``key`` is not an object, or names a role that does not exist.
    """
    table = given.get(key) or {}
    if not isinstance(table, Mapping):
        raise ConfigurationError(NOT_AN_OBJECT.format(key=key))
    for role, value in table.items():
        if role not in ROLES:
            raise ConfigurationError(BAD_ROLE.format(role=role, roles=", ".join(ROLES)))
        yield role, value


def _server_models(server: Settings, listed: tuple[str, ...]) -> set[str]:
    """Model names the server runs itself, plus the ones its operator lists."""
    own: list[Any] = [server.model, *server.fallback_models]
    for chain in server.role_models.values():
        own.extend(chain if isinstance(chain, tuple) else (chain,))
    return {model for model in own if isinstance(model, str)} | set(listed)


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
    "CEILINGS",
    "SERVER_ONLY",
    "ServerContext",
    "app",
    "calculator",
    "check_client_choices",
    "researcher",
    "serve",
    "settings_for_run",
    "writers",
]
