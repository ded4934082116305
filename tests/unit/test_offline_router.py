"""Tests for the offline (no-LLM) router classifier and its confidence threshold."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import cast

import pytest

from crossroads.errors import ConfigurationError, InputError
from crossroads.tools.offline_router import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    ROUTES,
    OfflineRouter,
    Route,
    RouteGuess,
    RouterExample,
    coverage_at,
    cross_validated_guesses,
    heldout_examples,
    read_examples,
    threshold_from_guesses,
    train_examples,
    tune_threshold,
)


@pytest.fixture(scope="module")
def router() -> OfflineRouter:
    return OfflineRouter.load()


def _guess(route: Route, confidence: float) -> RouteGuess:
    others = [r for r in ROUTES if r != route]
    rest = (1.0 - confidence) / len(others)
    scores = {r: (confidence if r == route else rest) for r in ROUTES}
    return RouteGuess(route=route, confidence=confidence, scores=scores)


# --- packaged data -------------------------------------------------------------------


def test_packaged_examples_have_enough_rows_per_class_and_a_separate_heldout_split() -> None:
    rows = read_examples()
    per_label = Counter(row.label for row in rows)
    assert all(per_label[route] >= 300 for route in ROUTES), per_label
    heldout_share = sum(row.split == "heldout" for row in rows) / len(rows)
    assert 0.15 <= heldout_share <= 0.30
    train_texts = {" ".join(r.text.lower().split()) for r in train_examples()}
    heldout_texts = {" ".join(r.text.lower().split()) for r in heldout_examples()}
    assert not train_texts & heldout_texts


# --- accuracy and behaviour ------------------------------------------------------------


def test_heldout_accuracy_is_at_least_95_percent(router: OfflineRouter) -> None:
    report = router.evaluate(heldout_examples())
    assert report["accuracy"] >= 0.95, report["errors"]


@pytest.mark.parametrize(
    ("question", "route"),
    [
        ("I have 10 apples and I ate four. How many do I have left?", "math"),
        ("what is 15% of 240?", "math"),
        ("12*7", "math"),
        ("and divided by 4?", "math"),
        ("capital of australia", "fact"),
        ("gee, I'm wondering whether they make those pyramids in like Egypt", "fact"),
        ("when did ww2 end", "fact"),
        ("how tall is the eiffel tower", "fact"),
        ("write a haiku about rain", "none"),
        ("plan my week", "none"),
        ("tell me a story about a dragon named Ada", "none"),
    ],
)
def test_clear_examples_route_correctly_and_confidently(
    router: OfflineRouter, question: str, route: str
) -> None:
    guess = router.predict(question)
    assert guess.route == route
    assert guess.confidence >= DEFAULT_CONFIDENCE_THRESHOLD


def test_scores_are_probabilities_in_route_order(router: OfflineRouter) -> None:
    guess = router.predict("who painted the mona lisa")
    assert list(guess.scores) == list(ROUTES)
    assert math.isclose(sum(guess.scores.values()), 1.0, abs_tol=1e-9)
    assert guess.confidence == max(guess.scores.values()) == guess.scores[guess.route]


def test_two_independent_fits_predict_identically() -> None:
    questions = [row.text for row in heldout_examples()]
    first = OfflineRouter.fit(train_examples()).predict_many(questions)
    second = OfflineRouter.fit(train_examples()).predict_many(questions)
    assert first == second


def test_load_is_cached_per_process(router: OfflineRouter) -> None:
    assert OfflineRouter.load() is router


def test_load_retrains_when_the_examples_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = [
        {"text": "2 + 2", "label": "math"},
        {"text": "who wrote hamlet", "label": "fact"},
        {"text": "write a poem", "label": "none"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    first = OfflineRouter.load(path)
    path.write_text("\n".join(json.dumps(r) for r in [*rows, rows[0]]) + "\n", encoding="utf-8")
    assert OfflineRouter.load(path) is not first


def test_predict_many_matches_predict(router: OfflineRouter) -> None:
    questions = ["3 * 3", "where is peru", "hi!"]
    assert router.predict_many(questions) == [router.predict(q) for q in questions]


@pytest.mark.parametrize("bad", ["", "   \n", None, 42])
def test_predict_rejects_blank_or_non_text(router: OfflineRouter, bad: object) -> None:
    with pytest.raises(InputError):
        router.predict(cast(str, bad))


# --- evaluate --------------------------------------------------------------------------


def test_evaluate_counts_a_wrong_label_in_the_right_confusion_cell(router: OfflineRouter) -> None:
    rows = [
        RouterExample("12*7", "math"),
        RouterExample("capital of australia", "fact"),
        RouterExample("write a haiku about rain", "none"),
        RouterExample("what is 2 + 2", "none"),  # deliberately mislabelled: predicted math
    ]
    report = router.evaluate(rows)
    assert report["labels"] == ["math", "fact", "none"]
    assert report["confusion"] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert report["accuracy"] == 0.75
    assert report["n"] == 4
    assert [e["text"] for e in report["errors"]] == ["what is 2 + 2"]


def test_evaluate_rejects_no_rows(router: OfflineRouter) -> None:
    with pytest.raises(InputError):
        router.evaluate([])


# --- threshold -------------------------------------------------------------------------


def test_threshold_is_lowest_confidence_that_meets_the_target() -> None:
    math_row, fact_row = RouterExample("x", "math"), RouterExample("y", "fact")
    guesses = [
        (math_row, _guess("math", 0.95)),
        (math_row, _guess("math", 0.90)),
        (fact_row, _guess("math", 0.80)),  # wrong: accepting it drops accuracy to 2/3
        (math_row, _guess("math", 0.70)),
        (math_row, _guess("math", 0.60)),
        (math_row, _guess("math", 0.50)),  # 5/6 correct down to here
    ]
    assert threshold_from_guesses(guesses, min_accuracy=1.0) == 0.90
    # Not monotonic: 0.80 fails 0.8 (2/3) but 0.50 passes it (5/6), and covers more.
    assert threshold_from_guesses(guesses, min_accuracy=0.8) == 0.50


def test_threshold_treats_equal_confidences_as_one_step() -> None:
    row_ok, row_bad = RouterExample("x", "math"), RouterExample("y", "fact")
    # The right 0.7 row sorts before the wrong one, so a per-row scan would stop between them.
    guesses = [
        (row_ok, _guess("math", 0.9)),
        (row_ok, _guess("math", 0.7)),
        (row_bad, _guess("math", 0.7)),
    ]
    # Accepting at 0.7 takes both 0.7 rows at once (2/3 correct), never just the right one.
    assert threshold_from_guesses(guesses, min_accuracy=0.9) == 0.9


def test_threshold_is_infinite_when_the_target_is_unreachable() -> None:
    guesses = [(RouterExample("x", "fact"), _guess("math", 0.99))]
    assert threshold_from_guesses(guesses, min_accuracy=0.5) == math.inf


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_threshold_rejects_impossible_accuracy_targets(bad: float) -> None:
    with pytest.raises(InputError):
        threshold_from_guesses([(RouterExample("x", "math"), _guess("math", 0.9))], bad)


@pytest.mark.slow  # five fits
def test_shipped_threshold_rederives_from_out_of_fold_train_predictions() -> None:
    derived = threshold_from_guesses(cross_validated_guesses(train_examples()), 0.99)
    assert abs(derived - DEFAULT_CONFIDENCE_THRESHOLD) <= 0.05


def test_shipped_threshold_holds_on_heldout(router: OfflineRouter) -> None:
    rows = heldout_examples()
    guesses = list(zip(rows, router.predict_many([r.text for r in rows]), strict=True))
    result = coverage_at(guesses, DEFAULT_CONFIDENCE_THRESHOLD)
    assert result.accuracy >= 0.985
    assert result.coverage >= 0.90


def test_tune_threshold_meets_its_target_on_the_rows_it_saw(router: OfflineRouter) -> None:
    rows = heldout_examples()
    threshold = tune_threshold(router, rows, min_accuracy=0.99)
    guesses = list(zip(rows, router.predict_many([r.text for r in rows]), strict=True))
    assert coverage_at(guesses, threshold).accuracy >= 0.99
    assert coverage_at(guesses, threshold).coverage > 0.5


# --- bad examples files ----------------------------------------------------------------


def test_missing_examples_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        OfflineRouter.load(tmp_path / "nope.jsonl")


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        '{"text": "hi", "label": "chat"}',
        '{"text": "", "label": "none"}',
        '{"text": "hi", "label": "none", "split": "test"}',
        '["hi", "none"]',
    ],
)
def test_malformed_row_names_its_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "2+2", "label": "math"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="line 2"):
        read_examples(path)


def test_training_rows_must_cover_every_route(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"text": "2+2", "label": "math"}\n{"text": "who", "label": "fact"}\n'
        '{"text": "write", "label": "none", "split": "heldout"}\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="none"):
        OfflineRouter.load(path)
