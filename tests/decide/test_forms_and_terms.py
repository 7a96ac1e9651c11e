"""Issue 12, robust terms and forms: one line of a note read four ways by the whole checker.
Form check-boxes and pick lists (a ticked No or None, nothing ticked, a mark before or after
its option); contrast made ready but not injected; dose phrasings of other voices and
devices; key words split by dictation. Each case is a line placed in the same short note, so
only that line decides the element."""

from __future__ import annotations

import pytest

from doc_checker import Checker

NOTE = (
    "Indication: right knee osteoarthritis with pain.\n"
    "Under fluoroscopy a 22 gauge needle was advanced into the right knee joint.\n"
    "{line}\n"
    "Kenalog 40 mg injected.\n"
)


def _present(checker: Checker, line: str, element: str) -> bool:
    result = checker.check(NOTE.format(line=line))
    return result.elements[element].status == "present"


@pytest.mark.parametrize(
    "line, counts",
    [
        ("Contrast: [ ] Yes [x] No", False),
        ("Contrast: ( ) Yes (X) No", False),
        ("Contrast confirmation: ☐ Yes  ☑ No", False),  # two spaces: a whitespace token
        ("Contrast injected   Yes [ ]   No [x]", False),  # the mark after its option
        ("Contrast: [x] No [ ] Yes", False),
        ("Contrast used: N", False),
        ("Contrast used (Y/N): N", False),
        ("Contrast: ☐ Yes ☐ No", False),  # nothing ticked: the label alone is no evidence
        ("Contrast agent: [ ] Omnipaque 240 [ ] Isovue-M 200 [x] None", False),
        ("Contrast: ☐ Omnipaque ☐ Isovue ☒ Not used", False),
        ("Contrast: 0 mL", False),
        ("Contrast will be used if needed to confirm placement.", False),
        ("Contrast: [x] Yes [ ] No, 2 mL Omnipaque 240 outlining the joint", True),
        ("Contrast injected   Yes [x]   No [ ]  Omnipaque 300, 2 mL", True),
        ("Contrast: ☑ Yes ☐ No. Omnipaque 240 2 mL injected, arthrogram confirmed.", True),
    ],
)
def test_form_pick_lists(checker, line, counts):
    assert _present(checker, line, "contrast_confirmation") is counts


@pytest.mark.parametrize(
    "line, counts",
    [
        ("Omnipaque 300 was drawn up in a 5 mL syringe and kept on the field.", False),
        ("Contrast available on the tray (Isovue-M 200, 5 mL).", False),
        ("Supplies: 22 g needle, Omnipaque 300 10 mL vial, drape.", False),
        ("Contrast prepped but not needed, fluid return confirmed placement.", False),
        ("Contrast was available; the position was confirmed by aspirating synovial fluid.", False),
        ("Omnipaque was drawn up and 2 mL was injected, outlining the joint.", True),
        ("2 mL Omnipaque 300 confirmed intra-articular spread.", True),
        ("Omni 240 1 cc confirmed IA position.", True),  # 'Omni' is Omnipaque in shorthand
    ],
)
def test_contrast_made_ready_is_not_contrast_injected(checker, line, counts):
    assert _present(checker, line, "contrast_confirmation") is counts


@pytest.mark.parametrize(
    "line, counts",
    [
        ("fluoro time 0.3 min", True),
        ("Screening time 9 s.", True),
        ("Total fluoroscopy time: 18 seconds", True),
        ("Mini C-arm used for 12 seconds.", True),
        ("C-arm time 0:42 (mm:ss).", True),
        ("mini C time: 0.06 min", True),
        ("Fluoro time (sec): 14", True),
        ("Fluoro 12 s.", True),
        ("18 seconds fluoroscopy", True),
        ("FT: 0.4 min", True),
        ("Dose-area product 23.5 cGy·cm²", True),
        ("DAP 412 µGy·m²", True),
        ("DAP 0.5 Gycm2", True),
        ("Air kerma 2 mGy", True),
        ("Minimal radiation was used.", False),
        ("Fluoro time: ___", False),
        ("Air kerma: ___ mGy", False),
        ("Fluoroscopy time not recorded.", False),
        ("The patient is 5 ft 3 in tall.", False),
        ("Pressure held on the arm for 5 minutes.", False),
    ],
)
def test_radiation_dose_phrasings(checker, line, counts):
    assert _present(checker, line, "radiation_dose") is counts


def test_a_dose_of_the_c_arm_is_not_guidance(checker):
    """'C-arm time 0:42' shows the C-arm was on, not that it guided the needle."""
    text = (
        "Indication: left knee pain.\n"
        "A 22 gauge needle was advanced into the left knee joint; 2 mL Omnipaque injected.\n"
        "C-arm time 0:42.\n"
    )
    result = checker.check(text)
    assert result.elements["radiation_dose"].status == "present"
    assert result.elements["fluoroscopic_guidance"].status != "present"


@pytest.mark.parametrize(
    "site, code",
    [
        ("talo navicular joint", "77002"),
        ("sub talar joint", "77002"),
        ("radio carpal joint", "77002"),
        ("metacarpo phalangeal joint", "77002"),
        ("sub acromial bursa", "77002"),
        ("ischio gluteal bursa", "77002"),
        ("gleno humeral joint", "77002"),
        ("sacro iliac joint", "77003"),  # joined, the sacroiliac joint: spinal / paraspinous
    ],
)
def test_anatomy_split_by_dictation_is_read_as_one_word(checker, site, code):
    text = (
        "Indication: joint pain.\n"
        f"Under fluoroscopy a 25 gauge needle was advanced into the right {site}. "
        "1 mL Omnipaque 240 was injected confirming the position. Kenalog 20 mg injected.\n"
    )
    result = checker.check(text)
    assert result.suggested_code == code
    assert (result.elements["non_spinal_site"].status == "present") is (code == "77002")


def test_a_run_on_dictated_sentence_keeps_the_procedure_after_the_consent(checker):
    """No punctuation: 'risks ... discussed consent signed' opens a hypothetical scope that must
    end where the account of what was done begins (positioning, skin prep)."""
    text = (
        "procedure right shoulder injection under fluoroscopy indication right shoulder "
        "osteoarthritis risks including bleeding and infection discussed consent signed patient "
        "supine right shoulder prepped with chlorhexidine under fluoroscopic guidance a 22 gauge "
        "needle was advanced into the right glenohumeral joint 2 cc omnipaque was injected "
        "confirming intra articular position then 40 mg kenalog was injected"
    )
    result = checker.check(text)
    for element in ("needle_placement", "contrast_confirmation", "fluoroscopic_guidance"):
        assert result.elements[element].status == "present", element
    assert result.verdict == "supported"


def test_a_consent_for_a_planned_procedure_stays_hypothetical(checker):
    """The terminating words do not free what a consent names before them."""
    text = (
        "Indication: right hip pain.\n"
        "Risks of a fluoroscopically guided right hip injection were discussed and consent was "
        "obtained.\n"
        "The procedure was cancelled before the patient was positioned.\n"
    )
    result = checker.check(text)
    assert result.elements["fluoroscopic_guidance"].status != "present"
