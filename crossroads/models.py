"""Model loading: one resolver from ``"provider:model"`` strings to chat models.

Everything goes through LangChain's ``init_chat_model``, so any provider LangChain supports
works once its integration package is installed (``openai:gpt-4.1-mini`` with
``langchain-openai``, ``ollama:llama3.2`` with ``langchain-ollama``, ...).

Two choices are made on purpose here:

* **Client retries are off** (``max_retries=0``) and a **timeout is always set**. The Gemini
  client alone retries 6 times by default, which took 34 s with no network. Crossroads retries
  transient failures itself (see :mod:`crossroads.llm`), honouring ``Retry-After``, so the two
  never stack. Users can still pass their own values through ``Settings.model_kwargs``.
* **Failures are sentences.** A missing key or provider package raises
  :class:`~crossroads.errors.ConfigurationError` naming what to set or install.

Resolved models are cached per (spec, temperature, kwargs): chat-model clients are safe to
share between requests and building one is not free. OpenAI-protocol models are also cached
per event loop: langchain-openai shares one async ``httpx`` client per base URL across the
whole process, and its connections belong to the loop that opened them, so a second
:class:`~crossroads.Crossroads` (each runs its own loop) failed every call with "Event loop is
closed" once the first had closed. Those models get an ``httpx`` client of their own per loop,
which :func:`release_models` closes when the app closes.
"""

from __future__ import annotations

import asyncio
import difflib
import importlib.util
import json
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel

from crossroads.errors import ConfigurationError
from crossroads.settings import Settings

# Provider prefix -> (integration package to import, pip name).
PROVIDER_PACKAGES: Mapping[str, tuple[str, str]] = {
    "google_genai": ("langchain_google_genai", "langchain-google-genai"),
    "google_vertexai": ("langchain_google_vertexai", "langchain-google-vertexai"),
    "openai": ("langchain_openai", "langchain-openai"),
    "azure_openai": ("langchain_openai", "langchain-openai"),
    "anthropic": ("langchain_anthropic", "langchain-anthropic"),
    "ollama": ("langchain_ollama", "langchain-ollama"),
    "groq": ("langchain_groq", "langchain-groq"),
    "mistralai": ("langchain_mistralai", "langchain-mistralai"),
    "deepseek": ("langchain_deepseek", "langchain-deepseek"),
    "xai": ("langchain_xai", "langchain-xai"),
    "fireworks": ("langchain_fireworks", "langchain-fireworks"),
    "together": ("langchain_together", "langchain-together"),
    "bedrock_converse": ("langchain_aws", "langchain-aws"),
    "huggingface": ("langchain_huggingface", "langchain-huggingface"),
}

# Providers whose clients take ``timeout`` and ``max_retries`` under those names.
_TIMEOUT_AND_RETRIES = {
    "google_genai",
    "openai",
    "azure_openai",
    "anthropic",
    "groq",
    "mistralai",
    "deepseek",
    "xai",
    "fireworks",
    "together",
}

# Environment variable each hosted provider reads its key from (for the error message).
PROVIDER_KEYS: Mapping[str, str] = {
    "google_genai": "GOOGLE_API_KEY",
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
}

BAD_SPEC = (
    "model {spec!r} is not of the form 'provider:model' "
    "(for example 'google_genai:gemini-2.5-flash' or 'ollama:llama3.2')"
)
MISSING_PACKAGE = (
    "the model {spec!r} needs the package {pip}: run `pip install {pip}` "
    "(or pick another model with --model / CROSSROADS_MODEL)"
)
MISSING_KEY = (
    "the model {spec!r} needs an API key: set {var} "
    "(or run offline with --offline / CROSSROADS_OFFLINE=1)"
)
INIT_FAILED = "could not create the model {spec!r}: {error}"
UNKNOWN_PROVIDER_NEAR = (
    "unknown model provider {provider!r} in {spec!r}: did you mean {near!r} "
    "(as in '{near}:{name}')?"
)
UNKNOWN_PROVIDER = "unknown model provider {provider!r} in {spec!r}; supported providers: {known}"
NO_MODEL = (
    "no chat model is configured for the {role} role: set GOOGLE_API_KEY (Gemini) or "
    "CROSSROADS_MODEL (e.g. 'ollama:llama3.2'), or pass model=... in code"
)

# Providers whose LangChain class takes ``http_async_client`` and otherwise shares one
# process-wide client across event loops.
_OWN_ASYNC_CLIENT = {"openai", "azure_openai"}

_cache: dict[str, BaseChatModel] = {}
"""Models resolved outside any event loop (``check_models`` at start-up, sync callers)."""


@dataclass
class _LoopModels:
    """What one event loop holds: its OpenAI-protocol models and the HTTP clients made for
    them (closed by :func:`release_models`)."""

    models: dict[str, BaseChatModel] = field(default_factory=dict)
    clients: list[Any] = field(default_factory=list)


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopModels] = (
    weakref.WeakKeyDictionary()
)
_cache_lock = threading.Lock()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def release_models() -> None:
    """Forget the models resolved on the running event loop and close the HTTP clients made
    for them. :class:`~crossroads.Crossroads` calls it when it closes, on its own loop."""
    loop = asyncio.get_running_loop()
    with _cache_lock:
        held = _per_loop.pop(loop, None)
    for client in held.clients if held is not None else []:
        await client.aclose()


def split_spec(spec: str) -> tuple[str, str]:
    """Split ``"provider:model"`` into its two parts.

    Raises:
        ConfigurationError: the string has no provider or no model name.
    """
    provider, sep, name = spec.strip().partition(":")
    if not sep or not provider or not name:
        raise ConfigurationError(BAD_SPEC.format(spec=spec))
    return provider.strip(), name.strip()


def known_providers() -> dict[str, tuple[str, str]]:
    """Every provider prefix Crossroads or LangChain's ``init_chat_model`` knows, with its
    integration module and pip name."""
    known = dict(PROVIDER_PACKAGES)
    try:
        from langchain.chat_models.base import _BUILTIN_PROVIDERS
    except ImportError:  # an older or newer LangChain: our own table is enough
        return known
    for provider, entry in _BUILTIN_PROVIDERS.items():
        if provider not in known and isinstance(entry, tuple) and entry:
            module = str(entry[0])
            top = module.split(".")[0]
            known[provider] = (module, top.replace("_", "-"))
    return known


def _package_for(provider: str, spec: str, name: str) -> tuple[str, str]:
    """The (module, pip name) of a provider; an unknown one is refused with the nearest known
    prefix, or the list of known ones (never a guessed package name that anyone could
    register)."""
    known = known_providers()
    if provider in known:
        return known[provider]
    normalised = provider.strip().lower().replace("-", "_").replace(" ", "_")
    if normalised in known:
        near = [normalised]
    else:
        near = difflib.get_close_matches(normalised, list(known), n=1, cutoff=0.6)
    if near:
        raise ConfigurationError(
            UNKNOWN_PROVIDER_NEAR.format(provider=provider, spec=spec, near=near[0], name=name)
        )
    raise ConfigurationError(
        UNKNOWN_PROVIDER.format(provider=provider, spec=spec, known=", ".join(sorted(known)))
    )


def output_cap_kwargs(provider: str, cap: int, settings: Settings) -> dict[str, Any]:
    """Keyword arguments that make ``provider`` stop a reply after ``cap`` tokens.

    langchain-openai sends ``max_tokens`` as ``max_completion_tokens``, which OpenAI-compatible
    servers such as llama-cpp-python ignore; so with a ``base_url`` (a server other than
    OpenAI's) the cap goes in the request body as ``max_tokens`` itself. OpenAI streams
    token usage only when asked (``stream_usage``), so streamed calls are counted too.
    """
    if provider in {"openai", "azure_openai"}:
        base_url = str(settings.model_kwargs.get("base_url") or "")
        if base_url and "api.openai.com" not in base_url:
            return {"extra_body": {"max_tokens": cap}, "stream_usage": True}
        return {"max_tokens": cap, "stream_usage": True}
    if provider in {"google_genai", "google_vertexai"}:
        return {"max_output_tokens": cap}
    if provider == "ollama":
        return {"num_predict": cap}
    if provider == "bedrock_converse":
        return {"max_tokens": cap}
    if provider in _TIMEOUT_AND_RETRIES:
        return {"max_tokens": cap}
    return {}


def resolve_model(
    spec: str | BaseChatModel,
    *,
    temperature: float,
    settings: Settings,
    max_output_tokens: int | None = None,
) -> BaseChatModel:
    """Turn a model spec into a chat model, ready to call.

    Args:
        spec: ``"provider:model"``, or a chat model object (returned as it is).
        temperature: Sampling temperature for the role.
        settings: Provides API keys, the request timeout and provider keyword arguments.
        max_output_tokens: The role's output cap, passed the way the provider takes it
            (:func:`output_cap_kwargs`); ``Settings.model_kwargs`` can override it.

    Returns:
        The chat model.

    Raises:
        ConfigurationError: bad spec, missing provider package or missing API key.
    """
    if isinstance(spec, BaseChatModel):
        return spec
    provider, name = split_spec(spec)
    module, pip = _package_for(provider, spec, name)
    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(MISSING_PACKAGE.format(spec=spec, pip=pip))

    kwargs: dict[str, Any] = {"temperature": temperature}
    if provider in _TIMEOUT_AND_RETRIES:
        kwargs["timeout"] = settings.request_timeout
        kwargs["max_retries"] = 0
    if provider == "google_genai":
        if not settings.google_api_key and "google_api_key" not in settings.model_kwargs:
            raise ConfigurationError(MISSING_KEY.format(spec=spec, var="GOOGLE_API_KEY"))
        if settings.google_api_key:
            kwargs["google_api_key"] = settings.google_api_key
    if max_output_tokens is not None:
        kwargs.update(output_cap_kwargs(provider, max_output_tokens, settings))
    kwargs.update(settings.model_kwargs)

    key = json.dumps([provider, name, kwargs], sort_keys=True, default=repr)
    # Only the OpenAI-protocol clients are tied to a loop: others keep one model per process.
    loop = _running_loop() if provider in _OWN_ASYNC_CLIENT else None
    with _cache_lock:
        cache = _cache if loop is None else _per_loop.setdefault(loop, _LoopModels()).models
        cached = cache.get(key)
    if cached is not None:
        return cached
    from langchain.chat_models import init_chat_model

    client = None
    if loop is not None and "http_async_client" not in kwargs:
        import httpx

        client = httpx.AsyncClient(timeout=settings.request_timeout)
        kwargs["http_async_client"] = client
        with _cache_lock:  # closed by release_models, whether or not the model is made
            _per_loop.setdefault(loop, _LoopModels()).clients.append(client)

    try:
        model = init_chat_model(name, model_provider=provider, **kwargs)
    except ImportError:
        raise ConfigurationError(MISSING_PACKAGE.format(spec=spec, pip=pip)) from None
    except Exception as error:  # provider constructors validate keys and options
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        var = PROVIDER_KEYS.get(provider)
        if var and ("api_key" in text.lower() or "api key" in text.lower()):
            raise ConfigurationError(MISSING_KEY.format(spec=spec, var=var)) from None
        raise ConfigurationError(INIT_FAILED.format(spec=spec, error=text)) from None
    with _cache_lock:
        cache[key] = model
    return model


def check_models(settings: Settings, roles: tuple[str, ...]) -> None:
    """Resolve every model of each role now (fallbacks too), so a bad name, a missing key or
    package surfaces before a run rather than in the middle of one.

    Raises:
        ConfigurationError: a role has no model, or one of its models cannot be created.
    """
    for role in roles:
        chain = settings.models_for(role)
        if not chain:
            raise ConfigurationError(NO_MODEL.format(role=role))
        for spec in chain:
            resolve_model(spec, temperature=settings.temperature_for(role), settings=settings)
