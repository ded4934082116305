"""Every model call goes through here: budgets, retries, fallbacks and usage.

A node creates a :class:`ModelCaller`, calls the model through it, and returns
``caller.usage_update()`` with its state update. Every call is written, as it happens, into
the request's ledger (:mod:`crossroads.usage`), from each reply's ``usage_metadata``.

Why retries live here rather than only in a node ``RetryPolicy``: a policy re-runs the whole
node (repeating, and paying for, the calls that already succeeded in it) and cannot honour a
provider's ``Retry-After``. Here a single call is retried (a tenacity loop from
:mod:`crossroads.retry`, which also keeps the table of which layer retries what), with
jittered exponential backoff that never undercuts ``Retry-After``, and the provider clients'
own retries are switched off (:mod:`crossroads.models`), so the two never stack. When a role's model fails for good, its
fallback models are tried in order.

Budgets are checked before every attempt: model calls, tokens and wall time per request. The
wall-time budget also caps each call's timeout, so a hanging provider ends the request on
time with :class:`~crossroads.errors.BudgetExceeded` instead of a hang.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import BaseGenerationOutputParser, BaseOutputParser
from langchain_core.runnables import RunnableConfig, RunnableLambda, RunnableSequence
from langchain_core.runnables.config import ensure_config, merge_configs
from langchain_core.utils.function_calling import convert_to_json_schema
from pydantic import BaseModel

from crossroads.errors import (
    BudgetExceeded,
    ConfigurationError,
    CrossroadsError,
    FirstByteTimeout,
    ModelError,
    exception_chain,
)
from crossroads.models import NO_MODEL, resolve_model
from crossroads.provider_errors import NO_FIRST_BYTE, describe_provider_error
from crossroads.retry import async_retrying, is_transient
from crossroads.settings import Settings
from crossroads.structured import (
    STRATEGIES,
    LenientReader,
    is_unusable_reply,
    read_reply,
    schema_json,
    schema_prompt,
)
from crossroads.usage import Usage, request_ledger

CURRENT_ROLE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "crossroads_current_role", default=None
)
"""The role of the model call in progress (read by ``ScriptedChatModel``: streaming calls
reach a chat model without their callback tags)."""

ANSWER_TAG = "crossroads:answer"
"""Tag on model calls whose tokens are the user-visible answer (streamed to the user)."""

CALLS_EXHAUSTED = (
    "stopped: this request used all {limit} model calls it may make (max_llm_calls); "
    "raise it in Settings if the task needs more"
)
TOKENS_EXHAUSTED = (
    "stopped: this request used {used} of its {limit} tokens (max_tokens); "
    "raise it in Settings if the task needs more"
)
TIME_EXHAUSTED = (
    "stopped: this request ran for {elapsed:.0f} s of its {limit:.0f} s budget (max_seconds)"
)
MODEL_FAILED = "{error} (the {role} model; tried: {tried}{code})"
MAX_RETRY_WAIT = 20.0
"""Longest wait before retrying one model; a provider asking for more gets no retry (the
fallback models are tried instead)."""
CALL_TIMED_OUT = "no reply within {seconds:.1f} s"


logger = logging.getLogger("crossroads")


class _FirstByteWatch(BaseCallbackHandler):
    """Notices a model's first streamed chunk.

    It has the two methods of LangChain's streaming-handler protocol, so a chat model that can
    stream does so even under ``ainvoke``: the first token then proves the server is alive,
    and a server that sends nothing can be given up on early. It only raises a flag, read by
    :func:`_watched` when the first-byte deadline comes: nothing needs waking before then.
    """

    run_inline = True

    def __init__(self) -> None:
        self.alive = False

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.alive = True

    def tap_output_aiter(self, run_id: Any, output: Any) -> Any:
        return output

    def tap_output_iter(self, run_id: Any, output: Any) -> Any:
        return output


_STALLED: OrderedDict[float, dict[str, BaseException]] = OrderedDict()
_STALLED_LOCK = threading.Lock()
_STALLED_REQUESTS = 1024


def _stalled_models(started_at: float) -> dict[str, BaseException]:
    """Models that sent nothing within ``first_byte_timeout`` earlier in the request that
    started at ``started_at`` (every node of a request shares it), so the next role does not
    wait for the same dead server again. Only the newest requests are remembered."""
    with _STALLED_LOCK:
        found = _STALLED.get(started_at)
        if found is None:
            found = _STALLED[started_at] = {}
            while len(_STALLED) > _STALLED_REQUESTS:
                _STALLED.popitem(last=False)
        return found


def _streams(model: BaseChatModel) -> bool:
    """Whether the model can stream (so a first token can be waited for)."""
    if getattr(model, "disable_streaming", False) is True:
        return False
    kind = type(model)
    return kind._astream is not BaseChatModel._astream or kind._stream is not BaseChatModel._stream


async def _watched(
    runnable: Any,
    messages: list[BaseMessage],
    first_byte: float,
    total: float,
    labels: RunnableConfig,
) -> Any:
    """``runnable.ainvoke(messages)`` that must send its first token within ``first_byte``
    seconds and finish within ``total``. ``labels`` (tags, metadata) go into the call's
    config with the watch: one merge, where a ``with_config`` binding cost two a call."""
    watch = _FirstByteWatch()
    config = merge_configs(ensure_config(), {**labels, "callbacks": [watch]})
    task = asyncio.ensure_future(runnable.ainvoke(messages, config))
    started = time.monotonic()
    try:
        # One wait up to the first-byte deadline; a call still running then must have sent
        # a token, and gets the rest of ``total``.
        await asyncio.wait({task}, timeout=first_byte)
        if not task.done():
            if not watch.alive:
                raise FirstByteTimeout(NO_FIRST_BYTE.format(seconds=first_byte))
            left = max(0.01, total - (time.monotonic() - started))
            await asyncio.wait({task}, timeout=left)
            if not task.done():
                raise TimeoutError
        return task.result()
    finally:
        if not task.done():
            # Some clients run a blocking request in a thread that cancelling cannot stop; the
            # call is abandoned (its outcome consumed later) instead of waited for.
            task.cancel()
            task.add_done_callback(_consume)
            await asyncio.wait({task}, timeout=ABANDON_WAIT_S)


ABANDON_WAIT_S = 0.5
"""How long a cancelled model call is given to wind down before it is abandoned."""


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


@dataclass(frozen=True)
class StructuredReply:
    """What a structured-output call gave back.

    Attributes:
        parsed: The parsed object, or ``None`` when the model's output was unusable.
        error: Why parsing failed (empty output, wrong fields, ...), or ``None``.
        raw: The raw model message.
        garbled: The strategy's own machinery could not read the reply (a tool call naming
            no such tool, a reply cut at the length limit): the next strategy may do better.
    """

    parsed: BaseModel | dict[str, Any] | None
    error: str | None
    raw: AIMessage | None
    garbled: bool = False


def _one_line(error: BaseException) -> str:
    """The error as one line of at most 300 characters.

    Every line of the message is kept (joined): a server's 500 often gives its cause on a
    later line ("Error code: 500 - ..." then the reason).
    """
    text = " ".join(line.strip() for line in str(error).strip().splitlines() if line.strip())
    return (text or type(error).__name__)[:300]


REFUSAL_STATUSES = frozenset({400, 404, 415, 422, 500, 501})
"""HTTP statuses with which a server refuses a *kind* of request (e.g. llama-cpp-python's 500
for ``response_format: json_schema``): a structured call then degrades to the next strategy
instead of retrying the same request."""


def is_refusal(error: BaseException) -> bool:
    """Whether ``error`` says the model cannot do this kind of request (vs. being down).

    Only an HTTP status the server answered with counts (:data:`REFUSAL_STATUSES`); a
    garbled body or a dropped connection is a failing model, not a refusal.
    """
    for link in exception_chain(error):
        status = getattr(link, "status_code", None)
        if isinstance(status, int) and status in REFUSAL_STATUSES:
            return True
    return False


class StrategyRefused(Exception):
    """A structured-output strategy was refused by the model (see :func:`is_refusal`)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(_one_line(error))
        self.error = error


class UnusableReply(Exception):
    """The call returned, but its reply could not be read (see ``is_unusable_reply``)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(_one_line(error))
        self.error = error


def _worth_another_call(error: BaseException) -> bool:
    """Whether the same model gets another try: a transient failure, but never a timeout (a
    second request would only queue behind the first, which the server may still be
    generating) nor one of Crossroads' own errors or verdicts on the reply."""
    if isinstance(error, CrossroadsError | UnusableReply | StrategyRefused | TimeoutError):
        return False
    return is_transient(error)


def error_usage(error: BaseException) -> dict[str, int] | None:
    """Token counts a failed call's exception carries (langchain-openai's length error holds
    the completion and its usage), so the tokens the server spent are counted."""
    for link in exception_chain(error):
        usage = getattr(getattr(link, "completion", None), "usage", None)
        if usage is not None:
            return {
                "input_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
                "output_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
            }
    return None


def estimated_usage(
    prompt: Sequence[BaseMessage], reply: AIMessage | None = None
) -> dict[str, int]:
    """Token counts estimated at about 4 characters a token, for a reply that came without
    any: an OpenAI-compatible server that ignores ``stream_options.include_usage``
    (llama-cpp-python's) sends no usage in a streamed reply, and a token budget that counted
    0 would never end a request. With no ``reply`` (a call that timed out, or whose reply
    could not be read), only the prompt is counted."""

    def tokens(text: str) -> int:
        return -(-len(text) // 4) if text else 0

    def text_of(message: BaseMessage) -> str:
        content = message.content
        return content if isinstance(content, str) else str(content)

    calls = getattr(reply, "tool_calls", None) or []
    out = "" if reply is None else text_of(reply)
    out += "".join(str(call.get("args", "")) for call in calls)
    return {
        "input_tokens": tokens("\n".join(text_of(message) for message in prompt)),
        "output_tokens": tokens(out),
    }


REDACTED = "[redacted]"
_KEY_IN_URL = re.compile(r"(?i)\b((?:api_?)?key|token|secret)=[^&\s\"']+")
_GOOGLE_KEY = re.compile(r"AIza[0-9A-Za-z_\-]{20,}")


def scrub_secrets(text: str, settings: Settings) -> str:
    """``text`` with the run's API keys (and anything shaped like one) replaced.

    A provider error may echo the request, key included; such text reaches the answer,
    the terminal and the stored thread, so every model error passes through here.
    """
    for secret in (settings.google_api_key, settings.tavily_api_key):
        if secret and len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    text = _KEY_IN_URL.sub(lambda match: f"{match.group(1)}={REDACTED}", text)
    return _GOOGLE_KEY.sub(REDACTED, text)


REPLY_CUT = "\n\n[reply cut: longer than {limit:,} characters (max_reply_chars)]"


def cap_reply(message: AIMessage, limit: int) -> AIMessage:
    """``message`` with its text cut to ``limit`` characters and a note, if it is longer.

    A model's reply is untrusted: a runaway or hostile one (10 MB) would otherwise be kept in
    the state, every checkpoint and the thread. Text blocks of a list content count together.
    """
    content = message.content
    if isinstance(content, str):
        if len(content) <= limit:
            return message
        return message.model_copy(
            update={"content": content[:limit] + REPLY_CUT.format(limit=limit)}
        )
    blocks: list[Any] = []
    left = limit
    for block in content:
        text = block if isinstance(block, str) else None
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            text = block["text"]
        if text is None:
            blocks.append(block)
            continue
        if left <= 0 or len(text) > left:
            cut = text[: max(left, 0)] + REPLY_CUT.format(limit=limit)
            blocks.append(cut if isinstance(block, str) else {**block, "text": cut})
            return message.model_copy(update={"content": blocks})
        left -= len(text)
        blocks.append(block)
    return message


_BOUND: OrderedDict[int, tuple[Any, OrderedDict[Hashable, Any]]] = OrderedDict()
_BOUND_LOCK = threading.Lock()
BOUND_MODELS = 32
"""Models whose runnables are kept (the least recently used go first)."""
BOUND_PER_MODEL = 64
"""Runnables kept per model (the oldest go first): one per schema and strategy."""


def bound_runnable(model: Any, key: Hashable | None, build: Callable[[Any], Any]) -> Any:
    """``build(model)``, made once per ``model`` and ``key`` and then reused.

    Binding a schema is not free: ``with_structured_output`` turns the Pydantic class into a
    JSON schema (about 5 ms), on every call. The runnable it returns is immutable, so one
    serves every request. Chat models are not hashable (Pydantic), so the cache is keyed by
    ``id``; it holds the model too (every runnable bound to it does anyway), so the ``id``
    cannot be reused while its entry lives. It is bounded: models resolved from a spec are
    per event loop (:mod:`crossroads.models`), so a process that opens many apps meets many
    models, and the least recently used go. ``key=None`` builds every time.
    """
    if key is None:
        return build(model)
    with _BOUND_LOCK:
        memo = _model_memo(model)
        if key in memo:
            return memo[key]
    runnable = build(model)
    with _BOUND_LOCK:
        memo = _model_memo(model)
        memo[key] = runnable
        while len(memo) > BOUND_PER_MODEL:
            memo.popitem(last=False)
    return runnable


def _model_memo(model: Any) -> OrderedDict[Hashable, Any]:
    """What is kept for ``model`` (call with ``_BOUND_LOCK`` held); it becomes the most
    recently used, and the least recently used model beyond :data:`BOUND_MODELS` goes."""
    ident = id(model)
    entry = _BOUND.get(ident)
    if entry is None or entry[0] is not model:
        entry = _BOUND[ident] = (model, OrderedDict())
    _BOUND.move_to_end(ident)
    while len(_BOUND) > BOUND_MODELS:
        _BOUND.popitem(last=False)
    return entry[1]


class ModelCaller:
    """Calls models for one node run, inside the request's budgets.

    Args:
        settings: The run's settings (``runtime.context``).
        state: The node's input state; ``started_at`` (and ``usage``, see
            :func:`~crossroads.usage.request_ledger`) find the request's ledger.
        node: Name recorded in ``usage["by_node"]`` (e.g. ``"calculator.extract"``).
    """

    def __init__(self, settings: Settings, state: Mapping[str, Any], node: str) -> None:
        self.settings = settings
        self.node = node
        self._ledger = request_ledger(state)
        started = state.get("started_at")
        self._started = float(started) if started else time.time()

    # -- budgets ------------------------------------------------------------------

    def remaining_seconds(self) -> float:
        """Wall-clock seconds left in the request's budget."""
        return self.settings.max_seconds - (time.time() - self._started)

    def check_budget(self) -> None:
        """Raise :class:`BudgetExceeded` if the next call would break a budget."""
        used = self._ledger.usage
        if used["llm_calls"] >= self.settings.max_llm_calls:
            raise BudgetExceeded(CALLS_EXHAUSTED.format(limit=self.settings.max_llm_calls))
        tokens = used["input_tokens"] + used["output_tokens"]
        if tokens >= self.settings.max_tokens:
            raise BudgetExceeded(
                TOKENS_EXHAUSTED.format(used=tokens, limit=self.settings.max_tokens)
            )
        if self.remaining_seconds() <= 0:
            raise BudgetExceeded(
                TIME_EXHAUSTED.format(
                    elapsed=time.time() - self._started, limit=self.settings.max_seconds
                )
            )

    def usage_update(self) -> Usage:
        """The request's usage so far, this node's calls included, for the state's ``usage``
        channel (its reducer keeps the latest copy; see :mod:`crossroads.usage`)."""
        return self._ledger.usage

    # -- calls --------------------------------------------------------------------

    def _chain(self, role: str) -> tuple[str | BaseChatModel, ...]:
        if self.settings.offline:
            raise ConfigurationError(NO_MODEL.format(role=role))
        chain = self.settings.models_for(role)
        if not chain:
            raise ConfigurationError(NO_MODEL.format(role=role))
        return chain

    async def _call(
        self,
        role: str,
        build: Any,
        messages: Sequence[BaseMessage],
        *,
        tags: Sequence[str],
        refusals_end: bool = False,
        key: Hashable | None = None,
    ) -> Any:
        """Run ``build(model)`` on ``messages`` with retries and fallbacks.

        A call that times out is not repeated on the same model: the server may still be
        generating the first reply, and a second request would only queue behind it.

        Args:
            refusals_end: Raise :class:`StrategyRefused` at once when the model refuses the
                request (:func:`is_refusal`), so a structured call can try its next strategy.
            key: What ``build`` makes, when the same key always makes the same runnable: it
                is then built once per model (:func:`bound_runnable`), not on every call.

        Raises:
            UnusableReply: the call returned but its reply could not be read.
        """
        chain = self._chain(role)
        tried: list[str] = []
        last_error: BaseException | None = None
        stalled = _stalled_models(self._started)
        labels: RunnableConfig = {
            "tags": [f"role:{role}", *tags],
            "metadata": {"crossroads_role": role},
        }

        for spec in chain:
            name = spec if isinstance(spec, str) else type(spec).__name__
            stall_key = spec if isinstance(spec, str) else f"{name}@{id(spec)}"
            tried.append(name)
            if stall_key in stalled:
                last_error = stalled[stall_key]
                continue  # it sent nothing earlier in this request: do not wait for it again
            try:
                model = resolve_model(
                    spec,
                    temperature=self.settings.temperature_for(role),
                    settings=self.settings,
                    max_output_tokens=self.settings.output_cap_for(role),
                )
                runnable = bound_runnable(model, key, build)
            except (NotImplementedError, TypeError, ValueError) as error:
                if refusals_end and not isinstance(error, CrossroadsError):
                    raise StrategyRefused(error) from error
                raise
            streams = _streams(model)
            retry = async_retrying(
                attempts=self.settings.model_retries + 1,
                cap=MAX_RETRY_WAIT,
                retry_on=_worth_another_call,
                seconds_left=self.remaining_seconds,
            )
            try:
                return await retry(
                    self._attempt, role, runnable, messages, streams, refusals_end, labels
                )
            except (CrossroadsError, asyncio.CancelledError, UnusableReply, StrategyRefused):
                raise
            except Exception as error:  # this model failed for good: try the next one
                last_error = error
                if isinstance(error, FirstByteTimeout):
                    stalled[stall_key] = error
        assert last_error is not None
        failure = describe_provider_error(last_error)
        logger.info(
            "%s model failed: %s [%s] %s",
            role,
            failure.kind,
            failure.code or "no provider code",
            scrub_secrets(_one_line(last_error), self.settings),
        )
        code = f"; provider code: {failure.code}" if failure.code else ""
        failed = ModelError(
            MODEL_FAILED.format(
                role=role,
                error=scrub_secrets(failure.message, self.settings),
                tried=", ".join(tried),
                code=code,
            )
        )
        failed.kind = failure.kind
        failed.code = failure.code
        raise failed from last_error

    async def _attempt(
        self,
        role: str,
        runnable: Any,
        messages: Sequence[BaseMessage],
        streams: bool,
        refusals_end: bool,
        labels: RunnableConfig,
    ) -> Any:
        """One call of one model, inside the budgets; the retries are :func:`_call`'s.

        Raises:
            TimeoutError: no reply in time (not retried: the server may still be generating).
            BudgetExceeded: a budget ran out, before the call or during it.
            UnusableReply, StrategyRefused: see :meth:`_call`.
        """
        self.check_budget()
        timeout = max(0.01, min(self.settings.request_timeout, self.remaining_seconds()))
        first_byte = min(self.settings.first_byte_timeout, timeout) if streams else timeout
        self._ledger.record(self.node, None)
        token = CURRENT_ROLE.set(role)
        timed_out: TimeoutError | None = None
        try:
            return await _watched(runnable, list(messages), first_byte, timeout, labels)
        except (CrossroadsError, asyncio.CancelledError):
            raise
        except TimeoutError as error:
            timed_out = error
            # The server read the prompt (or queued it): count it, as an estimate.
            prompt_only = estimated_usage(messages)
            self._ledger.record(self.node, prompt_only, count_call=False)
        except Exception as error:
            unusable = is_unusable_reply(error)
            tokens = error_usage(error)
            if tokens is None and unusable:
                # A reply came back but its usage went down with it: the prompt was still
                # read by the server, so estimate it rather than count 0.
                tokens = estimated_usage(messages)
            if tokens:
                self._ledger.record(self.node, tokens, count_call=False)
            if unusable:
                raise UnusableReply(error) from error
            if refusals_end and is_refusal(error):
                raise StrategyRefused(error) from error
            raise
        finally:
            CURRENT_ROLE.reset(token)
        if self.remaining_seconds() <= 0:
            raise BudgetExceeded(
                TIME_EXHAUSTED.format(
                    elapsed=time.time() - self._started, limit=self.settings.max_seconds
                )
            ) from timed_out
        if isinstance(timed_out, FirstByteTimeout):
            raise timed_out
        raise TimeoutError(CALL_TIMED_OUT.format(seconds=timeout))

    def _record(self, message: AIMessage | None, prompt: Sequence[BaseMessage] = ()) -> None:
        if message is None:
            return
        meta: Mapping[str, Any] = message.usage_metadata or {}
        if not meta:
            meta = estimated_usage(prompt, message)
        self._ledger.record(
            self.node,
            {
                "input_tokens": int(meta.get("input_tokens", 0) or 0),
                "output_tokens": int(meta.get("output_tokens", 0) or 0),
            },
            count_call=False,
        )

    async def ainvoke(
        self,
        role: str,
        messages: Sequence[BaseMessage],
        *,
        answer: bool = False,
    ) -> AIMessage:
        """Plain chat call.

        Args:
            role: Role whose model, temperature and fallbacks apply.
            messages: The prompt.
            answer: Tokens of this call are the user-visible answer (they are streamed).
        """
        tags = [ANSWER_TAG] if answer else []
        try:
            reply = await self._call(role, lambda model: model, messages, tags=tags, key="chat")
        except UnusableReply as unusable:
            raise ModelError(
                MODEL_FAILED.format(role=role, error=str(unusable), tried=role)
            ) from unusable.error
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=str(getattr(reply, "content", reply)))
        self._record(reply, messages)
        return cap_reply(reply, self.settings.max_reply_chars)

    async def ainvoke_tools(
        self, role: str, tools: Sequence[Any], messages: Sequence[BaseMessage]
    ) -> AIMessage:
        """Chat call with ``tools`` bound (the reply may hold ``tool_calls``)."""
        reply = await self._call(role, lambda model: model.bind_tools(tools), messages, tags=[])
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=str(getattr(reply, "content", reply)))
        self._record(reply, messages)
        return cap_reply(reply, self.settings.max_reply_chars)

    def _strategies(self, role: str) -> tuple[str, ...]:
        pinned = self.settings.structured_output
        if pinned != "auto":
            return (pinned,)
        learned = _learned_strategy(self._chain(role))
        if learned is None:
            return STRATEGIES
        return STRATEGIES[STRATEGIES.index(learned) :]

    async def astructured(
        self,
        role: str,
        schema: type[BaseModel],
        messages: Sequence[BaseMessage],
        *,
        lenient: LenientReader | None = None,
        retry: Callable[[str], str] | None = None,
    ) -> StructuredReply:
        """Structured-output call; never raises for a malformed reply, reports it instead.

        The strategies of :mod:`crossroads.structured` are tried in order (or the one pinned
        by ``Settings.structured_output``): a strategy the model refuses (HTTP 400/500, not
        implemented) or whose reply cannot be read moves on to the next, and the first that
        gets a usable reply is remembered for the model. When the last strategy's reply
        cannot be read either, the model is asked once more with ``retry``'s message, if
        given; a reply still unusable is returned as ``parsed=None`` with the reason.

        Args:
            role: Role whose model applies.
            schema: The object to get back.
            messages: The prompt.
            lenient: Reads a plain-text reply when it holds no JSON (the router takes the
                first of its choices named in the text).
            retry: Turns why a reply was unusable into the message that asks again (the
                router repeats its choices; the planner asks for every field).

        Raises:
            ModelError: the model failed (down, timed out), or refused every strategy.
            BudgetExceeded: a budget ran out.
        """
        reply = await self._degrading(role, schema, messages, lenient)
        if reply.parsed is None and retry is not None:
            again = HumanMessage(content=retry(reply.error or "the reply was unusable"))
            reply = await self._degrading(role, schema, [*messages, again], lenient)
        return reply

    async def _degrading(
        self,
        role: str,
        schema: type[BaseModel],
        messages: Sequence[BaseMessage],
        lenient: LenientReader | None,
    ) -> StructuredReply:
        """One structured call, degrading through the strategies (see :meth:`astructured`)."""
        strategies = self._strategies(role)
        refused: list[str] = []
        for index, strategy in enumerate(strategies):
            last = index == len(strategies) - 1
            try:
                reply = await self._structured_once(
                    role, schema, messages, strategy, lenient=lenient, refusals_end=not last
                )
            except StrategyRefused as refusal:
                refused.append(f"{strategy}: {refusal}")
                continue
            if reply.parsed is None and reply.garbled and not last:
                # An unreadable reply (a garbled tool call, a cut-off JSON object) says this
                # strategy does not work for this model: the next one may (issue 22).
                refused.append(f"{strategy}: {reply.error}")
                continue
            if reply.parsed is not None and self.settings.structured_output == "auto":
                _learned_strategy(self._chain(role), strategy)
            return reply
        raise ModelError(  # only reached when every strategy was refused (the last raises)
            MODEL_FAILED.format(role=role, error="; ".join(refused), tried=role)
        )

    async def _structured_once(
        self,
        role: str,
        schema: type[BaseModel],
        messages: Sequence[BaseMessage],
        strategy: str,
        *,
        lenient: LenientReader | None,
        refusals_end: bool,
    ) -> StructuredReply:
        prompt = list(messages)
        if strategy in ("json_mode", "text"):
            prompt = [*prompt, HumanMessage(content=schema_prompt(schema))]
        if strategy == "text":
            build: Any = lambda model: model  # noqa: E731
        elif strategy == "json_mode":
            build = lambda model: _json_mode(model, schema)  # noqa: E731
        elif strategy == "function_calling":
            build = lambda model: with_raw(  # noqa: E731
                model, schema, method="function_calling"
            )
        else:
            build = lambda model: with_raw(model, _native_schema(model, schema))  # noqa: E731
        try:
            result = await self._call(
                role, build, prompt, tags=[], refusals_end=refusals_end, key=(strategy, schema)
            )
        except UnusableReply as unusable:
            return StructuredReply(parsed=None, error=str(unusable), raw=None, garbled=True)
        if isinstance(result, AIMessage):  # text and json_mode: read the reply ourselves
            self._record(result, prompt)
            parsed_text, error = read_reply(result.text, schema, lenient)
            return StructuredReply(parsed=parsed_text, error=error, raw=result)
        raw = result.get("raw") if isinstance(result, dict) else None
        raw_message = raw if isinstance(raw, AIMessage) else None
        self._record(raw_message, prompt)
        parsed = result.get("parsed") if isinstance(result, dict) else result
        error = result.get("parsing_error") if isinstance(result, dict) else None
        if parsed is None:
            if raw_message is not None and raw_message.text.strip():
                read, _ = read_reply(raw_message.text, schema, lenient)
                if read is not None:
                    return StructuredReply(parsed=read, error=None, raw=raw_message)
            reason = _one_line(error) if error else "the reply was empty or not in the schema"
            garbled = error is not None and "Unknown tool type" in str(error)
            return StructuredReply(parsed=None, error=reason, raw=raw_message, garbled=garbled)
        if isinstance(parsed, dict):
            try:
                parsed = schema.model_validate(parsed)
            except Exception as invalid:
                return StructuredReply(parsed=None, error=_one_line(invalid), raw=raw_message)
        return StructuredReply(parsed=parsed, error=None, raw=raw_message)


_LEARNED_STRATEGY: dict[str, str] = {}
"""Model spec -> the structured-output strategy that last got a usable reply from it."""
_LEARNED = ("learned strategy",)


def _learned_strategy(chain: Sequence[str | BaseChatModel], learned: str = "") -> str | None:
    """The strategy learned for the chain's first model (``learned``: remember it).

    A spec string is its own key. A model object's is kept with the object (see
    :func:`bound_runnable`), not under its ``id``: a model freed and another made at the
    same address inherited the first one's strategy.
    """
    first = chain[0] if chain else ""
    with _BOUND_LOCK:
        store: Any = _LEARNED_STRATEGY if isinstance(first, str) else _model_memo(first)
        key: Hashable = first if isinstance(first, str) else _LEARNED
        if learned:
            store[key] = learned
        return store.get(key)


def _is_openai_compatible(model: BaseChatModel) -> bool:
    return type(model).__name__ in {"ChatOpenAI", "AzureChatOpenAI"}


def _native_schema(model: BaseChatModel, schema: type[BaseModel]) -> Any:
    """The schema for the native strategy. OpenAI-compatible models get it as a dict (the
    reply is validated by :meth:`ModelCaller._structured_once`): given the Pydantic class,
    langchain-openai puts the parsed object into the streamed message, and each later dump of
    that message printed "Pydantic serializer warnings" into the chat screen (issue 22)."""
    return schema_json(schema) if _is_openai_compatible(model) else schema


def _json_mode(model: BaseChatModel, schema: type[BaseModel]) -> Any:
    """JSON mode; OpenAI-compatible servers also get the schema in ``response_format``
    (llama.cpp's server compiles it into a grammar; a server that rejects the extra key
    refuses the request, and the ``text`` strategy follows)."""
    if _is_openai_compatible(model):
        return model.bind(response_format={"type": "json_object", "schema": schema_json(schema)})
    return with_raw(model, schema, method="json_mode")


def with_raw(model: BaseChatModel, schema: Any, **kwargs: Any) -> Any:
    """``model.with_structured_output(schema, include_raw=True, **kwargs)``, made cheaper.

    LangChain's ``include_raw=True`` wraps the model and its parser in a parallel map, an
    ``assign`` and a fallback, and runs the parser and two lambdas in a thread pool (their
    async paths default to ``run_in_executor``): about 6 ms a call with a model that answers
    at once, and one thread hop each. The same ``{"raw", "parsed", "parsing_error"}`` comes
    from the plain ``model | parser`` sequence that ``include_raw=False`` returns: the model
    is awaited, then its parser runs inline (parsing is CPU-only and quick), and a parsing
    error is caught the way the fallback caught it. A provider whose structured runnable is
    not such a pair (langchain-openai adds a refusal check between the two) gets LangChain's
    own ``include_raw=True``.
    """
    plain = model.with_structured_output(schema, **kwargs)
    if not _model_then_parser(plain, model):
        return model.with_structured_output(schema, include_raw=True, **kwargs)
    llm, parser = _schema_noted_once(plain.steps[0]), plain.steps[1]

    async def raw_and_parsed(messages: Any, config: RunnableConfig) -> dict[str, Any]:
        raw = await llm.ainvoke(messages, config)
        try:
            parsed = parser.invoke(raw, config)
        except Exception as error:  # what include_raw's fallback catches
            return {"raw": raw, "parsed": None, "parsing_error": error}
        return {"raw": raw, "parsed": parsed, "parsing_error": None}

    return RunnableLambda(raw_and_parsed, name="structured_output")


def _model_then_parser(runnable: Any, model: BaseChatModel) -> TypeGuard[RunnableSequence]:
    """Whether ``runnable`` is the model (bound to its tools or format) followed by one
    output parser, which parses synchronously."""
    if not isinstance(runnable, RunnableSequence) or len(runnable.steps) != 2:
        return False
    first, parser = runnable.steps
    return (first is model or getattr(first, "bound", None) is model) and isinstance(
        parser, BaseOutputParser | BaseGenerationOutputParser
    )


def _schema_noted_once(llm: Any) -> Any:
    """``llm`` with the schema in its tracing note (``ls_structured_output_format``, which
    ``with_structured_output`` binds) already turned into a JSON schema. LangChain converts
    the note's Pydantic class on every call, for tracing metadata only: about 1 ms a call.
    The JSON schema converts to itself, so the note is the same; it is made once, here."""
    kwargs = getattr(llm, "kwargs", None)
    note = kwargs.get("ls_structured_output_format") if isinstance(kwargs, dict) else None
    if not isinstance(note, dict) or isinstance(note.get("schema"), dict | None):
        return llm
    try:
        schema = convert_to_json_schema(note["schema"])
    except ValueError:  # LangChain drops a note it cannot convert; so does the call
        return llm
    return llm.bind(ls_structured_output_format={**note, "schema": schema})
