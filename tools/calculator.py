"""The calculator engine: safe, exact-where-possible arithmetic for the calculator agent.

The calculator agent asks a model to turn a question into a pure expression ("digits and
operators only") and hands the text to :func:`evaluate`. This module is the only place that
text is computed, so it is strict about what it accepts and cheap to run on hostile input.

How a text is computed:

1. **Read.** The raw text is capped at :data:`MAX_EXPRESSION_CHARS` before anything else. ``#``
   comments are dropped; typographic symbols are mapped to Python's (``×`` ``·`` ``⋅`` → ``*``,
   ``÷`` → ``/``, ``−`` → ``-``, superscripts ``x²`` → ``x**2``, ``^`` → ``**``, unicode spaces
   → space); one trailing ``=`` is dropped. The text is split into lines at newlines and ``;``.
2. **Thousands separators.** A comma is a thousands separator when it sits in a number that
   starts with 1-3 digits and continues in groups of exactly three (``1,000``, ``1,234,567.5``)
   *and* the innermost bracket around it is not a function call (top level or plain grouping
   parentheses). Inside a call's argument list commas separate arguments: ``max(1, 2)``,
   ``max(10,25)`` and ``max(1234,567)`` are calls with two arguments. A comma in a call that
   *could* be a separator, i.e. ``digit(s),ddd`` with 1-3 leading digits (``max(1,000, 2)``,
   ``min(100,200)``), is ambiguous and rejected with a message that says how to write it (no
   separators inside calls, or a space after an argument comma). Guessing either way would
   silently give a wrong answer.
3. **Check.** Each line is ``name = expression`` or a bare expression; every expression is
   parsed with ``ast.parse(mode="eval")`` and the whole program is checked against an allow-list
   before anything is computed: numbers; ``+ - * / // % **``; unary ``+``/``-``; parentheses;
   calls of :data:`FUNCTIONS` with plain positional arguments; the constants ``pi``/``π`` and
   ``e``; names given in ``variables`` (the agent passes the previous result as ``ans``) or
   assigned on an earlier line. Everything else (names, attributes, subscripts, strings,
   lambdas, comprehensions, comparisons, bitwise operators, keyword or starred arguments,
   f-strings, walrus, ...) is rejected with a message written for the model to act on. Node
   count, nesting depth and line count are capped.
4. **Compute.** The checked tree is evaluated by this module, iteratively (no recursion, so no
   ``RecursionError`` however the tree is shaped). Numbers stay exact while they can: integer
   literals are ``int``, decimal literals are exact ``Fraction`` values (``0.1`` is 1/10), and
   ``+ - * / // % **`` on exact values stay exact. Functions with irrational results
   (``sqrt(2)``, ``log``, ``exp``, ``sin`` ...) and the constants ``pi``/``e`` produce
   ``float``; mixing a float in makes the result a float. Exact values are capped at
   :data:`MAX_EXACT_BITS` bits: a power is sized *before* it is computed (bits ≈ exponent ×
   bits of the base), so ``9**9**9`` or ``2**99999999`` fail in microseconds; an exact
   fraction that outgrows the cap continues as a float; anything beyond the float range
   (about 1e308) is an error, as are division by zero, ``log(0)``, ``sqrt(-1)`` and inf/nan.
5. **Result.** An exact whole number comes back as an ``int`` (``2**64`` in full, ``6/3`` →
   ``2``, ``1.5*2`` → ``3``). Any other result is a ``float`` rounded to
   :data:`SIGNIFICANT_DIGITS` (12) significant digits: that removes binary noise
   (``0.1+0.2`` → ``0.3`` exactly anyway, ``sqrt(2)**2`` → ``2.0``, ``cos(pi/3)`` → ``0.5``)
   while keeping more digits than an answer needs. ``sin``/``cos``/``tan`` results smaller
   than the precision of their argument are zero (``sin(pi)`` → ``0.0``, ``tan(pi/2)`` is an
   error), because ``pi`` itself is only known to that precision. Values below about 1e-308
   become 0.

Other rules, chosen to match Python so the model's habits carry over: ``//`` and ``%`` floor
(``-7 // 2`` → ``-4``, ``-7 % 2`` → ``1``); ``-2**2`` is ``-4``; ``0**0`` is ``1``; trig
functions take radians. ``round`` rounds halves away from zero (``round(2.5)`` → ``3``), as
people expect from a calculator, not to even as Python does. A negative number to a
fractional power is rejected rather than made complex. A float in ``variables`` counts as the
decimal it prints as (``0.3`` is 3/10), so follow-ups on a rounded previous answer stay exact.

Why not numexpr: the design card names numexpr, but for one scalar at a time it adds nothing
and breaks the rules above. numexpr 2.14 (measured with ``local_dict={}``, ``global_dict={}``):
``2**64`` and ``10**400`` raise ``OverflowError`` (integers are C longs); ``^`` is XOR;
``sqrt(-1)`` is ``nan`` and ``log(0)`` is ``-inf`` with only a warning; ``(-8)**(1/3)`` is a
complex number; ``round(2.5)`` is ``2``; ``min``/``max`` do not exist; and it compiles text with
``eval`` internally, so any text it sees must be checked first anyway. Once the tree is checked,
evaluating it directly is as safe (no ``eval``, no name lookup outside the allow-list) and keeps
integers exact. ``benchmarks/calculator_engine.py`` measures this engine against raw
``numexpr.evaluate`` on trusted text.

Typical use::

    >>> evaluate("1,234 × 2 + 0.1 + 0.2")
    2468.3
    >>> evaluate("ans / 4", variables={"ans": 10})
    2.5
    >>> evaluate_program("eggs = 16; left = eggs - 3 - 4; left * 2").steps
    [('eggs = 16', 16), ('left = eggs - 3 - 4', 9), ('left * 2', 18)]
    >>> evaluate("ten + 2")
    Traceback (most recent call last):
    ...
    crossroads.tools.calculator.CalculatorError: use digits only: found 'ten'
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final, TypeAlias

from langchain_core.tools import tool

from crossroads.errors import CrossroadsError

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXACT_BITS",
    "MAX_EXPRESSION_CHARS",
    "MAX_LINES",
    "MAX_NODES",
    "OPERAND",
    "SIGNIFICANT_DIGITS",
    "TOOL_ERROR_PREFIX",
    "CalculatorError",
    "Evaluation",
    "NoRealValue",
    "TooLarge",
    "calculator_tool",
    "evaluate",
    "evaluate_program",
    "format_number",
]

# --- limits -------------------------------------------------------------------------------

MAX_EXPRESSION_CHARS: Final = 2_000
"""Longest text accepted, counted before any normalisation."""
MAX_LINES: Final = 20
"""Most non-blank lines (``name = ...`` steps plus the final expression) in one program."""
MAX_NODES: Final = 1_000
"""Most numbers, names, operators and calls in one line."""
MAX_DEPTH: Final = 100
"""Deepest nesting in one line. Left-to-right chains (``1 + 2 + 3 + ...``) do not nest."""
MAX_EXACT_BITS: Final = 4_096
"""Largest exact value, in bits of numerator or denominator (whole numbers up to ~1,233 digits)."""
MAX_ROUND_DIGITS: Final = 100
"""Largest ``|ndigits|`` accepted by ``round(x, ndigits)``."""
SIGNIFICANT_DIGITS: Final = 12
"""Significant digits kept in a result that is not an exact whole number."""
TOOL_ERROR_PREFIX: Final = "error: "
"""Prefix of :data:`calculator_tool`'s answer when the expression could not be computed."""

# --- error texts (written for a language model to act on) -----------------------------------

ERROR_NOT_TEXT: Final = "the expression must be text, got {type_name}"
ERROR_EMPTY: Final = "empty expression: write a calculation with digits and operators, e.g. 2 + 2"
ERROR_TOO_LONG: Final = (
    "expression too long ({length} characters, the limit is {limit}): "
    "split the work into steps, one `name = expression` per line"
)
ERROR_TOO_MANY_LINES: Final = (
    "program too long ({count} lines, the limit is {limit}): combine steps or compute fewer things"
)
ERROR_TOO_MANY_NODES: Final = (
    "expression too complex (more than {limit} numbers, operators and calls): "
    "split it into steps, one `name = expression` per line"
)
ERROR_TOO_DEEP: Final = (
    "expression nested too deeply (more than {limit} levels): "
    "split it into steps, one `name = expression` per line"
)
ERROR_WORD_NUMBER: Final = "use digits only: found '{word}'"
ERROR_OPERATOR_WORD: Final = "use symbols, not words: found '{word}', write {symbol} instead"
ERROR_UNKNOWN_NAME: Final = "unknown name '{name}': define it with `{name} = ...` first"
ERROR_NO_PREVIOUS_RESULT: Final = (
    "unknown name 'ans': there is no previous result, so write the number itself"
)
ERROR_FUNCTION_AS_VALUE: Final = "'{name}' is a function: call it with an argument, e.g. {name}(2)"
ERROR_UNKNOWN_FUNCTION: Final = "unknown function '{name}': the functions are {functions}"
ERROR_LOG_HINT: Final = (
    "unknown function '{name}': write log(x) for the natural log or log(x, base), e.g. log(x, 10)"
)
ERROR_FACTORIAL: Final = (
    "factorial is not supported (its results grow too fast to bound): "
    "multiply the numbers out, e.g. 5*4*3*2*1"
)
ERROR_NOT_A_FUNCTION: Final = (
    "'{name}' is not a function: to multiply, write the operator, e.g. {name}*(...)"
)
ERROR_IMPLICIT_MULTIPLICATION: Final = (
    "a value is followed by '(': to multiply, write the operator, e.g. 2*(3 + 4)"
)
ERROR_NOT_ALLOWED: Final = (
    "not allowed: {what}. The calculator takes numbers, + - * / // % ** (or ^), parentheses, "
    "the functions {functions} and the constants pi and e"
)
ERROR_BITWISE: Final = (
    "'{symbol}' is a bitwise operator and is not supported; write ** or ^ for powers"
)
ERROR_COMMA: Final = (
    "unexpected comma: a thousands separator groups exactly three digits (1,000 or "
    "1,234,567.5), and a comma between values belongs only inside a call such as max(1, 2)"
)
ERROR_AMBIGUOUS_COMMA: Final = (
    "ambiguous comma in '{number}' inside {function}(...): commas there separate arguments, so "
    "write numbers without thousands separators (e.g. 1000) and put a space after each "
    "argument comma, e.g. max(1000, 2)"
)
ERROR_ARGUMENT_COUNT: Final = "{name}() takes {expected}, got {given}"
ERROR_SYNTAX: Final = "could not read `{text}` as arithmetic: {detail}"
ERROR_BAD_TARGET: Final = (
    "cannot assign to '{name}': {reason}; pick another name such as total or step1"
)
ERROR_EMPTY_ASSIGNMENT: Final = "nothing after '=' in `{text}`: write `{name} = expression`"
ERROR_DIVISION_BY_ZERO: Final = "division by zero"
ERROR_ZERO_NEGATIVE_POWER: Final = "division by zero: 0 raised to a negative power"
ERROR_TOO_LARGE: Final = (
    "number too large: {what} is beyond what the calculator can represent "
    "(about 1e308, or {digits:,} digits for a whole number)"
)
ERROR_NOT_A_NUMBER: Final = "the result is not a number (nan)"
ERROR_NEGATIVE_FRACTIONAL_POWER: Final = (
    "a negative number to a fractional power is not a real number: got ({base})**({exponent})"
)
ERROR_SQRT_NEGATIVE: Final = "sqrt of a negative number is not a real number: got sqrt({value})"
ERROR_LOG_DOMAIN: Final = "log is only defined for positive numbers: got log({value})"
ERROR_LOG_BASE: Final = "the base of log must be positive and not 1: got log(x, {value})"
ERROR_TAN_UNDEFINED: Final = "tan({value}) is undefined: the cosine there is 0"
ERROR_FUNCTION_DOMAIN: Final = "{name}() is not defined for these arguments"
ERROR_ROUND_DIGITS: Final = (
    "round(x, ndigits) needs a whole number of digits between -{limit} and {limit}: got {value}"
)
ERROR_BAD_VARIABLE: Final = "variable '{name}' must be an int or a finite float, got {value!r}"
ERROR_LINE_PREFIX: Final = "line {number} (`{text}`): {message}"

# --- vocabulary ------------------------------------------------------------------------------

Number: TypeAlias = int | Fraction | float
"""An intermediate value: ``int``/``Fraction`` while exact, ``float`` once inexact."""

CONSTANTS: Final[Mapping[str, float]] = {"pi": math.pi, "π": math.pi, "e": math.e}
OPERAND: Final = re.compile(r"\d|\b(?:" + "|".join(map(re.escape, CONSTANTS)) + r")\b")
"""Something the engine computes with: a digit, or one of :data:`CONSTANTS` as a word
("sqrt(pi)" has no digit and is arithmetic all the same)."""

# Number and operator words the model sometimes writes instead of digits and symbols.
_NUMBER_WORDS: Final = frozenset(
    {
        *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
        *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
        *("seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty"),
        *("sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million"),
        *("billion", "trillion", "dozen", "half", "quarter"),
    }
)
_OPERATOR_WORDS: Final[Mapping[str, str]] = {
    "plus": "+",
    "minus": "-",
    "times": "*",
    "multiplied": "*",
    "divided": "/",
    "over": "/",
    "mod": "%",
    "modulo": "%",
    "squared": "**2",
    "cubed": "**3",
    "percent": "/100",
}

_SYMBOL_TRANSLATION: Final = str.maketrans(
    {
        "×": "*",
        "·": "*",
        "⋅": "*",
        "∗": "*",
        "÷": "/",
        "∕": "/",
        "−": "-",
        "\u00a0": " ",  # no-break space
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space
        "\u3000": " ",  # ideographic space
        "\r": "\n",
    }
)
_SUPERSCRIPT_DIGITS: Final = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SUPERSCRIPT_RUN: Final = re.compile(r"⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_LITERAL_VALUE: Final = "crossroads_exact_value"  # set on decimal literals when checked
_DECIMAL_EXPONENT: Final = re.compile(r"[eE]([-+]?\d+)$")
_NEAR_ONE: Final = Fraction(1, 2**20)  # |base| this close to 1: powers via log1p
_MAX_LITERAL_EXPONENT: Final = 5_000  # beyond this a literal is surely too large or zero
_COMMENT: Final = re.compile(r"#[^\n]*")
_TRAILING_EQUALS: Final = re.compile(r"(?<![=<>!])=\s*$")
_LINE_BREAK: Final = re.compile(r"[;\n]")
_ASSIGNMENT: Final = re.compile(r"^\s*([^\W\d]\w*)\s*=(?!=)(.*)$")
_WORD: Final = re.compile(r"[^\W\d]\w*")
_WORD_CHAR: Final = re.compile(r"\w")
_DIGIT_CHAR: Final = re.compile(r"\d")
# A number written with thousands separators; see the module docstring for when it counts.
_GROUPED_NUMBER: Final = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?!\d)")
_AMBIGUOUS_IN_CALL: Final = re.compile(r"(?<![\w.])\d{1,3},\d{3}(?!\d)")

_BITWISE_SYMBOLS: Final[Mapping[type[ast.AST], str]] = {
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
}


class CalculatorError(CrossroadsError, ValueError):
    """An expression could not be computed; the message says what to change."""


class NoRealValue(CalculatorError):
    """A well-formed expression that has no real value (``1/0``, ``sqrt(-1)``, ``log(0)``):
    there is nothing to change in how it was written, and "no value" is its answer. A result
    too large to represent is not one of these (it has a value; the calculator cannot hold
    it)."""


class TooLarge(CalculatorError):
    """A well-formed expression whose value is beyond what the calculator represents
    (``2**99999``): the arithmetic is fine, the number is not storable."""


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate_program`.

    Attributes:
        value: The program's result: the final expression, or the last assignment.
        steps: Each line as computed (after symbol normalisation) with its value.
    """

    value: int | float
    steps: list[tuple[str, int | float]] = field(default_factory=list)


@dataclass(frozen=True)
class _Function:
    """An allowed function: its arity and its implementation on checked values."""

    min_args: int
    max_args: int | None
    compute: Callable[[Sequence[Number]], Number]
    usage: str


@dataclass(frozen=True)
class _Line:
    """One checked line of a program."""

    text: str
    target: str | None
    tree: ast.expr


# --- public API ------------------------------------------------------------------------------


def evaluate(expression: str, *, variables: Mapping[str, int | float] | None = None) -> int | float:
    """Compute an arithmetic expression or a short program.

    Args:
        expression: An expression such as ``"(3 + 4) × 2"``, or lines (newline or ``;``
            separated) of ``name = expression`` followed by a final expression.
        variables: Names the expression may use, e.g. ``{"ans": 42}`` for the previous result.

    Returns:
        The value: an ``int`` when it is an exact whole number, otherwise a ``float`` rounded
        to :data:`SIGNIFICANT_DIGITS` significant digits.

    Raises:
        CalculatorError: The text is not allowed arithmetic or cannot be computed; the message
            says what to change.
    """
    return evaluate_program(expression, variables).value


def evaluate_program(text: str, variables: Mapping[str, int | float] | None = None) -> Evaluation:
    """Compute a short program and report each step.

    Args:
        text: Lines (newline or ``;`` separated) of ``name = expression`` and a final
            expression; a single expression is a one-line program. A name must be assigned
            before it is used. When the last line is an assignment its value is the result.
        variables: Names every line may use, e.g. ``{"ans": 42}``.

    Returns:
        The final value and each line with its value.

    Raises:
        CalculatorError: A line is not allowed arithmetic or cannot be computed; for a
            program of several lines the message names the line.
    """
    environment = _read_variables(variables)
    lines = _read_program(text, known_names=environment.keys())
    steps: list[tuple[str, int | float]] = []
    value: Number = 0
    for number, line in enumerate(lines, start=1):
        with _line_context(number, line.text, several=len(lines) > 1):
            value = _evaluate_tree(line.tree, environment)
            shown = _finish(value)
        if line.target is not None:
            environment[line.target] = value
        steps.append((line.text, shown))
    return Evaluation(value=steps[-1][1], steps=steps)


def format_number(value: int | float, *, thousands: bool = False) -> str:
    """Write a result for people: no binary noise, whole numbers without ``.0``.

    Integers are written in full. A float is first rounded to :data:`SIGNIFICANT_DIGITS`
    significant digits; a whole float below 1e16 is written like an integer (``4.0`` →
    ``"4"``); other floats use Python's shortest form, with an exponent below 1e-4 or from
    1e16 on (``"0.3"``, ``"1e-05"``, ``"1.5e+20"``). The text reads back through
    :func:`evaluate` as the same number.

    Args:
        value: The number to write.
        thousands: Group the integer part in threes with commas (``"1,234,567.5"``). Off by
            default so the text can be pasted back into an expression or compared verbatim.

    Returns:
        The number as text.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"format_number expects an int or a float, got {type(value).__name__}")
    if isinstance(value, int):
        return f"{value:,}" if thousands else str(value)
    if not math.isfinite(value):
        return str(value)
    rounded = _round_significant(value)
    if rounded.is_integer() and abs(rounded) < 1e16:
        whole = int(rounded)
        return f"{whole:,}" if thousands else str(whole)
    return f"{rounded:,}" if thousands else repr(rounded)


@tool("calculator")
def calculator_tool(expression: str) -> str:
    """Compute arithmetic exactly. Input: digits and operators only, no words or units.

    Operators: + - * / // % ** (or ^), parentheses. Functions: sqrt, abs, round, min, max,
    log (natural; log(x, base)), exp, sin, cos, tan (radians), floor, ceil. Constants: pi, e.
    For several steps write one `name = expression` per line (or separate with ;) and end
    with the expression to compute, e.g. "eggs = 16; left = eggs - 3 - 4; left * 2".
    Returns the number, or a message starting with "error:" that says what to fix.
    """
    try:
        return format_number(evaluate(expression))
    except CalculatorError as error:
        return f"{TOOL_ERROR_PREFIX}{error}"


# --- reading and checking ----------------------------------------------------------------------


def _read_variables(variables: Mapping[str, int | float] | None) -> dict[str, Number]:
    """Check the caller's variables and convert them to exact values."""
    environment: dict[str, Number] = {}
    for name, value in (variables or {}).items():
        _check_target(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CalculatorError(ERROR_BAD_VARIABLE.format(name=name, value=value))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise CalculatorError(ERROR_BAD_VARIABLE.format(name=name, value=value))
            # The decimal the float prints as: a rounded earlier answer such as 0.3 is 3/10.
            environment[name] = _settle(Fraction(repr(value)))
        else:
            environment[name] = _settle(value)
    return environment


def _read_program(text: str, *, known_names: Collection[str]) -> list[_Line]:
    """Normalise, split, parse and check every line before anything is computed."""
    if not isinstance(text, str):
        raise CalculatorError(ERROR_NOT_TEXT.format(type_name=type(text).__name__))
    if len(text) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(ERROR_TOO_LONG.format(length=len(text), limit=MAX_EXPRESSION_CHARS))
    normalised = _normalise_symbols(text)
    raw_lines = [line.strip() for line in _LINE_BREAK.split(normalised)]
    raw_lines = [line for line in raw_lines if line]
    if not raw_lines:
        raise CalculatorError(ERROR_EMPTY)
    if len(raw_lines) > MAX_LINES:
        raise CalculatorError(ERROR_TOO_MANY_LINES.format(count=len(raw_lines), limit=MAX_LINES))
    defined = set(known_names)
    lines: list[_Line] = []
    for number, line_text in enumerate(raw_lines, start=1):
        with _line_context(number, line_text, several=len(raw_lines) > 1):
            target, expression = _split_assignment(line_text)
            tree, source = _parse_expression(expression)
            _check_tree(tree, defined, source)
        if target is not None:
            defined.add(target)
        lines.append(_Line(text=line_text, target=target, tree=tree))
    return lines


@contextmanager
def _line_context(number: int, text: str, *, several: bool) -> Iterator[None]:
    """Prefix a CalculatorError raised inside with the line it came from (programs only)."""
    try:
        yield
    except CalculatorError as error:
        if not several:
            raise
        shown = text if len(text) <= 60 else text[:57] + "..."
        message = ERROR_LINE_PREFIX.format(number=number, text=shown, message=error)
        raise type(error)(message) from error  # a NoRealValue stays one


def _normalise_symbols(text: str) -> str:
    """Map what people write to Python's spelling; see step 1 of the module docstring."""
    text = _COMMENT.sub("", text)
    text = text.translate(_SYMBOL_TRANSLATION)
    text = _SUPERSCRIPT_RUN.sub(
        lambda match: "**(" + match.group().translate(_SUPERSCRIPT_DIGITS) + ")", text
    )
    # `^` is XOR in Python; people mean a power, and XOR is not allowed anyway.
    text = text.replace("^", "**")
    return _TRAILING_EQUALS.sub("", text.rstrip())


def _split_assignment(line: str) -> tuple[str | None, str]:
    """Split ``name = expression``; a line without a single ``=`` is an expression."""
    match = _ASSIGNMENT.match(line)
    if match is None:
        return None, line
    name, expression = match.group(1), match.group(2).strip()
    _check_target(name)
    if not expression:
        raise CalculatorError(ERROR_EMPTY_ASSIGNMENT.format(text=line, name=name))
    return name, expression


def _check_target(name: str) -> None:
    """Reject a variable name that would be unusable or shadow the vocabulary."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise CalculatorError(ERROR_BAD_TARGET.format(name=name, reason="it is not a plain name"))
    if name.startswith("_"):
        # `__class__ = 1` and other dunder names: nothing a calculation needs.
        raise CalculatorError(
            ERROR_BAD_TARGET.format(name=name, reason="names may not start with _")
        )
    if name in FUNCTIONS:
        raise CalculatorError(ERROR_BAD_TARGET.format(name=name, reason="it is a function"))
    if name in CONSTANTS:
        raise CalculatorError(ERROR_BAD_TARGET.format(name=name, reason="it is a constant"))


def _resolve_commas(expression: str) -> str:
    """Remove thousands separators; reject a comma in a call that could be one.

    The innermost bracket around a number decides: inside a call's argument list (a ``(``
    right after a name or a closing bracket, or any ``[``/``{``) commas separate arguments;
    anywhere else they can only be thousands separators.
    """
    if "," not in expression:
        return expression
    # For each position: None outside brackets, else (is_call, index of the opening bracket).
    # One pass, constant work per character (a regex search of the prefix at every "(" made
    # this cubic: 2,000 characters of "a" and "(" cost seconds of CPU).
    context: list[tuple[bool, int] | None] = []
    open_brackets: list[tuple[bool, int]] = []
    # What ends the text so far, trailing whitespace ignored: the last such character, and
    # whether the run of word characters it ends holds a non-digit (then a name ends there).
    last = ""
    name_at_end = False
    previous = ""
    for index, char in enumerate(expression):
        context.append(open_brackets[-1] if open_brackets else None)
        if char == "(":
            is_call = name_at_end or last in (")", "]")
            open_brackets.append((is_call, index))
        elif char in "[{":
            open_brackets.append((True, index))
        elif char in ")]}" and open_brackets:
            open_brackets.pop()
        if char.isspace():
            previous = char
            continue
        if _WORD_CHAR.match(char):
            continues_run = bool(previous) and _WORD_CHAR.match(previous) is not None
            name_at_end = (name_at_end and continues_run) or not _DIGIT_CHAR.match(char)
        else:
            name_at_end = False
        last = previous = char

    for match in _AMBIGUOUS_IN_CALL.finditer(expression):
        around = context[match.start()]
        if around is not None and around[0]:
            opening = around[1]
            function = _WORD.findall(expression[:opening])
            raise CalculatorError(
                ERROR_AMBIGUOUS_COMMA.format(
                    number=match.group(), function=function[-1] if function else ""
                )
            )

    def drop_separators(match: re.Match[str]) -> str:
        return match.group().replace(",", "")

    return _GROUPED_NUMBER.sub(drop_separators, expression)


def _parse_expression(expression: str) -> tuple[ast.expr, str]:
    """Parse one expression, turning Python's syntax errors into actionable messages.

    Returns:
        The tree and the text it was parsed from (thousands separators removed).
    """
    expression = _resolve_commas(expression)
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as error:
        raise CalculatorError(_describe_syntax_error(expression, error)) from None
    return tree.body, expression


def _describe_syntax_error(expression: str, error: BaseException) -> str:
    """Explain why a line does not parse, preferring the mistakes models actually make."""
    word_problem = _find_word_problem(expression)
    if word_problem:
        return word_problem
    detail = error.msg if isinstance(error, SyntaxError) else str(error)
    if re.search(r"!(?!=)", expression):
        return ERROR_FACTORIAL
    if "√" in expression:
        detail = "'√' is not supported, write sqrt(x)"
    elif re.search(r"%\s*($|[)+\-*/])", expression):
        detail = "'%' is the remainder operator; for a percentage write /100, e.g. 20/100*50"
    elif re.search(r"\d\s*[xX]\s*[\d(]", expression):
        detail = "write * to multiply, not x"
    elif "=" in expression:
        detail = "write one `name = expression` per line; comparisons are not supported"
    elif "forgot a comma" in detail or re.search(r"[\w.)]\s+[\d(]", expression):
        detail = "two values with no operator between them, e.g. write 2*3, not 2 3"
    elif "invalid decimal literal" in detail:
        detail = "a number runs into a letter, e.g. write 2*x, not 2x"
    elif "leading zeros" in detail:
        detail = "a whole number cannot start with 0, e.g. write 50, not 050"
    elif "too many nested parentheses" in detail or isinstance(error, RecursionError):
        detail = ERROR_TOO_DEEP.format(limit=MAX_DEPTH)
    shown = expression if len(expression) <= 60 else expression[:57] + "..."
    return ERROR_SYNTAX.format(text=shown, detail=detail)


def _find_word_problem(expression: str) -> str | None:
    """Return a message when a number or operator is written as a word."""
    for word in _WORD.findall(expression):
        lowered = word.lower()
        if lowered in _NUMBER_WORDS:
            return ERROR_WORD_NUMBER.format(word=word)
        if lowered in _OPERATOR_WORDS:
            return ERROR_OPERATOR_WORD.format(word=word, symbol=_OPERATOR_WORDS[lowered])
    return None


def _check_tree(root: ast.expr, defined: Collection[str], source: str) -> None:
    """Check a parsed line against the allow-list, iteratively, with node and depth caps."""
    pending: list[tuple[ast.expr, int]] = [(root, 1)]
    seen = 0
    while pending:
        node, depth = pending.pop()
        seen += 1
        if seen > MAX_NODES:
            raise CalculatorError(ERROR_TOO_MANY_NODES.format(limit=MAX_NODES))
        if depth > MAX_DEPTH:
            raise CalculatorError(ERROR_TOO_DEEP.format(limit=MAX_DEPTH))
        if isinstance(node, ast.Constant):
            _check_constant(node, source)
        elif isinstance(node, ast.Name):
            _check_name(node.id, defined)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY_OPERATIONS:
                raise CalculatorError(_describe_disallowed(node))
            # A left operand continues a left-to-right chain; only the right one nests.
            pending.append((node.left, depth))
            pending.append((node.right, depth + 1))
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.UAdd | ast.USub):
                raise CalculatorError(_describe_disallowed(node))
            pending.append((node.operand, depth + 1))
        elif isinstance(node, ast.Call):
            _check_call(node, defined)
            pending.extend((argument, depth + 1) for argument in node.args)
        elif isinstance(node, ast.Tuple):
            raise CalculatorError(ERROR_COMMA)
        else:
            raise CalculatorError(_describe_disallowed(node))


def _check_constant(node: ast.Constant, source: str) -> None:
    """Allow int and decimal literals; attach a decimal literal's exact value to the node."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalculatorError(_describe_disallowed(node))
    if isinstance(value, int):
        if value.bit_length() > MAX_EXACT_BITS:
            raise TooLarge(_too_large("this number"))
        return
    setattr(node, _LITERAL_VALUE, _decimal_literal(node, value, source))


def _decimal_literal(node: ast.Constant, value: float, source: str) -> Number:
    """The exact decimal a literal spells: 0.1 is 1/10, not the float nearest to it."""
    spelled = repr(value)
    start, end = node.col_offset, node.end_col_offset
    if end is not None:
        # Offsets count UTF-8 bytes; a line is one line, so they index it directly.
        spelled = source[start:end] if source.isascii() else source.encode()[start:end].decode()
    spelled = spelled.replace("_", "")
    exponent = _DECIMAL_EXPONENT.search(spelled)
    if exponent is not None and abs(int(exponent.group(1))) > _MAX_LITERAL_EXPONENT:
        # 1e999999 would build a million-digit power of ten; Python's float says it all.
        return _settle(value)
    # 1e400 is exactly 10**400, a whole number the calculator can hold, though no float can.
    return _settle(Fraction(spelled))


def _check_name(name: str, defined: Collection[str]) -> None:
    if name in defined or name in CONSTANTS:
        return
    if name in FUNCTIONS:
        raise CalculatorError(ERROR_FUNCTION_AS_VALUE.format(name=name))
    word_problem = _find_word_problem(name)
    if word_problem:
        raise CalculatorError(word_problem)
    if name == "ans":
        raise CalculatorError(ERROR_NO_PREVIOUS_RESULT)
    raise CalculatorError(ERROR_UNKNOWN_NAME.format(name=name))


def _check_call(node: ast.Call, defined: Collection[str]) -> None:
    if any(isinstance(argument, ast.Starred) for argument in node.args):
        raise CalculatorError(_not_allowed("argument unpacking (*args)"))
    if node.keywords:
        if any(keyword_argument.arg is None for keyword_argument in node.keywords):
            raise CalculatorError(_not_allowed("argument unpacking (**kwargs)"))
        raise CalculatorError(_not_allowed("keyword arguments (name=value) in a call"))
    function = node.func
    if not isinstance(function, ast.Name):
        if isinstance(function, ast.Constant | ast.BinOp | ast.UnaryOp | ast.Call):
            raise CalculatorError(ERROR_IMPLICIT_MULTIPLICATION)
        raise CalculatorError(_describe_disallowed(function))
    name = function.id
    if name in FUNCTIONS:
        spec = FUNCTIONS[name]
        given = len(node.args)
        if given < spec.min_args or (spec.max_args is not None and given > spec.max_args):
            raise CalculatorError(
                ERROR_ARGUMENT_COUNT.format(name=name, expected=spec.usage, given=given)
            )
        return
    if name in defined or name in CONSTANTS:
        raise CalculatorError(ERROR_NOT_A_FUNCTION.format(name=name))
    lowered = name.lower()
    if lowered in {"factorial", "fact", "gamma"}:
        raise CalculatorError(ERROR_FACTORIAL)
    if lowered in {"ln", "log10", "log2", "lg"}:
        raise CalculatorError(ERROR_LOG_HINT.format(name=name))
    raise CalculatorError(ERROR_UNKNOWN_FUNCTION.format(name=name, functions=_FUNCTION_LIST))


def _describe_disallowed(node: ast.AST) -> str:
    """Name the construct that is not allowed, in the words a model would understand."""
    if isinstance(node, ast.BinOp | ast.UnaryOp) and type(node.op) in _BITWISE_SYMBOLS:
        return ERROR_BITWISE.format(symbol=_BITWISE_SYMBOLS[type(node.op)])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return _not_allowed("'@' (matrix multiplication)")
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str | bytes):
            return _not_allowed("text in quotes; write the number with digits")
        if isinstance(value, complex):
            return _not_allowed("imaginary numbers (j)")
        if isinstance(value, bool) or value is None:
            return _not_allowed(f"{value!r}; write a number")
        return _not_allowed("'...'")
    if isinstance(node, ast.Attribute):
        return _not_allowed(f"attribute access ('.{node.attr}'); call the function directly")
    if isinstance(node, ast.Subscript):
        return _not_allowed("indexing with [...]")
    if isinstance(node, ast.Lambda):
        return _not_allowed("lambda functions")
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        return _not_allowed("comprehensions (... for ... in ...)")
    if isinstance(node, ast.List | ast.Set | ast.Dict):
        return _not_allowed("lists, sets and dicts")
    if isinstance(node, ast.Compare):
        return _not_allowed("comparisons (==, <, >, ...); the calculator only computes numbers")
    if isinstance(node, ast.BoolOp) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    ):
        return _not_allowed("'and', 'or' and 'not'")
    if isinstance(node, ast.IfExp):
        return _not_allowed("conditional expressions (x if ... else y)")
    if isinstance(node, ast.NamedExpr):
        return _not_allowed("':='; write `name = expression` on its own line")
    if isinstance(node, ast.JoinedStr | ast.FormattedValue):
        return _not_allowed("f-strings")
    if isinstance(node, ast.Starred):
        return _not_allowed("argument unpacking (*)")
    if isinstance(node, ast.Await | ast.Yield | ast.YieldFrom):
        return _not_allowed("'await' and 'yield'")
    return _not_allowed(f"{type(node).__name__} expressions")


def _not_allowed(what: str) -> str:
    return ERROR_NOT_ALLOWED.format(what=what, functions=_FUNCTION_LIST)


# --- computing ---------------------------------------------------------------------------------


def _evaluate_tree(root: ast.expr, environment: Mapping[str, Number]) -> Number:
    """Evaluate a checked tree with an explicit stack (post-order), never recursing."""
    pending: list[tuple[ast.expr, bool]] = [(root, False)]
    values: list[Number] = []
    while pending:
        node, operands_ready = pending.pop()
        if isinstance(node, ast.Constant):
            literal = node.value
            values.append(literal if isinstance(literal, int) else getattr(node, _LITERAL_VALUE))
        elif isinstance(node, ast.Name):
            name = node.id
            values.append(environment[name] if name in environment else CONSTANTS[name])
        elif not operands_ready:
            pending.append((node, True))
            pending.extend((child, False) for child in reversed(_operands(node)))
        elif isinstance(node, ast.BinOp):
            right = values.pop()
            left = values.pop()
            values.append(_BINARY_OPERATIONS[type(node.op)](left, right))
        elif isinstance(node, ast.UnaryOp):
            operand = values.pop()
            values.append(-operand if isinstance(node.op, ast.USub) else operand)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            count = len(node.args)
            arguments = values[len(values) - count :]
            del values[len(values) - count :]
            values.append(_call(node.func.id, arguments))
    return values[-1]


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _call(name: str, arguments: Sequence[Number]) -> Number:
    try:
        result = FUNCTIONS[name].compute(arguments)
    except CalculatorError:
        raise
    except ValueError:  # a math domain error the checks above did not foresee
        raise NoRealValue(ERROR_FUNCTION_DOMAIN.format(name=name)) from None
    except ZeroDivisionError:
        raise NoRealValue(ERROR_DIVISION_BY_ZERO) from None
    except OverflowError:
        raise TooLarge(_too_large(f"{name}(...)")) from None
    return _settle(result)


def _settle(value: Number) -> Number:
    """Keep a value inside the limits: exact while small enough, else a finite float."""
    if isinstance(value, float):
        if math.isnan(value):
            raise NoRealValue(ERROR_NOT_A_NUMBER)
        if math.isinf(value):
            raise TooLarge(_too_large("the result"))
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_EXACT_BITS:
            raise TooLarge(_too_large("the result"))
        return value
    if value.denominator == 1:
        return _settle(value.numerator)
    if (
        value.numerator.bit_length() > MAX_EXACT_BITS
        or value.denominator.bit_length() > MAX_EXACT_BITS
    ):
        # Too many digits to keep exact: continue with the nearest float.
        return _settle(_to_float(value))
    return value


def _to_float(value: Number) -> float:
    try:
        return float(value)
    except OverflowError:
        raise TooLarge(_too_large("a number")) from None


def _arithmetic(
    operation: Callable[[Number, Number], Number],
) -> Callable[[Number, Number], Number]:
    """Wrap a binary operation: map Python's arithmetic errors to CalculatorError."""

    def checked(left: Number, right: Number) -> Number:
        try:
            return _settle(operation(left, right))
        except ZeroDivisionError:
            raise NoRealValue(ERROR_DIVISION_BY_ZERO) from None
        except OverflowError:
            raise TooLarge(_too_large("the result")) from None

    return checked


def _add(left: Number, right: Number) -> Number:
    return left + right


def _subtract(left: Number, right: Number) -> Number:
    return left - right


def _multiply(left: Number, right: Number) -> Number:
    return left * right


def _divide(left: Number, right: Number) -> Number:
    if isinstance(left, float) or isinstance(right, float):
        return left / right
    return Fraction(left) / right  # exact, unlike int / int


def _floor_divide(left: Number, right: Number) -> Number:
    return left // right


def _remainder(left: Number, right: Number) -> Number:
    return left % right


def _power(base: Number, exponent: Number) -> Number:
    """Raise to a power, sizing the result before computing it."""
    if isinstance(base, float) or isinstance(exponent, float):
        return _float_power(base, exponent)
    if isinstance(exponent, Fraction):  # not whole: _settle turns whole fractions into ints
        return _fractional_power(base, exponent)
    if base == 0:
        if exponent < 0:
            raise NoRealValue(ERROR_ZERO_NEGATIVE_POWER)
        return 1 if exponent == 0 else 0
    if base == 1:
        return 1
    if base == -1:
        return 1 if exponent % 2 == 0 else -1
    exact_base = Fraction(base)
    numerator_bits = abs(exact_base.numerator).bit_length()
    denominator_bits = exact_base.denominator.bit_length()
    # Upper bound on the bits of the exact result, computed without computing it.
    exact_bits = abs(exponent) * max(numerator_bits, denominator_bits)
    if exact_bits <= MAX_EXACT_BITS:
        return exact_base**exponent
    # Too big to keep exact: decide from the magnitude (log2 of |base|) what is left. Near 1
    # the difference of two logs rounds to 0 (1.0000000000000001 would give 0.0 for any
    # exponent), so there it comes from log1p of the exact distance to 1.
    size = abs(exact_base)
    near_one = abs(size - 1) < _NEAR_ONE
    if near_one:
        magnitude = math.log1p(float(size - 1)) / math.log(2)
    else:
        magnitude = math.log2(abs(exact_base.numerator)) - math.log2(exact_base.denominator)
    if abs(exponent).bit_length() > 64 or abs(exponent * magnitude) > 1_100:
        if (size > 1) == (exponent > 0):
            raise TooLarge(_too_large(f"({_show(base)})**({_show(exponent)})"))
        return 0.0  # smaller than the smallest float
    if near_one:
        value = math.exp(exponent * magnitude * math.log(2))
        return -value if exact_base < 0 and exponent % 2 else value
    return _float_power(exact_base, exponent)


def _fractional_power(base: Number, exponent: Fraction) -> Number:
    if base < 0:
        raise NoRealValue(
            ERROR_NEGATIVE_FRACTIONAL_POWER.format(base=_show(base), exponent=_show(exponent))
        )
    if base == 0:
        if exponent < 0:
            raise NoRealValue(ERROR_ZERO_NEGATIVE_POWER)
        return 0
    exact_base = Fraction(base)
    root_degree = exponent.denominator
    numerator_root = _exact_root(exact_base.numerator, root_degree)
    denominator_root = _exact_root(exact_base.denominator, root_degree)
    if numerator_root is not None and denominator_root is not None:
        # 8**(2/3) is (8**(1/3))**2 = 4 exactly.
        return _power(_settle(Fraction(numerator_root, denominator_root)), exponent.numerator)
    return _float_power(exact_base, exponent)


def _exact_root(value: int, degree: int) -> int | None:
    """The whole ``degree``-th root of ``value`` >= 0 when there is one, else None."""
    if value in (0, 1):
        return value
    if degree > 64 or value.bit_length() > 1_000:
        return None
    estimate = round(value ** (1.0 / degree))
    for candidate in (estimate - 1, estimate, estimate + 1):
        if candidate > 0 and candidate**degree == value:
            return candidate
    return None


def _float_power(base: Number, exponent: Number) -> float:
    float_base, float_exponent = _to_float(base), _to_float(exponent)
    if float_base < 0 and not float_exponent.is_integer():
        raise NoRealValue(
            ERROR_NEGATIVE_FRACTIONAL_POWER.format(base=_show(base), exponent=_show(exponent))
        )
    if float_base == 0 and float_exponent < 0:
        raise NoRealValue(ERROR_ZERO_NEGATIVE_POWER)
    try:
        return math.pow(float_base, float_exponent)
    except OverflowError:
        raise TooLarge(_too_large(f"({_show(base)})**({_show(exponent)})")) from None


_BINARY_OPERATIONS: Final[Mapping[type[ast.operator], Callable[[Number, Number], Number]]] = {
    ast.Add: _arithmetic(_add),
    ast.Sub: _arithmetic(_subtract),
    ast.Mult: _arithmetic(_multiply),
    ast.Div: _arithmetic(_divide),
    ast.FloorDiv: _arithmetic(_floor_divide),
    ast.Mod: _arithmetic(_remainder),
    ast.Pow: _arithmetic(_power),
}


# --- functions ---------------------------------------------------------------------------------


def _sqrt(arguments: Sequence[Number]) -> Number:
    (value,) = arguments
    if value < 0:
        raise NoRealValue(ERROR_SQRT_NEGATIVE.format(value=_show(value)))
    if not isinstance(value, float):
        exact = Fraction(value)
        numerator_root = math.isqrt(exact.numerator)
        denominator_root = math.isqrt(exact.denominator)
        if numerator_root**2 == exact.numerator and denominator_root**2 == exact.denominator:
            return Fraction(numerator_root, denominator_root)
    return math.sqrt(_to_float(value))


def _natural_log(value: Number) -> float:
    if isinstance(value, float):
        return math.log(value)
    exact = Fraction(value)
    # math.log takes ints of any size; a Fraction would go through float and overflow.
    return math.log(exact.numerator) - math.log(exact.denominator)


def _log(arguments: Sequence[Number]) -> Number:
    value = arguments[0]
    if value <= 0:
        raise NoRealValue(ERROR_LOG_DOMAIN.format(value=_show(value)))
    if len(arguments) == 1:
        return _natural_log(value)
    base = arguments[1]
    if base <= 0 or base == 1:
        raise NoRealValue(ERROR_LOG_BASE.format(value=_show(base)))
    return _natural_log(value) / _natural_log(base)


def _exp(arguments: Sequence[Number]) -> Number:
    return math.exp(_to_float(arguments[0]))


def _below_precision(result: float, argument: float) -> bool:
    """True when ``result`` is smaller than the uncertainty that ``argument`` carries."""
    return abs(result) <= 4 * math.ulp(argument)


def _sin(arguments: Sequence[Number]) -> Number:
    angle = _to_float(arguments[0])
    result = math.sin(angle)
    return 0.0 if _below_precision(result, angle) else result


def _cos(arguments: Sequence[Number]) -> Number:
    angle = _to_float(arguments[0])
    result = math.cos(angle)
    return 0.0 if _below_precision(result, angle) else result


def _tan(arguments: Sequence[Number]) -> Number:
    angle = _to_float(arguments[0])
    if _below_precision(math.cos(angle), angle):
        raise NoRealValue(ERROR_TAN_UNDEFINED.format(value=_show(arguments[0])))
    if _below_precision(math.sin(angle), angle):
        return 0.0
    return math.tan(angle)


def _abs(arguments: Sequence[Number]) -> Number:
    value = arguments[0]
    return -value if value < 0 else value


def _floor(arguments: Sequence[Number]) -> Number:
    return math.floor(arguments[0])


def _ceil(arguments: Sequence[Number]) -> Number:
    return math.ceil(arguments[0])


def _min(arguments: Sequence[Number]) -> Number:
    return min(arguments)


def _max(arguments: Sequence[Number]) -> Number:
    return max(arguments)


def _round(arguments: Sequence[Number]) -> Number:
    value = arguments[0]
    digits: Number = arguments[1] if len(arguments) == 2 else 0
    if not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
        raise CalculatorError(ERROR_ROUND_DIGITS.format(limit=MAX_ROUND_DIGITS, value=digits))
    # A float counts as the decimal it prints as, so round(2.675, 2) is 2.68 as people expect.
    exact = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    scale = Fraction(10) ** digits
    halves_away = math.floor(abs(exact) * scale + Fraction(1, 2))
    rounded = Fraction(halves_away) / scale
    return rounded if exact >= 0 else -rounded


FUNCTIONS: Final[Mapping[str, _Function]] = {
    "sqrt": _Function(1, 1, _sqrt, "one argument"),
    "abs": _Function(1, 1, _abs, "one argument"),
    "round": _Function(1, 2, _round, "one or two arguments (x, ndigits)"),
    "min": _Function(1, None, _min, "at least one argument"),
    "max": _Function(1, None, _max, "at least one argument"),
    "log": _Function(1, 2, _log, "one or two arguments (x, base)"),
    "exp": _Function(1, 1, _exp, "one argument"),
    "sin": _Function(1, 1, _sin, "one argument (radians)"),
    "cos": _Function(1, 1, _cos, "one argument (radians)"),
    "tan": _Function(1, 1, _tan, "one argument (radians)"),
    "floor": _Function(1, 1, _floor, "one argument"),
    "ceil": _Function(1, 1, _ceil, "one argument"),
}
"""The functions an expression may call."""

_FUNCTION_LIST: Final = ", ".join(FUNCTIONS)


# --- results -----------------------------------------------------------------------------------


def _finish(value: Number) -> int | float:
    """Turn an intermediate value into a result: exact int, or float without noise."""
    value = _settle(value)
    if isinstance(value, int):
        return value
    return _round_significant(_to_float(value))


def _round_significant(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return abs(value) if value == 0 else value  # no "-0.0"
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _show(value: Number) -> str:
    """A value for an error message, short enough to read."""
    try:
        text = format_number(_finish(value))
    except CalculatorError:
        return "a very large number"
    return text if len(text) <= 24 else f"a {len(text.lstrip('-'))}-digit number"


def _too_large(what: str) -> str:
    return ERROR_TOO_LARGE.format(what=what, digits=int(MAX_EXACT_BITS * math.log10(2)))
