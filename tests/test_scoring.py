"""Scoring is pure: no NLP needed."""

import sys

from doc_checker.decide.scoring import assess, queries, score, verdict
from doc_checker.rules import ELEMENTS, load_profile, profile_from_dict

QUERIES = {e: {"query": f"q-{e}"} for e in ELEMENTS}


def test_scoring_does_not_import_spacy():
    import subprocess

    code = "import sys, doc_checker.decide.scoring; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_weighted_score_and_verdict():
    profile = load_profile()
    present = {e: True for e in ELEMENTS}
    assert score(present, profile) == 100.0
    assert verdict(present, profile, "77002") == "supported"
    assert verdict(present, profile, "77003") == "not_supported"
    present["fluoroscopic_guidance"] = False  # weight 2 of 7
    assert score(present, profile) == round(100 * 5 / 7, 1)
    assert verdict(present, profile, "77002") == "incomplete"
    assert queries(present, profile, QUERIES) == ["q-fluoroscopic_guidance"]


def test_recommended_elements_do_not_change_score():
    profile = load_profile()
    present = {e: True for e in ELEMENTS}
    present["images_recorded"] = present["radiation_dose"] = False
    s, v, q = assess(present, profile, "77002", QUERIES)
    assert (s, v, q) == (100.0, "supported", [])


def test_nothing_present():
    profile = profile_from_dict({"elements": {"indication": {"required": True, "weight": 3}}})
    assert score({}, profile) == 0.0
    assert verdict({}, profile, None) == "not_supported"
