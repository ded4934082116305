"""trim_to_relevant: the term-overlap trimming shared by the retrievers (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossroads.tools.retrievers import trim_to_relevant
from crossroads.tools.retrievers.base import TRIM_GAP_MARKER, query_terms

ARTICLE = "\n\n".join(
    [
        "The Egyptian pyramids are ancient masonry structures located in Egypt.",
        "Tourism brings many visitors to Cairo every year, and hotels are busy.",
        "The Great Pyramid of Giza was built for the pharaoh Khufu.",
        "Modern Cairo has a metro system and a large airport.",
        "Limestone for the pyramids was quarried near the Nile.",
    ]
)


def test_short_text_is_returned_whole() -> None:
    assert trim_to_relevant("  A short text.  ", "anything", 100) == "A short text."


def test_keeps_the_sentences_sharing_terms_with_the_query_in_their_order() -> None:
    trimmed = trim_to_relevant(ARTICLE, "pyramids Khufu limestone", 200)

    assert len(trimmed) <= 200
    assert "Khufu" in trimmed
    assert "Limestone" in trimmed
    assert "Cairo" not in trimmed
    assert trimmed.index("Khufu") < trimmed.index("Limestone")
    assert TRIM_GAP_MARKER in trimmed


def test_without_any_shared_term_the_beginning_is_kept() -> None:
    trimmed = trim_to_relevant(ARTICLE, "volcano", 60)

    assert trimmed == ARTICLE[:60].rstrip()


def test_among_equally_relevant_pieces_the_earlier_ones_win() -> None:
    trimmed = trim_to_relevant(ARTICLE, "Cairo", 80)

    assert trimmed.startswith("Tourism brings")
    assert "metro" not in trimmed


def test_a_relevant_piece_longer_than_the_limit_is_cut() -> None:
    text = "Khufu " + "word " * 200 + "\n\nOther."

    trimmed = trim_to_relevant(text, "Khufu", 50)

    assert trimmed.startswith("Khufu")
    assert len(trimmed) <= 50


def test_non_positive_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        trim_to_relevant(ARTICLE, "Khufu", 0)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(min_size=0, max_size=2000),
    query=st.text(max_size=40),
    max_chars=st.integers(min_value=1, max_value=600),
)
def test_result_never_exceeds_the_limit(text: str, query: str, max_chars: int) -> None:
    assert len(trim_to_relevant(text, query, max_chars)) <= max_chars


def test_query_terms_drop_stop_words_and_case() -> None:
    assert query_terms("The Pyramids of EGYPT") == {"pyramids", "egypt"}
