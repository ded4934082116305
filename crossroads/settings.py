"""Run-time settings: one object, one precedence rule.

`Settings` is the graph's ``context_schema``: every node reads it through
``runtime.context``. It holds a model per role as ``"provider:model"`` strings (or ready
chat-model objects), temperatures, provider keyword arguments, loop limits, budgets and the
data directory.

**Precedence**: values passed in code beat environment variables, and environment variables
beat the defaults. ``Settings(...)`` itself never reads the environment; use
:meth:`Settings.from_env` (which is what :class:`crossroads.Crossroads` does) to fill the
fields you did not pass from the environment.

Environment variables (read only here, nowhere else in the project; :data:`ENVIRONMENT`
maps each to the field it fills and its parser):

=============================  ==========================================================
``CROSSROADS_MODEL``           default ``provider:model`` for every role
``GOOGLE_API_KEY``             Gemini key; when set and no model is named, the default
                               model is ``google_genai:gemini-2.5-flash``
``TAVILY_API_KEY``             enables the Tavily search backend
``CROSSROADS_HOME``            data directory (threads, local index); ``~/.crossroads``
``CROSSROADS_OFFLINE``         ``1``/``true``: never call a model
``CROSSROADS_BASE_URL``        provider endpoint (a gateway, a local server, a test stub)
``CROSSROADS_MODEL_KWARGS``    JSON object of provider keyword arguments
``CROSSROADS_SEARCH``          comma-separated search backends, e.g. ``local,wikipedia``
``CROSSROADS_ZIM``             path of an offline Wikipedia ``.zim`` file
``CROSSROADS_CHECKPOINT_URL``  ``postgresql://...`` to keep threads in PostgreSQL
``CROSSROADS_THREAD_LOCK_TIMEOUT``  seconds a request waits for a thread another
                               request is writing (default 30)
``CROSSROADS_AGENTS``          comma-separated modules that register your own agents
                               (imported before the app graph is built)
``CROSSROADS_SERVER_MODELS``   server only: comma-separated ``provider:model`` names an
                               assistant or run may choose (besides the server's own)
``CROSSROADS_SERVER_TOKENS``   server only: ``user=token,...``; when set, every request
                               needs ``Authorization: Bearer <token>`` and sees only its
                               user's threads (``crossroads/graphs/auth.py``)
=============================  ==========================================================
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel

from crossroads.errors import ConfigurationError

DEFAULT_GEMINI_MODEL = "google_genai:gemini-2.5-flash"

ROLES = (
    "router",
    "calculator",
    "researcher",
    "creative",
    "planner",
    "critic",
    "writer",
    "summary",
)
"""Roles that call a chat model; each can have its own model and temperature."""

DEFAULT_TEMPERATURES: Mapping[str, float] = {
    "router": 0.0,
    "calculator": 0.0,
    "researcher": 0.2,
    "creative": 0.9,
    "planner": 0.4,
    "critic": 0.0,
    "writer": 0.7,
    "summary": 0.0,
}

DEFAULT_OUTPUT_CAPS: Mapping[str, int] = {
    "router": 256,
    "calculator": 256,
    "researcher": 512,
    "creative": 800,
    "planner": 1200,
    "critic": 512,
    "writer": 1500,
    "summary": 400,
}
"""Most tokens one reply of each role may have (``Settings.output_caps`` overrides). The cap
reaches the provider as its own output limit (``max_tokens`` for OpenAI-compatible servers),
so a model that rambles stops on the server, not only in the client."""

STRUCTURED_OUTPUT = ("auto", "native", "function_calling", "json_mode", "text")
"""``Settings.structured_output`` values: ``auto`` degrades through the others in order."""

SEARCH_BACKENDS = ("local", "zim", "wikipedia", "tavily")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

BAD_KWARGS_JSON = (
    "CROSSROADS_MODEL_KWARGS must be a JSON object such as "
    '\'{{"timeout": 30, "max_retries": 0}}\'; got: {value!r} ({error})'
)
BAD_BOOL = "{name} must be 1/0, true/false, yes/no or on/off; got {value!r}"
BAD_BACKEND = "unknown search backend {name!r}; choose from: {choices}"
BAD_LIMIT = "{name} must be at least {minimum}; got {value!r}"
BAD_DURABILITY = "durability must be one of {choices}; got {value!r}"
DURABILITY_MODES = ("sync", "async", "exit")
BAD_STRUCTURED = "structured_output must be one of {choices}; got {value!r}"


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(BAD_BOOL.format(name=name, value=value))


def _text(name: str, value: str) -> str:
    return value


def _stripped(name: str, value: str) -> str:
    return value.strip()


def _path(name: str, value: str) -> Path:
    return Path(value).expanduser()


def _names(name: str, value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _seconds(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(
            BAD_LIMIT.format(name="thread_lock_timeout", minimum=">0", value=value)
        ) from None


def _json_object(name: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise ConfigurationError(BAD_KWARGS_JSON.format(value=value, error=error)) from None
    if not isinstance(parsed, dict):
        raise ConfigurationError(BAD_KWARGS_JSON.format(value=value, error="not an object"))
    return parsed


def _base_url(name: str, value: str) -> dict[str, Any]:
    return {"base_url": value}


@dataclass(frozen=True)
class EnvironmentVariable:
    """One environment variable and the :class:`Settings` field it fills.

    Attributes:
        name: The variable, e.g. ``CROSSROADS_HOME``.
        setting: The field it fills.
        parse: ``parse(name, raw)`` turns the raw text into the field's value; it raises
            :class:`~crossroads.errors.ConfigurationError` with one clear line when it cannot.
        read_empty: Whether a variable set to ``""`` counts (otherwise it is "not set").
    """

    name: str
    setting: str
    parse: Callable[[str, str], Any]
    read_empty: bool = False


ENVIRONMENT: tuple[EnvironmentVariable, ...] = (
    EnvironmentVariable("GOOGLE_API_KEY", "google_api_key", _text),
    EnvironmentVariable("TAVILY_API_KEY", "tavily_api_key", _text),
    EnvironmentVariable("CROSSROADS_MODEL", "model", _stripped),
    EnvironmentVariable("CROSSROADS_HOME", "home", _path),
    EnvironmentVariable("CROSSROADS_OFFLINE", "offline", _parse_bool, read_empty=True),
    EnvironmentVariable("CROSSROADS_THREAD_LOCK_TIMEOUT", "thread_lock_timeout", _seconds),
    EnvironmentVariable("CROSSROADS_MODEL_KWARGS", "model_kwargs", _json_object),
    EnvironmentVariable("CROSSROADS_BASE_URL", "model_kwargs", _base_url),
    EnvironmentVariable("CROSSROADS_SEARCH", "search_backends", _names),
    EnvironmentVariable("CROSSROADS_ZIM", "zim_path", _path),
    EnvironmentVariable("CROSSROADS_CHECKPOINT_URL", "checkpoint_url", _text),
    EnvironmentVariable("CROSSROADS_AGENTS", "agent_modules", _names),
)
"""The variables :meth:`Settings.from_env` reads, in order (the module docstring says what
each means); the few rules that tie one setting to another follow the table there."""


def variables_for(setting: str) -> tuple[str, ...]:
    """The environment variables that fill ``setting`` (empty when none does)."""
    return tuple(variable.name for variable in ENVIRONMENT if variable.setting == setting)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a run can be configured with.

    Pass only what you want to change; defaults apply to the rest. The fields are plain
    values so a LangGraph Server assistant config can carry them too.
    """

    model: str | BaseChatModel | None = None
    """Default model for every role: a ``"provider:model"`` string or a chat-model object.
    ``None`` means: ``CROSSROADS_MODEL``, else Gemini when ``GOOGLE_API_KEY`` is set, else
    offline mode."""

    role_models: Mapping[str, str | BaseChatModel | tuple[str | BaseChatModel, ...]] = field(
        default_factory=dict
    )
    """Per-role override. A tuple is a list of fallbacks, tried in order."""

    fallback_models: tuple[str | BaseChatModel, ...] = ()
    """Models tried, in order, after a role's own model fails for good."""

    temperatures: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TEMPERATURES))
    """Temperature per role; roles not named here use ``DEFAULT_TEMPERATURES``."""

    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Provider keyword arguments (``base_url``, ``timeout``, ``max_retries``, ...)."""

    # repr=False: a repr of the settings (a log line, a traceback) must not show the keys.
    google_api_key: str | None = field(default=None, repr=False)
    tavily_api_key: str | None = field(default=None, repr=False)
    output_caps: Mapping[str, int] = field(default_factory=dict)
    """Most output tokens per reply, per role; roles not named use ``DEFAULT_OUTPUT_CAPS``."""

    structured_output: str = "auto"
    """How structured replies are asked for: ``auto`` (native JSON schema, then tool
    calling, then JSON mode, then plain text, remembering what works per model) or one of
    ``native``, ``function_calling``, ``json_mode``, ``text`` to pin it."""

    offline: bool = False
    """Never call a model: rule-based and retrieval-only answers."""

    request_timeout: float = 60.0
    """Seconds one model call may take, start to end, before it counts as failed."""

    first_byte_timeout: float = 15.0
    """Seconds a model server may take to connect and send its first token; a server that
    sends nothing for this long is given up on (and retried), separately from
    ``request_timeout``. With the default two retries, a server that accepts connections
    and never answers ends the request in under a minute."""

    model_retries: int = 2
    """Crossroads' own retries of a transient model failure (the clients' are switched off,
    so the two never stack)."""

    max_tries: int = 3
    """Attempts per agentic loop (calculator extraction, research rewrite)."""

    votes: int = 1
    """Calculator self-consistency: extractions per question (majority wins)."""

    max_llm_calls: int = 30
    """Budget: model calls per request."""

    max_tokens: int = 200_000
    """Budget: input + output tokens per request."""

    max_seconds: float = 300.0
    """Budget: wall-clock seconds per request."""

    recursion_limit: int | None = None
    """LangGraph super-steps per run; derived from the budgets when ``None``."""

    home: Path | None = None
    """Data directory for threads and the local index (``CROSSROADS_HOME``)."""

    search_backends: tuple[str, ...] = ("local", "wikipedia")
    """Search backends the researcher uses, in order; several can be combined."""

    zim_path: Path | None = None
    search_timeout: float = 8.0
    max_passages: int = 5

    router_threshold: float | None = None
    """Confidence above which the offline classifier answers without the LLM router
    (``None``: the shipped, measured threshold)."""

    max_plan_revisions: int = 2
    max_part_revisions: int = 2
    max_parts: int = 8
    review: bool = False
    """Writers: pause after the plan so a person can approve or edit it."""

    max_plan_steps: int = 4
    """Multi-step questions: at most this many agent steps per plan."""

    checkpoint_url: str | None = None
    """``postgresql://...`` keeps threads in PostgreSQL; otherwise SQLite under ``home``."""

    agent_modules: tuple[str, ...] = ()
    """Modules to import before building the app graph; they call ``register_agent``."""

    history_messages: int = 8
    """Messages a thread keeps: its last questions and answers (8: four turns). Agents see
    only these (each uses the last few, for follow-ups); older ones are dropped, so a long
    conversation costs no more per turn than a short one. ``history`` shows these too."""

    summary_words: int = 150
    """With a model: turns that leave the window are folded into a running summary of at
    most this many words, which every agent sees before the recent turns (one ``summary``
    model call each time turns leave, half a window at a time). ``0`` turns it off; offline
    the window alone is kept."""

    thread_lock_timeout: float = 30.0
    """Seconds a request waits for its thread while another request (this process or another
    one) is writing it; then it fails with one sentence and writes nothing. A thread is
    written by one request at a time, so no answer is lost (:mod:`crossroads.thread_locks`)."""

    max_reply_chars: int = 100_000
    """A model reply longer than this is cut, with a note, before it is used or stored: one
    runaway reply cannot fill the thread store."""

    keep_checkpoints: bool = False
    """Keep every checkpoint of a thread (LangGraph time travel over old turns). By default a
    finished request leaves only the thread's latest checkpoint (SQLite, memory), so a store
    does not grow with every step of every turn."""

    durability: Literal["sync", "async", "exit"] = "sync"
    """When a run's checkpoints are written (LangGraph's ``durability``): ``"sync"`` (each
    step's checkpoint is stored before the next step starts: a killed process resumes from
    its last step), ``"async"`` (stored while the next step runs: a crash can lose the step
    in flight) or ``"exit"`` (only when the run ends or pauses: a crash loses the whole
    request in flight, never an earlier turn). See docs/performance.md."""

    def __post_init__(self) -> None:
        for name in (
            "max_tries",
            "votes",
            "max_llm_calls",
            "max_tokens",
            "max_parts",
            "max_reply_chars",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigurationError(BAD_LIMIT.format(name=name, minimum=1, value=value))
        if not isinstance(self.summary_words, int) or self.summary_words < 0:
            raise ConfigurationError(
                BAD_LIMIT.format(name="summary_words", minimum=0, value=self.summary_words)
            )
        if not isinstance(self.history_messages, int) or self.history_messages < 2:
            raise ConfigurationError(
                BAD_LIMIT.format(name="history_messages", minimum=2, value=self.history_messages)
            )
        for name in (
            "max_seconds",
            "request_timeout",
            "first_byte_timeout",
            "search_timeout",
            "thread_lock_timeout",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(BAD_LIMIT.format(name=name, minimum=">0", value=value))
        if self.durability not in DURABILITY_MODES:
            raise ConfigurationError(
                BAD_DURABILITY.format(value=self.durability, choices=", ".join(DURABILITY_MODES))
            )
        if self.structured_output not in STRUCTURED_OUTPUT:
            raise ConfigurationError(
                BAD_STRUCTURED.format(
                    value=self.structured_output, choices=", ".join(STRUCTURED_OUTPUT)
                )
            )
        for role, cap in self.output_caps.items():
            if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
                raise ConfigurationError(
                    BAD_LIMIT.format(name=f"output_caps[{role!r}]", minimum=1, value=cap)
                )
        for backend in self.search_backends:
            if backend not in SEARCH_BACKENDS:
                raise ConfigurationError(
                    BAD_BACKEND.format(name=backend, choices=", ".join(SEARCH_BACKENDS))
                )

    # -- derived values ---------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The data directory, ``~/.crossroads`` unless configured."""
        return Path(self.home) if self.home is not None else Path.home() / ".crossroads"

    @property
    def effective_recursion_limit(self) -> int:
        """The ``recursion_limit`` every run uses.

        Each model call costs at most a few graph super-steps, so the limit follows the call
        budget instead of LangGraph's default of about 10,000 steps.
        """
        if self.recursion_limit is not None:
            return self.recursion_limit
        return 25 + 4 * self.max_llm_calls + 6 * self.max_parts * (1 + self.max_part_revisions)

    def temperature_for(self, role: str) -> float:
        """Temperature for ``role`` (configured, else the role's default, else 0)."""
        return float(self.temperatures.get(role, DEFAULT_TEMPERATURES.get(role, 0.0)))

    def output_cap_for(self, role: str) -> int:
        """Most output tokens one reply of ``role`` may have."""
        return int(self.output_caps.get(role, DEFAULT_OUTPUT_CAPS.get(role, 1024)))

    def models_for(self, role: str) -> tuple[str | BaseChatModel, ...]:
        """Models to try for ``role``, in order: the role's own, the default, fallbacks."""
        own = self.role_models.get(role)
        chain: list[str | BaseChatModel] = []
        if isinstance(own, tuple):
            chain.extend(own)
        elif own is not None:
            chain.append(own)
        if self.model is not None and not chain:
            chain.append(self.model)
        chain.extend(self.fallback_models)
        # Keep order, drop repeats (the same string twice would only repeat a failure).
        seen: list[str | BaseChatModel] = []
        for spec in chain:
            if not any(spec is s or (isinstance(s, str) and s == spec) for s in seen):
                seen.append(spec)
        return tuple(seen)

    @property
    def has_model(self) -> bool:
        """Whether any chat model is configured (and offline mode is off)."""
        if self.offline:
            return False
        return self.model is not None or any(self.models_for(role) for role in ROLES)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (code-level values, so they win)."""
        return dataclasses.replace(self, **changes)

    # -- the precedence rule ----------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **overrides: Any) -> Settings:
        """Build settings: ``overrides`` (code) beat ``environ`` beats the defaults.

        Args:
            environ: Environment to read; ``os.environ`` when omitted.
            **overrides: Field values passed in code. ``None`` counts as "not passed".

        Raises:
            ConfigurationError: an environment variable or override is malformed.
        """
        env = os.environ if environ is None else environ
        given = {key: value for key, value in overrides.items() if value is not None}
        unknown = set(given) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigurationError(
                f"unknown setting(s): {', '.join(sorted(unknown))}; see crossroads.Settings"
            )
        from_env: dict[str, Any] = {}
        for variable in ENVIRONMENT:
            raw = env.get(variable.name)
            if raw is None or (raw == "" and not variable.read_empty):
                continue
            value = variable.parse(variable.name, raw)
            if isinstance(value, dict):  # several variables fill one mapping, in table order
                value = {**from_env.get(variable.setting, {}), **value}
            from_env[variable.setting] = value
        # The rules that tie one setting to another.
        if "model" not in from_env and (
            from_env.get("google_api_key") or given.get("google_api_key")
        ):
            from_env["model"] = DEFAULT_GEMINI_MODEL
        if "model_kwargs" in from_env:
            # Code-level kwargs are merged on top of the environment's, key by key.
            from_env["model_kwargs"].update(given.pop("model_kwargs", {}) or {})
        if "zim_path" in from_env and "search_backends" not in from_env:
            from_env["search_backends"] = ("local", "zim", "wikipedia")
        tavily = from_env.get("tavily_api_key") or given.get("tavily_api_key")
        if tavily and "search_backends" not in from_env:
            from_env["search_backends"] = ("local", "wikipedia", "tavily")
        # An explicit model in code means "not offline" unless offline is passed too.
        if "model" in given and "offline" not in given:
            from_env.pop("offline", None)
        return cls(**{**from_env, **given})


def server_models_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The models a server's operator lets clients choose (``CROSSROADS_SERVER_MODELS``).

    The server's own models (``CROSSROADS_MODEL`` or the Gemini default) are always allowed;
    this lists the others. Empty when the variable is unset.
    """
    env = os.environ if environ is None else environ
    raw = env.get("CROSSROADS_SERVER_MODELS") or ""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def server_tokens_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{token: user}`` from ``CROSSROADS_SERVER_TOKENS`` (``user=token,...``); empty if unset.

    Raises:
        ConfigurationError: an entry is not ``user=token``, or a token is shorter than 16
            characters.
    """
    env = os.environ if environ is None else environ
    tokens: dict[str, str] = {}
    for entry in (env.get("CROSSROADS_SERVER_TOKENS") or "").split(","):
        if not entry.strip():
            continue
        user, _, token = entry.strip().partition("=")
        if not user.strip() or len(token.strip()) < 16:
            raise ConfigurationError(
                "CROSSROADS_SERVER_TOKENS must be user=token pairs separated by commas, "
                "each token at least 16 characters"
            )
        tokens[token.strip()] = user.strip()
    return tokens
