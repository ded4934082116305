"""Bad input: a clear error or a sensible answer, never a crash or a hang."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crossroads import Crossroads, InputError
from crossroads.testing import ScriptedChatModel
from crossroads.validation import MAX_QUESTION_CHARS, MAX_THREAD_ID_CHARS, clean_question
from tests.helpers import echo_specs

MakeApp = Callable[..., Crossroads]


@pytest.mark.parametrize("question", ["", "   ", "\n\t  \n", "\x00\x01\x02"])
def test_empty_questions_are_refused(make_app: MakeApp, question: str) -> None:
    app = make_app(ScriptedChatModel(), agents=echo_specs())
    with pytest.raises(InputError, match="the question is empty"):
        app.ask(question)


def test_a_one_megabyte_question_is_refused_before_any_model_call(make_app: MakeApp) -> None:
    model = ScriptedChatModel()
    app = make_app(model, agents=echo_specs())
    with pytest.raises(InputError, match=r"1,048,576 characters long; the limit is"):
        app.ask("a" * 1_048_576)
    assert model.calls == []


def test_invalid_utf8_bytes_are_refused_with_the_position(make_app: MakeApp) -> None:
    app = make_app(ScriptedChatModel(), agents=echo_specs())
    with pytest.raises(InputError, match=r"byte 0xff at position 4"):
        app.ask(b"what\xff is 2+2")


def test_undecodable_bytes_smuggled_into_a_str_are_refused() -> None:
    smuggled = b"caf\xe9".decode("utf-8", "surrogateescape")
    with pytest.raises(InputError, match="byte 0xe9 at position 3"):
        clean_question(smuggled)


def test_valid_utf8_bytes_are_accepted() -> None:
    assert clean_question("café ☕ 2+2".encode()) == "café ☕ 2+2"


def test_control_characters_are_removed_and_the_question_answered(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": "none", "reason": "chat"}]})
    app = make_app(model, agents=echo_specs())
    result = app.ask("hel\x00lo\x1b[31m there\u200b\x7f")
    assert result.answer == "none: hel lo [31m there"
    assert "\x00" not in model.calls[0].prompt


def test_non_text_is_refused() -> None:
    with pytest.raises(InputError, match="must be text"):
        clean_question(42)


def test_the_limit_itself_is_accepted() -> None:
    assert len(clean_question("x" * MAX_QUESTION_CHARS)) == MAX_QUESTION_CHARS


def test_the_graph_itself_refuses_bad_input_without_raising(make_app: MakeApp) -> None:
    """LangGraph Server calls the graph directly, without the API's check."""
    import asyncio

    model = ScriptedChatModel()
    app = make_app(model, agents=echo_specs())

    async def run() -> dict[str, object]:
        config = {"configurable": {"thread_id": "raw"}}
        return dict(await app.graph.ainvoke({"question": "   "}, config, context=app.settings))

    state = asyncio.run(run())
    assert "the question is empty" in str(state["error"])
    assert "the question is empty" in str(state["answer"])
    assert model.calls == []


@pytest.mark.parametrize(
    ("thread_id", "message"),
    [
        ("x" * (MAX_THREAD_ID_CHARS + 1), "201 characters long; the limit is 200"),
        ("work\x1b[31m", r"control character \(U\+001B\) at position 4"),
        ("a\u202eb", r"control character \(U\+202E\) at position 1"),  # right-to-left override
        ("   ", "the thread id is blank"),
        (b"caf\xe9".decode("utf-8", "surrogateescape"), "byte 0xe9 at position 3"),
        (7, r"must be text \(str\), not int"),
    ],
)
def test_unusable_thread_ids_are_refused_before_the_store_is_touched(
    make_app: MakeApp, thread_id: object, message: str
) -> None:
    model = ScriptedChatModel()
    app = make_app(model, agents=echo_specs())
    with pytest.raises(InputError, match=message):
        app.ask("What is 2 + 2?", thread_id=thread_id)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=message):
        list(app.stream("What is 2 + 2?", thread_id=thread_id))  # type: ignore[arg-type]
    assert model.calls == [] and app.threads() == []


def test_the_longest_thread_id_and_any_script_are_accepted(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [{"route": "none", "reason": "chat"}] * 2})
    app = make_app(model, agents=echo_specs())
    longest = "t" * MAX_THREAD_ID_CHARS
    assert app.ask("hello", thread_id=longest).thread_id == longest
    assert app.ask("hello", thread_id="einkäufe-日本").thread_id == "einkäufe-日本"
    assert sorted(app.threads()) == sorted([longest, "einkäufe-日本"])


def test_a_lookup_refuses_only_what_the_store_cannot_encode(make_app: MakeApp) -> None:
    """History and delete take any id a store could hold (a thread saved before the rules
    for new ids stays reachable), but an undecodable one is a clear error, not a crash."""
    app = make_app(ScriptedChatModel(), agents=echo_specs())
    assert app.history("x" * 500) == []
    smuggled = b"\xff".decode("utf-8", "surrogateescape")
    with pytest.raises(InputError, match="byte 0xff at position 0"):
        app.history(smuggled)
    with pytest.raises(InputError, match="byte 0xff at position 0"):
        app.delete_thread(smuggled)


def test_resuming_a_thread_with_nothing_paused_is_refused(make_app: MakeApp) -> None:
    """A resume there used to run an empty request: a thread that did not exist appeared in
    the list, and a finished one had its last answer replaced by "no question in the input"."""
    model = ScriptedChatModel(by_role={"router": [{"route": "none", "reason": "chat"}]})
    app = make_app(model, agents=echo_specs())
    with pytest.raises(InputError, match="nothing to resume on thread 'ghost'"):
        app.resume("ghost")
    assert app.threads() == []
    app.ask("hello", thread_id="done")
    with pytest.raises(InputError, match="nothing to resume on thread 'done'"):
        app.resume("done", True)
    assert app.history("done") == [("you", "hello"), ("none", "none: hello")]
