"""A self-contained HTML review report: batch summary, sortable worklist, highlighted notes.

>>> with open("review.html", "w", encoding="utf-8") as fh:
...     write_html(((result, text) for result, text in pairs), fh, group_by="physician")

One file, no network and no external assets: inline CSS, inline SVG charts and a small inline
script, both allowed by hash in the page's Content-Security-Policy (nothing else may run or load).

This module builds plain data (named tuples, lists and dicts); the markup is in Jinja2 templates
and the CSS and JavaScript in static files, all package data (``templates/report/page.html.j2``
and the partials it imports, ``static/report/``); only the colour rules of the elements on the
page are made here. Autoescape is on: every piece of note text and metadata is HTML-escaped.

The batch summary needs every result before the first note is written, so the items are read once:
each note's detail section is rendered straight away into a spooled temporary file (in memory up
to a few MiB, on disk beyond) and only a small summary row per note is kept; the sections are then
copied to ``fh`` in worklist order. Note texts are never all held at once.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import (
    IO,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Set,
    Tuple,
)

import jinja2
from markupsafe import Markup

from ..result import CODES, ELEMENTS, VERDICTS, CheckResult, ErrorRecord, Outcome
from ._templates import asset_text, csp_hash, environment

__all__ = ["write_html", "script_csp_hash"]

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
# The guidance codes as the decision form offers them ("" stands for no imaging guidance).
_CODE_LABELS = {
    "77002": "77002 fluoroscopy, needle placement (non-spinal)",
    "77003": "77003 fluoroscopy, spinal",
    "77001": "77001 fluoroscopy, venous access",
    "77012": "77012 CT",
    "76942": "76942 ultrasound",
    "77021": "77021 MR",
    "": "none (no imaging guidance)",
}
_VERDICT_RANK = {"not_supported": 0, "incomplete": 1, "supported": 2}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_NO_GROUP = "(none)"
_SPOOL_MAX = 8 * 1024 * 1024
_STYLESHEET = "report/report.css"
# The report's script: one module per feature in static/report/, each self-contained (they share
# nothing but the page), inlined in this order as one <script> allowed by one hash.
_SCRIPT_MODULES = ("worklist.js", "copy.js", "focus.js", "decisions.js", "ready.js")


def _css_ident(name: str) -> str:
    """A class-name-safe form of an element name (the built-in names are unchanged)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name) or "x"


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _fmt_score(score: float) -> str:
    return f"{score:.1f}".rstrip("0").rstrip(".") if score % 1 else f"{score:.0f}"


def _verdict_label(verdict: str) -> str:
    return _VERDICT_LABELS.get(verdict, verdict)


@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    """The report's templates (made on first use). The small macros of ``report/_macros.html.j2``
    are globals of every template, memoized: they take one name and are called for every element
    of every note."""
    env = environment(
        "doc_checker.io",
        join_indented_lines=True,
        filters={
            "css_ident": _css_ident,
            "label": _label,
            "score": _fmt_score,
            "verdict_label": _verdict_label,
        },
    )
    macros = env.get_template("report/_macros.html.j2").module
    env.globals.update(
        {
            name: lru_cache(maxsize=1024)(getattr(macros, name))
            for name in ("chip", "verdict_badge", "status_badge")
        }
    )
    return env


@lru_cache(maxsize=None)
def _parts(template: str) -> Any:
    """The macros of a partial template (``report/_note.html.j2`` ...), compiled once."""
    return _environment().get_template(template).module


@lru_cache(maxsize=None)
def _script() -> str:
    return "\n".join(asset_text(f"report/{name}") for name in _SCRIPT_MODULES)


@lru_cache(maxsize=None)
def script_csp_hash() -> str:
    """The CSP source that allows the report's inline script. A page that embeds the report in a
    ``srcdoc`` iframe must allow it too (the frame inherits the page's policy)."""
    return csp_hash(_script())


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


# What the templates show, per note and per worklist row. Named tuples, not dicts: the templates
# read their fields by name, and Jinja reads an attribute fastest (this is the report's hot path).


class _Segment(NamedTuple):
    """A stretch of note text between span boundaries: the classes and title of its ``<mark>``
    (the elements it is evidence for) and the title of its ``<span class="ign">`` (why mentions
    in it did not count), each ``None`` when it has none."""

    text: str
    mark: Optional[str]
    mark_title: Optional[str]
    ign: Optional[str]


class _ElementLine(NamedTuple):
    name: str
    required: bool
    status: str
    n_evidence: int
    ignored: List[Tuple[str, List[Tuple[str, int]]]]  # (reason, [(words, times)])


class _FindingLine(NamedTuple):
    severity: str
    code: str
    message: str
    quotes: List[str]


class _NoteView(NamedTuple):
    """One checked note's detail section (``report/_note.html.j2``)."""

    anchor: str
    verdict: str
    note_id: str
    decide: Optional[Tuple[str, str, str]]  # (note id, ruleset, code or ""): None, no id to export
    score: float
    suggested_code: str
    billed: Optional[str]
    meta: Dict[str, Any]
    missing: List[str]
    findings: List[_FindingLine]
    queries: List[Tuple[str, str]]  # (element id, query)
    elements: List[_ElementLine]
    text_given: bool
    segments: List[_Segment]
    evidence: List[Tuple[str, str]]  # (element, text) listed apart: no note, or not matching it
    procedures: List[Dict[str, Any]]  # the result's frames, as to_dict gives them
    review: List[str]  # why a person should look (empty: not needed)


class _WorkRow(NamedTuple):
    """One row of the worklist (``report/_worklist.html.j2``)."""

    anchor: str
    order: int  # input order among the checked notes (what sorting falls back on)
    note_id: str
    meta: List[Any]
    score: float
    verdict: str
    verdict_rank: int
    suggested_code: str
    billed: str
    missing: List[str]
    finding_codes: List[str]


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


def _highlight(
    note: str, result: CheckResult, combos: set
) -> Tuple[List[_Segment], List[Tuple[str, str]]]:
    """The note as segments, one per stretch between span boundaries. The template wraps each
    segment in one ``<mark>`` and/or one ``<span class="ign">``, so overlapping spans always give
    balanced tags.

    Returns the segments and the (element, text) of spans whose offsets do not match the note.
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
    order = {name: i for i, name in enumerate(result.elements)}
    events.sort(key=lambda e: (e[0], e[1]))
    active_ev: Counter = Counter()
    active_ign: Counter = Counter()
    segments: List[_Segment] = []
    pos = 0
    i = 0
    while i < len(events):
        offset = events[i][0]
        if offset > pos:
            segments.append(_segment(note[pos:offset], active_ev, active_ign, order, combos))
            pos = offset
        while i < len(events) and events[i][0] == offset:
            _, delta, kind, key = events[i]
            counter = active_ev if kind == "ev" else active_ign
            counter[key] += delta
            if counter[key] <= 0:
                del counter[key]
            i += 1
    if pos < len(note):
        segments.append(_Segment(note[pos:], None, None, None))
    return segments, unplaced


def _segment(
    text: str, active_ev: Counter, active_ign: Counter, order: Dict[str, int], combos: set
) -> _Segment:
    ign = "Not counted - " + "; ".join(sorted(active_ign)) if active_ign else None
    if not active_ev:
        return _Segment(text, None, None, ign)
    names = sorted(active_ev, key=lambda n: order.get(n, 1_000))
    if len(names) > 1:
        combos.add(tuple(names))
    classes = " ".join(f"el-{_css_ident(n)}" for n in names)
    return _Segment(text, classes, "Evidence: " + ", ".join(_label(n) for n in names), ign)


# ---------------------------------------------------------------------------------------------
# Per-note detail section
# ---------------------------------------------------------------------------------------------


def _all_findings(result: CheckResult) -> List[Any]:
    """The note's findings and, when the claim was checked, the claim's (same shape)."""
    return list(result.findings) + list(getattr(result, "claim_findings", None) or [])


def _ignored_summary(ignored: Sequence[Any]) -> List[Tuple[str, List[Tuple[str, int]]]]:
    """Mentions that did not count, per reason, repeated words once with a count."""
    by_reason: Dict[str, Counter] = {}
    for m in ignored:
        by_reason.setdefault(m.reason, Counter())[m.text] += 1
    return [(reason.replace("_", " "), list(texts.items())) for reason, texts in by_reason.items()]


def _note_view(row: _Row, result: CheckResult, note: Optional[str], combos: set) -> _NoteView:
    """What ``report/_note.html.j2`` shows of one checked note."""
    elements = result.elements.items()
    if note is None:
        segments: List[_Segment] = []
        evidence = [(name, ev.text) for name, el in elements for ev in el.evidence]
    else:
        segments, evidence = _highlight(note, result, combos)
    findings = sorted(_all_findings(result), key=lambda f: _SEVERITY_RANK.get(f.severity, 3))
    return _NoteView(
        anchor=row.anchor,
        verdict=result.verdict,
        note_id=result.note_id if result.note_id is not None else "(no id)",
        decide=None
        if not result.note_id
        else (result.note_id, str(result.ruleset_version), result.suggested_code or ""),
        score=result.score,
        suggested_code=result.suggested_code or "none",
        billed=None if row.billed_codes is None else ", ".join(row.billed_codes) or "none",
        meta=result.meta,
        missing=result.missing,
        findings=[
            _FindingLine(f.severity, f.code, f.message, [e.text for e in f.evidence])
            for f in findings
        ],
        queries=[(f"{row.anchor}-q{qi}", q) for qi, q in enumerate(result.queries)],
        elements=[
            _ElementLine(
                name, el.required, el.status, len(el.evidence), _ignored_summary(el.ignored)
            )
            for name, el in elements
        ],
        text_given=note is not None,
        segments=segments,
        evidence=evidence,
        procedures=list(result.procedures),
        review=list(result.review.reasons) if result.review.needed else [],
    )


# ---------------------------------------------------------------------------------------------
# Summary and charts (inline SVG): geometry here, markup in report/_charts.html.j2
# ---------------------------------------------------------------------------------------------


def _hbar_chart(
    rows: Sequence[Tuple[str, int, str]],
    total: int,
    *,
    label_w: int = 190,
    bar_w: int = 300,
    aria: str,
) -> Dict[str, Any]:
    """Horizontal bars: (label, count, colour); the bar length is count / total."""
    bh, gap = 20, 6
    bars = []
    for i, (label, count, colour) in enumerate(rows):
        y = gap + i * (bh + gap)
        share = count / total if total else 0.0
        pct = round(100 * share)
        bars.append(
            {
                "tip": f"{label}: {count} of {total} notes ({pct}%)",
                "label": label,
                "label_x": label_w - 8,
                "text_y": y + bh - 6,
                "x": label_w,
                "y": y,
                "track_w": bar_w,
                "h": bh,
                "w": round(bar_w * share, 1),
                "fill": colour,
                "value_x": label_w + bar_w + 8,
                "value": f"{count} ({pct}%)",
            }
        )
    return {
        "aria": aria,
        "width": label_w + bar_w + 90,
        "height": max(1, len(rows)) * (bh + gap) + gap,
        "bars": bars,
    }


def _stacked_verdict_bar(counts: Counter, *, width: int = 160, height: int = 14) -> Dict[str, Any]:
    total = sum(counts.values())
    desc = ", ".join(
        f"{_VERDICT_LABELS[v]} {counts.get(v, 0)}" for v in (*VERDICTS, "error") if counts.get(v, 0)
    )
    rects = []
    x = 0.0
    for v in (*VERDICTS, "error"):
        n = counts.get(v, 0)
        if not n or not total:
            continue
        w = width * n / total
        rects.append({"x": f"{x:.1f}", "w": f"{w:.1f}", "fill": _VERDICT_COLOURS[v]})
        x += w
    return {"width": width, "height": height, "desc": desc or "no notes", "rects": rects}


def _mini_missing_chart(
    missing: Counter, n_notes: int, elements: Sequence[str], palette: _Palette
) -> Dict[str, Any]:
    """One small vertical bar per required element: share of the group's notes missing it."""
    bw, gap, height = 12, 4, 30
    bars = []
    for i, name in enumerate(elements):
        n = missing.get(name, 0)
        share = n / n_notes if n_notes else 0.0
        h = round(height * share, 1)
        bars.append(
            {
                "tip": f"{_label(name)}: missing in {n} of {n_notes}",
                "x": gap + i * (bw + gap),
                "y": height - h,
                "w": bw,
                "h": h,
                "fill": palette.fg(name),
            }
        )
    return {"width": len(elements) * (bw + gap) + gap, "height": height, "bars": bars}


def _top_missing(missing: Counter, palette: _Palette) -> Optional[str]:
    if not missing:
        return None
    order = {n: i for i, n in enumerate(palette.order)}
    return min(missing, key=lambda n: (-missing[n], order.get(n, 1_000)))


def _summary(
    rows: List[_Row], errors: List[_ErrorRow], palette: _Palette, group_by: Optional[str]
) -> Dict[str, Any]:
    verdicts = Counter(r.verdict for r in rows)
    n_checked = len(rows)
    cards = []
    for v in VERDICTS:
        n = verdicts.get(v, 0)
        cards.append(
            {
                "verdict": v,
                "count": n,
                "pct": f"{round(100 * n / n_checked)}%" if n_checked else "-",
            }
        )
    all_verdicts = Counter(verdicts)
    if errors:
        all_verdicts["error"] = len(errors)

    missing = Counter(m for r in rows for m in r.missing)
    req = [e for e in palette.order if e in palette.required or e in missing]
    missing_chart = None
    if req:
        order = {n: i for i, n in enumerate(palette.order)}
        bars = sorted(req, key=lambda n: (-missing.get(n, 0), order[n]))
        missing_chart = _hbar_chart(
            [(_label(n), missing.get(n, 0), palette.fg(n)) for n in bars],
            n_checked,
            aria="Most often missing required elements",
        )
    # notes with each finding; ties in first-seen order (a set's order would change from run to run)
    findings = Counter(c for r in rows for c in dict.fromkeys(r.finding_codes))
    findings_chart = None
    if findings:
        findings_chart = _hbar_chart(
            [(c, n, "#64748b") for c, n in findings.most_common(10)],
            n_checked,
            label_w=260,
            aria="Most frequent findings",
        )
    return {
        "n_notes": n_checked + len(errors),
        "n_checked": n_checked,
        "n_errors": len(errors),
        "cards": cards,
        "mean": _fmt_score(sum(r.score for r in rows) / n_checked) if n_checked else "-",
        "verdict_bar": _stacked_verdict_bar(all_verdicts, width=640, height=18),
        "missing_chart": missing_chart,
        "findings_chart": findings_chart,
        "groups": None if group_by is None else _groups(rows, errors, palette, group_by, req),
    }


def _group_key(meta: Dict[str, Any], group_by: str) -> str:
    value = meta.get(group_by) if meta else None
    return _NO_GROUP if value is None or value == "" else str(value)


def _groups(
    rows: List[_Row], errors: List[_ErrorRow], palette: _Palette, group_by: str, elements: List[str]
) -> Dict[str, Any]:
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
    table = []
    for k in keys:
        d = groups[k]
        n = d["rows"]
        top = _top_missing(d["missing"], palette)
        verdicts = Counter(d["verdicts"])
        if d["errors"]:
            verdicts["error"] = d["errors"]
        table.append(
            {
                "key": k,
                "notes": n,
                "errors": d["errors"],
                "supported": d["verdicts"].get("supported", 0),
                "pct": f"{round(pct_supported(d))}%" if n else "-",
                "mean": _fmt_score(d["score"] / n) if n else "-",
                "top": top,
                "top_count": d["missing"][top] if top else 0,
                "verdict_bar": _stacked_verdict_bar(verdicts),
                "missing_chart": _mini_missing_chart(d["missing"], n, elements, palette),
            }
        )
    return {"group_by": group_by, "elements": elements, "rows": table}


# ---------------------------------------------------------------------------------------------
# Worklist, errors, stylesheet
# ---------------------------------------------------------------------------------------------


def _worklist(rows: List[_Row], meta_keys: List[str]) -> Dict[str, Any]:
    counts = Counter(r.verdict for r in rows)
    billed = any(r.billed_codes is not None for r in rows)
    columns = [
        ("note_id", "text"),
        *[(k, "text") for k in meta_keys],
        ("score", "num"),
        ("verdict", "num"),
        ("suggested code", "text"),
        *([("billed codes", "text")] if billed else []),
        ("missing elements", "num"),
        ("findings", "num"),
    ]
    return {
        "n_rows": len(rows),
        "filters": [(v, counts.get(v, 0)) for v in VERDICTS],
        "columns": columns,
        "billed": billed,
        "rows": [
            _WorkRow(
                anchor=r.anchor,
                order=r.index,
                note_id=r.note_id if r.note_id is not None else "(no id)",
                meta=[r.meta.get(k) for k in meta_keys],
                score=r.score,
                verdict=r.verdict,
                verdict_rank=_VERDICT_RANK.get(r.verdict, 9),
                suggested_code=r.suggested_code or "none",
                billed="" if r.billed_codes is None else ", ".join(r.billed_codes),
                missing=r.missing,
                finding_codes=r.finding_codes,
            )
            for r in rows
        ],
    }


def _stylesheet(palette: _Palette, combos: set) -> str:
    """The static stylesheet and, one per line, the rules for the elements on this page."""
    rules = [asset_text(_STYLESHEET).removesuffix("\n")]
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


def _identity_line(result: CheckResult) -> bytes:
    """What the report's identity hashes of one note: its id, ruleset and what the checker said
    (the same results give the same identity, so a re-opened report finds its decisions)."""
    statuses = ",".join(f"{n}={el.status}" for n, el in result.elements.items())
    parts = (result.note_id or "", result.ruleset_version, result.verdict, result.suggested_code)
    return ("\x1f".join(str(p or "") for p in parts) + "\x1f" + statuses + "\n").encode()


def _decisions(report_id: str, rows: List[_Row], palette: _Palette) -> Dict[str, Any]:
    """What the decision panel and the controls cloned into each note need
    (``report/_decisions.html.j2``): only the elements, codes and verdicts a decisions file may
    hold (``schema/decision.schema.json``)."""
    return {
        "report_id": report_id,
        "n_notes": sum(1 for r in rows if r.note_id),
        "elements": [e for e in palette.order if e in ELEMENTS],
        "codes": [(c, _CODE_LABELS.get(c, c)) for c in (*CODES, "")],
        "verdicts": VERDICTS,
    }


def _spooled_sections(
    spool: IO[bytes], chunks: List[Tuple[int, int]], ordered: List[_Row]
) -> Iterator[Markup]:
    for r in ordered:
        offset, length = chunks[r.index]
        spool.seek(offset)
        yield Markup(spool.read(length).decode("utf-8"))


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
    note_section = _parts("report/_note.html.j2").note_section
    palette = _Palette()
    combos: Set[Tuple[str, ...]] = set()
    rows: List[_Row] = []
    errors: List[_ErrorRow] = []
    meta_keys: List[str] = []
    seen_keys: set = set()
    rulesets: Dict[str, None] = {}
    profiles: Dict[str, None] = {}
    chunks: List[Tuple[int, int]] = []  # (offset, length) of each note's section in the spool
    identity = hashlib.sha256()  # the report's identity: decisions are kept in the browser by it

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
            result: CheckResult = outcome
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
            identity.update(_identity_line(result))
            if note is None:
                note = getattr(result, "text", None)
            data = str(note_section(_note_view(row, result, note, combos))).encode("utf-8")
            note = None
            chunks.append((spool.tell(), len(data)))
            spool.write(data)

        # Worklist order: lowest score first, then input order.
        ordered = sorted(rows, key=lambda r: (r.score, r.index))
        css = _stylesheet(palette, combos)
        csp = (
            f"default-src 'none'; script-src {script_csp_hash()}; style-src {csp_hash(css)}; "
            "img-src data:; base-uri 'none'; form-action 'none'"
        )
        subtitle = (
            f"{len(rows) + len(errors)} notes · ruleset {', '.join(rulesets) or '-'} · "
            f"profile {', '.join(profiles) or '-'}"
            + (f" · grouped by {group_by}" if group_by else "")
        )
        template = _environment().get_template("report/page.html.j2")
        page = template.generate(
            title=title,
            subtitle=subtitle,
            csp=csp,
            css=Markup(css),
            script=Markup(_script()),
            summary=_summary(rows, errors, palette, group_by),
            worklist=_worklist(ordered, meta_keys),
            errors=errors,
            meta_keys=meta_keys,
            legend=palette.order,
            sections=_spooled_sections(spool, chunks, ordered),
            decisions=_decisions(identity.hexdigest()[:16], rows, palette),
        )
        fh.writelines(page)
