"""Output formats. Every format derives from ``CheckResult.to_dict()`` / ``ErrorRecord.to_dict()``.

jsonl and json stream in input order; csv and table are the coder's worklist (lowest score first,
errors last; input order and streaming with keep_order); html is the review report.
"""

from __future__ import annotations

import csv
import json
import tempfile
from typing import IO, Any, Dict, Iterable, List, Optional

from ..result import ELEMENTS, CheckResult, ErrorRecord, Outcome

FORMATS = ("table", "json", "jsonl", "csv", "html")
CSV_RESULT_COLUMNS = [
    "score",
    "verdict",
    "suggested_code",
    "missing",
    "findings",
    "billed_codes",
    "claim_findings",
    "first_query",
    "review_needed",
    "review_reasons",
    "sites",
    "site_regions",
    *[f"{e}_status" for e in ELEMENTS],
    "error_code",
    "error_message",
]
_RESULT_SET = frozenset(CSV_RESULT_COLUMNS)
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
    """The worklist row: carried-through columns (meta) first, then the checker's columns."""
    row = {"note_id": o.note_id, **{k: v for k, v in o.meta.items()}}
    if isinstance(o, ErrorRecord):
        row.update(error_code=o.code, error_message=o.message)
        return row
    row.update(
        score=o.score,
        verdict=o.verdict,
        suggested_code=o.suggested_code or "",
        missing=";".join(o.missing),
        findings=";".join(f.code for f in o.findings),
        billed_codes="" if o.billed_codes is None else ";".join(o.billed_codes),
        claim_findings=";".join(f.code for f in o.claim_findings),
        first_query=o.queries[0] if o.queries else "",
        review_needed="yes" if o.review.needed else "no",
        review_reasons=";".join(o.review.reasons),
        sites=";".join(_site_label(p) for p in o.procedures),
        site_regions=";".join(p["site"]["region"] for p in o.procedures),
    )
    for name, el in o.elements.items():
        row[f"{name}_status"] = el.status
    return row


def _site_label(procedure: Dict[str, Any]) -> str:
    """'left glenohumeral joint (inject)': a frame's site as a coder reads it in a worklist."""
    site = procedure["site"]
    words = " ".join(w for w in (site.get("laterality"), site["normalized"]) if w)
    return f"{words} ({procedure['action']})" if procedure.get("action") else words


def write_csv(outcomes: Iterable[Outcome], fh: IO[str], keep_order: bool = False) -> None:
    """The header holds every carried-through column of every row, in first-seen order (rows
    of different files or an error record first must not drop a column). In input order with
    ``keep_order``, rows are spooled to a temporary file until the columns are known, so memory
    stays flat; else the worklist, lowest score first."""
    if not keep_order:
        rows = [csv_row(o) for o in worklist_order(list(outcomes))]
        _write_csv_rows(fh, _columns(rows), rows)
        return
    columns: Dict[str, None] = {}
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogatepass") as spool:
        for o in outcomes:
            row = csv_row(o)
            columns.update(dict.fromkeys(row))
            spool.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        spool.seek(0)
        _write_csv_rows(fh, _columns([columns]), (json.loads(line) for line in spool))


def _columns(rows: Iterable[Dict[str, Any]]) -> List[str]:
    """note_id, the carried-through columns in first-seen order, then the checker's columns."""
    seen: Dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(k for k in row if k != "note_id" and k not in _RESULT_SET))
    return ["note_id", *seen, *CSV_RESULT_COLUMNS]


def _write_csv_rows(fh: IO[str], columns: List[str], rows: Iterable[Dict[str, Any]]) -> None:
    writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)


def worklist_order(outcomes: Iterable[Outcome]) -> List[Outcome]:
    """Lowest score first (ties: incomplete before not_supported before supported), errors last."""
    rank = {"incomplete": 0, "not_supported": 1, "supported": 2}
    results = [o for o in outcomes if isinstance(o, CheckResult)]
    errors = [o for o in outcomes if isinstance(o, ErrorRecord)]
    results.sort(key=lambda r: (r.score, rank.get(r.verdict, 3), r.note_id or ""))
    return [*results, *errors]


def write_table(outcomes: Iterable[Outcome], fh: IO[str], keep_order: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    items = list(outcomes) if keep_order else worklist_order(list(outcomes))
    table = Table(title="doc-checker worklist (lowest score first)", show_lines=False)
    for col in (
        "note",
        "score",
        "verdict",
        "code",
        "missing (required)",
        "findings",
        "claim",
        "review",
    ):
        table.add_column(col, justify="right" if col == "score" else "left")
    for o in items:  # values are Text, never markup: an id "[/red]" must print as itself
        if isinstance(o, ErrorRecord):
            table.add_row(
                Text(str(o.note_id)),
                "-",
                Text("error", style="red"),
                "-",
                Text(o.code),
                Text(o.message),
                "-",
                "-",
            )
            continue
        style = VERDICT_STYLE.get(o.verdict, "")
        findings = ", ".join(f.code for f in o.findings if f.severity == "error")
        claim = ", ".join(f.code for f in o.claim_findings) if o.billed_codes is not None else ""
        table.add_row(
            Text(str(o.note_id)),
            f"{o.score:.0f}",
            Text(o.verdict, style=style),
            Text(o.suggested_code or "none"),
            Text(", ".join(o.missing) or "-"),
            Text(findings or "-"),
            Text(claim or "-"),
            Text(
                ", ".join(o.review.reasons) if o.review.needed else "-",
                style="magenta" if o.review.needed else "",
            ),
        )
    Console(file=fh, width=160 if not getattr(fh, "isatty", lambda: False)() else None).print(table)


def write_html(outcomes: Iterable[Outcome], fh: IO[str], group_by: Optional[str] = None) -> None:
    from .report import write_html as report

    report(((o, getattr(o, "text", None)) for o in outcomes), fh, group_by=group_by)


def write_outcomes(
    fmt: str,
    outcomes: Iterable[Outcome],
    fh: IO[str],
    *,
    keep_order: bool = False,
    group_by: Optional[str] = None,
) -> None:
    """Write ``outcomes`` in one of FORMATS."""
    if fmt == "jsonl":
        write_jsonl(outcomes, fh)
    elif fmt == "json":
        write_json(outcomes, fh)
    elif fmt == "csv":
        write_csv(outcomes, fh, keep_order=keep_order)
    elif fmt == "table":
        write_table(outcomes, fh, keep_order=keep_order)
    elif fmt == "html":
        write_html(outcomes, fh, group_by=group_by)
    else:
        raise ValueError(f"unknown output format {fmt!r}; use one of {FORMATS}")
