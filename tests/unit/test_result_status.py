"""``Result.declined``: offline mode's honest "I can't do this safely" is recognisable, so the
CLI can exit 1 with status ``declined`` instead of presenting the decline as an answer."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from crossroads import Crossroads
from crossroads.api import Result
from crossroads.tools.retrievers import build_index

EXAMPLES = Path(str(resources.files("crossroads") / "data" / "example_corpus"))

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


def test_arithmetic_with_no_value_is_answered_so_by_the_calculator(
    make_app: Callable[..., Crossroads],
) -> None:
    """ "1/0" and "sqrt(-1)" were once sent to the researcher (the router's expression check
    failed on them), or answered as an offline reading failure that exited 0; "no value,
    because ..." is their answer."""
    app = make_app(None, router_threshold=None)
    for question, why in (
        ("1/0", "division by zero"),
        ("sqrt(-1)", "not a real number"),
        ("log(0)", "only defined for positive numbers"),
        ("what is 1 divided by 0", "division by zero"),  # read by the offline reader first
    ):
        result = app.ask(question)
        assert result.route == "math", (question, result.route_reason)
        assert "has no value" in result.answer and why in result.answer, result.answer
        assert not result.declined and result.error is None


def test_a_result_too_large_to_compute_offline_is_declined(
    make_app: Callable[..., Crossroads],
) -> None:
    result = make_app(None, router_threshold=None).ask("10**10**10")
    assert result.declined
    assert result.answer.startswith("10**10**10 cannot be computed here: number too large")
    assert "GOOGLE_API_KEY" not in result.answer  # a model would write the same arithmetic


def test_bare_arithmetic_the_calculator_cannot_hold_goes_to_the_calculator(
    make_app: Callable[..., Crossroads],
) -> None:
    """ "2**99999" failed the router's expression check (too large to evaluate) and went to
    the researcher, which said it had nothing to search."""
    result = make_app(None, router_threshold=None).ask("2**99999")
    assert result.route == "math", result.route_reason
    assert result.declined and "number too large" in result.answer


def test_an_expression_of_constants_is_computed_not_searched(
    make_app: Callable[..., Crossroads],
) -> None:
    """ "sqrt(pi)" has no digit, so the router's expression check let it go to the
    researcher, which searched for "sqrt pi"."""
    app = make_app(None, router_threshold=None)
    for question, value in (("sqrt(pi)", "1.77245385091"), ("pi * e", "8.53973422267")):
        result = app.ask(question)
        assert result.route == "math", (question, result.route_reason)
        assert value in result.answer and not result.declined


def test_a_question_with_a_constant_and_no_digit_stays_with_the_calculator(
    make_app: Callable[..., Crossroads],
) -> None:
    # "pi" is something to compute with: the decline is the calculator's, not "no passage".
    result = make_app(None, router_threshold=None).ask("what is pi times e")
    assert result.route == "math" and "could not read this problem" in result.answer


def test_a_factorial_is_declined_offline_not_read_without_its_mark(
    make_app: Callable[..., Crossroads],
) -> None:
    """The offline reader stripped "!" as punctuation and answered "12! = 12"."""
    app = make_app(None, router_threshold=None)
    for question in ("what is 12!", "what is 5! + 1"):
        result = app.ask(question)
        assert result.declined, (question, result.answer)
        assert "is a factorial" in result.answer and "= 12" not in result.answer


def test_arithmetic_with_no_value_needs_no_model_call(
    make_app: Callable[..., Crossroads],
) -> None:
    from crossroads.testing import ScriptedChatModel

    model = ScriptedChatModel(rules=[])  # any call would fail: nothing is scripted
    result = make_app(model, router_threshold=None).ask("what is 1/0?")
    assert result.answer == "1/0 has no value: division by zero."
    assert model.calls == [] and result.usage["llm_calls"] == 0


@pytest.fixture(scope="module")
def example_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    build_index([EXAMPLES], home / "index", progress=False)
    return home


def test_a_question_the_calculator_hands_on_is_answered_from_the_documents(
    make_app: Callable[..., Crossroads], example_home: Path
) -> None:
    # "How many" made the classifier pick math, but there is nothing to compute with: the
    # classifier's next choice (fact) answers it from the example corpus, and the request
    # is answered, not declined for the calculator's step.
    app = make_app(None, router_threshold=None, home=example_home)
    result = app.ask("How many books can members borrow?")
    routes = [s["detail"]["route"] for s in result.steps if s["action"] == "route"]
    assert routes == ["math", "fact"]
    assert "twelve books" in result.answer
    assert [source["title"] for source in result.sources] == ["town_library.md"]
    assert not result.declined


def test_only_the_last_route_s_steps_decide_declined() -> None:
    route = {"agent": "router", "action": "route", "detail": {}}
    refused = {"agent": "calculator", "action": "offline_read", "detail": {"declined": "no"}}
    answered = {"agent": "researcher", "action": "answer", "detail": {}}
    assert Result(answer="x", steps=[route, refused, route, answered]).declined is False
    assert Result(answer="x", steps=[route, answered, route, refused]).declined is True
    assert Result(answer="x", steps=[refused]).declined is True


@pytest.mark.parametrize(
    "question",
    ["Who painted the Mona Lisa?", "How many days can I keep a book?"],
)
def test_offline_i_don_t_know_is_declined_whether_or_not_a_passage_matched(
    make_app: Callable[..., Crossroads], example_home: Path, question: str
) -> None:
    # Nothing retrieved (Mona Lisa) and a passage that does not say (days) end alike.
    result = make_app(None, router_threshold=None, home=example_home).ask(question)
    assert result.answer.startswith("I don't know") and result.route == "fact"
    assert result.declined
