"""Route every question of the shipped router suite with a real model always asked, next to
the offline classifier on the same questions in the same run (issue 22).

Start a model server first (``scripts/start-llama`` serves SmolLM2-135M-Instruct through
llama.cpp on 127.0.0.1; any OpenAI-compatible server works)::

    .venv/bin/python benchmarks/real_model_router.py "$(scripts/start-llama)"

Prints one line per question (expected, the model's route and how it was decided, the
classifier's route) and a summary: how many routes were right, how many replies were read
as a valid route, and the model's median and maximum latency.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from importlib import resources

from crossroads import Crossroads
from crossroads.settings import ROLES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the server's OpenAI-compatible endpoint (…/v1)")
    parser.add_argument("--model", default="openai:smollm2-135m-instruct")
    args = parser.parse_args()
    text = resources.files("crossroads.data").joinpath("suite_router.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    model_app = Crossroads(
        args.model,
        checkpointer="memory",
        router_threshold=1.01,  # always ask the model
        temperatures=dict.fromkeys(ROLES, 0.0),
        first_byte_timeout=60.0,
        model_kwargs={"base_url": args.base_url, "api_key": "not-needed", "seed": 7},
    )
    offline_app = Crossroads(offline=True, checkpointer="memory")
    decided: collections.Counter[str] = collections.Counter()
    right = right_offline = valid = 0
    latencies = []
    with model_app, offline_app:
        for row in rows:
            started = time.monotonic()
            decision = model_app.route(row["question"])
            latencies.append(time.monotonic() - started)
            offline = offline_app.route(row["question"])
            decided[decision.decided_by] += 1
            valid += decision.route in {"math", "fact", "none"}
            right += decision.route == row["expected_route"]
            right_offline += offline.route == row["expected_route"]
            print(
                f"{row['expected_route']:5} model={decision.route:5} ({decision.decided_by})"
                f" offline={offline.route:5} {row['question'][:60]}"
            )
    latencies.sort()
    print(
        f"{len(rows)} questions: model right {right}, valid routes {valid}, "
        f"decided by {dict(decided)}; classifier right {right_offline}; model latency "
        f"median {latencies[len(latencies) // 2]:.1f} s, max {latencies[-1]:.1f} s"
    )


if __name__ == "__main__":
    main()
