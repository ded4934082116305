"""A small text classifier that routes a question to ``math``, ``fact`` or ``none`` without an LLM.

The router agent asks a chat model a multiple-choice question. Many questions are easy to
route ("12*7", "who sings ain't nothing but a good time", "write a haiku about rain"), and an
LLM call for them costs time and money, and in offline mode there is no model at all. This
module answers those cases with a linear model over TF-IDF features:

* word 1-2 grams catch the intent words ("how many ... left", "who wrote", "write a");
* character 2-5 grams (inside word boundaries) catch operators, digits and misspellings
  ("whats", "12*7", "sqrt(") that a word tokenizer would drop;
* multinomial logistic regression gives probabilities, so the caller can accept the answer
  only when it is confident (see :data:`DEFAULT_CONFIDENCE_THRESHOLD`).

**Prediction is plain numpy.** The weights (vocabularies, idf, coefficients) are trained by
``scripts/train_offline_router.py`` (scikit-learn, training time only) on the ``train`` rows
of ``crossroads/data/router_examples.jsonl`` (real GSM8K word problems, real NQ-open search
questions, hand-written chat and writing requests, and the older synthetic rows) and shipped
as ``crossroads/data/router_weights.npz``: arrays only, read with ``allow_pickle=False``, so
no pickle and no scikit-learn version ties. The file records the SHA-256 of the rows it was
trained on; a test checks it against the current rows. It is loaded once per process.

Typical use::

    from crossroads.tools.offline_router import DEFAULT_CONFIDENCE_THRESHOLD, OfflineRouter

    router = OfflineRouter.load()
    guess = router.predict("what's 15% of 240?")
    if guess.confidence >= DEFAULT_CONFIDENCE_THRESHOLD:
        route = guess.route          # "math", skip the LLM router call
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypedDict, get_args

import numpy as np

from crossroads.errors import ConfigurationError, InputError

Route = Literal["math", "fact", "none"]
ROUTES: tuple[Route, ...] = get_args(Route)
"""Labels in the fixed order used by scores and confusion matrices."""

Split = Literal["train", "validation", "heldout"]

EXAMPLES_RESOURCE = "router_examples.jsonl"
WEIGHTS_RESOURCE = "router_weights.npz"

# Chosen by ``scripts/train_offline_router.py`` on the ``validation`` rows only (never on
# ``heldout`` rows): the lowest confidence at which accepted validation rows are at least
# DEFAULT_MIN_ACCURACY correct overall and MIN_CLASS_PRECISION for each predicted route. The
# script stores it in the weights file; a test checks the two agree.
DEFAULT_CONFIDENCE_THRESHOLD = 0.7746

DEFAULT_MIN_ACCURACY = 0.99
MIN_CLASS_PRECISION = 0.97

ERROR_EXAMPLES_MISSING = "Router examples file not found: {path}. Pass an existing .jsonl path."
ERROR_EXAMPLES_UNREADABLE = "Cannot read router examples from {path}: {reason}"
ERROR_BAD_ROW = (
    "{path} line {line}: expected a JSON object with a non-empty 'text' and a 'label' in "
    "math/fact/none (and an optional 'split' in train/validation/heldout); got {row!r}"
)
ERROR_WEIGHTS_MISSING = (
    "Offline router weights not found: {path}. Reinstall crossroads, or run "
    "scripts/train_offline_router.py."
)
ERROR_WEIGHTS_UNREADABLE = "Cannot read offline router weights from {path}: {reason}"
ERROR_TOO_FEW_LABELS = (
    "Router examples in {path} need training rows for every label {labels}; missing: {missing}"
)
ERROR_NOT_TEXT = "The question must be a string, got {type_name}."
ERROR_EMPTY_QUESTION = "The question is empty; type a question to route."
ERROR_NO_ROWS = "Cannot evaluate on zero rows; pass at least one example."
ERROR_BAD_ACCURACY = "min_accuracy must be between 0 and 1, got {value}."

_WORD_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITESPACE = re.compile(r"\s+")


def word_ngrams(text: str) -> list[str]:
    """Word 1- and 2-grams of ``text`` (lower-cased words of two or more characters).

    The training script hands this same function to scikit-learn, so training and numpy
    prediction tokenise identically by construction.
    """
    words = _WORD_TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def char_ngrams(text: str, low: int = 2, high: int = 5) -> list[str]:
    """Character ``low``..``high``-grams inside each space-padded word of lower-cased ``text``."""
    grams: list[str] = []
    for word in _WHITESPACE.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) <= n:
                grams.append(padded)  # a short word counts once, whole
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def rows_digest(examples: Iterable[RouterExample]) -> str:
    """SHA-256 of the rows a model is trained on (text and label, in order)."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps([example.text, example.label]).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class RouterExample:
    """One labelled question from the examples file.

    Attributes:
        text: The question as a user typed it.
        label: The route it should take.
        split: ``"train"`` rows fit the model, ``"validation"`` rows choose thresholds,
            ``"heldout"`` rows only measure.
        source: Where the row comes from (``synthetic``, ``gsm8k``, ``nq_open``, ``written``).
    """

    text: str
    label: Route
    split: Split = "train"
    source: str = ""


@dataclass(frozen=True)
class RouteGuess:
    """The classifier's answer for one question.

    Attributes:
        route: The most probable route.
        confidence: Probability of ``route`` (0..1).
        scores: Probability of each route, keyed in the order of :data:`ROUTES`.
    """

    route: Route
    confidence: float
    scores: dict[str, float]


@dataclass(frozen=True)
class Coverage:
    """How a confidence threshold performs on labelled rows.

    Attributes:
        threshold: Guesses with ``confidence >= threshold`` are accepted.
        accepted: Number of accepted rows.
        total: Number of rows looked at.
        coverage: ``accepted / total``.
        accuracy: Accuracy on accepted rows (1.0 when none are accepted).
    """

    threshold: float
    accepted: int
    total: int
    coverage: float
    accuracy: float


class Misroute(TypedDict):
    """One row the router got wrong, as listed by :meth:`OfflineRouter.evaluate`."""

    text: str
    label: Route
    predicted: Route
    confidence: float


class RouterEvaluation(TypedDict):
    """What :meth:`OfflineRouter.evaluate` measures.

    ``confusion[i][j]`` counts rows labelled ``labels[i]`` and predicted ``labels[j]``.
    """

    accuracy: float
    n: int
    labels: list[str]
    confusion: list[list[int]]
    errors: list[Misroute]


def _packaged_path(name: str) -> Path:
    # ``files()`` returns a Traversable; with a normal (editable or wheel) install it is a
    # real path, which the file-based cache key below needs.
    return Path(str(resources.files("crossroads").joinpath("data", name)))


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise InputError(ERROR_NOT_TEXT.format(type_name=type(text).__name__))
    if not text.strip():
        raise InputError(ERROR_EMPTY_QUESTION)


def read_examples(path: str | Path | None = None) -> list[RouterExample]:
    """Read labelled rows from a jsonl file.

    Args:
        path: A ``.jsonl`` file of ``{"text", "label", "split"?}`` objects; the packaged
            examples when omitted. Rows without ``split`` count as train rows.

    Returns:
        The rows in file order.

    Raises:
        ConfigurationError: The file is missing, unreadable or has a malformed row.
    """
    source = Path(path) if path is not None else _packaged_path(EXAMPLES_RESOURCE)
    if not source.is_file():
        raise ConfigurationError(ERROR_EXAMPLES_MISSING.format(path=source))
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(ERROR_EXAMPLES_UNREADABLE.format(path=source, reason=exc)) from exc
    examples: list[RouterExample] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = line
        if not _is_valid_row(row):
            raise ConfigurationError(ERROR_BAD_ROW.format(path=source, line=number, row=row))
        examples.append(
            RouterExample(
                row["text"], row["label"], row.get("split", "train"), str(row.get("source", ""))
            )
        )
    return examples


def _is_valid_row(row: object) -> bool:
    return (
        isinstance(row, dict)
        and isinstance(row.get("text"), str)
        and bool(row["text"].strip())
        and row.get("label") in ROUTES
        and row.get("split", "train") in get_args(Split)
    )


def train_examples(path: str | Path | None = None) -> list[RouterExample]:
    """Return the train split of the packaged examples (or of ``path``)."""
    return [example for example in read_examples(path) if example.split == "train"]


def heldout_examples(path: str | Path | None = None) -> list[RouterExample]:
    """Return the held-out split of the packaged examples (or of ``path``)."""
    return [example for example in read_examples(path) if example.split == "heldout"]


def validation_examples(path: str | Path | None = None) -> list[RouterExample]:
    """Return the validation split (threshold choice only) of the packaged examples."""
    return [example for example in read_examples(path) if example.split == "validation"]


@dataclass(frozen=True)
class _Features:
    """One TF-IDF block: its vocabulary (gram -> column) and idf weights."""

    vocabulary: dict[str, int]
    idf: np.ndarray[Any, np.dtype[np.float64]]

    def vector(self, grams: list[str]) -> tuple[list[int], np.ndarray[Any, Any]]:
        """Columns and l2-normalised sublinear tf-idf values of one text's grams."""
        counts = Counter(self.vocabulary[g] for g in grams if g in self.vocabulary)
        if not counts:
            return [], np.zeros(0)
        columns = list(counts)
        values = (1.0 + np.log(np.fromiter(counts.values(), float))) * self.idf[columns]
        norm = float(np.sqrt(values @ values))
        return columns, values / norm if norm else values


def _strings(values: Any) -> list[Any]:
    """``values`` as a Python list: ``tolist()`` converts a numpy array's strings in one call,
    three times faster than iterating it (this runs once per process, on start-up)."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


class OfflineRouter:
    """The shipped TF-IDF + logistic-regression router, predicting with numpy only.

    Build it with :meth:`load` (the shipped weights) or :meth:`from_arrays`.
    """

    def __init__(
        self,
        words: _Features,
        chars: _Features,
        coef: np.ndarray[Any, Any],
        intercept: np.ndarray[Any, Any],
        classes: Sequence[str],
        metadata: dict[str, Any],
    ) -> None:
        """Wrap exported weights; prefer :meth:`load`."""
        self._words = words
        self._chars = chars
        # Reorder the rows so that scores come out in ROUTES order.
        order = [list(classes).index(route) for route in ROUTES]
        self._coef = np.asarray(coef, dtype=np.float64)[order]
        self._intercept = np.asarray(intercept, dtype=np.float64)[order]
        self.metadata = metadata

    @classmethod
    def from_arrays(cls, arrays: dict[str, Any]) -> OfflineRouter:
        """A router from the arrays that ``scripts/train_offline_router.py`` exports."""
        words = _Features(
            {str(g): i for i, g in enumerate(_strings(arrays["word_vocabulary"]))},
            np.asarray(arrays["word_idf"], dtype=np.float64),
        )
        offset = len(words.vocabulary)
        chars = _Features(
            {str(g): i + offset for i, g in enumerate(_strings(arrays["char_vocabulary"]))},
            np.concatenate([np.zeros(offset), np.asarray(arrays["char_idf"], dtype=np.float64)]),
        )
        words = _Features(
            words.vocabulary,
            np.concatenate([words.idf, np.zeros(len(chars.vocabulary))]),
        )
        metadata = json.loads(str(arrays["metadata"]))
        classes = [str(c) for c in arrays["classes"]]
        return cls(words, chars, arrays["coef"], arrays["intercept"], classes, metadata)

    @classmethod
    def load(cls, path: str | Path | None = None) -> OfflineRouter:
        """Return the router from the weights file ``path`` (default: the shipped weights).

        Loaded once per process and per file (path, size and modification time).

        Raises:
            ConfigurationError: The weights file is missing or unreadable.
        """
        source = Path(path).resolve() if path is not None else Path(_shipped_weights())
        if not source.is_file():
            raise ConfigurationError(ERROR_WEIGHTS_MISSING.format(path=source))
        stat = source.stat()
        key = (str(source), stat.st_size, stat.st_mtime_ns)
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
            if cached is None:
                try:
                    with np.load(source, allow_pickle=False) as data:
                        arrays = {name: data[name] for name in data.files}
                    cached = cls.from_arrays(arrays)
                except (OSError, ValueError, KeyError) as exc:
                    raise ConfigurationError(
                        ERROR_WEIGHTS_UNREADABLE.format(path=source, reason=exc)
                    ) from exc
                _CACHE[key] = cached
            return cached

    def predict(self, text: str) -> RouteGuess:
        """Guess the route of one question.

        Raises:
            InputError: ``text`` is not a string or is blank.
        """
        _check_text(text)
        word_columns, word_values = self._words.vector(word_ngrams(text))
        char_columns, char_values = self._chars.vector(char_ngrams(text))
        logits = self._intercept.copy()
        if word_columns:
            logits += self._coef[:, word_columns] @ word_values
        if char_columns:
            logits += self._coef[:, char_columns] @ char_values
        exp = np.exp(logits - logits.max())
        probabilities = exp / exp.sum()
        scores: dict[str, float] = {
            route: float(p) for route, p in zip(ROUTES, probabilities, strict=True)
        }
        # max() keeps the first of equal scores, so ties resolve in ROUTES order.
        best = max(ROUTES, key=lambda route: scores[route])
        return RouteGuess(route=best, confidence=scores[best], scores=scores)

    def predict_many(self, texts: Sequence[str]) -> list[RouteGuess]:
        """Guess the routes of several questions.

        Raises:
            InputError: Some text is not a string or is blank.
        """
        for text in texts:
            _check_text(text)
        return [self.predict(text) for text in texts]

    def evaluate(self, rows: Iterable[RouterExample]) -> RouterEvaluation:
        """Measure the router on labelled rows.

        Returns:
            Accuracy, row count, the labels in order math, fact, none, the confusion matrix
            (rows: true label, columns: predicted) and the misrouted rows.

        Raises:
            InputError: ``rows`` is empty.
        """
        examples = list(rows)
        if not examples:
            raise InputError(ERROR_NO_ROWS)
        guesses = self.predict_many([e.text for e in examples])
        confusion = [[0] * len(ROUTES) for _ in ROUTES]
        errors: list[Misroute] = []
        for example, guess in zip(examples, guesses, strict=True):
            confusion[ROUTES.index(example.label)][ROUTES.index(guess.route)] += 1
            if guess.route != example.label:
                errors.append(
                    Misroute(
                        text=example.text,
                        label=example.label,
                        predicted=guess.route,
                        confidence=round(guess.confidence, 4),
                    )
                )
        correct = sum(confusion[i][i] for i in range(len(ROUTES)))
        return RouterEvaluation(
            accuracy=correct / len(examples),
            n=len(examples),
            labels=list(ROUTES),
            confusion=confusion,
            errors=errors,
        )


_CACHE: dict[tuple[str, int, int], OfflineRouter] = {}
_CACHE_LOCK = threading.Lock()


def shipped_router_loaded() -> bool:
    """Whether this process has loaded the shipped weights already: a prediction then takes
    well under a millisecond, and needs no worker thread to keep an event loop responsive."""
    return bool(_CACHE) and any(key[0] == _shipped_weights() for key in _CACHE)


@functools.cache
def _shipped_weights() -> str:
    return str(_packaged_path(WEIGHTS_RESOURCE))


def coverage_at(guesses: Sequence[tuple[RouterExample, RouteGuess]], threshold: float) -> Coverage:
    """Coverage and accepted-row accuracy when guesses at or above ``threshold`` are accepted."""
    accepted = [(e, g) for e, g in guesses if g.confidence >= threshold]
    correct = sum(1 for e, g in accepted if g.route == e.label)
    return Coverage(
        threshold=threshold,
        accepted=len(accepted),
        total=len(guesses),
        coverage=len(accepted) / len(guesses) if guesses else 0.0,
        accuracy=correct / len(accepted) if accepted else 1.0,
    )


def threshold_from_guesses(
    guesses: Sequence[tuple[RouterExample, RouteGuess]],
    min_accuracy: float = DEFAULT_MIN_ACCURACY,
) -> float:
    """Lowest confidence threshold whose accepted rows are at least ``min_accuracy`` correct.

    Accepted-row accuracy is not monotonic in the threshold, so every distinct confidence is
    tried; the lowest passing one accepts the most rows.

    Returns:
        The threshold, or ``math.inf`` (accept nothing) when no threshold reaches the target.

    Raises:
        InputError: ``min_accuracy`` is outside 0..1 or there are no guesses.
    """
    if not 0.0 <= min_accuracy <= 1.0:
        raise InputError(ERROR_BAD_ACCURACY.format(value=min_accuracy))
    if not guesses:
        raise InputError(ERROR_NO_ROWS)
    ranked = sorted(guesses, key=lambda pair: pair[1].confidence, reverse=True)
    best = math.inf
    correct = 0
    for index, (example, guess) in enumerate(ranked):
        correct += guess.route == example.label
        is_last_of_tie = (
            index + 1 == len(ranked) or ranked[index + 1][1].confidence < guess.confidence
        )
        # Only a boundary between distinct confidences is a real threshold: equal confidences
        # are accepted or rejected together.
        if is_last_of_tie and correct / (index + 1) >= min_accuracy:
            best = guess.confidence
    return best


def tune_threshold(
    router: OfflineRouter,
    rows: Iterable[RouterExample],
    min_accuracy: float = DEFAULT_MIN_ACCURACY,
) -> float:
    """Confidence threshold that keeps ``router`` at least ``min_accuracy`` correct on ``rows``.

    Among thresholds meeting the target, the one accepting the most rows is returned; the
    app skips the LLM router call for questions at or above it.

    Returns:
        The threshold, or ``math.inf`` when no threshold reaches the target.
    """
    examples = list(rows)
    guesses = router.predict_many([e.text for e in examples])
    return threshold_from_guesses(list(zip(examples, guesses, strict=True)), min_accuracy)
