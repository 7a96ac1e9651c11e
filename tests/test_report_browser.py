"""The HTML report rendered by headless Chromium: highlights and worklist in the DOM, our script
runs under the page's Content-Security-Policy, a script inside a note does not.

Needs Chromium (Debian package ``chromium``). Without it the tests are skipped, unless
DOC_CHECKER_REQUIRE_CHROMIUM=1 (CI) where a missing browser is a failure.
"""

import json
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


# ---------------------------------------------------------------------------------------------
# Coders' decisions: mark, reload, export, and the exported file read back by `evaluate`
# ---------------------------------------------------------------------------------------------
DECIDED = ("fx001", "fx011", "fx029", "fx030")
READY = "document.documentElement.getAttribute('data-js') === 'ready'"


def _decisions_report(checker, directory: Path, ids) -> Path:
    items = []
    for nid in ids:
        text = (FIXTURES / f"{nid}.txt").read_text(encoding="utf-8")
        items.append((checker.check(text, note_id=nid), text))
    path = directory / "report.html"
    with path.open("w", encoding="utf-8") as fh:
        write_html(items, fh)
    return path


def _anchor(page: Page, note_id: str) -> str:
    return "#" + page.eval(f"document.querySelector('section[data-note-id=\"{note_id}\"]').id")


def _bar(page: Page, anchor: str):
    return page.eval(
        f"(function(){{var b=document.querySelector('{anchor} .decision');"
        "return [b.getAttribute('data-state'), b.querySelector('.d-summary').textContent];})()"
    )


def _choose(page: Page, selector: str, value: str) -> None:
    """Pick an option of a <select> as a coder does with the keyboard: focus it, arrow keys."""
    page.eval(f"document.querySelector('{selector}').focus()")
    options = page.eval(
        f"Array.prototype.map.call(document.querySelector('{selector}').options,"
        " function (o) { return o.value; })"
    )
    at = page.eval(f"document.querySelector('{selector}').selectedIndex")
    target = options.index(value)
    for _ in range(abs(target - at)):
        page.press("ArrowDown" if target > at else "ArrowUp")
    assert page.eval(f"document.querySelector('{selector}').value") == value


def _wait_download(folder: Path, timeout: float = 30.0) -> Path:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == ".jsonl"]
        if done:
            return done[0]
        time.sleep(0.1)
    raise TimeoutError(f"no download in {folder}")


def test_decisions_marked_kept_over_a_reload_exported_and_evaluated(
    browser, checker, tmp_path, capsys
):
    """A coder confirms one note, corrects an element (so the verdict) of another with a
    comment, corrects a third's code, comments a fourth without deciding, confirms and clears a
    fifth decision; reloads; exports. The file holds exactly the three decisions, validates
    against the schema, and `evaluate` on it disagrees exactly where the coder corrected."""
    import jsonschema

    from doc_checker.cli import main
    from doc_checker.evaluation import decision_schema

    notes = tmp_path / "notes"
    notes.mkdir()
    for nid in DECIDED:
        (notes / f"{nid}.txt").write_text(
            (FIXTURES / f"{nid}.txt").read_text(encoding="utf-8"), encoding="utf-8"
        )
    report = _decisions_report(checker, tmp_path, DECIDED)
    results = {
        nid: checker.check((notes / f"{nid}.txt").read_text(encoding="utf-8"), note_id=nid)
        for nid in DECIDED
    }
    assert results["fx001"].verdict == "supported"
    assert results["fx011"].missing == ["indication"] and results["fx011"].verdict == "incomplete"
    assert results["fx029"].suggested_code == "77003"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    cdp = CDP(browser, tmp_path)
    try:
        cdp.send(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
        )
        page = Page(cdp, report.as_uri(), ready=READY)
        progress = "document.getElementById('d-progress').textContent"
        assert page.eval(progress) == "0 of 4 notes decided (0 confirmed, 0 corrected)"
        page.type_into("#d-reviewer", "cm")
        a1, a11, a29, a30 = (_anchor(page, n) for n in DECIDED)

        page.click(f"{a1} .d-confirm")
        assert _bar(page, a1) == ["confirmed", ""]

        # by keyboard: open the form (the verdict gets the focus), mark indication present
        page.eval(f"document.querySelector('{a11} .d-edit').focus()")
        page.press("Enter")
        assert page.eval(f"document.querySelector('{a11} .d-edit').getAttribute('aria-expanded')")
        assert page.eval("document.activeElement.className") == "d-verdict"
        page.click(f"{a11} fieldset[data-el=indication] input[value=present]")
        # the verdict follows the corrected element as the checker's rule would
        assert page.eval(f"document.querySelector('{a11} .d-verdict').value") == "supported"
        page.type_into(f"{a11} .d-comment", 'indication is in the "history" <paragraph>')
        assert _bar(page, a11) == ["corrected", "verdict supported; indication present"]

        page.click(f"{a29} .d-edit")
        _choose(page, f"{a29} .d-code", "77012")
        assert _bar(page, a29) == ["corrected", "code 77012"]

        page.click(f"{a30} .d-confirm")
        page.click(f"{a30} .d-clear")
        assert _bar(page, a30)[0] == "none"
        page.click(f"{a30} .d-edit")
        page.type_into(f"{a30} .d-comment", "ask Dr B about the level")
        page.eval(f"document.querySelector('{a30} .d-comment').blur()")
        assert _bar(page, a30)[0] == "comment"
        assert page.eval(progress) == "3 of 4 notes decided (1 confirmed, 2 corrected)"
        # the worklist marks decided notes
        marked = page.eval(
            "Array.prototype.map.call(document.querySelectorAll('#wl tr[data-decision]'),"
            " function (r) { return [r.cells[0].textContent, r.getAttribute('data-decision')]; })"
        )
        assert sorted(marked) == [
            ["fx001", "confirmed"],
            ["fx011", "corrected"],
            ["fx029", "corrected"],
        ]

        page.reload(READY)
        assert page.eval(progress) == "3 of 4 notes decided (1 confirmed, 2 corrected)"
        assert _bar(page, a1) == ["confirmed", ""]
        assert _bar(page, a11) == ["corrected", "verdict supported; indication present"]
        assert _bar(page, a30)[0] == "comment"
        assert page.eval("document.getElementById('d-reviewer').value") == "cm"
        page.click(f"{a11} .d-edit")
        assert page.eval(f"document.querySelector('{a11} .d-comment').value") == (
            'indication is in the "history" <paragraph>'
        )
        assert page.eval(
            f"document.querySelector('{a11} fieldset[data-el=indication] input[value=present]')"
            ".checked"
        )
        report_id = page.eval("document.getElementById('decisions').getAttribute('data-report')")

        page.click("#d-export")
        exported = _wait_download(downloads)
        assert page.eval("document.getElementById('d-message').textContent") == (
            f"Exported 3 decisions to {exported.name}."
        )

        # a report of other notes does not share these decisions
        (tmp_path / "other").mkdir()
        other = _decisions_report(checker, tmp_path / "other", ("fx001", "fx011"))
        page2 = Page(cdp, other.as_uri(), ready=READY)
        assert page2.eval(progress) == "0 of 2 notes decided (0 confirmed, 0 corrected)"
    finally:
        cdp.close()

    assert exported.name.startswith(f"decisions-{report_id}-")
    lines = exported.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    validator = jsonschema.Draft202012Validator(decision_schema())
    for r in records:
        assert not list(validator.iter_errors(r)), r
    by_id = {r["note_id"]: r for r in records}
    assert len(lines) == 3 and set(by_id) == {"fx001", "fx011", "fx029"}  # fx030: comment only
    # in the report's order: the worklist's (lowest score first, then input order)
    assert [r["note_id"] for r in records] == sorted(
        by_id, key=lambda n: (results[n].score, DECIDED.index(n))
    )

    def checker_said(r):
        return {
            "verdict": r.verdict,
            "suggested_code": r.suggested_code,
            "elements": {n: el.status for n, el in r.elements.items()},
        }

    present = {n: {k: el.present for k, el in r.elements.items()} for n, r in results.items()}
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    for r in records:
        assert stamp.match(r.pop("decided_at")), r
    assert by_id["fx001"] == {
        "note_id": "fx001",
        "expected": {
            "elements": present["fx001"],
            "suggested_code": "77002",
            "verdict": "supported",
        },
        "ruleset_version": results["fx001"].ruleset_version,
        "comment": None,
        "reviewer": "cm",
        "report": report_id,
        "checker": checker_said(results["fx001"]),
    }
    assert by_id["fx011"] == {
        "note_id": "fx011",
        "expected": {
            "elements": {**present["fx011"], "indication": True},
            "suggested_code": "77002",
            "verdict": "supported",
        },
        "ruleset_version": results["fx011"].ruleset_version,
        "comment": 'indication is in the "history" <paragraph>',
        "reviewer": "cm",
        "report": report_id,
        "checker": checker_said(results["fx011"]),
    }
    assert by_id["fx029"] == {
        "note_id": "fx029",
        "expected": {
            "elements": present["fx029"],
            "suggested_code": "77012",
            "verdict": "not_supported",
        },
        "ruleset_version": results["fx029"].ruleset_version,
        "comment": None,
        "reviewer": "cm",
        "report": report_id,
        "checker": checker_said(results["fx029"]),
    }

    # report -> decisions file -> evaluate: the figures show exactly the corrections
    assert main(["evaluate", "--json", str(exported), "--notes", str(notes)]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["notes"] == 3 and ev["label_sources"] == {"decision": 3}
    assert ev["verdict_confusion"] == {
        "supported": {"supported": 1, "incomplete": 1},
        "not_supported": {"not_supported": 1},
    }
    assert ev["code_confusion"] == {"77002": {"77002": 2}, "77012": {"77003": 1}}
    assert ev["verdict_accuracy"] == round(2 / 3, 4) and ev["code_accuracy"] == round(2 / 3, 4)
    dis = {d["note_id"]: d for d in ev["disagreements"]}
    assert set(dis) == {"fx011", "fx029"}
    assert dis["fx011"]["verdict"] == {"gold": "supported", "predicted": "incomplete"}
    assert dis["fx011"]["indication"] == {"gold": True, "predicted": "missing"}
    assert dis["fx011"]["comment"] == 'indication is in the "history" <paragraph>'
    assert set(dis["fx011"]) == {"note_id", "where", "verdict", "indication", "comment"}
    assert set(dis["fx029"]) == {"note_id", "where", "suggested_code"}
    assert ev["elements"]["indication"]["fn"] == 1 and ev["elements"]["indication"]["notes"] == 3


def test_decisions_import_and_accessible_controls(browser, checker, tmp_path):
    """An exported file read back into a fresh browser restores the coder's answers (unknown
    notes and unreadable lines are counted, not applied); every control has a label and each
    element's radio buttons a fieldset with a legend."""
    from doc_checker.evaluation import make_decision

    report = _decisions_report(checker, tmp_path, ("fx001", "fx011"))
    fx011 = checker.check((FIXTURES / "fx011.txt").read_text(encoding="utf-8"), note_id="fx011")
    decision = make_decision(
        fx011, suggested_code="77012", comment="CT guided", decided_at="2026-12-01T18:00:00Z"
    )
    lines = [json.dumps(decision), json.dumps({**decision, "note_id": "elsewhere"}), "{not json"]
    path = tmp_path / "decisions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cdp = CDP(browser, tmp_path)
    try:
        page = Page(cdp, report.as_uri(), ready=READY)
        page.set_files("#d-import", [path])
        page.wait_for("document.getElementById('d-message').textContent !== ''", 10)
        assert page.eval("document.getElementById('d-message').textContent") == (
            "Imported 1 decision; 1 for notes not in this report; 1 unreadable line skipped."
        )
        a11 = _anchor(page, "fx011")
        assert _bar(page, a11) == ["corrected", "verdict not supported; code 77012"]
        page.click(f"{a11} .d-edit")
        form = f"document.querySelector('{a11} .d-form')"
        assert page.eval(f"{form}.querySelector('.d-code').value") == "77012"
        assert page.eval(f"{form}.querySelector('.d-comment').value") == "CT guided"
        assert page.eval(
            f"Array.prototype.every.call({form}.querySelectorAll('input, select, textarea'),"
            " function (e) { return e.closest('label') !== null && e.labels.length === 1; })"
        )
        legends = page.eval(
            f"Array.prototype.map.call({form}.querySelectorAll('fieldset.d-el'),"
            " function (f) { return f.querySelector('legend').textContent; })"
        )
        assert legends == [n.replace("_", " ").capitalize() for n in fx011.elements]
        assert page.eval(f"{form}.getAttribute('aria-label')") == (
            "Correct the checker on note fx011"
        )
        assert page.eval(
            f"document.querySelector('{a11} .d-edit').getAttribute('aria-controls')"
        ) == page.eval(f"{form}.id")
        # the import is kept like any decision
        page.reload(READY)
        assert _bar(page, a11)[0] == "corrected"
    finally:
        cdp.close()
