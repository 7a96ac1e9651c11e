"""A self-contained HTML review report: batch summary, sortable worklist, highlighted notes.

>>> with open("review.html", "w", encoding="utf-8") as fh:
...     write_html(((result, text) for result, text in pairs), fh, group_by="physician")

One file, no network and no external assets: inline CSS, inline SVG charts and a small inline
script, both allowed by hash in the page's Content-Security-Policy (nothing else may run or load).
Every piece of note text and metadata is HTML-escaped.

The batch summary needs every result before the first note is written, so the items are read once:
each note's detail section is rendered straight away into a spooled temporary file (in memory up
to a few MiB, on disk beyond) and only a small summary row per note is kept; the sections are then
copied to ``fh`` in worklist order. Note texts are never all held at once.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from typing import IO, Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..result import VERDICTS, CheckResult, ErrorRecord, Outcome

__all__ = ["write_html"]

# Element colours: (highlight background, chart / chip colour). Unknown elements (custom pattern
# sets) take the fallback colours in turn.
_ELEMENT_COLOURS: Dict[str, Tuple[str, str]] = {
    "indication": ("#fde68a", "#a16207"),
    "fluoroscopic_guidance": ("#bfdbfe", "#2563eb"),
    "needle_placement": ("#bbf7d0", "#16a34a"),
    "contrast_confirmation": ("#fbcfe8", "#db2777"),
    "non_spinal_site": ("#ddd6fe", "#7c3aed"),
    "primary_procedure": ("#fed7aa", "#ea580c"),
    "radiation_dose": ("#a5f3fc", "#0891b2"),
    "images_recorded": ("#d9f99d", "#65a30d"),
}
_FALLBACK_COLOURS: Tuple[Tuple[str, str], ...] = (
    ("#99f6e4", "#0d9488"),
    ("#fecdd3", "#e11d48"),
    ("#c7d2fe", "#4f46e5"),
    ("#fef08a", "#ca8a04"),
    ("#e9d5ff", "#9333ea"),
    ("#bae6fd", "#0284c7"),
)
_VERDICT_COLOURS = {
    "supported": "#16a34a",
    "incomplete": "#d97706",
    "not_supported": "#dc2626",
    "error": "#6b7280",
}
_VERDICT_LABELS = {
    "supported": "Supported",
    "incomplete": "Incomplete",
    "not_supported": "Not supported",
    "error": "Error",
}
_VERDICT_RANK = {"not_supported": 0, "incomplete": 1, "supported": 2}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_NO_GROUP = "(none)"
_SPOOL_MAX = 8 * 1024 * 1024


def _esc(value: Any) -> str:
    """Text or attribute value, HTML-escaped (quotes included)."""
    return escape("" if value is None else str(value), quote=True)


def _css_ident(name: str) -> str:
    """A class-name-safe form of an element name (the built-in names are unchanged)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name) or "x"


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _fmt_score(score: float) -> str:
    return f"{score:.1f}".rstrip("0").rstrip(".") if score % 1 else f"{score:.0f}"


@dataclass
class _Row:
    """What the summary and the worklist need of one checked note (no note text)."""

    index: int
    anchor: str
    note_id: Optional[str]
    meta: Dict[str, Any]
    score: float
    verdict: str
    suggested_code: Optional[str]
    missing: List[str]
    finding_codes: List[str]
    worst_severity: Optional[str]
    billed_codes: Optional[List[str]] = None


@dataclass
class _ErrorRow:
    index: int
    note_id: Optional[str]
    position: Optional[int]
    code: str
    message: str
    meta: Dict[str, Any]


@dataclass
class _Palette:
    """Element order (first seen) and colours; shared by every part of the page."""

    order: List[str] = field(default_factory=list)
    colours: Dict[str, Tuple[str, str]] = field(default_factory=dict)
    required: set = field(default_factory=set)

    def add(self, name: str, required: bool) -> None:
        if name not in self.colours:
            self.order.append(name)
            known = _ELEMENT_COLOURS.get(name)
            if known is None:
                n_unknown = sum(1 for e in self.order if e not in _ELEMENT_COLOURS) - 1
                known = _FALLBACK_COLOURS[n_unknown % len(_FALLBACK_COLOURS)]
            self.colours[name] = known
        if required:
            self.required.add(name)

    def bg(self, name: str) -> str:
        return self.colours.get(name, _FALLBACK_COLOURS[0])[0]

    def fg(self, name: str) -> str:
        return self.colours.get(name, _FALLBACK_COLOURS[0])[1]


# ---------------------------------------------------------------------------------------------
# Note text with highlighted evidence
# ---------------------------------------------------------------------------------------------


def _valid_span(note: str, start: Any, end: Any, text: str) -> bool:
    return (
        isinstance(start, int)
        and isinstance(end, int)
        and 0 <= start < end <= len(note)
        and note[start:end] == text
    )


def _highlight(note: str, result: CheckResult, combos: set) -> Tuple[str, List[Tuple[str, str]]]:
    """The note as HTML: one segment per stretch between span boundaries, each segment wrapped in
    one ``<mark class="ev el-a el-b">`` (evidence) and/or one ``<span class="ign">`` (mentions that
    did not count), so overlapping spans always give balanced tags.

    Returns the HTML and the (element, text) of spans whose offsets do not match the note.
    """
    events: List[Tuple[int, int, str, str]] = []  # (offset, +1/-1, kind, key)
    unplaced: List[Tuple[str, str]] = []
    for name, el in result.elements.items():
        for ev in el.evidence:
            if _valid_span(note, ev.start, ev.end, ev.text):
                events.append((ev.start, 1, "ev", name))
                events.append((ev.end, -1, "ev", name))
            else:
                unplaced.append((name, ev.text))
        for m in el.ignored:
            if _valid_span(note, m.start, m.end, m.text):
                key = f"{_label(name)}: {m.reason.replace('_', ' ')}"
                events.append((m.start, 1, "ign", key))
                events.append((m.end, -1, "ign", key))
    if not events:
        return _esc(note), unplaced
    order = {name: i for i, name in enumerate(result.elements)}
    events.sort(key=lambda e: (e[0], e[1]))
    active_ev: Counter = Counter()
    active_ign: Counter = Counter()
    parts: List[str] = []
    pos = 0
    i = 0
    while i < len(events):
        offset = events[i][0]
        if offset > pos:
            parts.append(_segment(note[pos:offset], active_ev, active_ign, order, combos))
            pos = offset
        while i < len(events) and events[i][0] == offset:
            _, delta, kind, key = events[i]
            counter = active_ev if kind == "ev" else active_ign
            counter[key] += delta
            if counter[key] <= 0:
                del counter[key]
            i += 1
    if pos < len(note):
        parts.append(_esc(note[pos:]))
    return "".join(parts), unplaced


def _segment(
    text: str, active_ev: Counter, active_ign: Counter, order: Dict[str, int], combos: set
) -> str:
    out = _esc(text)
    if active_ign:
        reasons = sorted(active_ign)
        out = (
            f'<span class="ign" title="{_esc("Not counted - " + "; ".join(reasons))}">{out}</span>'
        )
    if active_ev:
        names = sorted(active_ev, key=lambda n: order.get(n, 1_000))
        if len(names) > 1:
            combos.add(tuple(names))
        classes = " ".join(f"el-{_css_ident(n)}" for n in names)
        title = "Evidence: " + ", ".join(_label(n) for n in names)
        out = f'<mark class="ev {classes}" title="{_esc(title)}">{out}</mark>'
    return out


# ---------------------------------------------------------------------------------------------
# Per-note detail section
# ---------------------------------------------------------------------------------------------


def _status_badge(status: str) -> str:
    return f'<span class="status st-{_css_ident(status)}">{_esc(status)}</span>'


def _all_findings(result: CheckResult) -> List[Any]:
    """The note's findings and, when the claim was checked, the claim's (same shape)."""
    return list(result.findings) + list(getattr(result, "claim_findings", None) or [])


def _verdict_badge(verdict: str) -> str:
    return (
        f'<span class="verdict v-{_css_ident(verdict)}">'
        f"{_esc(_VERDICT_LABELS.get(verdict, verdict))}</span>"
    )


def _chip(name: str) -> str:
    return f'<span class="chip chip-{_css_ident(name)}">{_esc(_label(name))}</span>'


def _meta_dl(meta: Dict[str, Any]) -> str:
    if not meta:
        return ""
    items = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in meta.items())
    return f'<dl class="meta">{items}</dl>'


def _ignored_summary(ignored: Sequence[Any]) -> str:
    """Mentions that did not count, per reason, repeated words once with a count."""
    by_reason: Dict[str, Counter] = {}
    for m in ignored:
        by_reason.setdefault(m.reason, Counter())[m.text] += 1
    if not by_reason:
        return ""
    items = []
    for reason, texts in by_reason.items():
        words = ", ".join(
            f"<q>{_esc(t)}</q>" + (f" &times;{n}" if n > 1 else "") for t, n in texts.items()
        )
        items.append(f"<li><i>{_esc(reason.replace('_', ' '))}</i>: {words}</li>")
    return f'<ul class="ign-list">{"".join(items)}</ul>'


def _detail_section(row: _Row, result: CheckResult, note: Optional[str], combos: set) -> str:
    a = row.anchor
    h: List[str] = [f'<section class="note" id="{a}" data-verdict="{_esc(result.verdict)}">']
    h.append('<header class="note-head">')
    h.append(f"<h3>{_esc(result.note_id if result.note_id is not None else '(no id)')}</h3>")
    h.append(
        f'{_verdict_badge(result.verdict)}<span class="score">score '
        f"<b>{_esc(_fmt_score(result.score))}</b></span>"
        f'<span class="code">suggested code <b>{_esc(result.suggested_code or "none")}</b>'
        f"</span>"
    )
    if row.billed_codes is not None:
        h.append(
            f'<span class="code">billed <b>{_esc(", ".join(row.billed_codes) or "none")}</b></span>'
        )
    h.append('<a class="back" href="#worklist">back to worklist</a>')
    h.append("</header>")
    h.append(_meta_dl(result.meta))

    h.append('<div class="note-grid"><div class="note-side">')
    # Missing elements
    missing = result.missing
    h.append("<h4>Missing required elements</h4>")
    if missing:
        h.append('<ul class="chips">' + "".join(f"<li>{_chip(m)}</li>" for m in missing) + "</ul>")
    else:
        h.append('<p class="none">None: every required element is documented.</p>')
    # Findings
    h.append("<h4>Findings</h4>")
    findings = _all_findings(result)
    if findings:
        h.append('<ul class="findings">')
        for f in sorted(findings, key=lambda f: _SEVERITY_RANK.get(f.severity, 3)):
            h.append(
                f'<li class="sev-{_css_ident(f.severity)}"><span class="sev">'
                f"{_esc(f.severity)}</span> <code>{_esc(f.code)}</code> "
                f'<span class="msg">{_esc(f.message)}</span>'
            )
            if f.evidence:
                quotes = "".join(f"<q>{_esc(e.text)}</q>" for e in f.evidence)
                h.append(f'<div class="f-ev">{quotes}</div>')
            h.append("</li>")
        h.append("</ul>")
    else:
        h.append('<p class="none">No findings.</p>')
    # Draft physician queries
    h.append("<h4>Draft physician queries</h4>")
    if result.queries:
        h.append('<ol class="queries">')
        for qi, q in enumerate(result.queries):
            qid = f"{a}-q{qi}"
            h.append(
                f'<li><span class="q-text" id="{qid}">{_esc(q)}</span>'
                f'<button type="button" class="copy" data-copy="{qid}">Copy</button></li>'
            )
        h.append("</ol>")
    else:
        h.append('<p class="none">No query needed.</p>')
    # Element table
    h.append(
        '<h4>Elements</h4><table class="elements"><thead><tr><th>Element</th><th>Req.</th>'
        "<th>Status</th><th>Evidence</th><th>Not counted</th></tr></thead><tbody>"
    )
    for name, el in result.elements.items():
        ign_html = _ignored_summary(el.ignored)
        h.append(
            f"<tr><td>{_chip(name)}</td><td>{'yes' if el.required else 'no'}</td>"
            f'<td>{_status_badge(el.status)}</td><td class="num">{len(el.evidence)}</td>'
            f"<td>{ign_html}</td></tr>"
        )
    h.append("</tbody></table></div>")

    # Note text
    h.append('<div class="note-main"><h4>Note text</h4>')
    if note is None:
        h.append(
            '<p class="none">The note text was not supplied; evidence as recorded:</p>'
            '<ul class="ev-list">'
        )
        for name, el in result.elements.items():
            for ev in el.evidence:
                h.append(
                    f'<li>{_chip(name)} <mark class="ev el-{_css_ident(name)}">'
                    f"{_esc(ev.text)}</mark></li>"
                )
        h.append("</ul>")
    else:
        body, unplaced = _highlight(note, result, combos)
        h.append(f'<pre class="note-text">{body}</pre>')
        if unplaced:
            h.append(
                '<p class="warn">Evidence whose offsets do not match this text:</p>'
                '<ul class="ev-list">'
            )
            for name, text in unplaced:
                h.append(
                    f'<li>{_chip(name)} <mark class="ev el-{_css_ident(name)}">'
                    f"{_esc(text)}</mark></li>"
                )
            h.append("</ul>")
    h.append("</div></div></section>\n")
    return "".join(h)


# ---------------------------------------------------------------------------------------------
# Summary and charts (inline SVG)
# ---------------------------------------------------------------------------------------------


def _hbar_chart(
    rows: Sequence[Tuple[str, int, str]],
    total: int,
    *,
    label_w: int = 190,
    bar_w: int = 300,
    aria: str,
) -> str:
    """Horizontal bars: (label, count, colour); the bar length is count / total."""
    bh, gap = 20, 6
    height = max(1, len(rows)) * (bh + gap) + gap
    width = label_w + bar_w + 90
    out = [
        f'<svg class="chart" role="img" aria-label="{_esc(aria)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, count, colour) in enumerate(rows):
        y = gap + i * (bh + gap)
        share = count / total if total else 0.0
        w = round(bar_w * share, 1)
        pct = round(100 * share)
        tip = f"{label}: {count} of {total} notes ({pct}%)"
        out.append(
            f"<g><title>{_esc(tip)}</title>"
            f'<text x="{label_w - 8}" y="{y + bh - 6}" text-anchor="end" '
            f'class="lbl">{_esc(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bh}" '
            'class="track"></rect>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bh}" fill="{colour}"></rect>'
            f'<text x="{label_w + bar_w + 8}" y="{y + bh - 6}" class="val">'
            f"{count} ({pct}%)</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def _stacked_verdict_bar(counts: Counter, *, width: int = 160, height: int = 14) -> str:
    total = sum(counts.values())
    out = [
        f'<svg class="mini" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    desc = ", ".join(
        f"{_VERDICT_LABELS[v]} {counts.get(v, 0)}" for v in (*VERDICTS, "error") if counts.get(v, 0)
    )
    out.append(f"<title>{_esc(desc or 'no notes')}</title>")
    x = 0.0
    for v in (*VERDICTS, "error"):
        n = counts.get(v, 0)
        if not n or not total:
            continue
        w = width * n / total
        out.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" '
            f'fill="{_VERDICT_COLOURS[v]}"></rect>'
        )
        x += w
    out.append("</svg>")
    return "".join(out)


def _mini_missing_chart(
    missing: Counter, n_notes: int, elements: Sequence[str], palette: _Palette
) -> str:
    """One small vertical bar per required element: share of the group's notes missing it."""
    bw, gap, height = 12, 4, 30
    width = len(elements) * (bw + gap) + gap
    out = [
        f'<svg class="mini" role="img" width="{width}" height="{height + 2}" '
        f'viewBox="0 0 {width} {height + 2}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, name in enumerate(elements):
        n = missing.get(name, 0)
        share = n / n_notes if n_notes else 0.0
        h = round(height * share, 1)
        x = gap + i * (bw + gap)
        out.append(
            f"<g><title>{_esc(f'{_label(name)}: missing in {n} of {n_notes}')}</title>"
            f'<rect x="{x}" y="0" width="{bw}" height="{height}" class="track"></rect>'
            f'<rect x="{x}" y="{height - h}" width="{bw}" height="{h}" '
            f'fill="{palette.fg(name)}"></rect></g>'
        )
    out.append(
        f'<line x1="0" y1="{height + 1}" x2="{width}" y2="{height + 1}" class="axis"></line></svg>'
    )
    return "".join(out)


def _top_missing(missing: Counter, palette: _Palette) -> Optional[str]:
    if not missing:
        return None
    order = {n: i for i, n in enumerate(palette.order)}
    return min(missing, key=lambda n: (-missing[n], order.get(n, 1_000)))


def _summary(
    rows: List[_Row], errors: List[_ErrorRow], palette: _Palette, group_by: Optional[str]
) -> str:
    verdicts = Counter(r.verdict for r in rows)
    n_checked = len(rows)
    n_all = n_checked + len(errors)
    h: List[str] = ['<section id="summary"><h2>Batch summary</h2><div class="cards">']
    h.append(
        f'<div class="card" data-count-notes="{n_all}"><div class="n">{n_all}</div>'
        "<div>notes</div></div>"
    )
    for v in VERDICTS:
        n = verdicts.get(v, 0)
        pct = f"{round(100 * n / n_checked)}%" if n_checked else "-"
        h.append(
            f'<div class="card c-{v}" data-verdict="{v}" data-count="{n}">'
            f'<div class="n">{n}</div>'
            f'<div>{_esc(_VERDICT_LABELS[v])} <span class="pct">{pct}</span></div></div>'
        )
    h.append(
        f'<div class="card c-error" data-verdict="error" data-count="{len(errors)}">'
        f'<div class="n">{len(errors)}</div>'
        f"<div>could not be checked</div></div>"
    )
    mean = sum(r.score for r in rows) / n_checked if n_checked else None
    mean_text = _fmt_score(mean) if mean is not None else "-"
    h.append(
        f'<div class="card"><div class="n">{_esc(mean_text)}</div><div>mean score</div></div></div>'
    )
    all_verdicts = Counter(verdicts)
    if errors:
        all_verdicts["error"] = len(errors)
    h.append(
        f'<div class="verdict-bar">{_stacked_verdict_bar(all_verdicts, width=640, height=18)}</div>'
    )

    missing = Counter(m for r in rows for m in r.missing)
    req = [e for e in palette.order if e in palette.required or e in missing]
    h.append(
        '<div class="charts"><figure><figcaption>Most often missing required elements '
        f"(share of {n_checked} checked notes)</figcaption>"
    )
    if req:
        order = {n: i for i, n in enumerate(palette.order)}
        bars = sorted(req, key=lambda n: (-missing.get(n, 0), order[n]))
        h.append(
            _hbar_chart(
                [(_label(n), missing.get(n, 0), palette.fg(n)) for n in bars],
                n_checked,
                aria="Most often missing required elements",
            )
        )
    else:
        h.append('<p class="none">No checked notes.</p>')
    h.append("</figure>")
    findings = Counter(c for r in rows for c in set(r.finding_codes))
    if findings:
        top = findings.most_common(10)
        h.append("<figure><figcaption>Most frequent findings (notes with the finding)</figcaption>")
        h.append(
            _hbar_chart(
                [(c, n, "#64748b") for c, n in top],
                n_checked,
                label_w=260,
                aria="Most frequent findings",
            )
        )
        h.append("</figure>")
    h.append("</div>")

    if group_by is not None:
        h.append(_group_table(rows, errors, palette, group_by, req))
    h.append("</section>")
    return "".join(h)


def _group_key(meta: Dict[str, Any], group_by: str) -> str:
    value = meta.get(group_by) if meta else None
    return _NO_GROUP if value is None or value == "" else str(value)


def _group_table(
    rows: List[_Row], errors: List[_ErrorRow], palette: _Palette, group_by: str, elements: List[str]
) -> str:
    groups: Dict[str, Dict[str, Any]] = {}

    def g(key: str) -> Dict[str, Any]:
        return groups.setdefault(
            key, {"rows": 0, "errors": 0, "verdicts": Counter(), "missing": Counter(), "score": 0.0}
        )

    for r in rows:
        d = g(_group_key(r.meta, group_by))
        d["rows"] += 1
        d["verdicts"][r.verdict] += 1
        d["missing"].update(r.missing)
        d["score"] += r.score
    for e in errors:
        g(_group_key(e.meta, group_by))["errors"] += 1

    def pct_supported(d: Dict[str, Any]) -> float:
        return 100 * d["verdicts"].get("supported", 0) / d["rows"] if d["rows"] else -1.0

    keys = sorted(
        groups,
        key=lambda k: (
            pct_supported(groups[k]) if groups[k]["rows"] else 101,
            -groups[k]["rows"],
            k,
        ),
    )
    legend = "".join(
        f'<span class="key"><i class="sw sw-{_css_ident(n)}"></i>{_esc(_label(n))}</span>'
        for n in elements
    )
    h = [
        f'<section id="groups"><h3>By {_esc(group_by)}</h3>'
        '<p class="hint">Lowest share of supported notes first. Mini chart: share of the '
        f'group\'s notes missing each required element.</p><p class="legend small">{legend}</p>',
        '<table class="groups"><thead><tr>'
        f"<th>{_esc(group_by)}</th><th>Notes</th><th>Errors</th><th>% supported</th>"
        "<th>Mean score</th><th>Verdicts</th><th>Top missing element</th>"
        "<th>Missing by element</th></tr></thead><tbody>",
    ]
    for k in keys:
        d = groups[k]
        n = d["rows"]
        pct = f"{round(pct_supported(d))}%" if n else "-"
        mean = _fmt_score(d["score"] / n) if n else "-"
        top = _top_missing(d["missing"], palette)
        top_html = (
            f'{_chip(top)} <span class="small">({d["missing"][top]})</span>'
            if top
            else '<span class="none">-</span>'
        )
        verdicts = Counter(d["verdicts"])
        if d["errors"]:
            verdicts["error"] = d["errors"]
        h.append(
            f'<tr data-group="{_esc(k)}" data-notes="{n}" data-errors="{d["errors"]}" '
            f'data-supported="{d["verdicts"].get("supported", 0)}" '
            f'data-top-missing="{_esc(top or "")}">'
            f'<th scope="row">{_esc(k)}</th><td class="num">{n}</td>'
            f'<td class="num">{d["errors"]}</td><td class="num">{pct}</td>'
            f'<td class="num">{_esc(mean)}</td><td>{_stacked_verdict_bar(verdicts)}</td>'
            f"<td>{top_html}</td>"
            f"<td>{_mini_missing_chart(d['missing'], n, elements, palette)}</td></tr>"
        )
    h.append("</tbody></table></section>")
    return "".join(h)


# ---------------------------------------------------------------------------------------------
# Worklist and errors
# ---------------------------------------------------------------------------------------------


def _worklist(rows: List[_Row], meta_keys: List[str]) -> str:
    counts = Counter(r.verdict for r in rows)
    buttons = [
        f'<button type="button" class="filter active" data-verdict="all" '
        f'aria-pressed="true">All <span class="cnt">{len(rows)}</span></button>'
    ]
    for v in VERDICTS:
        buttons.append(
            f'<button type="button" class="filter f-{v}" data-verdict="{v}" '
            f'aria-pressed="false">{_esc(_VERDICT_LABELS[v])} '
            f'<span class="cnt">{counts.get(v, 0)}</span></button>'
        )
    h = [
        '<section id="worklist-section"><h2 id="worklist">Worklist</h2>',
        '<div class="toolbar" role="group" aria-label="Filter by verdict">',
        "".join(buttons),
        f'<span class="shown" id="shown">{len(rows)} of {len(rows)} notes shown</span></div>',
        '<p class="hint">Lowest score first. Click a column header to sort; click a note id to '
        "open its detail.</p>",
        '<table id="wl" class="worklist"><thead><tr>',
    ]
    billed = any(r.billed_codes is not None for r in rows)
    cols = [
        ("note_id", "text"),
        *[(k, "text") for k in meta_keys],
        ("score", "num"),
        ("verdict", "num"),
        ("suggested code", "text"),
        *([("billed codes", "text")] if billed else []),
        ("missing elements", "num"),
        ("findings", "num"),
    ]
    for i, (name, kind) in enumerate(cols):
        sort = ' aria-sort="ascending"' if name == "score" else ""
        h.append(
            f'<th data-type="{kind}"{sort}><button type="button" class="sort" '
            f'data-col="{i}">{_esc(name)}</button></th>'
        )
    h.append("</tr></thead><tbody>")
    for r in rows:
        nid = r.note_id if r.note_id is not None else "(no id)"
        cells = [f'<td data-v="{_esc(nid)}"><a href="#{r.anchor}">{_esc(nid)}</a></td>']
        for k in meta_keys:
            v = r.meta.get(k)
            cells.append(
                f'<td data-v="{_esc("" if v is None else v)}">{_esc("" if v is None else v)}</td>'
            )
        cells.append(f'<td class="num" data-v="{r.score}">{_esc(_fmt_score(r.score))}</td>')
        cells.append(
            f'<td data-v="{_VERDICT_RANK.get(r.verdict, 9)}">{_verdict_badge(r.verdict)}</td>'
        )
        cells.append(f"<td>{_esc(r.suggested_code or 'none')}</td>")
        if billed:
            codes = "" if r.billed_codes is None else ", ".join(r.billed_codes)
            cells.append(f"<td>{_esc(codes)}</td>")
        cells.append(
            f'<td data-v="{len(r.missing)}">' + " ".join(_chip(m) for m in r.missing) + "</td>"
        )
        fcodes = "".join(f"<code>{_esc(c)}</code> " for c in r.finding_codes)
        cells.append(f'<td data-v="{len(r.finding_codes)}" class="fcodes">{fcodes}</td>')
        h.append(
            f'<tr data-verdict="{_esc(r.verdict)}" data-i="{r.index}">' + "".join(cells) + "</tr>"
        )
    h.append("</tbody></table>")
    if not rows:
        h.append('<p class="none">No checked notes.</p>')
    h.append("</section>")
    return "".join(h)


def _error_list(errors: List[_ErrorRow], meta_keys: List[str]) -> str:
    if not errors:
        return ""
    head = "".join(f"<th>{_esc(k)}</th>" for k in meta_keys)
    h = [
        f'<section id="errors"><h2>Notes that could not be checked ({len(errors)})</h2>',
        f'<table class="errors"><thead><tr><th>note_id</th><th>position</th>{head}'
        "<th>error</th><th>message</th></tr></thead><tbody>",
    ]
    for e in errors:
        meta = "".join(f"<td>{_esc(e.meta.get(k, ''))}</td>" for k in meta_keys)
        h.append(
            f"<tr><td>{_esc(e.note_id if e.note_id is not None else '(no id)')}</td>"
            f'<td class="num">{_esc("" if e.position is None else e.position)}</td>{meta}'
            f"<td><code>{_esc(e.code)}</code></td><td>{_esc(e.message)}</td></tr>"
        )
    h.append("</tbody></table></section>")
    return "".join(h)


def _legend(palette: _Palette) -> str:
    items = "".join(
        f'<button type="button" class="key focus-btn" data-el="{_css_ident(n)}" '
        f'aria-pressed="false"><mark class="ev el-{_css_ident(n)}">{_esc(_label(n))}</mark>'
        "</button>"
        for n in palette.order
    )
    return (
        '<div class="legend" id="legend"><b>Evidence:</b> '
        + items
        + ' <span class="key"><span class="ign">not counted</span> (hover for the reason)'
        '</span> <span class="hint">Click an element to show only its evidence.</span></div>'
    )


# ---------------------------------------------------------------------------------------------
# CSS and script
# ---------------------------------------------------------------------------------------------

_BASE_CSS = """
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#fff;--soft:#f8fafc}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header.top{padding:14px 24px;border-bottom:1px solid var(--line);background:var(--soft)}
header.top h1{margin:0 0 4px;font-size:20px}
header.top p{margin:0;color:var(--muted)}
nav.toc{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);padding:6px 24px}
nav.toc a{margin-right:16px;color:#1d4ed8;text-decoration:none}
main{padding:0 24px 40px;max-width:1500px}
h2{font-size:18px;margin:26px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:18px 0 8px}
h4{font-size:13px;margin:14px 0 6px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.hint,.small{color:var(--muted);font-size:12px}
.none{color:var(--muted);font-style:italic}
.warn{color:#b45309}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 12px}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:120px;background:#fff}
.card .n{font-size:24px;font-weight:700}
.card .pct{color:var(--muted)}
.card.c-supported{border-left:5px solid #16a34a}.card.c-incomplete{border-left:5px solid #d97706}
.card.c-not_supported{border-left:5px solid #dc2626}.card.c-error{border-left:5px solid #6b7280}
.charts{display:flex;flex-wrap:wrap;gap:28px}
figure{margin:8px 0}
figcaption{font-weight:600;margin-bottom:4px}
svg .lbl,svg .val{font-size:12px;fill:#374151}
svg .track{fill:#f1f5f9}
svg .axis{stroke:#cbd5e1;stroke-width:1}
table{border-collapse:collapse;margin:6px 0}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.worklist{width:100%}
table.worklist tbody tr:hover{background:#f1f5f9}
table.worklist td.num{width:5em}
th button.sort{all:unset;cursor:pointer;font-weight:600}
th button.sort:focus-visible{outline:2px solid #2563eb}
th[aria-sort=ascending] button.sort::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending] button.sort::after{content:" \\25BC";font-size:10px}
.toolbar{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:4px 0}
button.filter,button.copy{border:1px solid #cbd5e1;background:#fff;border-radius:6px;padding:3px 10px;cursor:pointer;font:inherit}
button.filter.active{background:#1f2937;color:#fff;border-color:#1f2937}
button.filter .cnt{opacity:.75;margin-left:2px}
.shown{margin-left:10px;color:var(--muted)}
.verdict{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.v-supported{background:#16a34a}.v-incomplete{background:#d97706}.v-not_supported{background:#dc2626}
.status{font-size:12px;padding:0 6px;border-radius:8px;background:#e5e7eb}
.st-present{background:#dcfce7;color:#166534}.st-missing{background:#fee2e2;color:#991b1b}
.st-negated,.st-hypothetical,.st-historical{background:#fef3c7;color:#92400e}
.chip{display:inline-block;border-radius:4px;padding:0 6px;margin:1px 0;font-size:12px;border-left:4px solid #999;background:#f8fafc;white-space:nowrap}
.chips,.findings,.queries,.ev-list{margin:0;padding-left:18px}
.ign-list{margin:0;padding:0;list-style:none}
.ign-list q{font-style:normal}
.chips{list-style:none;padding:0}
.fcodes code{font-size:11px;background:#f1f5f9;border-radius:3px;padding:0 4px;margin-right:3px;white-space:nowrap}
.findings li{margin-bottom:4px}
.findings .sev{display:inline-block;font-size:11px;text-transform:uppercase;font-weight:700;padding:0 5px;border-radius:3px;background:#e5e7eb}
.sev-error .sev{background:#fee2e2;color:#991b1b}.sev-warning .sev{background:#fef3c7;color:#92400e}
.sev-info .sev{background:#dbeafe;color:#1e40af}
.f-ev q{display:block;color:var(--muted);font-size:12px}
.queries li{margin-bottom:6px}
button.copy{margin-left:8px;font-size:12px;padding:1px 8px}
button.copy.done{background:#dcfce7;border-color:#16a34a}
section.note{border:1px solid var(--line);border-radius:8px;margin:18px 0;padding:0 16px 12px;scroll-margin-top:40px}
section.note:target{box-shadow:0 0 0 3px #93c5fd}
.note-head{display:flex;flex-wrap:wrap;align-items:center;gap:12px;border-bottom:1px solid var(--line);padding:8px 0}
.note-head h3{margin:0;font-size:16px}
.note-head .back{margin-left:auto;font-size:12px}
dl.meta{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0}
dl.meta dt{color:var(--muted)}dl.meta dt::after{content:":"}
dl.meta dd{margin:0 0 0 -12px;font-weight:600}
.note-grid{display:grid;grid-template-columns:minmax(300px,440px) 1fr;gap:20px}
@media (max-width:900px){.note-grid{grid-template-columns:1fr}}
table.elements{font-size:12px;width:100%}
table.elements q{font-style:normal}
pre.note-text{white-space:pre-wrap;word-wrap:break-word;font:13px/1.9 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:0}
mark.ev{color:inherit;border-radius:2px;padding:1px 0}
.ign{text-decoration:underline dashed #b91c1c;text-decoration-thickness:2px;text-underline-offset:3px;cursor:help}
.legend{position:sticky;top:31px;z-index:4;background:#fff;padding:6px 0;border-bottom:1px solid var(--line)}
.legend .key,.legend button.key{margin-right:6px}
.legend.small{position:static;border:0}
button.key{all:unset;cursor:pointer;display:inline-block;margin:2px 6px 2px 0}
button.key[aria-pressed=true] mark{outline:2px solid #1f2937}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.key{white-space:nowrap}
table.groups td,table.groups th{vertical-align:middle}
table.errors code{font-size:12px}
@media print{nav.toc,.toolbar,button.copy,.legend{display:none}}
"""

_SCRIPT = r"""
(function () {
  'use strict';
  document.documentElement.setAttribute('data-js', 'ready');
  var table = document.getElementById('wl');
  var tbody = table ? table.tBodies[0] : null;
  var current = {col: -1, dir: 1, verdict: 'all'};

  function cellKey(row, col, num) {
    var c = row.cells[col];
    var v = c.getAttribute('data-v');
    if (v === null) { v = c.textContent; }
    if (num) { var n = parseFloat(v); return isNaN(n) ? Infinity : n; }
    return v.toLowerCase();
  }
  function sortBy(col, dir) {
    if (!tbody) { return; }
    var th = table.tHead.rows[0].cells[col];
    var num = th.getAttribute('data-type') === 'num';
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var ka = cellKey(a, col, num), kb = cellKey(b, col, num);
      if (ka < kb) { return -dir; }
      if (ka > kb) { return dir; }
      return (+a.getAttribute('data-i')) - (+b.getAttribute('data-i'));
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h, i) {
      if (i === col) { h.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); }
      else { h.removeAttribute('aria-sort'); }
    });
    current.col = col; current.dir = dir;
  }
  function filter(verdict) {
    if (!tbody) { return; }
    var shown = 0;
    Array.prototype.forEach.call(tbody.rows, function (r) {
      var hide = verdict !== 'all' && r.getAttribute('data-verdict') !== verdict;
      r.hidden = hide;
      if (!hide) { shown += 1; }
    });
    document.querySelectorAll('button.filter').forEach(function (b) {
      var on = b.getAttribute('data-verdict') === verdict;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    var s = document.getElementById('shown');
    if (s) { s.textContent = shown + ' of ' + tbody.rows.length + ' notes shown'; }
    current.verdict = verdict;
  }
  if (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (th.getAttribute('aria-sort') === 'ascending') { current.col = i; }
      var b = th.querySelector('button.sort');
      if (b) {
        b.addEventListener('click', function () {
          sortBy(i, current.col === i ? -current.dir : 1);
        });
      }
    });
  }
  document.querySelectorAll('button.filter').forEach(function (b) {
    b.addEventListener('click', function () { filter(b.getAttribute('data-verdict')); });
  });

  function copied(btn) {
    btn.classList.add('done'); btn.textContent = 'Copied';
    setTimeout(function () { btn.classList.remove('done'); btn.textContent = 'Copy'; }, 1500);
  }
  function fallbackCopy(text, btn) {
    var ta = document.createElement('textarea');
    ta.value = text; ta.setAttribute('readonly', '');
    ta.className = 'offscreen';
    document.body.appendChild(ta); ta.select();
    try { document.execCommand('copy'); copied(btn); } catch (e) { /* nothing to do */ }
    document.body.removeChild(ta);
  }
  document.querySelectorAll('button.copy').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var el = document.getElementById(btn.getAttribute('data-copy'));
      if (!el) { return; }
      var text = el.textContent;
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { copied(btn); },
          function () { fallbackCopy(text, btn); });
      } else { fallbackCopy(text, btn); }
    });
  });

  var focused = null;
  document.querySelectorAll('button.focus-btn').forEach(function (b) {
    b.addEventListener('click', function () {
      var el = b.getAttribute('data-el');
      if (focused) { document.body.classList.remove('focus-el-' + focused); }
      focused = focused === el ? null : el;
      document.body.classList.toggle('focus', focused !== null);
      if (focused) { document.body.classList.add('focus-el-' + focused); }
      document.querySelectorAll('button.focus-btn').forEach(function (o) {
        o.setAttribute('aria-pressed', o.getAttribute('data-el') === focused ? 'true' : 'false');
      });
    });
  });

  // A shareable view: report.html#worklist?verdict=incomplete&sort=3&dir=desc
  var m = /^#worklist\?(.*)$/.exec(location.hash);
  if (m && table) {
    var params = {};
    m[1].split('&').forEach(function (kv) {
      var p = kv.split('=');
      params[decodeURIComponent(p[0])] = decodeURIComponent(p[1] || '');
    });
    var col = parseInt(params.sort, 10);
    if (!isNaN(col) && col >= 0 && col < table.tHead.rows[0].cells.length) {
      sortBy(col, params.dir === 'desc' ? -1 : 1);
    }
    if (params.verdict) { filter(params.verdict); }
  }
})();
"""


def _css(palette: _Palette, combos: set) -> str:
    rules = [_BASE_CSS, "textarea.offscreen{position:fixed;left:-9999px;top:0}"]
    for n in palette.order:
        c = _css_ident(n)
        rules.append(
            f"mark.el-{c}{{background:{palette.bg(n)}}}"
            f".chip-{c}{{border-left-color:{palette.fg(n)}}}"
            f".sw-{c}{{background:{palette.fg(n)}}}"
        )
    # A segment that is evidence for several elements shows their colours as horizontal bands;
    # a rule with more classes is more specific, so the exact combination wins.
    for combo in sorted(combos, key=lambda c: (len(c), c)):
        sel = "".join(f".el-{_css_ident(n)}" for n in combo)
        k = len(combo)
        stops = ",".join(
            f"{palette.bg(n)} {100 * i / k:.2f}% {100 * (i + 1) / k:.2f}%"
            for i, n in enumerate(combo)
        )
        rules.append(f"mark.ev{sel}{{background:linear-gradient(to bottom,{stops})}}")
    rules.append("body.focus mark.ev{background:transparent!important}")
    for n in palette.order:  # after the band rules: in focus mode only the chosen colour shows
        c = _css_ident(n)
        rules.append(
            f"body.focus.focus-el-{c} mark.ev.el-{c}{{background:{palette.bg(n)}!important}}"
        )
    return "\n".join(rules)


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def write_html(
    items: Iterable[Tuple[Outcome, Optional[str]]],
    fh: IO[str],
    *,
    group_by: Optional[str] = None,
    title: str = "doc-checker review",
) -> None:
    """Write one self-contained HTML review of ``items`` to ``fh``.

    ``items`` are ``(outcome, note_text)`` pairs: a ``CheckResult`` with its note (``None``
    shows the evidence without the note) or an ``ErrorRecord`` (its text, if any, is never
    shown). ``group_by`` names a ``meta`` key: the summary then also reports per value of it.
    """
    palette = _Palette()
    combos: set = set()
    rows: List[_Row] = []
    errors: List[_ErrorRow] = []
    meta_keys: List[str] = []
    seen_keys: set = set()
    rulesets: Dict[str, None] = {}
    profiles: Dict[str, None] = {}
    chunks: List[Tuple[int, int]] = []  # (offset, length) of each note's section in the spool

    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX, mode="w+b") as spool:
        for index, (outcome, note) in enumerate(items):
            meta = dict(getattr(outcome, "meta", None) or {})
            for k in meta:
                if k not in seen_keys:
                    seen_keys.add(k)
                    meta_keys.append(str(k))
            if isinstance(outcome, ErrorRecord) or not getattr(outcome, "ok", False):
                errors.append(
                    _ErrorRow(
                        index,
                        outcome.note_id,
                        getattr(outcome, "position", None),
                        str(getattr(outcome, "code", "error")),
                        str(getattr(outcome, "message", "")),
                        meta,
                    )
                )
                continue
            result: CheckResult = outcome  # type: ignore[assignment]
            for name, el in result.elements.items():
                palette.add(name, el.required)
            rulesets[str(result.ruleset_version)] = None
            profiles[str(result.profile)] = None
            findings = _all_findings(result)
            worst = min(
                (f.severity for f in findings), key=lambda s: _SEVERITY_RANK.get(s, 3), default=None
            )
            billed = getattr(result, "billed_codes", None)
            row = _Row(
                index=len(rows),
                anchor=f"note-{len(rows) + 1}",
                note_id=result.note_id,
                meta=meta,
                score=float(result.score),
                verdict=result.verdict,
                suggested_code=result.suggested_code,
                missing=list(result.missing),
                finding_codes=[f.code for f in findings],
                worst_severity=worst,
                billed_codes=None if billed is None else [str(c) for c in billed],
            )
            rows.append(row)
            if note is None:
                note = getattr(result, "text", None)
            data = _detail_section(row, result, note, combos).encode("utf-8")
            note = None
            chunks.append((spool.tell(), len(data)))
            spool.write(data)

        # Worklist order: lowest score first, then input order.
        ordered = sorted(rows, key=lambda r: (r.score, r.index))
        css = _css(palette, combos)
        script = _SCRIPT
        csp = (
            f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(css)}; "
            "img-src data:; base-uri 'none'; form-action 'none'"
        )
        sub = (
            f"{len(rows) + len(errors)} notes · ruleset {', '.join(rulesets) or '-'} · "
            f"profile {', '.join(profiles) or '-'}"
            + (f" · grouped by {group_by}" if group_by else "")
        )

        fh.write('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
        fh.write(f'<meta http-equiv="Content-Security-Policy" content="{_esc(csp)}">\n')
        fh.write('<meta name="viewport" content="width=device-width, initial-scale=1">\n')
        fh.write('<meta name="referrer" content="no-referrer">\n')
        fh.write(f"<title>{_esc(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n")
        fh.write(f'<header class="top"><h1>{_esc(title)}</h1><p>{_esc(sub)}</p></header>\n')
        fh.write(
            '<nav class="toc"><a href="#summary">Summary</a><a href="#worklist">Worklist</a>'
            '<a href="#notes">Notes</a>'
            + ('<a href="#errors">Errors</a>' if errors else "")
            + "</nav>\n<main>\n"
        )
        fh.write(_summary(rows, errors, palette, group_by) + "\n")
        fh.write(_worklist(ordered, meta_keys) + "\n")
        fh.write(_error_list(errors, meta_keys) + "\n")
        fh.write('<section id="notes"><h2>Notes</h2>\n')
        fh.write(_legend(palette) + "\n")
        for r in ordered:
            offset, length = chunks[r.index]
            spool.seek(offset)
            fh.write(spool.read(length).decode("utf-8"))
        fh.write("</section>\n</main>\n")
        fh.write(f"<script>{script}</script>\n</body>\n</html>\n")
