"""Render an evaluation (``doc_checker.evaluation.Evaluation``) as a terminal table, JSON or a
self-contained HTML page a team can keep. Note text appears only in the evidence of
disagreements, which is there only when the caller asked for it (``--show``)."""

from __future__ import annotations

import json
from typing import IO, Any, Dict, List, Optional

from ..evaluation import NO_CODE, Evaluation
from ..result import CODES, STATUSES, VERDICTS
from ._templates import template

EVALUATION_FORMATS = ("table", "json", "html")


def _fmt(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _matrix(confusion: Dict[str, Any], order: List[str]) -> Dict[str, Any]:
    """Rows (gold) and columns (predicted) in a fixed order, only those that occur."""
    seen = set(confusion) | {p for row in confusion.values() for p in row}
    labels = [x for x in order if x in seen] + sorted(seen - set(order))
    return {
        "labels": labels,
        "rows": [[confusion.get(g, {}).get(p, 0) for p in labels] for g in labels],
    }


def view(ev: Evaluation) -> Dict[str, Any]:
    """The data every format shows, built once (templates only render it)."""
    data = ev.to_dict()
    data["verdict_matrix"] = _matrix(data["verdict_confusion"], list(VERDICTS))
    data["code_matrix"] = _matrix(data["code_confusion"], [*CODES, NO_CODE])
    data["statuses"] = list(STATUSES)
    data["fmt"] = _fmt
    data["gold"] = _gold
    return data


def _gold(value: Any) -> str:
    """A label value as coders say it: an element is present or absent; no code is "none"."""
    if isinstance(value, bool):
        return "present" if value else "absent"
    return NO_CODE if value is None else str(value)


def _statuses(counts: Dict[str, int]) -> str:
    return ", ".join(f"{st} {counts[st]}" for st in STATUSES if counts.get(st))


def _disagreement_lines(d: Dict[str, Any]) -> List[str]:
    lines = []
    for key, value in d.items():
        if not isinstance(value, dict) or "gold" not in value:
            continue
        lines.append(f"    {key}: gold {_gold(value['gold'])}, checker {_gold(value['predicted'])}")
        for e in value.get("evidence", []):
            lines.append(f"      evidence [{e['start']}:{e['end']}] {e['text']!r}")
        for e in value.get("ignored", []):
            lines.append(
                f"      not counted ({e['reason']}) [{e['start']}:{e['end']}] {e['text']!r}"
            )
    for f in d.get("findings", []):
        quoted = "; ".join(repr(e["text"]) for e in f.get("evidence", []))
        lines.append(
            f"    finding {f['code']}: {f['message']}" + (f" ({quoted})" if quoted else "")
        )
    if "missing" in d:
        lines.append(f"    missing: {', '.join(d['missing']) or 'none'}")
    if d.get("comment"):
        lines.append(f"    coder: {d['comment']}")
    return lines


def write_table(ev: Evaluation, fh: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    data = ev.to_dict()
    console = Console(file=fh, width=160, highlight=False)
    sources = ", ".join(f"{n} {k}" for k, n in data["label_sources"].items())
    table = Table(title=f"evaluation on {ev.n} notes ({sources}); ruleset {ev.ruleset_version}")
    for col in ("element", "notes", "precision", "recall", "F1", "tp", "fp", "fn", "tn"):
        table.add_column(col, justify="left" if col == "element" else "right")
    table.add_column("gold present: checker said")
    table.add_column("gold absent: checker said")
    for name, s in ev.elements.items():
        table.add_row(
            name,
            str(s.n),
            _fmt(s.precision),
            _fmt(s.recall),
            _fmt(s.f1),
            *(str(x) for x in (s.tp, s.fp, s.fn, s.tn)),
            _statuses(s.confusion[True]),
            _statuses(s.confusion[False]),
        )
    console.print(table)
    console.print(
        f"verdict accuracy: {_fmt(ev.verdict_accuracy)}   code accuracy: {_fmt(ev.code_accuracy)}"
    )
    for title, key, order in (
        ("verdict", "verdict_confusion", list(VERDICTS)),
        ("code", "code_confusion", [*CODES, NO_CODE]),
    ):
        m = _matrix(data[key], order)
        t = Table(title=f"{title} confusion (rows: gold, columns: checker)")
        t.add_column("gold \\ checker")
        for label in m["labels"]:
            t.add_column(label, justify="right")
        for label, row in zip(m["labels"], m["rows"], strict=True):
            t.add_row(label, *(str(n) if n else "." for n in row))
        console.print(t)
    if data["decision_rulesets"]:
        made = ", ".join(f"{v} ({n})" for v, n in sorted(data["decision_rulesets"].items()))
        console.print(f"decisions made against ruleset: {made}; evaluated: {ev.ruleset_version}")
    if ev.disagreements:
        console.print(f"disagreements ({len(ev.disagreements)}):")
        for d in ev.disagreements:
            console.print(f"  {d['note_id']} ({d['where']})", markup=False)
            for line in _disagreement_lines(d):
                console.print(line, markup=False)


def write_evaluation(fmt: str, ev: Evaluation, fh: IO[str], title: str = "") -> None:
    if fmt == "json":
        fh.write(json.dumps(ev.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "html":
        fh.write(template("evaluation.html.j2").render(title=title or "evaluation", **view(ev)))
    elif fmt == "table":
        write_table(ev, fh)
    else:
        raise ValueError(f"unknown evaluation format {fmt!r}")
