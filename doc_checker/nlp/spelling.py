"""The spelling joiner: a key term split in two tokens becomes one token.

'Omni paque', 'C arm', 'fluoro-\\nscopic' (OCR line-break hyphenation) are merged into one
token when the joined word is a key term or respells to one
(:class:`~doc_checker.rules.spelling.Spelling`); the matcher then reads it, like any
misspelt word, as the term (:class:`~doc_checker.nlp.matcher.PredicateTable`).
"""

from __future__ import annotations

from typing import Any, FrozenSet, List, Optional, Tuple

from spacy.attrs import LOWER
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from ..rules.spelling import Spelling

_HYPHEN = get_string_id("-")


class SpellingJoiner:
    """Merges a key term split across two tokens ('Omni paque', 'C arm', 'fluoro-\\nscopic')
    into one token, so the rules see one word. Only joins whose result is a key term (or
    respells to one) are made; the note text and every offset stay as they are."""

    def __init__(self, nlp: Language, name: str = "doc_checker_spelling") -> None:
        self.name = name
        self.spelling: Optional[Spelling] = None
        self._prefilter: Optional[Tuple[Spelling, FrozenSet[Tuple[int, int]], FrozenSet[int]]] = (
            None
        )

    def _hashes(self, spelling: Spelling) -> Tuple[FrozenSet[Tuple[int, int]], FrozenSet[int]]:
        """The prefilter, as string hashes (the same in every vocabulary): each (first half,
        second half) of a key term or variant split in two, and each first half. Only tokens
        whose lower-case form starts such a pair, or a first half before a hyphen, are looked
        at as Token objects; a note without one costs one array read."""
        cached = self._prefilter
        if cached is None or cached[0] is not spelling:
            words = spelling.terms | frozenset(spelling.variants)
            pairs = frozenset(
                (get_string_id(w[:i]), get_string_id(w[i:]))
                for w in words
                for i in range(1, len(w))
            )
            cached = (spelling, pairs, frozenset(get_string_id(h) for h in spelling.heads))
            self._prefilter = cached
        return cached[1], cached[2]

    def set_spelling(self, nlp: Language, spelling: Optional[Spelling]) -> None:
        """Use ``spelling`` here and in the pipeline's matcher predicates."""
        from .matcher import PredicateTable

        self.spelling = spelling
        PredicateTable.of(nlp).set_spelling(spelling)

    def to_disk(self, path: Any, *, exclude: Tuple[str, ...] = ()) -> None:
        import json
        from pathlib import Path

        Path(path).mkdir(parents=True, exist_ok=True)
        data = self.spelling.to_dict() if self.spelling is not None else None
        (Path(path) / "spelling.json").write_text(json.dumps(data), encoding="utf-8")

    def from_disk(self, path: Any, *, exclude: Tuple[str, ...] = ()) -> "SpellingJoiner":
        import json
        from pathlib import Path

        data = json.loads((Path(path) / "spelling.json").read_text(encoding="utf-8"))
        self.spelling = Spelling.from_dict(data) if data is not None else None
        return self

    def __call__(self, doc: Doc) -> Doc:
        spelling = self.spelling
        if spelling is None or len(doc) < 2:
            return doc
        pairs, head_ids = self._hashes(spelling)
        lowers = doc.to_array(LOWER).tolist()
        hyphen = _HYPHEN
        n = len(doc)
        candidates = [
            i
            for i, pair in enumerate(zip(lowers, lowers[1:], strict=False))
            if pair in pairs or (pair[1] == hyphen and pair[0] in head_ids)
        ]
        spans: List[Tuple[int, int]] = []
        free = 0  # the first token not merged into a join already
        for i in candidates:
            if i < free:
                continue
            tok = doc[i]
            low = tok.lower_  # a first half of a key term: the prefilter's pairs and heads say so
            if tok.is_alpha:
                nxt = doc[i + 1]
                # 'omni paque' (one space) or 'fluoro' '-' '\n' 'scopic' (a line-break hyphen)
                if tok.whitespace_ == " " and nxt.is_alpha:
                    if spelling.exact(low + nxt.lower_) and not (
                        spelling.is_term(low) or spelling.is_term(nxt.lower_)
                    ):
                        spans.append((i, i + 2))
                        free = i + 2
                elif (
                    not tok.whitespace_
                    and nxt.text == "-"
                    and i + 3 < n
                    and doc[i + 2].is_space
                    and "\n" in doc[i + 2].text
                    and doc[i + 3].is_alpha
                ):
                    if spelling.exact(low + doc[i + 3].lower_) or spelling.respell(
                        low + doc[i + 3].lower_
                    ):
                        spans.append((i, i + 4))
                        free = i + 4
        if spans:
            with doc.retokenize() as retokenizer:
                for start, end in spans:
                    retokenizer.merge(doc[start:end])
        return doc
