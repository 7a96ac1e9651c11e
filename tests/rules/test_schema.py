"""Every rule file is validated by its JSON Schema (``doc_checker/schema/rules/``) plus the
checks a schema cannot express, in one function; errors name the file and the rule."""

import json
import shutil

import jsonschema
import pytest

from doc_checker import Checker, RulesError
from doc_checker.rules import default_patterns_dir, load_ruleset, schema, validate
from doc_checker.rules._schema import KINDS

PATTERNS = default_patterns_dir()


@pytest.fixture
def patterns(tmp_path):
    dst = tmp_path / "patterns"
    shutil.copytree(PATTERNS, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return dst


@pytest.mark.parametrize("kind", ("common",) + KINDS)
def test_schemas_are_valid_draft_2020_12(kind):
    jsonschema.Draft202012Validator.check_schema(schema(kind))


@pytest.mark.parametrize(
    "kind, path",
    [("targets", p) for p in sorted((PATTERNS / "targets").glob("*.json"))]
    + [
        ("context", PATTERNS / "context.json"),
        ("sections", PATTERNS / "sections.json"),
        ("abbreviations", PATTERNS / "abbreviations.json"),
        ("elements", PATTERNS / "elements.json"),
        ("ruleset", PATTERNS / "ruleset.json"),
    ]
    + [("profile", p) for p in sorted((PATTERNS / "profiles").glob("*.json"))],
    ids=lambda v: getattr(v, "name", v),
)
def test_every_shipped_file_is_valid(kind, path):
    validate(kind, json.loads(path.read_text(encoding="utf-8")), path)


NEG = {"literal": "no", "category": "NEGATED_EXISTENCE"}


@pytest.mark.parametrize(
    "kind, data, message",
    [
        (
            "context",
            {"context_rules": [NEG, {**NEG, "literal": "nah", "category": "SPECULATIVE"}]},
            r"f.json: rule 1 \('nah'\): category 'SPECULATIVE' is unknown to the checker's ConText",
        ),
        (
            "context",
            {"context_rules": [{**NEG, "direction": "SIDEWAYS"}]},
            r"rule 0 \('no'\): 'direction' must be one of .*got 'SIDEWAYS'",
        ),
        (
            "context",
            {"context_rules": [{**NEG, "terminated_by": ["SOMETHING"]}]},
            r"rule 0 \('no'\): category 'SOMETHING' is unknown",
        ),
        (
            "context",
            {"context_rules": [{**NEG, "max_scope": 0}]},
            r"rule 0 \('no'\): 'max_scope' must be a positive integer",
        ),
        (
            "context",
            {"context_rules": [{**NEG, "max_scope": True}]},
            r"'max_scope' must be a positive integer",
        ),
        ("context", {"context_rules": [{"literal": "no"}]}, r"'category' is a required property"),
        (
            "context",
            {"context_rules": [{**NEG, "pattern": []}]},
            r"'pattern' must be a regex string or a non-empty list of token objects",
        ),
        ("context", {"rules": []}, r"f.json: unknown top-level key\(s\) \['rules'\]"),
        (
            "targets",
            {"target_rules": [{"literal": " ", "category": "X"}]},
            r"rule 0 \(' '\): 'literal' must be a non-empty string",
        ),
        (
            "targets",
            {
                "target_rules": [
                    {"literal": "x", "category": "X", "pattern": [{"LOWER": {"REGEX": "(x"}}]}
                ]
            },
            r"rule 0 \('x'\): invalid REGEX '\(x'",
        ),
        (
            "sections",
            {"section_rules": [], "section_effects": {"plan": "later"}},
            r"section_effects\['plan'\]: 'later' is not one of",
        ),
        (
            "sections",
            {"section_rules": [], "header_start": "^", "header_after": "\n"},
            r"give 'header_start' or 'header_after', not both",
        ),
        (
            "elements",
            {"elements": {"indication": {"query": 3}}},
            r"element 'indication': needs a 'query' string",
        ),
        ("elements", {"elements": {"indication": {"query": "q"}}}, r"missing element definition"),
        ("abbreviations", {"abbreviations": [{"abbr": "US"}]}, r"entry 0: 'long' is a required"),
        ("ruleset", {"version": ""}, r"'version' must be a non-empty string"),
        (
            "profile",
            {"elements": {"indication": {"required": True, "weight": 0}}},
            r"element 'indication': a required element needs a weight above 0",
        ),
        ("profile", {"elements": {"bogus": {"required": True}}}, r"unknown element 'bogus'"),
        (
            "profile",
            {"elements": {"indication": {"required": False}}},
            r"must require at least one element",
        ),
    ],
)
def test_a_bad_rule_is_named(kind, data, message):
    with pytest.raises(RulesError, match=message):
        validate(kind, data, "f.json")


def test_unknown_context_category_fails_the_load(patterns):
    """Issue 14: a ConText rule with a category the checker does not know was accepted."""
    path = patterns / "context.json"
    data = json.loads(path.read_text())
    data["context_rules"][2]["category"] = "NEGATED"
    path.write_text(json.dumps(data))
    literal = data["context_rules"][2]["literal"]
    with pytest.raises(
        RulesError, match=rf"context.json: rule 2 \('{literal}'\): category 'NEGATED'"
    ):
        load_ruleset(patterns)


def test_a_long_value_is_cut_in_the_message():
    rule = {**NEG, "direction": "x" * 1000}
    with pytest.raises(RulesError) as err:
        validate("context", {"context_rules": [rule]}, "f.json")
    assert len(str(err.value)) < 300


def test_bad_profile_fails_the_checker(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"elements": {"indication": {"required": "yes"}}}))
    with pytest.raises(RulesError, match=r"p.json: element 'indication': 'required' must be true"):
        Checker(profile=path)
