"""The targets component: layers of TargetRule objects, overlaps pruned within a layer; saved
with each rule's layer; abbreviation variants from the lexicon."""

import json

import pytest

from doc_checker import RulesError
from doc_checker.nlp.targets import CUE_GROUP, TARGET_GROUP, TargetLayers, lexicon_variants
from doc_checker.rules import TargetRule

SITES = [
    TargetRule(literal="spinal", category="SPINAL_SITE"),
    TargetRule(literal="spinal needle", category="NEEDLE"),
    TargetRule(literal="hip joint", category="SITE"),
]
PROCEDURES = [TargetRule(literal="hip joint injection", category="PROCEDURE")]
CUES = [
    TargetRule(
        literal="confirmed", category="CONFIRMATION", pattern=[{"LOWER": {"REGEX": "^confirm"}}]
    )
]
NOTE = "A spinal needle entered the hip joint injection site; position confirmed."


def found(component, text):
    doc = component(component.nlp.make_doc(text))
    return {
        name: [(s.text, s.label_) for s in doc.spans[name]] for name in (TARGET_GROUP, CUE_GROUP)
    }


@pytest.fixture
def targets(nlp):
    component = TargetLayers(nlp)
    component.add_patterns(SITES, layer="site")
    component.add_patterns(PROCEDURES, layer="procedure")
    component.add_patterns(CUES, layer="cue")
    return component


def test_overlaps_pruned_within_a_layer_only(targets):
    assert found(targets, NOTE) == {
        # 'spinal needle' beats 'spinal' (same layer); 'hip joint' and 'hip joint injection' stay
        TARGET_GROUP: [
            ("spinal needle", "NEEDLE"),
            ("hip joint", "SITE"),
            ("hip joint injection", "PROCEDURE"),
        ],
        CUE_GROUP: [("confirmed", "CONFIRMATION")],
    }


def test_layers_kept_in_the_order_added(targets):
    assert list(targets.layers) == ["site", "procedure", "cue"]
    assert targets.layers["site"] == SITES


def test_disk_round_trip_keeps_rules_layers_and_order(nlp, targets, tmp_path):
    targets.to_disk(tmp_path / "t")
    lines = [json.loads(x) for x in (tmp_path / "t" / "rules.jsonl").read_text().splitlines()]
    assert lines[0] == {"layer": "site", "literal": "spinal", "category": "SPINAL_SITE"}
    loaded = TargetLayers(nlp).from_disk(tmp_path / "t")
    assert loaded.rules == targets.rules and loaded.layer_of == targets.layer_of
    assert found(loaded, NOTE) == found(targets, NOTE)


def test_bytes_round_trip(nlp, targets):
    loaded = TargetLayers(nlp).from_bytes(targets.to_bytes())
    assert loaded.rules == targets.rules and found(loaded, NOTE) == found(targets, NOTE)


def test_a_saved_rule_without_a_layer_is_refused(nlp, targets, tmp_path):
    targets.to_disk(tmp_path / "t")
    path = tmp_path / "t" / "rules.jsonl"
    path.write_text(json.dumps({"literal": "hip", "category": "SITE"}) + "\n")
    with pytest.raises(RulesError, match=r"rules.jsonl: 'layer'"):
        TargetLayers(nlp).from_disk(tmp_path / "t")


def test_lexicon_variant_replaces_the_long_form_keeping_layer_and_category(nlp):
    rules = [TargetRule(literal="ultrasound guidance", category="OTHER_MODALITY")]
    lexicon = [{"abbr": "US", "long": "ultrasound", "case_sensitive": True}]
    out = lexicon_variants({"guidance": rules}, lexicon, nlp.tokenizer)
    variant = out["guidance"][1]
    assert out["guidance"][0] is rules[0] and variant.literal == "US guidance"
    assert variant.category == "OTHER_MODALITY"
    assert variant.metadata == {"abbreviation_of": "ultrasound guidance"}
    component = TargetLayers(nlp)
    component.add_patterns(out["guidance"], layer="guidance")
    assert found(component, "US guidance; us guidance")[TARGET_GROUP] == [
        ("US guidance", "OTHER_MODALITY")
    ]
