"""The checker's ConText against stock medspaCy's ConText: same rules (patterns/context.json),
same targets, same tokens and sentences, on every fixture and corpus note.

They must give identical modifiers per target once the deviations listed in
``doc_checker.nlp.deviations`` are applied to stock medspaCy (its ``applied`` patches); every
listed deviation must be needed somewhere; and each one is pinned on a minimal sentence.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import pytest
import spacy
from spacy.tokens import Doc

from doc_checker.nlp._spangroups import group_bounds
from doc_checker.nlp.context import MODIFIERS_KEY
from doc_checker.nlp.deviations import PATCHES, applied, deviations_of
from doc_checker.nlp.reference import (
    modifier_agreement,
    project_context,
    project_modifiers,
    stock_context,
    stock_modifiers,
)
from doc_checker.nlp.targets import TARGET_GROUP

CONTEXT_DEVIATIONS = [d.id for d in deviations_of("context")]
# stock medspaCy alone, same rules and targets: measured 7,130 of 7,218 targets (98.8%) on the
# fixtures and corpus; every difference is one of the listed deviations
STOCK_AGREEMENT_FLOOR = 0.98


@pytest.fixture(scope="module")
def stock(checker):
    return stock_context(checker.nlp, checker.ruleset.context_rules)


def _compare(docs, stock, deviations) -> Tuple[int, List[Tuple[str, str, List[str], List[str]]]]:
    total, differ = 0, []
    with applied(stock, deviations):
        for nid, doc in docs:
            targets = list(group_bounds(doc, TARGET_GROUP))
            theirs = stock_modifiers(stock, doc, targets)
            _, diffs = modifier_agreement(doc.user_data[MODIFIERS_KEY], theirs, targets)
            total += len(targets)
            differ.extend((nid, *d) for d in diffs)
    return total, differ


def test_every_listed_deviation_has_its_patch():
    from doc_checker.nlp.deviations import DEVIATIONS

    assert sorted(PATCHES) == sorted(d.id for d in DEVIATIONS)


@pytest.mark.parametrize("source", ["fixtures", "corpus"])
def test_stock_medspacy_with_the_listed_deviations_gives_identical_modifiers(
    checked_docs, stock, source
):
    docs = checked_docs(source)
    total, differ = _compare(docs, stock, CONTEXT_DEVIATIONS)
    assert total > 1000
    assert differ == []


@pytest.mark.parametrize("source", ["fixtures", "corpus"])
def test_stock_medspacy_alone_agrees_on_most_targets(checked_docs, stock, source):
    total, differ = _compare(checked_docs(source), stock, [])
    assert differ, "no deviation shows: is the list stale?"
    assert 1 - len(differ) / total >= STOCK_AGREEMENT_FLOOR


@pytest.mark.parametrize("left_out", CONTEXT_DEVIATIONS)
def test_every_listed_deviation_is_needed(checked_docs, stock, left_out):
    """Leave one deviation out: some note disagrees (the list holds nothing that never occurs)."""
    docs = checked_docs("fixtures") + checked_docs("corpus")
    _, differ = _compare(docs, stock, [d for d in CONTEXT_DEVIATIONS if d != left_out])
    assert differ


# pinned deviations: a minimal sentence each, the checker's ConText and stock medspaCy side by side
NEG = "NEGATED_EXISTENCE"


def _both(rules: List[dict], words: List[str], targets) -> Tuple[Dict, Dict]:
    nlp = spacy.blank("en")
    ours = project_context(nlp, rules)
    theirs = stock_context(nlp, rules)
    doc = Doc(nlp.vocab, words=words, sent_starts=[True] + [False] * (len(words) - 1))
    return project_modifiers(ours, doc, targets), stock_modifiers(theirs, doc, targets)


def test_deviation_symmetric_overlap():
    rules = [
        {"literal": "no", "category": NEG, "direction": "FORWARD", "max_scope": 6},
        {"literal": "but", "category": "TERMINATE", "direction": "TERMINATE"},
    ]
    words = "No contrast but fluoroscopy was used for the injection today .".split()
    targets = [(1, 2, "CONTRAST"), (3, 4, "GUIDANCE")]
    ours, theirs = _both(rules, words, targets)
    assert ours == {"1:2:CONTRAST": [NEG]}
    # the negation's scope (6 tokens) lies inside the sentence-long TERMINATE scope: stock
    # medspaCy finds no overlap, and 'no' negates across 'but'
    assert theirs == {"1:2:CONTRAST": [NEG], "3:4:GUIDANCE": [NEG]}


def test_deviation_symmetric_overlap_modifier_inside_the_target():
    rules = [{"literal": "no", "category": NEG, "direction": "FORWARD"}]
    words = "Neck supple , no lymphadenopathy , thyromegaly or JVD .".split()
    targets = [(0, 5, "FINDING"), (6, 7, "FINDING")]
    ours, theirs = _both(rules, words, targets)
    assert ours == {"6:7:FINDING": [NEG]}
    # stock: 'no' lies strictly inside the first target, which its overlap test misses, and the
    # target reaches into the scope after 'no': the target negates itself
    assert theirs == {"0:5:FINDING": [NEG], "6:7:FINDING": [NEG]}


def test_deviation_pseudo_silences_inside():
    rules = [
        {"literal": "without", "category": NEG, "direction": "FORWARD"},
        {"literal": "without difficulty", "category": "PSEUDO", "direction": "PSEUDO"},
    ]
    words = "Needle placed without difficulty under fluoroscopy .".split()
    targets = [(0, 1, "NEEDLE"), (5, 6, "GUIDANCE")]
    ours, theirs = _both(rules, words, targets)
    assert ours == {}
    assert theirs == {"5:6:GUIDANCE": [NEG]}


def test_deviation_before_by_start():
    rules = [
        {"literal": "not", "category": NEG, "direction": "BIDIRECTIONAL", "max_scope": 1},
        {"literal": "not used", "category": NEG, "direction": "BACKWARD"},
    ]
    words = "Imaging for the injection was not used .".split()
    targets = [(0, 1, "GUIDANCE")]
    ours, theirs = _both(rules, words, targets)
    assert ours == {"0:1:GUIDANCE": [NEG]}
    # stock: 'not' (ends first) counts as before 'not used' and cuts its backward scope to
    # (6, 5), empty
    assert theirs == {}


def test_max_targets_as_medspacy():
    """A rule's max_targets keeps the nearest targets only, as medspaCy's reduce_targets."""
    rules = [{"literal": "no", "category": NEG, "direction": "FORWARD", "max_targets": 2}]
    words = "No needle , contrast or fluoroscopy was used ; no sedation .".split()
    targets = [(1, 2, "NEEDLE"), (3, 4, "CONTRAST"), (5, 6, "GUIDANCE"), (10, 11, "SEDATION")]
    ours, theirs = _both(rules, words, targets)
    assert ours == theirs == {"1:2:NEEDLE": [NEG], "3:4:CONTRAST": [NEG], "10:11:SEDATION": [NEG]}
