"""The HTML review report (doc_checker.io.report): escaping, highlights, summary, groups, structure.

No browser here: the page is parsed with html.parser. tests/test_report_browser.py renders it.
"""

import base64
import hashlib
import io
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from doc_checker.io.report import write_html
from doc_checker.result import (
    CheckResult,
    ElementResult,
    ErrorRecord,
    Evidence,
    Finding,
    IgnoredMention,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notes"

XSS_NOTE = (
    "INDICATION: right hip pain <script>alert(1)</script> to evaluate for septic arthritis.\n"
    "PROCEDURE: Under fluoroscopic guidance a 22 gauge needle was advanced into the right hip "
    "joint. 2 mL of contrast was injected confirming intra-articular position. 10 mL of fluid "
    "was aspirated. Images saved to PACS."
)
XSS_META = {"physician": "<img src=x onerror=alert(2)>", "payer": 'A&B "quoted"'}
ERROR_SECRET = "SECRET NOTE TEXT THAT MUST NOT APPEAR"
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class PageParser(HTMLParser):
    """Checks balance and records what the tests look at.

    For every ``<pre class="note-text">``: its text and, per character, the classes of the marks
    and spans around it (so evidence offsets can be checked against the rendered note).
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problems = []
        self.start_tags = Counter()
        self.ids = Counter()
        self.hrefs = []
        self.notes = {}  # section id -> {"text": str, "classes": [set per char]}
        self.section = None
        self.in_pre = False
        self.pre_stack = []  # classes of open inline elements inside the pre
        self.script_text = []
        self.style_text = []
        self.csp = None
        self.in_tag = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.start_tags[tag] += 1
        if "id" in a:
            self.ids[a["id"]] += 1
        if tag == "a" and a.get("href", "").startswith("#"):
            self.hrefs.append(a["href"][1:])
        if tag == "meta" and a.get("http-equiv", "").lower() == "content-security-policy":
            self.csp = a.get("content")
        if tag == "section" and "note" in (a.get("class") or "").split():
            self.section = a["id"]
        if tag == "pre" and "note-text" in (a.get("class") or "").split():
            self.in_pre = True
            self.notes[self.section] = {"text": "", "classes": []}
        elif self.in_pre:
            self.pre_stack.append(set((a.get("class") or "").split()))
        if tag in ("script", "style"):
            self.in_tag = tag
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.start_tags[tag] += 1
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] += 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag == "pre" and self.in_pre:
            self.in_pre = False
        elif self.in_pre:
            self.pre_stack.pop()
        if tag in ("script", "style"):
            self.in_tag = None

    def handle_data(self, data):
        if self.in_tag == "script":
            self.script_text.append(data)
        elif self.in_tag == "style":
            self.style_text.append(data)
        if self.in_pre:
            note = self.notes[self.section]
            classes = set().union(*self.pre_stack) if self.pre_stack else set()
            note["text"] += data
            note["classes"].extend([classes] * len(data))


def parse(html: str) -> PageParser:
    p = PageParser()
    p.feed(html)
    p.close()
    return p


def render(items, **kwargs) -> str:
    buf = io.StringIO()
    write_html(items, buf, **kwargs)
    return buf.getvalue()


@pytest.fixture(scope="module")
def batch(checker):
    """(items, html) for three fixture notes, a note with markup in it and an error record."""
    items = []
    meta = {
        "fx001": {"physician": "Dr A", "payer": "X"},
        "fx011": {"physician": "Dr B", "payer": "Y"},
        "fx029": {"physician": "Dr A", "payer": "Y"},
    }
    for nid, m in meta.items():
        text = (FIXTURES / f"{nid}.txt").read_text(encoding="utf-8")
        # fx001 with its claim: 77002 billed alone gives a claim finding (ADDON_WITHOUT_PRIMARY).
        codes = "77002" if nid == "fx001" else None
        items.append((checker.check(text, note_id=nid, meta=m, codes=codes), text))
    items.append((checker.check(XSS_NOTE, note_id="xss<1>", meta=XSS_META), XSS_NOTE))
    items.append(
        (
            ErrorRecord(
                note_id="n7",
                code="empty",
                message="the note is empty or only whitespace",
                position=6,
                meta={"physician": "Dr B", "payer": "X"},
            ),
            ERROR_SECRET,
        )
    )
    # A generator: the report reads its items once.
    html = render((pair for pair in items), group_by="physician", title="Batch <7>")
    return items, html


@pytest.fixture(scope="module")
def page(batch):
    return parse(batch[1])


def sections_by_note_id(batch, page):
    """note_id -> (result, text, rendered note) following the worklist links."""
    items, html = batch
    out = {}
    for result, text in items:
        if not result.ok:
            continue
        m = re.search(
            r'<section class="note" id="([^"]+)"[^>]*>.{0,400}?<h3>'
            + re.escape(html_escape(result.note_id))
            + "</h3>",
            html,
            re.S,
        )
        assert m, result.note_id
        out[result.note_id] = (result, text, page.notes[m.group(1)])
    return out


def html_escape(s):
    import html

    return html.escape(s, quote=True)


def test_page_is_balanced_with_unique_ids_and_resolvable_links(page):
    assert page.problems == []
    assert page.stack == []
    dupes = [i for i, n in page.ids.items() if n > 1]
    assert dupes == []
    assert set(page.hrefs) <= set(page.ids), set(page.hrefs) - set(page.ids)


def test_note_text_round_trips_and_markup_is_escaped(batch, page):
    items, html = batch
    # Only our own script element; no <img> from the metadata; the note's script is text.
    assert page.start_tags["script"] == 1
    assert page.start_tags["img"] == 0
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in re.sub(r"<[^>]+>", "", html)
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "A&amp;B &quot;quoted&quot;" in html
    assert "<title>Batch &lt;7&gt;</title>" in html
    for _, text, rendered in sections_by_note_id(batch, page).values():
        assert rendered["text"] == text  # the note shows exactly, character for character
    assert ERROR_SECRET not in html


def test_every_evidence_span_is_inside_a_mark_of_its_element(batch, page):
    checked = 0
    for result, text, rendered in sections_by_note_id(batch, page).values():
        classes = rendered["classes"]
        for name, el in result.elements.items():
            for ev in el.evidence:
                assert text[ev.start : ev.end] == ev.text
                for pos in range(ev.start, ev.end):
                    assert f"el-{name}" in classes[pos] and "ev" in classes[pos], (
                        result.note_id,
                        name,
                        ev.text,
                        pos,
                    )
                checked += 1
            for m in el.ignored:
                for pos in range(m.start, m.end):
                    assert "ign" in classes[pos], (result.note_id, name, m.text)
        # Characters outside every evidence span carry no element class.
        covered = {
            p
            for el in result.elements.values()
            for ev in el.evidence
            for p in range(ev.start, ev.end)
        }
        for pos, cls in enumerate(classes):
            if pos not in covered:
                assert not any(c.startswith("el-") for c in cls), (result.note_id, pos)
    assert checked > 10


def test_ignored_mentions_carry_their_reason(batch):
    items, html = batch
    fx029 = next(r for r, _ in items if r.note_id == "fx029")
    assert fx029.elements["non_spinal_site"].ignored
    assert re.search(
        r'<span class="ign" title="Not counted - [^"]*Non spinal site: spinal site', html
    )
    assert "<i>spinal site</i>" in html


def test_summary_counts(batch):
    items, html = batch
    verdicts = Counter(r.verdict for r, _ in items if r.ok)
    for v in ("supported", "incomplete", "not_supported"):
        assert f'data-verdict="{v}" data-count="{verdicts.get(v, 0)}"' in html
    assert 'data-verdict="error" data-count="1"' in html
    assert f'data-count-notes="{len(items)}"' in html
    # The missing-elements chart: one bar per required element, sorted by how often it is missing.
    missing = Counter(m for r, _ in items if r.ok for m in r.missing)
    assert missing  # fx011 lacks an indication, fx029 a non-spinal site
    chart = html.split('aria-label="Most often missing required elements"', 1)[1]
    chart = chart.split("</svg>", 1)[0]
    labels = re.findall(r'class="lbl">([^<]+)</text>', chart)
    top = max(missing.values())
    assert labels[0] in {n.replace("_", " ").capitalize() for n, c in missing.items() if c == top}
    for name, count in missing.items():
        assert f"{name.replace('_', ' ').capitalize()}: {count} of 4 notes" in chart


def test_group_by_output(batch):
    items, html = batch
    groups = {}
    for r, _ in items:
        g = groups.setdefault(
            r.meta["physician"], {"notes": 0, "errors": 0, "supported": 0, "missing": Counter()}
        )
        if r.ok:
            g["notes"] += 1
            g["supported"] += r.verdict == "supported"
            g["missing"].update(r.missing)
        else:
            g["errors"] += 1
    rows = re.findall(
        r'<tr data-group="([^"]*)" data-notes="(\d+)" data-errors="(\d+)" '
        r'data-supported="(\d+)" data-top-missing="([^"]*)">',
        html,
    )
    assert len(rows) == len(groups)
    for name, notes, errors, supported, top in rows:
        key = {html_escape(k): k for k in groups}[name]
        g = groups[key]
        got = (int(notes), int(errors), int(supported))
        assert got == (g["notes"], g["errors"], g["supported"])
        if g["missing"]:
            assert g["missing"][top] == max(g["missing"].values())
        else:
            assert top == ""
    assert "<th>physician</th>" in html
    assert '<tr data-group="&lt;img src=x onerror=alert(2)&gt;"' in html
    # Without group_by there is no group table.
    assert "data-group=" not in render(items[:2])


def test_worklist_lowest_score_first_with_links_and_columns(batch, page):
    items, html = batch
    body = html.split('<table id="wl"', 1)[1].split("</table>", 1)[0]
    heads = re.findall(r'data-col="\d+">([^<]+)</button>', body)
    assert heads == [
        "note_id",
        "physician",
        "payer",
        "score",
        "verdict",
        "suggested code",
        "billed codes",
        "missing elements",
        "findings",
    ]
    scores = [float(s) for s in re.findall(r'<td class="num" data-v="([\d.]+)">', body)]
    assert scores == sorted(scores) and len(scores) == 4
    assert len(re.findall(r"<tr data-verdict=", body)) == 4
    for r, _ in items:
        if r.ok:
            for f in [*r.findings, *getattr(r, "claim_findings", [])]:
                assert f"<code>{f.code}</code>" in body
    # Filter buttons, one per verdict, and the copy buttons of the queries.
    for v in ("all", "supported", "incomplete", "not_supported"):
        assert f'data-verdict="{v}" aria-pressed=' in html
    n_queries = sum(len(r.queries) for r, _ in items if r.ok)
    assert n_queries and html.count('class="copy" data-copy=') == n_queries


def test_errors_listed_without_text(batch):
    _, html = batch
    section = html.split('<section id="errors">', 1)[1].split("</section>", 1)[0]
    assert "<td>n7</td>" in section and "<code>empty</code>" in section
    assert "the note is empty or only whitespace" in section


def test_csp_allows_exactly_our_inline_script_and_style(page):
    csp = page.csp
    assert csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "http" not in csp

    def digest(text):
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {digest(''.join(page.script_text))}" in csp
    assert f"style-src {digest(''.join(page.style_text))}" in csp


def _el(status="present", required=True, evidence=(), ignored=()):
    return ElementResult(
        status=status, required=required, evidence=list(evidence), ignored=list(ignored)
    )


def test_overlapping_and_bad_spans_still_give_valid_html():
    note = "Needle into <the> hip joint & contrast injected."
    ev = lambda s, e: Evidence(note[s:e], s, e)  # noqa: E731
    result = CheckResult(
        note_id="ov",
        score=50.0,
        verdict="incomplete",
        suggested_code="77002",
        elements={
            "needle_placement": _el(evidence=[ev(0, 27)]),
            "non_spinal_site": _el(evidence=[ev(18, 27), ev(12, 23)]),  # overlapping, crossing
            "contrast_confirmation": _el(
                evidence=[ev(24, 48)],
                ignored=[IgnoredMention(note[20:40], 20, 40, None, "negated")],
            ),
            "indication": _el(status="missing", evidence=[Evidence("not in note", 3, 14)]),
        },
        findings=[Finding("ADDON_WITHOUT_PRIMARY", "error", "No primary <procedure> code.")],
        queries=["Please document <x>."],
        ruleset_version="t",
        profile="t",
    )
    html = render([(result, note)])
    p = parse(html)
    assert p.problems == [] and p.stack == []
    rendered = next(iter(p.notes.values()))
    assert rendered["text"] == note
    for name, el in result.elements.items():
        for e in el.evidence:
            if note[e.start : e.end] == e.text:
                assert all(f"el-{name}" in rendered["classes"][i] for i in range(e.start, e.end))
    assert all("ign" in rendered["classes"][i] for i in range(20, 40))
    # The span whose offsets do not match is listed, not placed.
    assert "offsets do not match" in html and "not in note" in html
    assert "<code>ADDON_WITHOUT_PRIMARY</code>" in html
    assert "No primary &lt;procedure&gt; code." in html
    assert "Please document &lt;x&gt;." in html
    # Every combination of overlapping elements has a band style.
    assert "mark.ev.el-needle_placement.el-non_spinal_site{" in html


def test_without_note_text_and_empty_batch():
    result = CheckResult(
        note_id="nt",
        score=100.0,
        verdict="supported",
        suggested_code="77002",
        elements={"indication": _el(evidence=[Evidence("<b>pain</b>", 0, 11)])},
        findings=[],
        queries=[],
        ruleset_version="t",
        profile="t",
    )
    html = render([(result, None)])
    assert "&lt;b&gt;pain&lt;/b&gt;" in html and "<b>pain</b>" not in html
    assert parse(html).problems == []
    empty = render([])
    p = parse(empty)
    assert p.problems == [] and p.stack == []
    assert 'data-count-notes="0"' in empty


def test_claim_findings_are_findings_like_the_others(batch):
    items, html = batch
    fx001 = next(r for r, _ in items if r.note_id == "fx001")
    claim = getattr(fx001, "claim_findings", None)
    if not claim:
        pytest.skip("this Checker does not check claims")
    codes = [f.code for f in claim]
    assert "ADDON_WITHOUT_PRIMARY" in codes
    row = re.search(r'<tr data-verdict="[^"]*" data-i="\d+"><td data-v="fx001">.*?</tr>', html)
    row = row.group(0)
    assert "<code>ADDON_WITHOUT_PRIMARY</code>" in row and "<td>77002</td>" in row
    section = html.split("<h3>fx001</h3>", 1)[1].split("</section>", 1)[0]
    for f in claim:
        assert f'<span class="sev">{f.severity}</span> <code>{f.code}</code>' in section
        assert html_escape(f.message) in section
    assert "ADDON_WITHOUT_PRIMARY" in html.split('aria-label="Most frequent findings"', 1)[1]


def test_note_text_kept_on_the_result_is_used(checker):
    text = (FIXTURES / "fx011.txt").read_text(encoding="utf-8")
    try:
        result = checker.check(text, note_id="kept", keep_text=True)
    except TypeError:
        pytest.skip("this Checker cannot keep the note text")
    p = parse(render([(result, None)]))
    assert next(iter(p.notes.values()))["text"] == text


def test_templates_and_assets_are_package_data():
    """Every template and static file of the report and the service page is listed as package
    data in pyproject.toml (so a wheel carries it), and nothing else sits in those folders."""
    tomllib = pytest.importorskip("tomllib")
    from fnmatch import fnmatch

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    packages = set(config["setuptools"]["packages"])
    package_data = config["setuptools"]["package-data"]
    files = [
        p
        for folder in ("io/templates", "io/static", "service/templates", "service/static")
        for p in (root / "doc_checker" / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert len(files) > 10
    for path in files:
        package = ".".join(path.parent.relative_to(root).parts)
        assert package in packages, package
        assert any(fnmatch(path.name, g) for g in package_data.get(package, ())), path


def test_indented_template_lines_join_and_values_are_escaped_as_before():
    """The report's templates: a line break after a tag, when the next line is indented, is not
    output; a line at the left margin is; values are escaped as html.escape does (never joined)."""
    import jinja2

    from doc_checker.io._templates import JoinIndentedLines, _finalize

    env = jinja2.Environment(autoescape=True, finalize=_finalize, extensions=[JoinIndentedLines])
    source = (
        "<ul>\n  {% for x in xs %}\n    <li>{{ x }}</li>\n  {% endfor %}\n  </ul>\n"
        "<p>next line</p>\n<p>{{ nothing }}</p>"
    )
    out = env.from_string(source).render(xs=["a\n  b", "<'\"&>"], nothing=None)
    assert out == (
        "<ul><li>a\n  b</li><li>&lt;&#x27;&quot;&amp;&gt;</li></ul>\n<p>next line</p>\n<p></p>"
    )


def test_findings_chart_ties_keep_first_seen_order():
    """Findings as often as each other are charted in the order first seen, whatever the hash
    seed (the report is the same bytes from run to run)."""
    codes = ["ZETA_CODE", "ALPHA_CODE", "MID_CODE", "BETA_CODE"]
    result = CheckResult(
        note_id="t",
        score=50.0,
        verdict="incomplete",
        suggested_code="77002",
        elements={"needle_placement": _el()},
        findings=[Finding(c, "info", "m") for c in codes],
        queries=[],
        ruleset_version="t",
        profile="t",
    )
    html = render([(result, "Needle.")])
    chart = html.split('aria-label="Most frequent findings"', 1)[1].split("</svg>", 1)[0]
    assert re.findall(r'class="lbl">([^<]+)</text>', chart) == codes


def test_each_note_shows_its_procedures_and_review_reasons(tmp_path):
    """The coder sees each frame (site, region and why) and why a note needs review."""
    from doc_checker import Checker
    from doc_checker.io.report import write_html

    spinal = (
        "Proc: R SI jt inj, fluoro\nNeedle: 22g spinal needle advanced into inferior R SI joint "
        "under fluoro\nContrast: Omnipaque 0.5 mL outlines SI jt\n"
    )
    ambiguous = (
        "Indication: CRPS.\nUnder fluoroscopy a 22-gauge needle was advanced to the stellate "
        "ganglion. Contrast confirmed the position and bupivacaine was injected.\n"
    )
    with Checker() as checker:
        outcomes = [
            checker.check(spinal, note_id="si", keep_text=True),
            checker.check(ambiguous, note_id="stellate", keep_text=True),
        ]
    out = tmp_path / "r.html"
    with out.open("w", encoding="utf-8") as fh:
        write_html(((o, o.text) for o in outcomes), fh)
    page = out.read_text(encoding="utf-8")
    assert page.count('<table class="procedures">') == 2
    assert "sacroiliac joint" in page and "<td>spinal</td>" in page
    assert 'class="review">review: site_ambiguous' in page


# Coders' decisions --------------------------------------------------------------------------
def _report_id(html: str) -> str:
    return re.search(r'<section id="decisions" data-report="([0-9a-f]{16})"', html).group(1)


def test_decision_controls_are_in_the_page_once_whatever_the_number_of_notes(batch, checker):
    """The bar and the form every note gets are <template>s cloned by the script: a large
    report carries them once, and each note only the data the script reads."""
    items, html = batch
    one = render([items[0]])
    for page_html in (one, html):
        assert page_html.count('<template id="decision-form">') == 1
        assert page_html.count('class="d-form"') == 1
        assert page_html.count('class="decision"') == 1
    assert "Your decisions" in html and 'id="d-export"' in html
    # what the script reads of each note: id, ruleset, code; each element's status
    fx011 = next(r for r, _ in items if r.note_id == "fx011")
    section = re.search(r'<section class="note" [^>]*data-note-id="fx011"[^>]*>', html).group(0)
    assert f'data-ruleset="{fx011.ruleset_version}"' in section
    assert 'data-code="77002"' in section and 'data-verdict="incomplete"' in section
    body = html.split(section, 1)[1].split("</section>", 1)[0]
    for name, el in fx011.elements.items():
        req = ' data-req="1"' if el.required else ""
        assert f'<tr data-el="{name}" data-status="{el.status}"{req}>' in body, name
    # a note id with markup is escaped in its attribute; the page counts the notes with an id
    assert 'data-note-id="xss&lt;1&gt;"' in html
    assert "0 of 4 notes decided" in html


def test_the_form_offers_exactly_what_a_decisions_file_may_hold(batch):
    from doc_checker.evaluation import decision_schema
    from doc_checker.result import ELEMENTS

    _, html = batch
    form = html.split('<template id="decision-form">', 1)[1].split("</template>", 1)[0]
    schema = decision_schema()["properties"]["expected"]["properties"]
    assert re.findall(r'<fieldset class="d-el" data-el="([^"]+)">', form) == list(ELEMENTS)
    assert list(ELEMENTS) == schema["elements"]["propertyNames"]["enum"]
    verdicts = re.findall(r'<option value="([^"]*)">', form.split('class="d-code"')[0])
    codes = re.findall(r'<option value="([^"]*)">', form.split('class="d-code"')[1])
    assert verdicts == schema["verdict"]["enum"]
    assert [c or None for c in codes] == schema["suggested_code"]["enum"]
    assert " id=" not in form  # cloned once per note: an id would repeat


def test_a_note_without_an_id_gets_no_decision(checker):
    text = (FIXTURES / "fx001.txt").read_text(encoding="utf-8")
    html = render([(checker.check(text), text), (checker.check(text, note_id="a"), text)])
    assert html.count("data-note-id=") == 1 and "0 of 1 notes decided" in html


def test_the_report_identity_follows_its_notes_and_results(batch, checker):
    """Decisions are kept in the browser by the report's identity: the same results give the
    same identity (a re-written report finds its decisions), other notes or another answer of
    the checker another (reports do not share decisions)."""
    items, html = batch
    assert _report_id(render(items, title="another title")) == _report_id(html)
    assert _report_id(render(items[1:])) != _report_id(html)
    changed = [(r, t) for r, t in items]
    first, text = changed[0]
    other = CheckResult(**{**first.__dict__, "suggested_code": "77003", "verdict": "not_supported"})
    changed[0] = (other, text)
    assert _report_id(render(changed)) != _report_id(html)
