"""Reliability, round two (issue 14): each test reproduces one way a hostile but ordinary user
lost notes or leaked text, named after the item it guards."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from doc_checker.cli import main
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
    path.write_text(
        'note_id,text\nn1,"line one,\nline two, ""quoted"""\nn2,"Plan:\nfollow up,"\nn3,c\n'
    )
    recs = _records(path)
    assert [r.ok for r in recs] == [True, True, True]
    assert recs[0].text == 'line one,\nline two, "quoted"'
    assert recs[1].text == "Plan:\nfollow up,"


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


# ------------------------------------------------------------ 1 and 5: resume, stop early


def _two_folders(tmp_path: Path) -> Path:
    """Two folders with the same file names, an error in the middle, ids repeated."""
    root = tmp_path / "in"
    for folder in ("a", "b"):
        d = root / folder
        d.mkdir(parents=True)
        for i in range(6):
            (d / f"n{i}.txt").write_text(NOTE + f" Note {folder}{i}.")
    (root / "a" / "n3.txt").write_text("   ")  # an error record, id n3, like b/n3's result
    csv_path = root / "rows.csv"
    csv_path.write_text(f'note_id,text\n,a,b\nx1,"{NOTE}"\n')  # an error record without an id
    return root


def _run(args, capsys):
    code = main(args)
    return code, capsys.readouterr()


def test_item01_item05_stopped_run_resumes_by_position_to_the_same_bytes(tmp_path, capsys):
    root = _two_folders(tmp_path)
    inputs = [str(root / "a"), str(root / "b"), str(root / "rows.csv")]
    full = tmp_path / "full.jsonl"
    assert _run(["check", "--format", "jsonl", "-o", str(full), *inputs], capsys)[0] == 1
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    code, cap = _run(
        ["check", "--format", "jsonl", "--fail-on-error", "-o", str(out), *inputs], capsys
    )
    assert code == 1 and not out.exists(), "a stopped run must not look complete (item 5)"
    assert len(partial.read_text().splitlines()) == 4  # a/n0..n2 and the error a/n3
    assert "out.jsonl.partial" in cap.err
    with partial.open("a") as fh:
        fh.write('{"note_id": "n4", "sco')  # and a line cut short by a kill
    code, cap = _run(["check", "--format", "jsonl", "--resume", "-o", str(out), *inputs], capsys)
    assert code == 1 and out.exists() and not partial.exists()
    assert out.read_bytes() == full.read_bytes()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 14
    assert [r.get("position") for r in records if "error" in r] == [3, 12]
    assert "4 done by the interrupted run" in cap.err


def test_item01_resume_refuses_a_different_input(tmp_path, capsys):
    root = _two_folders(tmp_path)
    out = tmp_path / "out.jsonl"
    args = ["check", "--format", "jsonl", "-o", str(out), str(root / "a")]
    assert _run([*args, "--fail-on-error"], capsys)[0] == 1
    (root / "a" / "n1.txt").write_text(NOTE + " changed")
    code, cap = _run([*args, "--resume"], capsys)
    assert code == 2 and "different input" in cap.err
    code, cap = _run([*args[:-1], str(root / "b"), "--resume"], capsys)
    assert code == 2 and "different input" in cap.err
    assert (tmp_path / "out.jsonl.partial").exists() and not out.exists()


def test_item01_resume_of_a_complete_file_is_refused(tmp_path, capsys):
    root = _two_folders(tmp_path)
    out = tmp_path / "out.jsonl"
    args = ["check", "--format", "jsonl", "-o", str(out), str(root / "b")]
    assert _run(args, capsys)[0] == 0
    code, cap = _run([*args, "--resume"], capsys)
    assert code == 2 and "complete" in cap.err


def test_item05_fail_on_error_table_and_csv_keep_what_was_checked(tmp_path, capsys):
    root = _two_folders(tmp_path)
    code, cap = _run(["check", "--fail-on-error", "--keep-order", str(root / "a")], capsys)
    assert code == 1
    for note_id in ("n0", "n1", "n2", "n3"):
        assert note_id in cap.out
    assert "n4" not in cap.out
    out = tmp_path / "w.csv"
    code, cap = _run(
        ["check", "--format", "csv", "--fail-on-error", "-o", str(out), str(root / "a")], capsys
    )
    assert code == 1 and not out.exists()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "w.csv.partial").read_text())))
    assert len(rows) == 4


# ------------------------------------------------------------ 10: CSV columns


def test_item10_csv_output_has_the_union_of_columns(tmp_path, capsys):
    src = tmp_path / "rows.jsonl"
    rows = [
        {"note_id": "e1", "text": "  "},
        {"note_id": "r1", "text": NOTE, "physician": "Dr A"},
        {"note_id": "r2", "text": NOTE, "site": "north", "physician": "Dr B"},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for order in (["--keep-order"], []):
        out = tmp_path / "w.csv"
        assert main(["check", "--format", "csv", *order, "-o", str(out), str(src)]) == 1
        got = list(csv.DictReader(io.StringIO(out.read_text())))
        assert list(got[0])[:3] == ["note_id", "physician", "site"]
        by_id = {r["note_id"]: r for r in got}
        assert by_id["r1"]["physician"] == "Dr A" and by_id["r2"]["site"] == "north"
        assert by_id["e1"]["error_code"] == "missing_text"


# ------------------------------------------------------------ 11 and 12: usage errors


def test_item11_output_equal_to_an_input_is_refused(tmp_path, capsys):
    src = tmp_path / "rows.csv"
    src.write_text(f'note_id,text\nr1,"{NOTE}"\n')
    before = src.read_bytes()
    code, cap = _run(["check", "--format", "csv", "-o", str(src), str(src)], capsys)
    assert code == 2 and "is one of the inputs" in cap.err
    assert src.read_bytes() == before


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--batch-size", "0"], "--batch-size"),
        (["--batch-size", "-3"], "--batch-size"),
        (["--n-process", "-1"], "--n-process"),
        (["-o", "missingdir/x.jsonl"], "does not exist"),
        (["-o", "{tmp}"], "is a directory"),
    ],
)
def test_item12_usage_errors_exit_2_before_any_note_is_read(tmp_path, capsys, extra, message):
    src = tmp_path / "n.txt"
    src.write_text(NOTE)
    extra = [e.replace("{tmp}", str(tmp_path)) for e in extra]
    code, cap = _run(["check", "--format", "jsonl", *extra, str(src)], capsys)
    assert code == 2 and message in cap.err and "Traceback" not in cap.err
    assert not list(tmp_path.glob("*.partial"))


# ------------------------------------------------------------ 4: ids are not markup


def test_item04_table_prints_ids_as_they_are(tmp_path, capsys):
    src = tmp_path / "rows.jsonl"
    ids = ["[/red]", "[bold]N1", "[link=https://example.com]x[/link]"]
    src.write_text("".join(json.dumps({"note_id": i, "text": NOTE}) + "\n" for i in ids))
    code, cap = _run(["check", "--keep-order", str(src)], capsys)
    assert code == 0
    for i in ids:
        assert i in cap.out


# ------------------------------------------------------------ 15: directory expansion


def test_item15_directory_walk_follows_links_and_reports_skips(tmp_path, capsys):
    root = tmp_path / "notes"
    real = tmp_path / "elsewhere"
    (root / "sub").mkdir(parents=True)
    real.mkdir()
    (root / "a.txt").write_text(NOTE)
    (root / "B.TXT").write_text(NOTE)
    (root / "sub" / "c.Txt").write_text(NOTE)
    (real / "d.txt").write_text(NOTE)
    (root / "linked").symlink_to(real)
    (root / "dangling.txt").symlink_to(tmp_path / "nothing.txt")
    (root / "loop").symlink_to(root)
    (root / "self.txt").symlink_to(root / "self.txt")
    code, cap = _run(["check", "--format", "jsonl", str(root)], capsys)
    assert code == 0
    ids = sorted(json.loads(line)["note_id"] for line in cap.out.splitlines())
    assert ids == ["B", "a", "c", "d"]
    assert "dangling.txt" in cap.err and "self.txt" in cap.err and "loop" in cap.err


# ------------------------------------------------------------ check_many over a failing input


def test_also_check_many_yields_what_was_read_before_the_input_failed(checker):
    def notes():
        yield ("n1", NOTE)
        yield ("n2", "   ")
        yield ("n3", NOTE)
        raise RuntimeError("the database went away")

    for n_process in (1, 2):
        seen = []
        with pytest.raises(RuntimeError, match="went away"):
            for o in checker.check_many(notes(), batch_size=64, n_process=n_process):
                seen.append((o.note_id, o.ok))
        assert seen == [("n1", True), ("n2", False), ("n3", True)]


# ------------------------------------------------------------ 8: surrogates everywhere


def test_item08_surrogates_in_check_many_and_the_cli(checker, tmp_path, capsys):
    (o,) = checker.check_many(["x \ud800 fluoroscopy"])
    assert not o.ok and o.code == "invalid_text"
    src = tmp_path / "s.jsonl"
    src.write_text(
        json.dumps({"note_id": "a\ud800", "text": NOTE, "physician": "Dr \udc00"})
        + "\n"
        + json.dumps({"note_id": "b", "text": "x \ud800 y"})
        + "\n"
    )
    for fmt in ("jsonl", "csv", "table"):
        out = tmp_path / f"o.{fmt}"
        assert main(["check", "--format", fmt, "-o", str(out), str(src)]) == 1, fmt
        assert out.exists()
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["error"]["code"] == "invalid_text"
    assert f"{src}:line 2" in json.loads(lines[1])["error"]["message"]


def test_also_nul_in_a_csv_row_names_the_row(checker, tmp_path):
    src = tmp_path / "nul.csv"
    src.write_bytes(b'note_id,text\nn1,"a\x00b fluoroscopy"\n')
    (o,) = checker.check_many(read_records(str(src)))
    assert o.code == "binary" and f"{src}:row 2" in o.message


# ------------------------------------------------------------ 7: workers end with the parent


def _children(pid: int) -> list:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_item07_workers_exit_when_the_parent_is_killed(tmp_path, sig):
    src = tmp_path / "many.jsonl"
    src.write_text(
        "".join(json.dumps({"note_id": f"n{i}", "text": NOTE * 20}) + "\n" for i in range(3000))
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "doc_checker.cli",
            "check",
            "--format",
            "jsonl",
            "--n-process",
            "2",
            "--batch-size",
            "4",
            "-o",
            str(tmp_path / "o.jsonl"),
            str(src),
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    workers: list = []
    while time.time() < deadline and not workers:
        workers = [k for k in _children(proc.pid) if _alive(k)]
        time.sleep(0.2)
    assert workers, "no worker process started"
    time.sleep(1.0)
    proc.send_signal(sig)
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    alive = [w for w in workers if _alive(w)]
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert not alive, "worker processes outlived their parent"


# ------------------------------------------------------------ the service: 8, 9, 13, 14


@pytest.fixture(scope="module")
def service(checker):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from doc_checker.service.app import Settings, create_app

    settings = Settings(max_batch=100, body_timeout=1)
    with TestClient(create_app(checker, settings=settings)) as client:
        yield client


def _post_raw(client, path: str, body: str):
    return client.post(path, content=body.encode(), headers={"content-type": "application/json"})


def test_item08_service_refuses_lone_surrogates_with_422(service):
    resp = _post_raw(service, "/v1/check", '{"text": "x \\ud800 fluoroscopy"}')
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_text"
    for field in ('"note_id": "a\\udc00"', '"meta": {"k\\ud800": 1}', '"codes": ["7700\\ud800"]'):
        resp = _post_raw(service, "/v1/check", '{"text": "fluoroscopy", ' + field + "}")
        assert resp.status_code == 422, field
        assert resp.json()["error"]["code"] == "invalid_request"
    resp = _post_raw(
        service, "/v1/check/batch", '{"notes": [{"text": "x \\ud800"}, {"text": "fluoroscopy"}]}'
    )
    assert resp.status_code == 200
    first, second = resp.json()["results"]
    assert first["error"]["code"] == "invalid_text" and "score" in second


def test_item09_access_log_cannot_be_forged(service, caplog):
    from doc_checker.service.app import OneLineFormatter

    caplog.set_level(logging.INFO, logger="doc_checker.access")
    service.get("/x%0a2026-12-01 16:59:59,000 ERROR doc_checker.service: FORGED%1b[2J%00")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "doc_checker.access"]
    assert "\n" not in line and "\x1b" not in line and "\x00" not in line
    assert "\\x0a2026-12-01" in line and "\\x1b[2J\\x00" in line
    record = logging.LogRecord("uvicorn.error", logging.ERROR, "", 0, "a\nb %s", ("\x1b",), None)
    assert OneLineFormatter("%(message)s").format(record) == "a\\x0ab \\x1b"


def test_item13_batch_limit_comes_before_per_note_validation(service):
    started = time.perf_counter()
    resp = _post_raw(service, "/v1/check/batch", '{"notes": [' + ",".join(["{}"] * 300_000) + "]}")
    elapsed = time.perf_counter() - started
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "batch_too_large"
    assert len(resp.content) < 1000 and elapsed < 1.5


def test_item13_validation_errors_are_capped(service):
    resp = _post_raw(service, "/v1/check/batch", '{"notes": [' + ",".join(["{}"] * 100) + "]}")
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["error_count"] == 100 and len(error["details"]) == 20
    assert "95 more" in error["message"] and len(resp.content) < 5000


def _scope(path="/v1/check"):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


def test_item14_stalled_upload_gets_408_within_the_timeout(checker, caplog):
    import asyncio

    from doc_checker.service.app import Settings, create_app

    app = create_app(checker, settings=Settings(body_timeout=1))
    sent = []
    first = [True]

    async def receive():
        if first[0]:
            first[0] = False
            return {"type": "http.request", "body": b'{"text": "abc', "more_body": True}
        await asyncio.sleep(3600)  # the client stopped sending

    async def send(message):
        sent.append(message)

    caplog.set_level(logging.INFO, logger="doc_checker.access")
    started = time.perf_counter()
    asyncio.run(asyncio.wait_for(app(_scope(), receive, send), 10))
    assert time.perf_counter() - started < 3
    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["error"]["code"] == "request_timeout"
    assert any(" 408 " in r.getMessage() for r in caplog.records if r.name == "doc_checker.access")


def test_item14_client_disconnect_is_logged_as_a_disconnect_not_500(checker, caplog):
    import asyncio

    from doc_checker.service.app import Settings, create_app

    app = create_app(checker, settings=Settings())
    messages = [{"type": "http.request", "body": b'{"te', "more_body": True}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        raise AssertionError("nothing is sent to a client that left")

    caplog.set_level(logging.INFO, logger="doc_checker.access")
    asyncio.run(app(_scope(), receive, send))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "doc_checker.access"]
    assert " 499 " in line and "disconnected" in line and " 500 " not in line


# ------------------------------------------------------------ Also: ConText categories


@pytest.mark.parametrize(
    "change, message",
    [
        ({"category": "NEGATED"}, "category 'NEGATED' is unknown"),
        ({"terminated_by": ["NOPE"]}, "terminated_by"),
    ],
)
def test_also_context_rule_with_unknown_category_is_refused(tmp_path, change, message):
    import shutil

    from doc_checker.errors import RulesError
    from doc_checker.rules import default_patterns_dir, load_ruleset

    patterns = tmp_path / "patterns"
    shutil.copytree(
        default_patterns_dir(), patterns, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    path = patterns / "context.json"
    data = json.loads(path.read_text())
    data["context_rules"][0].update(change)
    path.write_text(json.dumps(data))
    with pytest.raises(RulesError, match=rf"context.json: rule 0 .*{message}"):
        load_ruleset(patterns)
