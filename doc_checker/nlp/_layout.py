"""Line layout of a note: lines, 'Key: value' fields, headings, blank lines, hard wraps.

Clinical notes are laid out in lines more than in sentences: templates ('Needle: 22 g'),
headings, bullets and hard-wrapped dictation. The sentence splitter and the element logic both
read the note through these helpers, so they agree on what a line is.
"""

from __future__ import annotations

import bisect
import re
import weakref
from typing import Any, List, Optional

TEXT_KEY = "dc_text"


_LAYOUTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def layout_of(doc) -> "Layout":
    """The layout of a Doc's note, computed once per Doc and kept while the Doc lives (the
    sentence splitter and the element logic both read it, with other notes of a batch between)."""
    layout = _LAYOUTS.get(doc)
    if layout is None:
        layout = _LAYOUTS[doc] = Layout(note_text(doc))
    return layout


def note_text(doc) -> str:
    """``doc.text``, computed once per Doc (spaCy rebuilds it from the tokens on every access)."""
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.user_data[TEXT_KEY] = doc.text
    return text


# "Key:" at the start of a line: a field label or a section heading.
FIELD_RE = re.compile(
    r"[ \t]*(?:[-*\u2022\u00b7\u25aa][ \t]*)?([A-Za-z][A-Za-z0-9 /&()'#.,-]{0,48}?)[ \t]*:(?!//)"
)
BULLET_RE = re.compile(r"[ \t]*(?:[-*\u2022\u00b7\u25aa>]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)])[ \t]+\S")
_SENTENCE_END_CHARS = (".", "!", "?", ":", ";")
# A line shorter than this that does not end a sentence is a heading or a field, not a wrap.
WRAP_MIN_CHARS = 45
# a word broken by a hyphen at the line end ('fluoro-'), as OCR and fax leave it
_BROKEN_WORD = r"[A-Za-z]-"
_BROKEN_WORD_END = re.compile(_BROKEN_WORD + r"[ \t]*$").search
# a line ending mid-phrase: a broken word, a comma, an article, preposition or conjunction
DANGLING_END = re.compile(
    r"(?:" + _BROKEN_WORD + r"|,|\b(?:the|a|an|of|to|into|in|on|at|with|from|by|for|and|or|"
    r"under|via))[ \t]*$",
    re.IGNORECASE,
)
FIELD_LINE_MAX_CHARS = 90
# a field value that runs on into the next line is still a template's pick up to this many words
FILLED_VALUE_MAX_WORDS = 6


_UNSET = object()


class Line:
    """One line of a note (without its newline); read-only by convention. A plain class with
    slots, not a dataclass: a note has dozens of lines and a frozen dataclass is slow to build."""

    __slots__ = ("start", "end", "text", "_field")

    def __init__(self, start: int, end: int, text: str) -> None:
        self.start = start  # char offset of the first character of the line
        self.end = end  # char offset of the line end (excluding the newline)
        self.text = text
        self._field: Any = _UNSET

    def __repr__(self) -> str:
        return f"Line(start={self.start}, end={self.end})"

    @property
    def is_blank(self) -> bool:
        return not self.text.strip()

    @property
    def field(self) -> Optional[re.Match]:
        """The 'Key:' label at the start of the line, if any (computed once)."""
        found = self._field
        if found is _UNSET:
            found = self._field = FIELD_RE.match(self.text)
        return found

    @property
    def is_field_line(self) -> bool:
        """A short 'Key: value' template line (not a paragraph that starts with a heading)."""
        return self.field is not None and len(self.text.strip()) <= FIELD_LINE_MAX_CHARS

    @property
    def ends_sentence(self) -> bool:
        r"""Sentence punctuation, then maybe closing quotes or brackets, then maybe spaces: what
        ``[.!?:;]["')\]]*[ \t]*$`` matches, tested from the end instead of searched for."""
        return self.text.rstrip(" \t").rstrip("\"')]").endswith(_SENTENCE_END_CHARS)


class Layout:
    """Lines of a text with fast char-offset lookup."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: List[Line] = []
        pos = 0
        for raw in text.split("\n"):
            self.lines.append(Line(pos, pos + len(raw.rstrip("\r")), raw.rstrip("\r")))
            pos += len(raw) + 1
        self.line_starts = [ln.start for ln in self.lines]

    def line_index(self, char: int) -> int:
        return max(0, bisect.bisect_right(self.line_starts, char) - 1)

    def line_at(self, char: int) -> Line:
        return self.lines[self.line_index(char)]

    def continues(self, i: int) -> bool:
        """True when line i+1 is a hard-wrapped continuation of line i (same sentence)."""
        if i + 1 >= len(self.lines):
            return False
        cur, nxt = self.lines[i], self.lines[i + 1]
        # only a long line wraps (a short one is a heading or a field): the cheap test first
        if len(cur.text.strip()) < WRAP_MIN_CHARS or nxt.is_blank or cur.ends_sentence:
            return False
        return not (nxt.field or BULLET_RE.match(nxt.text))

    def runs_on(self, i: int) -> bool:
        """Line i's sentence goes on in line i+1, however short line i is: a word broken at
        its end ('fluoro-'), or no sentence end and a next line in lower case (a hard wrap)."""
        if i + 1 >= len(self.lines):
            return False
        cur, nxt = self.lines[i], self.lines[i + 1]
        head = nxt.text.lstrip()[:1]
        return bool(
            (head.islower() and not cur.ends_sentence and cur.text.strip())
            or (head.isalpha() and _BROKEN_WORD_END(cur.text))
        )

    def value_words(self, i: int) -> int:
        """Words of line i's field value, with the next line's when the value runs on into it
        ('Guidance: Fluoro-' / 'scopy' is two words; a wrapped paragraph is many)."""
        line = self.lines[i]
        field = line.field
        words = len((line.text[field.end() :] if field is not None else line.text).split())
        return words + (len(self.lines[i + 1].text.split()) if self.runs_on(i) else 0)

    def is_filled_field(self, i: int) -> bool:
        """Line i is a field line with a short value: what a template fills in ('Guidance:
        Fluoroscopy', also when OCR broke it: 'Guidance: Fluoro-' / 'scopy'). Not the first
        line of dictated prose that a fax or OCR wrap cut short ('Technique: Under fluoro-' /
        'scopic guidance the needle was advanced ...')."""
        return self.lines[i].is_field_line and (
            not self.runs_on(i) or self.value_words(i) <= FILLED_VALUE_MAX_WORDS
        )

    def block_end(self, i: int) -> int:
        """Char offset where the logical line starting at line i ends (following hard wraps)."""
        while self.continues(i):
            i += 1
        return self.lines[i].end

    def region_after_header(self, header_end: int) -> tuple:
        """(start, end) of what a 'Key:' header governs: the rest of its line (with wraps) when
        the line has content, else the following lines up to a blank line or the next field."""
        i = self.line_index(header_end)
        line = self.lines[i]
        rest = self.text[header_end : line.end]
        if rest.strip():
            return header_end, self.block_end(i)
        j = i + 1
        end = line.end
        while j < len(self.lines):
            nxt = self.lines[j]
            if nxt.is_blank:
                if end > line.end:
                    break
                j += 1
                continue
            if nxt.field:
                break
            end = nxt.end
            j += 1
        return header_end, end
