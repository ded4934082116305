"""Property tests for the calculator engine: exactness, robustness, bounded cost."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crossroads.tools.calculator import (
    MAX_EXACT_BITS,
    SIGNIFICANT_DIGITS,
    CalculatorError,
    evaluate,
    format_number,
)

# Python's parser warns (SyntaxWarning) about text such as "1if"; the engine rejects it anyway.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


# The bound for any single input, hostile or not. It is measured in CPU time of this
# process: a runaway computation (a huge power, a hang) burns CPU, while a busy shared test
# machine only stretches wall time, which made a wall-clock bound flaky here.
TIME_BOUND_SECONDS = 0.5
# Examples per property; the whole file runs in a few seconds (see the test run in the report).
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- random expressions from the allowed grammar, with an exact reference -------------------


@dataclass(frozen=True)
class Node:
    """An expression tree node: its text (one of several spellings) and how to compute it."""

    text: str
    kind: str
    operands: tuple[Node, ...] = ()
    value: Fraction = Fraction(0)
    exponent: int = 0
    operator: str = ""


class TooBigToStayExact(Exception):
    """The engine would leave exact arithmetic here (MAX_EXACT_BITS), so skip the example."""


def _check_size(value: Fraction) -> Fraction:
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_EXACT_BITS:
        raise TooBigToStayExact
    return value


def reference(node: Node) -> Fraction:
    """Exact value with plain Fraction arithmetic; raises ZeroDivisionError like Python."""
    if node.kind == "number":
        return node.value
    if node.kind == "negate":
        return -reference(node.operands[0])
    if node.kind == "power":
        base = reference(node.operands[0])
        bits = max(base.numerator.bit_length(), base.denominator.bit_length())
        if abs(node.exponent) * bits > MAX_EXACT_BITS:  # the engine sizes powers the same way
            raise TooBigToStayExact
        return _check_size(base**node.exponent)
    left, right = (reference(operand) for operand in node.operands)
    results = {
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "/": lambda: left / right,
        "//": lambda: Fraction(left // right),
        "%": lambda: left % right,
    }
    return _check_size(results[node.operator]())


SPELLINGS = {
    "+": ["+"],
    "-": ["-", "−"],
    "*": ["*", "×", "·"],
    "/": ["/", "÷"],
    "//": ["//"],
    "%": ["%"],
}

spaces = st.sampled_from(["", " "])


@st.composite
def integer_literals(draw: st.DrawFn) -> Node:
    number = draw(st.integers(min_value=0, max_value=10**7))
    grouped = number >= 1_000 and draw(st.booleans())
    return Node(
        text=f"{number:,}" if grouped else str(number), kind="number", value=Fraction(number)
    )


@st.composite
def decimal_literals(draw: st.DrawFn) -> Node:
    whole = draw(st.integers(min_value=0, max_value=10**4))
    places = draw(st.integers(min_value=1, max_value=3))
    digits = draw(st.integers(min_value=0, max_value=10**places - 1))
    text = f"{whole}.{digits:0{places}d}"
    return Node(text=text, kind="number", value=Fraction(text))


@st.composite
def binary(draw: st.DrawFn, operands: st.SearchStrategy[Node]) -> Node:
    operator = draw(st.sampled_from(sorted(SPELLINGS)))
    left, right = draw(operands), draw(operands)
    spelled = draw(st.sampled_from(SPELLINGS[operator]))
    gap = draw(spaces)
    text = f"({left.text}{gap}{spelled}{gap}{right.text})"
    return Node(text=text, kind="binary", operands=(left, right), operator=operator)


@st.composite
def negation(draw: st.DrawFn, operands: st.SearchStrategy[Node]) -> Node:
    operand = draw(operands)
    minus = draw(st.sampled_from(["-", "−"]))
    return Node(text=f"({minus}{operand.text})", kind="negate", operands=(operand,))


@st.composite
def power(draw: st.DrawFn, operands: st.SearchStrategy[Node]) -> Node:
    base = draw(operands)
    exponent = draw(st.integers(min_value=-3, max_value=4))
    spelled = draw(st.sampled_from(["**", "^"]))
    text = f"({base.text}){spelled}({exponent})"
    return Node(text=text, kind="power", operands=(base,), exponent=exponent)


def _extend(operands: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(binary(operands), negation(operands), power(operands))


expressions = st.recursive(integer_literals() | decimal_literals(), _extend, max_leaves=10)


@EXAMPLES
@given(tree=expressions)
def test_random_expressions_agree_with_exact_arithmetic(tree: Node) -> None:
    try:
        expected: Fraction | None = reference(tree)
    except ZeroDivisionError:
        expected = None
    except TooBigToStayExact:
        assume(False)
        return
    if expected is None:
        try:
            evaluate(tree.text)
        except CalculatorError as error:
            assert "division by zero" in str(error)
        else:
            raise AssertionError(f"{tree.text} should fail: exact arithmetic divides by zero")
        return
    result = evaluate(tree.text)
    if expected.denominator == 1:
        assert type(result) is int
        assert result == expected
    else:
        assert type(result) is float
        assert result == float(f"{float(expected):.{SIGNIFICANT_DIGITS}g}")


# --- random text never gets past the allow-list ----------------------------------------------

FRAGMENTS = [
    *"0123456789+-*/%^().,=; \n_e",
    "**",
    "//",
    "1,000",
    "1e308",
    "999",
    "sqrt(",
    "max(",
    "min(",
    "round(",
    "log(",
    "tan(",
    "exp(",
    "ans",
    "pi",
    "x = ",
    "×",
    "÷",
    "−",
    "²",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    "!",
    "&",
    "|",
    "~",
    "<<",
    "lambda",
    "__class__",
    "__import__",
    ".",
    "#",
    ":",
    "@",
    "j",
    "if",
    "for",
    "await",
    "\x00",
]


def assert_value_or_calculator_error(text: str) -> None:
    """The only outcomes allowed: a finite int/float, or CalculatorError; always quickly."""
    started = time.process_time()
    try:
        result = evaluate(text, variables={"ans": 12})
    except CalculatorError as error:
        assert str(error)
    else:
        assert type(result) in (int, float)
        # Whole numbers may exceed the float range (1e308 * 10 is exact); floats may not.
        assert type(result) is int or math.isfinite(result)
    assert time.process_time() - started < TIME_BOUND_SECONDS


@EXAMPLES
@given(text=st.text(max_size=80))
def test_any_unicode_text_gives_a_value_or_a_calculator_error(text: str) -> None:
    assert_value_or_calculator_error(text)


@EXAMPLES
@given(text=st.text(alphabet="0123456789+-*/%^().,=; eE_x×÷−²√!", max_size=60))
def test_calculator_like_text_gives_a_value_or_a_calculator_error(text: str) -> None:
    assert_value_or_calculator_error(text)


@settings(max_examples=600, deadline=None)
@given(fragments=st.lists(st.sampled_from(FRAGMENTS), max_size=30))
def test_token_soup_gives_a_value_or_a_calculator_error(fragments: list[str]) -> None:
    assert_value_or_calculator_error("".join(fragments))


# --- separators and formatting round trips -----------------------------------------------------


@EXAMPLES
@given(number=st.integers(min_value=-(10**30), max_value=10**30))
def test_thousands_separators_read_back_exactly(number: int) -> None:
    assert evaluate(f"{number:,}") == number
    assert evaluate(f"({number:,}) * 2") == 2 * number


@EXAMPLES
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_format_number_reads_back_as_the_rounded_value(value: float) -> None:
    rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    # A whole number written as 1e+20 reads back as the exact int 10**20, hence float().
    assert float(evaluate(format_number(value))) == rounded
