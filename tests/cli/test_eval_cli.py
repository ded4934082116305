"""``crossroads eval`` as a real subprocess, offline: the report, the plot, the errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from crossroads.evaluation import final_number

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "crossroads"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

TINY_SUITE = [
    {"question": "12*7", "expected_route": "math", "expected_answer": "84"},
    {"question": "What is 10 minus 4?", "expected_route": "math", "expected_answer": "7"},
    {
        "question": "What is the capital of Zembla?",
        "expected_route": "fact",
        "expected_answer": "Ondra",
    },
    {"question": "Write a haiku about rain", "expected_route": "none"},
]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=180,
        env=dict(os.environ),  # CROSSROADS_HOME is the test's own (conftest)
        cwd=ROOT,
        check=False,
    )


def write_suite(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def assert_one_line_error(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]


def test_eval_offline_writes_the_report_and_the_plot(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "tiny.jsonl", TINY_SUITE)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zembla.md").write_text(
        "# Zembla\n\nZembla is a small northern kingdom. The capital of Zembla is Ondra, "
        "a city of bridges.\n",
        encoding="utf-8",
    )
    report_path, plot_path = tmp_path / "out" / "report.json", tmp_path / "report.png"

    proc = run(
        "eval", suite, "--offline", "--docs", docs, "--out", report_path, "--plot", plot_path
    )

    assert proc.returncode == 0, proc.stderr
    assert "route accuracy: 100.0% (4/4)" in proc.stdout
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["rows"] == 4 and report["mode"] == "offline"
    assert report["docs"] == [str(docs)]
    assert report["route"]["labels"] == ["math", "fact", "none"]
    assert report["route"]["confusion"] == [[2, 0, 0], [0, 1, 0], [0, 0, 1]]
    # 12*7 = 84 is right; 10 - 4 is not 7 (the suite is wrong on purpose); Ondra is found.
    assert [item["answer_correct"] for item in report["items"]] == [True, False, True, None]
    assert final_number(report["items"][1]["answer"]) == 6
    assert report["answer"]["by_kind"]["numeric"]["accuracy"] == 0.5
    assert report["answer"]["by_kind"]["text"]["accuracy"] == 1.0
    assert report["cost"]["llm_calls"]["total"] == 0  # offline: no model calls
    assert report["cost"]["latency_s"]["p95"] >= report["cost"]["latency_s"]["p50"] > 0
    assert report["errors"]["count"] == 0
    assert plot_path.read_bytes()[:8] == PNG_MAGIC


def test_eval_runs_a_shipped_suite_by_name(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    proc = run("eval", "calculator", "--offline", "--quiet", "--out", report_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert Path(report["suite"]).name == "suite_calculator.jsonl"
    assert report["rows"] == len(report["items"]) >= 10
    assert report["answer"]["evaluated"] == report["rows"]


def test_eval_user_mistakes_are_one_line(tmp_path: Path) -> None:
    assert_one_line_error(
        run("eval", tmp_path / "missing.jsonl", "--offline"), "suite file not found"
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "2+2"}\n{"question": "x", "answer": "4"}\n', encoding="utf-8")
    assert_one_line_error(run("eval", bad, "--offline"), "line 2: unknown key(s) answer")
    suite = write_suite(tmp_path / "ok.jsonl", TINY_SUITE[:1])
    assert_one_line_error(
        run("eval", suite, "--offline", "--docs", tmp_path / "no-such-folder"), "no-such-folder"
    )
    # A folder for --plot: once "/tmp.png" was written beside it and "plot: /tmp" printed.
    assert_one_line_error(run("eval", suite, "--offline", "--plot", tmp_path), "is a folder")
    assert not tmp_path.with_name(tmp_path.name + ".png").exists()


def test_the_plot_is_written_where_the_command_says(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "ok.jsonl", TINY_SUITE[:1])
    proc = run("eval", suite, "--offline", "--quiet", "--plot", tmp_path / "figure")
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "figure.png"
    assert written.read_bytes()[:8] == PNG_MAGIC
    assert f"plot: {written}" in " ".join(proc.stdout.split())
