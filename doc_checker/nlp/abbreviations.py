"""Abbreviations a note defines itself ('fluoroscopic guidance (FG) ... under FG').

The detection is scispacy's implementation of Schwartz & Hearst (2003), "A simple algorithm for
identifying abbreviation definitions in biomedical text" (``scispacy.abbreviation``:
``filter_matches`` and ``find_abbreviation``). This component feeds those functions the
parenthesised spans directly (scispacy's own component runs a spaCy Matcher with a wildcard
pattern, which cost more than tokenizing the note) and then gives every occurrence of a short
form the category of the target found inside its long form, so 'under FG' documents guidance as
'under fluoroscopic guidance' does. Common undefined abbreviations (fluoro, FNA, US, LUL) come
from the lexicon instead (``patterns/abbreviations.json``: ``targets.lexicon_variants`` turns it
into target rules when the pipeline is built).
"""

import bisect
from typing import List, Set, Tuple

import numpy as np
from scispacy.abbreviation import filter_matches, find_abbreviation
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.tokens import Doc, Span

from ._spangroups import group_bounds, set_group
from .targets import TARGET_GROUP

MAX_PARENTHESIS_TOKENS = 8  # scispacy ignores longer parenthesised spans


def parenthesis_matches(
    orths: np.ndarray, open_id: int, close_id: int
) -> List[Tuple[int, int, int]]:
    """(0, start, end) of every token run inside '(' ... ')' (what scispacy's Matcher pattern
    ``( + )`` yields, brackets removed), up to the length scispacy considers."""
    closes = np.flatnonzero(orths == close_id)
    out = []
    for i in np.flatnonzero(orths == open_id).tolist():
        for j in closes[(closes > i + 1) & (closes <= i + 1 + MAX_PARENTHESIS_TOKENS)].tolist():
            out.append((0, i + 1, j))
    return out


def defined_abbreviations(
    doc: Doc, orths: np.ndarray, open_id: int, close_id: int
) -> List[Tuple[Span, Span]]:
    """(long form, short form occurrence) pairs: each definition and every later use."""
    pairs: List[Tuple[Span, Span]] = []
    seen_long: Set[str] = set()
    seen_short: Set[str] = set()
    for long_candidate, short_candidate in filter_matches(
        parenthesis_matches(orths, open_id, close_id), doc
    ):
        short, long = find_abbreviation(long_candidate, short_candidate)
        if long is None or long.text in seen_long or short.text in seen_short:
            continue
        seen_long.add(long.text)
        seen_short.add(short.text)
        pairs.append((long, short))
        words = [t.orth for t in short]
        for start in np.flatnonzero(orths == words[0]).tolist():
            end = start + len(words)
            if (
                end <= len(doc)
                and (start, end) != (short.start, short.end)
                and orths[start:end].tolist() == words
            ):
                pairs.append((long, doc[start:end]))
    return pairs


class AbbreviationPropagator:
    def __init__(self, nlp: Language, name: str = "doc_checker_abbreviations") -> None:
        self.name = name
        self.open_id = nlp.vocab.strings.add("(")
        self.close_id = nlp.vocab.strings.add(")")

    def __call__(self, doc: Doc) -> Doc:
        orths = doc.to_array(ORTH)
        if not (orths == self.open_id).any():
            return doc
        pairs = defined_abbreviations(doc, orths, self.open_id, self.close_id)
        if not pairs:
            return doc
        bounds = group_bounds(doc, TARGET_GROUP)  # sorted by start
        targets = list(bounds)
        starts = [b[0] for b in bounds]
        longest = max((e - s for s, e, _ in bounds), default=0)
        occupied = np.zeros(len(doc) + 1, dtype=bool)
        for s, e, _ in bounds:
            occupied[s:e] = True
        for long_form, short in pairs:
            # targets overlapping the long form: they start before its end, at most `longest`
            # earlier
            lo = bisect.bisect_left(starts, long_form.start - longest)
            hi = bisect.bisect_left(starts, long_form.end)
            inside = [b for b in bounds[lo:hi] if b[0] < long_form.end and long_form.start < b[1]]
            if not inside or occupied[short.start : short.end].any():
                continue
            label = max(inside, key=lambda b: b[1] - b[0])[2]
            targets.append((short.start, short.end, label))
            occupied[short.start : short.end] = True
        if len(targets) > len(bounds):
            set_group(doc, TARGET_GROUP, targets)
        return doc
