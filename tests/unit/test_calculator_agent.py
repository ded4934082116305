"""The calculator subgraph on its own, with a scripted model: loop, votes, phrasing, offline."""

from __future__ import annotations

import time
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from crossroads.agents.calculator import (
    GAVE_UP_ANSWER,
    NOT_MATH_ERROR,
    read_reply,
    states_result,
    strip_lead_in,
    template_answer,
)
from crossroads.contract import AgentInput
from crossroads.graphs.calculator import build_calculator_graph
from crossroads.settings import Settings
from crossroads.testing import ScriptedChatModel
from crossroads.tools.calculator import CalculatorError, evaluate
from crossroads.usage import Usage

APPLES = "I have 10 apples and I ate four. How many do I have left?"
DUCKS = (
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
    "muffins for her friends every day with four. She sells the remainder at the farmers' "
    "market daily for $2 per fresh duck egg. How much in dollars does she make every day?"
)
DUCKS_PROGRAM = "eggs = 16\nleft = eggs - 3 - 4\nleft * 2"


def engine_error(text: str, **variables: int | float) -> str:
    """The engine's own message for ``text`` (so tests do not restate its wording)."""
    with pytest.raises(CalculatorError) as caught:
        evaluate(text, variables=variables or None)
    return str(caught.value)


async def run_calculator(
    question: str,
    model: ScriptedChatModel | None = None,
    *,
    last_value: int | float | None = None,
    usage_before: Usage | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Run the compiled subgraph once, as the app would call it."""
    state: AgentInput = {
        "question": question,
        "messages": [HumanMessage(content=question)],
        "started_at": time.time(),
        "last_value": last_value,
    }
    if usage_before is not None:
        state["usage"] = usage_before  # what the request used before this agent started
    context = Settings(model=model, **settings)
    graph = build_calculator_graph().compile()
    return dict(await graph.ainvoke(state, context=context))


def actions(output: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step["detail"] for step in output["steps"] if step["action"] == action]


def calculator_model(*replies: Any) -> ScriptedChatModel:
    return ScriptedChatModel(by_role={"calculator": list(replies)})


# --- the extract ⇄ evaluate loop ------------------------------------------------------------


async def test_words_fail_and_the_engine_error_goes_back_to_the_model() -> None:
    model = calculator_model("ten minus four", "10 - 4", "You have 6 apples left.")
    output = await run_calculator(APPLES, model)
    assert output["answer"] == "You have 6 apples left."
    assert output["last_value"] == 6
    calls = model.calls_for("calculator")
    assert len(calls) == 3  # two extractions, one phrase
    retry_prompt = calls[1].prompt
    assert engine_error("ten minus four") in retry_prompt
    assert "ten minus four" in retry_prompt
    assert engine_error("ten minus four") not in calls[0].prompt
    tried = actions(output, "evaluate")
    assert tried[0] == {"expression": "ten minus four", "error": engine_error("ten minus four")}
    assert tried[1]["value"] == 6


BLORP = "What is the blorp of 10 and 4?"
"""A math question neither the scripted model nor the offline word-math reader can do."""


async def test_gives_up_after_max_tries_honestly_and_keeps_the_math_question() -> None:
    model = calculator_model("ten minus four", "ten take away four", "10 minus 4")
    output = await run_calculator(BLORP, model)
    last_error = engine_error("10 minus 4")
    assert output["answer"] == GAVE_UP_ANSWER.format(error=last_error)
    # The model kept writing arithmetic: a math question, not handed to another agent.
    assert not output.get("handoff")
    assert [detail["try"] for detail in actions(output, "extract")] == [1, 2, 3]
    assert actions(output, "give_up") == [{"tries": 3, "last_error": last_error}]
    assert len(model.calls_for("calculator")) == 3  # no phrase call after giving up
    assert "last_value" not in output or output["last_value"] is None
    # Each retry shows every earlier failure, oldest first.
    assert engine_error("ten take away four") in model.calls_for("calculator")[2].prompt
    assert engine_error("ten minus four") in model.calls_for("calculator")[2].prompt


async def test_arithmetic_with_no_value_is_the_answer_once_the_retries_agree() -> None:
    """The model may misread a problem into a division by zero, so the error goes back
    for the usual tries; when it still writes well-formed arithmetic with no value, that
    is the answer, not "I couldn't turn that into a calculation"."""
    model = calculator_model("5 / (3 - 3)", "5/0", "5 / 0")
    output = await run_calculator("What do I get if I divide five by zero?", model)
    assert output["answer"] == "5 / 0 has no value: division by zero."
    assert len(model.calls_for("calculator")) == 3  # three extractions, no phrase call
    assert not output.get("gave_up") and not output.get("handoff")
    assert actions(output, "evaluate")[-1] == {
        "expression": "5 / 0",
        "no_value": "division by zero",
    }
    assert "last_value" not in output or output["last_value"] is None


async def test_max_tries_setting_bounds_the_loop() -> None:
    model = calculator_model("ten", "ten", "ten")
    output = await run_calculator(APPLES, model, max_tries=2)
    assert len(model.calls_for("calculator")) == 2
    # Then the offline word-math reader read the problem the model could not.
    assert output["answer"] == "10 - 4 = 6."
    assert output["last_value"] == 6
    assert actions(output, "give_up")[0]["read_offline"] == "10 - 4"


async def test_not_math_reply_gives_up_at_once() -> None:
    model = calculator_model("NOT MATH")
    output = await run_calculator("Who painted the Mona Lisa?", model)
    assert len(model.calls_for("calculator")) == 1
    assert output["answer"] == GAVE_UP_ANSWER.format(error=NOT_MATH_ERROR)
    assert output["handoff"]


async def test_hostile_model_output_only_reaches_the_allow_list() -> None:
    hostile = "__import__('os').system('touch /tmp/crossroads-pwned')"
    model = calculator_model(hostile, "10 - 4", "6 apples are left.")
    output = await run_calculator(APPLES, model)
    assert output["answer"] == "6 apples are left."
    assert engine_error(hostile) in model.calls_for("calculator")[1].prompt


async def test_code_fenced_reply_is_read() -> None:
    model = calculator_model("```python\n10 - 4\n```", "6 are left.")
    output = await run_calculator(APPLES, model)
    assert output["last_value"] == 6
    assert len(model.calls_for("calculator")) == 2


# --- programs ----------------------------------------------------------------------------


async def test_ducks_program_lines_and_values_are_in_the_steps() -> None:
    model = calculator_model(DUCKS_PROGRAM, "She makes $18 every day.")
    output = await run_calculator(DUCKS, model)
    assert output["answer"] == "She makes $18 every day."
    assert output["last_value"] == 18
    (evaluated,) = actions(output, "evaluate")
    assert evaluated["program"] == [
        {"line": "eggs = 16", "value": 16},
        {"line": "left = eggs - 3 - 4", "value": 9},
        {"line": "left * 2", "value": 18},
    ]


async def test_program_using_a_name_before_defining_it_is_fixed_on_retry() -> None:
    broken = "income = left * 2\nleft = 16 - 3 - 4\nincome"
    model = calculator_model(broken, DUCKS_PROGRAM, "She makes $18.00 a day.")
    output = await run_calculator(DUCKS, model)
    assert engine_error(broken) in model.calls_for("calculator")[1].prompt
    assert "unknown name 'left'" in model.calls_for("calculator")[1].prompt
    assert output["last_value"] == 18
    assert output["answer"] == "She makes $18.00 a day."


# --- follow-ups ----------------------------------------------------------------------------


async def test_follow_up_uses_ans_from_the_previous_result() -> None:
    model = calculator_model("ans / 4", "That is 21.")
    output = await run_calculator("and divided by 4?", model, last_value=84)
    assert output["last_value"] == 21
    assert "ans = 84" in model.calls_for("calculator")[0].prompt


async def test_without_a_previous_result_ans_is_an_error_fed_back() -> None:
    model = calculator_model("ans / 4", "84 / 4", "It is 21.")
    output = await run_calculator("and 84 divided by 4?", model)
    assert "ans =" not in model.calls_for("calculator")[0].prompt
    assert engine_error("ans / 4") in model.calls_for("calculator")[1].prompt
    assert output["last_value"] == 21


async def test_fast_path_follow_up_with_ans() -> None:
    model = calculator_model()
    output = await run_calculator("ans / 4", model, last_value=84)
    assert output["last_value"] == 21
    assert output["answer"] == "ans / 4 = 21."
    assert model.calls_for("calculator") == []


# --- self-consistency ------------------------------------------------------------------------


async def test_votes_take_the_majority_and_report_agreement() -> None:
    model = calculator_model("10 - 4", "10 + 4", "10 - 4", "You have 6 left.")
    output = await run_calculator(APPLES, model, votes=3)
    assert output["last_value"] == 6
    assert output["answer"] == "You have 6 left."
    (vote,) = actions(output, "vote")
    assert vote["agreement"] == "2 of 3 agreed"
    assert vote["value"] == 6
    (extracted,) = actions(output, "extract")
    assert sorted(extracted["expressions"]) == ["10 + 4", "10 - 4", "10 - 4"]


async def test_votes_all_failed_count_as_one_try() -> None:
    model = calculator_model("ten", "ten", "10 - 4", "10 - 4", "6 left.")
    output = await run_calculator(APPLES, model, votes=2, max_tries=2)
    assert [detail["try"] for detail in actions(output, "extract")] == [1, 2]
    assert output["last_value"] == 6
    assert actions(output, "vote")[0]["agreement"] == "2 of 2 agreed"


# --- phrasing -------------------------------------------------------------------------------


async def test_sentence_without_the_result_is_retried_then_templated() -> None:
    model = calculator_model("10 - 4", "You have some apples left.", "Quite a few remain.")
    output = await run_calculator(APPLES, model)
    assert output["answer"] == "10 - 4 = 6."
    (phrased,) = actions(output, "phrase")
    assert phrased["check"] == "template"
    assert phrased["rejected"] == ["You have some apples left.", "Quite a few remain."]
    assert "6" in model.calls_for("calculator")[2].prompt.splitlines()[-1]


async def test_sentence_fixed_on_the_retry_is_kept() -> None:
    model = calculator_model("10 - 4", "Some are left.", "You have 6 apples left.")
    output = await run_calculator(APPLES, model)
    assert output["answer"] == "You have 6 apples left."
    assert actions(output, "phrase")[0]["check"] == "passed"


async def test_phrase_model_failure_falls_back_to_the_template() -> None:
    model = calculator_model("10 - 4", ValueError("provider exploded"))
    output = await run_calculator(APPLES, model)
    assert output["answer"] == "10 - 4 = 6."
    assert not output.get("error")
    assert "provider exploded" in actions(output, "phrase")[0]["why"]


# --- fast path -------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["12*7", "What is 12 * 7?", "12 × 7 =", "calculate 12*7"])
async def test_fast_path_makes_no_model_call(question: str) -> None:
    model = calculator_model()  # any call would fail: the script is empty
    output = await run_calculator(question, model)
    assert output["answer"].endswith("7 = 84.")
    assert model.calls_for("calculator") == []
    assert actions(output, "fast_path")[0]["value"] == 84
    assert actions(output, "extract") == []
    assert actions(output, "phrase")[0]["why"] == "bare expression"


# --- offline -------------------------------------------------------------------------------


async def test_offline_reads_the_question_without_a_model() -> None:
    model = ScriptedChatModel()  # configured, but offline=True: it must never be called
    output = await run_calculator(APPLES, model, offline=True)
    assert output["answer"] == "10 - 4 = 6."
    assert model.calls == []
    assert output["last_value"] == 6


async def test_offline_decline_is_honest_and_says_how_to_enable_a_model() -> None:
    model = ScriptedChatModel()
    story = "Gretchen has 110 coins. There are 30 more gold coins than silver coins. How many?"
    output = await run_calculator(story, model, offline=True)
    assert "Offline mode could not read this problem" in output["answer"]
    assert "GOOGLE_API_KEY" in output["answer"] and "CROSSROADS_MODEL" in output["answer"]
    assert not output.get("handoff")  # it holds numbers: a math question, declined here
    assert model.calls == []


async def test_offline_a_question_with_no_number_is_handed_back_to_the_router() -> None:
    output = await run_calculator("How many books can members borrow?", None, offline=True)
    assert "no number" in output["handoff"]
    assert "Offline mode could not read this problem" in output["answer"]


async def test_offline_follow_up_uses_the_previous_result() -> None:
    output = await run_calculator("and divided by 4?", None, offline=True, last_value=84)
    assert output["last_value"] == 21


# --- budgets -------------------------------------------------------------------------------


async def test_spent_budget_ends_the_agent_with_an_error() -> None:
    model = calculator_model("10 - 4")
    used: Usage = {"llm_calls": 1, "input_tokens": 0, "output_tokens": 0, "by_node": {}}
    output = await run_calculator(APPLES, model, max_llm_calls=1, usage_before=used)
    assert "max_llm_calls" in (output.get("error") or "")
    assert model.calls_for("calculator") == []
    assert not output.get("answer")


# --- helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "value", "expected"),
    [
        ("You have 6 apples left.", 6, True),
        ("The total is 1,234,567.", 1234567, True),
        ("It is 84.0 exactly.", 84, True),
        ("She makes $18.00 a day.", 18, True),
        ("Half of 5 is 2.5.", 2.5, True),
        ("It is −5 degrees.", -5, True),
        ("The answer is 2468.3", 2468.3, True),
        ("It is 150.", 15, False),
        ("It is 6.5.", 6, False),
        ("Twenty-one.", 21, False),
        ("It is 5 degrees.", -5, False),
        ("", 0, False),
    ],
)
def test_states_result(sentence: str, value: int | float, expected: bool) -> None:
    assert states_result(sentence, value) is expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("10 - 4", "10 - 4"),
        ("  10 - 4\n", "10 - 4"),
        ("`10 - 4`", "10 - 4"),
        ("```\n10 - 4\n```", "10 - 4"),
        ("```python\na = 1\na + 1\n```", "a = 1\na + 1"),
        ("The answer is 10 - 4", "The answer is 10 - 4"),  # not guessed: the engine rejects it
    ],
)
def test_read_reply(reply: str, expected: str) -> None:
    assert read_reply(AIMessage(content=reply)) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is 3 + 7?", "3 + 7"),
        ("what's 3+7 ?", "3+7"),
        ("Calculate: 2**10", "2**10"),
        ("compute 1,000 / 8", "1,000 / 8"),
        ("3+7=", "3+7="),
        ("What is the capital of France?", "the capital of France"),
    ],
)
def test_strip_lead_in(question: str, expected: str) -> None:
    assert strip_lead_in(question) == expected


def test_template_answer_for_a_program_lists_the_assignments() -> None:
    steps = [("eggs = 16", 16), ("left = eggs - 3 - 4", 9), ("left * 2", 18)]
    assert template_answer(DUCKS_PROGRAM, steps) == "left * 2 = 18 (eggs = 16, left = 9)."
    assert template_answer("12*7", [("12*7", 84)]) == "12*7 = 84."


def test_graph_wiring() -> None:
    drawn = build_calculator_graph().compile().get_graph()
    assert set(drawn.nodes) == {
        "__start__",
        "prepare",
        "extract",
        "evaluate",
        "phrase",
        "give_up",
        "__end__",
    }
    edges = {(edge.source, edge.target) for edge in drawn.edges}
    assert ("evaluate", "extract") in edges
    assert ("prepare", "phrase") in edges
    assert ("evaluate", "give_up") in edges
