"""A model provider's failure, said in one sentence a person can act on.

:func:`describe_provider_error` looks through an exception and its causes for an HTTP status,
the provider's own status name and connection failures; the model caller
(:mod:`crossroads.llm`) puts its sentence into the :class:`~crossroads.errors.ModelError` it
raises. It sits above :mod:`crossroads.errors` (the exception types) and
:mod:`crossroads.retry` (the HTTP status of a provider's exception), which import
nothing back.
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass

from crossroads.errors import FirstByteTimeout, exception_chain
from crossroads.retry import http_status

UNREACHABLE = (
    "cannot reach the model server{where} ({cause}); check the network, or the endpoint in "
    "CROSSROADS_BASE_URL"
)
KEY_REJECTED = (
    "the model server rejected the API key; check the key (GOOGLE_API_KEY or your provider's "
    "key variable) or run offline with --offline"
)
QUOTA = (
    "the model server refused the request because a rate limit or quota is used up; wait, "
    "or check your plan's limits"
)
MODEL_NOT_FOUND = (
    "the model server does not know this model; check the name in --model / CROSSROADS_MODEL"
)
SERVER_TROUBLE = "the model server failed (server error); try again later"
NO_FIRST_BYTE = "the model server sent nothing within {seconds:g} s (first_byte_timeout)"
BAD_REPLY = "the model server sent a reply that could not be read (malformed or cut off)"
OTHER = "the model call failed: {text}"

_KEY_MARKERS = ("api_key_invalid", "invalid api key", "incorrect api key", "api key not valid")
_QUOTA_MARKERS = ("resource_exhausted", "quota", "rate limit", "rate_limit")
_NOT_FOUND_MARKERS = ("model_not_found", "is not found for api version", "no such model")
_UNREACHABLE_MARKERS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "connection refused",
    "cannot connect to host",
    "connecterror",
    "network is unreachable",
    "no route to host",
)
_CODE_NAMES = ("status", "reason")
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")


@dataclass(frozen=True)
class ProviderFailure:
    """A provider's failure, said for a person.

    Attributes:
        kind: ``unreachable``, ``key_rejected``, ``quota``, ``model_not_found``, ``timeout``,
            ``server`` or ``other``.
        message: One sentence a person can act on (no object reprs, no raw payloads).
        code: The provider's own code (``HTTP 400 API_KEY_INVALID``), or ``""``.
    """

    kind: str
    message: str
    code: str = ""


def _provider_code(links: list[BaseException], text: str) -> tuple[int | None, str]:
    status: int | None = None
    names: list[str] = []
    for link in links:
        status = status or http_status(link)
        for attribute in _CODE_NAMES:
            value = getattr(link, attribute, None)
            if isinstance(value, str) and value.isupper() and value not in names:
                names.append(value)
    for marker in ("API_KEY_INVALID", "RESOURCE_EXHAUSTED", "PERMISSION_DENIED", "NOT_FOUND"):
        if marker in text and marker not in names:
            names.append(marker)
    parts = ([f"HTTP {status}"] if status else []) + names
    return status, " ".join(parts)


def clean_text(text: str, limit: int = 200) -> str:
    """The first line of ``text`` without object reprs, cut to ``limit`` characters."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = _OBJECT_REPR.sub("…", first)
    return first if len(first) <= limit else first[: limit - 1] + "…"


def describe_provider_error(error: BaseException) -> ProviderFailure:
    """Say what a model provider's failure means and what to do about it, in one sentence.

    Looks through the exception and its causes for an HTTP status, the provider's status name
    (Google's ``API_KEY_INVALID``, ``RESOURCE_EXHAUSTED``...) and connection failures.
    """
    links = list(exception_chain(error))
    text = " ".join(f"{type(link).__name__} {link}" for link in links)
    lowered = text.lower()
    status, code = _provider_code(links, text)
    if any(isinstance(link, FirstByteTimeout) for link in links):
        return ProviderFailure("timeout", str(links[0]) if links else "", code)
    if status in (401, 403) or any(marker in lowered for marker in _KEY_MARKERS):
        return ProviderFailure("key_rejected", KEY_REJECTED, code)
    if status == 429 or any(marker in lowered for marker in _QUOTA_MARKERS):
        return ProviderFailure("quota", QUOTA, code)
    if status == 404 or any(marker in lowered for marker in _NOT_FOUND_MARKERS):
        return ProviderFailure("model_not_found", MODEL_NOT_FOUND, code)
    if status is not None and status >= 500:
        return ProviderFailure("server", SERVER_TROUBLE, code)
    if status is None and (
        any(marker in lowered for marker in _UNREACHABLE_MARKERS)
        or any(isinstance(link, ConnectionRefusedError | socket.gaierror) for link in links)
    ):
        host = _HOST.search(text)
        where = f" at {host.group(1)}" if host else ""
        cause = (
            "the name does not resolve"
            if any(m in lowered for m in _UNREACHABLE_MARKERS[:3])
            or any(isinstance(link, socket.gaierror) for link in links)
            else "connection refused"
            if "refused" in lowered
            else "no connection"
        )
        return ProviderFailure("unreachable", UNREACHABLE.format(where=where, cause=cause), code)
    if any(isinstance(link, json.JSONDecodeError) for link in links) or (
        "failed to parse response" in lowered
    ):
        return ProviderFailure("bad_reply", BAD_REPLY, code)
    if any(isinstance(link, TimeoutError) for link in links):
        return ProviderFailure("timeout", clean_text(str(links[0])) or "timed out", code)
    detail = clean_text(str(error)) or type(error).__name__
    return ProviderFailure("other", OTHER.format(text=detail), code)


_HOST = re.compile(r"(?:host|to) ([\w.-]+:\d+)")
