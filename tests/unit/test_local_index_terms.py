"""The local index's terms: case, hyphens and word endings do not hide a document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossroads.tools.retrievers import LocalIndex, RetrievalError, build_index
from crossroads.tools.retrievers.base import join_hyphens, search_query_tokens


@pytest.fixture
def index(tmp_path: Path) -> LocalIndex:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "library.md").write_text(
        "# Library\n\nThe reading room has free Wi-Fi and forty desks.\n", encoding="utf-8"
    )
    (docs / "giza.md").write_text(
        "# Giza\n\nThe pyramids of Giza were built as tombs for the pharaohs.\n",
        encoding="utf-8",
    )
    (docs / "harbour.md").write_text(
        "# Harbour\n\nBoats leave the harbour every morning at dawn.\n", encoding="utf-8"
    )
    build_index([docs], tmp_path / "index", progress=False)
    return LocalIndex(tmp_path / "index")


@pytest.mark.parametrize(
    ("query", "file"),
    [
        ("wifi", "library.md"),
        ("WIFI in the reading room", "library.md"),
        ("wi-fi", "library.md"),
        ("pyramid", "giza.md"),
        ("Pyramid tomb", "giza.md"),
        ("boat leaving", "harbour.md"),
    ],
)
def test_case_hyphens_and_endings_find_the_document(
    index: LocalIndex, query: str, file: str
) -> None:
    passages = index.search(query, k=3)
    assert passages, query
    assert passages[0].source.split("#")[0].endswith(file)


def test_a_word_no_document_has_finds_nothing(index: LocalIndex) -> None:
    assert index.search("xylophone", k=3) == []


def test_join_hyphens_keeps_the_parts_and_adds_the_joined_word() -> None:
    assert join_hyphens("free Wi-Fi here") == "free WiFi Wi Fi here"
    assert join_hyphens("2-3 apples") == "2-3 apples"  # numbers are not words


def test_query_terms_are_stemmed() -> None:
    assert search_query_tokens("pyramids") == search_query_tokens("pyramid")


def test_an_index_from_the_older_unstemmed_format_asks_for_a_rebuild(
    index: LocalIndex, tmp_path: Path
) -> None:
    manifest = tmp_path / "index" / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["version"] = 1
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RetrievalError, match="crossroads index"):
        LocalIndex(tmp_path / "index").search("wifi", k=3)
