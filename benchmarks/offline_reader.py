"""Benchmark offline mode's readers: word math on real GSM8K problems, facts on documents.

Both report **precision** (answered questions that are right) and **coverage** (questions
answered at all), next to the old reader measured in the same run on the same questions:

* **word math**: the GSM8K problems of the fixed held-out split (``scripts/router_real_data.py``;
  needs ``../shared/data/gsm8k_train.jsonl``, skipped when absent). A reading is right when
  the calculator engine's value equals GSM8K's final answer. The old reader is
  ``tools/word_math.py`` as of :data:`OLD_COMMIT`, read from git.
* **facts**: ``benchmarks/data/fact_pairs.jsonl``, questions about the shipped example corpus
  (``crossroads/data/example_corpus``), half answerable (with the expected text) and half
  about things the documents do not contain. Rows are split in two by a hash of the
  question: ``validation`` (used to set ``MIN_SUPPORT`` and the answer-type patterns in
  ``tools/passages.py``) and ``heldout`` (only measured). An answer is right when it
  contains the expected text, or, for an unanswerable question, when it declines. The old
  figures run the old ``extractive_answer`` (from git) on the same kept passages.

    .venv/bin/python benchmarks/offline_reader.py

Writes ``benchmarks/out/offline_reader.json`` and prints a short table.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from crossroads.errors import CrossroadsError
from crossroads.graphs.researcher import build_researcher_graph
from crossroads.settings import Settings
from crossroads.tools import word_math
from crossroads.tools.calculator import evaluate
from crossroads.tools.retrievers import LocalIndex, build_index

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from router_real_data import DEFAULT_DATA_DIR, split_of  # noqa: E402

OUTPUT = ROOT / "benchmarks" / "out" / "offline_reader.json"
PAIRS = ROOT / "benchmarks" / "data" / "fact_pairs.jsonl"
CORPUS = ROOT / "crossroads" / "data" / "example_corpus"
OLD_COMMIT = "b350f1f"
"""The last commit before issue 17's changes."""
PAIR_SEED = "crossroads-facts-2026"


def old_module(path: str, name: str) -> types.ModuleType | None:
    """``path`` as it was at :data:`OLD_COMMIT`, imported as ``name`` (None without git)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{OLD_COMMIT}:{path}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    try:
        exec(compile(source, f"{OLD_COMMIT}:{path}", "exec"), module.__dict__)
    except ImportError as error:
        # The old file imports modules of its day that have since moved: no old figures.
        del sys.modules[name]
        print(f"old {path} from {OLD_COMMIT} cannot be imported today ({error}): no old figures")
        return None
    return module


def score_math(read: Any, rows: list[dict[str, str]]) -> dict[str, Any]:
    answered = right = 0
    wrong: list[str] = []
    for row in rows:
        outcome = read(row["question"])
        expression = getattr(outcome, "expression", None)
        if expression is None:
            continue
        answered += 1
        try:
            value = float(evaluate(expression))
        except CrossroadsError:
            value = float("nan")
        if abs(value - float(row["answer"].replace(",", ""))) < 1e-6:
            right += 1
        else:
            wrong.append(f"{expression} | {row['question'][:100]}")
    return {
        "questions": len(rows),
        "answered": answered,
        "right": right,
        "coverage": answered / len(rows) if rows else 0.0,
        "precision": right / answered if answered else None,
        "wrong": wrong,
    }


def math_section() -> dict[str, Any] | None:
    path = DEFAULT_DATA_DIR / "gsm8k_train.jsonl"
    if not path.is_file():
        return None
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        question = " ".join(row["question"].split())
        if split_of(question) == "heldout":
            rows.append({"question": question, "answer": row["answer"]})
    old = old_module("tools/word_math.py", "old_word_math")
    return {
        "old": score_math(old.read, rows) if old else None,
        "new": score_math(word_math.read, rows),
    }


def old_extractive(old: types.ModuleType, index: LocalIndex, question: str, settings: Any) -> str:
    """The old offline answer: keyword query, the local index, the old grade, old sentences."""
    query = old.keyword_query(question)
    kept = []
    wanted = old.content_terms(query)
    for passage in index.search(query, settings.max_passages):
        terms = old.content_terms(passage.title + " " + passage.text)
        coverage = len(wanted & terms) / len(wanted) if wanted else 0.0
        if coverage >= old.OFFLINE_KEEP_COVERAGE:
            kept.append({"title": passage.title, "text": passage.text, "coverage": coverage})
    text, _ = old.extractive_answer(question, query, kept)
    return str(text)


def pair_split(question: str) -> str:
    digest = hashlib.sha256(f"{PAIR_SEED}:{question}".encode()).digest()
    return "validation" if digest[0] % 2 == 0 else "heldout"


def fact_right(answer: str, expected: str | None, declined: bool) -> bool:
    if expected is None:
        return declined
    return not declined and expected.lower() in answer.lower()


async def fact_section() -> dict[str, Any]:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]
    old = old_module("agents/researcher.py", "old_researcher")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as home:
        build_index([CORPUS], Path(home) / "index", progress=False)
        settings = Settings(offline=True, home=Path(home))
        graph = build_researcher_graph().compile()
        index = LocalIndex(Path(home) / "index")
        rows = []
        for pair in pairs:
            state = await graph.ainvoke({"question": pair["question"]}, context=settings)
            answer = state.get("answer") or ""
            declined = answer.startswith("I don't know")
            old_answer = ""
            if old is not None:
                old_answer = old_extractive(old, index, pair["question"], settings)
            rows.append(
                {
                    **pair,
                    "split": pair_split(pair["question"]),
                    "new": answer,
                    "new_right": fact_right(answer, pair["answer"], declined),
                    "new_declined": declined,
                    "old": old_answer,
                    "old_right": fact_right(old_answer, pair["answer"], not old_answer),
                    "old_declined": not old_answer,
                }
            )
    for split in ("validation", "heldout"):
        chosen = [r for r in rows if r["split"] == split]
        results[split] = {}
        for which in ("old", "new"):
            answerable = [r for r in chosen if r["answer"] is not None]
            unanswerable = [r for r in chosen if r["answer"] is None]
            answered = [r for r in chosen if not r[f"{which}_declined"]]
            results[split][which] = {
                "pairs": len(chosen),
                "answered": len(answered),
                "answered_right": sum(r[f"{which}_right"] for r in answered),
                "precision": (
                    sum(r[f"{which}_right"] for r in answered) / len(answered) if answered else None
                ),
                "coverage_of_answerable": (
                    sum(r[f"{which}_right"] for r in answerable) / len(answerable)
                    if answerable
                    else None
                ),
                "unanswerable_declined": sum(r[f"{which}_declined"] for r in unanswerable),
                "unanswerable": len(unanswerable),
            }
    results["rows"] = rows
    return results


def main() -> None:
    """Run both sections, write the JSON report and print the table."""
    report: dict[str, Any] = {"math": math_section(), "facts": asyncio.run(fact_section())}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2), encoding="utf-8")
    math = report["math"]
    if math is None:
        print("word math: skipped (no ../shared/data/gsm8k_train.jsonl)")
    else:
        for which in ("old", "new"):
            m = math[which]
            if m is None:
                print(f"word math {which}: no git history to read the old reader from")
                continue
            precision = "n/a" if m["precision"] is None else f"{m['precision']:.3f}"
            print(
                f"word math {which}: GSM8K held-out {m['questions']}, answered {m['answered']} "
                f"(coverage {m['coverage']:.3f}), right {m['right']} (precision {precision})"
            )
    for split in ("validation", "heldout"):
        for which in ("old", "new"):
            f = report["facts"][split][which]
            precision = "n/a" if f["precision"] is None else f"{f['precision']:.3f}"
            print(
                f"facts {split:10} {which}: {f['pairs']} pairs, answered {f['answered']}, "
                f"right {f['answered_right']} (precision {precision}), answerable answered "
                f"right {f['coverage_of_answerable']:.3f}, unanswerable declined "
                f"{f['unanswerable_declined']}/{f['unanswerable']}"
            )
    for row in report["facts"]["rows"]:
        if not row["new_right"]:
            print(f"  new wrong ({row['split']}): {row['question']} -> {row['new'][:110]}")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
