"""Load test: 500 concurrent requests through the async API, against a faulty Gemini stub.

What it checks (the reliability promise, under load): every request ends, answered or with
a clear ``error``, within its wall-time budget; no exception escapes ``Crossroads.aask``;
and afterwards no turn is missing from the SQLite thread store.

Set-up, all in one process and on loopback only:

* the Gemini stub (``tests/stubs/gemini_stub.py``) plays the model for the router and the
  calculator (the same scripted replies as ``tests/integration/test_faults.py``), and
  injects a fault into each model request at random (seeded): 10 % rate limits (429 with a
  1 s RetryInfo and Retry-After), 5 % overloads (503) and 2 % hangs (no reply for 30 s);
* one :class:`crossroads.Crossroads` on the real ``ChatGoogleGenerativeAI`` client, threads in
  SQLite in a temporary directory, a 2 s per-call timeout, 2 retries per call and a 30 s
  budget per request;
* ``REQUESTS`` calls of ``aask`` started at once, each on its own thread; each question
  names its own number, so an answer shows which question it answered.

Two phases run in the same process: a **baseline** with no faults, then the **faulty** run;
their wall time and latency percentiles are reported as ratios (faulty / baseline).

After each phase every thread is read back from SQLite: a turn is *lost* when the thread
does not hold the question followed by an answer message (the answer, or the error
sentence the request ended with).

    .venv/bin/python benchmarks/load_test.py [--requests 500] [--seed 7]

Writes ``benchmarks/out/load_test.json`` and prints a short table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the stub lives with the tests

from crossroads import Crossroads  # noqa: E402
from tests.integration.test_faults import APPLES, model_of  # noqa: E402
from tests.stubs.gemini_stub import (  # noqa: E402
    GeminiStub,
    Hang,
    RateLimited,
    RecordedRequest,
    ServerFailure,
    StubAction,
)

OUTPUT = REPO / "benchmarks" / "out" / "load_test.json"
MODEL = "google_genai:gemini-2.5-flash"
REQUESTS = 500
RATE_LIMITED_SHARE = 0.10
OVERLOADED_SHARE = 0.05
HANG_SHARE = 0.02
REQUEST_TIMEOUT_S = 10.0
MODEL_RETRIES = 2
BUDGET_S = 120.0
# How late a request may end past its budget and still count as "within budget": the
# budget is checked before each model call, and the graph does a little work after it.
BUDGET_SLACK_S = 2.0
# Hard stop for one aask (far beyond the budget): a request still running then is a hang.
HARD_STOP_S = BUDGET_S * 3


class RandomFaults:
    """A stub responder that injects a fault into a share of model requests (seeded)."""

    def __init__(
        self,
        model: Callable[[RecordedRequest], StubAction | None],
        *,
        seed: int,
        enabled: bool,
    ) -> None:
        self.model = model
        self.enabled = enabled
        self.injected: dict[str, int] = {"429": 0, "503": 0, "hang": 0}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> StubAction | None:
        if self.enabled:
            with self._lock:
                draw = self._rng.random()
                if draw < RATE_LIMITED_SHARE:
                    self.injected["429"] += 1
                    return RateLimited(retry_delay="1s", retry_after_header="1")
                draw -= RATE_LIMITED_SHARE
                if draw < OVERLOADED_SHARE:
                    self.injected["503"] += 1
                    return ServerFailure(503)
                draw -= OVERLOADED_SHARE
                if draw < HANG_SHARE:
                    self.injected["hang"] += 1
                    return Hang(seconds=30)
        return self.model(request)


@dataclass
class Outcome:
    """How one request ended."""

    index: int
    seconds: float
    answered: bool = False
    error: str | None = None
    unhandled: str | None = None
    right_answer: bool = False


@dataclass
class Phase:
    """Figures of one phase."""

    name: str
    requests: int
    wall_s: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    lost_turns: int = 0
    stub_requests: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        latencies = sorted(outcome.seconds for outcome in self.outcomes)
        quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies
        return {
            "requests": self.requests,
            "answered": sum(o.answered for o in self.outcomes),
            "right_answers": sum(o.right_answer for o in self.outcomes),
            "clear_errors": sum(o.error is not None for o in self.outcomes),
            "unhandled": sum(o.unhandled is not None for o in self.outcomes),
            "over_budget": sum(o.seconds > BUDGET_S + BUDGET_SLACK_S for o in self.outcomes),
            "lost_turns": self.lost_turns,
            "wall_s": round(self.wall_s, 3),
            "p50_s": round(quantiles[49] if len(quantiles) > 49 else latencies[0], 3),
            "p95_s": round(quantiles[94] if len(quantiles) > 94 else latencies[-1], 3),
            "max_s": round(latencies[-1], 3),
            "model_requests": self.stub_requests,
            "injected_faults": self.injected,
            "errors_by_kind": self.errors,
        }


def question_number(index: int) -> int:
    return 1000 + index


async def one_request(app: Crossroads, index: int) -> Outcome:
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(
            app.aask(APPLES.format(n=question_number(index)), thread_id=f"load-{index}"),
            HARD_STOP_S,
        )
    except Exception as error:  # exactly what this test counts: nothing should land here
        return Outcome(index, time.monotonic() - started, unhandled=f"{type(error).__name__}")
    outcome = Outcome(index, time.monotonic() - started)
    if result.error is None and result.answer:
        outcome.answered = True
        # The scripted sentence, or the calculator's template when phrasing failed.
        outcome.right_answer = str(question_number(index) - 4) in result.answer
    elif result.error:
        outcome.error = result.error
    else:
        outcome.unhandled = "no answer and no error"
    return outcome


CAUSES = re.compile(r"\b(429|503|RESOURCE_EXHAUSTED|UNAVAILABLE|no reply within|max_\w+)\b")


def error_kind(error: str) -> str:
    """A short label for an error sentence: what failed, and why in a word."""
    what = error.split("(")[0].split(":")[0].strip()
    cause = CAUSES.search(error)
    return f"{what} [{cause.group(1)}]" if cause else what


def count_lost_turns(app: Crossroads, count: int) -> int:
    """Threads whose stored history lacks the question followed by an answer."""
    lost = 0
    for index in range(count):
        history = app.history(f"load-{index}")
        question = APPLES.format(n=question_number(index))
        turns = [speaker for speaker, _ in history]
        ok = (
            len(history) >= 2
            and history[0] == ("you", question)
            and turns[1] != "you"
            and bool(history[1][1])
        )
        lost += not ok
    return lost


async def run_phase(name: str, count: int, *, seed: int, faults: bool, store: Path) -> Phase:
    phase = Phase(name=name, requests=count)
    responder = RandomFaults(model_of("math"), seed=seed, enabled=faults)
    with GeminiStub(responder=responder) as stub:
        app = Crossroads(
            model=MODEL,
            google_api_key="test",
            model_kwargs={"base_url": stub.base_url},
            checkpointer=store,
            router_threshold=1.01,  # the LLM router always runs: three model calls a request
            request_timeout=REQUEST_TIMEOUT_S,
            model_retries=MODEL_RETRIES,
            max_seconds=BUDGET_S,
        )
        try:
            await app.aask("warm up", thread_id="warm-up")  # open the store and the client
            stub.clear()
            responder.injected = {key: 0 for key in responder.injected}
            started = time.monotonic()
            phase.outcomes = await asyncio.gather(*(one_request(app, i) for i in range(count)))
            phase.wall_s = time.monotonic() - started
            phase.stub_requests = stub.request_count
            phase.injected = dict(responder.injected)
            phase.lost_turns = await asyncio.to_thread(count_lost_turns, app, count)
        finally:
            app.close()
    for outcome in phase.outcomes:
        if outcome.error is not None:
            kind = error_kind(outcome.error)
            phase.errors[kind] = phase.errors.get(kind, 0) + 1
    return phase


def print_table(baseline: dict[str, Any], faulty: dict[str, Any]) -> None:
    rows = [
        "requests",
        "answered",
        "right_answers",
        "clear_errors",
        "unhandled",
        "over_budget",
        "lost_turns",
        "model_requests",
        "wall_s",
        "p50_s",
        "p95_s",
        "max_s",
    ]
    print(f"{'':16}{'baseline':>12}{'faults':>12}{'ratio':>10}")
    for row in rows:
        base, fault = baseline[row], faulty[row]
        ratio = f"{fault / base:.2f}x" if row.endswith("_s") and base else ""
        print(f"{row:16}{base:>12}{fault:>12}{ratio:>10}")
    print(f"injected faults: {faulty['injected_faults']}")
    for kind, number in sorted(faulty["errors_by_kind"].items(), key=lambda item: -item[1]):
        print(f"  {number:4} x {kind}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crossroads-load-") as tmp:
        baseline = await run_phase(
            "baseline", args.requests, seed=args.seed, faults=False, store=Path(tmp) / "b.sqlite"
        )
        faulty = await run_phase(
            "faults", args.requests, seed=args.seed, faults=True, store=Path(tmp) / "f.sqlite"
        )
    report = {
        "what": "concurrent aask through the real Gemini client against a faulty loopback stub",
        "settings": {
            "requests": args.requests,
            "seed": args.seed,
            "faults": {"429": RATE_LIMITED_SHARE, "503": OVERLOADED_SHARE, "hang": HANG_SHARE},
            "request_timeout_s": REQUEST_TIMEOUT_S,
            "model_retries": MODEL_RETRIES,
            "budget_s": BUDGET_S,
            "checkpointer": "sqlite (temporary directory)",
        },
        "baseline": baseline.figures(),
        "faults": faulty.figures(),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    report["ratios"] = {
        key: round(report["faults"][key] / report["baseline"][key], 2)
        for key in ("wall_s", "p50_s", "p95_s")
        if report["baseline"][key]
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_table(report["baseline"], report["faults"])
    print(f"wrote {OUTPUT.relative_to(REPO)}")
    bad = report["faults"]
    healthy = bad["unhandled"] == 0 and bad["lost_turns"] == 0 and bad["over_budget"] == 0
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
