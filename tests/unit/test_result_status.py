"""``Result.declined``: offline mode's honest "I can't do this safely" is recognisable, so the
CLI can exit 1 with status ``declined`` instead of presenting the decline as an answer."""

from __future__ import annotations

from collections.abc import Callable

from crossroads import Crossroads

GRETCHEN = (
    "Gretchen has 110 coins. There are 30 more gold coins than silver coins. "
    "How many gold coins does Gretchen have?"
)


def test_an_offline_answer_is_not_declined(make_app: Callable[..., Crossroads]) -> None:
    result = make_app(None, router_threshold=None).ask("What is 15% of 240?")
    assert "36" in result.answer
    assert not result.declined


def test_a_word_problem_the_reader_cannot_be_sure_of_is_declined(
    make_app: Callable[..., Crossroads],
) -> None:
    result = make_app(None, router_threshold=None).ask(GRETCHEN)
    assert result.declined
    assert "140" not in result.answer  # the old wrong reading (110 + 30)


def test_offline_writing_is_declined(make_app: Callable[..., Crossroads]) -> None:
    assert make_app(None, router_threshold=None).ask("write a haiku about rain").declined


def test_arithmetic_follow_up_after_a_fact_goes_back_to_the_last_number(
    make_app: Callable[..., Crossroads],
) -> None:
    # The chat-UI browser test's conversation: math, then a fact, then "and divided by 4?".
    app = make_app(None, router_threshold=None)
    assert "36" in app.ask("What is 15% of 240?", thread_id="t").answer
    app.ask("Who built the harbour lighthouse?", thread_id="t")
    follow_up = app.ask("and divided by 4?", thread_id="t")
    assert follow_up.route == "math"
    assert "9" in follow_up.answer
