"""The calculator agent: the model turns words into arithmetic, the engine does the arithmetic.

A language model is good at "look back at the question and write ``10 - 4``" and bad at the
arithmetic itself, so the work is split into the nodes below (the flow between them is drawn
and wired in :mod:`crossroads.graphs.calculator`; the prompts are in
:mod:`crossroads.agents.calculator_prompts`):

* **prepare** (no model): a question that is already an expression (``"12*7"``, ``"what is
  3 + 7?"``, ``"3+7="``) is computed directly once a few lead-ins (:data:`LEAD_IN`) are
  stripped, so it costs no extraction call. Offline (``not settings.has_model``), the
  rule-based :mod:`crossroads.tools.word_math` reader writes the expression instead; if it
  declines, the answer says so and how to turn a model on.
* **extract** (role ``calculator``): the model writes ONLY the expression, or for a word
  problem a short program of ``name = expression`` lines ending in an expression
  (program-aided: the model names the quantities, the engine computes them). With
  ``settings.votes = k > 1`` it samples k extractions concurrently (self-consistency).
* **evaluate**: :func:`crossroads.tools.calculator.evaluate_program`, with the thread's
  previous result as ``ans``. The engine's error message goes back to the model ("rewrite
  using only numbers and operators: use digits only: found 'ten'"), at most
  ``settings.max_tries`` extraction rounds. With votes the majority value wins; a round in
  which every sample failed counts as one failed try.
* **phrase** (``answer=True``, so its tokens stream): one sentence from the question, the
  expression and the result. The sentence must state the computed number (any formatting
  of the same value: ``1,234``, ``84.0``, ``$18.00``); it gets one retry, then the plain
  template ``"{expression} = {result}."``. A streaming client may therefore see a rejected
  sentence before the final one; ``Result.answer`` is always the checked one.
* **give_up**: the offline word-math reader gets a try first (a small model that cannot
  write the expression does not stop a problem the rules can read); else an honest answer
  with the last error. ``handoff`` is set, so the router can re-route once, only when the
  model said the question is not arithmetic: a math question never ends in the researcher
  or the writers. Offline, ``prepare`` hands back a question the reader declined only when
  it holds no number at all (:func:`~crossroads.tools.word_math.has_quantity`).
* **lenient reading**: a reply the engine refuses is read once more the way people write
  arithmetic (:func:`lenient_reading`: ``10 - 4 = 5 apples`` is ``10 - 4``, number words,
  units, fences, "The answer is ..."); the engine still checks the result.

Why a plain reply rather than structured output for the extraction: the reply *is* the
payload, a line or a few lines of arithmetic, and the engine is a strict parser with error
messages written for the model. A JSON wrapper would add a second way to fail (malformed
JSON, a missing field) with a less useful error, and a schema-bound tool call hides the
few-shot pattern "question → bare expression" that the examples teach. The reply is read
strictly: code fences and backticks are stripped, nothing else is guessed, and the text
only ever reaches the engine's allow-list (model output is untrusted).

Self-consistency only helps when the samples can differ: set a calculator temperature above
0 (``Settings(temperatures={"calculator": 0.7}, votes=3)``); at the default temperature of 0
the k samples are nearly always identical and cost k calls.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, Literal, NotRequired

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from crossroads.agents import calculator_prompts as prompts
from crossroads.contract import AgentState, Step, conversation_lines, run_settings, step
from crossroads.errors import CrossroadsError
from crossroads.llm import ModelCaller
from crossroads.settings import Settings
from crossroads.tools import word_math
from crossroads.tools.calculator import (
    FUNCTIONS,
    CalculatorError,
    Evaluation,
    NoRealValue,
    evaluate_program,
    format_number,
)
from crossroads.tools.text import stated_numbers

AGENT: Final = "calculator"
ROLE: Final = "calculator"
HISTORY_MESSAGES: Final = 4
"""Earlier messages of the thread shown to the extractor, for follow-ups."""
HISTORY_CHARS: Final = 500
"""Longest earlier message shown to the extractor (the rest is cut)."""

# --- answers and messages ----------------------------------------------------------------

TEMPLATE_ANSWER: Final = "{expression} = {result}."
PROGRAM_TEMPLATE_ANSWER: Final = "{expression} = {result} ({assignments})."
GAVE_UP_ANSWER: Final = "I couldn't turn that into a calculation: {error}"
GAVE_UP_HANDOFF: Final = (
    "the calculator could not turn the question into arithmetic after {tries} "
    "{tries_word} ({error})"
)
NOT_MATH_ERROR: Final = "the question does not look like something to compute from numbers"
NO_VALUE_ANSWER: Final = "{expression} has no value: {reason}."
OFFLINE_DECLINED_ANSWER: Final = (
    "Offline mode could not read this problem: {reason} To have a language model turn it "
    "into a calculation, set GOOGLE_API_KEY (or CROSSROADS_MODEL=provider:model) and ask again."
)
UNCOMPUTABLE_ANSWER: Final = "{expression} cannot be computed here: {reason}"
NOTHING_TO_COMPUTE_HANDOFF: Final = (
    "offline, the calculator found no number in the question to compute with ({reason})"
)
AGREEMENT: Final = "{agreed} of {total} agreed"
CLAIM_DISAGREES: Final = (
    "the model claimed {claimed}; the engine computed {value} from the expression"
)

LEAD_IN: Final = re.compile(
    r"^\s*(?:(?:what\s+is|what's|whats|calculate|compute|evaluate)\b[\s:]*)?(.*?)[\s?]*$",
    re.IGNORECASE | re.DOTALL,
)
"""Words stripped before the fast path tries a question as an expression."""

_FENCE: Final = re.compile(r"^```[\w+-]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)
_ANY_FENCE: Final = re.compile(r"```[\w+-]*[ \t]*\n?(.*?)\n?```", re.DOTALL)
_LEAD_PROSE: Final = re.compile(
    r"^\s*(?:so,?\s+|therefore,?\s+)?(?:the\s+)?(?:final\s+)?"
    r"(?:answer|expression|result|calculation|solution|program)\s*(?:is|=|:)\s*",
    re.IGNORECASE,
)
_UNIT_WORD: Final = re.compile(r"(?<=\d)(\s*)([A-Za-z_]\w*)(?![\w(])")
"""A word right after a number (``5 apples``, ``2.4 hours``, ``30%`` is left alone)."""
_OPERATION: Final = re.compile(r"[-+*/%()]|\*\*")
_CURRENCY: Final = re.compile(r"[$€£¥]")
_PLAIN_NAME: Final = re.compile(r"^\s*[A-Za-z_]\w*\s*$")
_SMALL_NUMBER_WORDS: Final[Mapping[str, str]] = {
    word: str(value)
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUMBER_WORD: Final = re.compile(r"\b(" + "|".join(_SMALL_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_RESERVED_NAMES: Final = frozenset({*FUNCTIONS, "pi", "e", "ans"})

Outcome = Literal["computed", "answered", "unread", "retry", "exhausted"]


class CalcState(AgentState, total=False):
    """The calculator subgraph's state: the agent contract plus its private keys."""

    outcome: NotRequired[Outcome]
    """What the last node decided: ``computed`` (a value is ready to phrase), ``answered``
    (offline and unreadable: the answer is set), ``unread`` (needs the model),
    ``retry`` (a round failed, tries remain) or ``exhausted`` (no tries left)."""
    path: NotRequired[Literal["fast", "offline", "model"]]
    """How the expression was obtained."""
    candidates: NotRequired[list[str]]
    """The expressions of the current extraction round (one per vote)."""
    tries: NotRequired[int]
    """Extraction rounds made so far."""
    failures: NotRequired[list[list[dict[str, str]]]]
    """Failed rounds, oldest first: each a list of ``{"expression", "error"}``; fed back to
    the model."""
    expression: NotRequired[str]
    """The expression (or program) that produced ``value``."""
    value: NotRequired[int | float]
    """The computed result."""
    program: NotRequired[list[tuple[str, int | float]]]
    """Each line of the winning expression with its value (``Evaluation.steps``)."""
    not_math: NotRequired[bool]
    """The model said the question is not a calculation."""


# --- small helpers -------------------------------------------------------------------------


_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def storable(value: Any) -> Any:
    """``value`` as the checkpoint serializer can store it.

    Checkpoints are msgpack, which holds integers of 64 bits at most, and an exact result
    may be far larger (``2**100``): such a whole number is kept as its decimal digits, in
    lists, tuples and dicts too. :func:`stored_number` reads it back.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(storable(item) for item in value)
    return value


def stored_number(value: Any) -> Any:
    """A number kept by :func:`storable` (a whole number's digits) as a number again."""
    return int(value) if isinstance(value, str) else value


def _last_value(state: Mapping[str, Any]) -> int | float | None:
    return stored_number(state.get("last_value"))


def _variables(state: Mapping[str, Any]) -> dict[str, int | float] | None:
    last_value = _last_value(state)
    return {"ans": last_value} if last_value is not None else None


def _program_detail(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [{"line": line, "value": storable(value)} for line, value in evaluation.steps]


def strip_lead_in(question: str) -> str:
    """The question without a lead-in such as "what is" and without a trailing "?".

    Args:
        question: The user's question.

    Returns:
        What is left, e.g. ``"3 + 7"`` for ``"What is 3 + 7?"``.
    """
    match = LEAD_IN.match(question)
    return match.group(1).strip() if match else question.strip()


def read_reply(reply: AIMessage) -> str:
    """The expression in a model reply: code fences and backticks stripped, nothing guessed.

    Args:
        reply: The extractor's message.

    Returns:
        The text to hand to the engine (which rejects anything that is not arithmetic).
    """
    text = reply.text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if len(text) >= 2 and text.startswith("`") and text.endswith("`"):
        text = text.strip("`").strip()
    return text


def lenient_reading(text: str) -> tuple[str, list[str]]:
    """What people and models write around an expression, taken off: the expression left.

    Used only after the strict reading failed, so a reply the engine accepts is never
    changed. Per line: a code fence anywhere, backticks, a lead-in ("The answer is",
    "Expression:"), number words (``twelve * seven``), currency signs and unit words
    (``180 / 60 hours``), and a claimed result after ``=`` (``10 - 4 = 5 apples`` keeps
    ``10 - 4``: the engine computes, the model's own result is ignored). ``name = ...`` lines
    stay assignments; prose lines with no number left are dropped. The result still goes
    through the engine's allow-list, so nothing here can make unsafe text computable.

    Args:
        text: The extractor's reply, as :func:`read_reply` gave it.

    Returns:
        The cleaned text and the claimed results that were dropped (for the steps).
    """
    from text_to_num import alpha2digit

    fenced = _ANY_FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    claimed: list[str] = []
    assigned: set[str] = set()
    known: set[str] = set(_RESERVED_NAMES)
    target: str | None = None
    lines: list[str] = []
    for raw_line in text.replace(";", "\n").splitlines():
        line = raw_line.replace("`", "").strip().rstrip(".?!").strip()
        line = _LEAD_PROSE.sub("", line)
        if not line:
            continue
        line = alpha2digit(line, "en")
        line = _NUMBER_WORD.sub(lambda m: _SMALL_NUMBER_WORDS[m.group(1).lower()], line)
        line = _CURRENCY.sub("", line)
        target = None
        parts = [part for part in re.split(r"(?<![=!<>])=(?!=)", line)]
        if len(parts) > 1 and _PLAIN_NAME.match(parts[0]):
            target = parts[0].strip()
            parts = parts[1:]
        expression = parts[0]
        if len(parts) > 1:
            claim = "=".join(parts[1:]).strip()
            if claim:
                claimed.append(claim)
        known = assigned | _RESERVED_NAMES
        expression = _UNIT_WORD.sub(
            lambda m, known=known: m.group(0) if m.group(2) in known else "", expression
        )
        expression = " ".join(expression.split())
        if not re.search(r"\d", expression) and not set(re.findall(r"\w+", expression)) & known:
            continue  # a prose line: nothing computable was on it
        if target is not None:
            assigned.add(target)
            lines.append(f"{target} = {expression}")
        else:
            lines.append(expression)
    names = set(re.findall(r"[A-Za-z_]\w*", lines[-1])) if lines else set()
    if lines and target is None and not _OPERATION.search(lines[-1]) and not names & known:
        # A bare number is the model's own answer, not a calculation: nothing to compute.
        return "", claimed
    return "\n".join(lines), claimed


def states_result(sentence: str, value: int | float) -> bool:
    """Whether ``sentence`` states ``value`` (as written by ``format_number``).

    Any number in the sentence that is numerically equal counts, so thousands separators
    (``1,234``), trailing zeros (``84.0``, ``$18.00``) and a typographic minus are fine.

    Args:
        sentence: The phrased answer.
        value: The computed result.

    Returns:
        ``True`` when some number in the sentence equals the result.
    """
    target = Decimal(format_number(value))
    return target in stated_numbers(sentence)


def template_answer(expression: str, evaluation_steps: Sequence[tuple[str, int | float]]) -> str:
    """The plain answer used offline and when phrasing fails: ``"12 * 7 = 84."``.

    Args:
        expression: The expression or program that was computed.
        evaluation_steps: Its lines with their values (``Evaluation.steps``).

    Returns:
        One sentence; for a program, the last line with the assignments in brackets.
    """
    if not evaluation_steps:
        return expression
    *assignments, (last_line, value) = evaluation_steps
    result = format_number(value)
    if not assignments:
        return TEMPLATE_ANSWER.format(expression=last_line, result=result)
    named = ", ".join(
        f"{line.split('=', 1)[0].strip()} = {format_number(line_value)}"
        for line, line_value in assignments
    )
    return PROGRAM_TEMPLATE_ANSWER.format(expression=last_line, result=result, assignments=named)


def _computed(
    evaluation: Evaluation, expression: str, path: Literal["fast", "offline", "model"]
) -> dict[str, Any]:
    return {
        "outcome": "computed",
        "path": path,
        "expression": expression,
        "value": storable(evaluation.value),
        "program": storable(list(evaluation.steps)),
    }


# --- prepare: fast path and offline reading -------------------------------------------------


async def prepare(state: CalcState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Compute a bare expression directly, or read the question offline; else ask the model.

    Returns:
        ``outcome`` ``computed`` with the value, ``answered`` (offline, unreadable) or
        ``unread`` (the model must extract the expression).
    """
    settings = run_settings(runtime)
    question = state.get("question", "")
    variables = _variables(state)
    bare = strip_lead_in(question)
    try:
        evaluation = evaluate_program(bare, variables)
    except NoRealValue as error:
        return _no_value(bare, error, "fast_path")
    except CalculatorError:
        pass  # not a bare expression: that is what the extractor is for
    else:
        return {
            **_computed(evaluation, bare, "fast"),
            "steps": [
                step(
                    AGENT,
                    "fast_path",
                    {
                        "expression": bare,
                        "value": storable(evaluation.value),
                        "program": _program_detail(evaluation),
                    },
                )
            ],
        }
    if settings.has_model:
        return {
            "outcome": "unread",
            "steps": [step(AGENT, "fast_path", {"skipped": "not a bare expression"})],
        }
    return _read_offline(question, _last_value(state), variables)


def _read_offline(
    question: str, last_value: int | float | None, variables: dict[str, int | float] | None
) -> dict[str, Any]:
    reading = word_math.read(question, previous=last_value)
    if isinstance(reading, word_math.Decline):
        declined: dict[str, Any] = {
            "outcome": "answered",
            "answer": OFFLINE_DECLINED_ANSWER.format(reason=reading.reason),
            "steps": [step(AGENT, "offline_read", {"declined": reading.reason})],
        }
        if not word_math.has_quantity(question):
            # Nothing to compute with ("How many books can members borrow?"): the classifier
            # leaned on "how many", and the question goes back to the router for its next
            # choice, which may find it in the user's documents.
            declined["handoff"] = NOTHING_TO_COMPUTE_HANDOFF.format(reason=reading.reason)
        return declined
    try:
        evaluation = evaluate_program(reading.expression, variables)
    except NoRealValue as error:
        return _no_value(reading.expression, error, "offline_read")
    except CalculatorError as error:
        # Read but not computable (a result too large to hold): declined, like a problem
        # it could not read, so the caller hears "no answer", not an answer. A model would
        # write the same arithmetic, so the answer does not send the user to configure one.
        reason = f"{error}."
        return {
            "outcome": "answered",
            "answer": UNCOMPUTABLE_ANSWER.format(expression=reading.expression, reason=reason),
            "steps": [
                step(
                    AGENT,
                    "offline_read",
                    {"expression": reading.expression, "error": str(error), "declined": reason},
                )
            ],
        }
    return {
        **_computed(evaluation, reading.expression, "offline"),
        "steps": [
            step(
                AGENT,
                "offline_read",
                {
                    "expression": reading.expression,
                    "value": storable(evaluation.value),
                    "program": _program_detail(evaluation),
                },
            )
        ],
    }


def _no_value(expression: str, why: NoRealValue | str, action: str) -> dict[str, Any]:
    """The answer to arithmetic that has no real value ("1/0"): that it has none, and why."""
    return {
        "outcome": "answered",
        "answer": NO_VALUE_ANSWER.format(expression=expression, reason=why),
        "steps": [step(AGENT, action, {"expression": expression, "no_value": str(why)})],
    }


# --- extract ------------------------------------------------------------------------------


def extraction_messages(
    question: str,
    *,
    last_value: int | float | None,
    history: Sequence[BaseMessage] = (),
    failures: Sequence[Sequence[Mapping[str, str]]] = (),
    context: str = "",
    summary: str = "",
) -> list[BaseMessage]:
    """The extractor's prompt: rules, few-shot pairs, the question, then failed tries.

    Args:
        question: The user's question.
        last_value: The thread's previous result (offered to the model as ``ans``).
        history: The thread's messages; the last few before the question give context.
        failures: Earlier failed rounds, each a list of ``{"expression", "error"}``.
        context: Results of earlier steps of a multi-step plan (their numbers may be needed).
        summary: The running summary of turns that have left the thread's window.

    Returns:
        The messages for the model.
    """
    previous = (
        ""
        if last_value is None
        else prompts.PREVIOUS_RESULT_NOTE.format(value=format_number(last_value))
    )
    system = prompts.EXTRACT_SYSTEM.format(functions=", ".join(FUNCTIONS), previous=previous)
    messages: list[BaseMessage] = [SystemMessage(content=system)]
    for example_question, example_reply in prompts.FEW_SHOT:
        messages.append(
            HumanMessage(content=prompts.QUESTION_PROMPT.format(question=example_question))
        )
        messages.append(AIMessage(content=example_reply))
    lines = conversation_lines(
        history, question, summary=summary, last=HISTORY_MESSAGES, chars=HISTORY_CHARS
    )
    conversation = (
        prompts.CONVERSATION_PROMPT.format(conversation="\n".join(lines)) if lines else ""
    )
    if context.strip():
        # Earlier answers are model output built from retrieved text: fenced and escaped like
        # the researcher's passages, so they cannot close their fence or open a tag of ours.
        conversation += prompts.EARLIER_RESULTS_PROMPT.format(
            results=html.escape(context.strip(), quote=False)
        )
    messages.append(
        HumanMessage(content=conversation + prompts.QUESTION_PROMPT.format(question=question))
    )
    for round_failures in failures:
        listed = "\n".join(
            prompts.FAILURE_LINE.format(expression=failure["expression"], error=failure["error"])
            for failure in round_failures
        )
        messages.append(HumanMessage(content=prompts.RETRY_PROMPT.format(failures=listed)))
    return messages


async def extract(state: CalcState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Ask the model for the expression: one reply, or ``settings.votes`` concurrent samples.

    Returns:
        ``candidates`` (the replies, read strictly) and the incremented ``tries``.
    """
    settings = run_settings(runtime)
    caller = ModelCaller(settings, state, f"{AGENT}.extract")
    messages = extraction_messages(
        state.get("question", ""),
        last_value=_last_value(state),
        history=state.get("messages") or [],
        failures=state.get("failures") or [],
        context=state.get("context") or "",
        summary=state.get("summary") or "",
    )
    tries = (state.get("tries") or 0) + 1
    calls = [caller.ainvoke(ROLE, messages) for _ in range(settings.votes)]
    # One vote is awaited as it is: gathering it would only add a task.
    replies = (
        [await _settled(calls[0])]
        if len(calls) == 1
        else await asyncio.gather(*calls, return_exceptions=True)
    )
    candidates: list[str] = []
    failed_calls: list[str] = []
    for reply in replies:
        if isinstance(reply, AIMessage):
            candidates.append(read_reply(reply))
        elif isinstance(reply, CrossroadsError):
            failed_calls.append(str(reply))
        elif isinstance(reply, BaseException):
            raise reply  # a bug or a cancellation, not a model failure: let it surface
    if not candidates:
        # Every call failed (budget, provider): the guard turns this into the agent's error.
        first = next(reply for reply in replies if isinstance(reply, CrossroadsError))
        raise first
    detail: dict[str, Any] = {"try": tries, "expressions": candidates}
    if failed_calls:
        detail["failed_calls"] = failed_calls
    return {
        "candidates": candidates,
        "tries": tries,
        "usage": caller.usage_update(),
        "steps": [step(AGENT, "extract", detail)],
    }


async def _settled(call: Awaitable[AIMessage]) -> AIMessage | Exception:
    """A call's reply, or its failure, as ``gather(..., return_exceptions=True)`` gives it."""
    try:
        return await call
    except Exception as error:
        return error


# --- evaluate ------------------------------------------------------------------------------


async def evaluate(state: CalcState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Compute each candidate; the majority value wins, or the errors go back to the model.

    Returns:
        ``outcome`` ``computed`` (with the value), ``retry``, ``exhausted``, or
        ``answered`` when the last try was still arithmetic with no real value.
    """
    settings = run_settings(runtime)
    variables = _variables(state)
    steps: list[Step] = []
    successes: list[tuple[str, Evaluation]] = []
    failures: list[dict[str, str]] = []
    no_value: list[tuple[str, str]] = []  # the failures that were well-formed arithmetic
    not_math = 0
    for candidate in state.get("candidates") or []:
        if candidate.strip().rstrip(".").upper() == prompts.NOT_MATH_REPLY:
            not_math += 1
            steps.append(
                step(AGENT, "evaluate", {"expression": candidate, "error": NOT_MATH_ERROR})
            )
            continue
        read: dict[str, Any] = {}
        try:
            evaluation = evaluate_program(candidate, variables)
        except CalculatorError as error:
            message = str(error)
            lenient, claimed = lenient_reading(candidate)
            try:
                if not lenient or lenient == candidate:
                    raise error
                evaluation = evaluate_program(lenient, variables)
            except CalculatorError:
                failures.append({"expression": candidate, "error": message})
                steps.append(step(AGENT, "evaluate", {"expression": candidate, "error": message}))
                if isinstance(error, NoRealValue):
                    no_value.append((candidate, message))
                continue
            read = {"reply": candidate, "read_as": lenient}
            if claimed:
                read["claimed"] = claimed
                if not any(_claim_agrees(claim, evaluation.value) for claim in claimed):
                    read["note"] = CLAIM_DISAGREES.format(
                        claimed=claimed[-1], value=format_number(evaluation.value)
                    )
            candidate = lenient
        successes.append((candidate, evaluation))
        steps.append(
            step(
                AGENT,
                "evaluate",
                {
                    "expression": candidate,
                    "value": storable(evaluation.value),
                    "program": _program_detail(evaluation),
                    **read,
                },
            )
        )
    total = len(state.get("candidates") or [])
    if successes:
        expression, evaluation, agreed = _majority(successes)
        if total > 1:
            steps.append(
                step(
                    AGENT,
                    "vote",
                    {
                        "agreement": AGREEMENT.format(agreed=agreed, total=total),
                        "value": storable(evaluation.value),
                        "expression": expression,
                    },
                )
            )
        return {**_computed(evaluation, expression, "model"), "steps": steps}
    if not_math and not failures:
        # Every sample said this is not arithmetic: more tries would only repeat that.
        return {"outcome": "exhausted", "not_math": True, "steps": steps}
    tries = state.get("tries") or 0
    update: dict[str, Any] = {
        "failures": [*(state.get("failures") or []), failures],
        "steps": steps,
    }
    update["outcome"] = "retry" if tries < settings.max_tries else "exhausted"
    if update["outcome"] == "exhausted" and no_value and len(no_value) == len(failures):
        # Every try of the last round read as arithmetic with no value ("5 / 0"): after
        # the retries that was no misreading, and "no value" is the answer, not a give-up.
        answered = _no_value(*no_value[0], "evaluate")
        return {**update, **answered, "steps": [*steps, *answered["steps"]]}
    return update


def _claim_agrees(claim: str, value: int | float) -> bool:
    """Whether a claimed result (``"5 apples"``) states ``value``."""
    return states_result(claim, value)


def _majority(successes: Sequence[tuple[str, Evaluation]]) -> tuple[str, Evaluation, int]:
    """The most common value (first seen wins a tie), its first expression and its count."""
    counts: dict[str, int] = {}
    first: dict[str, tuple[str, Evaluation]] = {}
    for expression, evaluation in successes:
        key = format_number(evaluation.value)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, (expression, evaluation))
    winner = max(counts, key=lambda key: counts[key])  # max keeps the first of equal counts
    expression, evaluation = first[winner]
    return expression, evaluation, counts[winner]


# --- phrase --------------------------------------------------------------------------------


async def phrase(state: CalcState, runtime: Runtime[Settings]) -> dict[str, Any]:
    """Say the result in one sentence that must state the computed number.

    The model phrases (its tokens stream to the user); a sentence without the number gets
    one retry, then the template sentence is used. Offline, for a bare expression (the fast
    path), and when the model fails (a spent budget, a provider error), the template is the
    answer: the value is already right.

    Returns:
        ``answer`` and ``last_value``.
    """
    settings = run_settings(runtime)
    value = stored_number(state["value"])
    expression = state.get("expression", "")
    program = [(line, stored_number(item)) for line, item in state.get("program") or []]
    template = template_answer(expression, program)
    done = {"last_value": storable(value)}
    if not settings.has_model or state.get("path") == "fast":
        # A bare expression ("12*7") is best answered as "12*7 = 84.": a model call would
        # only restate it.
        why = "no model (offline)" if not settings.has_model else "bare expression"
        return {
            **done,
            "answer": template,
            "steps": [step(AGENT, "phrase", {"check": "template", "why": why})],
        }
    result = format_number(value)
    caller = ModelCaller(settings, state, f"{AGENT}.phrase")
    messages: list[BaseMessage] = [
        SystemMessage(content=prompts.PHRASE_SYSTEM.format(result=result)),
        HumanMessage(
            content=prompts.PHRASE_PROMPT.format(
                question=state.get("question", ""), expression=expression, result=result
            )
        ),
    ]
    rejected: list[str] = []
    try:
        for _ in range(2):  # the first sentence plus one retry
            reply = await caller.ainvoke(ROLE, messages, answer=True)
            sentence = reply.text.strip()
            if sentence and states_result(sentence, value):
                detail = {"check": "passed", "result": result, "rejected": rejected}
                return {
                    **done,
                    "answer": sentence,
                    "usage": caller.usage_update(),
                    "steps": [step(AGENT, "phrase", detail)],
                }
            rejected.append(sentence)
            messages = [
                *messages,
                AIMessage(content=sentence),
                HumanMessage(content=prompts.PHRASE_RETRY.format(result=result)),
            ]
        why = "the sentence did not state the result twice"
    except CrossroadsError as error:
        why = f"phrasing failed: {error}"
    return {
        **done,
        "answer": template,
        "usage": caller.usage_update(),
        "steps": [
            step(
                AGENT,
                "phrase",
                {"check": "template", "result": result, "why": why, "rejected": rejected},
            )
        ],
    }


# --- give up -------------------------------------------------------------------------------


async def give_up(state: CalcState) -> dict[str, Any]:
    """Try the offline word-math reader, else answer honestly with the last error.

    The question is handed back to the router (``handoff``) only when the model said it is
    not arithmetic: when the model kept writing arithmetic the engine could not take, the
    question is still a math question, and the researcher or the writers would only answer
    it worse ("I don't know", a story about eggs).

    Returns:
        ``answer`` (and ``last_value`` when the reader computed it), and ``handoff``.
    """
    tries = state.get("tries") or 0
    if state.get("not_math"):
        error = NOT_MATH_ERROR
    else:
        rounds = state.get("failures") or []
        last_round = rounds[-1] if rounds else []
        error = last_round[-1]["error"] if last_round else NOT_MATH_ERROR
    question = state.get("question", "")
    reading = word_math.read(question, previous=_last_value(state))
    if not isinstance(reading, word_math.Decline):
        try:
            evaluation = evaluate_program(reading.expression, _variables(state))
        except CalculatorError:
            pass
        else:
            answer = template_answer(reading.expression, evaluation.steps)
            detail = {
                "tries": tries,
                "last_error": error,
                "read_offline": reading.expression,
                "value": storable(evaluation.value),
            }
            return {
                "answer": answer,
                "last_value": storable(evaluation.value),
                "steps": [step(AGENT, "give_up", detail)],
            }
    update: dict[str, Any] = {
        "answer": GAVE_UP_ANSWER.format(error=error),
        "gave_up": True,
        "steps": [step(AGENT, "give_up", {"tries": tries, "last_error": error})],
    }
    if state.get("not_math"):
        update["handoff"] = GAVE_UP_HANDOFF.format(
            tries=tries, tries_word="try" if tries == 1 else "tries", error=error
        )
    return update
