"""A 'Key: value' line is a template default only when its value ends on the line. Fax and OCR
cut dictated prose after its heading ('Technique: Under fluoro-' / 'scopic guidance ...', or a
hard wrap before a lower-case line): that line is prose, so fluoroscopy in it is not a template
default and the note is not routed to review as 'guidance only in template fields'."""

from __future__ import annotations

import pytest

from doc_checker.nlp._layout import Layout

HYPHEN_BROKEN = (
    "PROCEDURE: Prone, sterile prep. Under fluoro-\n"
    "scopic guidance a 22 gauge needle was advanced into the right sacroiliac joint.\n"
    "Omnipaque 240, 1 mL, outlined the joint. 40 mg triamcinolone injected.\n"
    "INDICATION: right buttock pain, suspected SI joint dysfunction.\n"
    "No ultrasound was used.\n"
)

HARD_WRAPPED = (
    "Technique: Using intermittent fluoroscopy a 25 g needle was\n"
    "advanced into the left first MTP joint. Isovue 200 (0.5 mL) confirmed\n"
    "intra-articular flow and 10 mg Kenalog was injected.\n"
    "Indication: left hallux rigidus with pain.\n"
    "Imaging: prior ultrasound report reviewed.\n"
)

TEMPLATE_FIELDS = (
    "Guidance: Fluoroscopy\n"
    "Contrast: Omnipaque\n"
    "Indication: right knee effusion.\n"
    "The right knee was aspirated under ultrasound guidance with an 18 g needle; 30 mL\n"
    "straw-coloured fluid removed.\n"
)


def test_lines_that_run_on_are_not_filled_fields():
    layout = Layout(HYPHEN_BROKEN)
    assert layout.lines[0].is_field_line and layout.runs_on(0) and not layout.is_filled_field(0)
    layout = Layout(HARD_WRAPPED)
    assert layout.runs_on(0) and not layout.is_filled_field(0)
    assert not layout.runs_on(3)  # 'Indication: ... pain.' ends its sentence
    layout = Layout(TEMPLATE_FIELDS)
    assert layout.is_filled_field(0) and layout.is_filled_field(1)


@pytest.mark.parametrize(
    "text, code",
    [(HYPHEN_BROKEN, "77003"), (HARD_WRAPPED, "77002")],
    ids=["hyphen-broken", "hard-wrapped"],
)
def test_prose_cut_after_its_heading_still_guides(checker, text, code):
    result = checker.check(text)
    assert result.elements["fluoroscopic_guidance"].status == "present"
    assert result.suggested_code == code
    assert "guidance_template_only" not in result.review.reasons
    assert "template_default" not in result.review.reasons


def test_a_real_template_default_still_loses_to_dictated_prose(checker):
    result = checker.check(TEMPLATE_FIELDS)
    assert result.suggested_code == "76942"
    assert "template_default" in result.review.reasons
