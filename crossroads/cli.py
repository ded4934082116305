"""The ``crossroads`` command: ask, chat, index, graph, eval.

Built on typer (commands and options), rich (output) and prompt_toolkit (line editing and
history in the chat). Every user mistake ends in one line on stderr and exit code 2, never a
traceback: configuration errors, bad questions, missing files.

    crossroads ask "What is 15% of 240?"
    crossroads ask "capital of australia" --json
    crossroads chat --thread work
    crossroads index ~/notes
    crossroads graph
"""

from __future__ import annotations

import json
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from crossroads import __version__
from crossroads.api import Crossroads, Result
from crossroads.errors import CrossroadsError
from crossroads.settings import Settings

app = typer.Typer(
    name="crossroads",
    help="Ask one question; a router hands it to the agent that can do the job.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ROUTE_STYLES = {"math": "bold cyan", "fact": "bold green", "none": "bold magenta"}
EXIT_USAGE = 2
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
    """Turn Crossroads' errors into one line on stderr and exit code 2."""
    try:
        yield
    except CrossroadsError as error:
        raise fail(str(error)) from None


def make_app(model: str | None, offline: bool) -> Crossroads:
    """The app for a CLI command (SQLite threads under CROSSROADS_HOME)."""
    return Crossroads(model=model, offline=True if offline else None)


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


# -- ask ------------------------------------------------------------------------------


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    model: ModelOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the Result as one JSON object.")
    ] = False,
    thread: ThreadOption = None,
    offline: OfflineOption = False,
) -> None:
    """Answer one question and print the answer."""
    with user_errors(), make_app(model, offline) as crossroads:
        result = crossroads.ask(question, thread_id=thread)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        return
    print_result(result)
    if result.error and not result.answer:
        raise typer.Exit(1)


def print_result(result: Result) -> None:
    """The answer, then its sources as links, then any error, for a terminal."""
    out.print(escape(result.answer))
    print_sources(result)
    if result.error:
        err.print(f"[yellow]note:[/] {escape(result.error)}")


def print_sources(result: Result) -> None:
    for source in result.sources:
        url = str(source.get("url") or "")
        title = escape(str(source.get("title") or url))
        link = f"[link={url}]{title}[/link]" if url.startswith("http") else title
        out.print(f"  [dim][{source.get('index')}][/] {link} [dim]{escape(url)}[/]")


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
        list[Path], typer.Argument(help="Files or folders of .md, .txt, .pdf, .html.")
    ],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Index your documents for the researcher (only changed files are re-read)."""
    from crossroads.tools.retrievers import build_index

    with user_errors():
        settings = Settings.from_env()
        directory = settings.data_dir / "index"
        stats = build_index(paths, directory, progress=not quiet)
    out.print(
        f"indexed {stats.files_indexed} file(s), {stats.files_unchanged} unchanged, "
        f"{stats.files_removed} removed; {stats.chunks} chunks in {stats.seconds:.2f} s "
        f"→ {directory}"
    )
    for path, reason in stats.skipped:
        err.print(f"[yellow]skipped[/] {escape(path)}: {escape(reason)}")


# -- chat -----------------------------------------------------------------------------

HELP_TEXT = """\
/help            this help
/new             start a new conversation (thread)
/threads         list saved conversations
/history         show this conversation
/model NAME      switch model (provider:name), e.g. /model google_genai:gemini-2.5-flash
/route           why the last question went where it did
/sources         sources of the last answer
/usage           model calls and tokens this session
/graph           the app graph (Mermaid)
Ctrl-C cancels the current answer; Ctrl-D exits."""


class ChatSession:
    """State of one terminal chat: the app, the thread and the session's totals."""

    def __init__(self, model: str | None, thread: str | None, offline: bool) -> None:
        self.model = model
        self.offline = offline
        self.thread = thread or _new_thread()
        self.app = make_app(model, offline)
        self.last: Result | None = None
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.questions = 0

    def close(self) -> None:
        self.app.close()

    # -- commands ---------------------------------------------------------------

    def command(self, line: str) -> bool:
        """Run a slash command; ``False`` means it was not one."""
        if not line.startswith("/"):
            return False
        name, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        handlers = {
            "help": lambda: out.print(HELP_TEXT, markup=False),
            "new": self.new_thread,
            "threads": self.list_threads,
            "history": self.show_history,
            "route": self.show_route,
            "sources": self.show_sources,
            "usage": self.show_usage,
            "graph": lambda: graph(xray=False),
        }
        if name == "model":
            self.switch_model(arg)
        elif name in handlers:
            handlers[name]()
        else:
            err.print(f"unknown command /{escape(name)}; type /help")
        return True

    def new_thread(self) -> None:
        self.thread = _new_thread()
        out.print(f"new conversation: [bold]{self.thread}[/]")

    def list_threads(self) -> None:
        threads = self.app.threads()
        if not threads:
            out.print("no saved conversations yet")
        for thread in threads:
            marker = " (current)" if thread == self.thread else ""
            out.print(f"  {escape(thread)}{marker}")

    def show_history(self) -> None:
        turns = self.app.history(self.thread)
        if not turns:
            out.print("this conversation is empty")
        for speaker, text in turns:
            label = "[bold]you[/]" if speaker == "you" else _badge(speaker)
            out.print(f"{label} {escape(text)}")

    def show_route(self) -> None:
        if self.last is None:
            out.print("no question asked yet")
            return
        out.print(
            f"{_badge(self.last.route)} {escape(self.last.route_reason or 'no reason given')}"
        )

    def show_sources(self) -> None:
        if self.last is None or not self.last.sources:
            out.print("the last answer cited no sources")
            return
        print_sources(self.last)

    def show_usage(self) -> None:
        out.print(
            f"{self.questions} question(s), {self.calls} model call(s), "
            f"{self.input_tokens} input + {self.output_tokens} output tokens this session"
        )

    def switch_model(self, name: str) -> None:
        if not name:
            out.print(escape(describe_mode(self.app.settings)))
            return
        try:
            new_app = make_app(name, False)
            if new_app.settings.has_model:
                from crossroads.models import check_models

                check_models(new_app.settings, ("router",))
        except CrossroadsError as error:
            err.print(f"[bold red]error:[/] {escape(str(error))}")
            return
        self.app.close()
        self.app = new_app
        self.model = name
        out.print(f"switched: {escape(describe_mode(new_app.settings))}")

    # -- asking -----------------------------------------------------------------

    def ask(self, question: str) -> None:
        """Stream one answer; Ctrl-C cancels it and keeps the conversation."""
        streamed = False
        result: Result | None = None
        try:
            for event in self.app.stream(question, thread_id=self.thread):
                if event.type == "route":
                    route = str(event.data.get("route") or "")
                    out.print(f"{_badge(route)} ", end="")
                elif event.type == "token":
                    out.print(escape(event.text), end="")
                    streamed = True
                elif event.type == "progress" and event.data.get("type") == "part":
                    data = event.data
                    err.print(f"[dim]part {data.get('index')}/{data.get('total')} done[/]")
                elif event.type == "result":
                    result = event.result
        except KeyboardInterrupt:
            out.print("\n[yellow]cancelled[/] (the conversation so far is kept)")
            return
        if result is None:
            return
        if not streamed:
            out.print(escape(result.answer), end="")
        out.print()
        print_sources(result)
        if result.error:
            err.print(f"[yellow]note:[/] {escape(result.error)}")
        self.last = result
        self.questions += 1
        self.calls += result.usage.get("llm_calls", 0)
        self.input_tokens += result.usage.get("input_tokens", 0)
        self.output_tokens += result.usage.get("output_tokens", 0)


def _badge(route: str) -> str:
    style = ROUTE_STYLES.get(route, "bold yellow")
    return f"[{style}]\\[{escape(route or '?')}][/]"


def _new_thread() -> str:
    return time.strftime("%Y%m%d-") + uuid.uuid4().hex[:6]


def _read_lines(history_file: Path) -> Iterator[str]:
    """Lines typed by the user: prompt_toolkit on a terminal, plain stdin otherwise."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history_file.parent.mkdir(parents=True, exist_ok=True)
        session: PromptSession[str] = PromptSession(history=FileHistory(str(history_file)))
        while True:
            try:
                yield session.prompt("you> ")
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line
            except EOFError:
                return
    else:
        for line in sys.stdin:
            yield line.rstrip("\n")


@app.command()
def chat(
    model: ModelOption = None,
    thread: ThreadOption = None,
    offline: OfflineOption = False,
) -> None:
    """Chat in the terminal: streamed answers, route badges, sources, slash commands."""
    # Ctrl-C must cancel an answer even when the chat was started from a process that ignores
    # SIGINT (a background job of a non-interactive shell): Python then installs no handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with user_errors():
        session = ChatSession(model, thread, offline)
    try:
        settings = session.app.settings
        out.print(f"[bold]crossroads {__version__}[/] · {escape(describe_mode(settings))}")
        out.print(f"conversation: [bold]{escape(session.thread)}[/] · /help for commands")
        if thread:
            turns = session.app.history(session.thread)
            if turns:
                out.print(
                    f"[dim]continuing: {len(turns)} earlier message(s); /history shows them[/]"
                )
        for line in _read_lines(settings.data_dir / "chat_history"):
            text = line.strip()
            if not text:
                continue
            if session.command(text):
                continue
            try:
                session.ask(text)
            except CrossroadsError as error:
                err.print(f"[bold red]error:[/] {escape(str(error))}")
        out.print("bye")
    finally:
        session.close()


def run() -> Any:
    """Entry point for ``python -m crossroads``."""
    return app()


from crossroads.eval_cli import eval_command  # noqa: E402

app.command("eval")(eval_command)


# -- mcp ------------------------------------------------------------------------------


@app.command("mcp")
def mcp_command(
    transport: Annotated[
        str, typer.Option("--transport", help="stdio (default) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[str, typer.Option("--host", help="HTTP only: a loopback address.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="HTTP only: the port.")] = 8765,
    model: ModelOption = None,
    offline: OfflineOption = False,
) -> None:
    """Serve Crossroads over MCP: tools ask, calculate and search_documents."""
    from crossroads.mcp_server import check_loopback, serve

    if transport not in {"stdio", "http"}:
        raise fail(f"--transport must be stdio or http, not {transport!r}")
    if not 0 < port < 65536:
        raise fail(f"--port must be 1-65535, not {port}")
    with user_errors():
        check_loopback(host)
        with make_app(model, offline) as crossroads:
            if transport == "http":
                err.print(f"crossroads MCP server on http://{host}:{port}/mcp (Ctrl-C stops)")
            serve(
                crossroads,
                transport="http" if transport == "http" else "stdio",
                host=host,
                port=port,
            )
