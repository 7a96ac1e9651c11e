"""A bad patterns directory or profile fails on load, naming the file and the rule."""

import json
import shutil

import pytest

from doc_checker import Checker, RulesError
from doc_checker.cli import main
from doc_checker.rules import default_patterns_dir, load_profile, load_ruleset


@pytest.fixture
def patterns(tmp_path):
    dst = tmp_path / "patterns"
    shutil.copytree(
        default_patterns_dir(), dst, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    return dst


def test_shipped_rules_load():
    rs = load_ruleset()
    assert rs.version and {"guidance", "needle", "site", "contrast", "procedure"} <= set(
        rs.target_layers
    )


def test_invalid_json_names_file_and_line(patterns):
    (patterns / "context.json").write_text('{"context_rules": [\n  {"literal": "no",}\n]}')
    with pytest.raises(RulesError, match=r"context.json: invalid JSON at line 2"):
        load_ruleset(patterns)


def test_unknown_key_names_the_rule(patterns):
    path = patterns / "targets" / "needle.json"
    data = json.loads(path.read_text())
    data["target_rules"][0]["colour"] = "red"
    path.write_text(json.dumps(data))
    with pytest.raises(RulesError, match=r"needle.json: rule 0 \('needle'\): unknown key"):
        load_ruleset(patterns)


def test_invalid_regex_names_the_rule(patterns):
    path = patterns / "targets" / "dose.json"
    data = json.loads(path.read_text())
    data["target_rules"][1]["pattern"][0]["LOWER"]["REGEX"] = "^(fluoro"
    path.write_text(json.dumps(data))
    with pytest.raises(RulesError, match=r"dose.json: rule 1 .*invalid REGEX"):
        load_ruleset(patterns)


def test_profile_weight_must_be_a_number(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"elements": {"indication": {"required": True, "weight": "heavy"}}}))
    with pytest.raises(
        RulesError, match=r"p.json: element 'indication': 'weight' must be a non-negative number"
    ):
        load_profile(path)


def test_cli_exits_2_on_bad_patterns_before_any_note(patterns, capsys):
    (patterns / "sections.json").write_text("not json")
    code = main(["check", "--patterns", str(patterns), "--format", "jsonl", "fixtures/notes"])
    out = capsys.readouterr()
    assert code == 2 and "sections.json" in out.err and out.out == ""


def test_custom_patterns_directory_is_used(patterns):
    path = patterns / "ruleset.json"
    path.write_text(json.dumps({"version": "custom-1"}))
    checker = Checker(patterns=patterns)
    assert (
        checker.check("Under fluoroscopy a needle entered the left hip joint.").ruleset_version
        == "custom-1"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"header_start": "(?m)^"}, "not both"),
        ({"header_after": "\\n?"}, "must not match the empty string"),
        ({"header_after": "[.;"}, "header_after: invalid regex"),
    ],
)
def test_header_position_rules_are_checked(patterns, change, message):
    path = patterns / "sections.json"
    data = json.loads(path.read_text())
    data.update(change)
    path.write_text(json.dumps(data))
    with pytest.raises(RulesError, match=message):
        load_ruleset(patterns)


def test_header_start_and_header_after_find_the_same_sections(patterns, checker):
    """The shipped 'header_after' (a line break, '. ' or '; ') and the zero-width 'header_start'
    it replaced give the same results on every fixture note."""
    from pathlib import Path

    path = patterns / "sections.json"
    data = json.loads(path.read_text())
    assert data.pop("header_after") == "\\n|[.;] "
    data["header_start"] = "(?m)^|(?<=[.;] )"
    path.write_text(json.dumps(data))
    old = Checker(patterns=patterns)
    notes = [
        (p.stem, p.read_text(encoding="utf-8"))
        for p in sorted(Path(__file__).parent.parent.glob("fixtures/notes/*.txt"))
    ]
    notes += [
        ("one-line", "Indication: pain. Procedure: hip injection; Findings: fine.\nPlan: none")
    ]
    assert [r.to_dict() for r in old.check_many(notes)] == [
        r.to_dict() for r in checker.check_many(notes)
    ]
