"""Every 'does not count' example of the primer has a fixture where it does not count."""

import pytest

TRAPS = {
    "indication.empty_header": "indication",
    "indication.template_blank": "indication",
    "fluoroscopic_guidance.negated": "fluoroscopic_guidance",
    "fluoroscopic_guidance.landmark_guided": "fluoroscopic_guidance",
    "fluoroscopic_guidance.hypothetical": "fluoroscopic_guidance",
    "fluoroscopic_guidance.historical": "fluoroscopic_guidance",
    "fluoroscopic_guidance.ct_fluoroscopy": "fluoroscopic_guidance",
    "fluoroscopic_guidance.other_purpose": "fluoroscopic_guidance",
    "needle_placement.no_target": "needle_placement",
    "needle_placement.no_needle": "needle_placement",
    "contrast_confirmation.negated": "contrast_confirmation",
    "contrast_confirmation.allergy_list": "contrast_confirmation",
    "contrast_confirmation.future_ct": "contrast_confirmation",
    "contrast_confirmation.not_needed": "contrast_confirmation",
    "non_spinal_site.epidural": "non_spinal_site",
    "non_spinal_site.facet": "non_spinal_site",
    "non_spinal_site.medial_branch": "non_spinal_site",
    "non_spinal_site.nerve_root": "non_spinal_site",
    "non_spinal_site.vertebral_body": "non_spinal_site",
    "non_spinal_site.disc": "non_spinal_site",
    "non_spinal_site.sacroiliac": "non_spinal_site",
    "non_spinal_site.paraspinal": "non_spinal_site",
    "primary_procedure.planned": "primary_procedure",
    "primary_procedure.past": "primary_procedure",
}


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_trap_has_a_fixture_and_does_not_count(trap, fixture_results):
    element = TRAPS[trap]
    cases = [(g, r) for g, _, r in fixture_results if trap in g.get("traps", [])]
    assert cases, f"no fixture exhibits {trap}"
    for g, r in cases:
        assert g["elements"][element] is False, g["note_id"]
        assert not r.elements[element].present, (g["note_id"], r.elements[element].to_dict())


def test_spine_words_in_history_do_not_make_a_site_spinal(fixture_results):
    cases = [
        (g, r)
        for g, _, r in fixture_results
        if "non_spinal_site.spine_history_only" in g.get("traps", [])
    ]
    assert len(cases) >= 3
    for g, r in cases:
        assert r.elements["non_spinal_site"].present, g["note_id"]
        assert r.suggested_code == g["suggested_code"]


def test_spinal_traps_suggest_77003(fixture_results):
    for g, _, r in fixture_results:
        spinal = [
            t
            for t in g.get("traps", [])
            if t.startswith("non_spinal_site.") and not t.endswith("history_only")
        ]
        if spinal and g["suggested_code"] == "77003":
            assert r.suggested_code == "77003", g["note_id"]
            assert any(f.code == "SPINAL_SITE" for f in r.findings)
