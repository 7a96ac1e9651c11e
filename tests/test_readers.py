"""Readers for exported notes (doc_checker.io.readers): CSV, TSV, JSONL, HL7 v2, FHIR, txt.

The samples in tests/data/readers/ are written by make_samples.py from fx001.txt (a copy of
fixtures/notes/fx001.txt); every format must give back that note's text and the same check
result as the plain .txt file."""

import base64
import json
from pathlib import Path

import pytest

from doc_checker import Checker
from doc_checker.errors import InputError
from doc_checker.io.paths import UsageError
from doc_checker.io.readers import NoteRecord, detect_format, html_to_text, read_records

DATA = Path(__file__).resolve().parent / "data" / "readers"
NOTE = (DATA / "fx001.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


@pytest.fixture(scope="module")
def plain_result(checker):
    d = checker.check(NOTE).to_dict()
    d.pop("note_id", None)
    return d


def records(name, **kw):
    return list(read_records(str(DATA / name), **kw))


def assert_error(rec: NoteRecord, code: str, where: str, *fragments: str) -> None:
    assert isinstance(rec.text, InputError), rec
    assert rec.text.code == code, rec.text.message
    assert rec.where == where
    assert rec.text.message.startswith(where + ": ")
    for fragment in fragments:
        assert fragment in rec.text.message
    assert "FLUOROSCOP" not in rec.text.message and "INDICATION" not in rec.text.message


def same_check(checker, plain_result, text):
    d = checker.check(text).to_dict()
    d.pop("note_id", None)
    assert d == plain_result


# ----------------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("a.csv", "csv"),
        ("A.TSV", "tsv"),
        ("x.jsonl", "jsonl"),
        ("x.ndjson", "jsonl"),
        ("b.hl7", "hl7"),
        ("r.json", "fhir"),
        ("n.txt", "txt"),
    ],
)
def test_detect_format(name, fmt):
    assert detect_format(name) == fmt


def test_unknown_extension_and_format_and_missing_file_are_usage_errors():
    with pytest.raises(UsageError, match="notes.xlsx"):
        detect_format("notes.xlsx")
    with pytest.raises(UsageError, match="unknown input format"):
        read_records(str(DATA / "notes.csv"), input_format="xml")
    with pytest.raises(UsageError, match="no such file"):
        read_records(str(DATA / "nope.csv"))


def test_txt(checker, plain_result):
    (rec,) = records("fx001.txt")
    assert rec.note_id == "fx001" and rec.text == NOTE and rec.meta == {} and rec.codes is None
    same_check(checker, plain_result, rec.text)


# ----------------------------------------------------------------------------------- CSV / TSV


def test_csv_rows_meta_codes_and_bad_rows(checker, plain_result):
    recs = records("notes.csv")
    assert [r.where.rsplit(":", 1)[1] for r in recs] == [
        "row 2",
        "row 3",
        "row 4",
        "row 5",
        "row 6",
    ]
    first = recs[0]
    assert first.note_id == "ir-0001" and first.text == NOTE and first.codes == "20610;77002-26"
    assert list(first.meta.items()) == [
        ("mrn", "MRN0012345"),
        ("encounter_id", "ENC555"),
        ("payer", "Medicare"),
        ("service_date", "2024-03-12"),
    ]
    same_check(checker, plain_result, first.text)
    assert recs[1].text.startswith('INDICATION: Knee effusion.\nPROCEDURE: A "20-gauge" needle,')
    where = str(DATA / "notes.csv")
    assert_error(recs[2], "ragged_row", f"{where}:row 4", "5 fields", "header has 7")
    assert recs[2].note_id == "ir-0003"
    assert_error(recs[3], "missing_text", f"{where}:row 5", "'text' cell is empty")
    assert recs[3].codes == "77002"
    assert recs[4].ok and recs[4].codes is None


def test_csv_large_cell_and_bom(tmp_path):
    big = (
        "Under fluoroscopic guidance a needle was placed. " * 8000
    ).strip()  # ~400 kB > csv default 128 kB
    path = tmp_path / "big.csv"
    path.write_bytes(b'\xef\xbb\xbfnote_id,text\r\nbig-1,"' + big.encode() + b'"\r\n')
    (rec,) = read_records(str(path))
    assert rec.note_id == "big-1" and rec.text == big


def test_csv_without_text_column_is_usage_error():
    with pytest.raises(UsageError) as info:
        read_records(str(DATA / "no_text_column.csv"))
    msg = str(info.value)
    assert "no_text_column.csv" in msg and "'text'" in msg
    assert "3 columns" in msg and "'mrn'" not in msg  # the first row may be data: never quoted


def test_csv_empty_file_is_usage_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(UsageError, match="empty"):
        read_records(str(path))


def test_csv_bad_utf8_row_is_an_error_record(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"note_id,text\nok-1,fine note\nbad-1,caf\xe9 note\nok-2,another note\n")
    recs = list(read_records(str(path)))
    assert [r.ok for r in recs] == [True, False, True]
    assert_error(recs[1], "not_utf8", f"{path}:row 3")


def test_tsv_configurable_columns(checker, plain_result):
    with pytest.raises(UsageError, match="4 columns"):
        read_records(str(DATA / "notes.tsv"))  # default text column "text" is not there
    (rec,) = records(
        "notes.tsv", id_column="doc_key", text_column="note_body", codes_column="billed"
    )
    assert (
        rec.note_id == "tsv-1" and rec.codes == "20610;77002" and rec.meta == {"mrn": "MRN0012345"}
    )
    assert rec.text == NOTE
    assert rec.where == f"{DATA / 'notes.tsv'}:row 2"
    same_check(checker, plain_result, rec.text)


# ----------------------------------------------------------------------------------- JSONL


def test_jsonl_with_broken_line(checker, plain_result):
    recs = records("notes.jsonl")
    where = str(DATA / "notes.jsonl")
    assert len(recs) == 4  # the blank line 3 is no record
    first = recs[0]
    assert first.note_id == "j-1" and first.text == NOTE and first.codes == "20610;77002-26"
    assert first.meta == {"encounter": "ENC555", "payer": {"name": "Medicare", "plan": "B"}}
    same_check(checker, plain_result, first.text)
    assert_error(recs[1], "bad_json", f"{where}:line 2", "not valid JSON")
    assert "truncated" not in recs[1].text.message
    assert_error(recs[2], "missing_text", f"{where}:line 4", "no 'text' field")
    assert recs[2].note_id == "j-3"
    assert (
        recs[3].note_id == "4" and recs[3].codes == "20610" and recs[3].where == f"{where}:line 5"
    )


def test_ndjson_fhir_bulk_export_lines(tmp_path):
    path = tmp_path / "DocumentReference.ndjson"
    res = {
        "resourceType": "DocumentReference",
        "id": "d1",
        "status": "current",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(NOTE.encode()).decode(),
                }
            }
        ],
    }
    path.write_text(
        json.dumps(res) + "\n" + json.dumps({"resourceType": "Observation", "id": "o1"}) + "\n"
    )
    recs = list(read_records(str(path)))
    assert recs[0].note_id == "d1" and recs[0].text == NOTE and recs[0].where == f"{path}:line 1"
    assert_error(
        recs[1], "unsupported_resource", f"{path}:line 2", "unsupported resource type Observation"
    )


# ----------------------------------------------------------------------------------- HL7 v2


def test_hl7_oru_batch_mixed_separators_and_escapes(checker, plain_result):
    recs = records("oru_batch.hl7")
    where = str(DATA / "oru_batch.hl7")
    assert [r.where for r in recs] == [f"{where}:message {i}" for i in (1, 2, 3)]
    first = recs[0]
    # TX lines + one FT value with \.br\ and \X2D\, CE / NM observations skipped
    assert first.text == NOTE
    assert first.note_id == "ACC20240312-01"  # OBR-3 filler order number
    assert first.meta == {
        "message_type": "ORU^R01^ORU_R01",
        "control_id": "MSG00001",
        "mrn": "MRN0012345",
        "document_type": "FL HIP ARTHROGRAM INJECTION",
        "document_code": "73525",
    }
    assert first.codes is None
    same_check(checker, plain_result, first.text)
    assert recs[1].text == (
        "INDICATION: Left knee pain & effusion.\n"
        "PROCEDURE: Under fluoroscopic guidance a 20-gauge needle was placed into the left knee "
        "joint\n"
        "Contrast: 3 mL Omnipaque 300 confirmed intra-articular position.\n"
        "Fluoroscopy time: 0.3 min^ air kerma 1.1 mGy | images saved \\ PACS ~ done. Café line\ntwo"
    )
    assert recs[1].note_id == "ACC20240312-02" and recs[1].meta["mrn"] == "MRN0067890"
    assert_error(recs[2], "hl7_no_text", f"{where}:message 3", "no text OBX")
    assert recs[2].note_id == "ACC20240312-03" and recs[2].meta["control_id"] == "MSG00003"


def test_hl7_mdm_t02(checker, plain_result):
    (rec,) = records("mdm_t02.hl7")
    assert rec.text == NOTE
    assert rec.note_id == "DOC-IR-000451"  # TXA-12 unique document number
    assert rec.meta == {
        "message_type": "MDM^T02^MDM_T02",
        "control_id": "MDM00077",
        "mrn": "MRN0012345",
        "document_type": "Interventional Radiology Procedure Note",
        "document_code": "IR",
    }
    same_check(checker, plain_result, rec.text)


def test_hl7_message_without_msh_or_text():
    recs = records("bad_messages.hl7")
    where = str(DATA / "bad_messages.hl7")
    assert_error(recs[0], "hl7_no_msh", f"{where}:message 1", "without an MSH")
    assert "orphan" not in recs[0].text.message
    assert_error(recs[1], "hl7_no_text", f"{where}:message 2")
    assert len(recs) == 2


def test_hl7_note_id_falls_back_to_control_id_and_unsupported_type(tmp_path):
    path = tmp_path / "misc.hl7"
    path.write_text(
        "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|CTL-7|P|2.5\nOBX|1|ST|||Short note.\n"
        "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|CTL-8|P|2.5\nPID|1||M1\n"
    )
    recs = list(read_records(str(path)))
    assert recs[0].note_id == "CTL-7" and recs[0].text == "Short note."
    assert_error(recs[1], "hl7_unsupported", f"{path}:message 2", "ADT^A01")


# ----------------------------------------------------------------------------------- FHIR


def test_fhir_bundle(checker, plain_result):
    recs = records("bundle.json")
    where = str(DATA / "bundle.json")
    assert [r.where for r in recs] == [
        f"{where}:entry {i}" for i in range(1, 7)
    ]  # every entry accounted for
    dr, doc, patient, by_url, bad64, empty = recs
    assert dr.note_id == "dr-hip-arthrogram-1" and dr.text == NOTE  # text/plain chosen over the PDF
    assert dr.meta == {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "subject": "Patient/pat-0012345",
        "encounter": "Encounter/enc-555",
        "code": "FL hip arthrogram injection",
    }
    same_check(checker, plain_result, dr.text)
    assert doc.note_id == "docref-hip-arthrogram-1"
    assert doc.text == NOTE.rstrip(
        "\n"
    )  # from HTML: tags gone, <p> -> blank line, <br> -> line break
    assert (
        doc.meta["resourceType"] == "DocumentReference"
        and doc.meta["encounter"] == "Encounter/enc-555"
    )
    assert doc.meta["code"] == "Procedure note"
    same_check(checker, plain_result, doc.text)
    assert_error(
        patient, "unsupported_resource", f"{where}:entry 3", "unsupported resource type Patient"
    )
    assert_error(
        by_url, "attachment_url", f"{where}:entry 4", "attachment by URL not supported, no network"
    )
    assert_error(bad64, "bad_base64", f"{where}:entry 5", "base64")
    assert_error(empty, "bad_fhir", f"{where}:entry 6", "no resource")


def test_fhir_single_resource(checker, plain_result):
    (rec,) = records("docref.json")
    assert (
        rec.where == str(DATA / "docref.json")
        and rec.note_id == "docref-single"
        and rec.text == NOTE
    )
    same_check(checker, plain_result, rec.text)


def test_fhir_broken_json_is_one_error_record(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"resourceType": "Bundle", "entry": [')
    (rec,) = read_records(str(path))
    assert_error(rec, "bad_json", str(path), "not valid JSON")


def test_html_to_text():
    markup = (
        "<html><head><style>p{}</style><script>x()</script></head><body><h1>EXAM &amp; NOTE</h1>"
        "<p>Line  one\n wraps<br>Line two</p><ul><li>a &lt;b&gt;</li><li>c</li></ul>"
        "<pre>  keep   this</pre><table><tr><td>x</td><td>y</td></tr></table></body></html>"
    )
    assert (
        html_to_text(markup)
        == "EXAM & NOTE\n\nLine one wraps\nLine two\n\na <b>\nc\n\n  keep   this\n\nx y"
    )


def test_reading_is_lazy(tmp_path):
    """A generator: nothing past the first record is read before it is asked for."""
    path = tmp_path / "many.jsonl"
    path.write_text(
        "\n".join(json.dumps({"note_id": str(i), "text": f"note {i}"}) for i in range(1000))
    )
    it = read_records(str(path))
    assert next(it).note_id == "0"
    assert sum(1 for _ in it) == 999


def test_hl7_large_file_segments_across_read_chunks(tmp_path):
    """Segments and CRLF pairs split between 64 KiB reads are joined back."""
    line = "Needle placed under fluoroscopic guidance into the left hip joint. " * 20
    msgs = []
    for m in range(1, 41):
        obx = [f"OBX|{i}|TX|||{line}{m}-{i}" for i in range(1, 11)]
        msgs.append(
            "\r\n".join([f"MSH|^~\\&|A|B|C|D|20240101||ORU^R01|C{m}|P|2.5", f"OBR|1||F{m}"] + obx)
        )
    path = tmp_path / "big.hl7"
    path.write_text("\r\n".join(msgs) + "\r\n", newline="")
    assert path.stat().st_size > 5 * 65536
    recs = list(read_records(str(path)))
    assert [r.note_id for r in recs] == [f"F{m}" for m in range(1, 41)]
    for m, rec in enumerate(recs, start=1):
        assert rec.text == "\n".join(f"{line}{m}-{i}" for i in range(1, 11))
