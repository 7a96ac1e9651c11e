"""The spelling joiner: a key term split in two tokens becomes one token.

'Omni paque', 'C arm', 'fluoro-\\nscopic' (OCR line-break hyphenation) are merged into one
token when the joined word is a key term or respells to one
(:class:`~doc_checker.rules.spelling.Spelling`); the matcher then reads it, like any
misspelt word, as the term (:class:`~doc_checker.nlp.matcher.PredicateTable`).
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc

from ..rules.spelling import Spelling


class SpellingJoiner:
    """Merges a key term split across two tokens ('Omni paque', 'C arm', 'fluoro-\\nscopic')
    into one token, so the rules see one word. Only joins whose result is a key term (or
    respells to one) are made; the note text and every offset stay as they are."""

    def __init__(self, nlp: Language, name: str = "doc_checker_spelling") -> None:
        self.name = name
        self.spelling: Optional[Spelling] = None

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
        heads = spelling.heads
        spans: List[Tuple[int, int]] = []
        i, n = 0, len(doc)
        while i < n - 1:
            tok = doc[i]
            low = tok.lower_
            if low in heads and tok.is_alpha:
                nxt = doc[i + 1]
                # 'omni paque' (one space) or 'fluoro' '-' '\n' 'scopic' (a line-break hyphen)
                if tok.whitespace_ == " " and nxt.is_alpha:
                    if spelling.exact(low + nxt.lower_) and not (
                        spelling.is_term(low) or spelling.is_term(nxt.lower_)
                    ):
                        spans.append((i, i + 2))
                        i += 2
                        continue
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
                        i += 4
                        continue
            i += 1
        if spans:
            with doc.retokenize() as retokenizer:
                for start, end in spans:
                    retokenizer.merge(doc[start:end])
        return doc
