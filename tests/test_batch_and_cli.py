"""Batches never lose a note; the CLI's formats, exit codes and commands."""

import codecs
import csv
import io
import json

import pytest

from doc_checker.cli import main
from doc_checker.errors import InputError

from .conftest import FIXTURES, assert_valid

NOTE = (
    "Indication: left hip pain. Under fluoroscopic guidance a 22-gauge needle was advanced into "
    "the left hip joint; 1 mL Omnipaque confirmed intra-articular position and 40 mg Kenalog was "
    "injected."
)


def test_check_many_keeps_order_and_accounts_for_every_input(checker, validator):
    inputs = [
        ("a", NOTE),
        ("empty", "   \n"),
        ("bin", b"\x00\x01\x02binary"),
        ("latin", b"caf\xe9 hip"),
        ("b", NOTE.encode("utf-8")),
        ("bom16", "\ufeff".encode("utf-16-le") + NOTE.encode("utf-16-le")),
        ("c", NOTE),
    ]
    outs = list(checker.check_many(inputs, batch_size=2))
    assert [o.note_id for o in outs] == [i for i, _ in inputs]
    assert [o.ok for o in outs] == [True, False, False, False, True, True, True]
    assert [o.code for o in outs if not o.ok] == ["empty", "binary", "not_utf8"]
    for o in outs:
        assert_valid(validator, o.to_dict())
        if not o.ok:
            assert "hip" not in o.message  # error records say where, never what


def test_plain_texts_get_positions(checker):
    outs = list(checker.check_many([NOTE, ""]))
    assert outs[0].ok and outs[0].note_id is None
    assert outs[1].position == 1 and outs[1].code == "empty"


def test_single_check_raises_clear_error(checker):
    with pytest.raises(InputError, match="empty"):
        checker.check("  ")


def test_two_processes_give_identical_results(checker):
    notes = [
        (p.stem, p.read_text(encoding="utf-8"))
        for p in sorted((FIXTURES / "notes").glob("*.txt"))[:24]
    ]
    one = [o.to_dict() for o in checker.check_many(notes, batch_size=5)]
    two = [o.to_dict() for o in checker.check_many(notes, batch_size=5, n_process=2)]
    assert one == two


def test_worker_pool_is_kept_between_calls_and_closed_on_request():
    """check_many(n_process=2) keeps its worker for the next call (no fork per call); close()
    and the context manager end it. Stopping a run early leaves nothing running."""
    from doc_checker import Checker

    notes = [
        (p.stem, p.read_text(encoding="utf-8"))
        for p in sorted((FIXTURES / "notes").glob("*.txt"))[:40]
    ]
    with Checker() as checker:
        first = [o.to_dict() for o in checker.check_many(notes, batch_size=3, n_process=2)]
        pids = set(checker._pools[2]._processes)
        second = [o.to_dict() for o in checker.check_many(notes, batch_size=3, n_process=2)]
        assert set(checker._pools[2]._processes) == pids and len(pids) == 1
        assert first == second == [o.to_dict() for o in checker.check_many(notes, batch_size=3)]
        run = checker.check_many(notes, batch_size=3, n_process=2)
        assert next(run).note_id == notes[0][0]
        run.close()  # stopped early: the queued chunks are cancelled
    assert checker._pools == {}


def test_cli_jsonl_and_summary(capsys, validator):
    code = main(["check", "--format", "jsonl", str(FIXTURES / "notes")])
    out = capsys.readouterr()
    assert code == 0
    records = [json.loads(line) for line in out.out.splitlines()]
    assert len(records) == len(list((FIXTURES / "notes").glob("*.txt")))
    assert records[0]["note_id"] == "fx001"
    for r in records[:10]:
        assert_valid(validator, r)
    assert "checked" in out.err


def test_cli_table_is_a_worklist_lowest_score_first(capsys):
    code = main(
        ["check", str(FIXTURES / "notes" / "fx001.txt"), str(FIXTURES / "notes" / "fx011.txt")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.index("fx011") < out.index("fx001")
    assert "indication" in out  # fx011's missing element is listed


def test_cli_csv_and_output_file(tmp_path, capsys):
    target = tmp_path / "out.csv"
    assert (
        main(
            [
                "check",
                "--format",
                "csv",
                "--output",
                str(target),
                str(FIXTURES / "notes" / "fx001.txt"),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows[0]["note_id"] == "fx001" and rows[0]["verdict"] == "supported"
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_json_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(NOTE.encode())))
    assert main(["check", "--format", "json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["note_id"] == "stdin" and data[0]["suggested_code"] == "77002"


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"\xef\xbb\xbf" + NOTE.encode(), None),  # UTF-8 with a BOM
        (codecs.BOM_UTF16_LE + NOTE.encode("utf-16-le"), None),
        (b"left hip \xff injection", "not_utf8"),
        (b"\xff\xfe\x00", "undecodable"),
    ],
)
def test_cli_stdin_bytes_are_decoded_as_a_txt_file_is(monkeypatch, capsys, raw, code):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    main(["check", "--format", "json", "-"])
    data = json.loads(capsys.readouterr().out)
    assert data[0]["note_id"] == "stdin"
    if code is None:
        assert data[0]["suggested_code"] == "77002"
    else:
        assert data[0]["error"]["code"] == code


def test_cli_bad_note_in_a_batch_is_an_error_record(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(NOTE)
    (tmp_path / "b.txt").write_bytes(b"\xff\xfe\x00\x00garbage\x00")
    (tmp_path / "c.txt").write_text("")
    assert (
        main(["check", "--format", "jsonl", str(tmp_path)]) == 1
    )  # some inputs were error records
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["note_id"] for r in records] == ["a", "b", "c"]
    assert "error" in records[1] and records[2]["error"]["code"] == "empty"


@pytest.mark.parametrize(
    "args", [["check", "does/not/exist.txt"], ["explain", "nope.txt"], ["evaluate", "nope.jsonl"]]
)
def test_cli_usage_errors_exit_2(args, capsys):
    assert main(args) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_empty_directory_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    assert "no .txt notes" in capsys.readouterr().err


def test_cli_explain_shows_evidence_missing_and_queries(capsys):
    assert main(["explain", str(FIXTURES / "notes" / "fx011.txt")]) == 0
    out = capsys.readouterr().out
    assert "missing: indication" in out and "query: Please document the clinical indication" in out


def test_cli_evaluate_reports_f1(capsys):
    assert main(["evaluate", "--json", str(FIXTURES / "gold.jsonl")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["notes"] >= 80
    assert all(s["f1"] >= 0.95 for s in report["elements"].values())
    assert report["verdict_accuracy"] >= 0.95


def test_cli_csv_input_carries_columns_and_applies_claim_edits(tmp_path, capsys):
    src = tmp_path / "export.csv"
    full = (FIXTURES / "notes" / "fx001.txt").read_text()
    src.write_text(
        "note_id,encounter,physician,cpt_codes,text\n"
        f'n1,E1,Dr A,77002,"{full}"\n'
        f'n2,E2,Dr B,20610;77002-26,"{NOTE}"\n'
        f'n3,E3,Dr A,,"{full}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "worklist.csv"
    assert main(["check", "--format", "csv", "--keep-order", "--output", str(out), str(src)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    header = list(rows[0])
    assert header[:3] == ["note_id", "encounter", "physician"] and header.index(
        "score"
    ) > header.index("physician")
    assert [r["note_id"] for r in rows] == ["n1", "n2", "n3"]
    assert "ADDON_WITHOUT_PRIMARY" in rows[0]["claim_findings"]  # 77002 with no primary code
    assert rows[1]["claim_findings"] == "" and rows[1]["billed_codes"] == "20610;77002-26"
    assert (
        rows[2]["billed_codes"] == "" and rows[2]["claim_findings"] == ""
    )  # empty cell: codes unknown
    report = tmp_path / "report.html"
    assert (
        main(
            [
                "check",
                "--format",
                "html",
                "--group-by",
                "physician",
                "--output",
                str(report),
                str(src),
            ]
        )
        == 0
    )
    html = report.read_text()
    assert "Dr A" in html and "Dr B" in html and "<svg" in html
    capsys.readouterr()


def test_cli_codes_option_applies_to_plain_notes(tmp_path, capsys):
    plain = tmp_path / "hip.txt"
    plain.write_text(NOTE)
    args = ["check", "--format", "jsonl", "--keep-order", "--codes", "73040, 77002"]
    assert main([*args, str(FIXTURES / "notes" / "fx001.txt"), str(plain)]) == 0
    mr_arthrogram, hip = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert mr_arthrogram["billed_codes"] == ["73040", "77002"]
    # the injection before an MR arthrogram keeps 77002: the conventional S&I code is the wrong one
    (before_mr,) = mr_arthrogram["claim_findings"]
    assert before_mr["code"] == "ARTHROGRAPHY_SI_WITH_77002"
    assert "73040 itself is the wrong code" in before_mr["message"]
    (plain_si,) = hip["claim_findings"]
    assert plain_si["code"] == "ARTHROGRAPHY_SI_WITH_77002"
    assert "wrong code" not in plain_si["message"]


def test_cli_bad_codes_option_is_a_usage_error(capsys):
    assert main(["check", "--codes", "77002;banana", str(FIXTURES / "notes" / "fx001.txt")]) == 2
    assert "--codes" in capsys.readouterr().err


def test_vocabulary_refresh_keeps_results_identical(monkeypatch):
    import doc_checker.checker as checker_module
    from doc_checker import Checker

    notes = [
        (p.stem, p.read_text(encoding="utf-8"))
        for p in sorted((FIXTURES / "notes").glob("*.txt"))[:30]
    ]
    fresh = Checker()
    before = [o.to_dict() for o in fresh.check_many(notes, batch_size=5)]
    monkeypatch.setattr(
        checker_module, "VOCAB_REFRESH_STRINGS", 50
    )  # rebuild after almost every batch
    refreshing = Checker()
    first_nlp = refreshing.nlp
    after = [o.to_dict() for o in refreshing.check_many(notes, batch_size=5)]
    assert refreshing.nlp is not first_nlp
    assert after == before
