"""The review service in process (FastAPI TestClient): every endpoint, the limits, bearer auth,
error shapes, and that nothing a client sent as note text comes back in an error or a log line."""

import asyncio
import base64
import hashlib
import json
import logging
import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from doc_checker.service.app import (  # noqa: E402
    OPEN_PATHS,
    Settings,
    SettingsError,
    create_app,
)

from .conftest import assert_valid  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notes"
MARKER = "ZQXJ-PRIVATE-NOTE-TEXT-7731"
TOKEN = "t0ken-for-tests-only-5b1d"
NOTE = (
    "INDICATION: Left hip pain, evaluate for septic arthritis.\n"
    "PROCEDURE: Under fluoroscopic guidance, a 20-gauge spinal needle was advanced into the left "
    "hip joint. No contrast was used. 12 mL of cloudy fluid was aspirated and sent for culture. "
    "Images saved to PACS."
)


def _error(resp, status, code=None):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture(scope="module")
def client(checker):
    with TestClient(create_app(checker, settings=Settings())) as c:
        yield c


@pytest.fixture(scope="module")
def small(checker):
    """Small limits: 64 KiB bodies, 3 notes a batch, 500 characters a note."""
    settings = Settings(max_body_bytes=64 * 1024, max_batch=3, max_note_chars=500)
    with TestClient(create_app(checker, settings=settings)) as c:
        yield c


@pytest.fixture(scope="module")
def authed(checker):
    with TestClient(create_app(checker, settings=Settings(token=TOKEN))) as c:
        yield c


def _fixture_texts(n=6):
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.txt"))[:n]]


# ---------------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------------


def test_health_and_ready(client, checker):
    assert client.get("/healthz").json()["status"] == "ok"
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "ruleset_version": checker.ruleset_version,
        "profile": "default",
    }


def test_not_ready_until_the_pipeline_is_loaded():
    # Without the lifespan (no ``with``) the background load never starts: the state a worker is
    # in while its pipeline builds.
    c = TestClient(create_app(settings=Settings()))
    assert c.get("/healthz").status_code == 200
    _error(c.get("/readyz"), 503, "not_ready")
    err = _error(c.post("/v1/check", json={"text": NOTE}), 503, "not_ready")
    assert "loading" in err["message"]


def test_the_pipeline_loads_at_startup_in_the_background():
    import time

    with TestClient(create_app(settings=Settings())) as c:
        deadline = time.monotonic() + 120
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the pipeline did not load"
            time.sleep(0.2)
        assert c.post("/v1/check", json={"text": NOTE}).json()["verdict"] == "incomplete"


def test_check_matches_the_library(client, checker, validator):
    for nid, text in _fixture_texts():
        resp = client.post("/v1/check", json={"text": text, "note_id": nid})
        assert resp.status_code == 200
        assert resp.headers["cache-control"] == "no-store"
        assert resp.json() == checker.check(text, note_id=nid).to_dict()
        assert_valid(validator, resp.json())


def test_check_with_codes_and_meta(client, checker):
    meta = {"physician": "Dr A", "mrn_hash": 12, "urgent": True, "none": None}
    for codes in ("20610;77002", ["20610", "77002-26"], "77002x2"):
        body = {"text": NOTE, "note_id": "n1", "codes": codes, "meta": meta}
        got = client.post("/v1/check", json=body).json()
        assert got == checker.check(NOTE, note_id="n1", codes=codes, meta=meta).to_dict()
        assert got["billed_codes"] and got["meta"] == meta
    bad = client.post("/v1/check", json={"text": NOTE, "codes": "ABC"}).json()
    assert bad["claim_findings"][0]["code"] == "INVALID_CODES"


@pytest.mark.parametrize(
    "text,code",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("abc\x00def" * 10, "binary"),
        ("\x01\x02\x03\x04\x05\x06\x07\x08" * 100, "binary"),
    ],
)
def test_refused_notes_are_422_with_the_checkers_code(client, text, code):
    err = _error(client.post("/v1/check", json={"text": text}), 422, code)
    assert err["message"]


def test_batch_matches_check_many_in_order_with_error_records(client, checker):
    notes = [{"text": t, "note_id": nid} for nid, t in _fixture_texts(4)]
    notes.insert(2, {"text": "  ", "note_id": "blank", "meta": {"row": 3}})
    notes.append({"text": NOTE, "codes": "20610;77002"})
    resp = client.post("/v1/check/batch", json={"notes": notes})
    assert resp.status_code == 200
    got = resp.json()["results"]
    want = [o.to_dict() for o in checker.check_many(notes)]
    assert got == want
    assert got[2] == {
        "note_id": "blank",
        "position": 2,
        "meta": {"row": 3},
        "error": {"code": "empty", "message": "the note is empty or only whitespace"},
    }
    assert [r.get("note_id") for r in got] == [n.get("note_id") for n in notes]


def test_empty_batch(client):
    assert client.post("/v1/check/batch", json={"notes": []}).json() == {"results": []}


def test_ruleset(client, checker):
    body = client.get("/v1/ruleset").json()
    assert body["ruleset_version"] == checker.ruleset_version
    assert body["profile"] == "default"
    assert body["elements"]["fluoroscopic_guidance"] == {"required": True, "weight": 2.0}
    assert body["elements"]["radiation_dose"]["required"] is False
    assert set(body["elements"]) == set(checker.profile.elements)
    assert body["limits"] == {
        "max_body_bytes": 2 * 1024 * 1024,
        "max_batch": 100,
        "max_note_chars": 1_000_000,
    }


def test_ruleset_follows_the_profile(tmp_path):
    from doc_checker import Checker

    lenient = Path(__file__).resolve().parents[1] / "patterns" / "profiles" / "lenient.json"
    with TestClient(create_app(Checker(profile=lenient), settings=Settings())) as c:
        body = c.get("/v1/ruleset").json()
        assert body["profile"] == "lenient"
        assert body["elements"]["contrast_confirmation"]["required"] is False
        assert c.post("/v1/check", json={"text": NOTE}).json()["profile"] == "lenient"


def test_report_is_the_html_report_of_one_note(client):
    note = NOTE + "\n<script>alert(1)</script>"
    resp = client.post("/v1/report", json={"text": note, "note_id": "n<1>", "codes": "20610;77002"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["x-doc-checker-verdict"] == "incomplete"
    assert resp.headers["x-doc-checker-suggested-code"] == "77002"
    assert resp.headers["x-doc-checker-missing"] == "contrast_confirmation"
    assert resp.headers["cache-control"] == "no-store"
    page = resp.text
    assert 'http-equiv="Content-Security-Policy"' in page
    assert re.search(r'<mark class="ev[^"]*el-fluoroscopic_guidance', page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "n&lt;1&gt;" in page
    _error(client.post("/v1/report", json={"text": ""}), 422, "empty")


def test_page_is_self_contained_and_allows_the_report_under_its_csp(client):
    resp = client.get("/")
    assert resp.status_code == 200
    page = resp.text
    csp = resp.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp

    def digest(text):
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    # exactly the page's one inline script is allowed, and the report's (a srcdoc frame inherits
    # the page's policy): the hash of the script in a rendered report
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    report = client.post("/v1/report", json={"text": NOTE}).text
    report_scripts = re.findall(r"<script>(.*?)</script>", report, re.S)
    assert len(report_scripts) == 1
    script_src = re.search(r"script-src ([^;]+);", csp).group(1).split()
    assert script_src == [digest(scripts[0]), digest(report_scripts[0])]
    # no external assets: no URL with a scheme or protocol-relative in src/href, no @import
    assert not re.search(r'(?:src|href)\s*=\s*"(?:[a-z]+:)?//', page, re.I)
    assert "@import" not in page and "url(" not in page
    for needle in (
        'id="note"',
        'id="codes"',
        'id="submit"',
        'id="report"',
        'sandbox="allow-scripts"',
    ):
        assert needle in page


def test_openapi_docs(client):
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/check",
        "/v1/check/batch",
        "/v1/report",
        "/v1/ruleset",
        "/healthz",
        "/readyz",
    ):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200


def test_unknown_path_and_method_use_the_error_shape(client):
    _error(client.get("/v1/nothing"), 404, "not_found")
    _error(client.get("/v1/check"), 405, "method_not_allowed")


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------


def test_body_too_large_by_content_length(small):
    body = json.dumps({"text": "x " * 40_000}).encode()
    err = _error(
        small.post("/v1/check", content=body, headers={"content-type": "application/json"}),
        413,
        "body_too_large",
    )
    assert "65,536" in err["message"] and "DOC_CHECKER_MAX_BODY_BYTES" in err["message"]


def test_body_too_large_when_streamed_without_content_length(small):
    def chunks():
        yield b'{"text": "'
        for _ in range(100):
            yield b"y" * 1024
        yield b'"}'

    resp = small.post("/v1/check", content=chunks(), headers={"content-type": "application/json"})
    _error(resp, 413, "body_too_large")


def test_body_limit_counts_the_bytes_actually_read(checker):
    """A Content-Length that understates the body does not get past the limit."""
    app = create_app(checker, settings=Settings(max_body_bytes=1000))
    sent = []
    chunks = [b'{"text": "' + b"z" * 600, b"z" * 600 + b'"}']

    async def receive():
        if chunks:
            body = chunks.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/check",
        "raw_path": b"/v1/check",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"20")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "body_too_large"


def test_a_body_at_the_limit_is_accepted(small):
    body = json.dumps({"text": NOTE[:400]}).encode()
    assert (
        small.post(
            "/v1/check", content=body, headers={"content-type": "application/json"}
        ).status_code
        == 200
    )


def test_bad_content_length_is_400(small):
    # httpx sets Content-Length itself; talk ASGI to get a malformed one through
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/check",
        "raw_path": b"/v1/check",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", b"abc")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(small.app(scope, receive, send))
    assert sent[0]["status"] == 400


def test_batch_too_big_is_413(small):
    notes = [{"text": NOTE[:200]} for _ in range(4)]
    err = _error(small.post("/v1/check/batch", json={"notes": notes}), 413, "batch_too_large")
    assert (
        "4 notes" in err["message"]
        and "limit is 3" in err["message"]
        and "DOC_CHECKER_MAX_BATCH" in err["message"]
    )
    assert len(small.post("/v1/check/batch", json={"notes": notes[:3]}).json()["results"]) == 3


def test_note_too_long_is_413_alone_and_an_error_record_in_a_batch(small):
    long_note = NOTE + " more text" * 60
    assert len(long_note) > 500
    err = _error(small.post("/v1/check", json={"text": long_note}), 413, "note_too_long")
    assert "500" in err["message"] and "DOC_CHECKER_MAX_NOTE_CHARS" in err["message"]
    _error(small.post("/v1/report", json={"text": long_note}), 413, "note_too_long")
    results = small.post(
        "/v1/check/batch",
        json={"notes": [{"text": NOTE[:300], "note_id": "a"}, {"text": long_note, "note_id": "b"}]},
    ).json()["results"]
    assert results[0]["verdict"]
    assert results[1]["note_id"] == "b" and results[1]["position"] == 1
    assert results[1]["error"]["code"] == "note_too_long"


def test_settings_from_env(tmp_path):
    s = Settings.from_env({})
    assert (s.max_body_bytes, s.max_batch, s.max_note_chars, s.token) == (
        2 * 1024 * 1024,
        100,
        1_000_000,
        None,
    )
    s = Settings.from_env(
        {
            "DOC_CHECKER_MAX_BODY_BYTES": "1_000",
            "DOC_CHECKER_MAX_BATCH": "5",
            "DOC_CHECKER_MAX_NOTE_CHARS": "70",
            "DOC_CHECKER_TOKEN": "abc",
        }
    )
    assert (s.max_body_bytes, s.max_batch, s.max_note_chars, s.token) == (1000, 5, 70, "abc")
    assert "abc" not in repr(s)
    f = tmp_path / "token"
    f.write_text("from-file\n")
    assert Settings.from_env({"DOC_CHECKER_TOKEN_FILE": str(f)}).token == "from-file"
    with pytest.raises(SettingsError, match="DOC_CHECKER_MAX_BATCH"):
        Settings.from_env({"DOC_CHECKER_MAX_BATCH": "lots"})
    with pytest.raises(SettingsError, match="at least 1"):
        Settings.from_env({"DOC_CHECKER_MAX_BODY_BYTES": "0"})
    with pytest.raises(SettingsError, match="DOC_CHECKER_TOKEN_FILE"):
        Settings.from_env({"DOC_CHECKER_TOKEN_FILE": str(tmp_path / "missing")})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(SettingsError, match="empty"):
        Settings.from_env({"DOC_CHECKER_TOKEN_FILE": str(tmp_path / "empty")})


# ---------------------------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------------------------

PROTECTED = [
    ("post", "/v1/check", {"text": NOTE}),
    ("post", "/v1/check/batch", {"notes": [{"text": NOTE}]}),
    ("post", "/v1/report", {"text": NOTE}),
    ("get", "/v1/ruleset", None),
    ("get", "/docs", None),
    ("get", "/openapi.json", None),
]


@pytest.mark.parametrize("method,path,body", PROTECTED)
def test_auth_missing_wrong_and_right_token(authed, method, path, body):
    kwargs = {"json": body} if body is not None else {}
    call = getattr(authed, method)
    err = _error(call(path, **kwargs), 401, "unauthorized")
    assert "Bearer" in err["message"]
    resp = call(path, headers={"Authorization": "Bearer wrong-token"}, **kwargs)
    _error(resp, 401, "unauthorized")
    assert resp.headers["www-authenticate"].startswith("Bearer")
    for header in (f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer "):
        assert call(path, headers={"Authorization": header}, **kwargs).status_code == 401, header
    ok = call(path, headers={"Authorization": f"Bearer {TOKEN}"}, **kwargs)
    assert ok.status_code == 200, ok.text
    assert call(path, headers={"Authorization": f"bearer {TOKEN}"}, **kwargs).status_code == 200


def test_auth_missing_header_gets_www_authenticate(authed):
    resp = authed.post("/v1/check", json={"text": NOTE})
    assert resp.status_code == 401 and resp.headers["www-authenticate"].startswith("Bearer")


def test_health_endpoints_and_the_page_shell_are_open(authed):
    assert OPEN_PATHS == {"/healthz", "/readyz", "/"}
    assert authed.get("/healthz").status_code == 200
    assert authed.get("/readyz").status_code == 200
    # The page is a static shell (no data): a browser cannot send a bearer token to load it; the
    # page sends the token the coder types with each API call.
    page = authed.get("/")
    assert page.status_code == 200 and 'id="token"' in page.text


def test_auth_comes_before_the_body_limit(checker):
    with TestClient(create_app(checker, settings=Settings(token=TOKEN, max_body_bytes=100))) as c:
        _error(c.post("/v1/check", json={"text": "x" * 500}), 401)
        _error(
            c.post(
                "/v1/check", json={"text": "x" * 500}, headers={"Authorization": f"Bearer {TOKEN}"}
            ),
            413,
        )


# ---------------------------------------------------------------------------------------------
# Privacy: validation errors and logs never carry note text
# ---------------------------------------------------------------------------------------------

BAD_BODIES = [
    {"text": [MARKER]},  # wrong type
    {"text": {"nested": MARKER}},
    {"txt": MARKER},  # missing field + unknown field
    {"text": NOTE, "extra": MARKER},  # unknown field
    {"text": NOTE, "meta": {MARKER + " as a key": {"deep": MARKER}}},
    {"text": NOTE, "codes": {"a": MARKER}},
    {"text": NOTE, "note_id": [MARKER]},
    [MARKER],
    MARKER,
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_validation_errors_do_not_echo_the_body(client, body, caplog):
    caplog.set_level(logging.DEBUG)
    resp = client.post("/v1/check", json=body)
    err = _error(resp, 422, "invalid_request")
    assert MARKER not in resp.text
    assert all("input" not in d and "ctx" not in d for d in err["details"])
    assert all({"loc", "msg", "type"} == set(d) for d in err["details"])
    assert MARKER not in caplog.text
    batch = client.post("/v1/check/batch", json={"notes": [body]})
    assert batch.status_code == 422 and MARKER not in batch.text


def test_malformed_json_does_not_echo_the_body(client):
    resp = client.post(
        "/v1/check",
        content=b'{"text": "' + MARKER.encode() + b'", oops}',
        headers={"content-type": "application/json"},
    )
    _error(resp, 422, "invalid_request")
    assert MARKER not in resp.text


def test_refusals_and_internal_errors_do_not_carry_note_text(checker, caplog):
    class Exploding:
        ruleset_version = checker.ruleset_version
        profile = checker.profile

        def check(self, text, **kw):
            raise ValueError(f"bad note: {text}")

        def check_many(self, notes, **kw):
            raise ValueError("bad batch: " + " ".join(n["text"] for n in notes))

    caplog.set_level(logging.DEBUG)
    # raise_server_exceptions (the default): nothing escapes the app to the server's own logging
    with TestClient(create_app(Exploding(), settings=Settings())) as c:
        resp = c.post("/v1/check", json={"text": MARKER})
        _error(resp, 500, "internal_error")
        assert MARKER not in resp.text
        resp = c.post("/v1/check/batch", json={"notes": [{"text": MARKER}]})
        _error(resp, 500, "internal_error")
        assert MARKER not in resp.text
    assert MARKER not in caplog.text
    assert "internal error on POST /v1/check: ValueError" in caplog.text


def test_access_log_has_method_path_status_duration_only(client, caplog):
    caplog.set_level(logging.INFO, logger="doc_checker.access")
    client.post("/v1/check?note=" + MARKER, json={"text": NOTE + " " + MARKER})
    client.post("/v1/check", json={"text": ""})
    lines = [r.getMessage() for r in caplog.records if r.name == "doc_checker.access"]
    assert any(re.fullmatch(r"POST /v1/check 200 \d+\.\dms", line) for line in lines), lines
    assert any(re.fullmatch(r"POST /v1/check 422 \d+\.\dms", line) for line in lines), lines
    assert MARKER not in caplog.text


def test_log_config_turns_uvicorns_access_log_off():
    from doc_checker.service.app import log_config

    cfg = log_config()
    assert cfg["loggers"]["uvicorn.access"]["handlers"] == []
    assert cfg["loggers"]["doc_checker"]["level"] == "INFO"
