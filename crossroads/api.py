"""The Python API: ``Crossroads(...).ask(question) -> Result``.

    >>> from crossroads import Crossroads
    >>> app = Crossroads(offline=True)
    >>> result = app.ask("What is 15% of 240?")
    >>> result.route, result.answer

The nodes of every graph are async, so many requests can share one process. A
``Crossroads`` owns one private event loop in a background thread (an anyio blocking
portal) on which its graph and its checkpointer run. ``ask``/``stream`` block on it;
``aask``/``astream`` await it from any other loop (a notebook's, a web server's), without
a thread per request. Keeping one loop means the SQLite or PostgreSQL connection is always
used from the loop that opened it.

Call :meth:`Crossroads.close` (or use ``with Crossroads(...) as app:``) to release the
loop and the thread store; it is also done at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import queue
import threading
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from anyio.from_thread import BlockingPortal, start_blocking_portal
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphRecursionError
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from crossroads.checkpoints import CheckpointerSpec, open_checkpointer, prune_thread
from crossroads.errors import CrossroadsError, InputError
from crossroads.llm import ANSWER_TAG
from crossroads.models import release_models
from crossroads.registry import AgentSpec
from crossroads.retry import is_transient
from crossroads.settings import Settings
from crossroads.thread_locks import ThreadLocks
from crossroads.threads import ThreadInfo, new_thread_id
from crossroads.transcript import read as read_transcript
from crossroads.transcript import record as record_transcript
from crossroads.transcript import setup as setup_transcript
from crossroads.transcript import speaker_and_text
from crossroads.usage import Usage, empty_usage
from crossroads.validation import clean_question, clean_thread_id

RECURSION_STOPPED = (
    "stopped after {limit} graph steps (recursion_limit) without finishing; "
    "the request was cut short to bound its cost"
)
CLOSED = "this Crossroads was closed; create a new one"
NOTHING_TO_RESUME = (
    "nothing to resume on thread {thread!r}: no run there is paused for review or was stopped "
    "midway; ask a question instead"
)
STILL_FAILING = (
    "stopped: a service this request needed kept failing after retries "
    "({kind}: {error}); try again later"
)


@dataclass(frozen=True)
class Result:
    """The outcome of one question.

    Attributes:
        answer: The answer text (always set; on failure it says what went wrong).
        route: The agent that answered (``math``, ``fact``, ``none`` or a registered one).
        sources: Sources cited by the answer; ``[n]`` in the answer is ``sources[n-1]``.
        usage: Model calls and tokens, in total and by node.
        steps: What happened, in order (route chosen, expression tried, passages kept...).
        error: Why the request did not fully succeed, or ``None``.
        mode: ``"llm"`` or ``"offline"``.
        thread_id: The conversation this turn belongs to.
        route_reason: Why the router chose ``route``.
        interrupt: Set when the run paused for a person (writers' plan review): what to
            review. Continue with :meth:`Crossroads.resume`.
    """

    answer: str
    route: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=empty_usage)
    steps: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    mode: str = "llm"
    thread_id: str | None = None
    route_reason: str = ""
    interrupt: Any = None

    @property
    def declined(self) -> bool:
        """Offline mode could not do this safely and said so instead of guessing.

        An offline reader or the extractive researcher marks its step with ``declined`` (the
        line shown to the user); offline writing is declined by the writers' ``offline`` step.
        Only the steps since the router's last choice count: an agent that handed the question
        on was not the one that answered it.
        """
        last_route = max(
            (
                n
                for n, step in enumerate(self.steps)
                if step.get("agent") == "router" and step.get("action") == "route"
            ),
            default=0,
        )
        for step in self.steps[last_route:]:
            detail = step.get("detail")
            if step.get("action") == "offline" or (
                isinstance(detail, dict) and detail.get("declined")
            ):
                return True
        return False

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data."""
        return asdict(self)

    def __str__(self) -> str:
        return self.answer

    @classmethod
    def from_state(cls, state: dict[str, Any], *, thread_id: str | None) -> Result:
        """Build a result from the graph's output state."""
        interrupts = state.get("__interrupt__") or ()
        interrupt = None
        if interrupts:
            first = interrupts[0]
            interrupt = getattr(first, "value", first)
        return cls(
            answer=str(state.get("answer") or ""),
            route=str(state.get("route") or ""),
            sources=list(state.get("sources") or []),
            usage=state.get("usage") or empty_usage(),
            steps=list(state.get("steps") or []),
            error=state.get("error"),
            mode=str(state.get("mode") or "llm"),
            thread_id=thread_id,
            route_reason=str(state.get("route_reason") or ""),
            interrupt=interrupt,
        )


@dataclass(frozen=True)
class StreamEvent:
    """One event of a streamed run.

    ``type`` is one of:

    * ``"route"``: the router chose; ``data`` has ``route`` and ``reason``;
    * ``"node_start"`` / ``"node_end"``: a node started or finished; ``node`` is its path
      (``"calculator/extract"`` inside a subgraph);
    * ``"token"``: a piece of the answer, in ``text``. Tokens are the model's words as they
      come; the answer that stands is the result's, which is not always what streamed (a
      phrasing the calculator's check refused, a researcher answer that cited no passage);
    * ``"progress"``: an agent's own event (e.g. a writer finished part 2 of 5), in ``data``;
    * ``"result"``: the final :class:`Result`, in ``result``.
    """

    type: str
    node: str | None = None
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    result: Result | None = None


class Crossroads:
    """Ask questions; the router hands each to the agent that can do the job.

    Args:
        model: Default model for every role: ``"provider:model"`` or a chat model object
            (for example a :class:`crossroads.testing.ScriptedChatModel`).
        checkpointer: Where threads live (see :mod:`crossroads.checkpoints`); SQLite under
            ``CROSSROADS_HOME`` by default.
        offline: Never call a model. Also on automatically when no model is configured.
        agents: The agents to route among (default: the built-ins plus registered ones).
        settings: A complete :class:`Settings`; used as given, with no environment lookup.
        **overrides: Any other :class:`Settings` field. Values passed here beat
            environment variables, which beat the defaults.
    """

    def __init__(
        self,
        model: Any = None,
        *,
        checkpointer: CheckpointerSpec = None,
        offline: bool | None = None,
        agents: Sequence[AgentSpec] | None = None,
        settings: Settings | None = None,
        **overrides: Any,
    ) -> None:
        if settings is None:
            settings = Settings.from_env(model=model, offline=offline, **overrides)
        elif model is not None or offline is not None or overrides:
            settings = settings.replace(
                **{
                    k: v
                    for k, v in {"model": model, "offline": offline, **overrides}.items()
                    if v is not None
                }
            )
        self.settings = settings
        if settings.has_model:
            # Surface a bad model name, a missing key or package now, not mid-request.
            from crossroads.models import check_models
            from crossroads.settings import ROLES

            check_models(settings, ROLES)
        from crossroads.graphs.app import build_app_graph
        from crossroads.graphs.builtin_agents import default_agents
        from crossroads.registry import load_agent_modules

        load_agent_modules(settings.agent_modules)
        self.agents = tuple(agents if agents is not None else default_agents())
        """The agents this app routes among."""
        self._builder = build_app_graph(agents=self.agents)  # checks them (validate_agents)
        self._checkpointer_spec = checkpointer
        self._lock = threading.Lock()
        self._portal_cm: Any = None
        self._portal: BlockingPortal | None = None
        self._stack: AsyncExitStack | None = None
        self._graph: CompiledStateGraph[Any, Any, Any, Any] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._loop_thread: threading.Thread | None = None
        self._thread_locks: ThreadLocks | None = None
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------

    def _start(self) -> BlockingPortal:
        with self._lock:
            if self._closed:
                raise RuntimeError(CLOSED)
            if self._portal is None:
                self._portal_cm = start_blocking_portal(name="crossroads-loop")
                portal = self._portal_cm.__enter__()
                try:
                    self._graph = portal.call(self._open)
                except BaseException:
                    self._portal_cm.__exit__(None, None, None)
                    raise
                self._portal = portal
                self._finalizer = weakref.finalize(
                    self, _shutdown, self._portal_cm, portal, self._stack, self._loop_thread
                )
            return self._portal

    async def _astart(self) -> BlockingPortal:
        """:meth:`_start` from a caller's event loop (starting the loop thread blocks)."""
        if self._portal is not None:
            return self._portal
        return await asyncio.to_thread(self._start)

    async def _open(self) -> CompiledStateGraph[Any, Any, Any, Any]:
        self._loop_thread = threading.current_thread()
        self._stack = AsyncExitStack()
        # Models' HTTP clients belong to this loop: closed with it (crossroads.models).
        self._stack.push_async_callback(release_models)
        saver = await open_checkpointer(self._checkpointer_spec, self.settings, self._stack)
        self._thread_locks = await ThreadLocks.for_saver(saver)
        await setup_transcript(saver)
        return self._builder.compile(checkpointer=saver)

    def _hold(self, thread_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """The thread's lock, for a whole request (its run, its partial answer, its pruning):
        one request writes a thread at a time, so none overwrites another's answer.

        Raises:
            ThreadBusy: (on entry) another request kept the thread ``thread_lock_timeout`` s.
        """
        assert self._thread_locks is not None
        return self._thread_locks.hold(thread_id, self.settings.thread_lock_timeout)

    def close(self) -> None:
        """Release the event loop thread and the thread store."""
        with self._lock:
            self._closed = True
            if self._finalizer is not None:
                self._finalizer()
            self._portal = None

    def __enter__(self) -> Crossroads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def graph(self) -> CompiledStateGraph[Any, Any, Any, Any]:
        """The compiled app graph (async nodes: use ``ainvoke``/``astream``)."""
        self._start()
        assert self._graph is not None
        return self._graph

    # -- running --------------------------------------------------------------------

    def _config(self, thread_id: str) -> RunnableConfig:
        return {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": self.settings.effective_recursion_limit,
        }

    def _durability(self) -> Literal["sync", "async", "exit"]:
        """``Settings.durability``. A writer's plan review is stored whatever it says: a run
        that pauses writes its checkpoint before it returns, even with ``"exit"``."""
        return self.settings.durability

    async def _arun(self, payload: Any, thread_id: str) -> Result:
        async with self._hold(thread_id):
            return await self._arun_held(payload, thread_id)

    async def _arun_held(self, payload: Any, thread_id: str) -> Result:
        graph = self._graph
        assert graph is not None
        try:
            state = await graph.ainvoke(
                payload,
                self._config(thread_id),
                context=self.settings,
                durability=self._durability(),
            )
        except GraphRecursionError:
            return await self._partial(
                thread_id,
                RECURSION_STOPPED.format(limit=self.settings.effective_recursion_limit),
            )
        except CrossroadsError as error:
            return await self._partial(thread_id, str(error))
        except Exception as error:
            # A network failure that outlived every retry (a node's RetryPolicy included) is
            # a state of the world, not a bug: end the request with it. Bugs still raise.
            if not is_transient(error):
                raise
            return await self._partial(thread_id, _still_failing(error))
        result = Result.from_state(dict(state), thread_id=thread_id)
        if result.interrupt is None:
            await self._finish(thread_id, state.get("messages") or [])
        return result

    async def _finish(self, thread_id: str, messages: Sequence[BaseMessage]) -> None:
        """After a finished request: append its messages to the thread's transcript (see
        :mod:`crossroads.transcript`), then drop the thread's older checkpoints (see
        :func:`crossroads.checkpoints.prune_thread`) unless ``keep_checkpoints`` is set."""
        graph = self._graph
        saver = graph.checkpointer if graph is not None else None
        if not isinstance(saver, BaseCheckpointSaver):
            return
        # The answer stands if the store fails here: the window still holds this turn, and
        # the next finished request stores (and prunes) again.
        with contextlib.suppress(Exception):
            await record_transcript(saver, thread_id, messages)
        if not self.settings.keep_checkpoints:
            with contextlib.suppress(Exception):
                await prune_thread(saver, thread_id)

    async def _partial(self, thread_id: str, error: str) -> Result:
        """The best answer so far, from the thread's last checkpoint, with ``error``."""
        graph = self._graph
        assert graph is not None
        values: dict[str, Any] = {}
        try:
            snapshot = await graph.aget_state(self._config(thread_id))
            values = dict(snapshot.values or {})
        except Exception:  # the store itself failed: report the original error only
            values = {}
        base = Result.from_state(values, thread_id=thread_id)
        answer = base.answer or f"Sorry, I could not finish: {error}"
        await self._record_turn(thread_id, values, answer, error)
        return Result(**{**asdict(base), "answer": answer, "error": error})

    async def _record_turn(
        self, thread_id: str, values: dict[str, Any], answer: str, error: str
    ) -> None:
        """Store the answer of a request that stopped before ``respond``, so no turn is lost.

        The question is already in the thread (``intake`` ran); without this the thread
        would keep a question with no answer, and the next turn would see a broken history.
        """
        graph = self._graph
        messages = values.get("messages") or []
        if graph is None or not messages or not isinstance(messages[-1], HumanMessage):
            return  # nothing was asked on this thread, or the turn is already answered
        reply = AIMessage(content=answer, name=values.get("route") or None, id=str(uuid.uuid4()))
        update = {
            "answer": answer,
            "error": error,
            "question": "",  # as ``respond`` does: the next input must bring its own question
            "messages": [reply],
        }
        try:
            await graph.aupdate_state(self._config(thread_id), update, as_node="respond")
        except Exception:  # the store itself failed: the caller still gets its Result
            return
        await self._finish(thread_id, [*messages, reply])

    def ask(self, question: str | bytes, thread_id: str | None = None) -> Result:
        """Answer one question (blocking).

        Args:
            question: The question (``str``, or UTF-8 ``bytes``).
            thread_id: Conversation to continue; a new one when omitted.

        Raises:
            InputError: the question is empty, too long or not valid UTF-8, or the thread
                id is unusable (see :func:`~crossroads.validation.clean_thread_id`).
        """
        text = clean_question(question)
        thread = _thread_or_new(thread_id)
        portal = self._start()
        return portal.call(self._arun, {"question": text}, thread)

    async def aask(self, question: str | bytes, thread_id: str | None = None) -> Result:
        """Async :meth:`ask`; safe to run many at once."""
        text = clean_question(question)
        thread = _thread_or_new(thread_id)
        portal = await self._astart()
        future = portal.start_task_soon(self._arun, {"question": text}, thread)
        return await asyncio.wrap_future(future)

    def resume(self, thread_id: str, value: Any = True) -> Result:
        """Continue a run that paused for review (``Result.interrupt``) with ``value``, or
        one that a crash stopped midway, from its last checkpoint.

        Raises:
            InputError: no run on ``thread_id`` is paused or unfinished (a resume there
                would start an empty request, and overwrite the thread's last answer).
        """
        thread_id = clean_thread_id(thread_id, existing=True)
        portal = self._start()
        return portal.call(self._resume, value, thread_id)

    async def aresume(self, thread_id: str, value: Any = True) -> Result:
        """Async :meth:`resume`."""
        thread_id = clean_thread_id(thread_id, existing=True)
        portal = await self._astart()
        return await asyncio.wrap_future(portal.start_task_soon(self._resume, value, thread_id))

    async def _resume(self, value: Any, thread_id: str) -> Result:
        async with self._hold(thread_id):
            graph = self._graph
            assert graph is not None
            snapshot = await graph.aget_state(self._config(thread_id))
            if not snapshot.next and not snapshot.interrupts:
                raise InputError(NOTHING_TO_RESUME.format(thread=thread_id))
            return await self._arun_held(Command(resume=value), thread_id)

    def route(self, question: str | bytes) -> Any:
        """The router's decision (route, reason, confidence) without running an agent."""
        from crossroads.agents.router import decide_route

        text = clean_question(question)

        async def decide() -> Any:
            decision, _ = await decide_route(self.settings, self.agents, {"question": text})
            return decision

        return self._start().call(decide)

    # -- streaming ------------------------------------------------------------------

    async def _events(self, payload: Any, thread_id: str) -> AsyncIterator[StreamEvent]:
        async with self._hold(thread_id):
            async for event in self._events_held(payload, thread_id):
                yield event

    async def _events_held(self, payload: Any, thread_id: str) -> AsyncIterator[StreamEvent]:
        graph = self._graph
        assert graph is not None
        config = self._config(thread_id)
        last_values: dict[str, Any] = {}
        try:
            stream: AsyncIterator[Any] = graph.astream(
                payload,
                config,
                context=self.settings,
                stream_mode=["values", "updates", "messages", "custom", "tasks"],
                subgraphs=True,
                durability=self._durability(),
            )
            async for namespace, mode, data in stream:
                path = "/".join(part.split(":")[0] for part in namespace)
                if mode == "values" and not namespace:
                    last_values = dict(data)
                elif mode == "messages":
                    chunk, meta = data
                    text = chunk.content if isinstance(chunk.content, str) else ""
                    if text and ANSWER_TAG in (meta.get("tags") or []):
                        yield StreamEvent(type="token", node=path or None, text=text)
                elif mode == "updates" and not namespace and "router" in data:
                    update = data["router"] or {}
                    yield StreamEvent(
                        type="route",
                        node="router",
                        data={"route": update.get("route"), "reason": update.get("route_reason")},
                    )
                elif mode == "tasks":
                    name = f"{path}/{data['name']}" if path else data["name"]
                    kind = "node_end" if "result" in data or "error" in data else "node_start"
                    yield StreamEvent(type=kind, node=name)
                elif mode == "custom" and isinstance(data, dict):
                    yield StreamEvent(type="progress", node=path or None, data=data)
        except GraphRecursionError:
            result = await self._partial(
                thread_id, RECURSION_STOPPED.format(limit=self.settings.effective_recursion_limit)
            )
            yield StreamEvent(type="result", result=result)
            return
        except CrossroadsError as error:
            yield StreamEvent(type="result", result=await self._partial(thread_id, str(error)))
            return
        except Exception as error:
            if not is_transient(error):
                raise
            result = await self._partial(thread_id, _still_failing(error))
            yield StreamEvent(type="result", result=result)
            return
        snapshot = await graph.aget_state(config)
        values = {**last_values, **dict(snapshot.values or {})}
        if snapshot.interrupts:
            values["__interrupt__"] = snapshot.interrupts
        else:
            await self._finish(thread_id, values.get("messages") or [])
        yield StreamEvent(type="result", result=Result.from_state(values, thread_id=thread_id))

    def _pump(
        self, payload: Any, thread_id: str, put: Callable[[Any], None]
    ) -> Callable[[], Awaitable[None]]:
        """A coroutine function, run on the app's loop, that hands each event to ``put``.

        A failure is handed over too (the caller raises it in its own thread or loop), and
        ``_DONE`` always comes last.
        """

        async def pump() -> None:
            try:
                async for event in self._events(payload, thread_id):
                    put(event)
            except BaseException as error:
                put(error)
                raise
            finally:
                put(_DONE)

        return pump

    def stream(self, question: str | bytes, thread_id: str | None = None) -> Iterator[StreamEvent]:
        """Stream a run's events (blocking iterator); the last event holds the Result.

        Closing the iterator early (or Ctrl-C while iterating) cancels the run; turns that
        finished before stay in the thread.
        """
        text = clean_question(question)
        thread = _thread_or_new(thread_id)
        portal = self._start()
        events: queue.Queue[Any] = queue.Queue()
        pump = self._pump({"question": text}, thread, events.put)
        future = portal.start_task_soon(pump)
        try:
            while True:
                item = events.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not future.done():
                future.cancel()
                _wait_quietly(future)

    async def astream(
        self, question: str | bytes, thread_id: str | None = None
    ) -> AsyncIterator[StreamEvent]:
        """Async :meth:`stream`."""
        text = clean_question(question)
        thread = _thread_or_new(thread_id)
        portal = await self._astart()
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()

        def put(item: Any) -> None:
            loop.call_soon_threadsafe(events.put_nowait, item)

        pump = self._pump({"question": text}, thread, put)
        future = portal.start_task_soon(pump)
        try:
            while True:
                item = await events.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not future.done():
                future.cancel()

    # -- threads --------------------------------------------------------------------

    def history(self, thread_id: str) -> list[tuple[str, str]]:
        """The conversation on ``thread_id`` as ``(speaker, text)`` pairs, oldest first.

        The whole conversation where the store keeps a transcript (SQLite, memory: see
        :mod:`crossroads.transcript`); elsewhere the window the thread's state holds."""
        thread_id = clean_thread_id(thread_id, existing=True)

        async def read() -> list[tuple[str, str]]:
            graph = self._graph
            assert graph is not None
            snapshot = await graph.aget_state(self._config(thread_id))
            window = (snapshot.values or {}).get("messages", [])
            saver = graph.checkpointer
            if not isinstance(saver, BaseCheckpointSaver):
                return [speaker_and_text(message) for message in window]
            return await read_transcript(saver, thread_id, window)

        return self._start().call(read)

    def threads(self, limit: int = 100) -> list[str]:
        """Thread ids in the store, most recent first (at most ``limit``)."""

        async def read() -> list[str]:
            graph = self._graph
            assert graph is not None and graph.checkpointer is not None
            saver = graph.checkpointer
            assert not isinstance(saver, bool)
            seen: list[str] = []
            async for item in saver.alist(None, limit=limit * 50):
                thread = item.config["configurable"].get("thread_id")
                if item.config["configurable"].get("checkpoint_ns"):
                    continue
                if thread and thread not in seen:
                    seen.append(thread)
                    if len(seen) >= limit:
                        break
            return seen

        return self._start().call(read)

    def thread_infos(self, limit: int = 100) -> list[ThreadInfo]:
        """Saved threads with their title (first question) and last-used time, most recent
        first (at most ``limit``)."""
        from crossroads.threads import list_threads

        async def read() -> list[ThreadInfo]:
            assert self._graph is not None
            return await list_threads(self._graph, limit)

        return self._start().call(read)

    def delete_thread(self, thread_id: str) -> None:
        """Delete a saved thread and all its checkpoints."""
        from crossroads.threads import delete_thread

        thread_id = clean_thread_id(thread_id, existing=True)

        async def delete() -> None:
            assert self._graph is not None
            await delete_thread(self._graph, thread_id)

        self._start().call(delete)


_DONE = object()
"""Marks the end of a stream handed across event loops."""


def _thread_or_new(thread_id: str | None) -> str:
    """The conversation a question goes to: ``thread_id`` checked (:func:`clean_thread_id`),
    or a new one when it is ``None`` or empty."""
    return clean_thread_id(thread_id) if thread_id else new_thread_id()


def _still_failing(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return STILL_FAILING.format(kind=type(error).__name__, error=(lines[0] if lines else "")[:300])


def _wait_quietly(future: concurrent.futures.Future[Any]) -> None:
    try:
        future.result(timeout=10)
    except BaseException:  # cancelled or failed: the caller already has what it needs
        return


_ORPHANED: list[tuple[Any, BlockingPortal, AsyncExitStack | None]] = []


@atexit.register
def _shutdown_orphans() -> None:
    while _ORPHANED:
        portal_cm, portal, stack = _ORPHANED.pop()
        _shutdown(portal_cm, portal, stack, None)


def _shutdown(
    portal_cm: Any,
    portal: BlockingPortal,
    stack: AsyncExitStack | None,
    loop_thread: threading.Thread | None,
) -> None:
    if threading.current_thread() is loop_thread:
        # Garbage-collected on its own loop (an app nobody closed, dropped inside a run): the
        # loop cannot wait for itself to stop, so it is stopped at exit, from the main thread.
        _ORPHANED.append((portal_cm, portal, stack))
        return
    try:
        if stack is not None:
            portal.call(stack.aclose)
    finally:
        portal_cm.__exit__(None, None, None)
