"""Turn simple math questions written in words into an expression, or decline and say why.

The calculator agent normally asks a language model to write the expression; this reader
does it without one for the common easy shapes, so the offline mode can still answer
"I have 10 apples and I ate four. How many do I have left?" (``10 - 4``). It is rule-based
and deliberately conservative: whenever a question does not fit a shape it knows, it
returns a :class:`Decline` with a reason instead of a guess, because a wrong number stated
confidently is worse than handing the question to a model or saying "I can't".

How a question is read:

1. **Normalise**: lower-case; number words become digits with ``text2num`` ("one hundred
   and five" → 105, "twenty-five" → 25); "a dozen", fractions ("a third of", "three
   quarters of"), currency signs, thousands separators and the operator signs × ÷ − are
   rewritten.
2. **Arithmetic phrases** ("what is 3 + 7?", "half of 30", "15% of 240", "subtract 19 from
   100", "the square root of 144", "9 squared plus 4"): every word must be an operator, a
   number or harmless filler; one unknown word and the reader declines. ``then`` chains
   steps ("subtract 45 from 200 then double it").
3. **Follow-ups** ("and divided by 4?", "now halve it"): use ``previous``, the last result
   or expression; without it the reader declines.
4. **Story problems**: sentences are split into steps; each step must have one number and a
   verb it knows (has/bought/found add, ate/gave away/lost/sold subtract), or be a group
   ("6 boxes with 12 pencils"), a price ("3 notebooks at $2.50 each"), a share ("24 candies
   shared among 6 kids") or a rate ("each bag holds 6 potatoes" … "in 7 bags"). The last
   sentence must ask "how many" / "how much". Comparisons, ages, times and speeds decline.

The expression uses Python syntax (``+ - * / **``, ``sqrt(x)``, parentheses), the
language of :func:`crossroads.tools.calculator.evaluate`. Example::

    >>> read_expression("I have 10 apples and I ate four. How many do I have left?")
    '10 - 4'
    >>> read("what is the meaning of life")
    Decline(reason="I don't know how to compute 'meaning' in this question.")

``text2num`` reads the number words; it is a dependency of this module.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from text_to_num import alpha2digit

from crossroads.errors import CrossroadsError, InputError
from crossroads.tools.calculator import OPERAND

# --- reasons for declining (shown to users and to the calculator agent) -----------------

DECLINE_EMPTY = "The question is empty."
DECLINE_NO_NUMBERS = "I found no numbers to compute with."
DECLINE_UNKNOWN_WORD = "I don't know how to compute {word!r} in this question."
DECLINE_MALFORMED = "The numbers and operators do not form a valid expression: {expression!r}."
DECLINE_FACTORIAL = (
    "{notation!r} is a factorial, which the calculator does not compute; multiply the numbers "
    "out, e.g. 5*4*3*2*1."
)
DECLINE_NEEDS_PREVIOUS = (
    "This looks like a follow-up ({phrase!r}) but there is no previous result to apply it to."
)
DECLINE_STORY_SHAPE = "I can't tell which operation the step {step!r} means."
DECLINE_STORY_QUESTION = "The story does not end with a 'how many' or 'how much' question."
DECLINE_STORY_KIND = "Questions about {kind} need more than simple arithmetic reading."
DECLINE_STORY_SECOND_START = (
    "The step {step!r} starts a second amount; I can't tell how to combine them."
)
DECLINE_STORY_LEFT_WITHOUT_LOSS = "The question asks what is left, but no step takes anything away."
DECLINE_STORY_ONE_NUMBER = "The story gives only one number; I can't tell what to do with it."
DECLINE_STORY_RATE = "I can't tell whether to multiply or divide with {step!r}."

DECLINE_STORY_UNSAFE = (
    "The story says {phrase!r}, which I can't read safely without a model; ask a model, or "
    "type the arithmetic itself (like '20 - 4 - 3')."
)
DECLINE_STORY_UNUSED = (
    "I could not use the number {number} from the story, so any answer would be a guess; "
    "ask a model, or write the arithmetic."
)
DECLINE_STORY_ASKED = (
    "The question asks about {noun!r}, which the story never counts; ask a model, or write "
    "the arithmetic."
)
DECLINE_DIGITS = "I can round to at most {limit} digits; ask for fewer."

ERROR_NOT_TEXT = "The question must be a string, got {type_name}."


@dataclass(frozen=True)
class Reading:
    """A question read successfully.

    Attributes:
        expression: Arithmetic for the calculator engine, e.g. ``"10 - 4"``.
    """

    expression: str


@dataclass(frozen=True)
class Decline:
    """The reader would be guessing, so it does not answer.

    Attributes:
        reason: Why, in words a user or a model can act on.
    """

    reason: str


# --- normalisation ---------------------------------------------------------------------

_NUMBER = r"(?:\d+(?:\.\d+)?|PREV)"
_NUMBER_TOKEN = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w)")
_DENOMINATORS = {
    "half": 2, "halves": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip

# Pronouns that make "one" not a number ("which one", "each one"), fixed before text2num.
_ONE_AS_PRONOUN = re.compile(r"\b(no|which|each|every|the|this|that) one\b")
# A previous result referred to by a pronoun ("multiply that by 3", "halve it").
_PREVIOUS_REFERENCE = re.compile(
    r"\b(?:the (?:previous )?(?:result|answer|total)|that( number| result)?|it|this)\b"
)


def _plain(value: Fraction) -> str:
    """``value`` as a plain decimal (``18``, ``4.5``); exact for the dozens read here."""
    if value.denominator == 1:
        return str(value.numerator)
    return str(float(value))


def _normalise(question: str) -> str:
    text = question.lower().strip()
    for sign, replacement in (("×", "*"), ("÷", "/"), ("−", "-"), ("’", "'"), ("·", "*")):
        text = text.replace(sign, replacement)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"[$€£]\s*(?=\d)", "", text)
    text = _ONE_AS_PRONOUN.sub(lambda m: m.group(1), text)
    text = re.sub(r"\ba (hundred|thousand|million)\b", r"one \1", text)
    # text2num turns "three quarters" into "3 quarters" and "a third" into "a 3rd"; threshold 0
    # converts small isolated numbers too ("ate four").
    text = alpha2digit(text, "en", threshold=0)
    text = re.sub(r"\b(?:a|an)\s+(?=\d)", "", text)  # "a 150" from "a hundred and fifty"
    text = re.sub(r"\b(?:a|one|1)\s+dozen\b", "12", text)  # "a dozen" -> 12
    text = re.sub(  # "3 dozen" -> 36: a plain number reads like any other quantity
        r"\b(\d+(?:\.\d+)?)\s+dozen\b",
        lambda m: _plain(Fraction(m.group(1)) * 12),
        text,
    )
    text = re.sub(r"\bdozen\b", "12", text)
    text = _rewrite_fractions(text)
    return re.sub(r"\s+", " ", text).strip()


def _rewrite_fractions(text: str) -> str:
    ordinal = r"(\d+)(?:st|nd|rd|th)s?"
    named = (
        "|".join(sorted(_DENOMINATORS, key=len, reverse=True)) + r"|quarters|thirds|fifths|eighths"
    )

    def numeric(match: re.Match[str]) -> str:
        numerator = "1" if match.group(1) in (None, "a", "an") else match.group(1)
        return f"FRAC({numerator}/{match.group(2)}) of"

    def worded(match: re.Match[str]) -> str:
        numerator = "1" if match.group(1) in (None, "a", "an") else match.group(1)
        denominator = _DENOMINATORS[
            match.group(2).rstrip("s") if match.group(2) != "halves" else "half"
        ]
        return f"FRAC({numerator}/{denominator}) of"

    text = re.sub(rf"\b(?:(a|an|\d+)\s+)?{ordinal}\s+of\b", numeric, text)
    return re.sub(rf"\b(?:(a|an|\d+)\s+)?({named})\s+of\b", worded, text)


# --- arithmetic phrases ----------------------------------------------------------------

_FACTORIAL = re.compile(r"(?:\d+(?:\.\d+)?|\([^()]*\))!(?!=)(?!\s+[A-Z])")
"""``n!`` (or ``(...)!``): a factorial, the ``!`` right after the number, as it is written;
not when a new sentence follows ("... by catching 5! Unfortunately, ...")."""

_LEAD_INS = re.compile(
    r"^(?:(?:and|so|ok|okay|now|then|hmm|quick|um|please|pls|hey)\b[\s,:]*)*"
    r"(?:(?:can|could|would) you\s+)?(?:please\s+)?"
    r"(?:what(?:'s| is| are| would be| do you get| do i get)?(?: if (?:you|i|we))?|how much(?: is| are)?"
    r"|how many is|calculate|compute|evaluate|work out|solve|tell me|find|give me)?\b\s*"
)
_TRAILERS = re.compile(
    r"\s*(?:\b(?:for me|please|pls|again|equal|equals|is what|is|then|exactly|of course)\b|[?!.=,:])*\s*$"
)

# Verb and noun phrases with operands in fixed places, rewritten to bracketed expressions.
_N = _NUMBER
_LIST = rf"{_N}(?:\s*(?:,|and|,\s*and)\s*{_N})+"
_PhraseBuilder = Callable[[re.Match[str]], str]
_PHRASES: list[tuple[re.Pattern[str], _PhraseBuilder]] = []


def _phrase(pattern: str) -> Callable[[_PhraseBuilder], _PhraseBuilder]:
    """Register a rewrite of a fixed verb/noun phrase ("subtract A from B") into brackets."""

    def register(builder: _PhraseBuilder) -> _PhraseBuilder:
        _PHRASES.append((re.compile(pattern), builder))
        return builder

    return register


def _items(text: str) -> list[str]:
    return re.findall(_NUMBER, text)


@_phrase(rf"\b(?:the )?(?:sum|total) of ({_LIST})")
def _sum(match: re.Match[str]) -> str:
    return "(" + " + ".join(_items(match.group(1))) + ")"


@_phrase(rf"\badd ({_LIST})")
def _add_list(match: re.Match[str]) -> str:
    return "(" + " + ".join(_items(match.group(1))) + ")"


@_phrase(rf"\b(?:the )?(?:average|mean) of ({_LIST})")
def _average(match: re.Match[str]) -> str:
    items = _items(match.group(1))
    return "(" + " + ".join(items) + f") / {len(items)}"


# Two operands in fixed places, and the expression they become (``\g<1>`` is the first).
_TWO_OPERANDS: tuple[tuple[str, str], ...] = (
    (rf"\b(?:the )?difference between ({_N}) and ({_N})", r"(\g<1> - \g<2>)"),
    (rf"\b(?:the )?product of ({_N}) and ({_N})", r"(\g<1> * \g<2>)"),
    (rf"\b(?:the )?quotient of ({_N}) and ({_N})", r"(\g<1> / \g<2>)"),
    (rf"\badd ({_N}) to ({_N})", r"(\g<2> + \g<1>)"),
    (rf"\b(?:subtract|take(?: away)?|deduct) ({_N}) from ({_N})", r"(\g<2> - \g<1>)"),
    (rf"\bmultiply ({_N}) (?:by|and|with) ({_N})", r"(\g<1> * \g<2>)"),
    (rf"\bdivide ({_N}) (?:by|into) ({_N})", r"(\g<1> / \g<2>)"),
    (rf"\b(?:increase|raise) ({_N}) by ({_N}) ?(?:%|percent)", r"\g<1> * (1 + \g<2> / 100)"),
    (rf"\b(?:decrease|reduce|lower) ({_N}) by ({_N}) ?(?:%|percent)", r"\g<1> * (1 - \g<2> / 100)"),
    (rf"\b({_N}) ?(?:%|percent) off (?:of )?({_N})", r"\g<2> * (1 - \g<1> / 100)"),
    (
        rf"\b({_N}) ?(?:%|percent) (?:tip|tax|service charge|gratuity|commission|interest) "
        rf"(?:on|of|for) ({_N})",
        r"(\g<2> * \g<1> / 100)",
    ),
    (
        rf"\b(?:split|divide|share) ({_N}) (?:equally |evenly )?(?:among|between|by|across) ({_N})"
        r"(?: (?:people|persons|friends|kids|children|ways|parts|groups|of us|guests))?",
        r"(\g<1> / \g<2>)",
    ),
    (rf"\b({_N}) split ({_N}) ways", r"(\g<1> / \g<2>)"),
)


def _expands_to(template: str) -> _PhraseBuilder:
    """A builder that fills ``template``'s ``\\g<n>`` with the match's operands."""
    return lambda match: match.expand(template)


for _pattern, _template in _TWO_OPERANDS:
    _phrase(_pattern)(_expands_to(_template))


# Multi-word operators first (longest match), then single words. Values are the tokens
# they stand for; "OF" is resolved by the preceding percent or fraction.
_OPERATOR_WORDS: list[tuple[str, str]] = [
    ("to the power of", "**"), ("raised to the power of", "**"), ("to the power", "**"),
    ("multiplied by", "*"), ("divided by", "/"), ("take away", "-"), ("added to", "+"),
    ("square root of", "SQRT"), ("the square root of", "SQRT"), ("sqrt of", "SQRT"),
    ("the cube of", "CUBE"), ("cube of", "CUBE"), ("the square of", "SQUARE"),
    ("half of", "HALF"), ("twice", "DOUBLE"), ("double", "DOUBLE"), ("halve", "HALF"),
    ("triple", "TRIPLE"), ("thrice", "TRIPLE"),
    ("plus", "+"), ("minus", "-"), ("times", "*"), ("x", "*"), ("over", "/"),
    ("squared", "SQUARED"), ("cubed", "CUBED"), ("percent", "%"), ("of", "OF"),
    ("sqrt", "sqrt"),
]  # fmt: skip
_FILLER = {"the", "a", "an", "number", "result", "answer", "value", "then", "and"}
_TOKEN = re.compile(r"FRAC\(\d+(?:\.\d+)?/\d+\)|PREV|\d+(?:\.\d+)?|\*\*|[-+*/^()%]|[a-z']+|\S")


def _tokenise_arithmetic(text: str) -> list[str] | Decline:
    """Map words to operator tokens; any word that is neither operator nor filler declines."""
    words = _TOKEN.findall(text)
    tokens: list[str] = []
    index = 0
    while index < len(words):
        for phrase, token in _OPERATOR_WORDS:
            parts = phrase.split()
            if words[index : index + len(parts)] == parts:
                tokens.append(token)
                index += len(parts)
                break
        else:
            word = words[index]
            index += 1
            if word == "and" and tokens and tokens[-1] in _BINARY_OPERATORS:
                continue
            if word in _FILLER:
                if word == "and" and tokens and tokens[-1] not in _BINARY_OPERATORS:
                    return Decline(DECLINE_UNKNOWN_WORD.format(word=word))
                continue
            if re.fullmatch(r"[a-z']+", word) and word != "sqrt":
                return Decline(DECLINE_UNKNOWN_WORD.format(word=word))
            tokens.append("**" if word == "^" else word)
    return tokens


_BINARY_OPERATORS = {"+", "-", "*", "/", "**"}


def _render(tokens: list[str]) -> str | Decline:
    """Turn operator tokens into infix text; prefix/postfix words bind to one operand."""
    output: list[str] = []
    position = 0

    def operand() -> str | None:
        nonlocal position
        if position >= len(tokens):
            return None
        token = tokens[position]
        position += 1
        if token in ("SQRT", "sqrt"):
            inner = operand()
            return None if inner is None else f"sqrt({_strip_parens(inner)})"
        if token in ("HALF", "DOUBLE", "TRIPLE", "CUBE", "SQUARE"):
            if position < len(tokens) and tokens[position] == "OF":
                position += 1
            inner = operand()
            if inner is None:
                return None
            return {
                "HALF": f"{inner} / 2",
                "DOUBLE": f"2 * {inner}",
                "TRIPLE": f"3 * {inner}",
                "CUBE": f"{inner} ** 3",
                "SQUARE": f"{inner} ** 2",
            }[token]
        if token.startswith("FRAC("):
            numerator, denominator = token[5:-1].split("/")
            if position < len(tokens) and tokens[position] == "OF":
                position += 1
            inner = operand()
            if inner is None:
                return None
            if numerator == "1":
                return f"{inner} / {denominator}"
            return f"{inner} * {numerator} / {denominator}"
        if token == "(":
            depth, start = 1, position
            while position < len(tokens) and depth:
                depth += {"(": 1, ")": -1}.get(tokens[position], 0)
                position += 1
            if depth:
                return None
            inner_text = _render(tokens[start : position - 1])
            return None if isinstance(inner_text, Decline) else f"({inner_text})"
        if token == "-":  # unary minus
            inner = operand()
            return None if inner is None else f"-{inner}"
        if not re.fullmatch(_NUMBER, token):
            return None
        value = "PREV" if token == "PREV" else token
        # Postfix words bind tightest: "9 squared", "15 %", "15% of 240".
        while position < len(tokens) and tokens[position] in ("SQUARED", "CUBED", "%"):
            postfix = tokens[position]
            position += 1
            if postfix == "%":
                if position < len(tokens) and tokens[position] == "OF":
                    position += 1
                    inner = operand()
                    if inner is None:
                        return None
                    return f"{_wrap(inner)} * {value} / 100"
                value = f"{value} / 100"
            else:
                value = f"{value} ** {2 if postfix == 'SQUARED' else 3}"
        return value

    first = operand()
    if first is None:
        return Decline(DECLINE_MALFORMED.format(expression=" ".join(tokens)))
    output.append(first)
    while position < len(tokens):
        operator = tokens[position]
        position += 1
        if operator not in _BINARY_OPERATORS:
            return Decline(DECLINE_MALFORMED.format(expression=" ".join(tokens)))
        right = operand()
        if right is None:
            return Decline(DECLINE_MALFORMED.format(expression=" ".join(tokens)))
        # A postfix/prefix result like "30 / 2" stays one operand under * and **.
        if operator in ("*", "/", "**") and " " in right and not right.startswith("("):
            right = f"({right})"
        output.extend([operator, right])
    return " ".join(output)


def _wrap(text: str) -> str:
    return (
        text
        if re.fullmatch(_NUMBER, text) or (text.startswith("(") and text.endswith(")"))
        else f"({text})"
    )


def _strip_parens(text: str) -> str:
    if text.startswith("(") and text.endswith(")"):
        try:
            ast.parse(text[1:-1], mode="eval")
        except SyntaxError:
            return text
        return text[1:-1]
    return text


def _read_arithmetic(text: str, previous: str | None) -> str | Decline:
    """Read one arithmetic phrase (no story); ``PREV`` in it stands for ``previous``."""
    body = _TRAILERS.sub("", _LEAD_INS.sub("", text, count=1))
    if not body:
        return Decline(DECLINE_NO_NUMBERS)
    body = _PREVIOUS_REFERENCE.sub("PREV", body)
    # "and divided by 4?", "plus 7", "squared?": an operator with no left operand.
    if re.match(
        r"^(?:[-+*/^]|plus|minus|times|multiplied by|divided by|squared|cubed|to the power)", body
    ):
        body = "PREV " + body
    elif re.match(r"^(?:add|subtract|multiply (?:it )?by|divide (?:it )?by)\b", body):
        body = _verb_follow_up(body)
    for pattern, builder in _PHRASES:
        body = pattern.sub(builder, body)
    tokens = _tokenise_arithmetic(body)
    if isinstance(tokens, Decline):
        return tokens
    if not any(re.fullmatch(_NUMBER, t) or t.startswith("FRAC") for t in tokens):
        return Decline(DECLINE_NO_NUMBERS)
    rendered = _render(tokens)
    if isinstance(rendered, Decline):
        return rendered
    if "PREV" in rendered:
        if previous is None:
            return Decline(DECLINE_NEEDS_PREVIOUS.format(phrase=text))
        rendered = rendered.replace("PREV", _wrap(previous))
    return rendered


def _verb_follow_up(body: str) -> str:
    """'add 10', 'subtract 15', 'multiply by 3': a verb whose other operand is the last result."""
    body = re.sub(rf"^add ({_N})$", r"PREV + \1", body)
    body = re.sub(rf"^subtract ({_N})$", r"PREV - \1", body)
    body = re.sub(rf"^multiply (?:it |PREV )?by ({_N})$", r"PREV * \1", body)
    return re.sub(rf"^divide (?:it |PREV )?by ({_N})$", r"PREV / \1", body)


# --- story problems --------------------------------------------------------------------

_UNSUPPORTED_STORIES = [
    (re.compile(r"\b(?:o'clock|\d+ ?(?:am|pm)|hours?|minutes?|seconds?|mph|km/h|speed|per hour)\b"), "times and speeds"),
    (re.compile(r"\b(?:years? old|older|younger|age|ages|ago)\b"), "ages"),
    (re.compile(r"\b(?:more|fewer|less) than\b|\bas many\b|\bas much\b"), "comparisons"),
    (re.compile(r"\b(?:leaves at|arrives?|departs?|journey)\b"), "journeys"),
    (re.compile(r"%|\bpercent\b|\bFRAC\b|\bhalf\b|\btwice\b|\bdouble\b"), "parts and percentages in a story"),
    (re.compile(r"\b\d+(?:st|nd|rd|th)\b"), "ordered steps"),
]  # fmt: skip

_GAIN_VERBS = (
    r"found|finds|find|gets?|got|receive[sd]?|earn(?:s|ed)?|won|wins?|saved|saves|grew|grows|"
    r"picks?|picked|collect(?:s|ed)?|bought|buys?|bake[sd]?|made|makes|caught|catch(?:es)?|"
    r"adds?|added|brings?|brought|came|arrived|joined|got on|gets on|more"
)
_LOSS_VERBS = (
    r"ate|eats?|eaten|lost|loses?|sold|sells?|used|uses?|spent|spends?|spend|broke|breaks?|"
    r"took|takes?|drank|drinks?|dropped|drops?|threw|throws?|donated|donates?|popped|"
    r"flew away|left|leaves|got off|gets off|went home|melted|ran away|fell|traded away|"
    r"paid|pays?|lent|lends?|gave away|gives away|give away|absent|missing|removed?|"
    r"gave|gives|give|poured|pours"
)
_START_VERBS = (
    r"ha[sd]|have|owns?|there (?:are|were|is|was)|starts? with|started with|contains?|holds?"
)
_GIVEN_TO_US = re.compile(
    r"\b(?:gave|gives|give|lent|lends|hands?|handed) (?:him|her|me|them|us|you)\b|\bwas given\b|\bwere given\b"
)
_QUESTION = re.compile(r"\b(?:how (?:many|much)|what(?:'s| is) left|what remains|how far|total)\b")


def _split_story(text: str) -> list[str]:
    # A full stop splits sentences, but not the one inside a decimal ("$2.50").
    pieces = re.split(r"[!?;]+|\.(?!\d)|,|\band then\b|\bthen\b|\band\b", text)
    return [p.strip() for p in pieces if p and p.strip()]


def _noun_after(text: str, start: int) -> str:
    match = re.match(r"\s*(?:more |extra |of |the |a |an )*([a-z]+)", text[start:])
    return _singular(match.group(1)) if match else ""


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _read_story(text: str) -> str | Decline:
    for pattern, kind in _UNSUPPORTED_STORIES:
        if pattern.search(text):
            return Decline(DECLINE_STORY_KIND.format(kind=kind))
    steps = _split_story(text)
    question_at = max((i for i, s in enumerate(steps) if _QUESTION.search(s)), default=None)
    if question_at is None:
        return Decline(DECLINE_STORY_QUESTION)
    question = " ".join(steps[question_at:])
    asked_noun = ""
    asked = re.search(r"how many\s+", question)
    if asked:
        asked_noun = _noun_after(question, asked.end())
    asks_total = (
        re.search(r"\b(?:in total|altogether|in all|total|how far)\b", question) is not None
    )
    expression = ""
    is_sum = False  # the expression so far ends in + or - at top level
    last_sign = ""
    rate: tuple[str, str, str] | None = None  # (value, item noun, container noun)
    took_away = False

    def combine(sign: str, term: str) -> None:
        nonlocal expression, is_sum, took_away
        if not expression:
            expression = term
            return
        if sign in "+-":
            expression = f"{expression} {sign} {term}"
            is_sum = True
            took_away = took_away or sign == "-"
        else:
            left = f"({expression})" if is_sum else expression
            expression, is_sum = f"{left} {sign} {term}", False

    story_steps = steps[:question_at]
    # A question step with its own numbers ("how much would 3 coffees at $4.20 cost") is read too.
    if _NUMBER_TOKEN.search(question):
        story_steps = [*story_steps, question]
    for step in story_steps:
        numbers = _NUMBER_TOKEN.findall(step)
        if not numbers:
            # "ate some" changes the amount by an unknown number: nothing honest to compute.
            if (
                step is not question
                and _has_verb(step)
                and re.search(r"\b(?:some|a few|several|many|rest)\b", step)
            ):
                return Decline(DECLINE_STORY_SHAPE.format(step=step))
            continue
        group = re.search(
            rf"({_NUMBER_TOKEN.pattern})\s+(?:[a-z]+\s+){{1,2}}(?:of|with|containing|holding)\s+({_NUMBER_TOKEN.pattern})",
            step,
        )
        price = re.search(
            rf"({_NUMBER_TOKEN.pattern})\s+(?:[a-z]+\s+){{1,2}}(?:at|for|costing)\s+({_NUMBER_TOKEN.pattern})\s*(?:[a-z]+\s+)?(?:each|apiece|a piece|per)?",
            step,
        )
        share_after = re.search(
            rf"({_NUMBER_TOKEN.pattern}).*\b(?:shared|split|divided|share|split|divide|distributed|pour|poured|packed)\b.*\b(?:among|between|into|across|by)\s+({_NUMBER_TOKEN.pattern})",
            step,
        )
        share_before = re.search(
            rf"({_NUMBER_TOKEN.pattern})\s+[a-z]+\s+(?:share|split|divide)\b.*?({_NUMBER_TOKEN.pattern})",
            step,
        )
        per_each = re.search(
            rf"\b(?:each|every|per)\s+([a-z]+)\s+(?:[a-z]+\s+)?(?:has|have|holds?|contains?|costs?|needs?|gets?|weighs?)\s+({_NUMBER_TOKEN.pattern})"
            rf"|\b(?:a|an|one)\s+([a-z]+)\s+(?:[a-z]+\s+)?costs?\s+({_NUMBER_TOKEN.pattern})",
            step,
        )
        each_after = re.search(
            rf"({_NUMBER_TOKEN.pattern})\s+(?:([a-z]+)\s+)??(?:in each|each|per|in every)\s+([a-z]+)",
            step,
        )
        if len(numbers) == 2 and group:
            if step is question and not expression:
                combine("", f"{group.group(1)} * {group.group(2)}")
            else:
                sign = _sign_of(step, default="+" if expression else "")
                if isinstance(sign, Decline):
                    return sign
                combine(sign, f"{group.group(1)} * {group.group(2)}")
            continue
        if len(numbers) == 2 and price:
            sign = (
                "-"
                if re.search(r"\b(?:spent|spends|paid|pays|bought|buys)\b", step) and expression
                else "+"
            )
            combine(sign if expression else "", f"{price.group(1)} * {price.group(2)}")
            continue
        if len(numbers) == 2 and (share_after or share_before):
            if share_after:
                total, parts = share_after.group(1), share_after.group(2)
            else:
                assert share_before is not None
                parts, total = share_before.group(1), share_before.group(2)
            combine("", f"{total} / {parts}")
            continue
        if (
            len(numbers) == 1
            and share_after is None
            and re.search(
                r"\b(?:shared|split|divided|distributed)\b.*\b(?:among|between|into|across)\b", step
            )
        ):
            if not expression:
                return Decline(DECLINE_STORY_SHAPE.format(step=step))
            combine("/", numbers[0])
            continue
        if len(numbers) != 1:
            return Decline(DECLINE_STORY_SHAPE.format(step=step))
        value = numbers[0]
        if per_each or each_after:
            if rate is not None:
                return Decline(DECLINE_STORY_RATE.format(step=step))
            if per_each:
                container = per_each.group(1) or per_each.group(3)
                rate = (value, _noun_after(step, per_each.end()), _singular(container))
            else:
                assert each_after is not None
                item = each_after.group(2) or ""
                rate = (value, _singular(item), _singular(each_after.group(3)))
            continue
        if step is question:
            # "how many potatoes are in 7 bags?" after "each bag holds 6 potatoes".
            if rate is None:
                return Decline(DECLINE_STORY_SHAPE.format(step=step))
            continue
        sign = _sign_of(step, default=last_sign)
        if isinstance(sign, Decline):
            return sign
        if sign == "start" and expression and asks_total and not _has_verb(step):
            sign = "+"  # "15 pages on Monday and 22 pages on Tuesday ... altogether"
        verb_sign = sign
        if sign == "start":
            if expression:
                return Decline(DECLINE_STORY_SECOND_START.format(step=step))
            sign = ""
        elif not expression and sign in ("+", ""):
            sign = ""  # the first amount, however it was come by ("Emma picks 14 flowers")
        elif not expression:
            return Decline(DECLINE_STORY_SHAPE.format(step=step))
        combine(sign, value)
        # Only a step with a gain or loss verb lends its sign to a following verbless step
        # ("used 24 for a necklace and 15 for a bracelet"); an opening "has 40" does not.
        # A verbless step after a signed one keeps the sign for the next ("gives away 24
        # oatmeal, 18 sugar and 30 chocolate cookies").
        if _has_verb(step):
            last_sign = verb_sign if verb_sign in ("+", "-") else ""
        elif verb_sign != last_sign:
            last_sign = ""
    if rate is not None:
        value, item, container = rate
        counted = _NUMBER_TOKEN.findall(question)
        if (len(counted) == 1 and not expression and asked_noun in (item, "")) or (
            len(counted) == 1 and not expression and question.startswith("how much")
        ):
            return f"{value} * {counted[0]}"
        if expression and not counted and asked_noun and asked_noun == item:
            return f"{_wrap_sum(expression, is_sum)} * {value}"
        if expression and not counted and asked_noun and asked_noun == container:
            return f"{_wrap_sum(expression, is_sum)} / {value}"
        if (
            expression
            and not counted
            and question.startswith("how much")
            and item in ("", "cost", "dollar", "euro")
        ):
            return f"{_wrap_sum(expression, is_sum)} * {value}"
        return Decline(DECLINE_STORY_RATE.format(step=" ".join(steps)))
    if not expression:
        return Decline(DECLINE_NO_NUMBERS)
    if re.fullmatch(_NUMBER_TOKEN, expression):
        return Decline(DECLINE_STORY_ONE_NUMBER)
    if (
        re.search(r"\b(?:left|remain|remains|remaining|still)\b", question)
        and not took_away
        and "/" not in expression
    ):
        return Decline(DECLINE_STORY_LEFT_WITHOUT_LOSS)
    return expression


def _has_verb(step: str) -> bool:
    return re.search(rf"\b(?:{_GAIN_VERBS}|{_LOSS_VERBS})\b", step) is not None or bool(
        _GIVEN_TO_US.search(step)
    )


def _wrap_sum(expression: str, is_sum: bool) -> str:
    return f"({expression})" if is_sum else expression


def _sign_of(step: str, default: str) -> str | Decline:
    """'+' for gains, '-' for losses, 'start' for the opening amount, else the previous step's."""
    if _GIVEN_TO_US.search(step):
        return "+"
    # "got off" / "got on" (a bus) must not read as "got" (a gain).
    step = re.sub(r"\b(?:got|gets|get) off\b", "left", step)
    step = re.sub(r"\b(?:got|gets|get) on\b", "joined", step)
    has_loss = re.search(rf"\b(?:{_LOSS_VERBS})\b", step) is not None
    has_gain = re.search(rf"\b(?:{_GAIN_VERBS})\b", step) is not None
    has_start = re.search(rf"\b(?:{_START_VERBS})\b", step) is not None
    if has_loss and has_gain and not re.search(r"\bmore\b", step):
        return Decline(DECLINE_STORY_SHAPE.format(step=step))
    if has_loss:
        return "-"
    if has_gain:
        return "+"
    if has_start:
        return "start"
    if default:
        return default
    # The very first amount may come without a verb ("A pizza is cut into 8 slices").
    return "start"


# --- public API ------------------------------------------------------------------------

_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.Div,
    ast.Pow, ast.USub, ast.UAdd, ast.Call, ast.Name, ast.Load,
)  # fmt: skip


def _is_known_call(node: ast.Call) -> bool:
    """``sqrt(x)``, or ``round(x, n)`` with a whole ``n`` (what the rounding phrase writes)."""
    if node.keywords or not isinstance(node.func, ast.Name):
        return False
    if node.func.id == "sqrt":
        return len(node.args) == 1
    digits = node.args[1] if len(node.args) == 2 else None
    if isinstance(digits, ast.UnaryOp) and isinstance(digits.op, ast.USub):
        digits = digits.operand
    return isinstance(digits, ast.Constant) and type(digits.value) is int


def _is_well_formed(expression: str) -> bool:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            return False
        if isinstance(node, ast.Name) and node.id not in ("sqrt", "round"):
            return False
        if isinstance(node, ast.Call) and not _is_known_call(node):
            return False
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            return False
    return True


def _format_previous(previous: str | float | None) -> str | None:
    if previous is None:
        return None
    if isinstance(previous, bool) or not isinstance(previous, str | int | float):
        raise InputError(
            f"previous must be an expression or a number, got {type(previous).__name__}."
        )
    text = str(previous).strip()
    return text if _is_well_formed(text) else None


_BARE_EXPRESSION = re.compile(
    r"[\d\s.+\-*/^()%]+|[\d\s.+\-*/^()]*sqrt\([\d\s.+\-*/^()]*\)[\d\s.+\-*/^()]*"
)


def read(question: str, *, previous: str | float | None = None) -> Reading | Decline:
    """Read a math question written in words into an arithmetic expression.

    Args:
        question: The user's question, e.g. ``"what is 15% of 240?"``.
        previous: The previous result or expression in the conversation, used by follow-ups
            such as ``"and divided by 4?"``; ``None`` when there is none.

    Returns:
        :class:`Reading` with the expression, or :class:`Decline` with the reason.

    Raises:
        InputError: ``question`` is not a string.
    """
    if not isinstance(question, str):
        raise InputError(ERROR_NOT_TEXT.format(type_name=type(question).__name__))
    if not question.strip():
        return Decline(DECLINE_EMPTY)
    factorial = _FACTORIAL.search(question)
    if factorial:
        # Not an exclamation mark to strip: "12!" read as 12 would be a wrong answer.
        return Decline(DECLINE_FACTORIAL.format(notation=factorial.group()))
    previous_text = _format_previous(previous)
    stripped = question.strip().rstrip("?=!. ")
    # Bare expressions pass through as typed; only ^ becomes ** (the engine's power).
    candidate = _LEAD_INS.sub("", stripped.lower(), count=1).strip()
    candidate = candidate.replace("×", "*").replace("÷", "/").replace("−", "-")
    if (
        _BARE_EXPRESSION.fullmatch(candidate)
        and re.search(r"\d", candidate)
        and "%" not in candidate
    ):
        expression = candidate.replace("^", "**")
        return (
            Reading(expression)
            if _is_well_formed(expression)
            else Decline(DECLINE_MALFORMED.format(expression=expression))
        )
    text = _normalise(stripped)
    text, precision = _take_precision(text)
    steps = re.split(r"\s*(?:,\s*)?\b(?:and then|then)\b\s*", text)
    result: str | Decline = Decline(DECLINE_NO_NUMBERS)
    current = previous_text
    for step in steps:
        result = _read_arithmetic(step, current)
        if isinstance(result, Decline):
            break
        current = result
    if isinstance(result, Decline):
        units = _read_units(text)
        if units is not None:
            result = units
    if isinstance(result, Decline):
        story = _read_story(text)
        if isinstance(story, str):
            story = _check_story(text, story)
        if isinstance(story, str) or _looks_like_story(text):
            result = story
    if isinstance(result, Decline):
        return result
    if precision is not None and not isinstance(result, Decline):
        result = _rounded(result, *precision)
        if isinstance(result, Decline):
            return result
    if not _is_well_formed(result):
        return Decline(DECLINE_MALFORMED.format(expression=result))
    return Reading(result)


# --- rounding, units, and the story safety check -----------------------------------------

_PRECISION = re.compile(
    r"\s*,?\s*(?:rounded |correct )?(?:to|with) (\d+) (decimal places?|decimals?|dp|"
    r"significant (?:digits|figures)|digits|sig figs)\s*$"
)
MAX_DIGITS = 15


def _take_precision(text: str) -> tuple[str, tuple[int, bool] | None]:
    """Strip a trailing "to N decimal places" / "to N digits" (significant)."""
    match = _PRECISION.search(text)
    if not match:
        return text, None
    decimal = match.group(2).startswith(("decimal", "dp"))
    return text[: match.start()].strip(), (int(match.group(1)), decimal)


def _rounded(expression: str, digits: int, decimal: bool) -> str | Decline:
    """``round(expression, …)`` to ``digits`` decimal places or significant digits."""
    if digits > MAX_DIGITS or digits < (0 if decimal else 1):
        return Decline(DECLINE_DIGITS.format(limit=MAX_DIGITS))
    if decimal:
        return f"round({expression}, {digits})"
    from crossroads.tools.calculator import evaluate  # the engine decides the magnitude

    try:
        value = float(evaluate(expression))
    except CrossroadsError:  # the engine's own message is shown when the agent evaluates it
        return f"round({expression}, {digits})"
    if value == 0 or not math.isfinite(value):
        return expression
    places = digits - 1 - math.floor(math.log10(abs(value)))
    return f"round({expression}, {places})"


# Units of time and count, in the smallest unit of their kind.
_UNITS: dict[str, tuple[str, Fraction]] = {
    "second": ("time", Fraction(1)), "minute": ("time", Fraction(60)),
    "hour": ("time", Fraction(3600)), "day": ("time", Fraction(86400)),
    "week": ("time", Fraction(604800)), "fortnight": ("time", Fraction(1209600)),
    "millisecond": ("time", Fraction(1, 1000)),
    "dozen": ("count", Fraction(12)), "score": ("count", Fraction(20)),
    "gross": ("count", Fraction(144)), "pair": ("count", Fraction(2)),
    "unit": ("count", Fraction(1)), "item": ("count", Fraction(1)),
    "egg": ("count", Fraction(1)), "thing": ("count", Fraction(1)),
}  # fmt: skip
_UNIT_WORD = r"(millisecond|second|minute|hour|day|week|fortnight|dozen|score|gross|pair|unit|item|egg|thing)s?"
_AMOUNT = rf"(?:(\d+(?:\.\d+)?|a|an|one) {_UNIT_WORD}|({_N.replace('|PREV', '')}))"
_UNITS_QUESTION = re.compile(rf"^how many {_UNIT_WORD} (?:are |is )?(?:there )?in (.+?)$")
_UNIT_PART = re.compile(rf"^(\d+(?:\.\d+)?|a|an|one) {_UNIT_WORD}$")


def _read_units(text: str) -> str | None:
    """ "how many days are in 3 weeks and 4 days", "how many seconds in a day": a conversion.

    Every part after "in" must be an amount with a known unit of the asked kind; anything
    else returns ``None`` (not this shape).
    """
    body = _TRAILERS.sub("", text)
    match = _UNITS_QUESTION.match(body)
    if not match:
        return None
    kind, target = _UNITS[match.group(1)]
    terms: list[str] = []
    for part in re.split(r"\s*(?:,|\band\b|\bplus\b)\s*", match.group(2)):
        if not part:
            continue
        amount = _UNIT_PART.match(part.strip())
        if amount is None and kind == "count" and re.fullmatch(r"\d+(?:\.\d+)?", part.strip()):
            terms.append(part.strip())  # "3 dozen" was already rewritten to 36
            continue
        if amount is None:
            return None
        unit_kind, size = _UNITS[amount.group(2)]
        if unit_kind != kind:
            return None
        count = "1" if amount.group(1) in ("a", "an", "one") else amount.group(1)
        ratio = size / target
        factor = (
            str(ratio.numerator)
            if ratio.denominator == 1
            else f"{ratio.numerator} / {ratio.denominator}"
        )
        terms.append(f"{count} * {factor}" if factor != "1" else count)
    if not terms:
        return None
    return " + ".join(terms)


# Words whose meaning in a story this reader cannot follow: a sentence holding one means no
# answer (measured on the validation split of GSM8K, see benchmarks/offline_reader.py).
_UNSAFE_STORY = re.compile(
    r"\b(?:than|times|per|every|each|if|would|could|should|will|change|rest|remaining|"
    r"equally|evenly|same|instead|already|still|need|needs|worth|together|other|others|"
    r"another|cost|costs|price|cheaper|pays?|paid|profit|save[sd]?|saving|week|weeks|day|days|"
    r"month|months|year|years|hours?|minutes?|miles?|pounds?|ounces?|liters?|gallons?|"
    r"pints?|cups?|feet|inches|meters?|grams?|kilograms?|slices?|pieces?|half|twice|double|"
    r"triple|percent|fewer|less|more|some|all|both|only|except|but|not|without|back|"
    r"again|whole|first|second|third|last|next|after|before|until|since|so|because|while|"
    r"bills?|coins?|dollars?|cents?|bought|buys?|sold|sells?|spent|spends?|charges?|can|once|"
    r"legs?|wheels?|eyes?|feet|including|among|quarters|dimes|nickels|pennies)\b|%|\$"
)


SHORT_STORY_WORDS = 24
"""A story this short with at most three numbers is read with the smaller trap list below."""
_UNSAFE_SHORT_STORY = re.compile(
    r"\b(?:than|times|twice|half|double|triple|percent|could|will|per|every|"
    r"week|weeks|day|days|month|months|year|years|hours?|minutes?|change|rest|same|instead|"
    r"already|worth|together|other|others|another|only|except|but|not|without|all|both|"
    r"fewer|less|quarters|dimes|nickels|pennies|profit|after|before|some|which|for each|"
    r"splits|weighs?|g|kg|grams?|kilograms?|pounds?|ounces?|reps|sets|liters?|gallons?|"
    r"pairs?|scores?|gross|additional)\b|%"
)
_CONDITION_AFTER_STORY = re.compile(r"[.!?]\s+if\b|\bif\b.*[.!?]\s+\w")
"""An "if" in a story of several sentences changes what the story means: no answer."""
_VERB_AFTER_HOW_MANY = frozenset({"do", "does", "did", "are", "is", "were", "was", "have", "has"})


def _check_story(text: str, expression: str) -> str | Decline:
    """Accept a story reading only when nothing in it is a known trap and every number is used.

    A real word problem's wording outruns the story rules quickly ("30 more gold coins than
    silver coins"); a wrong number said with confidence is worse than a decline, so any
    sentence the rules may misread, or any number they left out, means no answer.
    """
    short = len(text.split()) <= SHORT_STORY_WORDS and len(_NUMBER_TOKEN.findall(text)) <= 3
    unsafe = (_UNSAFE_SHORT_STORY if short else _UNSAFE_STORY).search(text)
    if unsafe is None and short:
        unsafe = _CONDITION_AFTER_STORY.search(text)
        if unsafe is not None:
            return Decline(DECLINE_STORY_UNSAFE.format(phrase="if"))
    if unsafe:
        return Decline(DECLINE_STORY_UNSAFE.format(phrase=unsafe.group()))
    asked = re.search(r"\bhow many (?:total |more |different |of the )?([a-z]+)", text)
    if asked:
        story = text[: asked.start()]
        nouns = {_singular(word) for word in re.findall(r"[a-z]+", story)}
        if _singular(asked.group(1)) not in nouns and asked.group(1) not in _VERB_AFTER_HOW_MANY:
            return Decline(DECLINE_STORY_ASKED.format(noun=asked.group(1)))
    used = Counter(_NUMBER_TOKEN.findall(expression))
    for number in _NUMBER_TOKEN.findall(text):
        if used[number] <= 0:
            return Decline(DECLINE_STORY_UNUSED.format(number=number))
        used[number] -= 1
    return expression


def _looks_like_story(text: str) -> bool:
    if any(pattern.search(text) for pattern, _ in _UNSUPPORTED_STORIES):
        return True
    return (
        bool(re.search(r"\b(?:how many|how much|left|total|altogether|each)\b", text))
        and len(_NUMBER_TOKEN.findall(text)) >= 2
    )


def has_quantity(question: str) -> bool:
    """Whether ``question`` names something to compute with: a number, in digits or words
    ("four", "a dozen", "twice as many"), a constant ("pi"), or a reference to an earlier
    result ("it", "that").

    A question with none ("How many books can members borrow?") is not a word problem the
    reader could ever compute, whatever its wording: offline, the calculator hands it back
    to the router instead of declining it.
    """
    text = _normalise(question)
    return any(pattern.search(text) for pattern in (OPERAND, _MULTIPLIER, _PREVIOUS_REFERENCE))


_MULTIPLIER = re.compile(r"\b(?:twice|thrice|double[ds]?|triple[ds]?|half|halve[ds]?)\b")


def read_expression(question: str, *, previous: str | float | None = None) -> str | None:
    """Return the arithmetic expression for ``question``, or ``None`` when unsure.

    Use :func:`read` to learn why a question was declined.
    """
    outcome = read(question, previous=previous)
    return outcome.expression if isinstance(outcome, Reading) else None
