"""Benchmark the offline router on the fixed held-out split, next to the old router.

Measures, in one run, on the ``heldout`` rows of ``crossroads/data/router_examples.jsonl``
(real GSM8K word problems, real NQ-open search questions, hand-written chat/writing
requests, and the older hand-written held-out rows; none of them trained on or used to pick
a threshold, see ``scripts/router_real_data.py``):

* **new**: the shipped numpy router (``router_weights.npz``) at its shipped threshold;
* **old**: the previous router, rebuilt here the way it was (scikit-learn TF-IDF + logistic
  regression trained only on the synthetic ``train`` rows, threshold 0.60);
* for each: accuracy, per-class recall, the confusion matrix (rows true math/fact/none,
  columns predicted), and at the threshold its coverage and per-route precision;
* per-question ``predict`` latency of the new router against ``str.split`` timed on the same
  questions in the same run.

    .venv/bin/python benchmarks/offline_router.py

Writes ``benchmarks/out/offline_router.json`` and prints a short table.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crossroads.tools.offline_router import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    ROUTES,
    OfflineRouter,
    RouteGuess,
    RouterExample,
    heldout_examples,
    train_examples,
)

OUTPUT = Path(__file__).resolve().parent / "out" / "offline_router.json"
OLD_THRESHOLD = 0.6
REAL_SOURCES = ("gsm8k", "nq_open", "written")
LATENCY_PASSES = 3


def old_router_guesses(heldout: Sequence[RouterExample]) -> list[RouteGuess]:
    """The previous router: its pipeline, fitted on the synthetic train rows only."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    pipeline = Pipeline(
        [("f", features), ("c", LogisticRegression(C=10.0, max_iter=1000, random_state=0))]
    )
    old_train = [e for e in train_examples() if e.source == "synthetic"]  # the old file
    pipeline.fit([e.text for e in old_train], [e.label for e in old_train])
    columns = [list(pipeline.classes_).index(route) for route in ROUTES]
    guesses = []
    for row in pipeline.predict_proba([e.text for e in heldout]):
        scores = {route: float(row[c]) for route, c in zip(ROUTES, columns, strict=True)}
        best = max(ROUTES, key=lambda route: scores[route])
        guesses.append(RouteGuess(best, scores[best], scores))
    return guesses


def figures(
    rows: Sequence[RouterExample], guesses: Sequence[RouteGuess], threshold: float
) -> dict[str, Any]:
    """Accuracy, per-class recall, confusion, and coverage/precision at ``threshold``."""
    confusion = [[0] * len(ROUTES) for _ in ROUTES]
    for row, guess in zip(rows, guesses, strict=True):
        confusion[ROUTES.index(row.label)][ROUTES.index(guess.route)] += 1
    recall = {route: confusion[i][i] / max(1, sum(confusion[i])) for i, route in enumerate(ROUTES)}
    accepted = [(r, g) for r, g in zip(rows, guesses, strict=True) if g.confidence >= threshold]
    precision = {}
    for route in ROUTES:
        said = [r for r, g in accepted if g.route == route]
        precision[route] = sum(r.label == route for r in said) / len(said) if said else 1.0
    return {
        "rows": len(rows),
        "accuracy": sum(confusion[i][i] for i in range(len(ROUTES))) / len(rows),
        "recall": recall,
        "confusion": confusion,
        "threshold": threshold,
        "coverage": len(accepted) / len(rows),
        "accepted_accuracy": (
            sum(r.label == g.route for r, g in accepted) / len(accepted) if accepted else 1.0
        ),
        "precision": precision,
    }


def per_call_seconds(function: Callable[[str], object], questions: list[str]) -> list[float]:
    timings: list[float] = []
    for _ in range(LATENCY_PASSES):
        for question in questions:
            started = time.perf_counter()
            function(question)
            timings.append(time.perf_counter() - started)
    return timings


def show(name: str, result: dict[str, Any]) -> None:
    recall = ", ".join(f"{k} {v:.3f}" for k, v in result["recall"].items())
    precision = ", ".join(f"{k} {v:.3f}" for k, v in result["precision"].items())
    print(f"  {name:22} accuracy {result['accuracy']:.3f} ({recall})")
    print(
        f"  {'':22} at {result['threshold']:.3f}: coverage {result['coverage']:.3f}, "
        f"accepted right {result['accepted_accuracy']:.3f}, precision {precision}"
    )
    print(f"  {'':22} confusion {result['confusion']}")


def main() -> None:
    """Run every measurement, write the JSON report and print the table."""
    started = time.perf_counter()
    router = OfflineRouter.load()
    cold_load = time.perf_counter() - started
    heldout = heldout_examples()
    subsets = {
        "real (gsm8k, nq, written)": [r for r in heldout if r.source in REAL_SOURCES],
        "old hand-written": [r for r in heldout if r.source == "synthetic"],
        "composed arithmetic": [r for r in heldout if r.source == "composed"],
        "all held-out": heldout,
    }
    old_all = dict(zip(heldout, old_router_guesses(heldout), strict=True))
    new_all = dict(zip(heldout, router.predict_many([r.text for r in heldout]), strict=True))
    results: dict[str, Any] = {"subsets": {}}
    for name, rows in subsets.items():
        results["subsets"][name] = {
            "old": figures(rows, [old_all[r] for r in rows], OLD_THRESHOLD),
            "new": figures(rows, [new_all[r] for r in rows], DEFAULT_CONFIDENCE_THRESHOLD),
        }
    questions = [r.text for r in heldout[:400]]
    predict = per_call_seconds(router.predict, questions)
    split = per_call_seconds(str.split, questions)
    results["cold_load_s"] = cold_load
    results["predict_s"] = {
        "mean": statistics.mean(predict),
        "p95": statistics.quantiles(predict, n=20)[-1],
    }
    results["str_split_s"] = statistics.mean(split)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(results, indent=2), encoding="utf-8")

    for name, pair in results["subsets"].items():
        print(f"{name} ({pair['new']['rows']} rows); confusion rows true, cols predicted {ROUTES}")
        show("old (synthetic only)", pair["old"])
        show("new (real + synthetic)", pair["new"])
    print(f"cold load {cold_load * 1000:.0f} ms")
    print(
        f"predict per question {results['predict_s']['mean'] * 1000:.2f} ms mean, "
        f"{results['predict_s']['p95'] * 1000:.2f} ms p95 "
        f"({results['predict_s']['mean'] / results['str_split_s']:.0f}x str.split)"
    )
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
