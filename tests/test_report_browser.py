"""The HTML report rendered by headless Chromium: highlights and worklist in the DOM, our script
runs under the page's Content-Security-Policy, a script inside a note does not.

Needs Chromium (Debian package ``chromium``). Without it the tests are skipped, unless
DOC_CHECKER_REQUIRE_CHROMIUM=1 (CI) where a missing browser is a failure.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from doc_checker.io.report import write_html
from doc_checker.result import ErrorRecord

from .browser import CDP, HEADLESS, Page, chromium_or_skip

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notes"
TIMEOUT = 120

# Would retitle the page, add an element and mark <body> if it ever ran.
XSS_NOTE = (
    "INDICATION: right hip pain to evaluate for septic arthritis. <script>document.title='pwned';"
    "var d=document.createElement('div');d.id='pwned';document.body.appendChild(d);</script>\n"
    "PROCEDURE: Under fluoroscopic guidance a 22 gauge needle was advanced into the right hip "
    "joint. 2 mL of contrast was injected confirming intra-articular position. 10 mL of fluid "
    "was aspirated. Images saved to PACS."
)
XSS_META = {"physician": "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"}


def _run(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        browser,
        *HEADLESS,
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    env = dict(os.environ, HOME=str(tmp))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def browser():
    return chromium_or_skip()


@pytest.fixture(scope="module")
def report(checker, tmp_path_factory):
    """The report file and its results: three fixture notes, the note with a script, an error."""
    items = []
    for i, nid in enumerate(("fx001", "fx011", "fx029")):
        text = (FIXTURES / f"{nid}.txt").read_text(encoding="utf-8")
        items.append(
            (checker.check(text, note_id=nid, meta={"physician": ("Dr A", "Dr B")[i % 2]}), text)
        )
    items.append((checker.check(XSS_NOTE, note_id="xss", meta=XSS_META), XSS_NOTE))
    items.append(
        (
            ErrorRecord(
                note_id="n7",
                code="empty",
                message="the note is empty or only whitespace",
                position=6,
            ),
            None,
        )
    )
    path = tmp_path_factory.mktemp("report") / "report.html"
    with path.open("w", encoding="utf-8") as fh:
        write_html(items, fh, group_by="physician", title="doc-checker review")
    return path, [r for r, _ in items if r.ok]


def _dom(browser, tmp_path, url):
    return _run(browser, tmp_path, "--virtual-time-budget=3000", "--dump-dom", url).stdout


def _tbody_rows(dom):
    body = dom.split('id="wl"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr ([^>]*)>\s*<td[^>]*><a href=\"#note-\d+\">([^<]+)</a>", body)


def test_rendered_dom_has_highlights_worklist_and_no_injected_script(browser, report, tmp_path):
    path, results = report
    dom = _dom(browser, tmp_path, path.as_uri())
    assert "<html" in dom
    # Our script ran (so the CSP hash matches it) ...
    assert re.search(r'<html[^>]*data-js="ready"', dom)
    # ... and the note's and the metadata's did not.
    assert re.search(r"<title>doc-checker review</title>", dom)
    assert 'id="pwned"' not in dom
    assert not re.search(r"<body[^>]*data-pwned", dom)
    assert "&lt;script&gt;document.title='pwned'" in re.sub(r"<[^>]+>", "", dom)
    assert "<img" not in dom
    # Evidence highlights of every element that has evidence.
    for r in results:
        for name, el in r.elements.items():
            if el.evidence:
                assert re.search(rf'<mark class="ev[^"]*\bel-{name}\b', dom), name
    assert '<span class="ign" title="Not counted - ' in dom
    # The worklist: one row per checked note, lowest score first.
    rows = _tbody_rows(dom)
    assert sorted(n for _, n in rows) == sorted(r.note_id for r in results)
    by_id = {r.note_id: r.score for r in results}
    scores = [by_id[n] for _, n in rows]
    assert scores == sorted(scores)
    assert "4 of 4 notes shown" in dom
    assert '<section id="errors">' in dom and "<td>n7</td>" in dom


def test_filter_and_sort_from_the_url(browser, report, tmp_path):
    path, results = report
    dom = _dom(browser, tmp_path, path.as_uri() + "#worklist?verdict=incomplete&sort=0&dir=desc")
    rows = _tbody_rows(dom)
    ids = [n for _, n in rows]
    assert ids == sorted(ids, reverse=True)
    incomplete = {r.note_id for r in results if r.verdict == "incomplete"}
    assert incomplete
    for attrs, nid in rows:
        assert ("hidden" in attrs) == (nid not in incomplete), (nid, attrs)
    assert f"{len(incomplete)} of {len(results)} notes shown" in dom
    assert re.search(r'<button[^>]*class="filter f-incomplete active"', dom)


def test_screenshot(browser, report, tmp_path):
    path, _ = report
    png = tmp_path / "report.png"
    _run(browser, tmp_path, f"--screenshot={png}", "--window-size=1400,2000", path.as_uri())
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank page compresses to a few KiB
    print(f"screenshot: {png}")


ROWS = (
    "Array.prototype.map.call(document.querySelectorAll('#wl tbody tr'), function (r) {"
    " return [r.cells[0].textContent, r.hidden]; })"
)


def test_sort_filter_focus_and_copy_by_clicking(browser, report, tmp_path):
    """Each of the report's script modules, used as a coder would: sort the worklist by a column,
    filter it by verdict, show one element's evidence only, copy a draft query."""
    path, results = report
    cdp = CDP(browser, tmp_path)
    try:
        page = Page(
            cdp, path.as_uri(), ready="document.documentElement.getAttribute('data-js') === 'ready'"
        )
        ids = sorted(r.note_id for r in results)
        page.click("th button.sort[data-col='0']")
        assert [n for n, _ in page.eval(ROWS)] == ids
        page.click("th button.sort[data-col='0']")
        assert [n for n, _ in page.eval(ROWS)] == ids[::-1]
        assert page.eval("document.querySelector('#wl th').getAttribute('aria-sort')") == (
            "descending"
        )

        page.click("button.filter[data-verdict='incomplete']")
        incomplete = {r.note_id for r in results if r.verdict == "incomplete"}
        assert incomplete and {n for n, hidden in page.eval(ROWS) if not hidden} == incomplete
        assert page.eval("document.getElementById('shown').textContent") == (
            f"{len(incomplete)} of {len(results)} notes shown"
        )
        page.click("button.filter[data-verdict='all']")
        assert not any(hidden for _, hidden in page.eval(ROWS))

        # Focus one element: only its marks keep a colour.
        colours = (
            "Array.prototype.map.call(document.querySelectorAll('pre.note-text mark.ev'),"
            " function (m) { return [m.className, getComputedStyle(m).backgroundColor,"
            " getComputedStyle(m).backgroundImage]; })"
        )
        page.click("button.focus-btn[data-el='fluoroscopic_guidance']")
        assert page.eval("document.body.className") == "focus focus-el-fluoroscopic_guidance"
        marks = page.eval(colours)
        coloured = [c for c, bg, img in marks if bg != "rgba(0, 0, 0, 0)" or img != "none"]
        assert coloured and all("el-fluoroscopic_guidance" in c for c in coloured)
        assert len(coloured) < len(marks)
        page.click("button.focus-btn[data-el='fluoroscopic_guidance']")
        assert page.eval("document.body.className") == ""

        page.click("button.copy")
        page.wait_for("document.querySelector('button.copy').textContent === 'Copied'", 10)
    finally:
        cdp.close()
