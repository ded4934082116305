"""Benchmark the offline router (and the word-math reader) on the packaged held-out split.

Measures, in one run:

* held-out accuracy and the confusion matrix (rows: true math/fact/none, columns: predicted);
* coverage and accepted-row accuracy at the shipped ``DEFAULT_CONFIDENCE_THRESHOLD``, and the
  threshold re-derived from 5-fold out-of-fold train predictions (how the constant was set);
* cold load time (read the jsonl + fit) and warm ``load()`` (cached);
* per-question ``predict`` latency (mean, p95) against two baselines timed on the same
  questions in the same run: ``str.split`` (the floor of any tokenizer) and a trivial keyword
  rule (regexes for digits/operators, question words and writing verbs), whose accuracy is
  reported too;
* how many held-out math questions the word-math reader answers, and whether it ever produces
  an expression for a fact or writing request (it should not).

    .venv/bin/python benchmarks/offline_router.py

Writes ``benchmarks/out/offline_router.json`` and prints a short table.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from crossroads.tools.offline_router import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    ROUTES,
    OfflineRouter,
    coverage_at,
    cross_validated_guesses,
    heldout_examples,
    threshold_from_guesses,
    train_examples,
)
from crossroads.tools.word_math import read_expression

OUTPUT = Path(__file__).resolve().parent / "out" / "offline_router.json"
LOAD_REPEATS = 5
LATENCY_PASSES = 5

_KEYWORD_MATH = re.compile(
    r"\d\s*[-+*/x^%]\s*\d|\b(?:plus|minus|times|divided|percent|sum|how many|how much)\b"
)
_KEYWORD_FACT = re.compile(r"\b(?:who|what|when|where|which|why|how)\b|capital|population")


def keyword_route(text: str) -> str:
    """A trivial rule router: the baseline the classifier has to beat."""
    lowered = text.lower()
    if _KEYWORD_MATH.search(lowered):
        return "math"
    if _KEYWORD_FACT.search(lowered):
        return "fact"
    return "none"


def per_call_seconds(function: Callable[[str], object], questions: list[str]) -> list[float]:
    """Time each call separately, ``LATENCY_PASSES`` times over the questions."""
    timings: list[float] = []
    for _ in range(LATENCY_PASSES):
        for question in questions:
            started = time.perf_counter()
            function(question)
            timings.append(time.perf_counter() - started)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    """Run every measurement, write the JSON report and print the table."""
    cold_loads = []
    for _ in range(LOAD_REPEATS):
        started = time.perf_counter()
        OfflineRouter.fit(train_examples())  # what load() does on a cache miss
        cold_loads.append(time.perf_counter() - started)
    router = OfflineRouter.load()
    started = time.perf_counter()
    OfflineRouter.load()
    warm_load = time.perf_counter() - started

    heldout = heldout_examples()
    questions = [row.text for row in heldout]
    report = router.evaluate(heldout)
    guesses = list(zip(heldout, router.predict_many(questions), strict=True))
    shipped = coverage_at(guesses, DEFAULT_CONFIDENCE_THRESHOLD)
    derived = threshold_from_guesses(cross_validated_guesses(train_examples()), 0.99)
    keyword_accuracy = sum(keyword_route(r.text) == r.label for r in heldout) / len(heldout)

    predict_times = per_call_seconds(router.predict, questions)
    split_times = per_call_seconds(str.split, questions)
    keyword_times = per_call_seconds(keyword_route, questions)
    read_times = per_call_seconds(read_expression, questions)

    math_rows = [r.text for r in heldout if r.label == "math"]
    other_rows = [r.text for r in heldout if r.label != "math"]
    read_math = sum(read_expression(q) is not None for q in math_rows)
    read_other = [q for q in other_rows if read_expression(q) is not None]

    results = {
        "heldout_rows": len(heldout),
        "heldout_accuracy": report["accuracy"],
        "confusion": {"labels": list(ROUTES), "matrix": report["confusion"]},
        "misrouted": report["errors"],
        "keyword_baseline_accuracy": keyword_accuracy,
        "shipped_threshold": DEFAULT_CONFIDENCE_THRESHOLD,
        "shipped_threshold_heldout_coverage": shipped.coverage,
        "shipped_threshold_heldout_accuracy": shipped.accuracy,
        "rederived_threshold_cv_train": derived,
        "cold_load_s": {"mean": statistics.mean(cold_loads), "max": max(cold_loads)},
        "warm_load_s": warm_load,
        "predict_s": {"mean": statistics.mean(predict_times), "p95": p95(predict_times)},
        "str_split_s": {"mean": statistics.mean(split_times), "p95": p95(split_times)},
        "keyword_rule_s": {"mean": statistics.mean(keyword_times), "p95": p95(keyword_times)},
        "word_math_read_s": {"mean": statistics.mean(read_times), "p95": p95(read_times)},
        "word_math_heldout_math_answered": read_math,
        "word_math_heldout_math_total": len(math_rows),
        "word_math_expressions_for_non_math": read_other,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(results, indent=2), encoding="utf-8")

    predict_mean = statistics.mean(predict_times)
    print(f"held-out rows                 {len(heldout)}")
    print(
        f"held-out accuracy             {report['accuracy']:.3f}  (keyword rule: {keyword_accuracy:.3f})"
    )
    print("confusion (rows true, cols predicted: math fact none)")
    for label, row in zip(ROUTES, report["confusion"], strict=True):
        print(f"  {label:5} {row}")
    print(
        f"threshold {DEFAULT_CONFIDENCE_THRESHOLD:.2f} (shipped)      coverage {shipped.coverage:.3f}, "
        f"accuracy {shipped.accuracy:.3f} on accepted rows"
    )
    print(f"threshold re-derived (CV)     {derived:.3f}")
    print(
        f"cold load (read + fit)        {statistics.mean(cold_loads) * 1000:.0f} ms mean, {max(cold_loads) * 1000:.0f} ms max"
    )
    print(f"warm load (cached)            {warm_load * 1e6:.1f} µs")
    print(
        f"predict per question          {predict_mean * 1000:.2f} ms mean, {p95(predict_times) * 1000:.2f} ms p95"
    )
    print(
        f"  vs str.split                {predict_mean / statistics.mean(split_times):.0f}x "
        f"({statistics.mean(split_times) * 1e6:.2f} µs)"
    )
    print(
        f"  vs keyword rule             {predict_mean / statistics.mean(keyword_times):.0f}x "
        f"({statistics.mean(keyword_times) * 1e6:.2f} µs)"
    )
    print(
        f"word-math read per question   {statistics.mean(read_times) * 1000:.2f} ms mean, {p95(read_times) * 1000:.2f} ms p95"
    )
    print(f"word-math answers             {read_math}/{len(math_rows)} held-out math questions")
    print(f"word-math on fact/none rows   {len(read_other)} expressions (should be 0)")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
