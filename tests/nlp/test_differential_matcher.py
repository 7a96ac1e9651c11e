"""The checker's matcher (doc_checker.nlp.matcher) against spaCy's own ``Matcher`` and
``PhraseMatcher``: identical (key, start, end) matches.

``tests/test_matcher.py`` checks the compiled core against the pure-Python path; this module
checks the matcher against spaCy: on random token patterns built from every attribute, predicate
and operator the rule files use (over random words and over windows of fixture notes, with
their real tokens and sentence starts), and on every token pattern and literal of every rule
file over every fixture note.
"""

from __future__ import annotations

import re
from typing import List, Sequence, Tuple

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from doc_checker.nlp import matcher as matcher_module
from doc_checker.nlp.matcher import FastMatcher
from doc_checker.nlp.targets import lexicon_variants
from tests.test_matcher import OPS, TOKEN_SPECS, WORDS

from .conftest import fixture_notes

# every token attribute, predicate and operator the rule files in patterns/ use (test_rule_files_
# use_nothing_else_than_these checks that list), in addition to test_matcher's specs
MORE_WORDS = ["Needle", "NEEDLE", "Fluoroscopy", "US", "us", "[", "]", "(", ")", "x", "\n", "not"]
MORE_SPECS = [
    {"TEXT": "US"},
    {"ORTH": "Needle"},
    {"ORTH": {"IN": ["[", "(", "US"]}},
    {"TEXT": {"IN": ["]", ")"]}},
    {"IS_ALPHA": True},
    {"IS_ALPHA": False},
    {"LOWER": {"REGEX": "^(needle|us)$"}},
    {"LOWER": {"IN": ["needle", "fluoroscopy"]}, "IS_SENT_START": True},
    {"LIKE_NUM": True, "OP": None},
    {"IS_SPACE": True},
    {"IS_SENT_START": False, "LIKE_NUM": False, "LOWER": {"NOT_IN": ["not", "never"]}},
]
SPECS = TOKEN_SPECS + MORE_SPECS
ALL_OPS = OPS + ["{0,3}", "{0,6}"]
USED_ATTRS = {
    "LOWER",
    "ORTH",
    "TEXT",
    "LIKE_NUM",
    "IS_PUNCT",
    "IS_SENT_START",
    "IS_ALPHA",
    "IS_SPACE",
}
USED_PREDICATES = {"IN", "REGEX", "NOT_IN"}


def _op_shape(op):
    """'{0,6}' -> '{n,n}': the random patterns use every quantifier shape, with small counts."""
    return re.sub(r"\d+", "n", op) if isinstance(op, str) else op


USED_OPS = {_op_shape(op) for op in ALL_OPS}


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def _pattern(spec: Sequence[Tuple[int, object]]) -> List[dict]:
    out = []
    for spec_i, op in spec:
        tok = {k: v for k, v in SPECS[spec_i].items() if k != "OP"}
        if op is not None:
            tok["OP"] = op
        out.append(tok)
    return out


def _both(nlp, patterns: List[List[dict]], doc: Doc, monkeypatch, compiled: bool):
    ours = FastMatcher(nlp)
    theirs = Matcher(nlp.vocab, validate=True)
    for key, pattern in enumerate(patterns):
        try:
            ours.add_pattern(key, pattern)
        except Exception:  # noqa: BLE001 - a pattern with no required token: the checker refuses it
            continue
        theirs.add(str(key), [pattern])
    if not len(ours):
        return [], []
    monkeypatch.setattr(matcher_module, "COMPILED", compiled)
    found = sorted(set(ours(doc)))
    monkeypatch.undo()
    expected = sorted({(int(nlp.vocab.strings[m]), s, e) for m, s, e in theirs(doc)})
    return found, expected


PATTERNS = st.lists(
    st.lists(
        st.tuples(st.sampled_from(range(len(SPECS))), st.sampled_from(ALL_OPS)),
        min_size=1,
        max_size=5,
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    patterns=PATTERNS,
    words=st.lists(st.sampled_from(WORDS + MORE_WORDS), min_size=1, max_size=40),
    sent_starts=st.lists(st.booleans(), min_size=40, max_size=40),
    compiled=st.booleans(),
)
def test_random_patterns_on_random_words_match_as_spacy(
    nlp, monkeypatch, patterns, words, sent_starts, compiled
):
    doc = Doc(nlp.vocab, words=words, sent_starts=[True] + sent_starts[1 : len(words)])
    found, expected = _both(nlp, [_pattern(p) for p in patterns], doc, monkeypatch, compiled)
    assert found == expected


@pytest.fixture(scope="module")
def fixture_docs(checker):
    """Every fixture note, tokenized and split into sentences by the checker's pipeline."""
    return [checker.nlp(checker._make_doc(text)) for _, text in fixture_notes()]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(patterns=PATTERNS, which=st.integers(0, 10**6), at=st.integers(0, 10**6))
def test_random_patterns_on_fixture_text_match_as_spacy(
    checker, fixture_docs, monkeypatch, patterns, which, at
):
    doc = fixture_docs[which % len(fixture_docs)]
    start = at % max(1, len(doc) - 60)
    window = doc[start : start + 60].as_doc()  # real tokens and sentence starts
    window[0].is_sent_start = True
    for compiled in (True, False):
        found, expected = _both(
            checker.nlp, [_pattern(p) for p in patterns], window, monkeypatch, compiled
        )
        assert found == expected


def _rule_patterns(checker) -> List[Tuple[str, dict]]:
    """(where, rule) for every target rule (with the lexicon's variants) and context rule."""
    ruleset = checker.ruleset
    layers = lexicon_variants(ruleset.target_layers, ruleset.abbreviations, checker.nlp.tokenizer)
    rules = [(layer, r.to_dict()) for layer, rs in layers.items() for r in rs]
    rules += [("context", r.to_dict()) for r in ruleset.context_rules]
    rules += [("sections", r.to_dict()) for r in ruleset.sections]
    return rules


def test_rule_files_use_nothing_else_than_these(checker):
    """The random patterns above cover what the rule files use; a new attribute, predicate or
    operator in a rule file fails here until it is added to them."""
    attrs, predicates, ops = set(), set(), set()
    for _, rule in _rule_patterns(checker):
        if isinstance(rule.get("pattern"), list):
            for tok in rule["pattern"]:
                ops.add(_op_shape(tok.get("OP")))
                for attr, value in tok.items():
                    if attr != "OP":
                        attrs.add(attr)
                        if isinstance(value, dict):
                            predicates.update(value)
    assert attrs <= USED_ATTRS
    assert predicates <= USED_PREDICATES
    assert ops <= USED_OPS


def test_every_rule_matches_as_spacy_on_every_fixture(checker, fixture_docs, monkeypatch):
    """Token patterns vs spaCy's Matcher; literals vs spaCy's PhraseMatcher on LOWER (what
    medspaCy's matcher does with a rule without a pattern). Regex rules are compared through
    medspaCy's Sectionizer in test_differential_sections."""
    nlp = checker.nlp
    ours = FastMatcher(nlp)
    theirs = Matcher(nlp.vocab, validate=True)
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    n = 0
    for key, (where, rule) in enumerate(_rule_patterns(checker)):
        pattern = rule.get("pattern")
        if isinstance(pattern, list):
            ours.add_pattern(key, pattern, where=where)
            theirs.add(str(key), [pattern])
        elif pattern is None:
            ours.add_literal(key, rule["literal"])
            phrases.add(str(key), [nlp.make_doc(rule["literal"].lower())])
        else:
            continue
        n += 1
    assert n > 200
    matched = 0
    for doc in fixture_docs:
        for compiled in (True, False):
            monkeypatch.setattr(matcher_module, "COMPILED", compiled)
            found = sorted(set(ours(doc)))
            monkeypatch.undo()
            expected = sorted(
                {(int(nlp.vocab.strings[m]), s, e) for m, s, e in theirs(doc) + phrases(doc)}
            )
            assert found == expected
        matched += len(found)
    assert matched > 1000


def test_a_known_answer(nlp, monkeypatch):
    """The comparison itself can fail: spaCy and the checker both find these, and only these."""
    doc = Doc(nlp.vocab, words=["22", "gauge", "spinal", "needle", "."])
    found, expected = _both(
        nlp,
        [[{"LIKE_NUM": True}, {"LOWER": "gauge", "OP": "?"}, {"IS_ALPHA": True, "OP": "{0,3}"}]],
        doc,
        monkeypatch,
        True,
    )
    assert found == expected == [(0, 0, 1), (0, 0, 2), (0, 0, 3), (0, 0, 4)]
