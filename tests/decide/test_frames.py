"""Procedure frames: where the needle went, read as a coder reads it (decide/frames.py)."""

from __future__ import annotations

import pytest

from doc_checker.result import ELEMENTS


def _frames(checker, text):
    result = checker.check(text)
    return result, result.procedures


def test_the_title_names_the_site_and_the_joint_refers_back(checker):
    text = (
        "PROCEDURE: Left glenohumeral joint injection under fluoroscopy.\n"
        "INDICATION: Adhesive capsulitis.\n"
        "TECHNIQUE: A 22-gauge needle was advanced into the joint. 3 mL Omnipaque 300 outlined "
        "the joint capsule. 40 mg triamcinolone was injected.\n"
    )
    result, frames = _frames(checker, text)
    assert result.suggested_code == "77002" and result.verdict == "supported"
    sites = {f["site"]["normalized"] for f in frames}
    assert "glenohumeral joint" in sites
    assert all(f["site"]["region"] == "non_spinal" for f in frames)
    assert frames[0]["site"]["laterality"] == "left"
    assert frames[0]["action"] == "inject"


def test_spine_words_in_a_letterhead_and_signature_never_decide_the_site(checker):
    text = (
        "NORTHSIDE SPINE & JOINT INSTITUTE\n"
        "PROCEDURE: Right knee aspiration under fluoroscopic guidance.\n"
        "INDICATION: Knee effusion.\n"
        "An 18-gauge needle was advanced into the right knee joint; 30 mL of fluid was aspirated. "
        "2 mL contrast confirmed intra-articular position.\n"
        "Signed: J. Roe, MD, Director of Spine Surgery\n"
    )
    result, frames = _frames(checker, text)
    assert result.suggested_code == "77002"
    assert {f["site"]["region"] for f in frames} == {"non_spinal"}


@pytest.mark.parametrize(
    "target",
    [
        "the posterior facet of the subtalar joint",
        "the ischial bursa near the ischial spine",
        "the interpubic disc of the pubic symphysis",
    ],
)
def test_false_friends_are_not_spinal(checker, target):
    text = (
        "Indication: pain.\nUnder fluoroscopy a 22-gauge needle was advanced into "
        f"{target}. Contrast confirmed the position and 40 mg triamcinolone was injected.\n"
    )
    result, frames = _frames(checker, text)
    assert result.suggested_code == "77002", [f["site"] for f in frames]
    assert "spinal" not in {f["site"]["region"] for f in frames}


def test_a_true_spinal_target_in_unusual_words(checker):
    text = (
        "Procedure: caudal epidural steroid injection.\nIndication: lumbar radiculopathy.\n"
        "Under fluoroscopy a 22-gauge needle was advanced through the sacral hiatus. Contrast "
        "outlined the epidural space and 80 mg methylprednisolone was injected.\n"
    )
    result, frames = _frames(checker, text)
    assert result.suggested_code == "77003"
    assert "spinal" in {f["site"]["region"] for f in frames}


def test_two_non_spinal_targets_are_two_frames_and_stay_77002(checker):
    text = (
        "Indication: osteoarthritis.\nUnder fluoroscopy a 22-gauge needle was advanced into the "
        "right knee joint and contrast confirmed position; then a 25-gauge needle was advanced "
        "into the right ankle joint and contrast confirmed position. Triamcinolone was injected "
        "in each.\n"
    )
    result, frames = _frames(checker, text)
    assert result.suggested_code == "77002"
    assert len(frames) >= 2 and {f["site"]["region"] for f in frames} == {"non_spinal"}
    assert not result.review.needed


def test_an_ambiguous_site_is_not_guessed_and_goes_to_review(checker):
    text = (
        "Indication: complex regional pain syndrome of the left arm.\n"
        "Under fluoroscopy a 22-gauge needle was advanced to the stellate ganglion. Contrast "
        "spread confirmed the position and 10 mL bupivacaine was injected.\n"
    )
    result, frames = _frames(checker, text)
    assert "site_ambiguous" in result.review.reasons and result.review.needed
    assert result.elements["non_spinal_site"].status != "present"


def test_every_result_has_procedures_and_review(checker):
    result = checker.check("Indication: pain. Nothing else.")
    assert result.procedures == [] and result.review.needed is False
    d = result.to_dict()
    assert set(ELEMENTS) <= set(d["elements"]) and "procedures" in d and "review" in d
