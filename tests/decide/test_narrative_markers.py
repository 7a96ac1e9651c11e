"""Words that mark time or authorship in the narrative, not what was done here (notes written
for the test, in several voices):

- consent as the narrative's time marker ('after consent and sterile prep, under fluoroscopy
  the needle was advanced') makes nothing after it hypothetical;
- a venous access device placed on an earlier day or already in place ('PICC placed
  yesterday', 'via the existing port') is no venous access placed today (77001 is not the code);
- a deferral to another clinician's note ('documented in the orthopaedic provider's separate
  note') leaves this guidance-only report without a primary procedure, and its title 'guidance
  for needle placement' names the service, not a procedure.
"""

from __future__ import annotations

import pytest

GUIDED_BODY = (
    "under fluoroscopic guidance a 22-gauge needle was advanced into the left hip joint. "
    "2 mL Omnipaque 240 confirmed intra-articular position and 40 mg triamcinolone was "
    "injected.\nIndication: left hip osteoarthritis.\nFluoroscopy time 0.3 min; images saved.\n"
)


@pytest.mark.parametrize(
    "opening",
    [
        "After consent and sterile prep, ",
        "Following informed consent and a time-out, ",
        "Once written consent was signed and the skin prepped, ",
        "With verbal consent, ",
    ],
)
def test_consent_as_a_time_marker_leaves_the_needle_affirmed(checker, opening):
    result = checker.check("Procedure: " + opening + GUIDED_BODY)
    assert result.elements["needle_placement"].status == "present"
    assert (result.verdict, result.suggested_code) == ("supported", "77002")


def test_consent_that_discusses_the_plan_still_is_hypothetical(checker):
    text = (
        "Consent: discussed that a fluoroscopically guided left hip injection may be needed if "
        "the aspiration is dry.\nProcedure: the left hip was aspirated at the bedside without "
        "imaging; 10 mL clear fluid.\nIndication: left hip effusion.\n"
    )
    result = checker.check(text)
    assert result.suggested_code is None


@pytest.mark.parametrize(
    "device",
    [
        "Left arm PICC placed yesterday for IV antibiotics.",
        "Antibiotics continue via the existing PICC.",
        "Port-a-cath placed last week by IR, accessed today for labs.",
        "Chemotherapy through an indwelling port.",
    ],
)
def test_a_venous_access_device_of_an_earlier_day_is_not_todays_code(checker, device):
    result = checker.check("Note: " + device + "\nProcedure: Consent obtained. Then " + GUIDED_BODY)
    assert (result.verdict, result.suggested_code) == ("supported", "77002")


def test_venous_access_placed_today_is_still_77001(checker):
    text = (
        "PROCEDURE: Right arm PICC placement.\nIndication: long-term IV antibiotics.\n"
        "Under ultrasound the basilic vein was punctured with a 21-gauge needle; the PICC was "
        "advanced and its tip positioned at the cavoatrial junction under fluoroscopy.\n"
    )
    assert checker.check(text).suggested_code == "77001"


GUIDANCE_ONLY = (
    "EXAM: FLUOROSCOPIC GUIDANCE FOR NEEDLE PLACEMENT, LEFT KNEE\n"
    "HISTORY: left knee effusion.\n"
    "FINDINGS: Fluoroscopic guidance was provided to the sports medicine fellow, who performed "
    "the procedure. A spot image shows the needle tip projecting over the lateral "
    "suprapatellar recess with contrast in the joint.\n"
    "{deferral}\nFluoroscopy time 0.2 min; 1 image archived.\n"
)


@pytest.mark.parametrize(
    "deferral",
    [
        "The procedure and medications are documented in the sports medicine physician's "
        "separate note.",
        "The aspiration is recorded in the performing clinician's own procedure note.",
    ],
)
def test_a_deferral_to_another_clinicians_note_leaves_no_primary_procedure(checker, deferral):
    result = checker.check(GUIDANCE_ONLY.format(deferral=deferral))
    assert result.elements["primary_procedure"].status != "present"
    assert (result.verdict, result.suggested_code) == ("incomplete", "77002")


def test_a_needle_localization_is_still_a_procedure(checker):
    text = (
        "PROCEDURE: Fluoroscopic needle localization of a retained foreign body, right thenar "
        "eminence.\nIndication: retained glass fragment.\nUnder fluoroscopic guidance a 22-gauge "
        "needle was advanced to abut the fragment; no contrast was used.\n"
    )
    assert checker.check(text).elements["primary_procedure"].status == "present"
