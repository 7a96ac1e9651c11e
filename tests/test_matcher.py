"""The matcher's compiled core (doc_checker/_matchcore.pyx) against its pure-Python reference.

Both paths must find exactly the same (key, start, end) matches: on random patterns over random
docs (every quantifier, sentence-start tests, wildcards), and through the whole checker on every
fixture note.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from doc_checker.nlp import matcher
from doc_checker.nlp.matcher import FastMatcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "notes"
WORDS = [
    "fluoroscopy",
    "needle",
    "the",
    "a",
    ",",
    ".",
    "22",
    "gauge",
    "hip",
    "no",
    "contrast",
    "of",
    "-",
    "1",
]
TOKEN_SPECS = [
    {},
    {"LOWER": "needle"},
    {"LOWER": "the"},
    {"LOWER": {"IN": ["hip", "contrast", "fluoroscopy"]}},
    {"ORTH": ","},
    {"IS_PUNCT": True},
    {"IS_PUNCT": False},
    {"LIKE_NUM": True},
    {"LIKE_NUM": False},
    {"LOWER": {"REGEX": "^(g|ga)uge$"}},
    {"LOWER": {"REGEX": "o"}},
    {"LOWER": {"NOT_IN": ["the", "a"]}},
    {"IS_SENT_START": True},
    {"IS_SENT_START": False, "LOWER": "needle"},
]
OPS = [None, "?", "*", "+", "{2}", "{1,3}", "{0,2}", "{2,}", "{,2}"]


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def _both(fm: FastMatcher, doc: Doc, monkeypatch) -> tuple:
    monkeypatch.setattr(matcher, "COMPILED", True)
    compiled = sorted(set(fm(doc)))
    monkeypatch.setattr(matcher, "COMPILED", False)
    python = sorted(set(fm(doc)))
    monkeypatch.undo()
    return compiled, python


def test_the_compiled_core_is_built_and_nothing_is_stale():
    """`make install` builds the matcher core (this machine has a compiler; without one it runs
    its pure-Python path identically, about three times slower). The plain modules run as
    Python unless DOC_CHECKER_COMPILE=all built them; a build older than its source never runs."""
    from doc_checker._build import CORE, build_status

    status = build_status()
    assert matcher.CORE_BUILT
    assert status[CORE] == "compiled"
    assert set(status.values()) <= {"compiled", "python"}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    patterns=st.lists(
        st.lists(
            st.tuples(st.sampled_from(range(len(TOKEN_SPECS))), st.sampled_from(OPS)),
            min_size=1,
            max_size=5,
        ),
        min_size=1,
        max_size=6,
    ),
    words=st.lists(st.sampled_from(WORDS), min_size=0, max_size=40),
    sent_starts=st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_compiled_core_matches_the_python_reference(nlp, monkeypatch, patterns, words, sent_starts):
    fm = FastMatcher(nlp)
    added = 0
    for key, spec in enumerate(patterns):
        pattern = []
        for spec_i, op in spec:
            tok = dict(TOKEN_SPECS[spec_i])
            if op is not None:
                tok["OP"] = op
            pattern.append(tok)
        try:
            fm.add_pattern(key, pattern)
            added += 1
        except Exception:  # noqa: BLE001 - patterns with no required token are refused by both
            continue
    if not added:
        return
    doc = Doc(
        nlp.vocab, words=words, sent_starts=[True] + sent_starts[1 : len(words)] if words else None
    )
    compiled, python = _both(fm, doc, monkeypatch)
    assert compiled == python


def test_known_answers(nlp, monkeypatch):
    fm = FastMatcher(nlp)
    fm.add_pattern(0, [{"LIKE_NUM": True}, {"LOWER": "gauge", "OP": "?"}, {"LOWER": "needle"}])
    fm.add_pattern(1, [{"LOWER": "no"}, {"IS_PUNCT": False, "OP": "*"}, {"LOWER": "contrast"}])
    fm.add_pattern(2, [{"IS_PUNCT": False, "OP": "+"}])
    doc = Doc(nlp.vocab, words=["22", "gauge", "needle", ",", "no", "iodinated", "contrast", "."])
    compiled, python = _both(fm, doc, monkeypatch)
    assert compiled == python
    assert (0, 0, 3) in compiled and (1, 4, 7) in compiled
    # '+' over the non-punctuation runs: every (start, end) inside each run
    runs = [(0, 3), (4, 7)]
    assert sorted(m for m in compiled if m[0] == 2) == sorted(
        (2, s, e) for a, b in runs for s in range(a, b) for e in range(s + 1, b + 1)
    )


def test_every_fixture_gives_the_same_result_either_way(checker, monkeypatch):
    notes = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.txt"))]
    monkeypatch.setattr(matcher, "COMPILED", True)
    compiled = [json.dumps(r.to_dict(), sort_keys=True) for r in checker.check_many(notes)]
    monkeypatch.setattr(matcher, "COMPILED", False)
    python = [json.dumps(r.to_dict(), sort_keys=True) for r in checker.check_many(notes)]
    assert compiled == python


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 30), st.integers(1, 8)), max_size=40))
def test_longest_first_compiled_and_python_agree(monkeypatch, raw):
    matches = [(key, start, start + length) for key, start, length in raw]
    monkeypatch.setattr(matcher, "COMPILED", True)
    compiled = matcher.longest_first(matches)
    monkeypatch.setattr(matcher, "COMPILED", False)
    python = matcher.longest_first(matches)
    assert compiled == python
    taken = [i for _, s, e in compiled for i in range(s, e)]
    assert len(taken) == len(set(taken))  # never overlapping


PREFIXES = [r"(?:^|(?<=[.;] ))[ \t]*", r"(?:^|(?<=[.;] ))", r"[ \t]*(?:[-*][ \t]*)?", r"(a|b)", ""]
RESTS = [
    r"indications?[ \t]*:",
    r"(?:past[ \t]+)?history\n",
    r"plan",
    r"a+b?",
    r"(?:dose|fluoro(?:scopy)?)[ \t]*(?::|\n)",
    r"b{1,2}",
    r"\1x",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(PREFIXES), st.sampled_from(RESTS)), min_size=1, max_size=6),
    st.text(alphabet="ab .;:\n\tindcatospl-*hryfu", max_size=60),
)
def test_factored_union_matches_where_the_plain_union_does(rules, text):
    """The sections prefilter writes the shared start of the header rules once; it must accept
    exactly the positions where some rule matches."""
    import re

    bodies = [p + r for p, r in rules]
    try:
        plain = re.compile("|".join(f"(?:{b})" for b in bodies), re.I | re.M)
    except re.error:
        return  # e.g. a back-reference without its group
    factored = re.compile(matcher._factored(bodies), re.I | re.M)
    for pos in range(len(text) + 1):
        assert bool(plain.match(text, pos)) == bool(factored.match(text, pos)), (bodies, text, pos)
