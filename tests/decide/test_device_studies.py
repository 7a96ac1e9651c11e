"""A contrast study or check through a device already in place (a drain injection, a sinogram, a
tube check) places no needle: it is not a primary procedure, and fluoroscopy that watched it
guided nothing 77002/77003 pays for (no code). A needle procedure in the same session still
is one. Notes written for the test, in several voices."""

from __future__ import annotations

import pytest

NO_NEEDLE = [
    # IR report: drain injection
    "PROCEDURE: Drain injection (abscessogram).\n"
    "History: pelvic abscess, 12 Fr drain placed last week; output now minimal.\n"
    "Under fluoroscopy 10 mL Isovue was hand-injected via the indwelling drain, showing a "
    "collapsed cavity without fistula. Drain removed. Fluoro time 0.4 min.\n",
    # nursing-style tube check
    "Gastrostomy tube check. Reason: tube dislodged partly, confirm position prior to use. "
    "25 mL Omnipaque instilled through the existing G-tube under fluoroscopy outlines gastric "
    "folds; no leak. Impression: tube in good position.\n",
    # terse resident note
    "Nephrostogram, R. Indication: hematuria, ?tube position. Contrast injected down the "
    "right nephrostomy under fluoro: pigtail in renal pelvis. No intervention.\n",
    # academic cholangiogram through an existing drain
    "EXAM: Cholangiogram through existing biliary drain\n"
    "CLINICAL: obstructive jaundice, internal-external biliary drain in place.\n"
    "FINDINGS: Contrast was injected through the existing biliary drain under fluoroscopic "
    "observation. The drain is well positioned; contrast flows freely into the duodenum.\n",
]

WITH_NEEDLE = (
    "PROCEDURE: Sinogram and aspiration of a new collection.\n"
    "Indication: persistent fever, residual collection beside the drain on CT.\n"
    "Contrast injected through the existing drain fills the old cavity only. Then under "
    "fluoroscopic guidance a 20-gauge needle was advanced into the separate right thigh "
    "collection; 1 mL contrast confirmed the needle tip within it and 8 mL of pus was "
    "aspirated for culture. Fluoroscopy time 1.1 min. Images stored.\n"
)


@pytest.mark.parametrize("text", NO_NEEDLE, ids=["drain", "g-tube", "nephrostogram", "biliary"])
def test_a_study_through_a_device_supports_no_guidance_code(checker, text):
    result = checker.check(text)
    assert result.elements["primary_procedure"].status != "present"
    assert (result.verdict, result.suggested_code) == ("not_supported", None)


def test_a_guided_needle_in_the_same_session_is_still_77002(checker):
    result = checker.check(WITH_NEEDLE)
    assert result.elements["primary_procedure"].status == "present"
    assert (result.verdict, result.suggested_code) == ("supported", "77002")


@pytest.mark.parametrize(
    "text",
    [
        "INTRAOPERATIVE FLUOROSCOPY\nOR 2, orthopaedics. Percutaneous pinning of a left "
        "supracondylar humerus fracture. C-arm provided by the technologist; fluoroscopy time "
        "22 seconds, 6 images to PACS. See operative note.\n",
        "Fluoroscopy for a closed reduction of the right distal radius in the ED. Mini C-arm "
        "time 9 s. Reduction acceptable.\n",
    ],
    ids=["pinning", "closed-reduction"],
)
def test_fluoroscopy_for_an_operation_without_a_needle_supports_no_code(checker, text):
    result = checker.check(text)
    assert result.elements["fluoroscopic_guidance"].status != "present"
    assert (result.verdict, result.suggested_code) == ("not_supported", None)


RETRACTED = (
    "PROCEDURE: Left shoulder (glenohumeral) injection.\nIndication: adhesive capsulitis.\n"
    "Under fluoroscopic guidance a 22-gauge needle was advanced into the left glenohumeral "
    "joint. 2 mL Omnipaque confirmed intra-articular position. 40 mg Kenalog injected.\n\n"
)


@pytest.mark.parametrize(
    "addendum, expected",
    [
        (
            "ADDENDUM: the contrast sentence above was entered in error; no contrast was given.",
            ("incomplete", "77002"),
        ),
        (
            "Addendum 04/02: Correction - ultrasound guided this injection, not fluoroscopy. The "
            "fluoroscopy template was selected in error. No contrast was used.",
            ("not_supported", "76942"),
        ),
        (
            "Addendum: the dose line was left blank in error; fluoroscopy time 0.2 min.",
            ("supported", "77002"),
        ),
    ],
    ids=["contrast-retracted", "modality-retracted", "dose-added"],
)
def test_an_addendum_that_retracts_text_entered_in_error(checker, addendum, expected):
    result = checker.check(RETRACTED + addendum + "\n")
    assert (result.verdict, result.suggested_code) == expected
