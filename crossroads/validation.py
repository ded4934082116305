"""Input validation: what a question must be before any agent sees it, and what a thread id
must be before it names a conversation in the store.

* not empty or whitespace only;
* at most ``MAX_QUESTION_CHARS`` characters (longer texts belong in a document index, and a
  1 MB prompt would spend the whole token budget on one call);
* valid UTF-8 when given as bytes; a ``str`` carrying undecodable bytes (``surrogateescape``,
  which is how Python hands over invalid UTF-8 from a terminal) is refused too;
* control characters (other than tab and newline) are removed, not refused: they carry no
  meaning in a question and are often pasted by accident.
"""

from __future__ import annotations

import re
import unicodedata

from crossroads.errors import InputError

MAX_QUESTION_CHARS = 8_000

EMPTY = 'the question is empty: type a question, e.g. crossroads ask "What is 15% of 240?"'
TOO_LONG = (
    "the question is {length:,} characters long; the limit is {limit:,}. Put long documents in "
    "a folder and index them with `crossroads index PATH`, then ask about them"
)
NOT_UTF8 = (
    "the question is not valid UTF-8 (byte {byte} at position {position}); "
    "re-encode the text as UTF-8 and ask again"
)
NOT_TEXT = "the question must be text (str), not {kind}"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")


def _refuse_undecodable(text: str, message: str) -> None:
    """Raise ``message`` (with ``byte`` and ``position``) at the first lone surrogate in
    ``text``: undecodable bytes smuggled in through ``surrogateescape``, which is how Python
    hands over invalid UTF-8 from a terminal, and which no store can encode."""
    for position, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            code = ord(char)
            byte = f"0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else hex(code)
            raise InputError(message.format(byte=byte, position=position))


def clean_question(raw: object) -> str:
    """Return the question ready for the graph, or raise :class:`InputError`.

    Args:
        raw: The question as ``str`` or UTF-8 ``bytes``.

    Raises:
        InputError: empty, too long, not text, or not valid UTF-8.
    """
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as error:
            byte = f"0x{bytes(raw)[error.start]:02x}"
            raise InputError(NOT_UTF8.format(byte=byte, position=error.start)) from None
    elif isinstance(raw, str):
        text = raw
    else:
        raise InputError(NOT_TEXT.format(kind=type(raw).__name__))
    _refuse_undecodable(text, NOT_UTF8)
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(TOO_LONG.format(length=len(text), limit=MAX_QUESTION_CHARS))
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    text = re.sub(r"[ \t]+", " ", text).strip()
    if not text:
        raise InputError(EMPTY)
    return text


MAX_THREAD_ID_CHARS = 200
"""Longest thread id: ids are typed back (``--thread``) and listed (``crossroads threads``)."""

THREAD_ID_NOT_TEXT = "the thread id must be text (str), not {kind}"
THREAD_ID_BLANK = (
    "the thread id is blank: give a name such as --thread groceries, or leave it out for a "
    "new conversation"
)
THREAD_ID_TOO_LONG = "the thread id is {length:,} characters long; the limit is {limit:,}"
THREAD_ID_NOT_UTF8 = (
    "the thread id is not valid UTF-8 (byte {byte} at position {position}); "
    "use letters, digits, '-' or '_'"
)
THREAD_ID_CONTROL = (
    "the thread id has a control character ({code}) at position {position}; thread ids are "
    "listed and typed back, so use letters, digits, '-' or '_'"
)


def clean_thread_id(raw: object, *, existing: bool = False) -> str:
    """Return ``raw`` unchanged if it can name a conversation, or raise :class:`InputError`.

    A new id must be text of at most :data:`MAX_THREAD_ID_CHARS` characters, not blank,
    with nothing a terminal would not show as typed (control and format characters, such
    as an escape sequence that would hide part of the id in ``crossroads threads``). An id
    looked up (``existing=True``: history, delete) is only checked to be text the store can
    encode, so a conversation saved before these rules stays reachable.

    Raises:
        InputError: not text, not valid UTF-8 (undecodable bytes from the command line), or,
            for a new id, blank, too long, or holding a control character.
    """
    if not isinstance(raw, str):
        raise InputError(THREAD_ID_NOT_TEXT.format(kind=type(raw).__name__))
    _refuse_undecodable(raw, THREAD_ID_NOT_UTF8)
    if existing:
        return raw
    if len(raw) > MAX_THREAD_ID_CHARS:
        raise InputError(THREAD_ID_TOO_LONG.format(length=len(raw), limit=MAX_THREAD_ID_CHARS))
    if not raw.strip():
        raise InputError(THREAD_ID_BLANK)
    for position, char in enumerate(raw):
        if unicodedata.category(char) in ("Cc", "Cf"):
            shown = f"U+{ord(char):04X}"
            raise InputError(THREAD_ID_CONTROL.format(code=shown, position=position))
    return raw
