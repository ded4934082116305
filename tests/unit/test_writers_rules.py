"""The writing team's deterministic rules: request shape, verdict guard, drafts, bible merge."""

from __future__ import annotations

import pytest

from crossroads.agents.writers_rules import (
    BibleUpdate,
    PartPlan,
    RequestShape,
    StoryPlan,
    Verdict,
    best_draft,
    check_plan,
    classify_request,
    enforce_verdict,
    interpret_review,
    merge_bible,
    part_limits,
)
from crossroads.tools.text_checks import Bible, Character, Finding, Severity

BIBLE = Bible(
    characters=[Character(name="Mira", traits=["lighthouse keeper"]), Character(name="Tom")],
    places=["Eldmoor"],
)


@pytest.mark.parametrize(
    ("request_text", "short", "form", "kind", "parts"),
    [
        ("write a haiku about rain", True, "haiku", "haiku", 1),
        ("Reply to this email politely: Hi, can we meet Monday?", True, "email", "email", 1),
        ("reply to my friend's message saying I can't come", True, "reply", None, 1),
        ("a limerick about a cat", True, "limerick", "poem", 1),
        ("Write a poem that tells the story of a river", True, "poem", "poem", 1),
        ("tweet about our launch", True, "tweet", None, 1),
        ("describe autumn in one sentence", True, "sentence", None, 1),
        ("hi, how are you?", True, None, None, 1),
        ("give me advice on learning the piano", True, None, None, 1),
        ("Tell me a story about a dragon named Ada", False, "story", "story", None),
        ("write an essay on bridges", False, "essay", None, None),
        ("Write a story in three parts about a lighthouse keeper", False, None, "story", 3),
        ("a 5-part story about pirates", False, None, "story", 5),
        ("a poem in 4 parts", False, None, None, 4),  # an explicit count beats the short form
        ("a story in 40 chapters", False, None, "story", 8),  # capped by max_parts
    ],
)
def test_classify_request(
    request_text: str, short: bool, form: str | None, kind: str | None, parts: int | None
) -> None:
    shape = classify_request(request_text, max_parts=8)
    assert (shape.short, shape.form, shape.kind, shape.parts) == (short, form, kind, parts)
    assert shape.rule


def test_classify_request_reads_a_word_count() -> None:
    shape = classify_request("write a 100-word story about a fox", max_parts=8)
    assert shape.words == 100 and not shape.short
    tweet = classify_request("a tweet of 40 words about tea", max_parts=8)
    assert tweet.short and tweet.max_words == 60  # 1.5 x the asked length


def test_part_limits_follow_the_plan_with_a_margin() -> None:
    long_shape = classify_request("a story in 2 parts", max_parts=8)
    assert part_limits(PartPlan(title="a", goal="b", target_words=100), long_shape, parts=2) == (
        50,
        200,
    )
    assert part_limits(PartPlan(title="a", goal="b"), long_shape, parts=2) == (None, None)
    haiku = classify_request("a haiku", max_parts=8)
    assert part_limits(PartPlan(title="", goal="a haiku"), haiku, parts=1) == (None, None)


def _finding(severity: Severity, check: str = "names") -> Finding:
    return Finding(check=check, severity=severity, message=f"{check} {severity} message")


def test_enforce_verdict_never_approves_an_error_finding() -> None:
    verdict, issues, overridden = enforce_verdict(
        Verdict(verdict="approve"), [_finding("error"), _finding("warning", "spelling")]
    )
    assert verdict == "revise" and overridden
    assert issues == ["[names check] names error message"]  # warnings stay advice


def test_enforce_verdict_keeps_the_models_own_issues() -> None:
    verdict, issues, overridden = enforce_verdict(
        Verdict(verdict="revise", issues=["slow start", " "]), [_finding("error", "length")]
    )
    assert (verdict, overridden) == ("revise", False)
    assert issues == ["[length check] length error message", "slow start"]


def test_enforce_verdict_without_errors_follows_the_model() -> None:
    assert enforce_verdict(Verdict(verdict="approve"), [_finding("warning")]) == (
        "approve",
        [],
        False,
    )
    verdict, issues, _ = enforce_verdict(Verdict(verdict="revise"), [])
    assert verdict == "revise" and issues  # a bare "revise" still tells the writer something
    # An unusable critic reply: the deterministic checks decide alone.
    assert enforce_verdict(None, [])[0] == "approve"
    assert enforce_verdict(None, [_finding("error")])[0] == "revise"


def test_best_draft_has_fewest_errors_then_warnings_then_is_latest() -> None:
    drafts = [
        {"text": "a", "errors": 2, "warnings": 0, "issues": []},
        {"text": "b", "errors": 1, "warnings": 3, "issues": []},
        {"text": "c", "errors": 1, "warnings": 1, "issues": []},
        {"text": "d", "errors": 1, "warnings": 1, "issues": []},
    ]
    assert best_draft(drafts)["text"] == "d"


def test_check_plan_counts_parts_and_checks_names() -> None:
    shape = RequestShape(False, None, "story", 3, None, None, "explicit part count")
    plan = StoryPlan(
        title="T",
        parts=[PartPlan(title="One", goal="Later, Mara lights the lamp for Tom.")] * 2,
        bible=BIBLE,
    )
    findings = check_plan(plan, shape)
    errors = [finding for finding in findings if finding.severity == "error"]
    assert {finding.check for finding in errors} == {"plan", "names"}
    assert any("exactly 3 parts" in finding.message for finding in errors)
    assert any("'Mara'" in finding.message for finding in errors)


def test_merge_bible_adds_only_what_is_new() -> None:
    update = BibleUpdate(
        summary="s",
        new_characters=[Character(name="mira"), Character(name="Ada", traits=["smith"])],
        new_places=["Eldmoor", "Harbour Row"],
        new_facts=["The lamp burns oil."],
    )
    merged = merge_bible(BIBLE, update)
    assert [character.name for character in merged.characters] == ["Mira", "Tom", "Ada"]
    assert merged.places == ["Eldmoor", "Harbour Row"]
    assert merged.facts == ["The lamp burns oil."]


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        (True, "approved"),
        (None, "approved"),
        ("ok", "approved"),
        (False, "stopped"),
        ("stop", "stopped"),
        ("make the hero a cat", "feedback"),
        ({"title": "New"}, "edited"),
        ({"plan": {"title": "New"}}, "edited"),
        ({"parts": []}, "invalid"),
        ({"colour": "red"}, "invalid"),
        ({"parts": [{"title": "x", "goal": "y"}] * 9}, "invalid"),  # more than max_parts
        (42, "invalid"),
    ],
)
def test_review_values(value: object, outcome: str) -> None:
    plan = StoryPlan(title="Old", parts=[PartPlan(title="a", goal="b")], bible=BIBLE)
    got, result = interpret_review(value, plan, 8)
    assert got == outcome
    if outcome == "edited":
        assert isinstance(result, StoryPlan) and result.title == "New"
        assert result.bible == BIBLE  # edits merge over the plan in force
    if outcome == "invalid":
        assert isinstance(result, str) and result
