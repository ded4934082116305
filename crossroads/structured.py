"""Structured output that degrades: what to ask a model for, and how to read what it wrote.

Models differ in what they can do. A hosted model honours a JSON schema natively; a local
OpenAI-compatible server may refuse ``response_format: json_schema`` (llama-cpp-python
answers HTTP 500) but accept a JSON-mode request; a small model may only write text. So a
structured call tries, in order, the **strategies** below, and remembers per model the first
one that produced a usable reply (``Settings.structured_output`` pins one instead):

``native``
    The provider's own structured output (``with_structured_output`` with its default
    method: a JSON schema for OpenAI, Gemini's response schema, a tool call elsewhere).
``function_calling``
    A forced tool call whose arguments are the object.
``json_mode``
    JSON mode, with the schema in the prompt (and, for OpenAI-compatible servers, in the
    ``response_format`` too: llama.cpp turns it into a grammar).
``text``
    A plain chat call with the schema in the prompt; the reply is read leniently: the first
    JSON object in it, else the caller's own plain-text reader (the router takes the first
    of its choices named in the reply).

Whatever the strategy, a reply that cannot be parsed is an *unusable reply*, never a dead
model: the next strategy is tried, and when the last one's reply is unusable too, the caller
retries with the error, then falls back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from crossroads.errors import exception_chain

STRATEGIES = ("native", "function_calling", "json_mode", "text")
"""The strategies, most capable first; ``auto`` tries them in this order."""

SCHEMA_PROMPT = (
    "Reply with only one JSON object that matches this JSON schema (no prose, no code "
    "fence):\n{schema}"
)

LenientReader = Callable[[str], BaseModel | None]
"""Reads a plain-text reply into the schema's object, or ``None`` when it cannot."""

UNUSABLE_REPLY_ERRORS = frozenset(
    {
        "LengthFinishReasonError",
        "ContentFilterFinishReasonError",
        "ValidationError",
        "OutputParserException",
    }
)
"""Exception class names that mean "a reply came back but could not be read" (raised by some
clients inside the call, e.g. langchain-openai's JSON-schema parse at the length limit)."""

_JSON_PARSE_ERROR = re.compile(r"\bat line \d+ column \d+")
"""A bare ``ValueError`` from a JSON reader names the place it stopped: the openai SDK reads
a streamed JSON-schema reply incrementally and raises "expected ident at line 1 column 2"
when the model answered in plain text. Other ``ValueError``s stay errors of the call."""

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def is_unusable_reply(error: BaseException) -> bool:
    """Whether ``error`` (or an exception it wraps) says the reply was unreadable."""
    for link in exception_chain(error):
        if type(link).__name__ in UNUSABLE_REPLY_ERRORS:
            return True
        if type(link) is ValueError and _JSON_PARSE_ERROR.search(str(link)):
            return True
    return False


def schema_json(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of ``schema``."""
    return schema.model_json_schema()


def schema_prompt(schema: type[BaseModel]) -> str:
    """The instruction added to the prompt for the ``json_mode`` and ``text`` strategies."""
    return SCHEMA_PROMPT.format(schema=json.dumps(schema_json(schema), separators=(",", ":")))


def json_candidates(text: str) -> list[str]:
    """JSON object texts found in a reply: fenced blocks first, then each balanced ``{...}``."""
    found = [block.strip() for block in _FENCE.findall(text)]
    depth = 0
    start = -1
    in_string = False
    escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"' and depth > 0:
            in_string = True
        elif char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                found.append(text[start : index + 1])
    return found


def read_reply(
    text: str, schema: type[BaseModel], lenient: LenientReader | None = None
) -> tuple[BaseModel | None, str | None]:
    """Read a text reply as ``schema``: a JSON object in it, else the lenient reader.

    Returns:
        ``(object, None)`` or ``(None, why it could not be read)``.
    """
    error: str | None = None
    for candidate in json_candidates(text):
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError as invalid:
            error = error or f"the JSON in the reply is malformed ({invalid.msg})"
            continue
        if not isinstance(data, dict):
            continue
        try:
            return schema.model_validate(data), None
        except Exception as invalid:
            first = str(invalid).strip().splitlines()
            error = error or (" ".join(line.strip() for line in first[:3]))[:300]
    if lenient is not None:
        read = lenient(text)
        if read is not None:
            return read, None
    if not text.strip():
        return None, "the reply was empty"
    return None, error or "the reply held no JSON object matching the schema"
