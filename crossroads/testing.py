"""Testing helpers: a scripted chat model for offline tests.

LangChain's built-in fake chat models support neither ``bind_tools`` nor
``with_structured_output``, which every Crossroads agent uses. :class:`ScriptedChatModel`
does: it is a real ``BaseChatModel`` whose replies you write in advance, so a test runs the
real graph, the real parsers and the real streaming path, with no network.

Replies are chosen, for each call, in this order:

1. ``by_role``: a queue per role. Crossroads tags each call with its role (``router``,
   ``calculator``, ``researcher``, ``creative``, ``planner``, ``critic``, ``writer``).
2. ``rules``: ``(pattern, reply)`` pairs; the first whose regular expression matches the
   prompt text answers. Rules are not used up.
3. ``replies``: a queue for everything else.
4. ``default``, if set; otherwise the call fails with :class:`ScriptExhausted`, naming the
   role and the prompt, so a test that makes an unexpected call says so.

A reply can be:

* a ``str``: the message text (with tools bound, a plain-text reply is how you script a
  model that ignored the schema);
* a ``dict`` or a pydantic object: with exactly one tool bound (which is what
  ``with_structured_output`` does) it becomes that tool's call arguments; otherwise JSON text;
* :func:`tool_call` for a call to a named tool;
* an ``AIMessage``, used as it is;
* an exception instance, raised (to script a provider failure);
* a callable taking the prompt messages and returning any of the above.

Example:
    >>> from crossroads.testing import ScriptedChatModel
    >>> model = ScriptedChatModel(by_role={"router": [{"route": "math", "reason": "sum"}]})

Every reply carries ``usage_metadata`` (about 4 characters per token) and
``response_metadata["model_name"]``. The model is safe to share between threads and async
tasks; ``calls`` records what was asked, for assertions.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

__all__ = ["ScriptExhausted", "ScriptedCall", "ScriptedChatModel", "tool_call"]

EXHAUSTED = (
    "ScriptedChatModel has no reply left for role {role!r}; the prompt ended with: {tail!r}. "
    "Add a reply to by_role, rules or replies, or set default=..."
)


class ScriptExhausted(AssertionError):
    """A scripted model was called more often than the test scripted."""


@dataclass(frozen=True)
class ScriptedCall:
    """One recorded call: the role, the prompt and the tools that were bound."""

    role: str | None
    messages: tuple[BaseMessage, ...]
    tools: tuple[str, ...]

    @property
    def prompt(self) -> str:
        """The prompt as one string (all message contents joined)."""
        return _prompt_text(self.messages)


def tool_call(name: str, args: Mapping[str, Any] | None = None) -> AIMessage:
    """A scripted reply that calls the tool ``name`` with ``args``."""
    return AIMessage(
        content="",
        tool_calls=[
            {"name": name, "args": dict(args or {}), "id": f"call_{uuid.uuid4().hex[:12]}"}
        ],
    )


def _prompt_text(messages: Sequence[BaseMessage]) -> str:
    return "\n".join(
        m.content if isinstance(m.content, str) else json.dumps(m.content) for m in messages
    )


def _estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a script. See the module docstring."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    replies: list[Any] = Field(default_factory=list)
    """Replies for calls no role queue or rule answers, used in order."""
    by_role: dict[str, list[Any]] = Field(default_factory=dict)
    """Reply queues per role, used in order."""
    rules: list[tuple[str, Any]] = Field(default_factory=list)
    """``(regex, reply)`` pairs matched against the prompt text; never used up."""
    default: Any = None
    """Reply when nothing else applies; ``None`` raises :class:`ScriptExhausted`."""
    latency: float = 0.0
    """Seconds each call takes (``asyncio.sleep`` in async calls), for benchmarks."""
    model_name: str = "scripted"
    words_per_chunk: int = 1
    """Streaming granularity."""

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _queues: dict[str, deque[Any]] = PrivateAttr(default_factory=dict)
    _general: deque[Any] = PrivateAttr(default_factory=deque)
    _calls: list[ScriptedCall] = PrivateAttr(default_factory=list)

    def model_post_init(self, context: Any, /) -> None:
        self._queues = {role: deque(items) for role, items in self.by_role.items()}
        self._general = deque(self.replies)

    @property
    def _llm_type(self) -> str:
        return "crossroads-scripted"

    @property
    def calls(self) -> list[ScriptedCall]:
        """Calls made so far (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_for(self, role: str) -> list[ScriptedCall]:
        """Calls made so far by ``role``."""
        return [call for call in self.calls if call.role == role]

    def remaining(self, role: str | None = None) -> int:
        """Scripted replies not used yet (for one role, or the general queue)."""
        with self._lock:
            if role is None:
                return len(self._general)
            return len(self._queues.get(role, ()))

    def add_replies(self, *replies: Any, role: str | None = None) -> None:
        """Append replies to a role's queue (or the general queue)."""
        with self._lock:
            queue = self._general if role is None else self._queues.setdefault(role, deque())
            queue.extend(replies)

    # -- tools -------------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools: replies can then be tool calls (this is also how
        ``with_structured_output`` works on this model)."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    # -- choosing and shaping a reply --------------------------------------------

    def _pick(
        self, role: str | None, messages: Sequence[BaseMessage], tools: tuple[str, ...]
    ) -> Any:
        prompt = _prompt_text(messages)
        with self._lock:
            queue = self._queues.get(role) if role else None
            if queue:
                reply = queue.popleft()
            else:
                reply = _NOTHING
                for pattern, candidate in self.rules:
                    if re.search(pattern, prompt, flags=re.IGNORECASE | re.DOTALL):
                        reply = candidate
                        break
                if reply is _NOTHING and self._general:
                    reply = self._general.popleft()
                if reply is _NOTHING and self.default is not None:
                    reply = self.default
            self._calls.append(ScriptedCall(role=role, messages=tuple(messages), tools=tools))
        if reply is _NOTHING:
            raise ScriptExhausted(EXHAUSTED.format(role=role, tail=prompt[-200:]))
        return reply

    def _shape(
        self, reply: Any, messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]
    ) -> AIMessage:
        for _ in range(8):  # a callable may return another callable; stay bounded
            if not callable(reply) or isinstance(reply, BaseModel | AIMessage):
                break
            reply = reply(list(messages))
        if isinstance(reply, BaseException):
            raise reply
        names = [tool["function"]["name"] for tool in tools]
        if isinstance(reply, AIMessage):
            message = reply.model_copy(deep=True)
        elif isinstance(reply, BaseModel):
            args = reply.model_dump(mode="json")
            name = type(reply).__name__ if type(reply).__name__ in names else None
            message = self._as_tool_or_text(args, name, names)
        elif isinstance(reply, Mapping):
            message = self._as_tool_or_text(dict(reply), None, names)
        else:
            message = AIMessage(content=str(reply))
        out_text = (
            message.content if isinstance(message.content, str) else json.dumps(message.content)
        )
        out_text += "".join(json.dumps(call["args"]) for call in message.tool_calls)
        message.usage_metadata = {
            "input_tokens": _estimate_tokens(_prompt_text(messages)),
            "output_tokens": _estimate_tokens(out_text),
            "total_tokens": 0,
        }
        message.usage_metadata["total_tokens"] = (
            message.usage_metadata["input_tokens"] + message.usage_metadata["output_tokens"]
        )
        message.response_metadata = {
            **message.response_metadata,
            "model_name": self.model_name,
            "finish_reason": "stop",
        }
        if message.id is None:
            message.id = f"scripted-{uuid.uuid4().hex[:12]}"
        return message

    @staticmethod
    def _as_tool_or_text(args: dict[str, Any], name: str | None, names: list[str]) -> AIMessage:
        if name is None and len(names) == 1:
            name = names[0]
        if name is None:
            return AIMessage(content=json.dumps(args))
        return tool_call(name, args)

    @staticmethod
    def _role_from(run_manager: Any) -> str | None:
        from crossroads.llm import CURRENT_ROLE

        role = CURRENT_ROLE.get()
        if role:
            return role
        for tag in getattr(run_manager, "tags", None) or []:
            if isinstance(tag, str) and tag.startswith("role:"):
                return tag.removeprefix("role:")
        return None

    def _reply(self, messages: list[BaseMessage], run_manager: Any, **kwargs: Any) -> AIMessage:
        tools = kwargs.get("tools") or []
        role = self._role_from(run_manager)
        names = tuple(tool["function"]["name"] for tool in tools)
        reply = self._pick(role, messages, names)
        return self._shape(reply, messages, tools)

    # -- BaseChatModel -----------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            time.sleep(self.latency)
        message = self._reply(messages, run_manager, **kwargs)
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            await asyncio.sleep(self.latency)
        message = self._reply(messages, run_manager, **kwargs)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _chunks(self, message: AIMessage) -> Iterator[ChatGenerationChunk]:
        text = message.content if isinstance(message.content, str) else ""
        words = re.findall(r"\S+\s*|\s+", text)
        step = max(1, self.words_per_chunk)
        pieces = ["".join(words[i : i + step]) for i in range(0, len(words), step)] or [""]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            chunk = AIMessageChunk(
                content=piece,
                id=message.id,
                tool_call_chunks=[
                    {
                        "name": call["name"],
                        "args": json.dumps(call["args"]),
                        "id": call["id"],
                        "index": position,
                    }
                    for position, call in enumerate(message.tool_calls)
                ]
                if last
                else [],
                usage_metadata=message.usage_metadata if last else None,
                response_metadata=message.response_metadata if last else {},
            )
            yield ChatGenerationChunk(message=chunk)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if self.latency:
            time.sleep(self.latency)
        message = self._reply(messages, run_manager, **kwargs)
        for chunk in self._chunks(message):
            if run_manager and isinstance(chunk.message.content, str):
                run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if self.latency:
            await asyncio.sleep(self.latency)
        message = self._reply(messages, run_manager, **kwargs)
        for chunk in self._chunks(message):
            if run_manager and isinstance(chunk.message.content, str):
                await run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk


class _Nothing:
    pass


_NOTHING: Any = _Nothing()

Reply = Any
"""Any of the reply forms listed in the module docstring."""
ReplyFactory = Callable[[list[BaseMessage]], Any]
