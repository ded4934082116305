"""The model-free text utilities the agents and the evaluation share (``tools/text.py``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crossroads.tools.text import (
    content_terms,
    content_words,
    headed_sentences,
    split_sentences,
    stated_numbers,
)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("It costs $1,234.50 today.", ["1234.50"]),
        ("6-4 is 2.", ["6", "4", "2"]),  # a minus glued to a number before it is an operator
        ("The result is −5.", ["-5"]),  # typographic minus
        ("about .5 of it", ["0.5"]),
        ("1.5e3 metres", ["1500"]),
        ("It was 36.", ["36"]),
        ("room101 and v2", []),  # numbers glued to words are not stated numbers
    ],
)
def test_stated_numbers(text: str, numbers: list[str]) -> None:
    assert stated_numbers(text) == [Decimal(n) for n in numbers]


def test_the_calculator_and_the_evaluation_read_numbers_the_same_way() -> None:
    from crossroads.agents.calculator import states_result
    from crossroads.evaluation import numbers_in

    sentence = "The total is 1,234.5 (about −2 per day)."
    assert numbers_in(sentence) == stated_numbers(sentence)
    assert states_result(sentence, 1234.5)
    assert states_result(sentence, -2)
    assert not states_result(sentence, 1234)


def test_content_words_drop_stop_words_filler_and_clitics() -> None:
    assert content_words("Gee, I'm wondering about Egypt's pyramids, don't you know?") == [
        "egypt",
        "pyramids",
    ]
    assert content_terms("pyramids and cities") == {"pyramid", "city"}


def test_the_router_matches_examples_by_the_same_content_words() -> None:
    from crossroads.agents.router import _content_words

    assert _content_words("please convert 26.2 miles to km") == {"convert", "miles", "km"}


def test_one_sentence_splitter_joins_wrapped_lines_and_drops_headings() -> None:
    text = "# Pyramids\nThe Great Pyramid is\nthe oldest. It is tall!\n- a list item\n"
    assert split_sentences(text) == [
        "The Great Pyramid is the oldest.",
        "It is tall!",
        "- a list item",
    ]


def test_each_sentence_knows_the_headings_it_sits_under() -> None:
    text = (
        "# Everest\nIt is high.\n## First ascent\nThey climbed it in 1953.\n"
        "## Height\nIt is 8,849 m.\n= Elsewhere =\nK2 is lower."
    )
    assert headed_sentences(text) == [
        ("# Everest", "It is high."),
        ("# Everest ## First ascent", "They climbed it in 1953."),
        ("# Everest ## Height", "It is 8,849 m."),  # a heading replaces its own level
        ("= Elsewhere =", "K2 is lower."),  # wiki headings too, by level
    ]
