"""The checker's section detection against stock medspaCy's ``Sectionizer``, same rules
(patterns/sections.json through ``SectionRule``), same tokens, on every fixture and corpus
note: the same headers (rule category, start and end token), in order. No deviation is listed
for sections (``doc_checker.nlp.deviations``); one found here goes there, with its test."""

from __future__ import annotations

import pytest

from doc_checker.nlp._spangroups import group_bounds
from doc_checker.nlp.deviations import deviations_of
from doc_checker.nlp.reference import stock_sectionizer, stock_sections
from doc_checker.nlp.sections import SECTION_GROUP


@pytest.fixture(scope="module")
def sectionizer(checker):
    return stock_sectionizer(checker.nlp, checker.ruleset.sections)


def test_no_section_deviation_is_listed():
    assert deviations_of("sections") == ()


@pytest.mark.parametrize("source", ["fixtures", "corpus"])
def test_same_headers_as_medspacy_sectionizer(checked_docs, sectionizer, source):
    headers = 0
    for nid, doc in checked_docs(source):
        ours = list(group_bounds(doc, SECTION_GROUP))
        assert ours == stock_sections(sectionizer, doc), nid
        headers += len(ours)
    assert headers > 100


def test_a_known_answer(checker, sectionizer):
    """Both find the known headers, with the same bounds, and neither an unknown 'BANANA:'."""
    doc = checker.nlp(checker._make_doc("INDICATION: hip pain.\nBANANA: x.\nTECHNIQUE: fluoro.\n"))
    ours = list(group_bounds(doc, SECTION_GROUP))
    assert [(doc[s:e].text, c) for s, e, c in ours] == [
        ("INDICATION:", "indication"),
        ("TECHNIQUE:", "technique"),
    ]
    assert ours == stock_sections(sectionizer, doc)
