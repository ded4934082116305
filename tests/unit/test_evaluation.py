"""Evaluation metrics, checked by hand on tiny suites, and the suite runner."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossroads.api import Result
from crossroads.errors import InputError
from crossroads.evaluation import (
    SHIPPED_SUITES,
    SuiteRow,
    confusion_matrix,
    describe,
    evaluate_row,
    final_number,
    load_suite,
    numbers_in,
    numeric_match,
    parse_suite,
    percentile,
    resolve_suite,
    run_suite,
    score_answer,
    summarize,
    token_f1,
)
from crossroads.testing import ScriptedChatModel
from crossroads.tools.calculator import evaluate_program

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "benchmarks" / "corpus"


def usage(calls: int, tokens_in: int = 0, tokens_out: int = 0) -> Any:
    return {
        "llm_calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "by_node": {},
    }


# -- routes -----------------------------------------------------------------------------------


def test_confusion_matrix_of_a_four_row_suite() -> None:
    labels, matrix = confusion_matrix(
        ["math", "math", "fact", "none"], ["math", "fact", "fact", "math"]
    )
    assert labels == ["math", "fact", "none"]
    assert matrix == [
        [1, 1, 0],  # math: once right, once sent to fact
        [0, 1, 0],
        [1, 0, 0],  # none sent to math
    ]


def test_confusion_matrix_puts_builtin_routes_first_then_others_sorted() -> None:
    labels, matrix = confusion_matrix(["weather", "math", "-"], ["weather", "fact", "math"])
    assert labels == ["math", "fact", "-", "weather"]
    assert matrix[labels.index("-")][labels.index("math")] == 1


# -- numeric answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        ("36", True),
        ("36.0", True),  # the same value
        ("thirty-six", True),  # decided: number words count (text2num)
        ("The answer is $36.00.", True),
        ("240 * 15 / 100 = 36.", True),  # the number after "=", not 240
        ("240 * 15 / 100 = 37.", False),
        ("36.4", False),  # an integer expected value is matched exactly
        ("It is 360.", False),
        ("I don't know.", False),
    ],
)
def test_numeric_match_against_36(answer: str, correct: bool) -> None:
    assert numeric_match(answer, "36") is correct


def test_decimal_expected_value_sets_the_tolerance() -> None:
    assert numeric_match("100 / 30 = 3.3333333333", "3.33")
    assert not numeric_match("3.34", "3.33")
    assert numeric_match("1,234", "1234") and numeric_match("1234", "1,234")


def test_final_number_and_numbers_in() -> None:
    assert final_number("You have 6 apples left.") == Decimal(6)
    assert final_number("6-4=2") == Decimal(2)
    assert final_number("no numbers here") is None
    assert numbers_in("-5 and 6-4, then 1,500.25") == [
        Decimal(-5),
        Decimal(6),
        Decimal(4),
        Decimal("1500.25"),
    ]


def test_math_rows_are_scored_numerically_and_others_as_text() -> None:
    assert score_answer("12*7 = 84.", ["84"], expected_route="math").kind == "numeric"
    # A year asked as a fact is text: the extractive answer has other numbers in it.
    year = score_answer(
        "It came out in 1991, and Python 3 in 2008.", ["1991"], expected_route="fact"
    )
    assert year.kind == "text" and year.correct
    assert score_answer("84", ["84"]).kind == "numeric"  # no route: a number is numeric


# -- text answers ----------------------------------------------------------------------------


def test_token_f1_by_hand() -> None:
    # Normalised: [cat, sat, on, mat] against [cat, on, hat]: 2 shared, P = 1/2, R = 2/3.
    assert token_f1("The cat sat on the mat.", "a cat on a hat") == pytest.approx(4 / 7)
    # Repeats count once per occurrence in both: 1 shared, P = 1/3, R = 1 → 0.5.
    assert token_f1("go go go", "go") == pytest.approx(0.5)
    assert token_f1("nothing alike", "Canberra") == 0.0
    assert token_f1("", "") == 1.0


def test_text_answers_contained_as_whole_words_or_close_by_f1() -> None:
    assert score_answer("The capital is Canberra [1].", ["Canberra"]).correct
    assert not score_answer("Canberras are birds.", ["Canberra"]).correct
    # Not contained, but F1 = 0.8 (P = 1, R = 2/3): a paraphrase of a short answer.
    close = score_answer("Edmund Hillary", ["Sir Edmund Hillary"], expected_route="fact")
    assert close.correct and close.f1 == pytest.approx(0.8)
    # Any alias will do.
    assert score_answer("It landed on July 20, 1969.", ["20 July 1969", "July 20, 1969"]).correct


# -- cost statistics ---------------------------------------------------------------------------


def test_percentiles_by_hand() -> None:
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    # [1..20]: position 0.95 * 19 = 18.05 → 19 + 0.05 * (20 - 19).
    assert percentile(list(range(1, 21)), 0.95) == pytest.approx(19.05)
    # position 0.95 * 4 = 3.8 → 40 + 0.8 * (1000 - 40) = 808.
    assert percentile([10, 20, 30, 40, 1000], 0.95) == pytest.approx(808)
    assert percentile([7], 0.95) == 7
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_describe() -> None:
    assert describe([0, 1, 2, 3]) == pytest.approx(
        {"total": 6, "mean": 1.5, "p50": 1.5, "p95": 2.85}
    )
    assert describe([]) == {"total": 0.0, "mean": 0.0, "p50": 0.0, "p95": 0.0}


# -- the report -----------------------------------------------------------------------------


def test_summary_of_a_four_row_suite() -> None:
    rows = [
        SuiteRow("12*7", "math", ("84",)),
        SuiteRow("What is 10 minus 4?", "math", ("6",)),
        SuiteRow("capital of Australia", "fact", ("Canberra",)),
        SuiteRow("a haiku about rain", "none"),
    ]
    results = [
        Result("12*7 = 84.", route="math", usage=usage(0)),
        Result("It is 7.", route="fact", usage=usage(1, 100, 10)),
        Result("Canberra [1].", route="fact", usage=usage(2, 300, 20)),
        Result("", route="none", usage=usage(3, 600, 30), error="writing needs a model"),
    ]
    outcomes = [
        evaluate_row(i, row, result, latency)
        for i, (row, result, latency) in enumerate(
            zip(rows, results, [0.1, 0.2, 0.3, 0.4], strict=True)
        )
    ]
    report = summarize(outcomes, suite="tiny.jsonl")

    assert report["suite"] == "tiny.jsonl" and report["rows"] == 4
    assert report["route"]["correct"] == 3 and report["route"]["accuracy"] == 0.75
    assert report["route"]["labels"] == ["math", "fact", "none"]
    assert report["route"]["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert report["answer"]["evaluated"] == 3  # the haiku has no expected answer
    assert report["answer"]["correct"] == 2
    assert report["answer"]["by_kind"]["numeric"] == {
        "evaluated": 2,
        "correct": 1,
        "accuracy": 0.5,
    }
    assert report["answer"]["by_kind"]["text"]["accuracy"] == 1.0
    assert report["cost"]["llm_calls"] == pytest.approx(
        {"total": 6, "mean": 1.5, "p50": 1.5, "p95": 2.85}
    )
    assert report["cost"]["input_tokens"]["total"] == 1000
    assert report["cost"]["latency_s"]["p50"] == pytest.approx(0.25)
    assert report["errors"]["count"] == 1
    assert report["errors"]["items"][0]["question"] == "a haiku about rain"
    json.dumps(report)  # the report is plain JSON


class FlakyApp:
    """Stands in for Crossroads: answers, except that one question raises."""

    def ask(self, question: str) -> Result:
        if "boom" in question:
            raise RuntimeError("provider exploded")
        return Result("2 + 2 = 4.", route="math", usage=usage(1))


def test_run_suite_records_a_failing_request_and_goes_on() -> None:
    rows = [SuiteRow("boom", "math", ("4",)), SuiteRow("2 + 2", "math", ("4",))]
    seen: list[int] = []
    outcomes = run_suite(FlakyApp(), rows, on_row=lambda o: seen.append(o.index))  # type: ignore[arg-type]
    assert seen == [0, 1]
    assert outcomes[0].error == "RuntimeError: provider exploded"
    assert outcomes[0].route_correct is False and outcomes[0].answer_correct is False
    assert outcomes[1].error is None and outcomes[1].answer_correct is True
    assert all(o.latency_s >= 0 for o in outcomes)


def test_run_suite_counts_model_calls_through_the_real_app(make_app: Any) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "arithmetic"}],
            "calculator": ["10 - 4", "You have 6 apples left."],
        }
    )
    app = make_app(model)
    rows = [SuiteRow("I have 10 apples and I ate four. How many are left?", "math", ("6",))]
    (outcome,) = run_suite(app, rows)
    assert outcome.route_correct and outcome.answer_correct
    assert outcome.llm_calls == 3  # router, extract, phrase
    assert outcome.input_tokens > 0 and outcome.output_tokens > 0


# -- suites -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["a list"]', "line 2: a row must be a JSON object"),
        ('{"question": "x", "expected_anwser": "4"}', "unknown key(s) expected_anwser"),
        ('{"question": "  "}', "'question' must be a non-empty string"),
        ('{"question": "x", "expected_route": 3}', "'expected_route' must be"),
        ('{"question": "x", "expected_answer": true}', "'expected_answer' must be"),
        ('{"question": "x", "expected_answer": []}', "'expected_answer' must be"),
    ],
)
def test_malformed_rows_name_their_line(line: str, fragment: str) -> None:
    with pytest.raises(InputError, match=r"suite\.jsonl line") as caught:
        parse_suite(['{"question": "fine"}', line], source="suite.jsonl")
    assert fragment in str(caught.value)


def test_suite_rows_parsed() -> None:
    rows = parse_suite(
        [
            '{"question": " 2+2 ", "expected_route": "math", "expected_answer": 4}',
            "",
            '{"question": "capital?", "expected_answer": ["Canberra", "canberra city"]}',
        ]
    )
    assert rows == [
        SuiteRow("2+2", "math", ("4",)),
        SuiteRow("capital?", None, ("Canberra", "canberra city")),
    ]
    with pytest.raises(InputError, match="has no rows"):
        parse_suite(["", "  "])


def test_missing_suite_names_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="shipped suites: router, calculator, research"):
        resolve_suite(tmp_path / "nope.jsonl")


@pytest.mark.parametrize("name", sorted(SHIPPED_SUITES))
def test_shipped_suites_load(name: str) -> None:
    rows = load_suite(resolve_suite(name))
    assert len(rows) >= 10
    assert all(row.expected_route for row in rows)


def test_shipped_math_rows_expressions_give_the_expected_answers() -> None:
    # The expressions script a perfect model in benchmarks/cost.py: they must be right.
    math_rows = [
        row
        for name in ("router", "calculator")
        for row in load_suite(resolve_suite(name))
        if row.expected_route == "math"
    ]
    assert math_rows
    for row in math_rows:
        assert row.expression is not None, row.question
        value = evaluate_program(row.expression).value
        assert numeric_match(f"= {value}", row.expected_answers[0]), row.question


def test_shipped_research_answers_are_in_the_shipped_corpus() -> None:
    corpus = " ".join(path.read_text(encoding="utf-8") for path in CORPUS.glob("*.md"))
    for row in load_suite(resolve_suite("research")):
        score = score_answer(corpus, row.expected_answers, expected_route=row.expected_route)
        assert score.correct, row.question
