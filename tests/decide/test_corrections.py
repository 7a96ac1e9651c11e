"""Later statements override earlier ones (decide/corrections.py): addenda, template defaults,
procedures not performed here. Notes written for these tests."""

from __future__ import annotations

import pytest

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


# guidance-only reports: the procedure deferred to another clinician's note ----------------------
GUIDED = (
    "Indication: left ankle arthritis.\nFluoroscopic guidance was provided to the orthopaedic "
    "surgeon, who advanced a 22-gauge needle into the left tibiotalar joint; 1 mL contrast "
    "confirmed intra-articular position. "
)


@pytest.mark.parametrize(
    "deferral",
    [
        "See separate procedure note.",
        "Subsequent management per the orthopaedic procedure note.",
        "The injection is recorded in the podiatry clinic note.",
    ],
)
def test_a_deferral_to_another_procedure_note_leaves_no_primary_procedure(checker, deferral):
    result = checker.check(GUIDED + deferral + "\n")
    assert result.elements["primary_procedure"].status != "present"
    assert (result.verdict, result.suggested_code) == ("incomplete", "77002")


def test_guidance_for_another_clinician_who_injects_here_is_a_primary_procedure(checker):
    text = GUIDED + "He then injected 40 mg triamcinolone into the joint.\n"
    result = checker.check(text)
    assert result.elements["primary_procedure"].status == "present"
    assert result.verdict == "supported"


APPENDED_PROCEDURE = (
    "\n--- Procedure note (Orthopaedics) ---\n"
    "Arthrocentesis, left ankle. A 22-gauge needle was advanced into the left tibiotalar joint "
    "under fluoroscopy; 1 mL Isovue outlined the joint and 6 mL of cloudy fluid was aspirated "
    "and sent for culture.\n"
)


@pytest.mark.parametrize(
    "pointer",
    [
        "See appended procedure note.",
        "Refer to the attached orthopaedic procedure note.",
        "Procedure documented in the accompanying note below.",
        "Per the procedure note included below.",
    ],
)
def test_a_pointer_to_the_procedure_note_in_this_document_defers_nothing(checker, pointer):
    """'See appended / attached / below': the procedure note is part of this document, and
    what it says was done is this document's primary procedure."""
    text = (
        "FLUOROSCOPY REPORT\nIndication: left ankle effusion, rule out septic arthritis.\n"
        "Fluoroscopic guidance was provided for the orthopaedic team. " + pointer + "\n"
    )
    result = checker.check(text + APPENDED_PROCEDURE)
    assert result.elements["primary_procedure"].status == "present"
    assert (result.verdict, result.suggested_code) == ("supported", "77002")
    deferred = checker.check(text.replace(pointer, "See separate procedure note."))
    assert deferred.elements["primary_procedure"].status != "present"


# 'X, not fluoroscopy': the negation lands on the word after 'not' -------------------------------
NEEDLE = (
    "A 22-gauge needle was advanced into the right knee joint and 40 mg triamcinolone injected."
)


@pytest.mark.parametrize(
    "guidance, code",
    [
        ("The needle was placed under ultrasound guidance, not fluoroscopy.", "76942"),
        ("Sonographic guidance and not fluoroscopy was used.", "76942"),
        ("The biopsy was done under CT guidance (not fluoroscopy).", "77012"),
        ("Under fluoroscopy, not CT, the joint was entered.", "77002"),
        ("Fluoroscopic guidance rather than ultrasound was used.", "77002"),
    ],
)
def test_not_negates_the_modality_after_it_only(checker, guidance, code):
    result = checker.check(f"Indication: knee pain.\n{guidance} {NEEDLE}\n")
    assert result.suggested_code == code


@pytest.mark.parametrize(
    "sentence, element",
    [
        ("Fluoroscopy, not used.", "fluoroscopic_guidance"),
        ("Contrast was drawn up and not injected.", "contrast_confirmation"),
    ],
)
def test_not_said_of_what_precedes_still_negates_it(checker, sentence, element):
    result = checker.check(f"Indication: knee pain.\n{sentence} {NEEDLE}\n")
    assert result.elements[element].status == "negated"


# an addendum whose header carries a date, or a 'Correction -' line --------------------------------
@pytest.mark.parametrize(
    "addendum",
    [
        "Addendum 03/12/2024 09:40: performed under ultrasound guidance, not fluoroscopy.",
        "CORRECTION - ultrasound guidance was used for this injection, not fluoroscopy.",
        "Amended report: the injection was done with ultrasound rather than fluoroscopy.",
    ],
)
def test_a_dated_or_dashed_correction_changes_the_modality(checker, addendum):
    result = checker.check(BODY + addendum + "\n")
    assert result.elements["fluoroscopic_guidance"].status != "present"
    assert result.suggested_code == "76942"


# fluoroscopy and contrast used for a device, not the needle ---------------------------------------
def test_contrast_through_the_drain_is_not_the_needles_confirmation(checker):
    text = (
        "Indication: pelvic abscess.\nA 19-gauge needle was advanced into the pelvic collection "
        "and pus aspirated; a 12 Fr drain was placed. Fluoroscopy was used only to check the "
        "drain position: 8 mL contrast injected via the drain filled the cavity.\n"
    )
    result = checker.check(text)
    assert result.elements["contrast_confirmation"].status != "present"
    assert result.elements["fluoroscopic_guidance"].status != "present"


def test_fluoroscopy_for_the_catheter_beside_an_ultrasound_needle_is_not_guidance(checker):
    text = (
        "Indication: malignant effusion.\nUnder ultrasound guidance a 21 g needle was advanced "
        "into the right pleural space. A pleural drainage catheter was placed; fluoroscopy was "
        "used only to check the catheter course and tip position, the needle being placed under "
        "ultrasound. Final fluoroscopic image saved.\n"
    )
    result = checker.check(text)
    assert result.elements["fluoroscopic_guidance"].status != "present"
    assert result.suggested_code == "76942"


def test_a_device_check_after_a_fluoroscopic_needle_keeps_the_needles_guidance(checker):
    text = (
        "Indication: subphrenic abscess.\nUnder fluoroscopic guidance an 18-gauge needle was "
        "advanced into the collection; 3 mL contrast confirmed the tip within the cavity and a "
        "drain was placed. Fluoroscopy confirmed the final catheter position.\n"
    )
    result = checker.check(text)
    assert result.elements["fluoroscopic_guidance"].status == "present"
    assert result.elements["contrast_confirmation"].status == "present"
    assert result.suggested_code == "77002"


# a fluoroscopic title for a procedure that never happened -----------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "PROCEDURE: Fluoroscopically guided left hip injection - cancelled, patient declined\n"
        "INDICATION: Left hip osteoarthritis.\n",
        "EXAM: FLUORO GUIDED RIGHT KNEE ASPIRATION\nHISTORY: effusion.\nThe patient was brought "
        "to the fluoroscopy suite. Procedure not performed: INR 4.2.\n",
    ],
)
def test_a_planned_fluoroscopic_title_with_nothing_done_supports_no_code(checker, text):
    result = checker.check(text)
    assert result.elements["fluoroscopic_guidance"].status != "present"
    assert (result.verdict, result.suggested_code) == ("not_supported", None)
    assert "procedure_not_performed" in result.review.reasons


def test_contrast_that_confirmed_the_collection_before_a_drain_placement_counts(checker):
    text = (
        "Indication: abscess.\nUnder fluoroscopic guidance an 18-gauge needle was advanced into "
        "the collection. Contrast injection confirmed position within the cavity prior to drain "
        "placement. A 10 Fr drain was placed.\n"
    )
    result = checker.check(text)
    assert result.elements["contrast_confirmation"].status == "present"


def test_a_history_taken_from_a_clinic_note_defers_no_procedure(checker):
    text = (
        "Indication: knee pain, history per clinic note.\nMedication list per clinic note. Under "
        "fluoroscopy a 22-gauge needle was advanced into the right knee joint; 2 mL contrast "
        "confirmed position and 40 mg triamcinolone was injected.\n"
    )
    result = checker.check(text)
    assert result.elements["primary_procedure"].status == "present"
    assert result.verdict == "supported"
