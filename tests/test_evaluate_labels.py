"""evaluate: the three label formats (corpus, project gold, coders' decisions), refusals that name
the line and the field, the figures on notes with known answers, and the round trip results ->
decisions file -> evaluate."""

import json
import subprocess
import sys

import jsonschema
import pytest

from doc_checker.cli import main
from doc_checker.evaluation import (
    Label,
    LabelError,
    decision_schema,
    detect_format,
    evaluate,
    make_decision,
    parse_label,
    read_labels,
)
from doc_checker.result import ELEMENTS

from .conftest import FIXTURES, GOLD

IDS = ["fx001", "fx011", "fx030", "fx089"]  # supported, incomplete, and two other kinds


def _gold_lines():
    return {
        g["note_id"]: g
        for g in (json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines())
    }


def _corpus_record(g):
    """A fixture gold record written in the shared corpus format (text carried along)."""
    return {
        "id": g["note_id"],
        "text": (FIXTURES / g["file"]).read_text(encoding="utf-8"),
        "expected": {
            "elements": g["elements"],
            "suggested_code": g["suggested_code"],
            "verdict": g["verdict"],
        },
        "why": g["comment"],
    }


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def results_by_id(checker):
    gold = _gold_lines()
    texts = [(i, (FIXTURES / gold[i]["file"]).read_text(encoding="utf-8")) for i in IDS]
    return {r.note_id: r for r in checker.check_many(texts)}


# formats ---------------------------------------------------------------------------------------
def test_each_format_is_detected_per_line():
    assert detect_format({"id": "a", "text": "x", "expected": {}}) == "corpus"
    assert detect_format({"note_id": "a", "expected": {}, "ruleset_version": "1"}) == "decision"
    assert detect_format({"note_id": "a", "file": "n.txt", "verdict": "supported"}) == "gold"
    assert detect_format({"note_id": "a", "text": "x"}) is None


def test_corpus_file_is_scored_over_its_notes_like_the_same_labels_in_gold_format(tmp_path, capsys):
    """The bug that started this: given the corpus format, evaluate scored zero notes and printed
    precision 1.000 everywhere. The same notes and labels must give the same figures in both."""
    gold = _gold_lines()
    corpus = _write(tmp_path / "corpus.jsonl", [_corpus_record(gold[i]) for i in IDS])
    project = tmp_path / "gold.jsonl"
    _write(project, [{**gold[i], "file": str(FIXTURES / gold[i]["file"])} for i in IDS])
    assert main(["evaluate", "--format", "json", str(corpus)]) == 0
    from_corpus = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--json", str(project)]) == 0
    from_gold = json.loads(capsys.readouterr().out)
    assert from_corpus["notes"] == len(IDS) and from_corpus["label_sources"] == {"corpus": 4}
    assert from_gold["label_sources"] == {"gold": 4}
    for key in ("verdict_accuracy", "code_accuracy", "elements", "verdict_confusion"):
        assert from_corpus[key] == from_gold[key], key
    # the four fixture notes are right: the verdict matrix is the diagonal of their verdicts
    verdicts = sorted(gold[i]["verdict"] for i in IDS)
    assert from_corpus["verdict_confusion"] == {v: {v: verdicts.count(v)} for v in set(verdicts)}


def test_precision_without_predictions_is_not_a_made_up_one():
    """An element no note has and the checker never finds: precision and recall are unknown."""
    gold = parse_label(
        {
            "note_id": "n",
            "elements": {"radiation_dose": False},
            "suggested_code": None,
            "verdict": "not_supported",
        },
        "t:1",
    )

    class _El:
        status, present, evidence, ignored = "missing", False, [], []

    class _Res:
        elements = {"radiation_dose": _El()}
        verdict, suggested_code, ruleset_version, findings, missing = (
            "not_supported",
            None,
            "v",
            [],
            [],
        )

    ev = evaluate([(gold, _Res())])
    s = ev.to_dict()["elements"]["radiation_dose"]
    assert (s["precision"], s["recall"], s["f1"], s["tn"], s["notes"]) == (None, None, None, 1, 1)
    assert ev.to_dict()["elements"]["indication"]["notes"] == 0  # not labelled: not counted


# refusals --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "record, field",
    [
        (
            {"id": "a", "text": "x", "expected": {"elements": {}, "suggested_code": None}},
            "expected.verdict",
        ),
        (
            {
                "id": "a",
                "expected": {"elements": {}, "suggested_code": None, "verdict": "supported"},
            },
            "text",
        ),
        ({"note_id": "a", "file": "x.txt", "elements": {}, "suggested_code": "77002"}, "verdict"),
        (
            {
                "note_id": "a",
                "expected": {"elements": {}, "suggested_code": None, "verdict": "not_supported"},
            },
            "ruleset_version",
        ),
        (
            {
                "note_id": "a",
                "expected": {
                    "elements": {"indication": "yes"},
                    "suggested_code": None,
                    "verdict": "not_supported",
                },
                "ruleset_version": "1",
            },
            "expected.elements.indication",
        ),
        ({"note_id": "a", "verdict": "great", "elements": {}, "suggested_code": None}, "verdict"),
        (
            {
                "note_id": "a",
                "verdict": "supported",
                "elements": {"bogus": True},
                "suggested_code": "77002",
            },
            "elements.bogus",
        ),
        (
            {"note_id": "a", "verdict": "supported", "elements": {}, "suggested_code": "99999"},
            "suggested_code",
        ),
    ],
)
def test_a_line_that_is_not_a_label_is_refused_naming_line_and_field(
    tmp_path, capsys, record, field
):
    gold = _gold_lines()
    path = _write(tmp_path / "labels.jsonl", [_corpus_record(gold["fx001"]), record])
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "labels.jsonl:2: " in err and f"'{field}'" in err, err


def test_checker_results_are_refused_as_labels(tmp_path, capsys):
    results = tmp_path / "results.jsonl"
    assert (
        main(
            [
                "check",
                "--format",
                "jsonl",
                "-o",
                str(results),
                str(FIXTURES / "notes" / "fx001.txt"),
            ]
        )
        == 0
    )
    assert main(["evaluate", str(results)]) == 2
    assert "results.jsonl:1: this is a checker result, not a label" in capsys.readouterr().err


def test_unknown_line_and_empty_file_are_refused(tmp_path, capsys):
    path = _write(tmp_path / "x.jsonl", [{"note_id": "a", "text": "hello"}])
    assert main(["evaluate", str(path)]) == 2
    assert "x.jsonl:1: not a label record" in capsys.readouterr().err
    (tmp_path / "empty.jsonl").write_text("\n")
    assert main(["evaluate", str(tmp_path / "empty.jsonl")]) == 2
    assert "no label records" in capsys.readouterr().err


def test_the_same_note_labelled_twice_in_gold_is_refused_a_later_decision_wins(tmp_path):
    gold = _gold_lines()
    with pytest.raises(LabelError, match=r"g.jsonl:2: note 'fx001' is labelled again"):
        read_labels(_write(tmp_path / "g.jsonl", [gold["fx001"], gold["fx001"]]))
    first = {
        "note_id": "fx001",
        "ruleset_version": "1",
        "expected": {"elements": {}, "suggested_code": "77002", "verdict": "incomplete"},
    }
    later = {**first, "expected": {**first["expected"], "verdict": "supported"}}
    labels = read_labels(_write(tmp_path / "d.jsonl", [first, later]))
    assert [(lb.note_id, lb.verdict) for lb in labels] == [("fx001", "supported")]


def test_decisions_need_their_notes(tmp_path, capsys, results_by_id):
    path = _write(tmp_path / "decisions.jsonl", [make_decision(results_by_id["fx001"])])
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "decisions.jsonl:1: no text for note 'fx001'" in err and "--notes" in err
    other = tmp_path / "other"
    other.mkdir()
    (other / "fx999.txt").write_text("a note")
    assert main(["evaluate", str(path), "--notes", str(other)]) == 2
    assert "not in the --notes given" in capsys.readouterr().err


# decisions: the format the review report exports ------------------------------------------------
def test_decisions_validate_against_their_schema_and_read_back(results_by_id):
    validator = jsonschema.Draft202012Validator(decision_schema())
    jsonschema.Draft202012Validator.check_schema(decision_schema())
    record = make_decision(
        results_by_id["fx011"],
        elements={"indication": True},
        comment="indication is in the history paragraph",
        reviewer="jd",
        decided_at="2026-12-01T18:00:00Z",
    )
    assert not list(validator.iter_errors(record))
    label = parse_label(json.loads(json.dumps(record)), "d:1")
    assert isinstance(label, Label) and label.source == "decision"
    assert label.elements["indication"] is True
    # the coder's correction changes the derived verdict like the checker's rule would
    assert label.verdict == (
        "supported"
        if not [m for m in results_by_id["fx011"].missing if m != "indication"]
        else "incomplete"
    )
    assert label.comment == "indication is in the history paragraph"
    assert (
        record["checker"]["elements"]["indication"]
        == results_by_id["fx011"].elements["indication"].status
    )
    bad = {**record, "expected": {**record["expected"], "verdict": "maybe"}}
    assert list(validator.iter_errors(bad))


def test_round_trip_results_to_decisions_to_evaluate(tmp_path, capsys):
    """Check the fixtures, let a coder confirm most notes and correct two, export the decisions,
    evaluate against them with --notes: the checker disagrees exactly where the coder corrected."""
    results = tmp_path / "results.jsonl"
    notes = FIXTURES / "notes"
    assert main(["check", "--format", "jsonl", "-o", str(results), str(notes)]) == 0
    from doc_checker.result import CheckResult, ElementResult

    decisions = []
    for line in results.read_text(encoding="utf-8").splitlines()[:20]:
        d = json.loads(line)
        result = CheckResult(
            note_id=d["note_id"],
            score=d["score"],
            verdict=d["verdict"],
            suggested_code=d["suggested_code"],
            elements={
                k: ElementResult(v["status"], v["required"]) for k, v in d["elements"].items()
            },
            findings=[],
            queries=[],
            ruleset_version=d["ruleset_version"],
            profile=d["profile"],
        )
        corrections = {}
        if d["note_id"] == "fx003":  # the coder says the images are not documented
            corrections = {
                "elements": {"images_recorded": not result.elements["images_recorded"].present},
                "comment": "no images line",
            }
        if d["note_id"] == "fx004":  # and this one is 77003
            corrections = {"suggested_code": "77003"}
        decisions.append(make_decision(result, reviewer="cm", **corrections))
    path = _write(tmp_path / "decisions.jsonl", decisions)
    assert main(["evaluate", "--json", "--show", str(path), "--notes", str(notes)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["notes"] == 20 and report["label_sources"] == {"decision": 20}
    assert report["decision_rulesets"] == {decisions[0]["ruleset_version"]: 20}
    by_id = {d["note_id"]: d for d in report["disagreements"]}
    assert set(by_id) == {"fx003", "fx004"}
    assert set(by_id["fx003"]) >= {"images_recorded"} and by_id["fx003"]["comment"] == (
        "no images line"
    )
    assert "evidence" in by_id["fx003"]["images_recorded"]  # --show: the checker's evidence
    assert by_id["fx004"]["suggested_code"] == {"gold": "77003", "predicted": "77002"}
    assert by_id["fx004"]["verdict"]["gold"] == "not_supported"
    assert report["code_confusion"]["77003"]["77002"] == 1
    s = report["elements"]["images_recorded"]
    assert s["fp"] + s["fn"] == 1 and s["notes"] == 20


def test_show_prints_evidence_only_when_asked(tmp_path, capsys, results_by_id):
    gold = _gold_lines()
    wrong = dict(gold["fx001"], file=str(FIXTURES / gold["fx001"]["file"]))
    wrong["elements"] = {**wrong["elements"], "fluoroscopic_guidance": False}
    path = _write(tmp_path / "g.jsonl", [wrong])
    evidence = results_by_id["fx001"].elements["fluoroscopic_guidance"].evidence[0].text
    assert main(["evaluate", str(path)]) == 0
    plain = capsys.readouterr().out
    assert "fluoroscopic_guidance: gold absent, checker present" in plain
    assert evidence[:30] not in plain
    assert main(["evaluate", "--show", str(path)]) == 0
    assert evidence[:30] in capsys.readouterr().out


def test_html_report_escapes_and_carries_the_figures(tmp_path, capsys):
    gold = _gold_lines()
    rec = _corpus_record(gold["fx011"])
    rec["expected"]["elements"]["indication"] = True  # disagree, so the evidence is shown
    rec["text"] = rec["text"].replace("\n", "\n<script>alert(1)</script> ", 1)
    out = tmp_path / "eval.html"
    path = _write(tmp_path / "c.jsonl", [rec])
    assert main(["evaluate", "--format", "html", "--show", "-o", str(out), str(path)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<script>" not in html
    assert 'id="elements"' in html and "Verdict confusion" in html and "fx011" in html


def test_evaluation_modules_import_no_spacy():
    code = (
        "import sys, doc_checker.evaluation, doc_checker.ruleset_diff, "
        "doc_checker.io.evaluation_report, doc_checker.io.diff_report; "
        "sys.exit(1 if 'spacy' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_every_element_is_covered_by_the_schema():
    names = decision_schema()["properties"]["expected"]["properties"]["elements"]["propertyNames"][
        "enum"
    ]
    assert names == list(ELEMENTS)
