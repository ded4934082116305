"""Text from models and documents, made safe for a terminal.

Model replies, retrieved passages, source titles and URLs are untrusted: an indexed document
can hold escape sequences that set the window title, clear the screen or plant OSC 8 links,
and text with ``[`` in it is rich markup. :func:`plain_for_terminal` removes escape sequences
and other control characters (keeping newlines and tabs); the CLI escapes markup on top.
Every pattern here is linear in its input.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

__all__ = ["WordWrap", "json_for_terminal", "plain_for_terminal"]

# ESC sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings (ESC ] ... BEL or ST), and
# two-character escapes; then the same with the 8-bit C1 introducers (U+009B CSI, U+009D OSC,
# U+0090 DCS, U+0098 SOS, U+009E PM, U+009F APC, U+009C ST), which some terminals honour, so
# that their parameters go with them ("\x9b31m" leaves nothing, not "31m"). A string with no
# terminator runs to the end of the text.
_ESCAPE_SEQUENCE: Final = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
_KEPT: Final = frozenset("\n\t")
_CONTROLS: Final = {
    code: None
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E, 0x202D, 0x2066, 0x2067, 0x2068)
    if chr(code) not in _KEPT
}
"""C0 and C1 controls, DEL, and the bidirectional overrides that reorder what is shown."""


def plain_for_terminal(text: str) -> str:
    """``text`` without escape sequences or control characters (newlines and tabs stay)."""
    return _ESCAPE_SEQUENCE.sub("", text).translate(_CONTROLS)


_UNSAFE_IN_JSON: Final = re.compile("[" + "".join(map(chr, _CONTROLS)) + "]")
"""What :func:`json.dumps` leaves raw with ``ensure_ascii=False``: DEL, the C1 controls and
the bidirectional overrides (it escapes the C0 controls itself)."""


def json_for_terminal(data: Any) -> str:
    """``data`` as one line of JSON that is safe to print: non-ASCII text stays readable, and
    every control character is written as a ``\\u`` escape, so a program reading the line
    gets the very same strings while a terminal showing it gets no escape sequence.
    """
    text = json.dumps(data, ensure_ascii=False)
    # JSON's own syntax is ASCII, so these can only be inside strings, where an escape is valid.
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class WordWrap:
    """Line breaks for streamed text: between words, never inside one.

    A terminal wraps a long streamed answer wherever the line ends, mid-word. Fed each token
    as it arrives, this holds back the word being written until it is complete, then starts a
    new line first if the word would not fit. Only a word longer than a whole line is broken.
    Spaces at a line this inserted are dropped; newlines in the text are kept.

    Args:
        width: Columns of the terminal.
        column: Where the cursor already is (after a badge such as ``[math] ``).
    """

    def __init__(self, width: int, column: int = 0) -> None:
        self.width = max(width, 10)
        self.column = column
        self._word: list[str] = []
        self._spaces = ""

    def feed(self, text: str) -> str:
        """The part of the stream that can be printed now, with its line breaks."""
        out: list[str] = []
        for char in text:
            if char == "\n":
                out.append(self._flush_word())
                out.append("\n")
                self.column, self._spaces = 0, ""
            elif char.isspace():
                out.append(self._flush_word())
                self._spaces += char
            else:
                self._word.append(char)
        return "".join(out)

    def close(self) -> str:
        """What is still held back (the last word)."""
        return self._flush_word()

    def _flush_word(self) -> str:
        if not self._word:
            return ""
        word, self._word = "".join(self._word), []
        spaces, self._spaces = self._spaces, ""
        out: list[str] = []
        if self.column > 0 and self.column + len(spaces) + len(word) > self.width:
            out.append("\n")
            self.column = 0
        else:
            out.append(spaces)
            self.column += len(spaces)
        while self.column + len(word) > self.width:  # longer than a line: break it
            cut = self.width - self.column
            out.append(word[:cut] + "\n")
            word, self.column = word[cut:], 0
        out.append(word)
        self.column += len(word)
        return "".join(out)
