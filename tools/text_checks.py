"""Deterministic text checks for the writers' critic: names, spelling, length and format.

The writing team (creative → planner → critic → writer) keeps a shared :class:`Bible` of
characters, places, facts and style. A language model is bad at noticing that "Mira" became
"Mara" three pages later, or at counting words, so the critic runs these plain functions
first and combines their :class:`Finding` objects with its own reading. A part with any
finding of severity ``"error"`` cannot be approved (:func:`has_errors`); warnings are
advice the critic may pass on.

Typical use::

    from crossroads.tools.text_checks import Bible, Character, has_errors, run_checks

    bible = Bible(characters=[Character(name="Mira", traits=["red-haired"])], places=["Eldmoor"])
    findings = run_checks(part_text, bible, max_words=400, kind="story")
    if has_errors(findings):
        feedback = "\\n".join(finding.message for finding in findings)

Design notes:

* Everything is deterministic and bounded: one linear pass of a regular expression over the
  text, set look-ups, and a capped number of expensive steps (similarity ratios only between
  distinct capitalised words and bible names; spelling suggestions for at most
  :data:`MAX_REPORTED_MISSPELLINGS` words, at edit distance 1). No LLM, no network.
* Sentence starts are found from punctuation, line breaks and opening quotes, so an ordinary
  word capitalised because it starts a sentence ("Then", "Suddenly") is not taken for a name.
  A capitalised word seen only at sentence starts is a name when it is not in the English
  dictionary and is not a typo of a very common word ("Kessa", not "Teh"). A rare dictionary
  word there ("Mara", but also "Meanwhile") is only a *possible* name: it is compared with
  the bible's names, which catches "Mara" for "Mira", but not reported as a new name. Words
  at least as frequent as :data:`COMMON_WORD_MIN_FREQUENCY`, or also seen in lower case in
  the same text, are ordinary words.
* Name consistency works on single words: a capitalised word that is not in the bible but is
  close to a character's name (``difflib`` ratio at least :data:`NEAR_MISS_MIN_RATIO`) is an
  error ("Mara" for "Mira", "Miriam" for "Mira"); close to a place, a warning (places are more
  often legitimately alike). New names are warnings. A new name described in the same sentence
  with a trait the bible gives to a character who is not mentioned there is reported as a
  possible renaming (warning): the role check the model should confirm.
* String similarity uses ``difflib`` from the standard library (rapidfuzz is not a
  dependency; the number of comparisons is small, so speed does not call for it).
* Spelling uses pyspellchecker's English (US) dictionary, accepts common British spellings
  ("colour", "realised"), and skips numbers, bible names, words capitalised mid-sentence and
  words with inner capitals.

Limits, said plainly: multiword names are runs of capitalised words ("Mira Vale", "Old Mill"),
so "Duke of York" yields two names; a name that is also an English word and appears only at
sentence starts ("Elena left.") is not reported as new; traits are matched as literal
phrases; haiku syllables are not counted.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from spellchecker import SpellChecker

from crossroads.errors import InputError

__all__ = [
    "Bible",
    "Character",
    "Finding",
    "FormatKind",
    "Severity",
    "check_format",
    "check_length",
    "check_names",
    "check_spelling",
    "extract_names",
    "has_errors",
    "run_checks",
]

Severity = Literal["error", "warning"]
FormatKind = Literal["haiku", "email", "story", "poem", "list"]

# --- Tunable limits (module constants so callers and tests can refer to them) -------------

NEAR_MISS_MIN_RATIO = 0.75
"""``difflib`` ratio from which a new name counts as a misspelling of a bible name.

0.75 is exactly one changed letter in a four-letter name ("Mira"/"Mara") and accepts a
lengthened form ("Mira"/"Miriam" is 0.8), while "Tom"/"Tim" (0.67) stay distinct people."""

MIN_NAME_LENGTH = 3
"""Shorter capitalised words ("Jo", "Al") are too ambiguous to compare as names."""

COMMON_WORD_MIN_FREQUENCY = 10_000
"""Dictionary frequency from which a capitalised word seen only at sentence starts is taken
for an ordinary word. Measured in pyspellchecker 0.9's English list: "well" and "as" are in
the millions, rarer names ("mara" 302, "elena" 1,167) are far below."""

TYPO_SOURCE_MIN_FREQUENCY = 1_000_000
"""An unknown sentence-initial word one edit away from a word this frequent ("Teh", "Wehn")
is a typo of an ordinary word, left to the spelling check, not a new name."""

MAX_LISTED_NEW_NAMES = 10
"""How many names outside the bible one warning lists (most frequent first)."""

ROLE_SWAP_MIN_MENTIONS = 3
"""A new name this frequent in a part that mentions no bible character may stand in for one."""

MAX_REPORTED_MISSPELLINGS = 20
"""Distinct misspelled words reported one by one (each costs a suggestion look-up)."""

MAX_CHECKED_WORD_LENGTH = 30
"""Longer tokens are URLs, code or deliberate noise; checking them only costs time."""

MISSPELLING_ERROR_MIN_COUNT = 5
MISSPELLING_ERROR_MIN_RATE = 0.05
"""Many misspellings make an error: at least 5 misspelled occurrences that are also at least
5% of the checked words. A stray typo in a long part stays a warning; a part where one word
in twenty is unknown is broken (wrong language, garbled output) and must be rewritten."""

STORY_SINGLE_PARAGRAPH_MAX_WORDS = 150
"""A story longer than this must be split into paragraphs (blank lines between them)."""

LONG_LINE_MAX_WORDS = 25
"""A poem line longer than this reads as prose (warning)."""

# --- Error and finding texts --------------------------------------------------------------

TEXT_NOT_STRING = "The text to check must be a string, got {type_name}."
BIBLE_INVALID = "The bible is not valid: {details}. Pass a Bible or a mapping with its fields."
WORD_LIMIT_INVALID = "{name} must be a non-negative whole number or None, got {value!r}."
WORD_LIMITS_CROSSED = "min_words ({min_words}) is larger than max_words ({max_words})."
KIND_UNKNOWN = "Unknown format kind {kind!r}; use one of {kinds} or None."

NAME_NEAR_MISS = (
    "The bible calls this character {expected!r}{full_name_note}, but {found!r} appears "
    "{count} in this part; use {expected!r}. If {found!r} is a nickname, add it to the "
    "bible as an alias; if it is a different character, add them to the bible."
)
PLACE_NEAR_MISS = (
    "The bible has the place {expected!r}, but {found!r} appears {count} in this part; "
    "use {expected!r} if it is the same place."
)
NEW_NAMES = (
    "Names not in the bible: {names}. If any of them recurs, add it to the bible; if one is "
    "a known character under another name, use the bible's name."
)
ROLE_TRAIT_MATCH = (
    "{found!r} is described as {trait!r}, which the bible gives to {character!r}, who is not "
    "named in that sentence. If this is {character!r}, use that name; if {found!r} is a new "
    "character, add them to the bible."
)
ROLE_NO_KNOWN_CHARACTER = (
    "None of the bible's characters ({characters}) is named in this part, but {found!r} "
    "appears {count}. If {found!r} is one of them, use the bible's name; otherwise add "
    "{found!r} to the bible."
)
MISSPELLING = "{word!r} appears {count} and is not in the dictionary; {advice}"
MISSPELLING_SUGGESTION = "did you mean {suggestion!r}?"
MISSPELLING_NO_SUGGESTION = "check its spelling, or add it to the bible if it is a name."
MISSPELLINGS_NOT_LISTED = "{remaining} more unknown words are not listed; fix the ones above first."
MISSPELLINGS_TOO_MANY = (
    "{count} of {checked} checked words ({rate:.0%}) are not in the dictionary; rewrite the "
    "part in plain, correctly spelled English."
)
TOO_SHORT = "This part has {count} words; it needs at least {min_words}. Add about {gap} words."
TOO_LONG = "This part has {count} words; the limit is {max_words}. Cut about {gap} words."
EMPTY_TEXT = "The text is empty; write the {kind}."
HAIKU_LINE_COUNT = (
    "A haiku has exactly 3 lines, but this one has {count}; write it as 3 lines "
    "(about 5, 7 and 5 syllables)."
)
EMAIL_NO_GREETING = "The email has no greeting; start with a line such as 'Dear Sam,' or 'Hi Sam,'."
EMAIL_NO_SIGN_OFF = (
    "The email has no sign-off; end with a line such as 'Best regards,' followed by a name."
)
STORY_NO_PARAGRAPHS = (
    "The story is one block of {count} words; split it into paragraphs separated by blank lines."
)
POEM_ONE_LINE = "A poem is written in lines, but this one is a single line; break it into lines."
POEM_LONG_LINES = (
    "{count} line(s) of this poem have more than {max_words} words and read like prose; "
    "break them into shorter lines."
)
LIST_TOO_FEW_ITEMS = (
    "A list needs at least 2 items, each on its own line starting with '-', '*' or '1.'; "
    "found {count}."
)


class Character(BaseModel):
    """A character as the bible records them."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, description="The name the story uses, e.g. 'Mira Vale'.")
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names or epithets used for the character, e.g. 'Captain Vale'.",
    )
    traits: list[str] = Field(
        default_factory=list,
        description="Short, literal descriptions, e.g. 'red-haired', 'pilot', 'left-handed'.",
    )


class Bible(BaseModel):
    """The writers' shared memory: who and what exists in the story, and how it is told."""

    model_config = ConfigDict(str_strip_whitespace=True)

    characters: list[Character] = Field(default_factory=list, description="The cast.")
    places: list[str] = Field(default_factory=list, description="Named places, e.g. 'Eldmoor'.")
    facts: list[str] = Field(
        default_factory=list, description="Established facts every part must respect."
    )
    style: str = Field(default="", description="Voice, tense, tone and audience.")


class Finding(BaseModel):
    """One problem a check found, written for the writer model to act on."""

    model_config = ConfigDict(frozen=True)

    check: str = Field(description="Which check found it: names, spelling, length or format.")
    severity: Severity = Field(description="'error' blocks approval; 'warning' is advice.")
    message: str = Field(description="What is wrong and what to do about it.")


# --- Tokenising ---------------------------------------------------------------------------

# Words are runs of word characters with inner apostrophes ("don't", "O'Brien"); hyphens
# split words so each half of "red-haired" is checked on its own.
_WORD_PATTERN = re.compile(r"\w+(?:['’]\w+)*")
_POSSESSIVE_SUFFIX = re.compile(r"['’]s$", re.IGNORECASE)
_SENTENCE_END_PUNCTUATION = re.compile(r"[!?…:]")
_OPENING_MARKS = frozenset("\"“‘'([{«")
# A full stop after these does not end a sentence ("Dr. Vale", "e.g. this").
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "prof", "capt", "col", "gen", "lt", "sgt", "jr", "sr", "vs"}
)
_LOWERCASE_ABBREVIATIONS = frozenset({"e", "g", "i"})


@dataclass(frozen=True)
class _Token:
    """A word of the text with where it is and whether it opens a sentence."""

    text: str
    start: int
    sentence_initial: bool
    # Whether only spaces separate it from the previous word (runs of names need this).
    joined_to_previous: bool


def _tokenize(text: str) -> list[_Token]:
    """Split ``text`` into words, marking the ones that start a sentence or a line."""
    tokens: list[_Token] = []
    previous_end = 0
    previous_word = ""
    for match in _WORD_PATTERN.finditer(text):
        gap = text[previous_end : match.start()]
        if not tokens or "\n" in gap or _SENTENCE_END_PUNCTUATION.search(gap):
            sentence_initial = True
        elif "." in gap:
            sentence_initial = not (
                previous_word.lower() in _ABBREVIATIONS or previous_word in _LOWERCASE_ABBREVIATIONS
            )
        else:
            # An opening quote or bracket right before the word starts quoted speech.
            sentence_initial = bool(gap) and gap[-1] in _OPENING_MARKS
        tokens.append(
            _Token(
                text=match.group(),
                start=match.start(),
                sentence_initial=sentence_initial,
                joined_to_previous=bool(tokens) and gap.isspace() and "\n" not in gap,
            )
        )
        previous_end = match.end()
        previous_word = match.group()
    return tokens


def _base_form(word: str) -> str:
    """``word`` without a possessive "'s" and with a typographic apostrophe made plain."""
    return _POSSESSIVE_SUFFIX.sub("", word).replace("’", "'")


def _is_capitalised_word(word: str) -> bool:
    """True for "Mira" or "O'Brien"; false for "mira", "NASA", "I" and "I'm"."""
    if not word[0].isupper() or any(character.isdigit() or character == "_" for character in word):
        return False
    if word == "I" or word[:2] in {"I'", "I’"}:
        return False
    letters = [character for character in word if character.isalpha()]
    # All capitals is shouting or an acronym, not a name written the usual way.
    return not (len(letters) > 1 and all(character.isupper() for character in letters))


@functools.lru_cache(maxsize=1)
def _english_dictionary() -> SpellChecker:
    """The English spell checker, loaded once (about 0.15 s) and shared.

    Distance 1 keeps suggestions cheap (about a millisecond); at distance 2 an unknown
    long word costs up to a second and a half in pyspellchecker 0.9.
    """
    return SpellChecker(language="en", distance=1)


def _word_frequency(word: str) -> int:
    """How often ``word`` (lower case) occurs in the dictionary's corpus; 0 when unknown."""
    frequencies: dict[str, int] = _english_dictionary().word_frequency.dictionary
    return frequencies.get(word.lower(), 0)


@dataclass
class _NameUse:
    """How a capitalised word is used in one text."""

    count: int = 0
    mid_sentence_count: int = 0


def _is_name_word(word: str) -> bool:
    """A capitalised word that may be (part of) a name; titles such as "Dr" are not."""
    return _is_capitalised_word(word) and _base_form(word).lower() not in _ABBREVIATIONS


def _capitalised_uses(tokens: Sequence[_Token]) -> dict[str, _NameUse]:
    """Capitalised words (possessives folded in) with how often and where they occur."""
    uses: dict[str, _NameUse] = {}
    for token in tokens:
        if not _is_name_word(token.text):
            continue
        use = uses.setdefault(_base_form(token.text), _NameUse())
        use.count += 1
        if not token.sentence_initial:
            use.mid_sentence_count += 1
    return uses


def _lowercase_words(tokens: Sequence[_Token]) -> set[str]:
    """The words of the text that appear in lower case at least once."""
    return {_base_form(token.text) for token in tokens if token.text.islower()}


@functools.lru_cache(maxsize=1)
def _very_common_words() -> frozenset[str]:
    """The few hundred words so frequent that a near miss of one is a typo, not a name."""
    frequencies = _english_dictionary().word_frequency.dictionary
    return frozenset(
        word for word, count in frequencies.items() if count >= TYPO_SOURCE_MIN_FREQUENCY
    )


_NameEvidence = Literal["name", "possible name", "word"]


def _name_evidence(word: str, use: _NameUse, lowercase_words: set[str]) -> _NameEvidence:
    """How sure it is that a capitalised word is a name rather than a sentence-start capital.

    "name": capitalised mid-sentence somewhere, or an unknown word that is not a typo of a
    very common one. "possible name": seen only at sentence starts and a rare dictionary word
    ("Mara", but also "Meanwhile"), so good enough to compare with the bible's names but not
    to report as a new name. "word": an ordinary word, or a typo of one.
    """
    if use.mid_sentence_count:
        return "name"
    lowered = word.lower()
    if lowered in lowercase_words:
        return "word"
    frequency = _word_frequency(lowered)
    if frequency >= COMMON_WORD_MIN_FREQUENCY:
        return "word"
    if frequency > 0:
        return "possible name"
    near_words = _english_dictionary().edit_distance_1(lowered)
    return "name" if near_words.isdisjoint(_very_common_words()) else "word"


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise InputError(TEXT_NOT_STRING.format(type_name=type(text).__name__))
    return text


def _check_bible(bible: Bible | Mapping[str, Any]) -> Bible:
    if isinstance(bible, Bible):
        return bible
    try:
        return Bible.model_validate(bible)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'bible'}: {issue['msg']}"
            for issue in error.errors()
        )
        raise InputError(BIBLE_INVALID.format(details=details)) from error


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


# --- Names --------------------------------------------------------------------------------


def _name_runs(tokens: Sequence[_Token]) -> list[str]:
    """Every name occurrence in order, multiword names joined by one space."""
    uses = _capitalised_uses(tokens)
    lowercase_words = _lowercase_words(tokens)
    names: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            names.append(" ".join(run))
            run.clear()

    for token in tokens:
        word = _base_form(token.text)
        if not _is_name_word(token.text):
            close_run()
            continue
        if token.sentence_initial:
            close_run()
            if _name_evidence(word, uses[word], lowercase_words) == "name":
                run.append(word)
            continue
        if not token.joined_to_previous:
            close_run()
        run.append(word)
        # A possessive ends the name: "Mira's Old Ship" is Mira's ship, not one name.
        if word != token.text:
            close_run()
    close_run()
    return names


def extract_names(text: str) -> set[str]:
    """Find the names a text uses: capitalised words, joined into multiword names.

    Runs of capitalised words separated only by spaces make one name ("Mira Vale",
    "Old Mill"). A word capitalised only because it starts a sentence is left out ("The Old
    Mill" gives "Old Mill"); a sentence-initial word still counts when it is capitalised
    mid-sentence elsewhere in the text, or is not an English word and not a typo of a very
    common one ("Kessa left." gives "Kessa"; "Elena left." and "Teh end." give nothing).
    Possessives are folded ("Mira's" gives "Mira") and titles such as "Dr" are left out.

    Args:
        text: Any prose.

    Returns:
        The names found, each as written in the text.

    Raises:
        InputError: If ``text`` is not a string.
    """
    return set(_name_runs(_tokenize(_check_text(text))))


@dataclass(frozen=True)
class _BibleName:
    """One word of a bible name, and the entry it belongs to."""

    word: str
    entry: str
    is_character: bool


def _name_words(phrase: str) -> list[str]:
    return [
        _base_form(match.group())
        for match in _WORD_PATTERN.finditer(phrase)
        if _is_name_word(match.group())
    ]


def _bible_names(bible: Bible) -> tuple[list[_BibleName], set[str]]:
    """The bible's character and place name words, and every capitalised word it knows."""
    comparable: list[_BibleName] = []
    for character in bible.characters:
        for phrase in [character.name, *character.aliases]:
            comparable.extend(
                _BibleName(word=word, entry=character.name, is_character=True)
                for word in _name_words(phrase)
            )
    for place in bible.places:
        comparable.extend(
            _BibleName(word=word, entry=place, is_character=False) for word in _name_words(place)
        )
    known = {name.word.casefold() for name in comparable}
    # Names that only the facts mention ("the war of Harrowgate") are known entities too.
    for fact in bible.facts:
        known.update(word.casefold() for word in _name_words(fact))
    return comparable, known


def _closest_bible_name(word: str, bible_names: Sequence[_BibleName]) -> _BibleName | None:
    """The bible name ``word`` most resembles, if it is close enough to be a misspelling."""
    best: _BibleName | None = None
    best_ratio = NEAR_MISS_MIN_RATIO
    matcher = difflib.SequenceMatcher(b=word.casefold(), autojunk=False)
    for candidate in bible_names:
        if len(candidate.word) < MIN_NAME_LENGTH:
            continue
        matcher.set_seq1(candidate.word.casefold())
        # The quick ratios are upper bounds; skip the full computation when they rule it out.
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio or (best is None and ratio >= best_ratio):
            best, best_ratio = candidate, ratio
    return best


def _trait_patterns(bible: Bible) -> list[tuple[Character, str, re.Pattern[str]]]:
    patterns = []
    for character in bible.characters:
        for trait in character.traits:
            if len(trait) >= MIN_NAME_LENGTH:
                pattern = re.compile(rf"(?<!\w){re.escape(trait)}(?!\w)", re.IGNORECASE)
                patterns.append((character, trait, pattern))
    return patterns


def _sentences(text: str, tokens: Sequence[_Token]) -> list[tuple[str, list[_Token]]]:
    """The text cut at sentence starts, each piece with its tokens."""
    sentences: list[tuple[str, list[_Token]]] = []
    starts = [index for index, token in enumerate(tokens) if token.sentence_initial]
    for position, first in enumerate(starts):
        last = starts[position + 1] if position + 1 < len(starts) else len(tokens)
        end = tokens[last].start if last < len(tokens) else len(text)
        sentences.append((text[tokens[first].start : end], list(tokens[first:last])))
    return sentences


def check_names(text: str, bible: Bible | Mapping[str, Any]) -> list[Finding]:
    """Check that the text calls the bible's characters and places by their names.

    Errors: a capitalised word not in the bible that is a near miss of a character's name
    ("Mara" or "Miriam" for "Mira"). Warnings: a near miss of a place; names outside the bible;
    a new name given a character's trait in a sentence where that character is not named;
    a new name that recurs in a part where no bible character appears at all.

    Args:
        text: The part to check.
        bible: The shared bible (a :class:`Bible` or a mapping of its fields).

    Returns:
        The findings, errors first.

    Raises:
        InputError: If ``text`` is not a string or ``bible`` is not a valid bible.
    """
    text = _check_text(text)
    bible = _check_bible(bible)
    tokens = _tokenize(text)
    uses = _capitalised_uses(tokens)
    lowercase_words = _lowercase_words(tokens)
    bible_names, known = _bible_names(bible)

    errors: list[Finding] = []
    warnings: list[Finding] = []
    new_names: dict[str, int] = {}
    for word, use in uses.items():
        evidence = _name_evidence(word, use, lowercase_words)
        if word.casefold() in known or evidence == "word":
            continue
        closest = _closest_bible_name(word, bible_names) if len(word) >= MIN_NAME_LENGTH else None
        if closest is not None and closest.is_character:
            full_name_note = f" ({closest.entry})" if closest.entry != closest.word else ""
            message = NAME_NEAR_MISS.format(
                expected=closest.word,
                full_name_note=full_name_note,
                found=word,
                count=_times(use.count),
            )
            # A common English word ("Storm" near "Tom") is more likely a title or a word
            # than a renamed character: worth a look, not a blocking error.
            common = _word_frequency(word.casefold()) >= COMMON_WORD_MIN_FREQUENCY
            (warnings if common else errors).append(
                Finding(check="names", severity="warning" if common else "error", message=message)
            )
        elif closest is not None:
            message = PLACE_NEAR_MISS.format(
                expected=closest.entry, found=word, count=_times(use.count)
            )
            warnings.append(Finding(check="names", severity="warning", message=message))
        elif evidence == "name" and _word_frequency(word) < COMMON_WORD_MIN_FREQUENCY:
            # Frequent words capitalised mid-sentence are titles and the like ("Captain").
            new_names[word] = use.count

    if new_names:
        # List whole names ("Old Mill"), not their words, wherever a run holds a new word.
        full_names = Counter(
            name for name in _name_runs(tokens) if new_names.keys() & set(name.split(" "))
        )
        ranked = sorted(full_names.items(), key=lambda item: (-item[1], item[0]))
        listed = ", ".join(f"{name!r} ({count})" for name, count in ranked[:MAX_LISTED_NEW_NAMES])
        if len(ranked) > MAX_LISTED_NEW_NAMES:
            listed += f" and {len(ranked) - MAX_LISTED_NEW_NAMES} more"
        warnings.append(
            Finding(check="names", severity="warning", message=NEW_NAMES.format(names=listed))
        )
        warnings.extend(_role_findings(text, tokens, bible, new_names))
    return errors + warnings


def _role_findings(
    text: str, tokens: Sequence[_Token], bible: Bible, new_names: Mapping[str, int]
) -> list[Finding]:
    """Warnings where a new name seems to stand in for a bible character."""
    findings: list[Finding] = []
    character_words = {
        character.name: {
            word.casefold()
            for phrase in [character.name, *character.aliases]
            for word in _name_words(phrase)
        }
        for character in bible.characters
    }
    reported: set[tuple[str, str]] = set()
    trait_patterns = _trait_patterns(bible)
    sentences = _sentences(text, tokens) if trait_patterns else []
    for sentence, sentence_tokens in sentences:
        words = {_base_form(token.text) for token in sentence_tokens}
        present_new_names = sorted(words & new_names.keys())
        if not present_new_names:
            continue
        folded_words = {word.casefold() for word in words}
        for character, trait, pattern in trait_patterns:
            if folded_words & character_words[character.name] or not pattern.search(sentence):
                continue
            for found in present_new_names:
                if (found, character.name) not in reported:
                    reported.add((found, character.name))
                    message = ROLE_TRAIT_MATCH.format(
                        found=found, trait=trait, character=character.name
                    )
                    findings.append(Finding(check="names", severity="warning", message=message))

    all_tokens = {_base_form(token.text).casefold() for token in tokens}
    names_a_character = any(words & all_tokens for words in character_words.values())
    if bible.characters and not names_a_character:
        found, count = max(new_names.items(), key=lambda item: (item[1], item[0]))
        if count >= ROLE_SWAP_MIN_MENTIONS:
            characters = ", ".join(repr(character.name) for character in bible.characters)
            message = ROLE_NO_KNOWN_CHARACTER.format(
                characters=characters, found=found, count=_times(count)
            )
            findings.append(Finding(check="names", severity="warning", message=message))
    return findings


# --- Spelling -----------------------------------------------------------------------------

# US → British endings pyspellchecker's US list lacks; checked by mapping back to US.
_BRITISH_ENDINGS: tuple[tuple[str, str], ...] = (
    ("our", "or"),
    ("ours", "ors"),
    ("oured", "ored"),
    ("ouring", "oring"),
    ("ise", "ize"),
    ("ised", "ized"),
    ("ises", "izes"),
    ("ising", "izing"),
    ("isation", "ization"),
    ("isations", "izations"),
    ("yse", "yze"),
    ("ysed", "yzed"),
    ("tre", "ter"),
    ("tres", "ters"),
    ("lled", "led"),
    ("lling", "ling"),
    ("ogue", "og"),
    ("ence", "ense"),
)


def _is_known_spelling(word: str, dictionary: SpellChecker) -> bool:
    if word in dictionary or _base_form(word) in dictionary:
        return True
    base = _base_form(word)
    for british, american in _BRITISH_ENDINGS:
        if base.endswith(british) and base[: -len(british)] + american in dictionary:
            return True
    return False


def _spelling_candidates(
    tokens: Sequence[_Token], known_words: set[str]
) -> tuple[int, dict[str, int]]:
    """Count the checked words and the unknown ones (lower case, with occurrences)."""
    mid_sentence_capitals = {
        _base_form(token.text)
        for token in tokens
        if not token.sentence_initial and _is_capitalised_word(token.text)
    }
    dictionary = _english_dictionary()
    checked = 0
    unknown: dict[str, int] = {}
    verdicts: dict[str, bool] = {}  # each distinct word is looked up once
    for token in tokens:
        word = token.text
        if len(word) < 2 or len(word) > MAX_CHECKED_WORD_LENGTH:
            continue
        if any(character.isdigit() or character == "_" for character in word):
            continue
        # Inner capitals (NASA, iPhone, McKay) and mid-sentence capitals are names or codes.
        if any(character.isupper() for character in word[1:]):
            continue
        if word[0].isupper() and (
            not token.sentence_initial or _base_form(word) in mid_sentence_capitals
        ):
            continue
        lowered = word.lower().replace("’", "'")
        if lowered in known_words or _base_form(lowered) in known_words:
            continue
        checked += 1
        if lowered not in verdicts:
            verdicts[lowered] = _is_known_spelling(lowered, dictionary)
        if not verdicts[lowered]:
            unknown[lowered] = unknown.get(lowered, 0) + 1
    return checked, unknown


def check_spelling(text: str, *, known_words: Iterable[str] = ()) -> list[Finding]:
    """Flag words that are not in the English dictionary, with a suggested correction.

    Skipped: numbers, words capitalised mid-sentence (names), words with inner capitals
    (acronyms), ``known_words`` (compared case-insensitively: pass the bible's names) and
    common British spellings. Each distinct misspelled word is one warning, for at most
    :data:`MAX_REPORTED_MISSPELLINGS` words; many misspellings (see
    :data:`MISSPELLING_ERROR_MIN_COUNT` and :data:`MISSPELLING_ERROR_MIN_RATE`) add an error.

    Args:
        text: The text to check.
        known_words: Extra words to accept, such as names and invented terms.

    Returns:
        The findings: the error (if any) first, then warnings in order of first appearance.

    Raises:
        InputError: If ``text`` is not a string.
    """
    tokens = _tokenize(_check_text(text))
    if isinstance(known_words, str):
        known_words = [known_words]  # one word, not its letters
    accepted = {
        _base_form(token.text.lower()) for phrase in known_words for token in _tokenize(str(phrase))
    }
    checked, unknown = _spelling_candidates(tokens, accepted)
    findings: list[Finding] = []
    misspelled_count = sum(unknown.values())
    if (
        misspelled_count >= MISSPELLING_ERROR_MIN_COUNT
        and misspelled_count / checked >= MISSPELLING_ERROR_MIN_RATE
    ):
        message = MISSPELLINGS_TOO_MANY.format(
            count=misspelled_count, checked=checked, rate=misspelled_count / checked
        )
        findings.append(Finding(check="spelling", severity="error", message=message))

    dictionary = _english_dictionary()
    for word, count in list(unknown.items())[:MAX_REPORTED_MISSPELLINGS]:
        suggestion = dictionary.correction(word)
        advice = (
            MISSPELLING_SUGGESTION.format(suggestion=suggestion)
            if suggestion and suggestion != word
            else MISSPELLING_NO_SUGGESTION
        )
        message = MISSPELLING.format(word=word, count=_times(count), advice=advice)
        findings.append(Finding(check="spelling", severity="warning", message=message))
    if len(unknown) > MAX_REPORTED_MISSPELLINGS:
        message = MISSPELLINGS_NOT_LISTED.format(remaining=len(unknown) - MAX_REPORTED_MISSPELLINGS)
        findings.append(Finding(check="spelling", severity="warning", message=message))
    return findings


# --- Length and format --------------------------------------------------------------------


def _count_words(text: str) -> int:
    """Words as a person counts them: whitespace-separated pieces with a letter or digit."""
    return sum(1 for piece in text.split() if any(character.isalnum() for character in piece))


def _check_word_limit(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(WORD_LIMIT_INVALID.format(name=name, value=value))
    return value


def check_length(
    text: str, *, min_words: int | None = None, max_words: int | None = None
) -> list[Finding]:
    """Check the word count against the limits the plan set for this part.

    Both limits are hard (errors): the planner should leave a margin when it sets them,
    because models count words poorly.

    Args:
        text: The text to check.
        min_words: Fewest words allowed, or None for no minimum.
        max_words: Most words allowed, or None for no maximum.

    Returns:
        One error when the text is too short or too long, else nothing.

    Raises:
        InputError: If ``text`` is not a string or a limit is negative, not a whole
            number, or ``min_words`` exceeds ``max_words``.
    """
    text = _check_text(text)
    minimum = _check_word_limit("min_words", min_words)
    maximum = _check_word_limit("max_words", max_words)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise InputError(WORD_LIMITS_CROSSED.format(min_words=minimum, max_words=maximum))
    count = _count_words(text)
    if minimum is not None and count < minimum:
        message = TOO_SHORT.format(count=count, min_words=minimum, gap=minimum - count)
        return [Finding(check="length", severity="error", message=message)]
    if maximum is not None and count > maximum:
        message = TOO_LONG.format(count=count, max_words=maximum, gap=count - maximum)
        return [Finding(check="length", severity="error", message=message)]
    return []


_GREETING = re.compile(
    r"^(dear|hi|hello|hey|greetings|good (morning|afternoon|evening)|to whom it may concern)\b",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^(best|regards|kind regards|warm regards|best regards|best wishes|all the best|sincerely"
    r"|yours|cheers|thanks|thank you|many thanks|love|respectfully|take care)\b",
    re.IGNORECASE,
)
_EMAIL_HEADER = re.compile(r"^(subject|to|from|cc|date)\s*:", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+\S")
# How far from the end a sign-off may sit: it is followed by a name and maybe a title.
_SIGN_OFF_SEARCH_LINES = 4


def _format_findings(kind: FormatKind, text: str) -> list[str]:
    """The problems of ``text`` as a ``kind``, as messages (all errors except long lines)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if kind == "haiku":
        return [] if len(lines) == 3 else [HAIKU_LINE_COUNT.format(count=len(lines))]
    if kind == "email":
        body = [line for line in lines if not _EMAIL_HEADER.match(line)]
        problems = []
        if not body or not _GREETING.match(body[0]):
            problems.append(EMAIL_NO_GREETING)
        if not any(_SIGN_OFF.match(line) for line in body[-_SIGN_OFF_SEARCH_LINES:]):
            problems.append(EMAIL_NO_SIGN_OFF)
        return problems
    if kind == "story":
        paragraphs = [block for block in re.split(r"\n\s*\n", text) if block.strip()]
        count = _count_words(text)
        too_long = len(paragraphs) < 2 and count > STORY_SINGLE_PARAGRAPH_MAX_WORDS
        return [STORY_NO_PARAGRAPHS.format(count=count)] if too_long else []
    if kind == "poem":
        return [] if len(lines) >= 2 else [POEM_ONE_LINE]
    items = [line for line in lines if _LIST_ITEM.match(line)]
    return [] if len(items) >= 2 else [LIST_TOO_FEW_ITEMS.format(count=len(items))]


def check_format(text: str, *, kind: FormatKind | None = None) -> list[Finding]:
    """Check the simple shape a kind of text must have.

    * haiku: exactly 3 non-empty lines (syllables are not counted: no reliable rule exists).
    * email: a greeting line first ("Dear", "Hi", ...; header lines such as "Subject:" are
      skipped) and a sign-off ("Best regards", "Thanks", ...) among the last 4 lines.
    * story: paragraphs separated by blank lines once it is longer than
      :data:`STORY_SINGLE_PARAGRAPH_MAX_WORDS` words.
    * poem: at least 2 lines; lines longer than :data:`LONG_LINE_MAX_WORDS` words are a warning.
    * list: at least 2 items, each a line starting with "-", "*", "•", "+" or "1." / "1)".

    Args:
        text: The text to check.
        kind: The kind of text, or None to skip the check.

    Returns:
        The findings: errors for a wrong shape or an empty text, warnings for long poem lines.

    Raises:
        InputError: If ``text`` is not a string or ``kind`` is not one of the kinds above.
    """
    text = _check_text(text)
    if kind is None:
        return []
    kinds = get_args(FormatKind)
    if kind not in kinds:
        raise InputError(KIND_UNKNOWN.format(kind=kind, kinds=", ".join(kinds)))
    if not text.strip():
        return [Finding(check="format", severity="error", message=EMPTY_TEXT.format(kind=kind))]
    findings = [
        Finding(check="format", severity="error", message=message)
        for message in _format_findings(kind, text)
    ]
    if kind == "poem":
        long_lines = [line for line in text.splitlines() if len(line.split()) > LONG_LINE_MAX_WORDS]
        if long_lines:
            message = POEM_LONG_LINES.format(count=len(long_lines), max_words=LONG_LINE_MAX_WORDS)
            findings.append(Finding(check="format", severity="warning", message=message))
    return findings


# --- All together -------------------------------------------------------------------------


def _bible_words(bible: Bible) -> list[str]:
    """Everything the bible names, for the spelling check to accept."""
    phrases = [bible.style, *bible.places, *bible.facts]
    for character in bible.characters:
        phrases.extend([character.name, *character.aliases, *character.traits])
    return phrases


def run_checks(
    text: str,
    bible: Bible | Mapping[str, Any],
    *,
    min_words: int | None = None,
    max_words: int | None = None,
    kind: FormatKind | None = None,
) -> list[Finding]:
    """Run every check on one part: names, spelling (accepting the bible's words), length, format.

    Args:
        text: The part to check.
        bible: The shared bible (a :class:`Bible` or a mapping of its fields).
        min_words: Fewest words allowed, or None.
        max_words: Most words allowed, or None.
        kind: The kind of text for :func:`check_format`, or None.

    Returns:
        All findings, errors before warnings (each check's order kept otherwise).

    Raises:
        InputError: If any argument is invalid (see the individual checks).
    """
    text = _check_text(text)
    bible = _check_bible(bible)
    findings = [
        *check_length(text, min_words=min_words, max_words=max_words),
        *check_format(text, kind=kind),
        *check_names(text, bible),
        *check_spelling(text, known_words=_bible_words(bible)),
    ]
    # Stable sort: errors first, each check's own order kept.
    return sorted(findings, key=lambda finding: finding.severity != "error")


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding blocks approval.

    Args:
        findings: Findings from the checks in this module.

    Returns:
        True when at least one finding has severity ``"error"``.
    """
    return any(finding.severity == "error" for finding in findings)
