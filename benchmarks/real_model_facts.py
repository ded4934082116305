"""Answer the fact pairs about the example corpus with a real model, next to the model's own
answers in the same run: what the researcher's citation rule changes.

The researcher replaces a model answer that cites no passage with the passages' own sentences
(cited) or "I don't know", and keeps the model's words in the step (``model_answer``). So one
run gives both: the model's own answers (the baseline: what came back before the rule) and
the answers that stand. Questions: ``benchmarks/data/fact_pairs.jsonl`` (half answerable from
``crossroads/data/example_corpus``, half not), searched in a local index of that corpus.

Start a model server first (``scripts/start-llama`` serves SmolLM2-135M-Instruct through
llama.cpp on 127.0.0.1; any OpenAI-compatible server works)::

    .venv/bin/python benchmarks/real_model_facts.py "$(scripts/start-llama)"

An answer is right when it contains the expected text (answerable) or says "I don't know"
(unanswerable); "cited" means it carries at least one ``[n]`` that maps to a source. Writes
``benchmarks/out/real_model_facts.json`` and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from offline_reader import CORPUS, PAIRS, ROOT, fact_right  # the same pairs and rule

from crossroads.graphs.researcher import build_researcher_graph
from crossroads.settings import ROLES, Settings
from crossroads.tools.retrievers import build_index

OUTPUT = ROOT / "benchmarks" / "out" / "real_model_facts.json"
CITATION = re.compile(r"\[(\d+)\]")


def right(answer: str, expected: str | None) -> bool:
    return fact_right(answer, expected, declined=answer.startswith("I don't know"))


def cited(answer: str, sources: int) -> bool:
    numbers = {int(n) for n in CITATION.findall(answer)}
    return bool(numbers) and numbers <= set(range(1, sources + 1))


def summary(rows: list[dict[str, Any]], which: str) -> dict[str, Any]:
    answerable = [r for r in rows if r["expected"] is not None]
    unanswerable = [r for r in rows if r["expected"] is None]
    return {
        "right": sum(r[f"{which}_right"] for r in rows),
        "answerable_right": sum(r[f"{which}_right"] for r in answerable),
        "answerable": len(answerable),
        "unanswerable_declined": sum(r[f"{which}_right"] for r in unanswerable),
        "unanswerable": len(unanswerable),
        "cited": sum(r[f"{which}_cited"] for r in rows),
    }


async def run(base_url: str, model: str) -> dict[str, Any]:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as home:
        build_index([CORPUS], Path(home) / "index", progress=False)
        settings = Settings(
            model=model,
            home=Path(home),
            search_backends=("local",),
            temperatures=dict.fromkeys(ROLES, 0.0),
            first_byte_timeout=60.0,
            request_timeout=60.0,
            model_kwargs={"base_url": base_url, "api_key": "not-needed", "seed": 7},
        )
        graph = build_researcher_graph().compile()
        for pair in pairs:
            state = await graph.ainvoke({"question": pair["question"]}, context=settings)
            final = str(state.get("answer") or "")
            sources = len(state.get("sources") or [])
            steps = [s["detail"] for s in state.get("steps") or [] if s["action"] == "answer"]
            replaced = next((d for d in steps if d.get("replaced_by")), None)
            own = str(replaced["model_answer"]) if replaced else final
            row = {
                "question": pair["question"],
                "expected": pair["answer"],
                "model_answer": own,
                "answer": final,
                "replaced": replaced is not None,
                "own_right": right(own, pair["answer"]),
                # A replaced answer cited nothing: that is why it was replaced.
                "own_cited": False if replaced else cited(final, sources),
                "final_right": right(final, pair["answer"]),
                "final_cited": cited(final, sources),
            }
            rows.append(row)
            print(
                f"{'R' if row['replaced'] else ' '} own={'ok' if row['own_right'] else '--'}"
                f" final={'ok' if row['final_right'] else '--'} {pair['question'][:60]}",
                flush=True,
            )
    return {
        "benchmark": "real_model_facts",
        "model": model,
        "pairs": len(rows),
        "replaced": sum(r["replaced"] for r in rows),
        "model_own": summary(rows, "own"),
        "standing": summary(rows, "final"),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the server's OpenAI-compatible endpoint (…/v1)")
    parser.add_argument("--model", default="openai:smollm2-135m-instruct")
    args = parser.parse_args()
    result = asyncio.run(run(args.base_url, args.model))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"{result['pairs']} pairs, {result['replaced']} model answers replaced")
    for name in ("model_own", "standing"):
        part = result[name]
        print(
            f"{name:10} right {part['right']}/{result['pairs']}: answerable"
            f" {part['answerable_right']}/{part['answerable']}, unanswerable declined"
            f" {part['unanswerable_declined']}/{part['unanswerable']}; cited {part['cited']}"
        )
    print(f"JSON: {OUTPUT}")


if __name__ == "__main__":
    main()
