"""Keeps spaCy's tokenizer cache filled: a workaround for explosion/spaCy#13950.

spaCy caches how it split each whitespace-delimited chunk of text, so a word seen before costs
a lookup instead of the prefix, suffix and infix rules. But once a document has shown a special
case (and a line break is one), spaCy caches nothing more of that document: in a clinical note,
everything after the first line was split by the affix rules every time it was seen, which made
tokenizing the largest cost left in the checker (and a 1 MB note 2.5x slower per token than a
short one). Here a new chunk is tokenized once on its own, which caches it exactly as spaCy
caches a chunk in a fresh document (a chunk with a digit, often an id or a date seen once, only
when it is seen again). Tokenization is unchanged (tests compare
token by token); only its time is.
"""

from __future__ import annotations

import re
from typing import Callable, Set

MAX_REMEMBERED = 50_000  # chunks remembered per set; past it the set starts over (flat memory)
_HAS_DIGIT = re.compile(
    r"\d"
).search  # numbers, dates, ids: often seen once, so primed when seen again
MAX_CHUNK_CHARS = 100  # longer chunks are rare and not worth a tokenizer call of their own


class ChunkCachePrimer:
    """Call it with each note's text before tokenizing the note."""

    def __init__(
        self, tokenizer: Callable[[str], object], max_remembered: int = MAX_REMEMBERED
    ) -> None:
        self._tokenize = tokenizer
        self._max = max_remembered
        self._seen: Set[str] = set()  # seen in one note so far
        self._primed: Set[str] = set()  # tokenized on their own: in spaCy's cache now

    def __call__(self, text: str) -> None:
        seen, primed = self._seen, self._primed
        for chunk in text.split():
            if chunk in primed or len(chunk) > MAX_CHUNK_CHARS:
                continue
            if chunk in seen or not _HAS_DIGIT(chunk):
                self._tokenize(chunk)
                primed.add(chunk)
            else:
                seen.add(chunk)
        if len(seen) > self._max:
            seen.clear()  # one-off strings (accession numbers, dates) are forgotten
        if len(primed) > self._max:
            primed.clear()  # spaCy keeps its cache; priming a chunk again is harmless
