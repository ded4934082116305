"""Model-free text utilities: the words that carry a text's topic, its sentences, and the
numbers it states.

One implementation each, shared by the agents and the evaluation: the researcher grades and
answers with :func:`content_words` and :func:`split_sentences`, the router matches a
registered agent's examples with :func:`content_words`, and the calculator (does the phrased
sentence state the result?) and the evaluation (does the answer contain the expected number?)
read numbers with :func:`stated_numbers`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from crossroads.tools.retrievers.base import join_hyphens

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

_BLOCK_START = re.compile(r"^\s*(?:#|=|[-*•]\s|\d+[.)]\s|\|)")

_HEADING = re.compile(r"^\s*(?:=+.*=+|#+\s.*)\s*$")

# Conversational filler that is not in the general English stop-word list but says nothing
# about the topic of a question.
FILLER = frozenset(
    {"gee", "wondering", "wonder", "like", "know", "tell", "please", "hey", "hi", "um", "uh"}
)

# Endings after an apostrophe that leave the word itself ("Egypt's" is "Egypt").
_CLITICS = frozenset({"m", "s", "re", "ve", "ll", "d"})


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    # scikit-learn's list (318 words) is imported lazily: it is only needed here.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | FILLER


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fold(word: str) -> str:
    """Crude plural folding, so that "pyramid" matches "pyramids"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry its topic, in order: lower-cased, stop words removed.

    Args:
        text: Any text.

    Returns:
        The words, repeats included, in their original order.
    """
    stop = stop_words()
    found: list[str] = []
    for match in WORD.finditer(join_hyphens(text)):
        word = match.group().lower().replace("’", "'")
        base, _, clitic = word.partition("'")
        if clitic == "t":
            continue  # don't, isn't: negations say nothing about the topic
        if clitic in _CLITICS:
            word = base  # I'm, Egypt's, they're: the word itself
        if (len(word) > 1 or word.isdigit()) and word not in stop:
            found.append(word)
    return found


def content_terms(text: str) -> set[str]:
    """Distinct, plural-folded :func:`content_words` of ``text`` (for overlap checks)."""
    return {fold(word) for word in content_words(text)}


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; a hard-wrapped paragraph is joined before it is split.

    Headings are dropped; list items and table rows stand alone.
    """
    return [sentence for _, sentence in headed_sentences(text)]


def headed_sentences(text: str) -> list[tuple[str, str]]:
    """The sentences of :func:`split_sentences`, each with the headings it sits under
    (``"# Mount Everest ## First ascent"``): what a sentence that says "it" or "the summit"
    is about. A heading replaces those of its level and below (Markdown ``#``, wiki ``==``).
    """
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        wrapped = lines and line and lines[-1] and not _BLOCK_START.match(line)
        if wrapped and not _BLOCK_START.match(lines[-1]):
            lines[-1] = f"{lines[-1]} {line}"  # the same paragraph, wrapped
            continue
        lines.append(line)
    headings: list[tuple[int, str]] = []
    sentences: list[tuple[str, str]] = []
    for line in lines:
        if _HEADING.match(line):
            level = len(line) - len(line.lstrip("#="))
            headings = [(depth, title) for depth, title in headings if depth < level]
            headings.append((level, line))
            continue
        for piece in _SENTENCE_END.split(line):
            piece = piece.strip()
            if piece and not _HEADING.match(piece):
                sentences.append((" ".join(title for _, title in headings), piece))
    return sentences


STATED_NUMBER = re.compile(
    r"(?<![\w.])-?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?!\d)"
)
"""A number as people write it: an optional minus (only when not glued to a word or number
before it, so "6-4" is 6 and 4), thousands separators, decimals (".5" too), an exponent.
"36." at a sentence's end is 36."""


def stated_numbers(text: str) -> list[Decimal]:
    """Every numeral in ``text``, in order, as exact decimals (``1,234`` is 1234; a
    typographic minus ``−5`` is -5)."""
    values = []
    for match in STATED_NUMBER.finditer(text.replace("\u2212", "-")):
        try:
            values.append(Decimal(match.group().replace(",", "")))
        except InvalidOperation:  # the pattern only finds numerals; stay safe anyway
            continue
    return values
