"""Tests for the offline (no-LLM) router classifier and its confidence threshold."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from crossroads.errors import ConfigurationError, InputError
from crossroads.tools.offline_router import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    ROUTES,
    OfflineRouter,
    Route,
    RouteGuess,
    RouterExample,
    char_ngrams,
    coverage_at,
    heldout_examples,
    read_examples,
    rows_digest,
    threshold_from_guesses,
    train_examples,
    tune_threshold,
    validation_examples,
    word_ngrams,
)
from crossroads.tools.router_training import (
    choose_threshold,
    class_precision,
    export_arrays,
    fit_pipeline,
    fit_router,
)

WEIGHTS = Path(__file__).resolve().parents[2] / "crossroads" / "data" / "router_weights.npz"


@pytest.fixture(scope="module")
def router() -> OfflineRouter:
    return OfflineRouter.load()


def _guess(route: Route, confidence: float) -> RouteGuess:
    others = [r for r in ROUTES if r != route]
    rest = (1.0 - confidence) / len(others)
    scores = {r: (confidence if r == route else rest) for r in ROUTES}
    return RouteGuess(route=route, confidence=confidence, scores=scores)


# --- packaged data -------------------------------------------------------------------


def test_packaged_examples_have_three_disjoint_splits_with_real_rows() -> None:
    rows = read_examples()
    per_label = Counter(row.label for row in rows if row.split == "train")
    assert all(per_label[route] >= 300 for route in ROUTES), per_label
    heldout_share = sum(row.split == "heldout" for row in rows) / len(rows)
    assert 0.15 <= heldout_share <= 0.30
    texts = {
        split: {" ".join(r.text.lower().split()) for r in rows if r.split == split}
        for split in ("train", "validation", "heldout")
    }
    assert not texts["train"] & texts["heldout"]
    assert not texts["train"] & texts["validation"]
    assert not texts["validation"] & texts["heldout"]
    sources = Counter((r.source, r.split) for r in rows)
    for source in ("gsm8k", "nq_open", "written"):
        assert sources[(source, "heldout")] >= 30, sources


# --- accuracy and behaviour ------------------------------------------------------------


def test_real_heldout_accuracy_meets_the_issue_targets(router: OfflineRouter) -> None:
    rows = [r for r in heldout_examples() if r.source in ("gsm8k", "nq_open", "written")]
    report = router.evaluate(rows)
    assert report["accuracy"] >= 0.97, report["errors"]
    for i, route in enumerate(ROUTES):
        assert report["confusion"][i][i] / sum(report["confusion"][i]) >= 0.95, route


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


SMALL_ROWS = [
    RouterExample("what is 12 times 7", "math"),
    RouterExample("Tom has 5 apples and buys 3 more. How many apples now?", "math"),
    RouterExample("15% of 240", "math"),
    RouterExample("who wrote hamlet", "fact"),
    RouterExample("when did the berlin wall fall", "fact"),
    RouterExample("capital of peru", "fact"),
    RouterExample("write a poem about rain", "none"),
    RouterExample("hello there", "none"),
    RouterExample("draft an email to my boss", "none"),
]


def test_numpy_prediction_matches_scikit_learn_on_the_same_weights() -> None:
    pipeline = fit_pipeline(SMALL_ROWS)
    router = OfflineRouter.from_arrays(export_arrays(pipeline, SMALL_ROWS, 0.5))
    questions = ["what's 3 plus 4?", "who painted guernica", "write me a song", "Zürich  tram!"]
    expected = pipeline.predict_proba(questions)
    columns = [list(pipeline.classes_).index(route) for route in ROUTES]
    for question, row in zip(questions, expected, strict=True):
        scores = router.predict(question).scores
        assert [scores[r] for r in ROUTES] == pytest.approx([row[c] for c in columns], abs=1e-9)


def test_tokenisers_match_scikit_learns_char_wb_and_word_analyzers() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    text = "What's 12*7?  A  fox-jumps\tover É"
    chars = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    words = CountVectorizer(ngram_range=(1, 2)).build_analyzer()
    assert char_ngrams(text) == chars(text)
    assert word_ngrams(text) == words(text)


def test_shipped_weights_are_plain_arrays_trained_on_the_current_rows() -> None:
    with np.load(WEIGHTS, allow_pickle=False) as data:  # raises if anything needs pickle
        metadata = json.loads(str(data["metadata"]))
    assert metadata["rows_sha256"] == rows_digest(train_examples())
    assert metadata["threshold"] == DEFAULT_CONFIDENCE_THRESHOLD


def test_shipped_threshold_is_what_the_validation_rows_choose(router: OfflineRouter) -> None:
    rows = validation_examples()
    guesses = list(zip(rows, router.predict_many([r.text for r in rows]), strict=True))
    assert choose_threshold(guesses) == DEFAULT_CONFIDENCE_THRESHOLD


def test_choose_threshold_requires_every_route_precise() -> None:
    rows = [
        (RouterExample("a", "math"), _guess("math", 0.9)),
        (RouterExample("b", "fact"), _guess("none", 0.8)),  # wrong, so none needs > 0.8
        (RouterExample("c", "none"), _guess("none", 0.85)),
        (RouterExample("d", "fact"), _guess("fact", 0.7)),
    ]
    assert choose_threshold(rows, min_accuracy=0.5, min_class_precision=0.95) == 0.85
    assert class_precision(rows, 0.8)["none"] == 0.5
    assert math.isinf(choose_threshold(rows[1:2], min_accuracy=0.5))


def test_fit_router_needs_every_route() -> None:
    with pytest.raises(ConfigurationError, match="none"):
        fit_router([r for r in SMALL_ROWS if r.label != "none"])


def test_load_is_cached_per_process(router: OfflineRouter) -> None:
    assert OfflineRouter.load() is router


def test_load_reads_a_weights_file_once_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    np.savez(path, **export_arrays(fit_pipeline(SMALL_ROWS), SMALL_ROWS, 0.5))
    first = OfflineRouter.load(path)
    assert OfflineRouter.load(path) is first
    np.savez(path, **export_arrays(fit_pipeline(SMALL_ROWS[1:]), SMALL_ROWS[1:], 0.5))
    assert OfflineRouter.load(path) is not first


def test_unreadable_weights_are_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    path.write_bytes(b"not an npz")
    with pytest.raises(ConfigurationError, match="Cannot read"):
        OfflineRouter.load(path)


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


def test_shipped_threshold_holds_on_heldout(router: OfflineRouter) -> None:
    rows = heldout_examples()
    guesses = list(zip(rows, router.predict_many([r.text for r in rows]), strict=True))
    result = coverage_at(guesses, DEFAULT_CONFIDENCE_THRESHOLD)
    assert result.accuracy >= 0.99
    assert result.coverage >= 0.95


def test_tune_threshold_meets_its_target_on_the_rows_it_saw(router: OfflineRouter) -> None:
    rows = heldout_examples()
    threshold = tune_threshold(router, rows, min_accuracy=0.99)
    guesses = list(zip(rows, router.predict_many([r.text for r in rows]), strict=True))
    assert coverage_at(guesses, threshold).accuracy >= 0.99
    assert coverage_at(guesses, threshold).coverage > 0.5


# --- bad examples files ----------------------------------------------------------------


def test_missing_weights_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        OfflineRouter.load(tmp_path / "nope.npz")


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
