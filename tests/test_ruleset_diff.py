"""diff: a known edit to a copy of patterns/ lists exactly the notes it changes (the expected list
is computed apart, by running the two checkers directly), exit 1 on a change and 0 on none, the
gold effects, the review flag when results have one, and the output formats."""

import csv
import io
import json
import shutil
from dataclasses import replace

import pytest

from doc_checker import Checker
from doc_checker.cli import main
from doc_checker.evaluation import parse_label
from doc_checker.result import ELEMENTS, CheckResult, ElementResult, Evidence, Review
from doc_checker.ruleset_diff import compare_results, diff_outcomes

from .conftest import FIXTURES, ROOT

NOTES = FIXTURES / "notes"


def _edited_patterns(tmp_path, name, edit):
    """A copy of patterns/ with ``edit`` applied to targets/guidance.json's rules."""
    target = tmp_path / name
    shutil.copytree(ROOT / "patterns", target)
    path = target / "targets" / "guidance.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["target_rules"] = edit(data["target_rules"])
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return target


def _drop_fluoroscopically(rules):
    """Remove one synonym from the fluoroscopy rule: 'fluoroscopically' no longer matches."""
    rule = next(r for r in rules if r["literal"] == "fluoroscopy")
    regex = rule["pattern"][0]["LOWER"]["REGEX"]
    assert "|ically|" in regex
    rule["pattern"][0]["LOWER"]["REGEX"] = regex.replace("|ically|", "|")
    return rules


def _drop_rule(literal):
    def edit(rules):
        kept = [r for r in rules if r["literal"] != literal]
        assert len(kept) == len(rules) - 1
        return kept

    return edit


def _expected_changes(base: Checker, new_patterns):
    """Note ids whose verdict, code, any element status or review flag differ: both checkers
    run directly."""
    notes = sorted(NOTES.rglob("*.txt"))
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in notes]
    with Checker(patterns=new_patterns) as new:
        before = {r.note_id: r for r in base.check_many(texts)}
        after = {r.note_id: r for r in new.check_many(texts)}
    changed = []
    moves = {}
    for note_id, b in before.items():
        a = after[note_id]
        statuses = [(b.elements[e].status, a.elements[e].status) for e in ELEMENTS]
        if (b.verdict, b.suggested_code, b.review.needed) != (
            a.verdict,
            a.suggested_code,
            a.review.needed,
        ) or any(x != y for x, y in statuses):
            changed.append(note_id)
        if b.verdict != a.verdict:
            moves[(b.verdict, a.verdict)] = moves.get((b.verdict, a.verdict), 0) + 1
    return changed, moves


@pytest.mark.parametrize(
    "edit", [_drop_fluoroscopically, _drop_rule("fluoroscopy")], ids=["one-synonym", "whole-rule"]
)
def test_diff_lists_exactly_the_notes_the_edit_changes(tmp_path, capsys, checker, edit):
    patterns = _edited_patterns(tmp_path, "new", edit)
    expected, moves = _expected_changes(checker, patterns)
    assert expected, "the edit must change some fixture note for this test to mean anything"
    code = main(["diff", str(NOTES), "--patterns", str(patterns), "--format", "json"])
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    assert [n["note_id"] for n in report["notes_changed"]] == expected
    assert report["notes"] == len(list(NOTES.rglob("*.txt"))) and report["changed"] == len(expected)
    assert {(m["before"], m["after"]): m["notes"] for m in report["verdict_moves"]} == moves
    for note in report["notes_changed"]:  # the changed element shows its evidence before/after
        guidance = next((c for c in note["changes"] if c["field"] == "fluoroscopic_guidance"), None)
        if guidance is None:  # only the review flag moved (a weaker reading, not another status)
            assert {c["field"] for c in note["changes"]} == {"review"}
            continue
        assert guidance["evidence_before"] and guidance["before"] != guidance["after"]


def test_an_edit_that_changes_nothing_exits_0(tmp_path, capsys):
    """Every fixture note that says 'C-arm' also says fluoroscopy: dropping the rule is a no-op."""
    patterns = _edited_patterns(tmp_path, "noop", _drop_rule("C-arm"))
    assert main(["diff", str(NOTES), "--patterns", str(patterns)]) == 0
    out = capsys.readouterr().out
    assert "130 notes compared, 0 changed" in out
    assert "bump the new one's ruleset.json version" in out  # same version on both sides


def test_base_patterns_and_gold_effects(tmp_path, capsys):
    """Diffing the edit backwards (edited copy as base, shipped rules as new) with the fixture
    gold: every change of the whole-rule edit restores an agreement, so it 'fixes'."""
    edited = _edited_patterns(tmp_path, "edited", _drop_rule("fluoroscopy"))
    args = [
        "diff",
        str(NOTES),
        "--base-patterns",
        str(edited),
        "--patterns",
        str(ROOT / "patterns"),
    ]
    gold = ["--gold", str(FIXTURES / "gold.jsonl"), "--gold", str(FIXTURES / "gold-holdout.jsonl")]
    assert main([*args, *gold, "--format", "csv"]) == 1
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert rows and {r["effect"] for r in rows if r["field"] == "verdict"} == {"fixes"}
    # every labelled field has its gold value (the review flag has no gold label)
    assert all(r["gold"] != "" for r in rows if r["field"] != "review")
    assert "fixed, 0 broken" in captured.err
    assert main([*args, "--format", "html", "-o", str(tmp_path / "d.html")]) == 1
    html = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert "Verdict moves" in html and rows[0]["note_id"] in html


def _result(**kw):
    els = {e: ElementResult("present", i < 6) for i, e in enumerate(ELEMENTS)}
    base = CheckResult(
        note_id="n1",
        score=100.0,
        verdict="supported",
        suggested_code="77002",
        elements=els,
        findings=[],
        queries=[],
        ruleset_version="1",
        profile="default",
    )
    return replace(base, **kw)


def test_review_flag_changes_are_listed_and_its_absence_is_no_change():
    a, b = _result(), _result()
    assert compare_results(a, b) == []  # the same (default) review: no change
    a.review, b.review = Review(False, []), Review(True, ["site_ambiguous"])
    assert [(c.field, c.before, c.after) for c in compare_results(a, b)] == [
        ("review", "not needed", "needed")
    ]


def test_fixes_breaks_and_mixed_against_a_label():
    label = parse_label(
        {
            "note_id": "n1",
            "elements": {"indication": False, "radiation_dose": True},
            "suggested_code": "77002",
            "verdict": "incomplete",
        },
        "t:1",
    )
    els = dict(_result().elements)
    els["indication"] = ElementResult("missing", True)
    els["radiation_dose"] = ElementResult(
        "missing", False, evidence=[Evidence("fluoro time", 0, 11)]
    )
    before, after = _result(), _result(verdict="incomplete", elements=els)
    diff = diff_outcomes([(before, after)], {"n1": label})
    (note,) = diff.changed
    effects = {c.field: c.effect for c in note.changes}
    assert effects == {"verdict": "fixes", "indication": "fixes", "radiation_dose": "breaks"}
    assert note.effect == "mixed" and diff.labelled == 1
    assert dict(diff.verdict_moves) == {("supported", "incomplete"): 1}
    assert diff_outcomes([(before, before)], {"n1": label}).changed == []


def test_usage_errors_exit_2_before_any_note_is_read(tmp_path, capsys):
    broken = _edited_patterns(tmp_path, "broken", lambda rules: [*rules, {"literal": "x"}])
    assert main(["diff", str(NOTES), "--patterns", str(broken)]) == 2
    assert "guidance.json" in capsys.readouterr().err
    assert main(["diff", "-", "--patterns", str(ROOT / "patterns")]) == 2
    assert "not - (stdin)" in capsys.readouterr().err
    bad_gold = tmp_path / "g.jsonl"
    bad_gold.write_text('{"note_id": "fx001", "verdict": "supported"}\n')
    assert (
        main(["diff", str(NOTES), "--patterns", str(ROOT / "patterns"), "--gold", str(bad_gold)])
        == 2
    )
    assert "g.jsonl:1: missing field 'elements'" in capsys.readouterr().err


def test_table_lists_the_changed_note_with_its_evidence(tmp_path, capsys):
    patterns = _edited_patterns(tmp_path, "new", _drop_fluoroscopically)
    note = tmp_path / "n1.txt"
    note.write_text(
        "INDICATION: left hip pain.\nPROCEDURE: A 22-gauge needle was fluoroscopically guided "
        "into the left hip joint; 2 mL Omnipaque confirmed intra-articular position and 40 mg "
        "Kenalog was injected. Images saved to PACS.\n"
    )
    assert main(["diff", str(note), "--patterns", str(patterns)]) == 1
    out = capsys.readouterr().out
    assert "1 notes compared, 1 changed" in out and "n1" in out
    assert "fluoroscopic_guidance" in out and "supported -> not_supported: 1" in out
    assert "fluoroscopically" in out  # the evidence before the edit
