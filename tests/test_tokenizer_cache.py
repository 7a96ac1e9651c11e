"""The tokenizer cache workaround (doc_checker/tokenizer_cache.py) never changes tokenization."""

from pathlib import Path

import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from medspacy.custom_tokenizer import create_medspacy_tokenizer

from doc_checker.nlp._tokenizer_cache import ChunkCachePrimer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "notes"
LINES = [
    line
    for p in sorted(FIXTURES.glob("*.txt"))
    for line in p.read_text(encoding="utf-8").splitlines()
]
PIECES = [
    "can't",
    "Dr.",
    "e.g.",
    "w/o",
    "c/o",
    "22g",
    "5mL",
    "(L)",
    "\n",
    "\n\n",
    "  ",
    "\t",
    "x-ray",
    ":)",
    "U.S.",
]


def _tokens(doc):
    return [(t.text, t.whitespace_) for t in doc]


def _tokenizer():
    nlp = spacy.blank("en")
    return create_medspacy_tokenizer(nlp)


PRIMED = _tokenizer()
PRIMER = ChunkCachePrimer(PRIMED)
PLAIN = _tokenizer()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(LINES), st.sampled_from(PIECES)), min_size=1, max_size=30),
    st.lists(st.sampled_from([" ", "\n", "", "  "]), min_size=30, max_size=30),
)
def test_primed_tokenizer_splits_exactly_as_spacy(parts, seps):
    # seps is never shorter than parts: each part takes the next separator, the rest go unused
    text = "".join(p + s for p, s in zip(parts, seps, strict=False))
    PRIMER(text)
    PRIMER(text)  # every chunk now seen twice: primed
    assert _tokens(PRIMED(text)) == _tokens(PLAIN(text))


def test_priming_caches_chunks_after_the_first_line_break():
    """The point of it: with a line break early in the note, spaCy alone re-splits the rest every
    time; primed, the second note's chunks come from the cache (measured as fewer affix calls)."""
    tok = _tokenizer()
    calls = {"n": 0}
    suffix = tok.suffix_search

    def counting(text):
        calls["n"] += 1
        return suffix(text)

    tok.suffix_search = counting
    note = (
        "PROCEDURE:\nUnder fluoroscopic guidance, a 22-gauge needle was advanced (left hip joint)."
    )
    tok(note)
    calls["n"] = 0
    tok(note)
    unprimed = calls["n"]
    primer = ChunkCachePrimer(tok)
    primer(note)
    primer(note)
    calls["n"] = 0
    tok(note)
    assert unprimed > 0 and calls["n"] < unprimed
