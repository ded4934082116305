"""Offline Wikipedia (or any Kiwix library) from a ``.zim`` file, read with ``libzim``.

Kiwix publishes whole wikis as single ZIM files, most with a built-in Xapian full-text index.
:class:`ZimRetriever` uses that index (``libzim.search.Searcher``) when the file has one, and
falls back to the title index (``libzim.suggestion.SuggestionSearcher``) when it does not.
Articles are HTML; BeautifulSoup turns them into text, which is then trimmed to the parts that
share the most terms with the query.

``libzim`` is an optional dependency (``pip install 'crossroads[zim]'``); it is imported when a
retriever is created, so the rest of Crossroads works without it.

Usage::

    retriever = ZimRetriever(Path("wikipedia_en_all_nopic.zim"))
    passages = retriever.search("Egyptian pyramids", k=3)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

from crossroads.errors import ConfigurationError
from crossroads.tools.retrievers.base import Passage, RetrievalError, trim_to_relevant

__all__ = ["ZimRetriever"]

BACKEND_NAME = "zim"

ERROR_NO_LIBZIM = "Reading .zim files needs libzim: pip install 'crossroads[zim]'."
ERROR_NO_FILE = "ZIM file not found: {path}. Download one from https://library.kiwix.org."
ERROR_NOT_ZIM = "{path} cannot be opened as a ZIM file: {detail}"
ERROR_SEARCH = "Searching {path} failed: {detail}"

# Tags whose text is not part of the article's prose.
_NON_PROSE_TAGS = ["script", "style", "noscript", "template", "nav", "footer", "sup"]


class ZimRetriever:
    """Full-text search over a Kiwix ``.zim`` file.

    Args:
        path: The ``.zim`` file.
        max_chars: Length limit of each passage's text.

    Raises:
        ConfigurationError: If libzim is not installed, the file is missing or is not a ZIM file.
    """

    name = BACKEND_NAME

    def __init__(self, path: Path, *, max_chars: int = 1500) -> None:
        try:
            from libzim.reader import Archive
        except ImportError as exc:
            raise ConfigurationError(ERROR_NO_LIBZIM) from exc
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise ConfigurationError(ERROR_NO_FILE.format(path=self.path))
        try:
            self._archive = Archive(self.path)
        except RuntimeError as exc:
            raise ConfigurationError(ERROR_NOT_ZIM.format(path=self.path, detail=exc)) from exc
        self.max_chars = max_chars
        self.has_fulltext_index = bool(self._archive.has_fulltext_index)
        # libzim's searchers are cheap to create but not documented as thread-safe; one search
        # at a time per retriever keeps it simple (searches take milliseconds).
        self._lock = threading.Lock()

    def search(self, query: str, k: int) -> list[Passage]:
        """Find up to ``k`` articles for ``query``.

        Args:
            query: Search words.
            k: Maximum number of passages.

        Returns:
            Passages in the index's ranking order (``score`` is ``1 / (1 + rank)``); ``source`` is
            ``zim://<file name>/<article path>``.

        Raises:
            RetrievalError: If libzim fails while searching or reading an article.
        """
        if k <= 0 or not query.strip():
            return []
        try:
            with self._lock:
                entry_paths = self._matching_paths(query, k)
                articles = [self._article(p) for p in entry_paths]
        except RuntimeError as exc:
            raise RetrievalError(
                ERROR_SEARCH.format(path=self.path, detail=exc), backend=BACKEND_NAME
            ) from exc
        passages: list[Passage] = []
        for title, entry_path, text in (a for a in articles if a is not None):
            trimmed = trim_to_relevant(text, query, self.max_chars)
            if not trimmed:
                continue
            passages.append(
                Passage(
                    title=title,
                    text=trimmed,
                    source=f"zim://{self.path.name}/{entry_path}",
                    score=1.0 / (1 + len(passages)),
                    backend=BACKEND_NAME,
                )
            )
        return passages

    def _matching_paths(self, query: str, k: int) -> list[str]:
        if self.has_fulltext_index:
            from libzim.search import Query, Searcher

            found: Any = Searcher(self._archive).search(Query().set_query(query))
        else:
            from libzim.suggestion import SuggestionSearcher

            found = SuggestionSearcher(self._archive).suggest(query)
        paths: list[str] = list(found.getResults(0, k))
        return paths

    def _article(self, entry_path: str) -> tuple[str, str, str] | None:
        """``(title, path, plain text)`` of an HTML article, following a redirect once."""
        entry = self._archive.get_entry_by_path(entry_path)
        if entry.is_redirect:
            entry = entry.get_redirect_entry()
        item = entry.get_item()
        if not item.mimetype.startswith("text/html"):
            return None
        soup = BeautifulSoup(bytes(item.content), "html.parser")
        for tag in soup(_NON_PROSE_TAGS):
            tag.decompose()
        body = soup.body or soup
        return entry.title, entry.path, body.get_text(separator=" ", strip=True)
