"""Training-time half of the offline router: fit with scikit-learn, export numpy arrays.

Only ``scripts/train_offline_router.py``, the tests and the benchmarks import this module;
answering questions needs :mod:`crossroads.tools.offline_router` and numpy alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from crossroads.errors import ConfigurationError
from crossroads.tools.offline_router import (
    DEFAULT_MIN_ACCURACY,
    ERROR_TOO_FEW_LABELS,
    MIN_CLASS_PRECISION,
    ROUTES,
    OfflineRouter,
    RouteGuess,
    RouterExample,
    char_ngrams,
    rows_digest,
    word_ngrams,
)

RANDOM_STATE = 0
"""Fixed so that two fits produce identical weights; lbfgs itself is deterministic."""
REGULARISATION_C = 10.0
MIN_DF = 2
"""A gram seen in one training row only is dropped: it mostly memorises that row."""


def build_pipeline() -> Any:
    """The scikit-learn pipeline whose weights are exported (imported lazily: training only)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, min_df=MIN_DF)),
            ("chars", TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, min_df=MIN_DF)),
        ]
    )
    classifier = LogisticRegression(
        C=REGULARISATION_C, max_iter=2000, random_state=RANDOM_STATE, class_weight="balanced"
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def fit_pipeline(examples: Sequence[RouterExample]) -> Any:
    """Fit :func:`build_pipeline` on ``examples`` (their split is ignored).

    Raises:
        ConfigurationError: Some route has no example.
    """
    from threadpoolctl import threadpool_limits

    missing = [route for route in ROUTES if not any(e.label == route for e in examples)]
    if missing:
        raise ConfigurationError(
            ERROR_TOO_FEW_LABELS.format(path="the given rows", labels=ROUTES, missing=missing)
        )
    pipeline = build_pipeline()
    # One BLAS/OpenMP thread: the problem is small, and on a busy machine the default
    # thread pool made the fit several times slower.
    with threadpool_limits(limits=1):
        pipeline.fit([e.text for e in examples], [e.label for e in examples])
    return pipeline


def _vocabulary_array(vectorizer: Any) -> np.ndarray[Any, Any]:
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    ordered = sorted(vocabulary, key=vocabulary.__getitem__)
    return np.array(ordered, dtype=str)


def export_arrays(
    pipeline: Any, examples: Sequence[RouterExample], threshold: float, **extra: Any
) -> dict[str, np.ndarray[Any, Any]]:
    """The fitted pipeline as plain arrays (what ``router_weights.npz`` holds)."""
    union = pipeline.named_steps["features"]
    words = union.transformer_list[0][1]
    chars = union.transformer_list[1][1]
    classifier = pipeline.named_steps["classifier"]
    metadata = {
        "rows_sha256": rows_digest(examples),
        "rows": len(examples),
        "threshold": threshold,
        **extra,
    }
    return {
        "word_vocabulary": _vocabulary_array(words),
        "word_idf": words.idf_.astype(np.float64),
        "char_vocabulary": _vocabulary_array(chars),
        "char_idf": chars.idf_.astype(np.float64),
        "coef": classifier.coef_.astype(np.float64),
        "intercept": classifier.intercept_.astype(np.float64),
        "classes": np.array([str(c) for c in classifier.classes_], dtype=str),
        "metadata": np.array(json.dumps(metadata, sort_keys=True)),
    }


def fit_router(examples: Sequence[RouterExample], threshold: float = math.inf) -> OfflineRouter:
    """Fit on ``examples`` and return the numpy router built from the exported arrays."""
    return OfflineRouter.from_arrays(export_arrays(fit_pipeline(examples), examples, threshold))


def class_precision(
    guesses: Sequence[tuple[RouterExample, RouteGuess]], threshold: float
) -> dict[str, float]:
    """Precision of each predicted route among guesses at or above ``threshold`` (1.0 if none)."""
    precision: dict[str, float] = {}
    for route in ROUTES:
        accepted = [e for e, g in guesses if g.route == route and g.confidence >= threshold]
        right = sum(1 for e in accepted if e.label == route)
        precision[route] = right / len(accepted) if accepted else 1.0
    return precision


def choose_threshold(
    guesses: Sequence[tuple[RouterExample, RouteGuess]],
    min_accuracy: float = DEFAULT_MIN_ACCURACY,
    min_class_precision: float = MIN_CLASS_PRECISION,
) -> float:
    """Lowest confidence whose accepted rows are ``min_accuracy`` right overall and
    ``min_class_precision`` right for every predicted route; ``inf`` when none is.

    Run it on validation rows only: a threshold chosen on held-out rows would make the
    held-out figures optimistic.
    """
    candidates = sorted({round(g.confidence, 4) for _, g in guesses})
    for threshold in candidates:
        accepted = [(e, g) for e, g in guesses if g.confidence >= threshold]
        if not accepted:
            break
        accuracy = sum(e.label == g.route for e, g in accepted) / len(accepted)
        precision = class_precision(guesses, threshold)
        if accuracy >= min_accuracy and min(precision.values()) >= min_class_precision:
            return threshold
    return math.inf
