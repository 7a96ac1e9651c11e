"""The service's page (``GET /``) in headless Chromium, driven over the Chrome DevTools Protocol
(``--remote-debugging-pipe``: JSON messages on file descriptors 3 and 4, no websocket library):
a coder pastes a note, types billed codes, clicks "Check note", and sees the verdict and the
note with its evidence highlighted in the report frame. A screenshot is saved and inspected.

Needs Chromium (Debian package ``chromium``). Without it the tests are skipped, unless
DOC_CHECKER_REQUIRE_CHROMIUM=1 (CI) where a missing browser is a failure.
"""

import base64
import sys
import time
import zlib
from pathlib import Path

import pytest

from .browser import CDP, Page, chromium_or_skip

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import loadtest  # noqa: E402  (a script, importable once scripts/ is on sys.path)

TOKEN = "browser-test-token-0123456789"
NOTE = (
    "INDICATION: Right hip pain, evaluate for septic arthritis.\n"
    "PROCEDURE: Under fluoroscopic guidance, a 22-gauge spinal needle was advanced into the right "
    "hip joint. 2 mL of contrast was injected confirming intra-articular position. 10 mL of fluid "
    "was aspirated and sent for culture. Fluoroscopy time 0.4 minutes. Images saved to PACS.\n"
    "<script>parent.document.title='pwned'</script>"
)


def _png_size_and_colours(data: bytes):
    """Width, height and a coarse count of distinct colours in an 8-bit RGB(A) PNG
    (non-interlaced)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8] == 8, "expected 8-bit channels"
            ctype = body[9]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = {2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    i = 0
    for _ in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        for x in range(0, stride, bpp * 4):  # sample every 4th pixel
            colours.add(bytes(line[x : x + 3]))
        prev = line
    return width, height, colours


@pytest.fixture(scope="module")
def browser():
    return chromium_or_skip()


@pytest.fixture(scope="module")
def server():
    with loadtest.spawn_server(env={"DOC_CHECKER_TOKEN": TOKEN}) as url:
        yield url


def test_paste_a_note_and_see_the_highlighted_evidence(browser, server, tmp_path):
    cdp = CDP(browser, tmp_path)
    try:
        page = Page(cdp, server + "/", ready="document.body.getAttribute('data-state') === 'idle'")
        # The page is self-contained: nothing but its own origin was requested.
        resources = page.eval(
            "performance.getEntriesByType('resource').map(function(e){return e.name})"
        )
        assert all(r.startswith(server) for r in resources), resources

        # Without the token the service refuses, and the page says so.
        page.type_into("#note", NOTE)
        page.click("#submit")
        page.wait_for("document.body.getAttribute('data-state') === 'error'")
        assert "401" in page.eval("document.getElementById('error').textContent")

        page.type_into("#token", TOKEN)
        page.type_into("#codes", "20610;77002")
        page.click("#submit")
        page.wait_for("document.body.getAttribute('data-state') === 'done'")
        summary = page.eval("document.getElementById('summary').textContent")
        assert "supported" in summary and "77002" in summary, summary
        assert (
            page.eval("document.title") == "doc-checker: check a note"
        )  # the note's script did not run

        ctx = page.frame_context()
        page.wait_for(
            "document.documentElement.getAttribute('data-js') === 'ready'", context_id=ctx
        )
        marks = page.eval(
            "Array.prototype.map.call(document.querySelectorAll('pre.note-text mark.ev'),"
            "function(m){var s=getComputedStyle(m);"
            "return [m.className, m.textContent, s.backgroundColor + ' ' + s.backgroundImage];})",
            context_id=ctx,
        )
        assert marks, "no highlighted evidence in the report frame"
        classes = " ".join(c for c, _, _ in marks)
        for element in (
            "indication",
            "fluoroscopic_guidance",
            "contrast_confirmation",
            "images_recorded",
        ):
            assert f"el-{element}" in classes, element
        assert any("fluoroscopic guidance" in t for _, t, _ in marks)
        # The report's stylesheet applied inside the frame (its CSP hash and the page's policy
        # agree): every mark has a colour, or colour bands (a passage that is evidence for several
        # elements).
        assert all(not bg.startswith("rgba(0, 0, 0, 0) none") for _, _, bg in marks), marks
        # One note: the batch summary and worklist are left out.
        assert page.eval(
            "document.getElementById('summary') === null && "
            "document.querySelector('section.note') !== null",
            context_id=ctx,
        )
        missing = page.eval("document.querySelector('section.note').textContent", context_id=ctx)
        assert "Missing required elements" in missing and "Draft physician queries" in missing
        verdict = page.eval(
            "document.querySelector('section.note').getAttribute('data-verdict')", context_id=ctx
        )
        assert verdict == "supported"
        text = page.eval("document.querySelector('pre.note-text').textContent", context_id=ctx)
        assert "<script>parent.document.title='pwned'</script>" in text  # shown as text, not run
        billed = page.eval("document.querySelector('.note-head').textContent", context_id=ctx)
        assert "20610" in billed

        # Bring the highlighted note into view inside the frame, then look at the picture.
        page.eval(
            "document.querySelector('pre.note-text').scrollIntoView({block: 'center'}); true",
            context_id=ctx,
        )
        time.sleep(0.3)
        shot = base64.b64decode(page.call("Page.captureScreenshot", {"format": "png"})["data"])
        png = tmp_path / "service-page.png"
        png.write_bytes(shot)
        width, height, colours = _png_size_and_colours(shot)
        assert width >= 1000 and height >= 700
        # The highlight colours of the report appear in the picture (fluoroscopic guidance blue,
        # indication yellow), and the page is not blank.
        assert len(colours) > 50
        assert bytes.fromhex("bfdbfe") in colours and bytes.fromhex("fde68a") in colours
        print(f"screenshot: {png}")
    finally:
        cdp.close()
