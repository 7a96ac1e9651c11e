"""Writes the reader samples in this folder from fx001.txt (a copy of fixtures/notes/fx001.txt).
Run once by hand (`python tests/data/readers/make_samples.py`); the outputs are committed so the
tests read fixed files. Every identifier, name and MRN here is synthetic."""

import base64
import csv
import html
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTE = (HERE / "fx001.txt").read_text(encoding="utf-8")
LINES = NOTE.split("\n")  # ends with "" (the note ends with a newline)


def hl7_escape(s: str) -> str:
    return (
        s.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
    )


def obx_lines(lines, start=1):
    """One TX OBX per line, except lines 5-6 (two lines, PROCEDURE + blank) sent as one FT value
    joined with \\.br\\, and the '-' of '20-gauge' sent as hex \\X2D\\."""
    out, i, n = [], 0, start
    while i < len(lines):
        if i == 4:
            value = (
                hl7_escape(lines[4]).replace("20-gauge", "20\\X2D\\gauge")
                + "\\.br\\"
                + hl7_escape(lines[5])
            )
            out.append(f"OBX|{n}|FT|18782-3^Radiology Study observation^LN||{value}||||||F")
            i += 2
        else:
            out.append(
                f"OBX|{n}|TX|18782-3^Radiology Study observation^LN||{hl7_escape(lines[i])}||||||F"
            )
            i += 1
        n += 1
    return out


def write_hl7():
    m1 = [
        "MSH|^~\\&|RIS|MERCY_IR|EHR|MERCY|20240312101500||ORU^R01^ORU_R01|MSG00001|P|2.5.1|||AL|NE",
        "PID|1||MRN0012345^^^MERCY^MR~SSN999^^^USSSA^SS||TESTPATIENT^JANE^Q||19900101|F",
        "PV1|1|O|IR^ROOM2^^MERCY||||1234^RADIOLOGIST^ALEX",
        "ORC|RE|PLC1001|ACC20240312-01",
        "OBR|1|PLC1001|ACC20240312-01|73525^FL HIP ARTHROGRAM INJECTION^CPT4|||20240312093000"
        "|||||||||1234^RADIOLOGIST^ALEX||||||20240312101400||RAD|F",
        "OBX|1|CE|18748-4^Diagnostic imaging study^LN||73525^FL hip arthrogram^CPT4||||||F",
        "OBX|2|NM|24695-9^Fluoro time^LN||0.5|min|||||F",
    ] + obx_lines(LINES, start=3)
    m2 = [
        "MSH|^~\\&|RIS|MERCY_IR|EHR|MERCY|20240312111500||ORU^R01|MSG00002|P|2.5.1",
        "PID|1||MRN0067890^^^MERCY^MR||TESTPATIENT^JOHN||19600505|M",
        "OBR|1|PLC1002|ACC20240312-02|73580^FL KNEE ARTHROGRAM^CPT4",
        "OBX|1|TX|||INDICATION: Left knee pain \\T\\ effusion.||||||F",
        "OBX|2|FT|||PROCEDURE: Under fluoroscopic guidance a 20\\X2D\\gauge needle was placed "
        "into the left knee joint\\.br\\"
        "Contrast: 3 mL Omnipaque 300 confirmed intra\\X2D\\articular position.||||||F",
        "OBX|3|TX|||Fluoroscopy time: 0.3 min\\S\\ air kerma 1.1 mGy \\F\\ images saved "
        "\\E\\ PACS \\R\\ \\H\\done\\N\\. Caf\\XC3A9\\ line\\X0D0A\\two||||||F",
    ]
    m3 = [
        "MSH|^~\\&|RIS|MERCY_IR|EHR|MERCY|20240312121500||ORU^R01|MSG00003|P|2.5.1",
        "PID|1||MRN0011111^^^MERCY^MR",
        "OBR|1|PLC1003|ACC20240312-03|77002^FLUORO GUIDE NEEDLE^CPT4",
        "OBX|1|NM|24695-9^Fluoro time^LN||1.2|min|||||F",
    ]
    # mixed separators: CR inside message 1, LF inside message 2, CRLF inside message 3
    data = "\r".join(m1) + "\r" + "\n".join(m2) + "\n" + "\r\n".join(m3) + "\r\n"
    (HERE / "oru_batch.hl7").write_bytes(data.encode("utf-8"))

    mdm = [
        "MSH|^~\\&|TRANSCRIPTION|MERCY|EHR|MERCY|20240312131500||MDM^T02^MDM_T02|MDM00077|P|2.5.1",
        "EVN|T02|20240312131500",
        "PID|1||MRN0012345^^^MERCY^MR||TESTPATIENT^JANE^Q||19900101|F",
        "PV1|1|O|IR^ROOM2^^MERCY",
        "TXA|1|IR^Interventional Radiology Procedure Note|TX|20240312101400"
        "|1234^RADIOLOGIST^ALEX|||||||DOC-IR-000451||||||AU",
    ]
    mdm += [f"OBX|{i}|TX|||{hl7_escape(line)}||||||F" for i, line in enumerate(LINES, start=1)]
    (HERE / "mdm_t02.hl7").write_bytes(("\r\n".join(mdm) + "\r\n").encode("utf-8"))

    bad = [
        "PID|1||MRN0099999^^^MERCY^MR",
        "OBX|1|TX|||orphan text without a header||||||F",
        "MSH|^~\\&|RIS|MERCY_IR|EHR|MERCY|20240312141500||ORU^R01|MSG00009|P|2.5.1",
        "PID|1||MRN0099999^^^MERCY^MR",
        "OBR|1|PLC1009|ACC20240312-09",
        "OBX|1|NM|24695-9^Fluoro time^LN||0.8|min|||||F",
    ]
    (HERE / "bad_messages.hl7").write_bytes(("\r".join(bad) + "\r").encode("utf-8"))


def note_html(note: str) -> str:
    paras = note.strip("\n").split("\n\n")
    body = "".join(
        "<p>" + "<br/>\n".join(html.escape(line) for line in p.split("\n")) + "</p>\n"
        for p in paras
    )
    return (
        "<!DOCTYPE html><html><head><title>IR note</title><style>p { margin: 0 }</style></head>"
        f"<body>\n{body}</body></html>"
    )


def b64(s: str) -> str:
    return base64.b64encode(s.encode("utf-8")).decode("ascii")


def write_fhir():
    bundle = {
        "resourceType": "Bundle",
        "id": "bundle-ir-1",
        "type": "searchset",
        "entry": [
            {
                "fullUrl": "urn:uuid:dr-1",
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "id": "dr-hip-arthrogram-1",
                    "status": "final",
                    "code": {
                        "coding": [{"system": "http://loinc.org", "code": "18748-4"}],
                        "text": "FL hip arthrogram injection",
                    },
                    "subject": {"reference": "Patient/pat-0012345"},
                    "encounter": {"reference": "Encounter/enc-555"},
                    "presentedForm": [
                        {"contentType": "application/pdf", "url": "https://example.org/dr-1.pdf"},
                        {"contentType": "text/plain; charset=utf-8", "data": b64(NOTE)},
                    ],
                },
            },
            {
                "fullUrl": "urn:uuid:doc-1",
                "resource": {
                    "resourceType": "DocumentReference",
                    "id": "docref-hip-arthrogram-1",
                    "status": "current",
                    "type": {
                        "coding": [
                            {
                                "system": "http://loinc.org",
                                "code": "28570-0",
                                "display": "Procedure note",
                            }
                        ]
                    },
                    "subject": {"reference": "Patient/pat-0012345"},
                    "context": {"encounter": [{"reference": "Encounter/enc-555"}]},
                    "content": [
                        {"attachment": {"contentType": "text/html", "data": b64(note_html(NOTE))}}
                    ],
                },
            },
            {
                "fullUrl": "urn:uuid:pat-1",
                "resource": {"resourceType": "Patient", "id": "pat-0012345"},
            },
            {
                "fullUrl": "urn:uuid:doc-2",
                "resource": {
                    "resourceType": "DocumentReference",
                    "id": "docref-by-url",
                    "status": "current",
                    "content": [
                        {
                            "attachment": {
                                "contentType": "text/plain",
                                "url": "https://example.org/Binary/123",
                            }
                        }
                    ],
                },
            },
            {
                "fullUrl": "urn:uuid:dr-2",
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "id": "dr-bad-base64",
                    "status": "final",
                    "presentedForm": [{"contentType": "text/plain", "data": "not*valid*base64!!"}],
                },
            },
            {"fullUrl": "urn:uuid:nothing"},
        ],
    }
    (HERE / "bundle.json").write_text(json.dumps(bundle, indent=2) + "\n", encoding="utf-8")
    single = {
        "resourceType": "DocumentReference",
        "id": "docref-single",
        "status": "current",
        "subject": {"reference": "Patient/pat-0012345"},
        "content": [{"attachment": {"contentType": "text/plain", "data": b64(NOTE)}}],
    }
    (HERE / "docref.json").write_text(json.dumps(single, indent=2) + "\n", encoding="utf-8")


def write_delimited():
    header = ["note_id", "mrn", "encounter_id", "payer", "text", "cpt_codes", "service_date"]
    rows = [
        ["ir-0001", "MRN0012345", "ENC555", "Medicare", NOTE, "20610;77002-26", "2024-03-12"],
        [
            "ir-0002",
            "MRN0067890",
            "ENC556",
            "Aetna",
            'INDICATION: Knee effusion.\nPROCEDURE: A "20-gauge" needle, placed under fluoroscopy, '
            "aspirated 10 mL.",
            "20610",
            "2024-03-13",
        ],
    ]
    with (HERE / "notes.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)
        fh.write('ir-0003,MRN0011111,ENC557,"Blue Cross","short row"\r\n')  # ragged (5 fields)
        w.writerow(
            ["ir-0004", "MRN0022222", "ENC558", "Cigna", "", "77002", "2024-03-14"]
        )  # empty text
        w.writerow(
            [
                "ir-0005",
                "MRN0033333",
                "ENC559",
                "Self",
                "Fluoroscopic guided hip injection.",
                "",
                "2024-03-15",
            ]
        )
    with (HERE / "notes.tsv").open("w", encoding="utf-8-sig", newline="") as fh:  # with a BOM
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["doc_key", "mrn", "note_body", "billed"])
        w.writerow(["tsv-1", "MRN0012345", NOTE, "20610;77002"])
    with (HERE / "no_text_column.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["note_id", "mrn", "body"])
        w.writerow(["x1", "MRN1", "some note"])


def write_jsonl():
    lines = [
        json.dumps(
            {
                "note_id": "j-1",
                "encounter": "ENC555",
                "text": NOTE,
                "cpt_codes": ["20610", "77002-26"],
                "payer": {"name": "Medicare", "plan": "B"},
            }
        ),
        '{"note_id": "j-2", "text": "INDICATION: truncated export',  # broken line
        "",
        json.dumps({"note_id": "j-3", "encounter": "ENC556", "body": "wrong field name"}),
        json.dumps(
            {"note_id": 4, "text": "Fluoroscopic guided hip aspiration.", "cpt_codes": "20610"}
        ),
    ]
    (HERE / "notes.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_hl7()
    write_fhir()
    write_delimited()
    write_jsonl()
