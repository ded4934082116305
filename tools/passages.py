"""Model-free text work on search results: passages as plain data, the fences that carry
them into a prompt, citation checks, search queries without a model, and the extractive
answer (the best-matching sentences, each with its source) for when there is no model.

The research agent (:mod:`crossroads.agents.researcher`) uses these; nothing here calls a
model, so each piece is tested on its own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any, NotRequired, Protocol, TypedDict

from crossroads.tools.markup import strip_echoed_markup
from crossroads.tools.text import (
    FILLER,
    WORD,
    content_terms,
    content_words,
    headed_sentences,
    stop_words,
)

PASSAGE_FENCE = '<passage id="{number}" title="{title}" source="{source}">\n{text}\n</passage>'

MAX_QUERY_CHARS = 200

EXTRACTIVE_SENTENCES = 3

EXTRACTIVE_SENTENCE_CHARS = 400


class PassageRecord(TypedDict):
    """A retrieved passage as plain data (state is checkpointed, so no dataclasses)."""

    title: str
    text: str
    source: str
    backend: str
    score: float
    coverage: NotRequired[float]
    """Share of the query's terms found in the passage (set by the grader)."""


_CITATION = re.compile(r"\s?\[(\d+(?:\s*,\s*\d+)*)\]")

# Words that point back into the conversation ("when was he born?"): such a question needs
# the model's rewrite, which sees the history.
_REFERRING = frozenset(
    {
        "it",
        "its",
        "he",
        "him",
        "his",
        "she",
        "her",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "then",
    }
)

DIRECT_MAX_WORDS = 12
"""A question this short, with no filler and no reference back, is searched as it is."""


def is_direct(question: str) -> bool:
    """Whether ``question`` is already a plain search (no rewrite call needed).

    Short, with content words, no conversational filler ("gee, I'm wondering...") and no
    word that refers back to the conversation. "What is the capital of Australia?" is
    direct; its keyword query ("capital Australia") is what a rewrite would give.
    """
    words = [word.casefold() for word in WORD.findall(question)]
    if not words or len(words) > DIRECT_MAX_WORDS:
        return False
    if set(words) & (FILLER | _REFERRING):
        return False
    return bool(content_words(question))


def keyword_query(question: str) -> str:
    """A search query made from the question's content words, without a model.

    Args:
        question: The user's question.

    Returns:
        The distinct content words in order, or the stripped question when it has none.
    """
    words = list(dict.fromkeys(content_words(question)))
    query = " ".join(words) if words else " ".join(question.split())
    return query[:MAX_QUERY_CHARS]


def clean_query(text: str) -> str:
    """A model's query reply as one short line: no quotes, labels or extra whitespace."""
    text = strip_echoed_markup(text)
    line = next((part for part in text.strip().splitlines() if part.strip()), "")
    line = re.sub(r"^\s*(?:search\s+)?query\s*:\s*", "", line, flags=re.IGNORECASE)
    return " ".join(line.strip().strip("\"'`“”").split())[:MAX_QUERY_CHARS]


def fence_passage(number: int, passage: PassageRecord) -> str:
    """One passage as fenced, escaped data for a prompt.

    ``<``, ``>`` and ``&`` in the text are escaped, so a passage cannot close its fence
    (``</passage>``) or open a tag that looks like ours; quotes are escaped in attributes.
    """
    return PASSAGE_FENCE.format(
        number=number,
        title=html.escape(passage["title"], quote=True),
        source=html.escape(passage["source"], quote=True),
        text=html.escape(passage["text"], quote=False),
    )


def fence_passages(passages: Sequence[PassageRecord]) -> str:
    """Passages numbered from 1, each in its own fence."""
    return "\n\n".join(fence_passage(i, p) for i, p in enumerate(passages, start=1))


def check_citations(answer: str, count: int) -> tuple[str, list[int], list[int]]:
    """Drop citation numbers that match no passage and renumber the rest by first use.

    Args:
        answer: The model's answer with ``[n]`` or ``[n, m]`` markers.
        count: Number of passages the model was given (valid numbers are 1..count).

    Returns:
        The checked answer, the passage numbers cited (in order of first use, so the answer's
        ``[k]`` is passage ``cited[k-1]``), and the invalid numbers that were removed.
    """
    cited: list[int] = []
    invalid: list[int] = []

    def renumber(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        kept: list[int] = []
        for number in numbers:
            if not 1 <= number <= count:
                invalid.append(number)
                continue
            if number not in cited:
                cited.append(number)
            new = cited.index(number) + 1
            if new not in kept:
                kept.append(new)
        if not kept:
            return ""
        space = " " if match.group().startswith((" ", "\t", "\n")) else ""
        return space + "[" + ", ".join(str(n) for n in kept) + "]"

    checked = _CITATION.sub(renumber, answer)
    return checked.strip(), cited, invalid


MIN_SUPPORT = 1.0
"""Share of a question's topic terms a passage (title and text) must contain for an
offline extractive answer; below it the answer is "I don't know". Measured on the
question/document pairs of ``benchmarks/offline_reader.py`` (validation half): at 1.0 no
unanswerable question was answered; lower values answered questions about things the
documents do not contain ("when was the Great Wall built" from a page about pyramids)."""

# Words that say what kind of answer is wanted rather than what it is about.
_TYPE_WORDS = frozenset(
    {
        "tall", "high", "long", "far", "deep", "wide", "big", "heavy", "large", "height",
        "length", "distance", "depth", "width", "weight", "size", "year", "date", "day",
        "time", "person", "people", "name", "called", "many", "number", "old", "does",
        "did", "doe", "happen", "happens", "happened",
    }
)  # fmt: skip

_UNIT = (
    r"(?:m|km|cm|mm|metres?|meters?|feet|foot|ft|miles?|kilometres?|kilometers?|inches|"
    r"yards?|kg|kilograms?|tonnes?|tons?|pounds?|lbs?|storeys?|stories|floors)"
)

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)"
)

# (question pattern, sentence pattern, what the answer is, in words)
_ANSWER_TYPES: list[tuple[re.Pattern[str], re.Pattern[str], str]] = [
    (
        re.compile(
            r"\bhow (?:tall|high|long|far|deep|wide|big|heavy|large)\b|"
            r"\b(?:height|length|distance|depth|width|weight)\b",
            re.IGNORECASE,
        ),
        re.compile(rf"\d[\d,.]*\s*{_UNIT}\b", re.IGNORECASE),
        "a measurement",
    ),
    (
        re.compile(r"\bpopulation\b|\bhow many (?:people|inhabitants|residents)\b", re.I),
        re.compile(r"\d[\d,.]*(?:\s*(?:million|thousand|billion))?"),
        "a number of people",
    ),
    (
        re.compile(r"^\W*when\b|\b(?:what|which|in what) year\b|\bwhat date\b", re.IGNORECASE),
        re.compile(
            rf"\b(?:1\d{{3}}|20\d{{2}})\b|\b\d+\s*(?:BC|BCE|AD|CE)\b|\b{_MONTHS}\b|"
            r"\bcentury\b|\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b",
        ),
        "a date",
    ),
    (
        re.compile(r"\bhow many\b", re.IGNORECASE),
        re.compile(
            r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
            r"twenty|thirty|forty|fifty|hundred|thousand|million)\b",
            re.IGNORECASE,
        ),
        "a number",
    ),
]

_WHO = re.compile(r"^\W*who\b|\bwhich person\b", re.IGNORECASE)

_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")


class _PersonPattern:
    """A sentence naming someone the question does not: a capitalised word that is neither
    a stop word ("The", "In") nor one of the question's own words ("Cape Morrow")."""

    def __init__(self, question: str) -> None:
        self._known = {word.lower() for word in WORD.findall(question)}

    def search(self, sentence: str) -> bool:
        stop = stop_words()
        return any(
            word.lower() not in stop and word.lower() not in self._known
            for word in _CAPITALISED.findall(sentence)
        )


class _SentencePattern(Protocol):
    def search(self, sentence: str, /) -> Any: ...


_HOW_MANY = re.compile(r"\bhow many ([a-z]+)", re.IGNORECASE)

_NUMBER_WORD = (
    r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|hundred|thousand|million|dozen)"
)


def _count_pattern(noun: str) -> re.Pattern[str]:
    """A number at most three words before ``noun`` ("up to twelve books", "100 pyramids")."""
    stem = re.escape(noun.lower()[: max(3, len(noun) - 2)])
    return re.compile(rf"\b{_NUMBER_WORD}\s+(?:[\w-]+\s+){{0,3}}?{stem}", re.IGNORECASE)


_WHICH_THING = re.compile(
    r"^\W*(?:which|what)\s+(?!(?:is|was|are|were|do|does|did|year|date|day|month|height|"
    r"length|distance|depth|width|weight|population|size|time)\b)[a-z]+",
    re.IGNORECASE,
)
""""Which city ...", "what mountain ...": the answer is a thing named, whatever measure the
question goes on to mention ("Which city is the largest by population?" asks for a city)."""


def answer_type(question: str) -> tuple[_SentencePattern, str] | None:
    """The sentence pattern and description of the answer ``question`` asks for, if known."""
    if _WHO.search(question):
        return _PersonPattern(question), "a person"
    how_many = _HOW_MANY.search(question)
    if how_many:
        return _count_pattern(how_many.group(1)), f"a number of {how_many.group(1)}"
    if _WHICH_THING.search(question):
        return None
    for asks, gives, words in _ANSWER_TYPES:
        if asks.search(question):
            return gives, words
    return None


def topic_terms(question: str) -> set[str]:
    """The question's :func:`content_terms` that name what it is about (not the answer kind)."""
    return {term for term in content_terms(question) if term not in _TYPE_WORDS}


ALLOW_MISSING_FROM = 4
"""A question with this many topic terms or more may miss one (often its verb: "created"
where the document says "started"); shorter questions need them all."""


def _stems(text: str) -> set[str]:
    from crossroads.tools.retrievers.base import search_query_tokens

    words = content_words(text)
    # bm25s drops one-character tokens; a lone digit ("Python 3") still tells sentences apart.
    return set(search_query_tokens(" ".join(words))) | {w for w in words if w.isdigit()}


def passage_support(question: str, passage: PassageRecord) -> float:
    """Share of the question's topic terms found (stemmed) in the passage's title and text.

    A term also counts when it starts a longer word of the passage ("climb" in "climber").
    With :data:`ALLOW_MISSING_FROM` terms or more, one missing term still gives 1.0.
    """
    topic = _stems(" ".join(topic_terms(question)))
    if not topic:
        return 0.0
    words = _stems(passage["title"] + " " + passage["text"])
    found = sum(
        1
        for term in topic
        if term in words or (len(term) >= 4 and any(w.startswith(term) for w in words))
    )
    if len(topic) >= ALLOW_MISSING_FROM:
        found = min(len(topic), found + 1)
    return found / len(topic)


TYPED_MIN_SHARE = 0.5
"""A sentence of the asked kind must share this share of the question's terms (rounded
down, at least one). Chosen on the validation pairs of ``benchmarks/offline_reader.py``:
at 0.5 every validation answer was right (12/12); with one shared term it was 12/13."""


def extractive_answer(
    question: str, query: str, passages: Sequence[PassageRecord]
) -> tuple[str, list[int]]:
    """The sentences of ``passages`` that answer the question's type and share its terms.

    When the question asks for a kind of answer (how tall: a measurement; when: a date;
    who: a person; how many: a number), sentences of that kind come first and the others
    are left out; otherwise the sentences sharing the most terms with the question and
    query are given.

    Args:
        question: The user's question.
        query: The search query.
        passages: Kept passages, most relevant first.

    Returns:
        The sentences, each followed by ``[k]``, and the passage numbers (1-based) cited in
        order of first use (so ``[k]`` is passage ``cited[k-1]``); empty when no sentence
        shares a term.
    """
    wanted = _stems(question + " " + query)
    kind = answer_type(question)
    scored: list[tuple[int, int, int, int, int, str]] = []
    for p_index, passage in enumerate(passages, start=1):
        title = _stems(passage["title"])
        for s_index, (headings, sentence) in enumerate(headed_sentences(passage["text"])):
            own = _stems(sentence)
            score = len(wanted & own)
            typed = kind is not None and bool(kind[0].search(sentence))
            # What the sentence is about includes its document's title and the headings it
            # sits under: "Its white stone tower is 32 metres tall" under "# Cape Morrow
            # lighthouse" answers how tall that lighthouse is. It must still share a term of
            # its own ("tall"): the keeper's name there does not say who built it.
            about = len(wanted & (own | title | _stems(headings)))
            if kind is not None and (
                not typed or not score or about < max(1, int(len(wanted) * TYPED_MIN_SHARE))
            ):
                continue  # a typed answer must also be about the question (half its terms)
            if score or typed:
                scored.append((-score, -about, p_index, -int(typed), s_index, sentence))
    # Best first: most shared terms (its own, then with its context), then the passage's rank,
    # then the sentence's order.
    scored.sort(key=lambda item: (item[3], item[0], item[1], item[2], item[4]))
    cited: list[int] = []
    parts: list[str] = []
    limit = EXTRACTIVE_SENTENCES if kind is None else 1
    for _, _, p_index, _, _, sentence in scored[:limit]:
        if len(sentence) > EXTRACTIVE_SENTENCE_CHARS:
            sentence = sentence[:EXTRACTIVE_SENTENCE_CHARS].rstrip() + "…"
        if p_index not in cited:
            cited.append(p_index)
        parts.append(f"{sentence} [{cited.index(p_index) + 1}]")
    return " ".join(parts), cited
