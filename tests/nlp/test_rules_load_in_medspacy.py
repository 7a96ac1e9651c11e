"""Every rule file of patterns/ loads through medspaCy's own rule classes (``from_json``), and
the lists the checker loads (after its validation) through ``from_dict``: the rule files are
medspaCy rule files, not look-alikes."""

from __future__ import annotations

from pathlib import Path

import pytest
from medspacy.context import ConTextRule
from medspacy.section_detection import SectionRule
from medspacy.target_matcher import TargetRule

from doc_checker.rules import default_patterns_dir, load_ruleset

PATTERNS = default_patterns_dir()
TARGET_FILES = sorted((PATTERNS / "targets").glob("*.json"))


def test_the_patterns_directory_is_the_one_shipped():
    assert (PATTERNS / "context.json").exists() and len(TARGET_FILES) >= 5


@pytest.mark.parametrize("path", TARGET_FILES, ids=lambda p: p.stem)
def test_target_rules_load_in_medspacy(path: Path):
    rules = TargetRule.from_json(path)
    assert rules and all(isinstance(r, TargetRule) for r in rules)


def test_anatomy_rules_load_in_medspacy():
    """anatomy.json's entries are TargetRules with metadata: its 'target_rules' through
    ``from_json``, its 'false_friends' (a second list, which from_json does not read) through
    ``from_dict``."""
    import json

    data = json.loads((PATTERNS / "anatomy.json").read_text(encoding="utf-8"))
    rules = TargetRule.from_json(PATTERNS / "anatomy.json")
    assert len(rules) == len(data["target_rules"]) > 100
    assert all(r.metadata and r.metadata.get("region") for r in rules)
    friends = [TargetRule.from_dict(r) for r in data["false_friends"]]
    assert friends and all(r.metadata and r.metadata.get("region") for r in friends)


def test_context_rules_load_in_medspacy():
    rules = ConTextRule.from_json(PATTERNS / "context.json")
    directions = {r.direction for r in rules}
    assert len(rules) > 50 and {"FORWARD", "BACKWARD", "TERMINATE", "PSEUDO"} <= directions


def test_section_rules_load_in_medspacy():
    rules = SectionRule.from_json(PATTERNS / "sections.json")
    assert len(rules) > 10 and all(isinstance(r.pattern, str) for r in rules)


def test_the_loaded_lists_round_trip_through_medspacy_from_dict():
    ruleset = load_ruleset(None)
    for cls, rules in [
        (ConTextRule, ruleset.context_rules),
        (SectionRule, ruleset.sections),
        *[(TargetRule, layer) for layer in ruleset.target_layers.values()],
    ]:
        for rule in (r.to_dict() for r in rules):
            loaded = cls.from_dict({k: v for k, v in rule.items() if k != "comment"})
            assert loaded.literal == rule["literal"]
            assert (
                loaded.category == rule["category"].upper() or loaded.category == rule["category"]
            )
            assert loaded.pattern == rule.get("pattern")


def test_medspacy_refuses_what_the_checker_refuses():
    """The check is real: medspaCy rejects a key outside its rule format."""
    with pytest.raises(ValueError):
        ConTextRule.from_dict({"literal": "no", "category": "NEG", "scope": 3})
