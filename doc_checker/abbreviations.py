"""Abbreviations a note defines itself ('fluoroscopic guidance (FG) ... under FG').

scispacy's AbbreviationDetector (Schwartz & Hearst 2003) finds each short form and its long
form; this component gives every occurrence of the short form the category of the target found
inside its long form, so 'under FG' documents guidance as 'under fluoroscopic guidance' does.
Common undefined abbreviations (fluoro, FNA, US, LUL) come from the lexicon instead
(``patterns/abbreviations.json``, applied when the target rules load).
"""

from typing import List

from spacy.language import Language
from spacy.tokens import Doc, Span

from .targets import TARGET_GROUP


@Language.factory("doc_checker_abbreviations", assigns=["doc.spans"])
def make_abbreviation_propagator(nlp: Language, name: str) -> "AbbreviationPropagator":
    return AbbreviationPropagator(name)


class AbbreviationPropagator:
    def __init__(self, name: str = "doc_checker_abbreviations") -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        abbreviations = getattr(doc._, "abbreviations", None)
        if not abbreviations:
            return doc
        targets: List[Span] = list(doc.spans[TARGET_GROUP])
        occupied = {(t.start, t.end) for t in targets}
        added = False
        for short in abbreviations:
            long_form = short._.long_form
            if long_form is None or not hasattr(long_form, "start"):
                continue
            inside = [t for t in targets if t.start < long_form.end and long_form.start < t.end]
            if not inside:
                continue
            label = max(inside, key=lambda t: len(t)).label_
            if any(s < short.end and short.start < e for s, e in occupied):
                continue
            targets.append(Span(doc, short.start, short.end, label=label))
            occupied.add((short.start, short.end))
            added = True
        if added:
            targets.sort(key=lambda s: (s.start, s.end))
            doc.spans[TARGET_GROUP] = targets
        # drop scispacy's rich objects: only plain data stays on the Doc
        doc._.abbreviations = []
        return doc
