"""``crossroads eval SUITE``: run a suite of questions and report how Crossroads did.

    crossroads eval router --offline                       # a shipped suite
    crossroads eval my_suite.jsonl --out report.json --plot report.png
    crossroads eval research --docs benchmarks/corpus      # index these documents first

The metrics are in :mod:`crossroads.evaluation`; this module is the command: it resolves the
suite, builds the app, shows a progress bar (rich, on stderr, so stdout stays the summary),
prints the summary and writes the JSON report and the PNG.

``--docs PATH`` indexes ``PATH`` into a temporary data directory and searches only that index,
so the research suite's answers come from known documents (offline too) and the user's own
index and threads are never touched. Threads are kept in memory for the same reason.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from crossroads.cli.commands import app, cli_settings, fail, user_errors
from crossroads.evaluation import (
    PLOT_NEEDS_MATPLOTLIB,
    RowOutcome,
    load_suite,
    resolve_suite,
    run_suite,
    summarize,
    write_plot,
)

REPORT_UNWRITABLE = "cannot write the report to {path}: {error}"
NO_DOCS_INDEXED = "--docs {paths}: no .md, .txt, .pdf or .html file could be indexed there"
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


@app.command("eval")
def eval_command(
    suite: Annotated[
        str,
        typer.Argument(
            help="A JSONL suite ({question, expected_route?, expected_answer?} per line), "
            "or a shipped suite: router, calculator, research."
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Model as provider:name (default: from the env)."),
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Never call a model.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the full report as JSON here.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write a PNG of the confusion matrix and the cost."),
    ] = None,
    docs: Annotated[
        list[Path] | None,
        typer.Option(
            "--docs",
            help="Index these files or folders first and search only them (repeatable).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Endpoint of the model's server, e.g. http://127.0.0.1:8080/v1 for a local "
            "OpenAI-compatible server (default: CROSSROADS_BASE_URL).",
        ),
    ] = None,
) -> None:
    """Evaluate on a suite: route accuracy, answer accuracy, calls, tokens, latency, errors."""
    # The run itself uses a scratch folder, but a broken CROSSROADS_HOME is reported here as
    # by every other command (one line, exit 2), before a long run rather than never.
    cli_settings()
    if plot is not None:
        if plot.is_dir():
            raise fail(f"--plot {plot} is a folder: give a file name, e.g. {plot / 'eval.png'}")
        if plot.suffix.lower() != ".png":
            # The figure is a PNG, named so: matplotlib would add ".png" to a bare name
            # (writing "/tmp.png" for "--plot /tmp") while this said it wrote "/tmp".
            plot = plot.with_name(plot.name + ".png")
        try:
            import matplotlib  # noqa: F401  (checked before a long run, not after it)
        except ImportError:
            raise fail(PLOT_NEEDS_MATPLOTLIB) from None
    with user_errors():
        path = resolve_suite(suite)
        rows = load_suite(path)
    with tempfile.TemporaryDirectory(prefix="crossroads-eval-") as scratch:
        with user_errors():
            app = _make_app(model, offline, docs, Path(scratch), base_url=base_url)
        with app:
            outcomes = _run_with_progress(app, rows, quiet=quiet)
            settings = app.settings
    model_name = settings.model if isinstance(settings.model, str) else None
    report = summarize(
        outcomes,
        suite=str(path),
        mode="llm" if settings.has_model else "offline",
        model=model_name or (type(settings.model).__name__ if settings.model else None),
        docs=[str(p) for p in docs or []],
        date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    _print_summary(report)
    if out is not None:
        with user_errors():
            _write_json(report, out)
        _out.print(f"report: {escape(str(out))}")
    if plot is not None:
        with user_errors():
            write_plot(report, plot)
        _out.print(f"plot: {escape(str(plot))}")


def _make_app(
    model: str | None,
    offline: bool,
    docs: list[Path] | None,
    scratch: Path,
    *,
    base_url: str | None = None,
) -> Any:
    from crossroads.api import Crossroads
    from crossroads.errors import InputError

    overrides: dict[str, Any] = {}
    if docs:
        from crossroads.tools.retrievers import build_index

        stats = build_index(docs, scratch / "index")
        if stats.chunks == 0:
            raise InputError(NO_DOCS_INDEXED.format(paths=", ".join(map(str, docs))))
        overrides = {"home": scratch, "search_backends": ("local",)}
    # A batch on an in-memory store: nothing outlives the process, so checkpoints are
    # written once per question (durability "exit"), not after every step.
    if base_url:
        overrides["model_kwargs"] = {"base_url": base_url}
    return Crossroads(
        model=model,
        offline=True if offline else None,
        checkpointer="memory",
        durability="exit",
        **overrides,
    )


def _run_with_progress(app: Any, rows: list[Any], *, quiet: bool) -> list[RowOutcome]:
    progress = Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=_err,
        transient=True,
        disable=quiet,
    )
    with progress:
        task = progress.add_task("eval", total=len(rows), last="")

        def advance(outcome: RowOutcome) -> None:
            mark = "✗" if outcome.error else "✓"
            progress.update(task, advance=1, last=f"{mark} {outcome.question[:40]}")

        return run_suite(app, rows, on_row=advance)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _print_summary(report: dict[str, Any]) -> None:
    route, answer, cost = report["route"], report["answer"], report["cost"]
    _out.print(
        f"[bold]{escape(Path(report['suite']).name)}[/]: {report['rows']} question(s), "
        f"mode {report['mode']}"
    )
    _out.print(
        f"route accuracy: {_percent(route['accuracy'])} ({route['correct']}/{route['evaluated']})"
    )
    if route["labels"]:
        matrix = Table(title="routes (rows: expected, columns: predicted)", title_justify="left")
        matrix.add_column("")
        for label in route["labels"]:
            matrix.add_column(escape(label), justify="right")
        for label, counts in zip(route["labels"], route["confusion"], strict=True):
            matrix.add_row(escape(label), *(str(count) for count in counts))
        _out.print(matrix)
    _out.print(
        f"answer accuracy: {_percent(answer['accuracy'])} "
        f"({answer['correct']}/{answer['evaluated']})"
        + "".join(
            f"; {kind} {_percent(entry['accuracy'])}"
            + (f" (mean F1 {entry['mean_f1']:.2f})" if "mean_f1" in entry else "")
            for kind, entry in answer["by_kind"].items()
        )
    )
    table = Table(title="per request", title_justify="left")
    for column in ("", "total", "mean", "p50", "p95"):
        table.add_column(column, justify="right")
    for name, key, scale, digits in (
        ("model calls", "llm_calls", 1, 2),
        ("input tokens", "input_tokens", 1, 0),
        ("output tokens", "output_tokens", 1, 0),
        ("latency (ms)", "latency_s", 1000, 0),
    ):
        entry = cost[key]
        table.add_row(
            name, *(f"{entry[stat] * scale:.{digits}f}" for stat in ("total", "mean", "p50", "p95"))
        )
    _out.print(table)
    errors = report["errors"]
    _out.print(f"errors: {errors['count']}")
    for item in errors["items"][:5]:
        _out.print(f"  [dim]#{item['index']}[/] {escape(item['question'][:60])}: ", end="")
        _out.print(escape(str(item["error"])[:160]))
    if errors["count"] > 5:
        _out.print(f"  ... and {errors['count'] - 5} more in the JSON report")


def _write_json(report: dict[str, Any], path: Path) -> None:
    from crossroads.errors import InputError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise InputError(REPORT_UNWRITABLE.format(path=path, error=error)) from None
