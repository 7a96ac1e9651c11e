"""The real server: ``python -m doc_checker.cli serve`` on a free loopback port, a short bounded
load through scripts/loadtest.py's functions, then a clean stop. Also --workers 2 with a token,
and a bad profile refused before the server starts."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import loadtest  # noqa: E402

MARKER = "ZQXJ-PRIVATE-NOTE-TEXT-4410"


def _short_notes(n=12):
    notes = loadtest.load_notes()
    return sorted(notes, key=lambda x: len(x["text"]))[:n]


def test_serve_under_load_with_zero_errors_and_no_note_text_in_the_log(tmp_path):
    log_path = tmp_path / "server.log"
    notes = _short_notes()
    marked = [dict(n, text=n["text"] + "\n" + MARKER) for n in notes]
    with log_path.open("wb") as log, loadtest.spawn_server(stderr=log) as url:
        stats = asyncio.run(
            loadtest.run_load(url, marked, requests=500, concurrency=16, deadline_s=300)
        )
        with httpx.Client(base_url=url, trust_env=False) as c:
            assert c.get("/healthz").status_code == 200
            bad = c.post("/v1/check", json={"text": [MARKER]})
            assert bad.status_code == 422 and MARKER not in bad.text
            assert c.post("/v1/check", json={"text": " "}).status_code == 422
            page = c.get("/")
            assert page.status_code == 200 and "content-security-policy" in page.headers
    summary = stats.summary()
    print(summary)
    assert stats.requests == 500 and stats.errors == 0, summary
    assert summary["latency_ms"]["p50"] > 0
    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert MARKER not in text
    access = [line for line in text.splitlines() if "doc_checker.access" in line]
    assert sum(" POST /v1/check 200 " in line for line in access) == 500
    assert any(" POST /v1/check 422 " in line for line in access)
    assert "pipeline loaded" in text
    assert '"POST /v1/check HTTP/1.1"' not in text  # uvicorn's own access log is off


def test_two_workers_with_a_token(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("server-test-token-9f2c\n")
    env = {
        "DOC_CHECKER_TOKEN_FILE": str(token_file),
        "DOC_CHECKER_TOKEN": "",
        "DOC_CHECKER_MAX_BATCH": "2",
    }
    with loadtest.spawn_server(workers=2, env=env) as url:
        with httpx.Client(base_url=url, trust_env=False) as c:
            r = c.post("/v1/check", json={"text": "needle in the hip joint"})
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
            auth = {"Authorization": "Bearer server-test-token-9f2c"}
            notes = [{"text": "hip joint needle under fluoroscopy"}] * 3
            r = c.post("/v1/check/batch", json={"notes": notes}, headers=auth)
            assert r.status_code == 413 and r.json()["error"]["code"] == "batch_too_large"
        stats = asyncio.run(
            loadtest.run_load(
                url,
                _short_notes(),
                requests=100,
                concurrency=8,
                token="server-test-token-9f2c",
                deadline_s=300,
            )
        )
    assert stats.errors == 0, stats.summary()


def test_bad_profile_is_refused_before_serving(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"elements": {"no_such_element": {"required": true}}}')
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "doc_checker.cli",
            "serve",
            "--port",
            str(loadtest.free_port()),
            "--profile",
            str(bad),
        ],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "no_such_element" in proc.stderr


def test_bad_setting_is_refused_before_serving():
    proc = subprocess.run(
        [sys.executable, "-m", "doc_checker.cli", "serve", "--port", str(loadtest.free_port())],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DOC_CHECKER_MAX_BODY_BYTES": "big"},
    )
    assert proc.returncode == 2
    assert "DOC_CHECKER_MAX_BODY_BYTES" in proc.stderr


def test_loadtest_refuses_non_loopback_hosts():
    for url in (
        "http://10.0.0.1:8000",
        "http://example.com",
        "http://0.0.0.0:80",
        "ftp://127.0.0.1",
    ):
        with pytest.raises(loadtest.UsageError):
            loadtest.ensure_loopback(url)
    for url in (
        "http://127.0.0.1:8000/",
        "http://localhost:1",
        "http://[::1]:8000",
        "http://127.8.9.10",
    ):
        loadtest.ensure_loopback(url)
    assert loadtest.main(["--url", "http://192.168.1.5:8000", "--requests", "1"]) == 2
    with pytest.raises(loadtest.UsageError):
        asyncio.run(loadtest.run_load("http://127.0.0.1:1", [{"text": "x"}], requests=10**9))


def test_percentiles():
    values = sorted(float(v) for v in range(1, 101))
    assert loadtest.percentile(values, 50) == 50
    assert loadtest.percentile(values, 90) == 90
    assert loadtest.percentile(values, 99) == 99
    assert loadtest.percentile(values, 100) == 100
    assert loadtest.percentile([], 50) == 0
    assert loadtest.percentile([5.0], 99) == 5.0
    assert loadtest.percentile(values, 0.1) == 1
