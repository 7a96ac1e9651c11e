"""Tokenizing a note: medspaCy's clinical tokenizer, guarded against pathological runs."""

from __future__ import annotations

import re

# A whitespace-free run this long is not prose (a pasted blob, repeated punctuation): spaCy's
# tokenizer strips affixes from a run one character at a time, which is quadratic in its length.
LONG_RUN_CHARS = 1000
# (?<!\S): a run is tried from its first character only, not again from each one inside it
_LONG_RUN_RE = re.compile(r"(?<!\S)\S{%d,}" % LONG_RUN_CHARS)


def make_doc(nlp, text: str):
    """``nlp.make_doc(text)``, except that whitespace-free runs of LONG_RUN_CHARS or more are cut
    into plain tokens of that size instead of going through affix splitting. The Doc's text is
    exactly ``text`` either way."""
    from spacy.tokens import Doc

    runs = list(_LONG_RUN_RE.finditer(text))
    if not runs:
        return nlp.make_doc(text)
    parts = []
    pos = 0
    for m in runs:
        if m.start() > pos:
            parts.append(nlp.make_doc(text[pos : m.start()]))
        run = m.group()
        words = [run[i : i + LONG_RUN_CHARS] for i in range(0, len(run), LONG_RUN_CHARS)]
        parts.append(Doc(nlp.vocab, words=words, spaces=[False] * len(words)))
        pos = m.end()
    if pos < len(text):
        parts.append(nlp.make_doc(text[pos:]))
    doc = Doc.from_docs(parts, ensure_whitespace=False)
    if doc.text != text:  # pragma: no cover - defensive: never return a Doc that moved offsets
        raise ValueError("tokenization changed the note text")
    return doc
