"""ZimRetriever against small .zim files built here with libzim's writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossroads.errors import ConfigurationError
from crossroads.tools.retrievers import ZimRetriever

writer = pytest.importorskip("libzim.writer")

FILLER = "<p>" + "Unrelated sentences about weather and markets keep this page long. " * 30 + "</p>"

ARTICLES = {
    "A/Giza": (
        "Great Pyramid of Giza",
        "<html><head><title>Great Pyramid of Giza</title><style>p{color:red}</style></head>"
        "<body><h1>Great Pyramid of Giza</h1><p>The oldest of the Seven Wonders, built for the "
        f"pharaoh Khufu around 2560 BC.</p>{FILLER}</body></html>",
    ),
    "A/Paris": (
        "Paris",
        "<html><body><p>Paris is the capital of France, on the Seine.</p></body></html>",
    ),
    "A/Curie": (
        "Marie Curie",
        "<html><body><p>Marie Curie won Nobel Prizes in physics and chemistry.</p></body></html>",
    ),
}


class HtmlArticle(writer.Item):  # type: ignore[misc, name-defined]
    def __init__(self, path: str, title: str, html: str) -> None:
        super().__init__()
        self._path, self._title, self._html = path, title, html

    def get_path(self) -> str:
        return self._path

    def get_title(self) -> str:
        return self._title

    def get_mimetype(self) -> str:
        return "text/html"

    def get_contentprovider(self) -> object:
        return writer.StringProvider(self._html)

    def get_hints(self) -> dict[object, int]:
        return {writer.Hint.FRONT_ARTICLE: True}


def make_zim(path: Path, *, fulltext: bool) -> Path:
    with writer.Creator(path).config_indexing(fulltext, "eng").config_verbose(False) as creator:
        creator.set_mainpath("A/Paris")
        for entry_path, (title, html) in ARTICLES.items():
            creator.add_item(HtmlArticle(entry_path, title, html))
        creator.add_redirection(
            "A/Khufu", "Khufu's pyramid", "A/Giza", {writer.Hint.FRONT_ARTICLE: True}
        )
        creator.add_metadata("Title", "Test wiki")
        creator.add_metadata("Language", "eng")
    return path


@pytest.fixture(scope="module")
def indexed_zim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_zim(tmp_path_factory.mktemp("zim") / "wiki.zim", fulltext=True)


@pytest.fixture(scope="module")
def titles_only_zim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_zim(tmp_path_factory.mktemp("zim") / "titles.zim", fulltext=False)


def test_full_text_search_finds_an_article_by_its_body(indexed_zim: Path) -> None:
    retriever = ZimRetriever(indexed_zim)

    passages = retriever.search("pharaoh Khufu", 3)

    assert retriever.has_fulltext_index
    assert passages[0].title == "Great Pyramid of Giza"
    assert passages[0].source == "zim://wiki.zim/A/Giza"
    assert passages[0].backend == "zim"
    assert "built for the pharaoh Khufu" in passages[0].text
    assert "<p>" not in passages[0].text
    assert "color:red" not in passages[0].text


def test_long_articles_are_trimmed_around_the_query(indexed_zim: Path) -> None:
    passage = ZimRetriever(indexed_zim, max_chars=200).search("pharaoh Khufu", 1)[0]

    assert len(passage.text) <= 200
    assert "Khufu" in passage.text


def test_without_a_full_text_index_titles_are_suggested(titles_only_zim: Path) -> None:
    retriever = ZimRetriever(titles_only_zim)

    passages = retriever.search("Marie Curie", 3)

    assert not retriever.has_fulltext_index
    assert passages[0].title == "Marie Curie"
    assert "Nobel Prizes" in passages[0].text


def test_redirects_are_followed_to_the_article(titles_only_zim: Path) -> None:
    passages = ZimRetriever(titles_only_zim).search("Khufu's pyramid", 3)

    assert [p.source for p in passages] == ["zim://titles.zim/A/Giza"]


def test_no_match_gives_an_empty_list(indexed_zim: Path) -> None:
    assert ZimRetriever(indexed_zim).search("xylophone", 3) == []


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"ZIM file not found.*kiwix"):
        ZimRetriever(tmp_path / "absent.zim")


def test_a_file_that_is_not_zim_is_a_configuration_error(tmp_path: Path) -> None:
    fake = tmp_path / "fake.zim"
    fake.write_bytes(b"definitely not a zim archive" * 10)

    with pytest.raises(ConfigurationError, match="cannot be opened as a ZIM file"):
        ZimRetriever(fake)
