"""Reliability: every input accounted for in every format, bad input refused clearly, the same
answer every time, no note text in logs, and interrupted runs that can be resumed."""

import csv
import io
import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from doc_checker.cli import main
from doc_checker.errors import InputError

from .conftest import FIXTURES, assert_valid

ROOT = Path(__file__).resolve().parents[1]
NOTE = (
    "Indication: left hip pain. Under fluoroscopic guidance a 22-gauge needle was advanced into "
    "the left hip joint; 1 mL Omnipaque confirmed intra-articular position and 40 mg Kenalog was "
    "injected."
)
MARKER = "ZQXJ-PRIVATE-MARKER-7731"


@pytest.fixture
def mixed_dir(tmp_path):
    """Six inputs, three of them bad."""
    d = tmp_path / "notes"
    d.mkdir()
    (d / "a.txt").write_text(NOTE)
    (d / "b.txt").write_bytes(b"\x00\x01\x02\x03binary\x00" * 10)
    (d / "c.txt").write_text("   \n\t ")
    (d / "d.txt").write_bytes("café hip".encode("latin-1"))
    (d / "e.txt").write_bytes(b"\xef\xbb\xbf" + NOTE.encode())  # UTF-8 with BOM: decoded
    (d / "f.txt").write_bytes(NOTE.encode("utf-16"))  # UTF-16 with BOM: decoded
    return d


# accounting -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table", "html"])
def test_n_inputs_give_n_outputs_in_every_format(fmt, mixed_dir, tmp_path, capsys):
    out = tmp_path / f"out.{fmt}"
    code = main(
        ["check", "--format", fmt, "--keep-order", "--output", str(out), str(mixed_dir)]
        if fmt in ("csv", "table")
        else ["check", "--format", fmt, "--output", str(out), str(mixed_dir)]
    )
    err = capsys.readouterr().err
    assert code == 1  # some inputs were error records
    assert "3 checked, 3 errors" in err and "supported 3" in err
    text = out.read_text(encoding="utf-8")
    ids = ["a", "b", "c", "d", "e", "f"]
    if fmt == "jsonl":
        records = [json.loads(line) for line in text.splitlines()]
        assert [r["note_id"] for r in records] == ids
        assert [("error" in r) for r in records] == [False, True, True, True, False, False]
        assert records[1]["error"]["code"] == "binary" and records[3]["error"]["code"] == "not_utf8"
    elif fmt == "json":
        assert [r["note_id"] for r in json.loads(text)] == ids
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["note_id"] for r in rows] == ids
        assert [bool(r["error_code"]) for r in rows] == [False, True, True, True, False, False]
    else:
        for note_id in ids:
            assert note_id in text


def test_fail_on_error_stops_at_the_first_error(mixed_dir, capsys):
    assert main(["check", "--format", "jsonl", "--fail-on-error", str(mixed_dir)]) == 1
    out = capsys.readouterr()
    assert [json.loads(line)["note_id"] for line in out.out.splitlines()] == ["a", "b"]
    assert "stopped at the first error" in out.err


def test_all_good_exits_0(capsys):
    assert main(["check", "--format", "jsonl", str(FIXTURES / "notes" / "fx001.txt")]) == 0


# bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data,code",
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b"\x00" * 100, "binary"),
        (b"ok \x00 text", "binary"),
        (b"\xfd\xfc not utf8 at all \xc3", "not_utf8"),
        (b"\xff\xfe\x00\xd8", "undecodable"),
        (bytes(range(1, 32)) * 20, "binary"),
    ],
)
def test_bad_bytes_are_refused_clearly(checker, data, code):
    with pytest.raises(InputError) as exc:
        checker.check(data)
    assert exc.value.code == code


def test_utf16_and_bom_notes_are_decoded(checker):
    plain = checker.check(NOTE).to_dict()
    for data in (
        NOTE.encode("utf-16"),
        NOTE.encode("utf-16-be").join([b"\xfe\xff", b""]),
        b"\xef\xbb\xbf" + NOTE.encode(),
    ):
        assert checker.check(data).to_dict()["elements"] == plain["elements"]


def test_one_megabyte_word_and_repeated_punctuation(checker, validator):
    for text in (
        "a" * 1_000_000,
        "!?.;:" * 40_000,
        "hip " + "-" * 200_000 + " needle",
        "." * 500_000,
    ):
        result = checker.check(text)
        assert_valid(validator, result.to_dict())


def test_ten_megabyte_note_is_checked(checker):
    text = (
        "Under fluoroscopic guidance a 22-gauge needle entered the left hip joint. No contrast. "
        * 120_000
    )[:10_000_000]
    result = checker.check(text)
    assert result.suggested_code == "77002"
    assert len(result.elements["needle_placement"].evidence) <= 50  # bounded output for a huge note


def test_too_large_note_is_refused(checker):
    with pytest.raises(InputError, match="limit"):
        checker.check("x " * 10_000_001)


# determinism -----------------------------------------------------------------------------------
def test_same_input_gives_byte_identical_jsonl(tmp_path, capsys):
    outs = []
    for i, extra in enumerate([[], [], ["--n-process", "2", "--batch-size", "7"]]):
        out = tmp_path / f"run{i}.jsonl"
        main(["check", "--format", "jsonl", "--output", str(out), *extra, str(FIXTURES / "notes")])
        outs.append(out.read_bytes())
    capsys.readouterr()
    assert outs[0] == outs[1] == outs[2]


# privacy ---------------------------------------------------------------------------------------
def test_no_note_text_in_logs_or_messages(tmp_path, caplog, capsys):
    d = tmp_path / "notes"
    d.mkdir()
    (d / "a.txt").write_text(NOTE + " " + MARKER)
    (d / "b.txt").write_bytes(MARKER.encode() + b"\x00\x00\x00" * 50)
    (d / "c.txt").write_bytes(MARKER.encode("latin-1") + b"\xe9\xff")
    (d / "d.csv").write_text(f'note_id,text\nx1,"{NOTE} {MARKER}"\nx2,"{MARKER}",extra,cols\n')
    caplog.set_level(logging.DEBUG)
    assert main(["check", "--format", "jsonl", str(d)]) == 1
    out = capsys.readouterr()
    assert MARKER not in caplog.text
    assert MARKER not in out.err
    for line in out.out.splitlines():
        record = json.loads(line)
        if "error" in record:
            assert MARKER not in json.dumps(record)


# interrupted runs ------------------------------------------------------------------------------
def test_killed_run_leaves_no_complete_looking_file_and_resume_finishes(tmp_path):
    notes = tmp_path / "notes.jsonl"
    with notes.open("w") as fh:
        for i in range(2500):
            fh.write(json.dumps({"note_id": f"n{i:04d}", "text": NOTE + f" Note {i}."}) + "\n")
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    cmd = [
        sys.executable,
        "-m",
        "doc_checker.cli",
        "check",
        "--format",
        "jsonl",
        "--batch-size",
        "16",
        "--output",
        str(out),
        str(notes),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not partial.exists() or partial.stat().st_size < 20_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "a killed run must not leave a file that looks complete"
    assert partial.exists()
    done_before = sum(1 for _ in partial.open())
    assert 0 < done_before < 2500
    subprocess.run(
        [*cmd, "--resume"],
        cwd=ROOT,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert out.exists() and not partial.exists()
    ids = [json.loads(line)["note_id"] for line in out.open()]
    assert len(ids) == 2500 and len(set(ids)) == 2500
    assert ids == sorted(ids)


def test_resume_needs_jsonl_output(capsys):
    assert main(["check", "--resume", str(FIXTURES / "notes" / "fx001.txt")]) == 2
