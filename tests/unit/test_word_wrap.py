"""Streamed chat text breaks between words, never inside one (``crossroads.terminal.WordWrap``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crossroads.terminal import WordWrap

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "the",
    "lazy",
    "dog",
    "again",
    "and",
    "again",
]


def stream(text: str, width: int, pieces: int, column: int = 0) -> str:
    wrap = WordWrap(width, column=column)
    step = max(1, len(text) // pieces)
    chunks = [text[i : i + step] for i in range(0, len(text), step)]
    return "".join(wrap.feed(chunk) for chunk in chunks) + wrap.close()


def test_a_word_that_does_not_fit_starts_the_next_line() -> None:
    assert stream("aaa bbb ccc", width=10, pieces=11) == "aaa bbb\nccc"


def test_the_badge_counts_against_the_first_line() -> None:
    assert stream("aaa bbb", width=10, pieces=3, column=5) == "aaa\nbbb"


def test_newlines_in_the_text_are_kept_and_reset_the_column() -> None:
    assert stream("aaaa bbbb\ncc dd ee", width=10, pieces=4) == "aaaa bbbb\ncc dd ee"


def test_a_word_longer_than_a_line_is_broken() -> None:
    assert stream("x" * 25, width=10, pieces=5) == "x" * 10 + "\n" + "x" * 10 + "\n" + "x" * 5


@given(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=60),
    st.integers(min_value=10, max_value=80),
    st.integers(min_value=1, max_value=40),
)
def test_no_word_is_split_and_no_line_overflows(words: list[str], width: int, pieces: int) -> None:
    text = " ".join(words)
    shown = stream(text, width, pieces)
    assert shown.split() == words  # every word whole, in order
    assert all(len(line) <= width for line in shown.split("\n"))
