"""What the writing team costs per request: model calls and tokens, short against long.

The team's cost is its model calls, so the model is a
:class:`~crossroads.testing.ScriptedChatModel` (no network): its token counts are estimates
(about 4 characters per token of prompt and reply), which is what matters here, because the
prompts are the real ones and they grow with the plan, the bible and the summaries.

Cases (all through the compiled writers subgraph, default settings):

* **haiku** — "write a haiku about rain": the deterministic short rule, one writer call and
  one critic pass. This is the baseline every ratio is measured against.
* **haiku, planned** — the same haiku asked "in one part", which the rule sends down the long
  path (creative, planner, plan critic): what the short rule saves.
* **story, 3 parts** and **story, 5 parts** — long requests, every draft approved.
* **story, 3 parts + 1 revision** — the hero renamed in part 2 and caught by ``check_names``.

    .venv/bin/python benchmarks/writers_cost.py

Writes ``benchmarks/out/writers_cost.json`` and prints a short table.
"""

from __future__ import annotations

import asyncio
import json
import platform
import time
from pathlib import Path
from typing import Any

from crossroads.graphs.writers import build_writers_graph
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel

OUTPUT = Path(__file__).resolve().parent / "out" / "writers_cost.json"
ROLES = ("creative", "planner", "critic", "writer")

HAIKU = "Soft rain on the roof\nthe garden drinks in silence\npuddles hold the sky"
APPROVE = {"verdict": "approve", "issues": []}
PREMISE = (
    "Mira, the keeper of the Eldmoor lighthouse, must keep the lamp burning through a week "
    "of storms while Tom, a stubborn fisherman, refuses to stay ashore."
)
BIBLE = {
    "characters": [
        {"name": "Mira", "traits": ["lighthouse keeper", "patient"]},
        {"name": "Tom", "traits": ["fisherman", "stubborn"]},
    ],
    "places": ["Eldmoor"],
    "facts": ["The lamp has never gone dark."],
    "style": "Third person, past tense, quiet and warm.",
}
EVENTS = (
    "the storm rolled in from the west",
    "the sea was calm and grey",
    "the wind broke a window in the tower",
    "the fishing boats stayed in the harbour",
    "the last storm of the year passed",
)


def story_part(number: int, *, hero: str = "Mira") -> str:
    """A plain, check-clean part of about 50 words (``hero`` renames the keeper)."""
    event = EVENTS[(number - 1) % len(EVENTS)]
    return (
        f"On the morning of day {number}, {event}. Then {hero} climbed the stairs of the "
        f"lighthouse and checked the great lamp. Tom waved from his boat below, and {hero} "
        f"waved back, because she knew the sea would test them both again before the "
        f"night was over.\n\nBy evening the lamp was burning, and {hero} sat by the window."
    )


def plan(parts: int) -> dict[str, Any]:
    return {
        "title": "The Keeper of Eldmoor",
        "parts": [
            {
                "title": f"Day {n}",
                "goal": f"Mira keeps the lamp lit on day {n}.",
                "target_words": 60,
            }
            for n in range(1, parts + 1)
        ],
        "bible": BIBLE,
    }


def update(number: int) -> dict[str, Any]:
    return {"summary": f"Day {number}: Mira kept the lamp lit while Tom fished."}


def story_model(parts: int, *, renamed_part: int | None = None) -> ScriptedChatModel:
    writer = []
    for number in range(1, parts + 1):
        if number == renamed_part:
            writer.append(story_part(number, hero="Mara"))
        writer.append(story_part(number))
    critic = [APPROVE] * (1 + len(writer))
    return ScriptedChatModel(
        by_role={
            "creative": [PREMISE],
            "planner": [plan(parts), *(update(n) for n in range(1, parts))],
            "critic": critic,
            "writer": writer,
        }
    )


def haiku_model(*, planned: bool) -> ScriptedChatModel:
    by_role: dict[str, list[Any]] = {"critic": [APPROVE], "writer": [HAIKU]}
    if planned:
        one_part = {
            "title": "Rain",
            "parts": [{"title": "Rain", "goal": "A haiku about rain."}],
            "bible": {"style": "haiku"},
        }
        by_role = {"creative": [PREMISE], "planner": [one_part], "critic": [APPROVE] * 2}
        by_role["writer"] = [HAIKU]
    return ScriptedChatModel(by_role=by_role)


CASES: tuple[tuple[str, str, Any], ...] = (
    ("haiku", "write a haiku about rain", lambda: haiku_model(planned=False)),
    (
        "haiku, planned",
        "write a haiku about rain in one part",
        lambda: haiku_model(planned=True),
    ),
    (
        "story, 3 parts",
        "Write a story in 3 parts about a lighthouse keeper",
        lambda: story_model(3),
    ),
    (
        "story, 5 parts",
        "Write a story in 5 parts about a lighthouse keeper",
        lambda: story_model(5),
    ),
    (
        "story, 3 parts + 1 revision",
        "Write a story in 3 parts about a lighthouse keeper",
        lambda: story_model(3, renamed_part=2),
    ),
)


async def run_case(question: str, model: ScriptedChatModel) -> dict[str, Any]:
    graph = build_writers_graph().compile()
    start = time.perf_counter()
    output = await graph.ainvoke({"question": question}, context=Settings(model=model))
    elapsed = time.perf_counter() - start
    if output.get("error"):
        raise RuntimeError(f"{question!r} failed: {output['error']}")
    usage = output["usage"]
    return {
        "llm_calls": usage["llm_calls"],
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
        "calls_by_role": {role: len(model.calls_for(role)) for role in ROLES},
        "answer_words": len(output["answer"].split()),
        "ms": round(elapsed * 1000, 1),
    }


async def main() -> None:
    results: dict[str, Any] = {}
    for name, question, make_model in CASES:
        results[name] = await run_case(question, make_model())
    base = results["haiku"]
    base_tokens = base["input_tokens"] + base["output_tokens"]
    for row in results.values():
        row["calls_vs_haiku"] = round(row["llm_calls"] / base["llm_calls"], 2)
        tokens = row["input_tokens"] + row["output_tokens"]
        row["tokens_vs_haiku"] = round(tokens / base_tokens, 2)

    header = f"{'case':<30}{'calls':>6}{'in tok':>8}{'out tok':>8}{'calls x':>9}{'tok x':>8}  by role (c/p/k/w)"
    print(header)
    print("-" * len(header))
    for name, row in results.items():
        roles = "/".join(str(row["calls_by_role"][role]) for role in ROLES)
        print(
            f"{name:<30}{row['llm_calls']:>6}{row['input_tokens']:>8}{row['output_tokens']:>8}"
            f"{row['calls_vs_haiku']:>9.2f}{row['tokens_vs_haiku']:>8.2f}  {roles}"
        )
    print("ratios are against the haiku (short path) measured in the same run")

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(
        json.dumps(
            {
                "benchmark": "writers_cost",
                "model": "ScriptedChatModel (tokens estimated at ~4 characters each)",
                "python": platform.python_version(),
                "baseline": "haiku",
                "results": results,
            },
            indent=2,
        )
    )
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    asyncio.run(main())
