"""What is built once and reused across requests (issue 19): the router's schema, and each
model's structured-output runnable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage
from pydantic import Field

from crossroads import Crossroads
from crossroads.agents.router import route_schema
from crossroads.llm import _BOUND, BOUND_MODELS, _learned_strategy, bound_runnable, with_raw
from crossroads.testing import ScriptedChatModel
from tests.helpers import echo_specs

MakeApp = Callable[..., Crossroads]


class CountingModel(ScriptedChatModel):
    """A scripted model that records the tools bound to it (``with_structured_output``
    binds the schema as a tool)."""

    bound: list[Sequence[Any]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        self.bound.append(tools)
        return super().bind_tools(tools, **kwargs)


def test_route_schema_is_made_once_per_set_of_agents() -> None:
    schema = route_schema(["math", "fact", "none"])
    assert route_schema(("math", "fact", "none")) is schema
    other = route_schema(["math", "units"])
    assert other is not schema
    assert other.model_validate({"route": "units", "reason": "r"}).route == "units"


def test_requests_with_the_same_agents_bind_one_schema(make_app: MakeApp) -> None:
    model = CountingModel(rules=[("You are the router", {"route": "math", "reason": "sums"})])
    app = make_app(model, agents=echo_specs())
    for question in ("I bought twelve boxes of seven eggs", "She reads forty pages a day"):
        assert app.ask(question).route == "math"
    assert len(model.calls_for("router")) == 2
    assert len(model.bound) == 1  # the second request reused the first one's runnable

    # Another set of agents is another schema: bound once more, with its own choices.
    fewer = [spec for spec in echo_specs() if spec.name != "fact"]
    make_app(model, agents=fewer).ask("I bought twelve boxes of seven eggs")
    assert len(model.bound) == 2
    (tool,) = model.bound[1]
    assert set(tool.model_fields["route"].annotation.__args__) == {"math", "none"}


def test_bound_runnables_are_kept_per_model_and_bounded() -> None:
    built: list[str] = []

    def build(name: str) -> Callable[[Any], str]:
        def make(model: Any) -> str:
            built.append(name)
            return name

        return make

    first, second = ScriptedChatModel(), ScriptedChatModel()
    assert bound_runnable(first, "key", build("a")) == "a"
    assert bound_runnable(first, "key", build("b")) == "a"  # reused
    assert bound_runnable(second, "key", build("c")) == "c"  # another model, its own
    assert bound_runnable(first, None, build("d")) == "d"  # no key: never kept
    assert built == ["a", "c", "d"]
    # Many more models (one app per event loop each): the least recently used go.
    others = [ScriptedChatModel() for _ in range(BOUND_MODELS)]
    for model in others:
        bound_runnable(model, "key", build("x"))
    assert len(_BOUND) == BOUND_MODELS
    assert bound_runnable(first, "key", build("e")) == "e"  # made again


async def test_with_raw_gives_what_include_raw_gives() -> None:
    schema = route_schema(["math", "fact"])
    prompt = [HumanMessage(content="12 * 7?")]
    for reply in ({"route": "math", "reason": "sums"}, {"route": "poem", "reason": "?"}):
        model = ScriptedChatModel(rules=[(".*", reply)])
        ours = await with_raw(model, schema).ainvoke(prompt)
        theirs = await model.with_structured_output(schema, include_raw=True).ainvoke(prompt)
        assert ours["parsed"] == theirs["parsed"]
        assert type(ours["parsing_error"]) is type(theirs["parsing_error"])
        assert ours["raw"].tool_calls[0]["args"] == theirs["raw"].tool_calls[0]["args"] == reply
    assert ours["parsed"] is None and ours["parsing_error"] is not None  # "poem" is no choice


class _Notes(BaseCallbackHandler):
    """Records the structured-output note each chat model call is traced with."""

    def __init__(self) -> None:
        self.notes: list[Any] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.notes.append(kwargs["options"].get("ls_structured_output_format"))


async def test_the_schema_note_for_tracing_is_made_once_and_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import langchain_core.language_models.chat_models as chat_models

    converted: list[Any] = []
    convert = chat_models.convert_to_json_schema

    def counting(schema: Any, **kwargs: Any) -> Any:
        converted.append(schema)
        return convert(schema, **kwargs)

    monkeypatch.setattr(chat_models, "convert_to_json_schema", counting)
    schema = route_schema(["math", "fact"])
    model = ScriptedChatModel(rules=[(".*", {"route": "math", "reason": "sums"})])
    ours, theirs = _Notes(), _Notes()
    runnable = with_raw(model, schema)
    for _ in range(2):
        await runnable.ainvoke([HumanMessage(content="12 * 7?")], {"callbacks": [ours]})
    assert all(isinstance(seen, dict) for seen in converted)  # never the class, per call
    include_raw = model.with_structured_output(schema, include_raw=True)
    await include_raw.ainvoke([HumanMessage(content="12 * 7?")], {"callbacks": [theirs]})
    assert ours.notes == [theirs.notes[0]] * 2  # what tracing sees is the same


def test_a_learned_strategy_stays_with_its_model_object() -> None:
    first, second = ScriptedChatModel(), ScriptedChatModel()
    assert _learned_strategy([first], "text") == "text"
    assert _learned_strategy([first]) == "text"
    assert _learned_strategy([second]) is None  # another object, whatever its address
    assert _learned_strategy(["openai:some-model"], "json_mode") == "json_mode"
    assert _learned_strategy(["openai:some-model"]) == "json_mode"


async def test_every_model_call_carries_its_role_and_answer_tag() -> None:
    """The role's tag and metadata ride in the call's own config (no binding per role): the
    API's token stream picks the answer's tokens by ``ANSWER_TAG``, and tracing reads the
    role from the metadata, for plain and structured calls alike."""
    from langchain_core.tracers.context import collect_runs

    from crossroads.llm import ANSWER_TAG, ModelCaller
    from crossroads.settings import Settings

    model = ScriptedChatModel(rules=[("route", {"route": "math", "reason": "r"}), (".*", "6")])
    caller = ModelCaller(Settings(model=model), {}, "test")
    with collect_runs() as runs:
        await caller.ainvoke("phraser", [HumanMessage(content="say 6")], answer=True)
        await caller.ainvoke("calculator", [HumanMessage(content="say 6")])
        await caller.astructured(
            "router", route_schema(["math", "fact"]), [HumanMessage(content="route it")]
        )
    chats = [run for run in runs.traced_runs if run.run_type == "llm"]
    chats += [c for run in runs.traced_runs for c in run.child_runs if c.run_type == "llm"]
    labels = {
        (
            tuple(sorted(run.tags or [])),
            (run.extra or {}).get("metadata", {}).get("crossroads_role"),
        )
        for run in chats
    }
    assert (tuple(sorted([ANSWER_TAG, "role:phraser"])), "phraser") in labels
    assert (("role:calculator",), "calculator") in labels
    assert (("role:router",), "router") in labels
