"""Render a ruleset diff (``doc_checker.ruleset_diff.RulesetDiff``) as a terminal table, CSV (one
row per changed field), JSON or a self-contained HTML page. The evidence before and after is the
note's own words: it is what a rule author needs to judge the change, and diff is run on purpose
over a reference corpus."""

from __future__ import annotations

import csv
import json
from typing import IO, Any, Dict, List

from ..ruleset_diff import RulesetDiff
from ._templates import template

DIFF_FORMATS = ("table", "csv", "json", "html")
CSV_COLUMNS = [
    "note_id",
    "field",
    "before",
    "after",
    "gold",
    "effect",
    "note_effect",
    "evidence_before",
    "evidence_after",
]


def _value(v: Any) -> str:
    return "none" if v is None else str(v).lower() if isinstance(v, bool) else str(v)


def _quote(items: List[Dict[str, Any]]) -> str:
    """Evidence as one cell: each mention with its offsets, and why it did not count."""
    parts = []
    for e in items:
        why = f" (not counted: {e['reason']})" if e.get("reason") else ""
        parts.append(f"[{e['start']}:{e['end']}] {e['text']}{why}")
    return " | ".join(parts)


def summary_lines(diff: RulesetDiff) -> List[str]:
    data = diff.to_dict()
    lines = [
        f"ruleset {diff.base_version} -> {diff.new_version}: {diff.notes} notes compared, "
        f"{len(diff.changed)} changed" + (f", {diff.errors} unreadable" if diff.errors else "")
    ]
    if diff.base_version == diff.new_version:
        lines.append(
            f"note: both rulesets say version {diff.base_version}: bump the new one's "
            "ruleset.json version before it ships"
        )
    for move in data["verdict_moves"]:
        lines.append(f"  {move['before']} -> {move['after']}: {move['notes']}")
    if diff.labelled is not None:
        effects = diff.effects
        lines.append(
            f"against the labels ({diff.labelled} notes labelled): "
            f"{effects.get('fixes', 0)} fixed, {effects.get('breaks', 0)} broken, "
            f"{effects.get('mixed', 0)} mixed, {effects.get('neutral', 0)} neutral"
        )
    return lines


def write_csv(diff: RulesetDiff, fh: IO[str]) -> None:
    writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for note in diff.changed:
        for c in note.changes:
            writer.writerow(
                {
                    "note_id": note.note_id,
                    "field": c.field,
                    "before": _value(c.before),
                    "after": _value(c.after),
                    "gold": "" if c.effect is None else _value(c.gold),
                    "effect": c.effect or "",
                    "note_effect": note.effect or "",
                    "evidence_before": _quote(c.evidence_before),
                    "evidence_after": _quote(c.evidence_after),
                }
            )


def write_table(diff: RulesetDiff, fh: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=fh, width=140, highlight=False)
    for line in summary_lines(diff):
        console.print(line, markup=False)
    if not diff.changed:
        return
    table = Table(title="notes that change", show_lines=True)
    for col in (
        "note",
        "field",
        "before",
        "after",
        "gold / effect",
        "evidence before",
        "evidence after",
    ):
        table.add_column(col, overflow="fold")
    for note in diff.changed:
        for i, c in enumerate(note.changes):
            table.add_row(
                (str(note.note_id) + (f"\n({note.effect})" if note.effect else ""))
                if not i
                else "",
                c.field,
                _value(c.before),
                _value(c.after),
                "" if c.effect is None else f"{_value(c.gold)} / {c.effect}",
                _quote(c.evidence_before),
                _quote(c.evidence_after),
            )
    console.print(table)


def write_diff(fmt: str, diff: RulesetDiff, fh: IO[str]) -> None:
    if fmt == "json":
        fh.write(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        write_csv(diff, fh)
    elif fmt == "html":
        fh.write(
            template("diff.html.j2").render(
                diff=diff, data=diff.to_dict(), summary=summary_lines(diff), value=_value
            )
        )
    elif fmt == "table":
        write_table(diff, fh)
    else:
        raise ValueError(f"unknown diff format {fmt!r}")
