"""The ``crossroads`` command's typer app, the helpers every command shares, and the
one-shot commands ask, index, graph and threads (``chat``, ``eval`` and ``mcp`` live in
:mod:`crossroads.cli.chat`, :mod:`crossroads.cli.evaluate` and :mod:`crossroads.cli.mcp`).

Built on typer (commands and options), rich (output) and prompt_toolkit (line editing and
history in the chat). Exit codes: 0 the question was answered; 1 the request ended without an
answer (a provider failure, a budget, an offline decline); 2 a user mistake (bad input or
configuration, an unusable data folder), printed as one line on stderr, never a traceback.

    crossroads ask "What is 15% of 240?"
    crossroads ask "capital of australia" --json
    crossroads chat --thread work
    crossroads index ~/notes
    crossroads graph
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.style import Style
from rich.text import Text

from crossroads import __version__
from crossroads.api import Crossroads, Result
from crossroads.errors import ConfigurationError, CrossroadsError, ThreadBusy
from crossroads.settings import Settings
from crossroads.terminal import json_for_terminal, plain_for_terminal
from crossroads.validation import MAX_QUESTION_CHARS, clean_thread_id


def escape(text: str) -> str:
    """``text`` for rich: control sequences removed (untrusted model and document text
    must not drive the terminal), then markup escaped."""
    return escape_markup(plain_for_terminal(text))


EXIT_CODES_HELP = (
    "Exit codes: 0 answered; 1 no answer (the model failed, a budget ran out, or offline mode "
    "declined); 2 a mistake in the input or the configuration."
)

app = typer.Typer(
    name="crossroads",
    help="Ask one question; a router hands it to the agent that can do the job.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ROUTE_STYLES = {"math": "bold cyan", "fact": "bold green", "none": "bold magenta"}
ROUTE_LABELS = {"none": "writing"}
"""Badge text for routes whose registry name reads badly (the writers' route is ``none``)."""
EXIT_OK = 0
EXIT_NO_ANSWER = 1
EXIT_USAGE = 2
STATUS_EXIT = {"answered": EXIT_OK, "paused": EXIT_OK, "partial": EXIT_NO_ANSWER}
STATUS_EXIT.update({"failed": EXIT_NO_ANSWER, "declined": EXIT_NO_ANSWER})
NOT_FINISHED = "Sorry, I could not"
"""How an answer that is only an apology for a failure begins (the app's and the agents')."""
UNUSABLE_HOME = (
    "the data folder {folder} is not usable: {cause} (set CROSSROADS_HOME to a writable folder)"
)
STDIN_TOO_LONG_BYTES = MAX_QUESTION_CHARS * 4 + 4
OFFLINE_NOTE = (
    "offline mode (no model configured): math word problems and facts from your indexed "
    "documents work; writing needs a model (set GOOGLE_API_KEY or CROSSROADS_MODEL)"
)

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", "-m", help="Model as provider:name, e.g. google_genai:gemini-2.5-flash."
    ),
]
ThreadOption = Annotated[
    str | None, typer.Option("--thread", "-t", help="Conversation to continue (kept in SQLite).")
]
OfflineOption = Annotated[
    bool, typer.Option("--offline", help="Never call a model (also CROSSROADS_OFFLINE=1).")
]


def fail(message: str) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(EXIT_USAGE)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn Crossroads' errors into one line on stderr and exit code 2 (1 for a thread
    another request kept busy: the question was fine, it just got no answer)."""
    try:
        yield
    except ThreadBusy as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}")
        raise typer.Exit(EXIT_NO_ANSWER) from None
    except CrossroadsError as error:
        raise fail(str(error)) from None


def make_app(model: str | None, offline: bool, *, keep_threads: bool = True) -> Crossroads:
    """The app for a CLI command: SQLite threads under CROSSROADS_HOME, or, for a one-off
    question (``keep_threads=False``), threads kept in memory only."""
    return Crossroads(
        model=model,
        offline=True if offline else None,
        checkpointer=None if keep_threads else "memory",
    )


def check_data_dir(settings: Settings) -> None:
    """Make sure the data folder can be created and written, or raise one clear sentence.

    Raises:
        ConfigurationError: the folder is a file, read-only, or on a full disk.
    """
    folder = settings.data_dir
    try:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(0, "it is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".crossroads-check-") as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        cause = (error.strerror or str(error) or type(error).__name__).lower()
        raise ConfigurationError(UNUSABLE_HOME.format(folder=folder, cause=cause)) from None


def cli_settings() -> Settings:
    """Settings from the environment, with the data folder checked (one line, exit 2)."""
    with user_errors():
        settings = Settings.from_env()
        check_data_dir(settings)
    return settings


def outcome(result: Result) -> str:
    """``answered``, ``paused`` (waiting for a review), ``partial`` (an answer, but the request
    stopped early), ``failed`` (no answer) or ``declined`` (offline mode cannot do it)."""
    if result.interrupt is not None:
        return "paused"
    if result.declined:
        return "declined"
    if result.error:
        if not result.answer.strip() or result.answer.startswith(NOT_FINISHED):
            return "failed"
        return "partial"
    return "answered"


def describe_mode(settings: Settings) -> str:
    """One line: which model answers, or that this is offline mode."""
    if not settings.has_model:
        return OFFLINE_NOTE
    model = settings.model
    name = model if isinstance(model, str) else type(model).__name__
    return f"model: {name}"


def version_callback(value: bool) -> None:
    if value:
        out.print(f"crossroads {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Crossroads: a router and a team of agents (calculator, researcher, writers)."""
    # Log records (a PDF parser's complaints, the index's own "skipped" warning) would reach
    # the terminal raw through logging's last-resort handler; each command prints what a
    # person needs to know (``index`` lists the files it skipped, and why).
    logging.getLogger().addHandler(logging.NullHandler())


# -- ask ------------------------------------------------------------------------------


@app.command(epilog=EXIT_CODES_HELP)
def ask(
    question: Annotated[
        str,
        typer.Argument(
            help=f"The question, in quotes (at most {MAX_QUESTION_CHARS:,} characters); "
            "- reads it from standard input."
        ),
    ],
    model: ModelOption = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the Result as one JSON object, with its status."),
    ] = False,
    thread: Annotated[
        str | None,
        typer.Option(
            "--thread",
            "-t",
            help="Keep this question in a saved conversation (continued if it exists). "
            "Without it, nothing is saved.",
        ),
    ] = None,
    offline: OfflineOption = False,
) -> None:
    """Answer one question and print the answer."""
    text: str | bytes = question
    if question == "-":
        text = sys.stdin.buffer.read(STDIN_TOO_LONG_BYTES)
    cli_settings()
    with user_errors(), make_app(model, offline, keep_threads=thread is not None) as crossroads:
        if thread is not None:
            thread = clean_thread_id(thread)  # before "new conversation" is said of it
            if not crossroads.history(thread):
                err.print(f"[dim]new conversation: {escape(thread)}[/]")
        if err.is_terminal and not as_json:
            result = ask_with_spinner(crossroads, text, thread)
        else:
            result = crossroads.ask(text, thread_id=thread)
    status = outcome(result)
    code = STATUS_EXIT[status]
    if as_json:
        data = {**result.to_dict(), "status": status, "exit_code": code}
        if thread is None:
            data["thread_id"] = None  # nothing was kept: there is no thread to continue
        sys.stdout.write(json_for_terminal(data) + "\n")
    else:
        print_result(result)
    if code:
        raise typer.Exit(code)


STEP_NAMES = {
    "intake": "starting",
    "summarize": "summarising earlier turns",
    "router": "routing",
    "plan_step": "planning the steps",
    "prepare": "reading the question",
    "extract": "extracting",
    "evaluate": "computing",
    "phrase": "phrasing the answer",
    "give_up": "giving up",
    "rewrite": "rewriting the query",
    "retrieve": "searching",
    "grade": "checking what was found",
    "answer": "answering",
    "start_request": "starting",
    "premise": "drafting the premise",
    "plan": "planning",
    "critique_plan": "reviewing the plan",
    "review_plan": "waiting for the plan review",
    "write_part": "writing part {part}",
    "critique_part": "reviewing part {part}",
    "accept_part": "keeping part {part}",
    "update_memory": "updating the story notes",
    "assemble": "assembling",
    "respond": "finishing",
    "write": "writing",
}


class StepTracker:
    """Turns stream events into the name of the current step (``writing part 2/5``)."""

    def __init__(self) -> None:
        self.step = "starting"
        self.parts_done = 0
        self.parts_total = 0

    def feed(self, event: Any) -> bool:
        """Update from one event; ``True`` when the step name changed."""
        before = self.step
        if event.type == "progress" and event.data.get("type") == "part":
            self.parts_done = int(event.data.get("index") or 0)
            self.parts_total = int(event.data.get("total") or 0)
        elif event.type == "node_start" and event.node:
            leaf = event.node.split("/")[-1]
            part = str(self.parts_done + 1)
            if self.parts_total:
                part += f"/{self.parts_total}"
            self.step = STEP_NAMES.get(leaf, leaf.replace("_", " ")).format(part=part)
        return self.step != before


class Spinner:
    """A one-line spinner with the current step and the elapsed time, for a terminal.

    It draws after the cursor (saving and restoring its position), so text already on the
    line (the chat's route badge) stays; ``stop`` erases what it drew.
    """

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, stream: Any, step: str = "starting") -> None:
        self.stream = stream
        self.step = step
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._drawn = False

    def start(self) -> Spinner:
        self.stream.write("\x1b7")  # save the cursor
        self.stream.flush()
        self._thread = threading.Thread(target=self._run, name="crossroads-spinner", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        frame = 0
        while not self._stop.is_set():
            self.draw(self.FRAMES[frame % len(self.FRAMES)])
            frame += 1
            self._stop.wait(0.1)

    def draw(self, frame: str) -> None:
        elapsed = time.monotonic() - self.started
        text = f"{frame} {self.step} · {elapsed:.0f}s"
        with self._lock:
            if self._stop.is_set():
                return
            self.stream.write(f"\x1b8\x1b[K\x1b[2m{text}\x1b[0m")
            self.stream.flush()
            self._drawn = True

    def stop(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            self._stop.set()
            if self._drawn:
                self.stream.write("\x1b8\x1b[K")
                self.stream.flush()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)


def ask_with_spinner(crossroads: Crossroads, question: str | bytes, thread: str | None) -> Result:
    """Ask through the event stream, showing the current step and elapsed time on stderr."""
    tracker = StepTracker()
    spinner = Spinner(sys.stderr).start()
    result: Result | None = None
    try:
        for event in crossroads.stream(question, thread_id=thread):
            if tracker.feed(event):
                spinner.step = tracker.step
            if event.type == "result":
                result = event.result
    finally:
        spinner.stop()
    if result is None:  # the stream always ends with a result; this is a broken agent
        raise typer.Exit(EXIT_NO_ANSWER)
    return result


def print_result(result: Result) -> None:
    """The answer, then its sources as links, then any error the answer does not already
    say, for a terminal."""
    out.print(escape(result.answer))
    print_sources(result)
    if result.error and result.error not in result.answer:
        err.print(f"[yellow]note:[/] {escape(result.error)}")


def print_sources(result: Result) -> None:
    for source in result.sources:
        url = plain_for_terminal(str(source.get("url") or ""))
        title = plain_for_terminal(str(source.get("title") or url))
        # Text objects, not markup: a URL or title with "[/" in it stays plain text.
        line = Text("  ")
        line.append(f"[{source.get('index')}]", style="dim")
        line.append(" ")
        is_web = url.startswith(("http://", "https://"))
        line.append(title, style=Style(link=url) if is_web else "")
        line.append(" ")
        line.append(url, style="dim")
        out.print(line)


# -- graph ----------------------------------------------------------------------------


@app.command()
def graph(
    xray: Annotated[bool, typer.Option("--xray", help="Show the nodes inside each agent.")] = False,
) -> None:
    """Print the app graph as a Mermaid diagram."""
    from crossroads.graphs.app import build_app_graph
    from crossroads.registry import load_agent_modules

    with user_errors():
        load_agent_modules(Settings.from_env().agent_modules)
        compiled = build_app_graph().compile()
        sys.stdout.write(compiled.get_graph(xray=xray).draw_mermaid())


# -- index ----------------------------------------------------------------------------


@app.command()
def index(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders of .md, .txt, .pdf, .html.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    max_file_mb: Annotated[
        float,
        typer.Option("--max-file-mb", min=0.001, help="Skip files larger than this many MB."),
    ] = 50.0,
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks", help="Also index files that symlinks lead to outside PATHS."
        ),
    ] = False,
    example: Annotated[
        bool,
        typer.Option(
            "--example",
            help="Index the small example corpus shipped with crossroads, to try offline facts "
            '(then ask "How tall is the Cape Morrow lighthouse?").',
        ),
    ] = False,
) -> None:
    """Index your documents for the researcher (only changed files are re-read)."""
    from crossroads.tools.retrievers import build_index

    if example:
        from importlib import resources

        paths = [
            *(paths or []),
            Path(str(resources.files("crossroads") / "data" / "example_corpus")),
        ]
    if not paths:
        err.print(
            "Give the files or folders to index (crossroads index PATH), or try the shipped "
            "example documents: crossroads index --example"
        )
        raise typer.Exit(2)
    settings = cli_settings()
    with user_errors():
        directory = settings.data_dir / "index"
        stats = build_index(
            paths,
            directory,
            progress=not quiet,
            max_file_bytes=int(max_file_mb * 1024 * 1024),
            follow_symlinks=follow_symlinks,
        )
    out.print(
        f"indexed {stats.files_indexed} file(s), {stats.files_unchanged} unchanged, "
        f"{stats.files_removed} removed; {stats.chunks} chunks in {stats.seconds:.2f} s "
        f"→ {directory}"
    )
    for path, reason in stats.skipped:
        # A file name need not be UTF-8; show its odd bytes as escapes instead of failing.
        shown, why = (
            text.encode("utf-8", "backslashreplace").decode("utf-8") for text in (path, reason)
        )
        err.print(f"[yellow]skipped[/] {escape(shown)}: {escape(why)}")


def badge(route: str) -> str:
    """A route's coloured label, as rich markup."""
    style = ROUTE_STYLES.get(route, "bold yellow")
    label = ROUTE_LABELS.get(route, route)
    return f"[{style}]\\[{escape(label or '?')}][/]"


# -- threads --------------------------------------------------------------------------

threads_app = typer.Typer(
    help="List, show, delete and prune saved conversations.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(threads_app, name="threads")


def _ago(when: datetime | None) -> str:
    if when is None:
        return "unknown"
    seconds = max(0.0, (datetime.now(UTC) - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size:.0f} {unit} ago"
    return "just now"


def print_threads(infos: list[Any], current: str | None = None) -> None:
    if not infos:
        out.print("no saved conversations yet")
    for info in infos:
        marker = " (current)" if info.thread_id == current else ""
        out.print(
            f"  [bold]{escape(info.thread_id)}[/]{marker}  [dim]{_ago(info.last_used)} · "
            f"{info.messages} message(s)[/]  {escape(info.title or '(empty)')}"
        )


MAX_AGE_DAYS = 36_500
"""Longest ``--older-than`` (100 years): beyond it no conversation is old enough anyway."""


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``90min`` or a number of days."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(min|d|h|w)?\s*", text.lower())
    if match is None:
        raise fail(f"--older-than must look like 30d, 12h, 2w or 90min; got {text!r}")
    units = {"min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    value = float(match.group(1)) * units[match.group(2) or "d"]
    if not value <= MAX_AGE_DAYS * 86400:  # also catches inf from a thousand digits
        raise fail(f"--older-than is at most {MAX_AGE_DAYS}d; got {text.strip()[:40]!r}")
    return timedelta(seconds=value)


@threads_app.callback()
def threads_main(ctx: typer.Context) -> None:
    """List saved conversations: id, last used, size and title (the first question)."""
    if ctx.invoked_subcommand is None:
        threads_list()


@threads_app.command("list")
def threads_list(
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many.")] = 100,
) -> None:
    """List saved conversations, most recently used first."""
    cli_settings()
    with user_errors(), make_app(None, True) as crossroads:
        print_threads(crossroads.thread_infos(limit=max(1, limit)))


@threads_app.command("show")
def threads_show(thread: Annotated[str, typer.Argument(help="The thread id.")]) -> None:
    """Print a saved conversation."""
    cli_settings()
    with user_errors(), make_app(None, True) as crossroads:
        turns = crossroads.history(thread)
    if not turns:
        raise fail(f"no saved conversation {thread!r}; `crossroads threads` lists them")
    for speaker, text in turns:
        label = "[bold]you[/]" if speaker == "you" else badge(speaker)
        out.print(f"{label} {escape(text)}")


@threads_app.command("delete")
def threads_delete(
    threads: Annotated[list[str], typer.Argument(help="Thread ids to delete.")],
) -> None:
    """Delete saved conversations."""
    cli_settings()
    with user_errors(), make_app(None, True) as crossroads:
        known = {info.thread_id for info in crossroads.thread_infos(limit=10_000)}
        missing = [thread for thread in threads if thread not in known]
        if missing:
            raise fail(f"no saved conversation {missing[0]!r}; `crossroads threads` lists them")
        for thread in threads:
            crossroads.delete_thread(thread)
    out.print(f"deleted {len(threads)} conversation(s)")


@threads_app.command("prune")
def threads_prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age: 30d, 12h, 2w or 90min.")
    ] = "30d",
) -> None:
    """Delete conversations not used for longer than --older-than."""
    age = parse_age(older_than)
    cli_settings()
    cutoff = datetime.now(UTC) - age
    with user_errors(), make_app(None, True) as crossroads:
        old = [
            info.thread_id
            for info in crossroads.thread_infos(limit=10_000)
            if info.last_used is not None and info.last_used < cutoff
        ]
        for thread in old:
            crossroads.delete_thread(thread)
    out.print(f"deleted {len(old)} conversation(s) not used for {escape(older_than)}")


def run() -> Any:
    """Entry point for ``python -m crossroads``."""
    return app()
