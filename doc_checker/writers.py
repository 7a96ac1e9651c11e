"""Output formats. Every format derives from ``CheckResult.to_dict()`` / ``ErrorRecord.to_dict()``.

jsonl and csv stream in input order; json writes one array; table is the coder's worklist
(lowest score first, errors last) and needs every result before it prints.
"""
from __future__ import annotations

import csv
import json
from typing import IO, Iterable, List

from .result import CheckResult, ErrorRecord, Outcome
from .rules import ELEMENTS

FORMATS = ("table", "json", "jsonl", "csv")
CSV_COLUMNS = ["note_id", "score", "verdict", "suggested_code", "missing", "findings", "first_query",
               *[f"{e}_status" for e in ELEMENTS], "error_code", "error_message"]
VERDICT_STYLE = {"supported": "green", "incomplete": "yellow", "not_supported": "red"}


def write_jsonl(outcomes: Iterable[Outcome], fh: IO[str]) -> None:
    for o in outcomes:
        fh.write(json.dumps(o.to_dict(), ensure_ascii=False) + "\n")


def write_json(outcomes: Iterable[Outcome], fh: IO[str]) -> None:
    fh.write("[")
    for i, o in enumerate(outcomes):
        fh.write(("," if i else "") + "\n" + json.dumps(o.to_dict(), ensure_ascii=False, indent=2))
    fh.write("\n]\n")


def csv_row(o: Outcome) -> dict:
    if isinstance(o, ErrorRecord):
        return {"note_id": o.note_id, "error_code": o.code, "error_message": o.message}
    row = {"note_id": o.note_id, "score": o.score, "verdict": o.verdict,
           "suggested_code": o.suggested_code or "", "missing": ";".join(o.missing),
           "findings": ";".join(f.code for f in o.findings), "first_query": o.queries[0] if o.queries else ""}
    for name, el in o.elements.items():
        row[f"{name}_status"] = el.status
    return row


def write_csv(outcomes: Iterable[Outcome], fh: IO[str]) -> None:
    writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for o in outcomes:
        writer.writerow(csv_row(o))


def worklist_order(outcomes: Iterable[Outcome]) -> List[Outcome]:
    """Lowest score first (ties: incomplete before not_supported before supported), errors last."""
    rank = {"incomplete": 0, "not_supported": 1, "supported": 2}
    results = [o for o in outcomes if isinstance(o, CheckResult)]
    errors = [o for o in outcomes if isinstance(o, ErrorRecord)]
    results.sort(key=lambda r: (r.score, rank.get(r.verdict, 3), r.note_id or ""))
    return [*results, *errors]


def write_table(outcomes: Iterable[Outcome], fh: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    items = worklist_order(list(outcomes))
    table = Table(title="doc-checker worklist (lowest score first)", show_lines=False)
    for col, kw in (("note", {}), ("score", {"justify": "right"}), ("verdict", {}), ("code", {}),
                    ("missing (required)", {}), ("findings", {})):
        table.add_column(col, **kw)
    for o in items:
        if isinstance(o, ErrorRecord):
            table.add_row(str(o.note_id), "-", "[red]error[/red]", "-", o.code, o.message)
            continue
        style = VERDICT_STYLE.get(o.verdict, "")
        findings = ", ".join(f.code for f in o.findings if f.severity == "error")
        table.add_row(str(o.note_id), f"{o.score:.0f}", f"[{style}]{o.verdict}[/{style}]",
                      o.suggested_code or "none", ", ".join(o.missing) or "-", findings or "-")
    Console(file=fh, width=160 if not getattr(fh, "isatty", lambda: False)() else None).print(table)


WRITERS = {"jsonl": write_jsonl, "json": write_json, "csv": write_csv, "table": write_table}
