"""Table-driven tests for the calculator engine (crossroads.tools.calculator)."""

from __future__ import annotations

import doctest
import math
import time

import pytest

from crossroads.errors import CrossroadsError
from crossroads.tools import calculator
from crossroads.tools.calculator import (
    MAX_EXPRESSION_CHARS,
    MAX_LINES,
    TOOL_ERROR_PREFIX,
    CalculatorError,
    Evaluation,
    NoRealValue,
    calculator_tool,
    evaluate,
    evaluate_program,
    format_number,
)

# The issue asks that hostile or huge inputs fail "well under 0.5 s"; measured cost is in
# microseconds (benchmarks/calculator_engine.py), so the bound leaves a wide margin. It is
# CPU time of this process: runaway arithmetic burns CPU, while a busy shared machine only
# stretches wall time.
FAIL_FAST_SECONDS = 0.5

VALID_CASES = [
    # plain arithmetic and precedence (Python's rules)
    ("2 + 2", 4),
    ("7 - 10", -3),
    ("6 * 7", 42),
    ("(3 + 4) * 2", 14),
    ("-2**2", -4),
    ("2**-1", 0.5),
    ("+5", 5),
    ("--5", 5),
    ("-7 // 2", -4),
    ("-7 % 2", 1),
    ("7.5 // 2", 3),
    ("0**0", 1),
    # exact results
    ("2**64", 18446744073709551616),
    ("6/3", 2),
    ("1.5 * 2", 3),
    ("0.1 + 0.2", 0.3),
    ("1/3", 0.333333333333),
    ("2/3 * 3", 2),
    ("10 / 4", 2.5),
    ("1e3", 1000),
    ("1e400 / 1e399", 10),
    ("8**(2/3)", 4),
    ("4**-0.5", 0.5),
    ("1_000 + 1", 1001),
    # functions and constants
    ("sqrt(16)", 4),
    ("sqrt(2.25)", 1.5),
    ("sqrt(2)", 1.41421356237),
    ("sqrt(2)**2", 2.0),
    ("abs(-3.5)", 3.5),
    ("round(2.5)", 3),
    ("round(-2.5)", -3),
    ("round(2.675, 2)", 2.68),
    ("round(1234, -2)", 1200),
    ("min(3, 1, 2)", 1),
    ("max(1, 2)", 2),
    ("max(1234,567)", 1234),
    ("log(1)", 0.0),
    ("log(1000, 10)", 3.0),
    ("exp(0)", 1.0),
    ("floor(-2.5)", -3),
    ("ceil(2.1)", 3),
    ("sin(pi)", 0.0),
    ("cos(pi/3)", 0.5),
    ("tan(pi/4)", 1.0),
    ("sin(1e-20)", 1e-20),
    ("pi", 3.14159265359),
    ("e", 2.71828182846),
    ("π * 2", 6.28318530718),
    ("π * 0.5", 1.57079632679),  # a decimal literal on a line with non-ASCII text
    ("exp(log(10))", 10.0),
    # what people write
    ("2^10", 1024),
    ("3²", 9),
    ("2⁻¹", 0.5),
    ("3 × 4", 12),
    ("3 · 4", 12),
    ("10 ÷ 4", 2.5),
    ("5 − 7", -2),
    ("  7 * 6 =  ", 42),
    ("1\u00a0+\u20091", 2),
    ("1,000", 1000),
    ("1,234,567.5", 1234567.5),
    ("-1,000 * 2", -2000),
    ("(1,000 + 5) * 2", 2010),
    ("max((1,000), 2)", 1000),
    ("2 + 2  # four", 4),
    # huge but allowed
    ("1e308 * 10", 10**309),
    ("2**1000", 2**1000),
    ("0.5**99999999", 0.0),
    ("1**(10**1000)", 1),
    ("(-1)**(10**1000 + 1)", -1),
]


@pytest.mark.parametrize(("expression", "expected"), VALID_CASES)
def test_valid_expression_gives_expected_value_and_type(
    expression: str, expected: int | float
) -> None:
    result = evaluate(expression)
    assert result == expected
    # Exactness is part of the contract: exact whole numbers are ints, the rest floats.
    assert type(result) is type(expected)


PROGRAM_CASES = [
    ("eggs = 16; left = eggs - 3 - 4; left * 2", 18),
    ("x = 2\ny = x * 3\ny + 1", 7),
    ("price = 1,250\nqty = 3\nprice * qty", 3750),
    ("a = 1/3; a * 3", 1),
    ("total = 40; total = total / 8; total", 5),
    ("x = 5; x =", 5),
    ("x = 4;", 4),
    ("# speeds\nd = 120  # km\nt = 1.5\nd / t", 80),
]


@pytest.mark.parametrize(("program", "expected"), PROGRAM_CASES)
def test_program_gives_expected_value(program: str, expected: int | float) -> None:
    assert evaluate(program) == expected


def test_evaluate_program_reports_each_step() -> None:
    result = evaluate_program("eggs = 16; left = eggs - 3 - 4; left * 2")
    assert result == Evaluation(
        value=18, steps=[("eggs = 16", 16), ("left = eggs - 3 - 4", 9), ("left * 2", 18)]
    )


def test_steps_show_rounded_values_but_later_lines_use_exact_ones() -> None:
    result = evaluate_program("third = 1/3; third * 3")
    assert result.steps == [("third = 1/3", 0.333333333333), ("third * 3", 1)]


@pytest.mark.parametrize(
    ("expression", "variables", "expected"),
    [
        ("ans / 4", {"ans": 10}, 2.5),
        ("ans * 3", {"ans": 0.1}, 0.3),  # a float variable counts as the decimal it prints
        ("ans + x", {"ans": 1, "x": 2}, 3),
        ("x = ans * 2; x + 1", {"ans": 5}, 11),
    ],
)
def test_variables_are_usable(
    expression: str, variables: dict[str, int | float], expected: int | float
) -> None:
    assert evaluate(expression, variables=variables) == expected


ERROR_CASES = [
    # names and words
    ("ten + 2", "use digits only: found 'ten'"),
    ("ten plus two", "use digits only: found 'ten'"),
    ("3 plus 4", "found 'plus', write + instead"),
    ("x + 1", "unknown name 'x': define it with `x = ...` first"),
    ("ans / 4", "there is no previous result"),
    ("sqrt + 1", "'sqrt' is a function"),
    ("y = x + 1; y", "line 1 (`y = x + 1`): unknown name 'x'"),
    ("y * 2; y = 3", "unknown name 'y'"),
    ("x = x + 1; x", "unknown name 'x'"),
    ("sqrt = 4; 1", "cannot assign to 'sqrt': it is a function"),
    ("pi = 3; pi", "cannot assign to 'pi': it is a constant"),
    # unsupported functions and operators
    ("factorial(5)", "factorial is not supported"),
    ("5!", "factorial is not supported"),
    ("log10(100)", "log(x, base)"),
    ("hypot(3, 4)", "unknown function 'hypot'"),
    ("x = 2; x(3)", "'x' is not a function"),
    ("2(3)", "to multiply, write the operator"),
    ("1 & 2", "'&' is a bitwise operator"),
    ("1 | 2", "'|' is a bitwise operator"),
    ("~1", "'~' is a bitwise operator"),
    ("1 << 3", "'<<' is a bitwise operator"),
    ("8 >> 1", "'>>' is a bitwise operator"),
    ("1 < 2", "comparisons"),
    ("1 == 1", "comparisons"),
    ("1 and 2", "'and', 'or' and 'not'"),
    ("not 1", "'and', 'or' and 'not'"),
    ("min()", "min() takes at least one argument, got 0"),
    ("sqrt(1, 2)", "sqrt() takes one argument, got 2"),
    ("round(2.5, 0.5)", "round(x, ndigits) needs a whole number of digits"),
    # syntax, with hints for common slips
    ("", "empty expression"),
    ("   =  ", "empty expression"),
    ("2 +", "could not read `2 +` as arithmetic"),
    ("(2 + 3", "could not read"),
    ("2x", "write 2*x, not 2x"),
    ("3 x 4", "write * to multiply, not x"),
    ("2 3", "two values with no operator between them"),
    ("20%", "for a percentage write /100"),
    ("√16", "write sqrt(x)"),
    ("050", "cannot start with 0"),
    ("2 + 3 = 5", "comparisons are not supported"),
    ("x += 1", "could not read"),
    ("x =", "unknown name 'x'"),
    ("a = ; a", "nothing after '='"),
    # commas: see the module docstring for the rule
    ("max(1,000, 2)", "ambiguous comma in '1,000' inside max(...)"),
    ("min(100,200)", "ambiguous comma in '100,200' inside min(...)"),
    ("sqrt(1,000,000)", "ambiguous comma in '1,000' inside sqrt(...)"),
    ("max(1, 2,345)", "ambiguous comma in '2,345'"),
    ("1,00", "unexpected comma"),
    ("1, 000", "unexpected comma"),
    ("1234,567", "unexpected comma"),
    ("1.5,000", "unexpected comma"),
    # arithmetic that has no real, finite answer
    ("1/0", "division by zero"),
    ("5 // 0", "division by zero"),
    ("5 % 0", "division by zero"),
    ("1.5 / 0.0", "division by zero"),
    ("0**-1", "0 raised to a negative power"),
    ("log(0)", "log is only defined for positive numbers: got log(0)"),
    ("log(-2)", "got log(-2)"),
    ("log(8, 1)", "the base of log must be positive and not 1"),
    ("sqrt(-1)", "sqrt of a negative number is not a real number: got sqrt(-1)"),
    ("(-8)**(1/3)", "a negative number to a fractional power is not a real number"),
    ("tan(pi/2)", "is undefined: the cosine there is 0"),
    ("exp(1000)", "number too large"),
    ("1e5000", "number too large"),
    ("exp(709) * 10", "number too large"),
    ("2**5000", "number too large"),
    ("1j", "imaginary numbers"),
]


@pytest.mark.parametrize(("expression", "fragment"), ERROR_CASES)
def test_error_message_says_what_to_change(expression: str, fragment: str) -> None:
    with pytest.raises(CalculatorError) as caught:
        evaluate(expression)
    assert fragment in str(caught.value)


HOSTILE_CASES = [
    ("__import__('os').system('x')", "attribute access ('.system')"),
    ("__import__('os')", "unknown function '__import__'"),
    ("().__class__", "attribute access ('.__class__')"),
    ("().__class__.__bases__[0].__subclasses__()", "not allowed"),
    ("open('x')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("exec('import os')", "unknown function 'exec'"),
    ("lambda: 1", "lambda functions"),
    ("(lambda: 1)()", "lambda functions"),
    ("[x for x in ()]", "comprehensions"),
    ("(x for x in ())", "comprehensions"),
    ("{x: 1 for x in ()}", "comprehensions"),
    ("'a'*10", "text in quotes"),
    ("b'a'", "text in quotes"),
    ("f'{1}'", "f-strings"),
    ("1 if 1 else 2", "conditional expressions"),
    ("a.b", "attribute access ('.b')"),
    ("x[0]", "indexing with [...]"),
    ("[1, 2]", "lists, sets and dicts"),
    ("{1: 2}", "lists, sets and dicts"),
    ("f(**k)", "argument unpacking (**kwargs)"),
    ("max(*[1, 2])", "argument unpacking (*args)"),
    ("round(2.5, ndigits=1)", "keyword arguments"),
    ("(y := 2)", "':='"),
    ("True + 1", "True"),
    ("None", "None"),
    ("...", "'...'"),
    ("1 @ 2", "'@'"),
    ("await x", "'await' and 'yield'"),
    ("import os", "could not read"),
    ("1; import os", "line 2"),
    ("1\x002", "could not read"),
    ("sqrt(4)(2)", "to multiply, write the operator"),
]


@pytest.mark.parametrize(("expression", "fragment"), HOSTILE_CASES)
def test_hostile_input_is_rejected_with_a_reason(expression: str, fragment: str) -> None:
    with pytest.raises(CalculatorError) as caught:
        evaluate(expression)
    assert fragment in str(caught.value)


EXPENSIVE_CASES = [
    ("10**10**10", "number too large"),
    ("(999999999999999**1000)**1000", "number too large"),
    ("2**99999999", "number too large"),
    ("9**9**9", "number too large"),
    ("(2**4000)**(2**4000)", "number too large"),
    ("1<<10**6", "bitwise"),
    ("factorial(10**6)", "factorial is not supported"),
    ("1e999999999", "number too large"),
    ("9" * 1999, "number too large"),
    ("x = 2**4000; x * x * x", "number too large"),
    ("-" * 1999 + "1", "nested too deeply"),
    ("1+" * 999 + "1", "too complex"),
    ("(" * 300 + "1" + ")" * 300, "nested too deeply"),
    ("sqrt(" * 150 + "2" + ")" * 150, "nested too deeply"),
    ("1" * (MAX_EXPRESSION_CHARS + 1), "expression too long"),
    (";".join(["1"] * (MAX_LINES + 1)), "program too long"),
    ("x0 = 2**4000;" + ";".join(f"x{i} = x{i - 1}**2" for i in range(1, 19)), "too large"),
    ("round(1, 10**9)", "needs a whole number of digits"),
]


@pytest.mark.parametrize(("expression", "fragment"), EXPENSIVE_CASES)
def test_expensive_input_fails_fast(expression: str, fragment: str) -> None:
    started = time.process_time()
    with pytest.raises(CalculatorError) as caught:
        evaluate(expression)
    elapsed = time.process_time() - started
    assert fragment in str(caught.value)
    assert elapsed < FAIL_FAST_SECONDS


def test_long_left_to_right_chain_within_node_limit_is_fine() -> None:
    # 300 terms nest 300 deep in the AST, but a chain is not nesting for the depth cap.
    assert evaluate("+".join(["1"] * 300)) == 300


def test_calculator_error_is_a_value_error_and_a_crossroads_error() -> None:
    with pytest.raises(CalculatorError) as caught:
        evaluate("1/0")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, CrossroadsError)


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"x": "3"}, "variable 'x' must be an int or a finite float"),
        ({"x": True}, "variable 'x' must be an int or a finite float"),
        ({"x": math.inf}, "variable 'x' must be an int or a finite float"),
        ({"x": math.nan}, "variable 'x' must be an int or a finite float"),
        ({"sqrt": 1}, "cannot assign to 'sqrt'"),
        ({"not a name": 1}, "it is not a plain name"),
        ({"lambda": 1}, "it is not a plain name"),
        ({"x": 2**5000}, "number too large"),
    ],
)
def test_bad_variables_are_rejected(variables: dict[str, object], fragment: str) -> None:
    with pytest.raises(CalculatorError) as caught:
        evaluate("1", variables=variables)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_non_text_expression_is_rejected() -> None:
    with pytest.raises(CalculatorError, match="must be text, got int"):
        evaluate(5)  # type: ignore[arg-type]


def test_error_in_a_program_names_the_line_but_a_single_line_does_not() -> None:
    with pytest.raises(CalculatorError) as single:
        evaluate("1/0")
    assert str(single.value) == "division by zero"
    with pytest.raises(CalculatorError) as program:
        evaluate("a = 1\nb = a / 0\nb")
    assert str(program.value) == "line 2 (`b = a / 0`): division by zero"


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (42, {}, "42"),
        (2**64, {}, "18446744073709551616"),
        (1234567, {"thousands": True}, "1,234,567"),
        (4.0, {}, "4"),
        (-0.0, {}, "0"),
        (0.1 + 0.2, {}, "0.3"),
        (2.0000000000000004, {}, "2"),
        (1234567.5, {}, "1234567.5"),
        (1234567.5, {"thousands": True}, "1,234,567.5"),
        (1e20, {}, "1e+20"),
        (1.5e-7, {}, "1.5e-07"),
        (math.pi, {}, "3.14159265359"),
    ],
)
def test_format_number(value: int | float, kwargs: dict[str, bool], expected: str) -> None:
    assert format_number(value, **kwargs) == expected


def test_format_number_rejects_non_numbers() -> None:
    with pytest.raises(TypeError):
        format_number("3")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0.3, 1e20, 1.5e-7, 1234567.5, 2**64, -17])
def test_formatted_number_reads_back_as_the_same_value(value: int | float) -> None:
    assert evaluate(format_number(value)) == value


def test_calculator_tool_returns_value_or_message_for_a_retry() -> None:
    assert calculator_tool.name == "calculator"
    assert calculator_tool.invoke({"expression": "(3 + 4) × 2"}) == "14"
    assert calculator_tool.invoke({"expression": "0.1 + 0.2"}) == "0.3"
    assert calculator_tool.invoke({"expression": "ten + 2"}) == (
        f"{TOOL_ERROR_PREFIX}use digits only: found 'ten'"
    )
    assert set(calculator_tool.args) == {"expression"}


def test_module_docstring_examples_run() -> None:
    assert doctest.testmod(calculator).failed == 0


@pytest.mark.parametrize(
    "expression",
    [
        "1/0",
        "5 // 0",
        "5 % 0",
        "1.5 / 0.0",
        "0**-1",
        "log(0)",
        "log(8, 1)",
        "sqrt(-1)",
        "(-8)**(1/3)",
        "tan(pi/2)",
        "a = 1\nb = a / 0\nb",
    ],
)
def test_arithmetic_with_no_real_value_says_so_in_its_error_class(expression: str) -> None:
    """``NoRealValue``: the expression was read and is well formed; "no value" is its
    answer (the calculator agent and the router rely on telling it apart)."""
    with pytest.raises(NoRealValue):
        evaluate(expression)


@pytest.mark.parametrize("expression", ["2 +", "foo(1)", "1j", "2**5000", "exp(1000)", "1e5000"])
def test_unreadable_or_too_large_is_not_a_missing_value(expression: str) -> None:
    with pytest.raises(CalculatorError) as caught:
        evaluate(expression)
    assert not isinstance(caught.value, NoRealValue)
