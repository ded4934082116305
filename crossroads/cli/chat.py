"""``crossroads chat``: a conversation in the terminal, one thread, with slash commands.

Line editing and history come from prompt_toolkit; answers stream as they are written.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from crossroads import __version__
from crossroads.api import Result
from crossroads.cli.commands import (
    ROUTE_LABELS,
    ModelOption,
    OfflineOption,
    Spinner,
    StepTracker,
    ThreadOption,
    app,
    badge,
    cli_settings,
    describe_mode,
    err,
    escape,
    graph,
    make_app,
    out,
    print_sources,
    print_threads,
    user_errors,
)
from crossroads.errors import CrossroadsError
from crossroads.terminal import WordWrap
from crossroads.threads import new_thread_id
from crossroads.validation import clean_thread_id

REPLACED = "checked answer:"
"""Shown before the answer that stands when it is not what streamed (see ``ChatSession.ask``)."""
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
        self.thread = clean_thread_id(thread) if thread else new_thread_id()
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
        self.thread = new_thread_id()
        out.print(f"new conversation: [bold]{self.thread}[/]")

    def list_threads(self) -> None:
        print_threads(self.app.thread_infos(), current=self.thread)

    def show_history(self) -> None:
        turns = self.app.history(self.thread)
        if not turns:
            out.print("this conversation is empty")
        for speaker, text in turns:
            label = "[bold]you[/]" if speaker == "you" else badge(speaker)
            out.print(f"{label} {escape(text)}")

    def show_route(self) -> None:
        if self.last is None:
            out.print("no question asked yet")
            return
        out.print(f"{badge(self.last.route)} {escape(self.last.route_reason or 'no reason given')}")

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
        """Stream one answer; Ctrl-C cancels it and keeps the conversation.

        On a terminal a spinner shows the current step and the elapsed time until the first
        token arrives (after the route badge, once the router has chosen)."""
        streamed: list[str] = []
        result: Result | None = None
        tracker = StepTracker()
        wrap = WordWrap(out.width)
        spinner: Spinner | None = Spinner(sys.stdout).start() if out.is_terminal else None

        def stop_spinner() -> None:
            nonlocal spinner
            if spinner is not None:
                spinner.stop()
                spinner = None

        try:
            for event in self.app.stream(question, thread_id=self.thread):
                if tracker.feed(event) and spinner is not None:
                    spinner.step = tracker.step
                if event.type == "route":
                    route = str(event.data.get("route") or "")
                    running = spinner is not None
                    stop_spinner()
                    out.print(f"{badge(route)} ", end="")
                    label = ROUTE_LABELS.get(route, route) or "?"
                    wrap = WordWrap(out.width, column=len(label) + 3)
                    if running and not streamed:
                        spinner = Spinner(sys.stdout, tracker.step).start()
                elif event.type == "token":
                    stop_spinner()
                    out.print(escape(wrap.feed(event.text)), end="", soft_wrap=True)
                    streamed.append(event.text)
                elif event.type == "progress" and event.data.get("type") == "part":
                    data = event.data
                    if spinner is None:
                        err.print(f"[dim]part {data.get('index')}/{data.get('total')} done[/]")
                elif event.type == "result":
                    result = event.result
        except KeyboardInterrupt:
            stop_spinner()
            out.print("\n[yellow]cancelled[/] (the conversation so far is kept)")
            return
        finally:
            stop_spinner()
            out.print(escape(wrap.close()), end="", soft_wrap=True)
        if result is None:
            return
        if not streamed:
            out.print(escape(result.answer), end="")
        elif "".join("".join(streamed).split()) != "".join(result.answer.split()):
            # What streamed was not kept: a phrasing the calculator's check refused, or a
            # researcher answer that cited no passage. The answer that stands is shown too.
            out.print()
            out.print(f"[yellow]{REPLACED}[/] {escape(result.answer)}", end="")
        out.print()
        print_sources(result)
        if result.error and result.error not in result.answer:
            err.print(f"[yellow]note:[/] {escape(result.error)}")
        self.last = result
        self.questions += 1
        self.calls += result.usage.get("llm_calls", 0)
        self.input_tokens += result.usage.get("input_tokens", 0)
        self.output_tokens += result.usage.get("output_tokens", 0)


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
    cli_settings()
    with user_errors():
        session = ChatSession(model, thread, offline)
    try:
        settings = session.app.settings
        with user_errors():
            turns = session.app.history(session.thread) if thread else []
        out.print(f"[bold]crossroads {__version__}[/] · {escape(describe_mode(settings))}")
        out.print(f"conversation: [bold]{escape(session.thread)}[/] · /help for commands")
        if thread and turns:
            out.print(f"[dim]continuing: {len(turns)} earlier message(s); /history shows them[/]")
        elif thread:
            out.print(f"[dim]new conversation: {escape(thread)}[/]")
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
