"""Reliability, round two (issue 14): each test reproduces one way a hostile but ordinary user
lost notes or leaked text, named after the item it guards."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from doc_checker.errors import InputError, UsageError
from doc_checker.io.readers import read_records
from doc_checker.io.text import validate_text

NOTE = (
    "INDICATION: left hip pain.\nPROCEDURE: Under fluoroscopic guidance a 22-gauge needle was "
    "placed into the left hip joint. Contrast was injected confirming intra-articular position."
)
SECRET = "Patient John Doe"


def _records(path: Path, fmt: str | None = None):
    return list(read_records(str(path), fmt))


# ------------------------------------------------------------ 2: CSV quote left open


def test_item02_csv_unclosed_quote_is_an_error_record_not_a_swallowed_row(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('note_id,text\nn1,"a\nn2,"b"\nn3,"c"\n')
    recs = _records(path)
    assert not recs[0].ok and recs[0].text.code == "bad_row"
    assert f"{path}:row 2" in recs[0].text.message and "lines 2-3" in recs[0].text.message
    assert [r.note_id for r in recs[1:]] == ["n3"]


def test_item02_csv_quote_closed_after_a_bare_delimiter_is_flagged(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('note_id,text\nn1,"a\nn2,"\nn3,"c"\n')
    recs = _records(path)
    assert not recs[0].ok and recs[0].note_id == "n1" and "quote" in recs[0].text.message
    assert recs[1].note_id == "n3" and recs[1].ok


def test_item02_csv_quote_open_to_end_of_file(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('note_id,text\nn1,"a\nn2,b\nn3,c\n')
    (rec,) = _records(path)
    assert rec.text.code == "bad_row" and "end of the file" in rec.text.message
    assert "lines 2-4" in rec.text.message


def test_item02_csv_real_multiline_cell_still_reads(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('note_id,text\nn1,"line one,\nline two, ""quoted"""\nn2,c\n')
    recs = _records(path)
    assert [r.ok for r in recs] == [True, True]
    assert recs[0].text == 'line one,\nline two, "quoted"'


# ------------------------------------------------------------ 3: no cell value on stderr


def test_item03_csv_without_header_names_no_cell(tmp_path):
    path = tmp_path / "nh.csv"
    path.write_text(f"N1,{SECRET}\n")
    with pytest.raises(UsageError) as info:
        read_records(str(path))
    assert SECRET not in str(info.value) and "N1" not in str(info.value)
    assert "2 columns" in str(info.value)


# ------------------------------------------------------------ 6 and 16: HL7


def _hl7(*messages: str, end: str = "\r") -> str:
    return "\r".join(messages) + end


def _msg(n: int, text: str) -> str:
    return f"MSH|^~\\&|A|B|C|D|20240101||ORU^R01|C{n}|P|2.5\rOBR|1||F{n}\rOBX|1|TX|||{text}"


@pytest.mark.parametrize(
    "escape", ["\\.sp999999999\\", "\\.sk100000\\", "\\.sp" + "9" * 5000 + "\\"]
)
def test_item06_hl7_repeat_escape_is_bounded(tmp_path, escape):
    path = tmp_path / "sp.hl7"
    path.write_text(_hl7(_msg(1, f"Needle {escape} placed"), _msg(2, NOTE)), newline="")
    recs = _records(path)
    assert len(recs) == 2
    assert recs[0].text.code == "hl7_bad_escape" and f"{path}:message 1" in recs[0].text.message
    assert recs[1].ok and recs[1].note_id == "F2"


def test_item06_hl7_small_repeat_escape_still_decodes(tmp_path):
    path = tmp_path / "sp.hl7"
    path.write_text(_hl7(_msg(1, "a\\.sp3\\b\\.sk2\\c")), newline="")
    (rec,) = _records(path)
    assert rec.text == "a\n\n\nb  c"


def test_item16_hl7_message_cut_at_end_of_file_is_an_error(tmp_path):
    path = tmp_path / "cut.hl7"
    path.write_text(_hl7(_msg(1, NOTE), _msg(2, "PROCEDURE: Under fluoro"), end=""), newline="")
    first, cut = _records(path)
    assert first.ok
    assert cut.text.code == "hl7_truncated" and cut.note_id == "F2"
    assert f"{path}:message 2" in cut.text.message


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n", "\x1c\r", "\x1c"])
def test_item16_hl7_terminated_last_message_is_complete(tmp_path, end):
    path = tmp_path / "ok.hl7"
    path.write_text(_hl7(_msg(1, NOTE), end=end), newline="")
    (rec,) = _records(path)
    assert rec.ok


# ------------------------------------------------------------ 8: lone surrogates


def test_item08_lone_surrogate_is_invalid_text():
    with pytest.raises(InputError) as info:
        validate_text("x \ud800 fluoroscopy")
    assert info.value.code == "invalid_text" and "character 2" in info.value.message


# ------------------------------------------------------------ Also: messages


def test_also_nul_past_4k_names_its_offset():
    with pytest.raises(InputError, match="byte offset 5000"):
        validate_text(b"a" * 5000 + b"\x00" + b"b" * 10)


def test_also_bad_json_message_has_no_doubled_at(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text('{"note_id": "a", "text": "x\ty"}\n')
    (rec,) = _records(path)
    assert rec.text.code == "bad_json" and "at at" not in rec.text.message
    assert "column" in rec.text.message
