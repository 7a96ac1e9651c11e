"""Rule objects (medspaCy's TargetRule / ConTextRule / SectionRule formats) round-trip every
shipped rule exactly, and a bad rule file names the file and the rule."""

import json
from pathlib import Path

import pytest

from doc_checker import RulesError
from doc_checker.rules import (
    ConTextRule,
    SectionRule,
    TargetRule,
    default_patterns_dir,
    load_ruleset,
)

PATTERNS = default_patterns_dir()
RULE_FILES = [
    *((TargetRule, p) for p in sorted((PATTERNS / "targets").glob("*.json"))),
    (ConTextRule, PATTERNS / "context.json"),
    (SectionRule, PATTERNS / "sections.json"),
]


@pytest.mark.parametrize("cls, path", RULE_FILES, ids=[p.name for _, p in RULE_FILES])
def test_every_shipped_rule_round_trips(cls, path: Path):
    written = json.loads(path.read_text(encoding="utf-8"))[cls.LIST_KEY]
    rules = cls.from_json(path)
    assert len(rules) == len(written) > 0
    assert [r.to_dict() for r in rules] == written
    assert [cls.from_dict(d).to_dict() for d in written] == written


def test_to_dict_leaves_out_what_the_rule_does_not_set():
    rule = ConTextRule.from_dict({"literal": "no", "category": "NEGATED_EXISTENCE"})
    assert rule.direction is None and rule.max_scope is None
    assert rule.to_dict() == {"literal": "no", "category": "NEGATED_EXISTENCE"}


def test_ruleset_holds_rule_objects():
    rs = load_ruleset()
    assert all(isinstance(r, SectionRule) for r in rs.sections)
    assert all(isinstance(r, ConTextRule) for r in rs.context_rules)
    assert all(isinstance(r, TargetRule) for rules in rs.target_layers.values() for r in rules)
    needle = [r for r in rs.target_layers["needle"] if r.literal == "needle"]
    assert needle and needle[0].category == "NEEDLE"


@pytest.mark.parametrize("cls", [TargetRule, ConTextRule, SectionRule])
def test_from_dict_refuses_an_unknown_key(cls):
    with pytest.raises(RulesError, match=r"'needle': unknown key\(s\) \['colour'\]"):
        cls.from_dict({"literal": "needle", "category": "NEEDLE", "colour": "red"})


def test_from_dict_needs_literal_and_category():
    with pytest.raises(RulesError, match=r"missing key\(s\) \['category'\]"):
        TargetRule.from_dict({"literal": "needle"})


def test_from_json_names_the_file_and_the_rule(tmp_path):
    path = tmp_path / "context.json"
    path.write_text(
        json.dumps(
            {
                "context_rules": [
                    {"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "FORWARD"},
                    {"literal": "maybe", "category": "SPECULATIVE"},
                ]
            }
        )
    )
    with pytest.raises(
        RulesError, match=r"context.json: rule 1 \('maybe'\): category 'SPECULATIVE'"
    ):
        ConTextRule.from_json(path)


def test_from_json_checks_regexes(tmp_path):
    path = tmp_path / "sections.json"
    path.write_text(
        json.dumps({"section_rules": [{"literal": "Plan", "category": "plan", "pattern": "(plan"}]})
    )
    with pytest.raises(RulesError, match=r"sections.json: rule 0 \('Plan'\): invalid regex"):
        SectionRule.from_json(path)
