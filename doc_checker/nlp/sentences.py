"""A fast, layout-aware sentence splitter for clinical notes (spaCy component).

Why not PyRuSH or a parser: PyRuSH dominates a medspaCy pipeline's run time, and notes are laid
out in lines (headings, 'Key: value' templates, bullets, hard-wrapped dictation) as much as in
sentences. Boundaries are found with regular expressions over the text and the line layout,
then set on the few tokens that start a sentence.
"""

import json
import re
from itertools import pairwise
from pathlib import Path
from typing import Any, Iterable, List, Optional, Set, Tuple

import numpy as np
from spacy.attrs import IDX, SENT_START
from spacy.tokens import Doc

from ._layout import BULLET_RE, DANGLING_END, WRAP_MIN_CHARS, Layout, layout_of, note_text

MAX_SENTENCE_TOKENS = 400
# a page banner is a short line: longer lines are never tested against the banner pattern
BANNER_MAX_CHARS = 120

# Sentence-final punctuation followed by whitespace and something that can start a sentence.
_END_RE = re.compile(r"(?<=[.!?])[\"')\]]*[ \t]+(?=[A-Z0-9(\[\"'\u2022*-])")
_NO_BREAK_BEFORE = re.compile(
    r"(?:\b(?:dr|mr|mrs|ms|vs|approx|no|nos|st|fig|inc|e\.g|i\.e|etc|pt|pts|min|mins|sec|hr|hrs|ca|cf|al)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)


def sentence_starts(
    text: str, layout: "Layout | None" = None, banner: "Optional[re.Pattern[str]]" = None
) -> List[int]:
    """Char offsets where sentences start (sorted, first non-space char of each sentence).
    ``banner``: a page banner line ('Page 2 of 3  Fax ...', patterns/sections.json) that a page
    break put inside a sentence is skipped: the sentence runs on past it."""
    layout = layout or Layout(text)
    starts: Set[int] = set()
    lines = layout.lines
    for i, line in enumerate(lines):
        stripped = line.text.lstrip()
        if not stripped:
            continue
        first = line.start + (len(line.text) - len(stripped))
        if i == 0 or not (layout.continues(i - 1) or _dangles(lines[i - 1].text, stripped)):
            starts.add(first)
    for m in _END_RE.finditer(text):
        before = text[max(0, m.start() - 8) : m.start()]
        if _NO_BREAK_BEFORE.search(before):
            continue
        starts.add(m.end())
    if banner is not None:
        for lo, hi in _banner_breaks(layout, banner):
            starts = {s for s in starts if not lo <= s <= hi}
    return sorted(starts)


def _dangles(before: str, after: str) -> bool:
    """A short line that stops mid-phrase ('was advanced into the right subacromial-', 'a 25 g
    needle into the') and a next line in lower case: one sentence broken by a page or an OCR
    line, however short the first line is."""
    return after[:1].islower() and bool(DANGLING_END.search(before))


def _first_char(text: str) -> int:
    return len(text) - len(text.lstrip())


def _banner_breaks(layout: Layout, banner: "re.Pattern[str]") -> List[Tuple[int, int]]:
    """Char ranges (banner lines through the first char of the line after them) where a page
    banner sits inside a sentence: the line before does not end a sentence, and the line after
    goes on with it: it starts in lower case, or it is no field, heading or bullet and starts
    with a number, or the line before stops mid-phrase ('into the') or is a full-width wrapped
    line."""
    lines = layout.lines
    found: List[Tuple[int, int]] = []
    i, n = 0, len(lines)
    while i < n:
        if not _is_banner(lines[i].text, banner):
            i += 1
            continue
        j = i  # the run of banner (and blank) lines
        while j + 1 < n and (lines[j + 1].is_blank or _is_banner(lines[j + 1].text, banner)):
            j += 1
        p = i - 1
        while p >= 0 and lines[p].is_blank:
            p -= 1
        nxt = j + 1
        if p >= 0 and nxt < n:
            before, after = lines[p], lines[nxt]
            stripped = after.text.lstrip()
            runs_on = stripped[:1].islower() or (
                (
                    len(before.text.strip()) >= WRAP_MIN_CHARS
                    or stripped[:1].isdigit()
                    or bool(DANGLING_END.search(before.text))
                )
                and not after.field
                and not BULLET_RE.match(after.text)
            )
            if not before.ends_sentence and runs_on:
                found.append((lines[i].start, after.start + _first_char(after.text)))
        i = j + 1
    return found


def _is_banner(line: str, banner: "re.Pattern[str]") -> bool:
    stripped = line.strip()
    return bool(stripped) and len(stripped) <= BANNER_MAX_CHARS and bool(banner.fullmatch(stripped))


class LineSentenceSplitter:
    """Sets ``token.is_sent_start`` from :func:`sentence_starts`; nothing else."""

    def __init__(self, name: str = "doc_checker_sentences") -> None:
        self.name = name
        self.page_banner: "Optional[re.Pattern[str]]" = None

    def set_page_banner(self, pattern: Optional[str]) -> None:
        """The regex a whole page-banner line matches (patterns/sections.json 'page_banner')."""
        self.page_banner = re.compile(pattern) if pattern is not None else None

    def to_disk(self, path: Any, *, exclude: Tuple[str, ...] = ()) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        banner = self.page_banner.pattern if self.page_banner is not None else None
        (Path(path) / "sentences.json").write_text(
            json.dumps({"page_banner": banner}), encoding="utf-8"
        )

    def from_disk(self, path: Any, *, exclude: Tuple[str, ...] = ()) -> "LineSentenceSplitter":
        settings = Path(path) / "sentences.json"
        if settings.exists():
            self.set_page_banner(json.loads(settings.read_text(encoding="utf-8"))["page_banner"])
        return self

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        starts = sentence_starts(note_text(doc), layout_of(doc), self.page_banner)
        self.set_starts(doc, starts)
        return doc

    @staticmethod
    def set_starts(doc: Doc, starts: Iterable[int]) -> None:
        """Mark the tokens that begin at the given char offsets (or contain them) as starts."""
        idx = doc.to_array(IDX).astype(np.int64)
        chars = np.asarray(list(starts), dtype=np.int64)
        values = np.full(len(doc), -1, dtype=np.int64)
        values[0] = 1
        if len(chars):
            tokens = np.searchsorted(idx, chars, side="right") - 1
            inside = np.flatnonzero((tokens > 0) & (idx[np.maximum(tokens, 0)] != chars))
            if len(inside):
                # a line that starts inside a token the spelling joiner merged across the line
                # break ('fluoro-\nscopic') continues the sentence
                joined = [i for i in inside.tolist() if "\n" in doc[int(tokens[i])].text]
                tokens = np.delete(tokens, joined)
            values[tokens[tokens > 0]] = 1
        # a run-on "sentence" (a pasted blob with no punctuation or line breaks) is cut every
        # MAX_SENTENCE_TOKENS tokens: ConText's work grows with the square of a sentence's length
        starts_at = np.flatnonzero(values == 1).tolist() + [len(doc)]
        for a, b in pairwise(starts_at):
            if b - a > MAX_SENTENCE_TOKENS:
                values[a + MAX_SENTENCE_TOKENS : b : MAX_SENTENCE_TOKENS] = 1
        # spaCy's stub types the array as thinc's Ints2d, which no numpy array is; from_array
        # takes a 2-d integer ndarray (uint64, as to_array returns)
        doc.from_array([SENT_START], values.view(np.uint64).reshape(-1, 1))  # type: ignore[arg-type]
