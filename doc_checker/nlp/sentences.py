"""A fast, layout-aware sentence splitter for clinical notes (spaCy component).

Why not PyRuSH or a parser: PyRuSH dominates a medspaCy pipeline's run time, and notes are laid
out in lines (headings, 'Key: value' templates, bullets, hard-wrapped dictation) as much as in
sentences. Boundaries are found with regular expressions over the text and the line layout,
then set on the few tokens that start a sentence.
"""

import re
from itertools import pairwise
from typing import Iterable, List, Set

import numpy as np
from spacy.attrs import IDX, SENT_START
from spacy.tokens import Doc

from ._layout import Layout, layout_of, note_text

MAX_SENTENCE_TOKENS = 400

# Sentence-final punctuation followed by whitespace and something that can start a sentence.
_END_RE = re.compile(r"(?<=[.!?])[\"')\]]*[ \t]+(?=[A-Z0-9(\[\"'\u2022*-])")
_NO_BREAK_BEFORE = re.compile(
    r"(?:\b(?:dr|mr|mrs|ms|vs|approx|no|nos|st|fig|inc|e\.g|i\.e|etc|pt|pts|min|mins|sec|hr|hrs|ca|cf|al)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)


def sentence_starts(text: str, layout: "Layout | None" = None) -> List[int]:
    """Char offsets where sentences start (sorted, first non-space char of each sentence)."""
    layout = layout or Layout(text)
    starts: Set[int] = set()
    lines = layout.lines
    for i, line in enumerate(lines):
        stripped = line.text.lstrip()
        if not stripped:
            continue
        first = line.start + (len(line.text) - len(stripped))
        if i == 0 or not layout.continues(i - 1):
            starts.add(first)
    for m in _END_RE.finditer(text):
        before = text[max(0, m.start() - 8) : m.start()]
        if _NO_BREAK_BEFORE.search(before):
            continue
        starts.add(m.end())
    return sorted(starts)


class LineSentenceSplitter:
    """Sets ``token.is_sent_start`` from :func:`sentence_starts`; nothing else."""

    def __init__(self, name: str = "doc_checker_sentences") -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        starts = sentence_starts(note_text(doc), layout_of(doc))
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
