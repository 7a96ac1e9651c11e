"""Later statements override earlier ones (decide/corrections.py): addenda, template defaults,
procedures not performed here. Notes written for these tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def checker():
    from doc_checker import Checker

    with Checker() as c:
        yield c


BODY = (
    "INDICATION: Right hip pain.\n"
    "TECHNIQUE: Under fluoroscopic guidance, a 20-gauge needle was advanced into the right hip "
    "joint. 2 mL Omnipaque confirmed intra-articular position. 40 mg triamcinolone injected.\n"
)


def test_an_addendum_that_says_ultrasound_corrects_the_template(checker):
    text = BODY + (
        "ADDENDUM: Correction - no fluoroscopy was used; the needle was placed under ultrasound "
        "guidance and no contrast was injected.\n"
    )
    result = checker.check(text)
    assert result.elements["fluoroscopic_guidance"].status != "present"
    assert result.elements["contrast_confirmation"].status != "present"
    assert result.suggested_code == "76942"
    assert "addendum_correction" in result.review.reasons


def test_without_the_addendum_the_same_body_is_supported(checker):
    result = checker.check(BODY)
    assert result.verdict == "supported" and not result.review.needed


def test_a_template_guidance_field_loses_to_the_dictated_modality(checker):
    text = (
        "PROCEDURE: Left knee injection\nGUIDANCE: Fluoroscopy\nINDICATION: knee pain.\n"
        "DETAILS: The injection was performed under ultrasound guidance. A 22-gauge needle was "
        "advanced into the left knee joint and 40 mg triamcinolone injected.\n"
    )
    result = checker.check(text)
    assert result.suggested_code == "76942"
    assert "template_default" in result.review.reasons


def test_fluoroscopy_available_but_not_used(checker):
    text = (
        "Indication: shoulder pain.\nFluoroscopy was available but not used. By palpation a "
        "22-gauge needle was advanced into the right glenohumeral joint and triamcinolone "
        "injected.\n"
    )
    result = checker.check(text)
    assert result.elements["fluoroscopic_guidance"].status == "negated"
    assert result.suggested_code is None


@pytest.mark.parametrize(
    "stop",
    [
        "The injection was aborted after a vasovagal reaction before any medication was given.",
        "Radiology role: fluoroscopic guidance only; the injection is documented in their note.",
    ],
)
def test_a_procedure_not_performed_here_is_not_the_primary_procedure(checker, stop):
    text = (
        "Indication: ankle arthritis.\nUnder fluoroscopy a 22-gauge needle was advanced into "
        "the left ankle joint and 1 mL contrast confirmed position for the injection. "
        f"{stop}\n"
    )
    result = checker.check(text)
    assert result.elements["primary_procedure"].status != "present"
    assert result.verdict == "incomplete" and result.suggested_code == "77002"
    assert "procedure_not_performed" in result.review.reasons


def test_an_injection_withheld_keeps_the_aspiration_that_was_done(checker):
    text = (
        "Indication: septic arthritis?\nUnder fluoroscopy an 18-gauge needle was advanced into "
        "the right knee joint; 2 mL contrast confirmed position. 20 mL purulent fluid was "
        "aspirated and sent for culture. The steroid injection was not performed given the "
        "purulent aspirate.\n"
    )
    result = checker.check(text)
    assert result.elements["primary_procedure"].status == "present"
    assert result.verdict == "supported"
