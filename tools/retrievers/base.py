"""What every retriever shares: the passage type, the protocol, the errors and text trimming.

A retriever is anything with a ``name`` and a ``search(query, k)`` that returns at most ``k``
:class:`Passage` objects, best first. Backends (Wikipedia, Tavily, a local index, a ZIM file)
translate their library's failures into the typed errors below, so callers such as
:class:`~crossroads.tools.retrievers.multi.MultiRetriever` can tell a transient failure (retry it)
from a permanent one (report it and move on) without knowing any backend's exceptions::

    RetrievalError                   crossroads.errors: permanent (bad key, bad answer, no index)
    ├── RetrievalTimeout             crossroads.errors: no answer within the timeout
    ├── BackendUnavailable           connection refused, 5xx: worth one more try
    └── RateLimited                  HTTP 429; carries ``retry_after`` seconds when the server says

:func:`trim_to_relevant` keeps the parts of a long text that share the most terms with the query,
so a cheap grader (or the answer prompt) does not have to read a whole Wikipedia article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any, Protocol, runtime_checkable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from crossroads.errors import RetrievalError, RetrievalTimeout

__all__ = [
    "BackendUnavailable",
    "Passage",
    "RateLimited",
    "RetrievalError",
    "RetrievalTimeout",
    "Retriever",
    "join_hyphens",
    "query_terms",
    "search_query_tokens",
    "search_tokens",
    "trim_to_relevant",
]

# trim_to_relevant scores sentences one by one; a sentence longer than this is cut further.
_TRIM_UNIT_CHARS = 300
# A sentence ends at . ! or ? followed by white space, or at a line break. Abbreviations
# ("Dr. Who") split too early, which only makes the scored pieces a little smaller.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")
# Where to cut a sentence that is still too long, strongest boundary first.
_LONG_SENTENCE_SEPARATORS = ["; ", ", ", " ", ""]
# Put between kept pieces that were not adjacent in the original text.
TRIM_GAP_MARKER = " … "


@dataclass(frozen=True)
class Passage:
    """One piece of retrieved text.

    Attributes:
        title: Title of the page, article or file the text comes from.
        text: The text itself, already trimmed to a reasonable length.
        source: Where it comes from: a URL, or a file path plus chunk position.
        score: Backend-specific relevance; comparable only within one backend's results.
        backend: Name of the retriever that produced it (``"wikipedia"``, ``"local"``, ...).
    """

    title: str
    text: str
    source: str
    score: float
    backend: str


@runtime_checkable
class Retriever(Protocol):
    """A search backend: ``search`` returns at most ``k`` passages, best first.

    Implementations raise :class:`RetrievalError` (or a subclass) for every failure they can
    foresee, and return an empty list when the search worked but found nothing.
    """

    name: str

    def search(self, query: str, k: int) -> list[Passage]:
        """Search for ``query`` and return at most ``k`` passages, best first."""
        ...


class BackendUnavailable(RetrievalError):
    """The backend could not be reached or failed on its side (connection error, HTTP 5xx).

    Transient by nature, so :class:`MultiRetriever` retries it.
    """


class RateLimited(RetrievalError):
    """The backend refused the request because of a rate or usage limit (HTTP 429).

    Attributes:
        retry_after: Seconds the server asked us to wait, or ``None`` when it did not say.
    """

    def __init__(self, message: str, *, backend: str = "", retry_after: float | None = None):
        super().__init__(message, backend=backend)
        self.retry_after = retry_after


_HYPHENATED = re.compile(r"\b[^\W\d_]+(?:[-‐‑][^\W\d_]+)+\b")


def join_hyphens(text: str) -> str:
    """Write each hyphenated word also joined: "Wi-Fi" becomes "WiFi Wi Fi".

    Applied to both documents and queries, so "wifi", "wi-fi" and "Wi Fi" find each other.
    """
    return _HYPHENATED.sub(
        lambda m: f"{re.sub(r'[-‐‑]', '', m.group())} {re.sub(r'[-‐‑]', ' ', m.group())}", text
    )


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: the stemmer bm25s supports (Snowball English)

    return Stemmer.Stemmer("english")


def search_tokens(texts: list[str]) -> Any:
    """bm25s tokens for the local index and its queries: case-folded, hyphens joined
    (:func:`join_hyphens`), English stop words removed, Snowball-stemmed ("pyramids" and
    "pyramid" are one term).

    Returns:
        bm25s ``Tokenized`` (ids and vocabulary), as :meth:`bm25s.BM25.index` takes.
    """
    import bm25s  # here, not at import time: it pulls in SciPy (see retrievers/__init__)

    return bm25s.tokenize(
        [join_hyphens(text) for text in texts],
        stopwords="en",
        stemmer=_stemmer(),
        show_progress=False,
    )


def search_query_tokens(query: str) -> list[str]:
    """The query's terms, tokenised as :func:`search_tokens` tokenises documents."""
    import bm25s  # here, not at import time: it pulls in SciPy (see retrievers/__init__)

    tokens = bm25s.tokenize(
        join_hyphens(query),
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )
    return list(tokens[0]) if tokens else []


def query_terms(text: str) -> set[str]:
    """Lower-cased content words of ``text`` (English stop words removed), as bm25s tokenizes.

    Args:
        text: Any text.

    Returns:
        The distinct terms, possibly empty.
    """
    import bm25s  # here, not at import time: it pulls in SciPy (see retrievers/__init__)

    tokens = bm25s.tokenize(text, stopwords="en", return_ids=False, show_progress=False)
    return set(tokens[0]) if tokens else set()


@lru_cache(maxsize=8)
def _long_sentence_splitter(unit_chars: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=unit_chars,
        chunk_overlap=0,
        separators=_LONG_SENTENCE_SEPARATORS,
        keep_separator="end",
    )


def _sentences(text: str, unit_chars: int) -> list[str]:
    """Sentences of ``text``, each at most ``unit_chars`` long (longer ones are cut)."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if len(sentence) <= unit_chars:
            pieces.append(sentence)
        else:
            pieces.extend(
                p.strip() for p in _long_sentence_splitter(unit_chars).split_text(sentence)
            )
    return [p for p in pieces if p]


def trim_to_relevant(text: str, query: str, max_chars: int) -> str:
    """Keep the parts of ``text`` that share the most terms with ``query``, within ``max_chars``.

    The text is cut into sentences (long ones into smaller pieces); each piece scores the number of distinct query
    terms it contains. The best pieces are kept (ties go to the earlier piece, because the lead
    of an article usually says the most) and put back in their original order, with
    :data:`TRIM_GAP_MARKER` where something was left out. When no piece shares a term with the
    query, the beginning of the text is returned.

    Args:
        text: The text to shorten.
        query: The search query the text should be relevant to.
        max_chars: Upper bound on the length of the result (must be positive).

    Returns:
        ``text`` itself (stripped) when it is short enough, else an excerpt of at most
        ``max_chars`` characters.

    Raises:
        ValueError: If ``max_chars`` is not positive.
    """
    if max_chars <= 0:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    text = text.strip()
    if len(text) <= max_chars:
        return text
    units = _sentences(text, min(_TRIM_UNIT_CHARS, max_chars))
    wanted = query_terms(query)
    overlaps = [len(wanted & query_terms(unit)) for unit in units]
    if not any(overlaps):
        return text[:max_chars].rstrip()

    ranked = sorted(range(len(units)), key=lambda i: (-overlaps[i], i))
    kept: list[int] = []
    used = 0
    for i in ranked:
        if overlaps[i] == 0:
            break
        cost = len(units[i]) + len(TRIM_GAP_MARKER)
        if used + cost > max_chars:
            continue
        kept.append(i)
        used += cost
    if not kept:
        # Even the best piece is longer than max_chars: cut it rather than return nothing.
        return units[ranked[0]][:max_chars].rstrip()

    kept.sort()
    pieces = [units[kept[0]]]
    for previous, current in pairwise(kept):
        pieces.append((" " if current == previous + 1 else TRIM_GAP_MARKER) + units[current])
    return "".join(pieces)
