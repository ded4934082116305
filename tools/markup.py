"""Take echoed prompt markup out of a model's answer.

Prompts fence data in XML-ish tags (``<question>``, ``<passage id=...>``) and escape what is
inside (``&lt;``), and small models copy what they see: real answers began with
``&lt;search_query&gt;``, ``&lt;/passage id=#1&gt;`` or ``&amp;lt;/response&amp;gt;``. This
module removes such tags and entities from an answer, keeping any that the source text (the
user's question) itself contained, so nothing the user wrote is lost.
"""

from __future__ import annotations

import html
import re

MAX_UNESCAPE_ROUNDS = 3
"""``&amp;lt;`` is escaped twice; more rounds than this are not undone."""

_ENTITY = re.compile(r"&(?:#\d{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z]{2,8};|(?:lt|gt|amp|quot)\b)")
_TAG = re.compile(r"</?[A-Za-z_][\w.:-]*(?:\s[^<>\n]{0,200}?)?/?>")
_WHOLE_FENCE = re.compile(r"^```[\w+-]*[ \t]*\n(.*?)\n?```$", re.DOTALL)
_BARE_ENTITY = {"&lt": "<", "&gt": ">", "&amp": "&", "&quot": '"'}


def _unescape_once(text: str, keep: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        entity = match.group(0)
        if entity in keep:
            return entity
        if not entity.endswith(";"):
            return _BARE_ENTITY.get(entity, entity)
        return html.unescape(entity)

    return _ENTITY.sub(replace, text)


def strip_echoed_markup(text: str, *, source: str = "") -> str:
    """``text`` without echoed HTML entities, XML-ish tags or a fence around it all.

    Args:
        text: A model's answer.
        source: Text the answer may legitimately repeat (the user's question): a tag or an
            entity found there is kept.

    Returns:
        The cleaned answer (whitespace left by removed tags is tidied; an answer with no
        markup comes back unchanged).
    """
    keep_entities = set(_ENTITY.findall(source))
    keep_tags = {tag.lower() for tag in _TAG.findall(source)}
    cleaned = text
    for _ in range(MAX_UNESCAPE_ROUNDS):
        unescaped = _unescape_once(cleaned, keep_entities)
        if unescaped == cleaned:
            break
        cleaned = unescaped
    cleaned = _TAG.sub(lambda m: m.group(0) if m.group(0).lower() in keep_tags else " ", cleaned)
    fenced = _WHOLE_FENCE.match(cleaned.strip())
    if fenced and "```" not in source:
        cleaned = fenced.group(1)
    if cleaned == text:
        return text
    lines = [" ".join(line.split()) for line in cleaned.splitlines()]
    tidied = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", tidied)
