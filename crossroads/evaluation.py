"""Evaluate Crossroads on a suite of questions: routes, answers, cost and errors.

A **suite** is a JSONL file, one question per line::

    {"question": "What is 15% of 240?", "expected_route": "math", "expected_answer": "36"}
    {"question": "What is the capital of Australia?", "expected_route": "fact",
     "expected_answer": ["Canberra"]}
    {"question": "Write a haiku about rain", "expected_route": "none"}

``expected_route`` and ``expected_answer`` are optional; a row is scored on what it has.
``expected_answer`` is a string, a number, or a list of accepted strings (aliases). An optional
``expression`` (the arithmetic a correct extraction writes) is not scored here: it lets a
benchmark script a perfect model for the row. Any other key is refused, so a typo such as
``expected_anwser`` is caught instead of silently scoring nothing.

How an answer is judged (:func:`score_answer`):

* **numeric**, for rows routed to ``math`` (or with no route and a number as the expected
  answer): the answer's *final number* (the first number after its last ``=``, else its last
  number) must equal the expected number. Number words count ("thirty-six" is 36, read with
  ``text2num``); ``36``, ``36.0`` and ``$36.00`` are the same value. When the expected number
  is written with decimals, the answer may differ by half a unit of its last decimal (expected
  ``3.33`` accepts 3.3333); otherwise the match is exact up to float noise.
* **text**, for everything else: both sides are normalised (lower case, no punctuation, no
  articles), then the answer is correct when it *contains* the expected text as whole words,
  or when their token F1 (SQuAD-style) is at least :data:`TEXT_F1_PASS`. The F1 is reported too.

What is reported (:func:`summarize`): route accuracy and a confusion matrix (rows: expected,
columns: predicted), answer accuracy by kind, model calls, input/output tokens and latency per
request (mean, p50, p95: linear interpolation between order statistics), and every error.

The metric functions are pure; :func:`run_suite` is the only part that runs the app. The
``crossroads eval`` command (``crossroads.cli.evaluate``) adds a progress bar, the optional PNG
(:func:`write_plot`) and the shipped suites (:data:`SHIPPED_SUITES`).
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossroads.errors import InputError
from crossroads.tools.text import STATED_NUMBER, stated_numbers

if TYPE_CHECKING:
    from crossroads.api import Crossroads, Result

__all__ = [
    "SHIPPED_SUITES",
    "TEXT_F1_PASS",
    "AnswerScore",
    "RowOutcome",
    "SuiteRow",
    "confusion_matrix",
    "describe",
    "evaluate_row",
    "final_number",
    "load_suite",
    "normalize_text",
    "numbers_in",
    "numeric_match",
    "parse_suite",
    "percentile",
    "resolve_suite",
    "run_suite",
    "score_answer",
    "summarize",
    "token_f1",
    "write_plot",
]

SHIPPED_SUITES: Mapping[str, str] = {
    "router": "suite_router.jsonl",
    "calculator": "suite_calculator.jsonl",
    "research": "suite_research.jsonl",
}
"""Suites shipped in ``crossroads/data``; ``crossroads eval router`` runs the first."""

TEXT_F1_PASS = 0.5
"""A text answer whose token F1 against the expected answer reaches this is correct even
when it does not contain the expected text word for word (a paraphrase of a short answer)."""

MAX_SUITE_ROWS = 10_000
"""Rows per suite at most: a suite runs one request per row, so a bigger file is a mistake."""

ROUTE_ORDER = ("math", "fact", "none")
"""Built-in routes first in the confusion matrix; other labels follow in sorted order."""
NO_ROUTE = "-"
"""Confusion-matrix label of a request that ended before any route was chosen."""

ALLOWED_KEYS = frozenset({"question", "expected_route", "expected_answer", "expression"})

SUITE_MISSING = "suite file not found: {path} (shipped suites: {names})"
SUITE_UNREADABLE = "cannot read the suite {path}: {error}"
SUITE_EMPTY = "the suite {path} has no rows"
SUITE_TOO_BIG = "the suite {path} has more than {limit} rows; split it"
ROW_NOT_JSON = "{path} line {line}: not valid JSON ({error})"
ROW_NOT_OBJECT = "{path} line {line}: a row must be a JSON object such as {example}"
ROW_UNKNOWN_KEYS = "{path} line {line}: unknown key(s) {keys}; allowed: {allowed}"
ROW_NO_QUESTION = "{path} line {line}: 'question' must be a non-empty string"
ROW_BAD_ROUTE = "{path} line {line}: 'expected_route' must be a non-empty string"
ROW_BAD_ANSWER = (
    "{path} line {line}: 'expected_answer' must be a string, a number or a list of strings"
)
ROW_BAD_EXPRESSION = "{path} line {line}: 'expression' must be a string"
ROW_EXAMPLE = '{"question": "What is 2 + 2?", "expected_route": "math", "expected_answer": "4"}'
PLOT_NEEDS_MATPLOTLIB = "--plot needs matplotlib: pip install 'crossroads[plot]'"


# -- suites ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteRow:
    """One question of a suite, with what it is scored against.

    Attributes:
        question: The question asked.
        expected_route: The route it should take, or ``None`` (route not scored).
        expected_answers: Accepted answers (aliases); empty when the answer is not scored.
        expression: For math rows, the arithmetic a correct extraction writes (used by
            benchmarks to script a perfect model; not scored).
    """

    question: str
    expected_route: str | None = None
    expected_answers: tuple[str, ...] = ()
    expression: str | None = None


def resolve_suite(name_or_path: str | Path) -> Path:
    """The suite file for a path, or for a shipped suite's name (``router``...).

    Raises:
        InputError: there is no such file and no shipped suite of that name.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    shipped = SHIPPED_SUITES.get(str(name_or_path))
    if shipped is not None:
        return Path(str(resources.files("crossroads") / "data" / shipped))
    raise InputError(SUITE_MISSING.format(path=path, names=", ".join(SHIPPED_SUITES)))


def load_suite(path: str | Path) -> list[SuiteRow]:
    """Read and check a suite file (see the module docstring for the format).

    Raises:
        InputError: the file is missing, unreadable, empty, too big, or a row is malformed
            (the message names the line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(SUITE_MISSING.format(path=path, names=", ".join(SHIPPED_SUITES))) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(SUITE_UNREADABLE.format(path=path, error=error)) from None
    return parse_suite(text.splitlines(), source=str(path))


def parse_suite(lines: Iterable[str], *, source: str = "<suite>") -> list[SuiteRow]:
    """Parse suite lines (blank lines are skipped).

    Raises:
        InputError: a row is malformed, there are no rows, or too many.
    """
    rows: list[SuiteRow] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(rows) >= MAX_SUITE_ROWS:
            raise InputError(SUITE_TOO_BIG.format(path=source, limit=MAX_SUITE_ROWS))
        rows.append(_parse_row(line, source, number))
    if not rows:
        raise InputError(SUITE_EMPTY.format(path=source))
    return rows


def _parse_row(line: str, source: str, number: int) -> SuiteRow:
    where = {"path": source, "line": number}
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(ROW_NOT_JSON.format(**where, error=error.msg)) from None
    if not isinstance(data, dict):
        raise InputError(ROW_NOT_OBJECT.format(**where, example=ROW_EXAMPLE))
    unknown = sorted(set(data) - ALLOWED_KEYS)
    if unknown:
        raise InputError(
            ROW_UNKNOWN_KEYS.format(
                **where, keys=", ".join(unknown), allowed=", ".join(sorted(ALLOWED_KEYS))
            )
        )
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputError(ROW_NO_QUESTION.format(**where))
    route = data.get("expected_route")
    if route is not None and (not isinstance(route, str) or not route.strip()):
        raise InputError(ROW_BAD_ROUTE.format(**where))
    answers = _read_answers(data.get("expected_answer"), where)
    expression = data.get("expression")
    if expression is not None and not isinstance(expression, str):
        raise InputError(ROW_BAD_EXPRESSION.format(**where))
    return SuiteRow(
        question=question.strip(),
        expected_route=route.strip() if route else None,
        expected_answers=answers,
        expression=expression,
    )


def _read_answers(value: Any, where: Mapping[str, Any]) -> tuple[str, ...]:
    if value is None:
        return ()
    # bool is an int subclass; "expected_answer": true is a mistake, not the number 1.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, str) and item.strip() for item in value)
    ):
        return tuple(item.strip() for item in value)
    raise InputError(ROW_BAD_ANSWER.format(**where))


# -- answer metrics ---------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[^\w\s]|_")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def _digits(text: str) -> str:
    """``text`` with number words written as digits ("thirty-six" → "36")."""
    from text_to_num import alpha2digit

    # threshold=0: single small numbers too ("six apples"), as answers often spell them.
    return str(alpha2digit(text, "en", threshold=0))


def numbers_in(text: str) -> list[Decimal]:
    """Every number in ``text``, in order, number words included."""
    return stated_numbers(_digits(text))


def final_number(text: str) -> Decimal | None:
    """The number an answer ends on: the first after its last ``=``, else its last number.

    ``"240 * 15 / 100 = 36."`` is 36; ``"You have 6 apples left."`` is 6.
    """
    converted = _digits(text)
    if "=" in converted:
        after = numbers_in(converted.rsplit("=", 1)[1])
        if after:
            return after[0]
    found = numbers_in(converted)
    return found[-1] if found else None


def numeric_match(answer: str, expected: str) -> bool:
    """Whether ``answer``'s final number equals the number written in ``expected``.

    A decimal expected value sets the tolerance (half a unit of its last digit); an integer
    one must match exactly (up to float noise).
    """
    wanted = numbers_in(expected)
    got = final_number(answer)
    if len(wanted) != 1 or got is None:
        return False
    target = wanted[0]
    exponent = target.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places:
        return abs(got - target) <= Decimal(5) * Decimal(10) ** -(places + 1)
    return math.isclose(float(got), float(target), rel_tol=1e-9, abs_tol=1e-9)


def is_number(text: str) -> bool:
    """Whether ``text`` is one number and nothing else but a unit sign or ``%``."""
    stripped = STATED_NUMBER.sub("", _digits(text)).strip(" $€£%.")
    return not stripped and len(numbers_in(text)) == 1


def normalize_text(text: str) -> str:
    """Lower case, punctuation and articles removed, whitespace collapsed."""
    lowered = _PUNCTUATION.sub(" ", text.casefold())
    return " ".join(_ARTICLES.sub(" ", lowered).split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 between two texts, after :func:`normalize_text`."""
    predicted = normalize_text(prediction).split()
    wanted = normalize_text(reference).split()
    if not predicted or not wanted:
        return float(predicted == wanted)
    shared = sum((Counter(predicted) & Counter(wanted)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(wanted)
    return 2 * precision * recall / (precision + recall)


def contains_answer(answer: str, expected: str) -> bool:
    """Whether the normalised ``expected`` occurs in the normalised ``answer`` as whole words."""
    wanted = normalize_text(expected)
    return bool(wanted) and f" {wanted} " in f" {normalize_text(answer)} "


@dataclass(frozen=True)
class AnswerScore:
    """How an answer was judged: ``kind`` is ``numeric`` or ``text``; ``f1`` only for text."""

    kind: str
    correct: bool
    f1: float | None = None


def score_answer(
    answer: str, expected: Sequence[str], *, expected_route: str | None = None
) -> AnswerScore:
    """Judge ``answer`` against the accepted answers (see the module docstring)."""
    numeric = expected_route == "math" or (
        expected_route is None and len(expected) == 1 and is_number(expected[0])
    )
    if numeric:
        return AnswerScore("numeric", any(numeric_match(answer, item) for item in expected))
    best_f1 = max(token_f1(answer, item) for item in expected)
    contained = any(contains_answer(answer, item) for item in expected)
    return AnswerScore("text", contained or best_f1 >= TEXT_F1_PASS, best_f1)


# -- cost metrics -----------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile, interpolating linearly between order statistics.

    The same definition as ``numpy.percentile``'s default and ``statistics.quantiles(...,
    method="inclusive")``: p50 of ``[1, 2, 3, 4]`` is 2.5.

    Raises:
        ValueError: ``values`` is empty or ``fraction`` is outside [0, 1].
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1]; got {fraction}")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def describe(values: Sequence[float]) -> dict[str, float]:
    """Total, mean, p50 and p95 of ``values`` (all 0 for no values)."""
    if not values:
        return {"total": 0.0, "mean": 0.0, "p50": 0.0, "p95": 0.0}
    return {
        "total": float(sum(values)),
        "mean": statistics.fmean(values),
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
    }


def confusion_matrix(
    expected: Sequence[str], predicted: Sequence[str]
) -> tuple[list[str], list[list[int]]]:
    """Labels and counts: ``matrix[i][j]`` is how many rows expected ``labels[i]`` got
    ``labels[j]``. Built-in routes come first, then other labels in sorted order."""
    seen = set(expected) | set(predicted)
    labels = [label for label in ROUTE_ORDER if label in seen]
    labels += sorted(seen - set(ROUTE_ORDER))
    position = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for want, got in zip(expected, predicted, strict=True):
        matrix[position[want]][position[got]] += 1
    return labels, matrix


# -- running ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowOutcome:
    """What happened to one row: the result, how it was judged, and its cost."""

    index: int
    question: str
    expected_route: str | None
    route: str
    expected_answers: tuple[str, ...]
    answer: str
    error: str | None
    llm_calls: int
    input_tokens: int
    output_tokens: int
    latency_s: float
    route_correct: bool | None = None
    answer_correct: bool | None = None
    answer_kind: str | None = None
    f1: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)


def evaluate_row(index: int, row: SuiteRow, result: Result, latency_s: float) -> RowOutcome:
    """Judge one result against its row (pure)."""
    route_correct = None if row.expected_route is None else result.route == row.expected_route
    score = (
        score_answer(result.answer, row.expected_answers, expected_route=row.expected_route)
        if row.expected_answers
        else None
    )
    usage = result.usage or {}
    return RowOutcome(
        index=index,
        question=row.question,
        expected_route=row.expected_route,
        route=result.route,
        expected_answers=row.expected_answers,
        answer=result.answer,
        error=result.error,
        llm_calls=int(usage.get("llm_calls", 0)),
        input_tokens=int(usage.get("input_tokens", 0)),
        output_tokens=int(usage.get("output_tokens", 0)),
        latency_s=latency_s,
        route_correct=route_correct,
        answer_correct=None if score is None else score.correct,
        answer_kind=None if score is None else score.kind,
        f1=None if score is None else score.f1,
        steps=list(result.steps),
    )


def run_suite(
    app: Crossroads,
    rows: Sequence[SuiteRow],
    *,
    on_row: Callable[[RowOutcome], None] | None = None,
) -> list[RowOutcome]:
    """Ask every row's question, one at a time on a fresh thread, and judge the results.

    One at a time, so each latency is a request's own and not the queueing of others. A row
    whose request raises is recorded with the error and the suite goes on: errors are one of
    the things an evaluation reports.

    Args:
        app: The app to evaluate.
        rows: The suite.
        on_row: Called after each row (a progress bar).
    """
    from crossroads.api import Result

    outcomes = []
    for index, row in enumerate(rows):
        started = time.perf_counter()
        try:
            result = app.ask(row.question)
        except Exception as error:  # recorded per row; the report counts errors
            result = Result(answer="", error=f"{type(error).__name__}: {error}")
        outcome = evaluate_row(index, row, result, time.perf_counter() - started)
        outcomes.append(outcome)
        if on_row is not None:
            on_row(outcome)
    return outcomes


def _accuracy(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def summarize(outcomes: Sequence[RowOutcome], **meta: Any) -> dict[str, Any]:
    """The report: accuracies, confusion matrix, cost per request, errors and every row.

    Args:
        outcomes: What :func:`run_suite` returned.
        **meta: Put at the top of the report as they are (suite path, model, mode, date).
    """
    routed = [o for o in outcomes if o.expected_route is not None]
    labels, matrix = confusion_matrix(
        [str(o.expected_route) for o in routed], [o.route or NO_ROUTE for o in routed]
    )
    answered = [o for o in outcomes if o.answer_correct is not None]
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({str(o.answer_kind) for o in answered}):
        mine = [o for o in answered if o.answer_kind == kind]
        entry: dict[str, Any] = {
            "evaluated": len(mine),
            "correct": sum(bool(o.answer_correct) for o in mine),
            "accuracy": _accuracy([bool(o.answer_correct) for o in mine]),
        }
        if kind == "text":
            entry["mean_f1"] = statistics.fmean(o.f1 or 0.0 for o in mine)
        by_kind[kind] = entry
    errors = [o for o in outcomes if o.error]
    return {
        **meta,
        "rows": len(outcomes),
        "route": {
            "evaluated": len(routed),
            "correct": sum(bool(o.route_correct) for o in routed),
            "accuracy": _accuracy([bool(o.route_correct) for o in routed]),
            "labels": labels,
            "confusion": matrix,
        },
        "answer": {
            "evaluated": len(answered),
            "correct": sum(bool(o.answer_correct) for o in answered),
            "accuracy": _accuracy([bool(o.answer_correct) for o in answered]),
            "by_kind": by_kind,
        },
        "cost": {
            "llm_calls": describe([o.llm_calls for o in outcomes]),
            "input_tokens": describe([o.input_tokens for o in outcomes]),
            "output_tokens": describe([o.output_tokens for o in outcomes]),
            "latency_s": describe([o.latency_s for o in outcomes]),
        },
        "errors": {
            "count": len(errors),
            "items": [{"index": o.index, "question": o.question, "error": o.error} for o in errors],
        },
        "items": [{**asdict(o), "expected_answers": list(o.expected_answers)} for o in outcomes],
    }


# -- plot -------------------------------------------------------------------------------------


PLOT_PANELS = ("Routes", "Answers", "Model calls", "Latency")
"""The titles the four panels of ``--plot`` start with, in reading order."""


def build_figure(report: Mapping[str, Any]) -> Any:
    """The evaluation figure: route accuracy with its confusion matrix, answer accuracy by
    kind, model calls per question and latency per question (a matplotlib ``Figure``, Agg).

    Raises:
        InputError: matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        raise InputError(PLOT_NEEDS_MATPLOTLIB) from None
    matplotlib.use("Agg")  # no display needed; also safe inside a headless CI job
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(2, 2, figsize=(12, 8))
    routes, answers, calls, latency = axes.flat
    labels = report["route"]["labels"]
    matrix = report["route"]["confusion"]
    if labels:
        peak = max(max(row) for row in matrix) or 1
        # Fixed colour range from 0: a one-cell matrix would otherwise be drawn blank.
        routes.imshow(matrix, cmap="Blues", vmin=0, vmax=peak)
        routes.set_xticks(range(len(labels)), labels)
        routes.set_yticks(range(len(labels)), labels)
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                colour = "white" if count > peak / 2 else "black"
                routes.text(j, i, str(count), ha="center", va="center", color=colour)
    else:
        routes.text(0.5, 0.5, "no expected routes", ha="center", va="center")
    routes.set_title(f"Routes: accuracy {_percent(report['route']['accuracy'])}")
    routes.set_xlabel("predicted")
    routes.set_ylabel("expected")

    by_kind = report["answer"]["by_kind"]
    names = [*by_kind, "all"]
    shares = [by_kind[name]["accuracy"] or 0.0 for name in by_kind]
    shares.append(report["answer"]["accuracy"] or 0.0)
    bars = answers.bar(range(len(names)), [share * 100 for share in shares], color="#6aa84f")
    answers.set_xticks(range(len(names)), names)
    answers.set_ylim(0, 105)
    answers.set_ylabel("right (%)")
    counts = [f"{by_kind[n]['correct']}/{by_kind[n]['evaluated']}" for n in by_kind]
    counts.append(f"{report['answer']['correct']}/{report['answer']['evaluated']}")
    answers.bar_label(bars, counts)
    answers.set_title(f"Answers: accuracy {_percent(report['answer']['accuracy'])}")

    items = report["items"]
    positions = range(len(items))
    cost = report["cost"]
    calls.bar(positions, [item["llm_calls"] for item in items], color="#c0392b")
    calls.set_xlabel("question")
    calls.set_ylabel("model calls")
    calls.xaxis.set_major_locator(MaxNLocator(integer=True))
    calls.yaxis.set_major_locator(MaxNLocator(integer=True))
    calls.set_title(f"Model calls: mean {cost['llm_calls']['mean']:.2f} per question")

    latency.bar(positions, [item["latency_s"] * 1000 for item in items], color="#8fb3d9")
    latency.set_xlabel("question")
    latency.set_ylabel("latency (ms)")
    latency.xaxis.set_major_locator(MaxNLocator(integer=True))
    latency.set_title(
        f"Latency: p50 {cost['latency_s']['p50'] * 1000:.0f} ms, "
        f"p95 {cost['latency_s']['p95'] * 1000:.0f} ms"
    )
    figure.tight_layout()
    return figure


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def write_plot(report: Mapping[str, Any], path: str | Path) -> Path:
    """Draw :func:`build_figure` into a PNG at ``path``.

    Raises:
        InputError: matplotlib is not installed.
    """
    figure = build_figure(report)
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
