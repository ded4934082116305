"""The writing team's rules that need no model.

What the nodes of :mod:`crossroads.agents.writers` decide in plain code: the structured
outputs the roles reply with, the shape of a request (short or long, how many parts, which
format) by a deterministic rule, the length window of a part, the critic's guard (work with a
deterministic error is never approved), the deterministic plan checks, the best draft to keep
when revisions run out, the bible's updates, the prompt renderings of bible, outline and
findings, and how a person's answer to the plan review is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from crossroads.agents import writers_prompts as prompts
from crossroads.tools.text_checks import (
    Bible,
    Character,
    Finding,
    FormatKind,
    check_names,
    has_errors,
)

OVERRIDDEN_ISSUE = "[{check} check] {message}"
PLAN_PART_COUNT = "The request asks for exactly {wanted} parts, but the plan has {found}."
PLAN_NO_CHARACTERS = "The bible names no characters; add the story's characters with traits."

SHORT_LENGTH_SLACK = 1.5
"""A short piece asked for in N words may have up to 1.5 N (and at least N/2)."""

MIN_WORDS_FACTOR = 0.5
MAX_WORDS_FACTOR = 2.0
"""A planned part of N words must have between N/2 and 2N words: ``check_length`` findings
are hard errors and models count words poorly, so the window is generous."""


# --- structured outputs ---------------------------------------------------------------


class PartPlan(BaseModel):
    """One part of the outline."""

    title: str = Field(description="A short title for the part.")
    goal: str = Field(
        min_length=1,
        description="What happens or what the part covers, naming the characters involved.",
    )
    target_words: int | None = Field(
        default=None, ge=5, le=5000, description="About how many words the part should have."
    )


class StoryPlan(BaseModel):
    """The planner's outline and the shared bible."""

    title: str = Field(default="", description="The title of the whole piece.")
    parts: list[PartPlan] = Field(min_length=1, description="The parts, in order.")
    bible: Bible = Field(default_factory=Bible, description="Characters, places, facts, style.")


class Verdict(BaseModel):
    """The critic's verdict on a plan or a part."""

    verdict: Literal["approve", "revise"] = Field(
        description="'approve' when the work does its job, 'revise' to send it back."
    )
    issues: list[str] = Field(
        default_factory=list, description="Concrete, actionable issues (empty on approve)."
    )


class BibleUpdate(BaseModel):
    """What a finished part adds to the shared memory."""

    summary: str = Field(description="What happened in the part, for the next parts' writers.")
    new_characters: list[Character] = Field(default_factory=list)
    new_places: list[str] = Field(default_factory=list)
    new_facts: list[str] = Field(default_factory=list)


# --- the request's shape (deterministic) ----------------------------------------------


@dataclass(frozen=True)
class RequestShape:
    """How a writing request was classified by :func:`classify_request`.

    Attributes:
        short: One part, no creative or planning call.
        form: The form named by the request ("haiku", "email", "story", ...), or ``None``.
        kind: The format kind :func:`~crossroads.tools.text_checks.check_format` checks.
        parts: Number of parts the request asks for, or ``None`` (the planner decides).
        words: Total length the request asks for, or ``None``.
        max_words: Length limit for a short form (``None``: no limit).
        rule: Which rule decided, for the steps.
    """

    short: bool
    form: str | None
    kind: FormatKind | None
    parts: int | None
    words: int | None
    max_words: int | None
    rule: str


@dataclass(frozen=True)
class _ShortForm:
    name: str
    pattern: re.Pattern[str]
    kind: FormatKind | None
    max_words: int | None


def _form(name: str, pattern: str, kind: FormatKind | None, max_words: int | None) -> _ShortForm:
    return _ShortForm(name, re.compile(pattern, re.IGNORECASE), kind, max_words)


# Order matters: the first match names the form ("reply to this email" is an email).
SHORT_FORMS: tuple[_ShortForm, ...] = (
    _form("haiku", r"\bhaikus?\b", "haiku", None),
    _form("limerick", r"\blimericks?\b", "poem", 120),
    _form("tweet", r"\b(?:tweets?|x post)\b", None, 60),
    _form("email", r"\be-?mails?\b", "email", 400),
    _form("reply", r"\b(?:reply|respond)\b", None, 300),
    _form("poem", r"\b(?:poems?|sonnets?|verses?|odes?)\b", "poem", 300),
    _form("sentence", r"\b(?:a|one|single|1)[ -](?:sentence|line)\b", None, 60),
    _form("slogan", r"\b(?:slogans?|taglines?|captions?|headlines?|mottos?)\b", None, 40),
    _form("message", r"\b(?:text message|toast|joke|riddle|greeting card)\b", None, 250),
)
"""Short forms: one part, no planning call, this format kind and word limit."""

LONG_FORMS = re.compile(
    r"\b(?:stor(?:y|ies)|tales?|fables?|novels?|novellas?|chapters?|essays?|articles?"
    r"|reports?|scripts?|screenplays?|sagas?|fan ?fiction|blog posts?|speech(?:es)?)\b",
    re.IGNORECASE,
)

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_PART_COUNT = re.compile(
    r"\b(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")[\s-]+(?:parts?|chapters?|acts?|episodes?"
    r"|sections?|instal?lments?)\b",
    re.IGNORECASE,
)
_WORD_COUNT = re.compile(r"\b(\d{2,5})[\s-]*words?\b", re.IGNORECASE)


def classify_request(text: str, *, max_parts: int) -> RequestShape:
    """Decide, without a model, whether a request is short and how many parts it asks for.

    The rule (first match wins): an explicit number of parts → long; a short form (haiku,
    limerick, tweet, email, reply, poem, "a sentence", slogan, toast, joke, ...) → short; a
    long form (story, essay, article, chapter, script, ...) → long with the planner
    choosing the parts; anything else → short.

    Args:
        text: The request.
        max_parts: The cap on parts (``Settings.max_parts``).

    Returns:
        The request's shape.
    """
    words_match = _WORD_COUNT.search(text)
    words = int(words_match.group(1)) if words_match else None
    count_match = _PART_COUNT.search(text)
    if count_match:
        raw = count_match.group(1).lower()
        count = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        parts = max(1, min(count, max_parts))
        kind: FormatKind | None = "story" if LONG_FORMS.search(text) else None
        rule = "explicit part count"
        if parts != count:
            rule += f" ({count} asked, capped at max_parts={max_parts})"
        return RequestShape(False, None, kind, parts, words, None, rule)
    for form in SHORT_FORMS:
        if form.pattern.search(text):
            limit = form.max_words
            if words is not None:
                limit = round(words * SHORT_LENGTH_SLACK)
            return RequestShape(
                True, form.name, form.kind, 1, words, limit, f"short form: {form.name}"
            )
    long_match = LONG_FORMS.search(text)
    if long_match:
        noun = long_match.group(0).lower()
        kind = (
            "story" if noun.startswith(("stor", "tale", "fable", "novel", "saga", "fan")) else None
        )
        return RequestShape(False, noun, kind, None, words, None, f"long form: {noun}")
    limit = round(words * SHORT_LENGTH_SLACK) if words is not None else None
    return RequestShape(True, None, None, 1, words, limit, "no long form named")


def short_plan(question: str) -> StoryPlan:
    """The one-part plan of a short request (no planning call)."""
    return StoryPlan(title="", parts=[PartPlan(title="", goal=question)], bible=Bible())


def part_limits(
    part: PartPlan, shape: RequestShape, *, parts: int
) -> tuple[int | None, int | None]:
    """The ``(min_words, max_words)`` the length check holds a part to."""
    if shape.short:
        if shape.words is not None:
            return round(shape.words * MIN_WORDS_FACTOR), shape.max_words
        return None, shape.max_words
    target = part.target_words
    if target is None and shape.words is not None:
        target = max(5, shape.words // max(1, parts))
    if target is None:
        return None, None
    return max(1, round(target * MIN_WORDS_FACTOR)), round(target * MAX_WORDS_FACTOR)


# --- deterministic critic helpers ------------------------------------------------------


def enforce_verdict(
    verdict: Verdict | None, findings: Sequence[Finding]
) -> tuple[Literal["approve", "revise"], list[str], bool]:
    """Combine the critic model's verdict with the deterministic findings.

    The reward-hacking guard lives here, in code: work with an error-severity finding is
    never approved, whatever the model said, and every error finding becomes an issue.

    Args:
        verdict: The critic model's parsed verdict, or ``None`` when its reply was unusable
            (then the deterministic findings decide alone).
        findings: The deterministic findings.

    Returns:
        ``(verdict, issues, overridden)``: ``overridden`` is True when the model approved
        but a deterministic error forced ``revise``.
    """
    errors = [finding for finding in findings if finding.severity == "error"]
    issues = [
        OVERRIDDEN_ISSUE.format(check=finding.check, message=finding.message) for finding in errors
    ]
    model_says = verdict.verdict if verdict is not None else "approve"
    model_issues = [issue.strip() for issue in (verdict.issues if verdict else []) if issue.strip()]
    if has_errors(findings):
        return "revise", [*issues, *model_issues], model_says == "approve"
    if model_says == "revise":
        # A "revise" without reasons cannot be acted on; say so instead of looping blind.
        return (
            "revise",
            model_issues or ["The critic asked for a revision without a reason."],
            False,
        )
    return "approve", [], False


def check_plan(plan: StoryPlan, shape: RequestShape) -> list[Finding]:
    """Deterministic checks of a plan: the part count asked for, and names against the bible."""
    findings: list[Finding] = []
    if shape.parts is not None and len(plan.parts) != shape.parts:
        message = PLAN_PART_COUNT.format(wanted=shape.parts, found=len(plan.parts))
        findings.append(Finding(check="plan", severity="error", message=message))
    if shape.kind == "story" and not plan.bible.characters:
        findings.append(Finding(check="plan", severity="warning", message=PLAN_NO_CHARACTERS))
    outline = "\n\n".join(f"{part.title}. {part.goal}" for part in plan.parts)
    findings.extend(check_names(outline, plan.bible))
    return sorted(findings, key=lambda finding: finding.severity != "error")


def best_draft(drafts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The draft to keep when the loop ends unapproved: fewest errors, then fewest warnings,
    then the latest (later drafts have addressed more of the critic's advice)."""
    indexed = list(enumerate(drafts))
    _, best = min(indexed, key=lambda item: (item[1]["errors"], item[1]["warnings"], -item[0]))
    return best


def merge_bible(bible: Bible, update: BibleUpdate) -> Bible:
    """The bible plus what a part added; names already present are not added twice."""
    known = {character.name.casefold() for character in bible.characters}
    characters = list(bible.characters)
    for character in update.new_characters:
        if character.name.casefold() not in known:
            known.add(character.name.casefold())
            characters.append(character)
    places = list(bible.places)
    places += [
        p
        for p in update.new_places
        if p.strip() and p.casefold() not in {x.casefold() for x in places}
    ]
    facts = list(bible.facts) + [
        fact for fact in update.new_facts if fact.strip() and fact not in bible.facts
    ]
    return Bible(characters=characters, places=places, facts=facts, style=bible.style)


# --- formatting for prompts -----------------------------------------------------------


def describe_bible(bible: Bible) -> str:
    """The bible as short readable lines for a prompt."""
    lines: list[str] = []
    if bible.characters:
        lines.append("Characters:")
        for character in bible.characters:
            aliases = f" (also: {', '.join(character.aliases)})" if character.aliases else ""
            traits = f": {', '.join(character.traits)}" if character.traits else ""
            lines.append(f"- {character.name}{aliases}{traits}")
    if bible.places:
        lines.append(f"Places: {', '.join(bible.places)}")
    if bible.facts:
        lines.append("Facts:")
        lines.extend(f"- {fact}" for fact in bible.facts)
    if bible.style:
        lines.append(f"Style: {bible.style}")
    return "\n".join(lines) or prompts.NOTHING_YET


def describe_outline(plan: StoryPlan) -> str:
    """The outline as numbered lines."""
    lines = []
    for number, part in enumerate(plan.parts, start=1):
        length = f" (about {part.target_words} words)" if part.target_words else ""
        lines.append(f"{number}. {part.title}: {part.goal}{length}")
    return "\n".join(lines)


def describe_findings(findings: Sequence[Finding]) -> str:
    """Findings as ``- [severity, check] message`` lines."""
    if not findings:
        return prompts.NO_FINDINGS
    return "\n".join(f"- [{f.severity}, {f.check}] {f.message}" for f in findings)


def interpret_review(
    value: Any, plan: StoryPlan, max_parts: int
) -> tuple[str, StoryPlan | str | None]:
    """Read a person's answer to the plan review (see :func:`review_plan`).

    Args:
        value: The value the run was resumed with.
        plan: The plan in force; dict edits are merged over it.
        max_parts: The cap on parts (``Settings.max_parts``).

    Returns:
        ``(outcome, detail)``: ``("approved", None)``, ``("stopped", None)``,
        ``("edited", new_plan)``, ``("feedback", text)`` or ``("invalid", problem)``.
    """
    if value is None or value is True:
        return "approved", None
    if value is False:
        return "stopped", None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"", "ok", "yes", "y", "approve", "approved", "go", "continue"}:
            return "approved", None
        if lowered in {"no", "n", "stop", "reject", "cancel", "abort"}:
            return "stopped", None
        return "feedback", value.strip()
    if isinstance(value, dict) and "decisions" in value:
        return _interpret_decision(value["decisions"], plan, max_parts)
    if isinstance(value, dict):
        edits = value.get("plan", value)
        if not isinstance(edits, dict):
            return "invalid", "'plan' must be an object with title, parts and bible"
        unknown = set(edits) - set(StoryPlan.model_fields)
        if unknown:
            return (
                "invalid",
                f"unknown field(s) {', '.join(sorted(unknown))}; use title, parts, bible",
            )
        try:
            edited = StoryPlan.model_validate({**plan.model_dump(), **edits})
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            return "invalid", f"{where}: {first['msg']}"
        if len(edited.parts) > max_parts:
            return "invalid", f"{len(edited.parts)} parts is more than max_parts ({max_parts})"
        return "edited", edited
    return "invalid", f"a {type(value).__name__} is not a review answer"


def _interpret_decision(
    decisions: Any, plan: StoryPlan, max_parts: int
) -> tuple[str, StoryPlan | str | None]:
    """A human-in-the-loop answer (``{"decisions": [...]}``, as agent-chat-ui sends it).

    ``approve`` goes on, ``edit`` applies ``edited_action.args`` as plan edits, ``reject``
    with a message is feedback for the planner and ``reject`` without one stops.
    """
    if not isinstance(decisions, list) or not decisions or not isinstance(decisions[0], dict):
        return "invalid", "'decisions' must be a list holding one decision object"
    decision = decisions[0]
    kind = decision.get("type")
    if kind == "approve":
        return "approved", None
    if kind == "reject":
        message = decision.get("message")
        if isinstance(message, str) and message.strip():
            return "feedback", message.strip()
        return "stopped", None
    if kind == "edit":
        action = decision.get("edited_action")
        args = action.get("args") if isinstance(action, dict) else None
        if not isinstance(args, dict):
            return "invalid", "an edit decision needs edited_action.args (title, parts, bible)"
        return interpret_review(args, plan, max_parts)
    return "invalid", f"unknown decision type {kind!r}; use approve, edit or reject"
