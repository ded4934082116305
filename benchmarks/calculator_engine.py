"""Benchmark the calculator engine against baselines measured in the same run.

For a few representative inputs it times, per call:

* ``evaluate(text)``: the whole engine (normalise, split, check, compute, round);
* ``ast.parse`` of the same input written as plain Python: the floor for any engine that
  parses with ``ast`` (the engine parses each line once, so its cost above this is the rest);
* ``numexpr.evaluate`` on the same trusted plain text with ``local_dict={}``/``global_dict={}``:
  the engine the design card named (numexpr caches compiled text, so repeats are its best case).
  Inputs numexpr cannot compute (``2**64 * 3**40`` overflows its C longs) show ``-``.

The two rejected inputs show what a refusal costs. Timing: ``timeit`` autorange, then
``REPEATS`` rounds in which engine and baselines take turns; best round, in µs per call;
ratios are engine time / baseline time.

    .venv/bin/python benchmarks/calculator_engine.py

Writes ``benchmarks/out/calculator_engine.json`` and prints a short table.
"""

from __future__ import annotations

import ast
import json
import math
import platform
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numexpr

from crossroads.tools.calculator import CalculatorError, evaluate

OUTPUT = Path(__file__).resolve().parent / "out" / "calculator_engine.json"
REPEATS = 5


@dataclass(frozen=True)
class Case:
    name: str
    text: str  # what the model would send to the engine
    plain: str  # the same computation as plain Python / numexpr text
    numexpr_can: bool = True


CASES = [
    Case("small", "2 + 2", "2 + 2"),
    Case("separators + unicode", "1,234,567.5 × 3 − 12 ÷ 4", "1234567.5 * 3 - 12 / 4"),
    Case(
        "functions",
        "sqrt(2) * sin(pi / 4) + log(1000, 10)",
        "sqrt(2) * sin(3.141592653589793 / 4) + log(1000) / log(10)",
    ),
    Case("compound interest", "10000 * (1 + 0.05) ** 30", "10000 * (1 + 0.05) ** 30"),
    Case("big integer", "2**64 * 3**40", "2**64 * 3**40", numexpr_can=False),
    Case("3-line program", "eggs = 16; left = eggs - 3 - 4; left * 2", "(16 - 3 - 4) * 2"),
    Case("rejected: hostile", "__import__('os').system('x')", "0", numexpr_can=False),
    Case("rejected: 9**9**9", "9**9**9", "0", numexpr_can=False),
]


def microseconds_per_call(functions: list[Callable[[], object]]) -> list[float]:
    """Best of ``REPEATS`` rounds for each function, in µs per call.

    The functions take turns within each round, so a busy machine slows all of them alike
    and the ratios between them stay meaningful.
    """
    timers = [timeit.Timer(function) for function in functions]
    numbers = [timer.autorange()[0] for timer in timers]
    best = [math.inf] * len(timers)
    for _ in range(REPEATS):
        for index, (timer, number) in enumerate(zip(timers, numbers, strict=True)):
            best[index] = min(best[index], timer.timeit(number) / number * 1e6)
    return best


def run_engine(text: str) -> Callable[[], object]:
    def call() -> object:
        try:
            return evaluate(text)
        except CalculatorError as error:
            return error

    return call


def main() -> None:
    """Time every case, write the JSON report and print the table."""
    rows = []
    for case in CASES:
        mode = "exec" if ";" in case.text else "eval"
        contenders: list[Callable[[], object]] = [
            run_engine(case.text),
            partial(ast.parse, case.plain, mode=mode),
        ]
        if case.numexpr_can:
            contenders.append(partial(numexpr.evaluate, case.plain, local_dict={}, global_dict={}))
        engine_us, ast_us, *rest = microseconds_per_call(contenders)
        numexpr_us = rest[0] if rest else None
        result = run_engine(case.text)()
        rows.append(
            {
                "case": case.name,
                "text": case.text,
                "result": result if isinstance(result, int | float) else f"error: {result}",
                "engine_us": engine_us,
                "ast_parse_us": ast_us,
                "numexpr_us": numexpr_us,
                "engine_over_ast_parse": engine_us / ast_us,
                "engine_over_numexpr": engine_us / numexpr_us if numexpr_us else None,
            }
        )

    report = {
        "python": platform.python_version(),
        "numexpr": numexpr.__version__,
        "machine": platform.machine(),
        "repeats": REPEATS,
        "rows": rows,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")

    print(
        f"{'case':24} {'engine µs':>10} {'ast.parse µs':>13} {'numexpr µs':>11} "
        f"{'/ast':>6} {'/numexpr':>9}"
    )
    for row in rows:
        numexpr_text = f"{row['numexpr_us']:.1f}" if row["numexpr_us"] else "-"
        ratio_text = f"{row['engine_over_numexpr']:.2f}x" if row["engine_over_numexpr"] else "-"
        print(
            f"{row['case']:24} {row['engine_us']:10.1f} {row['ast_parse_us']:13.1f} "
            f"{numexpr_text:>11} {row['engine_over_ast_parse']:5.1f}x {ratio_text:>9}"
        )
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
