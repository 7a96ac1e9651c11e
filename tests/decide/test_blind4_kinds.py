"""Kinds found on fixtures/others/blind4.jsonl once it was opened for development (session 4;
its figures before and after are in the README). Notes written for the test, in other voices."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "banner",
    [
        "Northside Bone & Joint  Fax:555-0133  Mar 14 2026 08:51  p.2",
        "ST. LUKE'S IMAGING   printed 14-Mar-2026 08:51   Page 2",
        "Valley Podiatry Group p.3",
    ],
)
def test_a_banner_with_a_facility_name_and_a_spelled_date_does_not_split_the_needle(
    checker, banner
):
    text = (
        "PROCEDURE: Left ankle injection under fluoroscopy\nINDICATION: left ankle arthritis.\n"
        "TECHNIQUE: A 25-gauge needle was advanced under fluoroscopic guidance into the\n"
        + banner
        + "\nleft tibiotalar joint. 1 mL Isovue confirmed intra-articular flow and 20 mg "
        "Kenalog was injected.\n"
    )
    result = checker.check(text)
    assert result.elements["needle_placement"].status == "present"
    assert (result.verdict, result.suggested_code) == ("supported", "77002")


def test_a_short_confirmation_abbreviation_confirms(checker):
    text = "Fluoro R knee inj. Dx R knee OA. 22g IA, Isovue conf, DM 40 + 3 lido. Tol well.\n"
    result = checker.check(text)
    assert result.elements["contrast_confirmation"].status == "present"
    assert result.verdict == "supported"


@pytest.mark.parametrize("name", ["medial branch blocks", "facet blocks", "L3-4 MBB blocks"])
def test_a_block_named_by_its_target_is_a_procedure(checker, name):
    text = (
        f"PROCEDURE: Right L3, L4 {name} under fluoroscopy.\nINDICATION: lumbar facet pain.\n"
        "Under fluoroscopic guidance 22-gauge needles were advanced to the junction of the "
        "superior articular and transverse processes at L3 and L4. 0.3 mL Omnipaque each level "
        "without vascular uptake.\n"
    )
    result = checker.check(text)
    assert result.elements["primary_procedure"].status == "present"
    assert result.suggested_code == "77003"


def test_an_anatomical_adjective_is_no_indication(checker):
    text = (
        "PROCEDURE: Right subacromial bursa injection under fluoroscopy.\nINDICATION:\nTECHNIQUE: "
        "A 22-gauge needle was advanced into the right subacromial bursa; 1 mL Omnipaque "
        "confirmed bursal spread and 40 mg Kenalog was injected.\n"
    )
    result = checker.check(text)
    assert result.elements["indication"].status != "present"
    assert result.verdict == "incomplete"


@pytest.mark.parametrize(
    "landmark",
    [
        "well away from the costovertebral junction",
        "clear of the spinal canal",
        "distant from the vertebral body",
    ],
)
def test_a_landmark_the_needle_kept_away_from_is_not_its_target(checker, landmark):
    text = (
        "PROCEDURE: Fluoroscopy-guided biopsy, right 9th rib lesion.\nClinical: lytic rib "
        f"lesion, myeloma.\nUnder fluoroscopic guidance a 13-gauge needle was advanced into the "
        f"lytic lesion of the right posterolateral 9th rib, {landmark}. Three cores obtained. "
        "A small contrast injection outlined the lesion around the needle tip.\n"
    )
    result = checker.check(text)
    assert result.elements["non_spinal_site"].status == "present"
    assert (result.verdict, result.suggested_code) == ("supported", "77002")


@pytest.mark.parametrize(
    "text",
    [
        "PROCEDURES: (1) Left L5-S1 transforaminal epidural steroid injection. (2) Left knee "
        "injection.\nIndication: left L5 radiculopathy; left knee osteoarthritis.\n"
        "Under fluoroscopic guidance a 22-gauge needle was advanced to the left L5-S1 neural "
        "foramen; 1 mL Omnipaque outlined the L5 root; 10 mg dexamethasone injected.\n"
        "The patient was turned supine. Under fluoroscopy a 22-gauge needle was advanced into "
        "the left knee joint; 2 mL Omnipaque confirmed intra-articular flow; 40 mg Kenalog "
        "injected.\nFluoroscopy time 0.8 min. Images saved.\n",
        "Right SI joint injection and right greater trochanteric bursa injection, same visit.\n"
        "Dx: right SI joint pain; right trochanteric bursitis.\nSI joint: 22 g spinal needle into "
        "the inferior right SI joint under fluoro, contrast arthrogram, 40 mg Kenalog.\n"
        "Bursa: 22 g needle advanced into the right trochanteric bursa under fluoro, Omnipaque "
        "confirmed bursal spread, 40 mg Kenalog injected.\nFT 0.5 min.\n",
    ],
    ids=["epidural-and-knee", "si-joint-and-bursa"],
)
def test_a_spinal_and_a_non_spinal_procedure_in_one_session_support_77002(checker, text):
    result = checker.check(text)
    assert (result.verdict, result.suggested_code) == ("supported", "77002")
    assert "mixed_regions" in result.review.reasons


def test_a_non_spinal_word_beside_the_spinal_target_does_not(checker):
    text = (
        "PROCEDURE: Right C5-6 facet injection under fluoroscopy.\nIndication: neck pain.\n"
        "Under fluoroscopic guidance a 25-gauge needle was advanced through the trapezius into "
        "the right C5-6 facet joint; 0.3 mL Omnipaque showed no vascular uptake and outlined "
        "the joint; 1 mL Kenalog injected.\n"
    )
    result = checker.check(text)
    assert result.suggested_code == "77003"


def test_where_the_contrast_went_is_not_a_target(checker):
    """'No vascular uptake' in its own sentence names no site: a facet note stays 77003 and
    lists no 'vascular' frame."""
    text = (
        "PROCEDURE: Left L4-5 facet injection under fluoroscopy.\nIndication: low back pain.\n"
        "Under fluoroscopic guidance a 22-gauge needle was advanced into the left L4-5 facet "
        "joint. With the needle in position, 0.3 mL Omnipaque showed no vascular uptake. "
        "1 mL Kenalog was injected.\n"
    )
    result = checker.check(text)
    assert result.suggested_code == "77003"
    assert all(f["site"]["normalized"] != "vascular" for f in result.procedures)
