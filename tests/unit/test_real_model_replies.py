"""What real (small) models write, met with a scripted model: each usable reply becomes an
answer, each unusable one a clear fallback, never a dead model (issue 22)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from crossroads import Crossroads, Settings
from crossroads.agents.calculator import lenient_reading
from crossroads.llm import ModelCaller
from crossroads.models import output_cap_kwargs, resolve_model
from crossroads.structured import is_unusable_reply
from crossroads.testing import ScriptedChatModel, tool_call
from crossroads.tools.markup import strip_echoed_markup
from tests.helpers import echo_specs

MakeApp = Callable[..., Crossroads]
APPLES = "I have 10 apples and I ate four. How many do I have left?"


class ServerRefusal(Exception):
    """What an OpenAI-compatible server's HTTP 500 looks like to the client."""

    status_code = 500


def length_error() -> Exception:
    # langchain-openai raises openai.LengthFinishReasonError inside the call when a JSON-schema
    # reply hits the token limit; only the class name matters to Crossroads.
    error_class = type("LengthFinishReasonError", (Exception,), {})
    return error_class("Could not parse response content as the length limit was reached")


# --- structured output that degrades ------------------------------------------------------


def test_a_refused_json_schema_request_degrades_to_a_plain_text_answer(
    make_app: MakeApp,
) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [ServerRefusal("Error code: 500\nresponse_format not supported"), "math"]
        }
    )
    result = make_app(model, agents=echo_specs()).ask("tell me something")
    assert result.error is None
    assert result.route == "math"
    assert result.steps[0]["detail"]["decided_by"] == "llm"
    # The refused call and the answered one were both made, and both are counted.
    assert result.usage["by_node"]["router"]["llm_calls"] == 2
    # The refused request was not retried as it was: the second used another strategy.
    assert len(model.calls_for("router")) == 2


def test_an_unparseable_reply_is_an_unusable_reply_not_a_dead_model(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": [length_error(), length_error()]})
    result = make_app(model, agents=echo_specs(), structured_output="native").ask("hmm")
    assert result.error is None  # the router's own retry and fall-back ran
    assert result.route == "none"
    assert "length limit" in result.route_reason
    assert result.usage["llm_calls"] == 2


def test_a_garbled_tool_call_degrades_to_the_next_strategy_and_the_router_answers(
    make_app: MakeApp,
) -> None:
    # SmolLM2 through llama-cpp-python: the tool call names a tool that does not exist, under
    # both the native and the function-calling strategy; the plain-text reply is readable.
    garbled = tool_call("RouteChoiceRouteChoice", {"route": "math"})
    model = ScriptedChatModel(by_role={"router": [garbled, garbled, "math", "fact"]})
    app = make_app(model, agents=echo_specs())
    result = app.ask("what is 12 times 7?")
    assert result.error is None
    assert result.route == "math"
    assert result.steps[0]["detail"]["decided_by"] == "llm"
    prompts = [call.prompt for call in model.calls_for("router")]
    assert len(prompts) == 3  # native, function_calling, then text (json_mode was refused)
    assert "JSON schema" in prompts[2]
    # Only the strategy that gave a usable reply is remembered: the next question starts there.
    assert app.ask("capital of France?").route == "fact"
    assert len(model.calls_for("router")) == 4
    assert "JSON schema" in model.calls_for("router")[3].prompt


def test_a_pinned_strategy_is_the_only_one_tried(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"router": ["fact"]})
    result = make_app(model, agents=echo_specs(), structured_output="text").ask("capital?")
    assert result.route == "fact"
    assert "JSON schema" in model.calls_for("router")[0].prompt


def test_bad_structured_output_setting_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="structured_output must be one of"):
        Settings(structured_output="xml")


# --- bounded output ----------------------------------------------------------------------


def test_the_output_cap_reaches_an_openai_compatible_server_as_max_tokens() -> None:
    local = Settings(model_kwargs={"base_url": "http://127.0.0.1:8080/v1"})
    assert output_cap_kwargs("openai", 256, local) == {
        "extra_body": {"max_tokens": 256},
        "stream_usage": True,
    }
    hosted = Settings()
    assert output_cap_kwargs("openai", 256, hosted)["max_tokens"] == 256
    assert output_cap_kwargs("google_genai", 99, hosted) == {"max_output_tokens": 99}
    assert output_cap_kwargs("ollama", 99, hosted) == {"num_predict": 99}


def test_each_role_gets_its_own_cap_on_the_client() -> None:
    settings = Settings(google_api_key="k", output_caps={"router": 64})
    model = resolve_model(
        "google_genai:gemini-2.5-flash",
        temperature=0,
        settings=settings,
        max_output_tokens=settings.output_cap_for("router"),
    )
    assert model.max_output_tokens == 64  # type: ignore[attr-defined]
    assert settings.output_cap_for("writer") > settings.output_cap_for("router")


async def test_a_failed_call_is_counted_in_usage() -> None:
    model = ScriptedChatModel(by_role={"writer": [ServerRefusal("boom")]})
    settings = Settings(model=model, model_retries=0)
    caller = ModelCaller(settings, {}, "node")
    with pytest.raises(Exception, match="the writer model"):
        await caller.ainvoke("writer", [])
    assert caller.usage_update()["llm_calls"] == 1


async def test_a_reply_without_usage_is_counted_with_estimated_tokens() -> None:
    # llama-cpp-python ignores stream_options.include_usage: a streamed reply has no usage.
    def no_usage(messages: list[BaseMessage]) -> AIMessage:
        return AIMessage(content="Canberra is the capital.")  # 24 characters

    model = ScriptedChatModel(by_role={"writer": [no_usage]})
    original = model._shape

    def strip_usage(*args: object, **kwargs: object) -> AIMessage:
        message = original(*args, **kwargs)  # type: ignore[arg-type]
        message.usage_metadata = None
        return message

    object.__setattr__(model, "_shape", strip_usage)
    caller = ModelCaller(Settings(model=model), {}, "node")
    await caller.ainvoke("writer", [HumanMessage(content="x" * 40)])
    usage = caller.usage_update()
    assert usage["llm_calls"] == 1
    assert usage["input_tokens"] == 10 and usage["output_tokens"] == 6


# --- lenient calculator extraction ----------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expression"),
    [
        ("10 - 4 = 5 apples", "10 - 4"),
        ("24 * 5 = 108", "24 * 5"),
        ("180 / 60 = 2.4 hours", "180 / 60"),
        ("The answer is 3 + 4.", "3 + 4"),
        ("Expression: 12 * 7", "12 * 7"),
        ("```python\nx = 5 * 12\nx - 17\n```", "x = 5 * 12\nx - 17"),
        ("remainder = twelve * seven\nremainder", "remainder = 12 * 7\nremainder"),
        ("$0.25 * 43 = $10.75", "0.25 * 43"),
        ("10 apples - 4 apples", "10 - 4"),
        ("Let me compute this:\n5 * 3", "5 * 3"),
    ],
)
def test_lenient_reading_keeps_the_expression(reply: str, expression: str) -> None:
    assert lenient_reading(reply)[0] == expression


@pytest.mark.parametrize("reply", ["The answer is 42", "import os", "How many are left?"])
def test_lenient_reading_does_not_invent_a_calculation(reply: str) -> None:
    # A bare number is the model's own arithmetic: nothing for the engine to compute.
    assert lenient_reading(reply)[0] == ""


def test_an_expression_with_its_claimed_result_is_computed(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "sum"}],
            "calculator": ["10 - 4 = 5 apples", "You have 6 apples left."],
        }
    )
    result = make_app(model).ask(APPLES)
    assert result.answer == "You have 6 apples left."
    assert result.usage["by_node"]["calculator.extract"]["llm_calls"] == 1
    (evaluated,) = [s["detail"] for s in result.steps if s["action"] == "evaluate"]
    assert evaluated["read_as"] == "10 - 4"
    assert "claimed 5 apples" in evaluated["note"]


def test_a_calculator_that_cannot_extract_tries_the_word_math_reader(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "sum"}],
            "calculator": ["I like apples"] * 3,
        }
    )
    result = make_app(model).ask(APPLES)
    assert result.route == "math"
    assert result.answer == "10 - 4 = 6."
    assert [s["action"] for s in result.steps].count("extract") == 3


def test_a_math_question_is_not_rerouted_to_the_researcher_or_the_writers(
    make_app: MakeApp,
) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "numbers"}],
            "calculator": ["tomorrow = sunny"] * 3,
        }
    )
    result = make_app(model).ask("A box holds 24 eggs and a crate holds some boxes. Eggs in 3?")
    assert result.route == "math"
    assert [s["agent"] for s in result.steps].count("router") == 1
    assert "couldn't turn that into a calculation" in result.answer


def test_not_math_still_hands_back_to_the_router(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "?"}, {"route": "none", "reason": "words"}],
            "calculator": ["NOT MATH"],
        }
    )
    result = make_app(model, agents=[*echo_specs()[1:]], router_threshold=1.01)
    answered = result.ask("describe the sea in numbers of feelings")
    assert answered.route in {"fact", "none"}


# --- follow-ups and bare expressions ------------------------------------------------------


def test_a_bare_expression_needs_no_router_call(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={})
    result = make_app(model).ask("12 * 7")
    assert result.route == "math"
    assert result.answer == "12 * 7 = 84."
    assert result.usage["llm_calls"] == 0


def test_a_short_follow_up_goes_to_the_agent_that_answered(make_app: MakeApp) -> None:
    model = ScriptedChatModel(by_role={"calculator": ["ans / 4", "That is 21."]})
    app = make_app(model)
    app.ask("12 * 7", thread_id="t")
    result = app.ask("and divided by 4?", thread_id="t")
    assert result.route == "math"
    assert result.steps[0]["detail"]["decided_by"] == "follow_up"
    assert "21" in result.answer
    assert not model.calls_for("router")


# --- no markup leaks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "clean"),
    [
        ("&lt;/passage id=#1&gt; Canberra is the capital. [1]", "Canberra is the capital. [1]"),
        ("&amp;lt;/response&amp;gt; Hello", "Hello"),
        ("<haiku>Rain on the roof</haiku>", "Rain on the roof"),
        ("```\nRain falls\nsoftly\n```", "Rain falls\nsoftly"),
        ("AT&amp;T was founded in 1885.", "AT&T was founded in 1885."),
        ("plain 3 < 4 stays", "plain 3 < 4 stays"),
    ],
)
def test_echoed_markup_is_stripped(answer: str, clean: str) -> None:
    assert strip_echoed_markup(answer) == clean


def test_markup_the_user_wrote_is_kept() -> None:
    question = "what does <b> mean in &amp; HTML?"
    assert strip_echoed_markup("<b> means bold; &amp; is an ampersand", source=question) == (
        "<b> means bold; &amp; is an ampersand"
    )


def test_no_answer_contains_a_fence_or_entity_the_question_did_not(make_app: MakeApp) -> None:
    model = ScriptedChatModel(
        by_role={
            "router": [{"route": "math", "reason": "sum"}],
            "calculator": ["10 - 4", "&lt;result&gt;6&lt;/result&gt; You have 6 apples left."],
        }
    )
    result = make_app(model).ask(APPLES)
    assert "&lt;" not in result.answer and "<result>" not in result.answer
    assert "6" in result.answer


def test_eval_takes_the_server_address(tmp_path: Path) -> None:
    from crossroads.cli.evaluate import _make_app

    app = _make_app(None, True, None, tmp_path, base_url="http://127.0.0.1:8080/v1")
    with app:
        assert app.settings.model_kwargs["base_url"] == "http://127.0.0.1:8080/v1"


def test_a_json_reader_stopping_mid_reply_is_an_unusable_reply_not_a_failed_call() -> None:
    # The openai SDK's streamed JSON-schema reader on a plain-text reply (seen with SmolLM2).
    assert is_unusable_reply(ValueError("expected ident at line 1 column 2"))
    assert not is_unusable_reply(ValueError("bad request"))  # a call's own error stays one
    assert not is_unusable_reply(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"))
