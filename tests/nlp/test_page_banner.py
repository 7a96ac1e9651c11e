"""Page banners a page break leaves inside a sentence (issue 12: OCR / fax debris): the sentence
runs on past the banner line, so a needle keeps its target ('advanced into the' / 'Page 2 of 3
Fax ...' / 'right knee joint'). The banner pattern is data (patterns/sections.json
'page_banner'); notes written for these tests."""

from __future__ import annotations

from itertools import pairwise

import pytest

from doc_checker.errors import RulesError
from doc_checker.nlp.sentences import LineSentenceSplitter, sentence_starts
from doc_checker.rules import validate

BANNERS = [
    "Page 2 of 3    Fax 555-0100    Printed 03/04/2024",
    "FAX FROM 555 201 3344   03/14/2024 10:22 AM   P.002",
    "-- continued --",
    "Printed by: jsmith 04/01/2024 08:15    Page 2 of 3",
    "Patient: DOE, JANE   MRN 00482913   Page 2 of 2",
    "(Continued on next page)",
    "Northside Bone & Joint  Fax:555-0133  Mar 14 2026 08:51  p.2",
    "ST. LUKE'S IMAGING   printed 14-Mar-2026 08:51   Page 2",
]
NOT_BANNERS = [
    "Fluoroscopy time: 0.1 min",
    "Continued pain in the left knee",
    "Printed images were reviewed",
    "Page",
    "Fax",
    "Printed",
    "GRAND PRAIRIE COMMUNITY HOSPITAL",
    "Fax Results To Dr Smith",
]


@pytest.fixture(scope="module")
def banner(checker):
    assert checker.ruleset.page_banner is not None
    return checker.ruleset.page_banner


@pytest.mark.parametrize("line", BANNERS)
def test_banner_lines_match(banner, line):
    assert banner.fullmatch(line)


@pytest.mark.parametrize("line", NOT_BANNERS)
def test_clinical_lines_are_no_banners(banner, line):
    assert not banner.fullmatch(line)


def _sentences(text, banner):
    starts = sentence_starts(text, banner=banner)
    return [text[a:b].strip() for a, b in pairwise(starts + [len(text)])]


@pytest.mark.parametrize("line", BANNERS)
def test_a_banner_inside_a_sentence_does_not_end_it(banner, line):
    text = (
        "TECHNIQUE: Under fluoroscopy a 22-gauge needle was advanced into the\n"
        f"{line}\nright knee joint. 40 mg triamcinolone was injected.\n"
    )
    sentences = _sentences(text, banner)
    assert sentences[0].startswith("TECHNIQUE") and sentences[0].endswith("right knee joint.")


def test_without_the_pattern_a_short_banner_ends_the_sentence(banner):
    text = "Under fluoroscopy a 22-gauge needle was then advanced\nPage 2 of 2\nInto the knee.\n"
    assert len(_sentences(text, None)) == 2
    assert len(_sentences(text, banner)) == 1


def test_a_banner_between_sentences_or_before_a_heading_joins_nothing(banner):
    text = (
        "TECHNIQUE: A 22-gauge needle was advanced into the right knee joint.\n"
        "Page 2 of 2\nCOMPLICATIONS: None.\n"
        "IMPRESSION: Successful right knee injection under fluoroscopic guidance and\n"
        "Page 3 of 3\nCOMPLICATIONS: none\n"
    )
    sentences = _sentences(text, banner)
    assert "COMPLICATIONS: None." in sentences and "COMPLICATIONS: none" in sentences


def test_a_short_line_broken_mid_phrase_runs_on():
    text = "The needle went into the\nright subacromial-\nsubdeltoid bursa.\n"
    assert len(_sentences(text, None)) == 1


def test_the_needle_keeps_its_target_across_a_banner(checker):
    text = (
        "PROCEDURE: Right knee aspiration.\nINDICATION: effusion.\nUnder fluoroscopy an 18-gauge "
        "needle was advanced into the\nFAX FROM 555 201 3344   03/14/2024 10:22 AM   P.002\n"
        "right knee joint and 20 mL fluid aspirated; 2 mL contrast confirmed position.\n"
    )
    result = checker.check(text)
    assert result.elements["needle_placement"].status == "present"
    assert result.verdict == "supported"


def test_the_banner_pattern_is_saved_with_the_pipeline(banner, tmp_path):
    splitter = LineSentenceSplitter()
    splitter.set_page_banner(banner.pattern)
    splitter.to_disk(tmp_path / "s")
    loaded = LineSentenceSplitter().from_disk(tmp_path / "s")
    assert loaded.page_banner is not None and loaded.page_banner.pattern == banner.pattern


@pytest.mark.parametrize("pattern, message", [("(", "page_banner"), ("x?", "empty line")])
def test_a_bad_banner_pattern_fails_the_load(pattern, message):
    with pytest.raises(RulesError, match=message):
        validate("sections", {"section_rules": [], "page_banner": pattern}, "f.json")


@pytest.mark.parametrize(
    "before, after",
    [
        ("A 22 g needle went into the", "R knee joint."),  # stops mid-phrase
        ("The needle was advanced and", "2 mL Omnipaque outlined the joint."),  # a number
    ],
)
def test_a_short_line_before_a_banner_runs_on_when_the_phrase_does(banner, before, after):
    text = f"{before}\nPage 2 of 2\n{after}\n"
    assert len(_sentences(text, banner)) == 1
