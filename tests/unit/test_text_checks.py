"""Tests for the writer critic's deterministic text checks (``crossroads.tools.text_checks``)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from crossroads.errors import InputError
from crossroads.tools.text_checks import (
    MAX_LISTED_NEW_NAMES,
    MAX_REPORTED_MISSPELLINGS,
    Bible,
    Character,
    Finding,
    check_format,
    check_length,
    check_names,
    check_spelling,
    extract_names,
    has_errors,
    run_checks,
)

BIBLE = Bible(
    characters=[
        Character(name="Mira Vale", aliases=["Captain Vale"], traits=["red-haired", "pilot"]),
        Character(name="Tom", traits=["blacksmith"]),
    ],
    places=["Eldmoor", "Greyhaven"],
    facts=["The war of Harrowgate ended in 1204.", "Sailors drink kelpwine."],
    style="Third person, past tense.",
)

CONSISTENT_PART = (
    "Mira Vale climbed into the cockpit before dawn. Tom waved from the forge in Eldmoor, "
    'his hammer still in hand. "Then go," he said. "Greyhaven will not wait."\n\n'
    "Mira's hands were steady on the controls. Suddenly the engine coughed, and Captain Vale "
    "laughed, because the old war of Harrowgate had taught her worse. However, the sky "
    "stayed clear, and she drank the last of her kelpwine."
)


def severities(findings: list[Finding]) -> list[str]:
    return [finding.severity for finding in findings]


def messages(findings: list[Finding]) -> str:
    return "\n".join(finding.message for finding in findings)


# --- extract_names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Later, Mira Vale walked to the Old Mill.", {"Mira Vale", "Old Mill"}),
        ("The Old Mill stood still.", {"Old Mill"}),
        ("Suddenly the door opened. Then it closed. However, nobody came.", set()),
        ('"Come here," she said. "Quickly!"', set()),
        ('She whispered, "Come quickly."', set()),  # an opening quote starts a sentence
        ("Kessa left. She never returned.", {"Kessa"}),  # not an English word: a name
        ("Elena left. She never returned.", set()),  # a rare dictionary word, starts only
        ("Elena left. Later, Tom followed Elena.", {"Elena", "Tom"}),
        ("Meanwhile Greyhaven slept.", {"Greyhaven"}),
        ("Mara left. A mara is a rodent.", set()),  # seen in lower case: an ordinary word
        ("Teh end came.", set()),  # a typo of "the", not a name
        ("Later, Mira's ship left before Tom's did.", {"Mira", "Tom"}),
        ("She met Dr. Rose today.", {"Rose"}),  # "Dr." does not end the sentence
        ("NASA called and I answered, but I'm tired.", set()),
        ("Later, Tomas met Mira Vale at the gate.", {"Tomas", "Mira Vale"}),
        ("Tomas met Mira Vale at the gate.", {"Mira Vale"}),  # "tomas" is a dictionary word
        ("", set()),
    ],
)
def test_extract_names(text: str, expected: set[str]) -> None:
    assert extract_names(text) == expected


def test_extract_names_rejects_non_text() -> None:
    with pytest.raises(InputError, match="must be a string, got int"):
        extract_names(42)  # type: ignore[arg-type]


# --- check_names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found", "count"),
    [
        ("Later, Mara climbed in. The crew saluted Mara while Mara smiled.", "Mara", "3 times"),
        ("Mara climbed in. Mara smiled. Mara waved at Tom.", "Mara", "3 times"),  # starts only
        ("Miriam climbed into the cockpit while Tom watched.", "Miriam", "once"),
        ("The crew saluted Mirra's ship.", "Mirra", "once"),
        ("Tom watched Mira Vael take off.", "Vael", "once"),
    ],
)
def test_renamed_character_is_an_error(text: str, found: str, count: str) -> None:
    findings = check_names(text, BIBLE)

    errors = [finding for finding in findings if finding.severity == "error"]
    assert len(errors) == 1
    assert f"'{found}' appears {count}" in errors[0].message
    assert "Mira Vale" in errors[0].message
    assert errors[0].check == "names"


def test_renamed_message_says_which_name_to_use() -> None:
    findings = check_names("Later, Mara climbed in. Tom saluted Mara.", BIBLE)

    assert findings[0].message.startswith(
        "The bible calls this character 'Mira' (Mira Vale), but 'Mara' appears 2 times in this "
        "part; use 'Mira'."
    )


@pytest.mark.parametrize(
    "text",
    [
        CONSISTENT_PART,
        "Then Mira flew. Suddenly Tom ran. However, Eldmoor slept. Meanwhile Greyhaven burned.",
        "Captain Vale and Tom met in Greyhaven. Vale nodded.",
        "She met Dr. Tom in Eldmoor; Mira's ship was late.",
        "",
    ],
)
def test_consistent_text_has_no_name_findings(text: str) -> None:
    assert check_names(text, BIBLE) == []


def test_short_distinct_names_are_not_near_misses() -> None:
    # "Tim" vs "Tom" is a 0.67 ratio: a different person, so a warning at most.
    findings = check_names("Later, Tim helped Tom at the forge.", BIBLE)

    assert severities(findings) == ["warning"]
    assert "'Tim' (1)" in findings[0].message


def test_new_minor_name_is_only_a_warning() -> None:
    findings = check_names("Mira met Kessa and Kessa's brother at the Old Mill.", BIBLE)

    assert severities(findings) == ["warning"]
    assert "'Kessa' (2)" in findings[0].message
    assert "'Old Mill' (1)" in findings[0].message
    assert not has_errors(findings)


def test_new_names_list_is_capped() -> None:
    extra = MAX_LISTED_NEW_NAMES + 5
    names = [f"Zorb{'a' * index}x" for index in range(1, extra + 1)]
    findings = check_names("Mira met " + ", ".join(names) + ".", BIBLE)

    assert f"and {extra - MAX_LISTED_NEW_NAMES} more" in findings[0].message


def test_place_near_miss_is_a_warning() -> None:
    findings = check_names("Mira flew over Eldmore at dawn.", BIBLE)

    assert severities(findings) == ["warning"]
    assert "The bible has the place 'Eldmoor', but 'Eldmore' appears once" in findings[0].message


def test_new_name_with_a_characters_trait_is_flagged() -> None:
    text = "Elena, the red-haired pilot, climbed in while Tom watched. Later, Elena laughed."

    findings = check_names(text, BIBLE)

    assert severities(findings) == ["warning", "warning"]
    assert "'Elena' is described as 'red-haired', which the bible gives to 'Mira Vale'" in (
        findings[1].message
    )


def test_trait_next_to_the_character_herself_is_fine() -> None:
    findings = check_names("Mira, the red-haired pilot, waved to Elena.", BIBLE)

    assert [finding.message for finding in findings if "described as" in finding.message] == []


def test_new_name_recurring_where_no_character_appears_is_flagged() -> None:
    text = "Elena climbed in. Later, Elena laughed and waved at the crowd in Greyhaven. Elena left."

    findings = check_names(text, BIBLE)

    assert "None of the bible's characters ('Mira Vale', 'Tom')" in messages(findings)
    assert "'Elena' appears 3 times" in messages(findings)
    # One known character in the part removes the suspicion.
    assert "None of the bible's" not in messages(check_names(text + " Tom waved.", BIBLE))


def test_bible_may_be_a_mapping() -> None:
    bible = {"characters": [{"name": "Mira"}], "places": ["Eldmoor"]}

    assert severities(check_names("Later, Mara flew.", bible)) == ["error"]


def test_invalid_bible_is_a_clear_input_error() -> None:
    with pytest.raises(InputError, match=r"characters\.0\.name"):
        check_names("Mira flew.", {"characters": [{"aliases": ["M"]}]})


def test_character_needs_a_name() -> None:
    with pytest.raises(ValidationError):
        Character(name="   ")


# --- check_spelling -----------------------------------------------------------------------


def test_spelling_finds_typos_with_suggestions() -> None:
    findings = check_spelling("I did not recieve teh letter, and teh dog barked.")

    assert [finding.message for finding in findings] == [
        "'recieve' appears once and is not in the dictionary; did you mean 'receive'?",
        "'teh' appears 2 times and is not in the dictionary; did you mean 'the'?",
    ]
    assert severities(findings) == ["warning", "warning"]


def test_spelling_without_suggestion_says_what_to_do() -> None:
    findings = check_spelling("The engine made a qxvzrtplk sound.")

    assert "'qxvzrtplk'" in findings[0].message
    assert "check its spelling, or add it to the bible" in findings[0].message


@pytest.mark.parametrize(
    "text",
    [
        "She read the 3rd page 42 times in 2024.",
        "The Zorblat ship met the Qaxian fleet.",  # capitals mid-sentence: names
        "She bought an iPhone from NASA and McKay.",
        "The colour of the centre was grey; she realised they travelled far.",
        "Don't touch the dog's bowl. It’s Mira’s.",
        "Kessaly opened the hatch. Then Kessaly smiled.",  # a name, also mid-sentence
    ],
)
def test_spelling_ignores_names_numbers_and_variants(text: str) -> None:
    assert check_spelling(text) == []


def test_spelling_ignores_known_words() -> None:
    text = "Kessaly opened the hatch and poured kelpwine."

    assert len(check_spelling(text)) == 2
    assert check_spelling(text, known_words=["Kessaly", "kelpwine"]) == []
    assert len(check_spelling(text, known_words="kelpwine")) == 1  # a lone string is one word


@pytest.mark.parametrize(
    ("typos", "correct_words", "is_error"),
    [
        (5, 15, True),  # 25%
        (5, 195, False),  # 2.5%: a careless part, not a broken one
        (4, 6, False),  # 40%, but too few to be sure
    ],
)
def test_many_misspellings_are_an_error(typos: int, correct_words: int, is_error: bool) -> None:
    text = " ".join(["teh"] * typos + ["the"] * correct_words) + "."

    findings = check_spelling(text)

    assert has_errors(findings) is is_error
    if is_error:
        assert findings[0].message.startswith(f"{typos} of {typos + correct_words} checked words")


def test_reported_misspellings_are_capped() -> None:
    distinct = MAX_REPORTED_MISSPELLINGS + 10
    words = [f"zq{first}{second}v" for first in "bcdfg" for second in "hjklmnp"][:distinct]

    findings = check_spelling(" and ".join(words) + ".")

    per_word = [finding for finding in findings if "is not in the dictionary" in finding.message]
    assert len(per_word) == MAX_REPORTED_MISSPELLINGS
    assert findings[-1].message.startswith("10 more unknown words are not listed")


# --- check_length -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "min_words", "max_words", "expected"),
    [
        ("one two three", None, None, None),
        ("one two three", 3, 3, None),
        ("one two three — ... !", 3, 3, None),  # punctuation alone is not a word
        ("one two", 3, None, "This part has 2 words; it needs at least 3. Add about 1 words."),
        ("one two three four", None, 3, "This part has 4 words; the limit is 3. Cut about 1"),
        ("", 1, None, "This part has 0 words"),
    ],
)
def test_check_length(
    text: str, min_words: int | None, max_words: int | None, expected: str | None
) -> None:
    findings = check_length(text, min_words=min_words, max_words=max_words)

    if expected is None:
        assert findings == []
    else:
        assert severities(findings) == ["error"]
        assert findings[0].message.startswith(expected)


@pytest.mark.parametrize(
    ("min_words", "max_words", "message"),
    [
        (-1, None, "min_words must be a non-negative whole number"),
        (None, 2.5, "max_words must be a non-negative whole number"),
        (True, None, "min_words must be a non-negative whole number"),
        (10, 5, r"min_words \(10\) is larger than max_words \(5\)"),
    ],
)
def test_check_length_rejects_bad_limits(
    min_words: object, max_words: object, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        check_length("text", min_words=min_words, max_words=max_words)  # type: ignore[arg-type]


# --- check_format -------------------------------------------------------------------------

HAIKU = "An old silent pond\nA frog jumps into the pond\nSplash! Silence again"
EMAIL = "Subject: Friday\n\nDear Sam,\n\nThe meeting moved to Friday.\n\nBest regards,\nMira"
STORY_PARAGRAPH = " ".join(["The ship flew on."] * 40)  # 160 words


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("haiku", HAIKU, []),
        ("haiku", HAIKU.replace("\n", "\n\n"), []),  # blank lines are not lines
        ("haiku", HAIKU + "\nA second frog\nAnd a third", ["A haiku has exactly 3 lines"]),
        ("haiku", "An old silent pond", ["but this one has 1"]),
        ("email", EMAIL, []),
        ("email", "Hi Sam,\nSee you Friday.\nThanks,\nMira", []),
        ("email", "The meeting moved.\n\nBest regards,\nMira", ["no greeting"]),
        ("email", "Dear Sam,\nThe meeting moved.", ["no sign-off"]),
        ("email", "The meeting moved.", ["no greeting", "no sign-off"]),
        ("story", STORY_PARAGRAPH, ["one block of 160 words"]),
        ("story", STORY_PARAGRAPH + "\n\nThen it landed.", []),
        ("story", "The ship flew on. It landed.", []),  # short: one paragraph is fine
        ("poem", "Roses are red,\nviolets are blue.", []),
        ("poem", "Roses are red, violets are blue.", ["single line"]),
        ("list", "- eggs\n- milk", []),
        ("list", "1. eggs\n2) milk\n• bread", []),
        ("list", "Buy eggs and milk.", ["found 0"]),
        ("story", "  \n ", ["The text is empty; write the story."]),
    ],
)
def test_check_format(kind: str, text: str, expected: list[str]) -> None:
    findings = check_format(text, kind=kind)  # type: ignore[arg-type]

    assert len(findings) == len(expected)
    for finding, fragment in zip(findings, expected, strict=True):
        assert finding.severity == "error"
        assert fragment in finding.message


def test_poem_with_prose_lines_gets_a_warning() -> None:
    findings = check_format("Short line\n" + " ".join(["word"] * 30), kind="poem")

    assert severities(findings) == ["warning"]
    assert "more than 25 words" in findings[0].message


def test_no_kind_means_no_format_check() -> None:
    assert check_format("anything at all", kind=None) == []


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(InputError, match="Unknown format kind 'sonnet'; use one of haiku, email"):
        check_format("text", kind="sonnet")  # type: ignore[arg-type]


# --- run_checks and has_errors ------------------------------------------------------------


def test_consistent_part_passes() -> None:
    findings = run_checks(CONSISTENT_PART, BIBLE, min_words=20, max_words=200, kind="story")

    assert findings == []
    assert not has_errors(findings)


def test_run_checks_puts_errors_first() -> None:
    text = "Later, Mara flew over Eldmoor with Kessa. Teh end."

    findings = run_checks(text, BIBLE, max_words=5)

    assert severities(findings) == ["error", "error", "warning", "warning"]
    assert {finding.check for finding in findings} == {"length", "names", "spelling"}
    assert has_errors(findings)


def test_run_checks_sorts_a_later_checks_error_before_earlier_warnings() -> None:
    # The names check runs before spelling; its warning must still follow spelling's error.
    findings = run_checks("Later, Mira met Kessa at teh teh teh teh teh gate.", BIBLE)

    assert [(finding.check, finding.severity) for finding in findings[:2]] == [
        ("spelling", "error"),
        ("names", "warning"),
    ]


def test_run_checks_accepts_bible_words_in_spelling() -> None:
    bible = Bible(characters=[Character(name="Zyxara")], facts=["Sailors drink kelpwine."])
    text = "Zyxara opened the hatch and poured kelpwine."

    assert run_checks(text, bible) == []
    assert len(check_spelling(text)) == 2  # the same text without the bible's words


def test_has_errors() -> None:
    warning = Finding(check="spelling", severity="warning", message="w")
    error = Finding(check="names", severity="error", message="e")

    assert not has_errors([])
    assert not has_errors([warning])
    assert has_errors([warning, error])


def test_long_text_is_bounded() -> None:
    paragraph = CONSISTENT_PART + " Later, Mara and Kessa met teh crew.\n\n"
    text = (paragraph * (100_000 // len(paragraph) + 1))[:100_000]
    run_checks("warm up the dictionary", BIBLE)

    started = time.perf_counter()
    findings = run_checks(text, BIBLE, max_words=100, kind="story")
    elapsed = time.perf_counter() - started

    # A safety bound, not a benchmark: the measured time is well under half a second.
    assert elapsed < 5.0
    assert has_errors(findings)
    assert len(findings) < 10


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=300),
    kind=st.sampled_from([None, "haiku", "email", "story", "poem", "list"]),
)
def test_any_text_gives_findings_not_exceptions(text: str, kind: str | None) -> None:
    findings = run_checks(text, BIBLE, min_words=1, max_words=50, kind=kind)  # type: ignore[arg-type]

    assert all(finding.severity in {"error", "warning"} for finding in findings)


def test_a_common_word_near_a_name_is_only_a_warning() -> None:
    # "Storm" is one edit-ratio step from "Tom" but is an English word (a part title here).
    bible = Bible(characters=[Character(name="Tom")])
    findings = check_names("Part 2: The Storm. Tom ran to the harbour.", bible)
    assert findings and all(f.severity == "warning" for f in findings)
    renamed = check_names("Mara ran to the harbour.", Bible(characters=[Character(name="Mira")]))
    assert [f.severity for f in renamed] == ["error"]
