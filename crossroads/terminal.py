"""Text from models and documents, made safe for a terminal.

Model replies, retrieved passages, source titles and URLs are untrusted: an indexed document
can hold escape sequences that set the window title, clear the screen or plant OSC 8 links,
and text with ``[`` in it is rich markup. :func:`plain_for_terminal` removes escape sequences
and other control characters (keeping newlines and tabs); the CLI escapes markup on top.
Every pattern here is linear in its input.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["plain_for_terminal"]

# ESC sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings (ESC ] ... BEL or ST), and
# two-character escapes. A string with no terminator runs to the end of the text.
_ESCAPE_SEQUENCE: Final = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
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
