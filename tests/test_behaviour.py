"""Regression cases named after what they guard: small notes with known answers."""

import pytest

from doc_checker import Checker

FULL = (
    "INDICATION: Right knee pain and effusion, evaluate for infection.\n"
    "PROCEDURE: Under fluoroscopic guidance, a 20-gauge spinal needle was advanced into the right "
    "knee joint. Intra-articular position was confirmed with 2 mL Omnipaque 300. 30 mL of fluid "
    "was aspirated and sent for culture. Fluoroscopy time 0.3 minutes. Images were saved to "
    "PACS.\n"
)


def check(checker, text):
    return checker.check(text, note_id="t")


def test_complete_note_is_supported(checker):
    r = check(checker, FULL)
    assert r.verdict == "supported" and r.suggested_code == "77002" and r.score == 100.0
    assert r.queries == []
    ev = r.elements["fluoroscopic_guidance"].evidence[0]
    assert "Under fluoroscopic guidance" in ev.text and ev.section == "procedure"


def test_spinal_needle_is_a_needle_type_not_a_spinal_site(checker):
    r = check(checker, FULL)
    assert r.elements["non_spinal_site"].present
    assert [e.text for e in r.elements["non_spinal_site"].evidence] == ["right knee joint"]


@pytest.mark.parametrize(
    "phrase", ["No contrast was used.", "Contrast was not needed.", "Contrast: none."]
)
def test_negated_contrast_does_not_count(checker, phrase):
    text = FULL.replace("Intra-articular position was confirmed with 2 mL Omnipaque 300.", phrase)
    r = check(checker, text)
    assert not r.elements["contrast_confirmation"].present
    assert r.verdict == "incomplete" and "contrast_confirmation" in r.missing
    assert r.elements["contrast_confirmation"].status == "negated"


def test_allergy_list_contrast_does_not_count(checker):
    text = "Allergies: iodinated contrast (hives).\n" + FULL.replace(
        "Intra-articular position was confirmed with 2 mL Omnipaque 300. ", ""
    )
    r = check(checker, text)
    assert not r.elements["contrast_confirmation"].present
    assert r.elements["contrast_confirmation"].ignored[0].reason == "allergy"


def test_hypothetical_fluoroscopy_is_not_guidance(checker):
    text = (
        "Indication: left shoulder pain.\nIf needed, fluoroscopy will be used. The left "
        "glenohumeral joint was injected by palpation with a 22-gauge needle advanced into the "
        "joint."
    )
    r = check(checker, text)
    assert r.elements["fluoroscopic_guidance"].status == "hypothetical"
    assert r.suggested_code is None and r.verdict == "not_supported"


def test_historical_fluoroscopic_biopsy_is_not_guidance(checker):
    text = (
        "History: prior fluoroscopic biopsy (2019) was nondiagnostic.\nUnder CT guidance, an "
        "18-gauge needle was advanced into the left iliac bone lesion and two cores were obtained."
    )
    r = check(checker, text)
    assert not r.elements["fluoroscopic_guidance"].present
    assert r.suggested_code == "77012"


def test_ct_fluoroscopy_is_ct_guidance(checker):
    r = check(
        checker,
        "Using CT fluoroscopy, a 20-gauge needle was advanced into the right lower lobe nodule "
        "and biopsied.",
    )
    assert r.suggested_code == "77012" and not r.elements["fluoroscopic_guidance"].present
    assert any(f.code == "OTHER_MODALITY" for f in r.findings)


def test_epidural_is_77003(checker):
    r = check(
        checker,
        "Under fluoroscopy a 20-gauge Tuohy needle was advanced into the L5-S1 epidural space; "
        "contrast confirmed epidural spread and triamcinolone was injected. Indication: "
        "radiculopathy.",
    )
    assert r.suggested_code == "77003" and r.verdict == "not_supported"
    assert not r.elements["non_spinal_site"].present


def test_fluoroscopic_needle_without_target(checker):
    r = check(
        checker,
        "Indication: pain. Under fluoroscopic guidance, a 22-gauge needle was advanced. "
        "Contrast was injected to confirm placement and the steroid was injected.",
    )
    assert r.suggested_code == "77002"
    assert set(r.missing) == {"needle_placement", "non_spinal_site"}


def test_defined_abbreviation_counts_like_its_long_form(checker):
    text = (
        "Indication: hip pain. Fluoroscopic guidance (FG) is standard for this procedure at our "
        "center. Today, under FG, a 22-gauge needle was advanced into the left hip joint, "
        "contrast confirmed intra-articular position, and the steroid was injected."
    )
    r = check(checker, text)
    texts = " ".join(e.text for e in r.elements["fluoroscopic_guidance"].evidence)
    assert "under FG" in texts


def test_all_caps_template_without_headings(checker):
    text = (
        "LEFT HIP INJECTION UNDER FLUOROSCOPY FOR HIP OSTEOARTHRITIS. 22 GAUGE SPINAL NEEDLE "
        "ADVANCED INTO THE LEFT HIP JOINT. 2 ML OMNIPAQUE CONFIRMED INTRA-ARTICULAR POSITION. 40 "
        "MG KENALOG INJECTED."
    )
    r = check(checker, text)
    assert r.verdict == "supported", r.missing


def test_key_value_template(checker):
    text = (
        "Procedure: R knee inj\nGuidance: fluoro\nIndication: OA, pain\nNeedle: 22g spinal\n"
        "Target: R knee joint\nContrast: Omnipaque 180, 1 mL, IA confirmed\nMeds: 40 mg Kenalog\n"
    )
    r = check(checker, text)
    assert r.verdict == "supported", (r.missing, r.to_dict()["elements"]["needle_placement"])


def test_template_blank_indication_is_missing(checker):
    r = check(
        checker, "INDICATION: ***\n" + FULL.split("\n", 1)[1].replace("evaluate for infection", "")
    )
    assert not r.elements["indication"].present
    assert r.queries[0].startswith("Please document the clinical indication")


def test_central_venous_access_is_77001(checker):
    r = check(
        checker,
        "Right chest port placement for chemotherapy. The right internal jugular vein was accessed "
        "with a 21-gauge needle under ultrasound guidance. Fluoroscopy was used to confirm the "
        "catheter tip position at the cavoatrial junction.",
    )
    assert r.suggested_code == "77001"


def test_landmark_guided_has_no_guidance_code(checker):
    r = check(
        checker,
        "Knee effusion. Landmark-guided arthrocentesis: a 18-gauge needle was advanced into the "
        "left knee joint and 40 mL aspirated. No imaging guidance was used.",
    )
    assert r.suggested_code is None
    assert any(f.code == "NO_IMAGING_GUIDANCE" for f in r.findings)


def test_queries_are_non_leading(checker):
    r = check(checker, "Left hip aspiration under fluoroscopy. A needle was advanced.")
    for q in r.queries:
        assert "77002" not in q and "fluoroscop" not in q.lower()


def test_lenient_profile_relaxes_contrast():
    lenient = Checker(
        profile={
            "name": "lenient",
            "elements": {
                "indication": {"required": True, "weight": 1},
                "fluoroscopic_guidance": {"required": True, "weight": 2},
                "needle_placement": {"required": True, "weight": 1},
                "contrast_confirmation": {"required": False, "weight": 0},
                "non_spinal_site": {"required": True, "weight": 1},
                "primary_procedure": {"required": True, "weight": 1},
            },
        }
    )
    text = FULL.replace("Intra-articular position was confirmed with 2 mL Omnipaque 300. ", "")
    r = lenient.check(text)
    assert r.verdict == "supported" and r.profile == "lenient"
    assert not r.elements["contrast_confirmation"].required


def test_terminate_ends_a_negation_scope(checker):
    """A ';' (TERMINATE) ends 'not': medspaCy's asymmetric overlap test let the negation run on."""
    r = check(
        checker,
        "Indication: effusion. Fluoroscopy was not used; the knee was aspirated by palpation "
        "with an 18 gauge needle into the suprapatellar recess of the right knee.",
    )
    assert r.elements["fluoroscopic_guidance"].status == "negated"
    assert r.elements["needle_placement"].present and r.elements["non_spinal_site"].present
    assert r.suggested_code is None


def test_pseudo_phrase_silences_its_trigger(checker):
    """'without difficulty' is PSEUDO: its 'without' must not negate the joint that follows."""
    r = check(
        checker,
        FULL.replace(
            "a 20-gauge spinal needle was advanced into the right knee joint",
            "a 20-gauge spinal needle was advanced without difficulty into the right knee joint",
        ),
    )
    assert r.elements["non_spinal_site"].present and r.verdict == "supported"


def test_lumbar_puncture_is_a_spinal_procedure(checker):
    r = check(
        checker,
        "LUMBAR PUNCTURE UNDER FLUOROSCOPY. INDICATION: headache, rule out subarachnoid "
        "hemorrhage. Under fluoroscopic guidance a 20-gauge spinal needle was advanced into the "
        "thecal sac at L3-4. Clear CSF obtained.",
    )
    assert r.suggested_code == "77003" and r.elements["primary_procedure"].present


@pytest.mark.parametrize(
    "guidance,code,fluoro",
    [
        ("[ ] Fluoroscopy [X] Ultrasound", "76942", "negated"),
        ("[X] Fluoroscopy [ ] Ultrasound", "77002", "present"),
        ("CT", "77012", "missing"),
    ],
)
def test_checkbox_and_field_templates(checker, guidance, code, fluoro):
    r = check(
        checker,
        f"Procedure: R hip inj\nIndication: OA\nGuidance: {guidance}\n"
        "Needle: 22 g into the right hip joint\nContrast: Omnipaque 1 mL, IA confirmed\n",
    )
    assert r.suggested_code == code
    assert r.elements["fluoroscopic_guidance"].status == fluoro


@pytest.mark.parametrize(
    "regex,strings",
    [
        ("^(biops(y|ies)|fna)$", ["biopsies", "biopsy", "fna"]),
        ("^[CTL][1-2]$", ["C1", "C2", "L1", "L2", "T1", "T2"]),
        ("^(needles?|cannula[es]?)$", ["cannula", "cannulae", "cannulas", "needle", "needles"]),
        ("^(m|c)?gy(\\W.*)?$", None),  # unbounded: stays a regex
        ("fluoro", None),  # not anchored: stays a regex
    ],
)
def test_finite_token_regexes_become_set_lookups(regex, strings):
    from doc_checker.nlp.matcher import finite_strings

    assert finite_strings(regex) == strings
