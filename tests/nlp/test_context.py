"""The ConText component: built from ConTextRule objects; directions, scopes, pseudo phrases;
saved with its rules."""

import json

import pytest

from doc_checker import RulesError
from doc_checker.nlp._spangroups import set_group
from doc_checker.nlp.context import MODIFIERS_KEY, ConTextComponent, target_key
from doc_checker.nlp.targets import TARGET_GROUP
from doc_checker.rules import ConTextRule

RULES = [
    ConTextRule(literal="no", category="NEGATED_EXISTENCE", direction="FORWARD", max_scope=3),
    ConTextRule(literal="was not used", category="NEGATED_EXISTENCE", direction="BACKWARD"),
    ConTextRule(literal="no change", category="PSEUDO", direction="PSEUDO"),
    ConTextRule(literal="but", category="TERMINATE", direction="TERMINATE"),
    ConTextRule(literal="will", category="HYPOTHETICAL"),  # BIDIRECTIONAL by default
]


@pytest.fixture
def context(nlp):
    component = ConTextComponent(nlp)
    component.add_patterns(RULES)
    return component


def modifiers(component, text, target_words):
    """The modifiers of each target (a word of ``text``, labelled TARGET)."""
    doc = component.nlp.make_doc(text)
    words = [t.text for t in doc]
    bounds = [(words.index(w), words.index(w) + 1, "TARGET") for w in target_words]
    set_group(doc, TARGET_GROUP, bounds)
    mods = component(doc).user_data[MODIFIERS_KEY]
    return {
        w: mods.get(target_key(s, e, label), [])
        for w, (s, e, label) in zip(target_words, bounds, strict=True)
    }


def test_forward_modifier_within_its_scope(context):
    assert modifiers(context, "no fluoroscopy and then a needle", ["fluoroscopy", "needle"]) == {
        "fluoroscopy": ["NEGATED_EXISTENCE"],
        "needle": [],  # 5 tokens on: out of max_scope 3
    }


def test_backward_modifier_and_terminate(context):
    assert modifiers(
        context, "needle placed but fluoroscopy was not used", ["needle", "fluoroscopy"]
    ) == {
        "needle": [],  # 'but' ends the backward scope
        "fluoroscopy": ["NEGATED_EXISTENCE"],
    }


def test_pseudo_phrase_silences_the_trigger_inside_it(context):
    assert modifiers(context, "no change in the needle", ["needle"]) == {"needle": []}


def test_default_direction_is_bidirectional(context):
    assert modifiers(context, "fluoroscopy will guide the needle", ["fluoroscopy", "needle"]) == {
        "fluoroscopy": ["HYPOTHETICAL"],
        "needle": ["HYPOTHETICAL"],
    }


def test_disk_and_bytes_round_trip(nlp, context, tmp_path):
    context.to_disk(tmp_path / "c")
    lines = [json.loads(x) for x in (tmp_path / "c" / "rules.jsonl").read_text().splitlines()]
    assert lines == [r.to_dict() for r in RULES]
    for loaded in (
        ConTextComponent(nlp).from_disk(tmp_path / "c"),
        ConTextComponent(nlp).from_bytes(context.to_bytes()),
    ):
        assert loaded.rules == RULES
        text, words = "needle placed but fluoroscopy was not used", ["needle", "fluoroscopy"]
        assert modifiers(loaded, text, words) == modifiers(context, text, words)


def test_a_saved_rule_of_unknown_category_is_refused(nlp, context, tmp_path):
    context.to_disk(tmp_path / "c")
    path = tmp_path / "c" / "rules.jsonl"
    path.write_text(json.dumps({"literal": "maybe", "category": "SPECULATIVE"}) + "\n")
    with pytest.raises(
        RulesError, match=r"rules.jsonl: rule 0 \('maybe'\): category 'SPECULATIVE'"
    ):
        ConTextComponent(nlp).from_disk(tmp_path / "c")
