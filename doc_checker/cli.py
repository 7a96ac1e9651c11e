"""Command line: ``doc-checker check | explain | evaluate``. A thin shell over Checker, readers and
writers. Exit codes: 0 every input checked; 1 some inputs were error records (each is in the
output); 2 usage errors (a bad path, no notes, invalid rules), reported before any note is read."""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Dict, Iterator, List, Optional

from ._version import __version__
from .decide.claims import parse_codes
from .errors import DocCheckerError, UsageError
from .io.paths import iter_records, resolve_paths
from .io.readers import FORMATS as INPUT_FORMATS
from .io.writers import FORMATS, write_outcomes

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
ELEMENT_STYLES = {
    "indication": "bold black on bright_cyan",
    "fluoroscopic_guidance": "bold black on bright_green",
    "needle_placement": "bold black on bright_yellow",
    "contrast_confirmation": "bold black on bright_magenta",
    "non_spinal_site": "bold white on blue",
    "primary_procedure": "bold white on dark_orange3",
    "radiation_dose": "black on grey70",
    "images_recorded": "black on light_steel_blue",
}
IGNORED_STYLE = "strike red"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="doc-checker",
        description="Check procedure notes for the documentation that supports CPT +77002.",
    )
    p.add_argument("--version", action="version", version=f"doc-checker {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", help="profile JSON (which elements are required, weights)")
    common.add_argument(
        "--patterns", help="patterns directory (rule files) replacing the shipped one"
    )
    common.add_argument(
        "--engine",
        choices=["doc-checker", "medspacy"],
        default="doc-checker",
        help="medspacy: the same checker built from stock medspaCy components (slower; results "
        "differ only by the deviations README lists)",
    )

    c = sub.add_parser(
        "check", parents=[common], help="check notes and print a worklist or records"
    )
    c.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a note file (.txt, .csv, .tsv, .jsonl, .hl7, FHIR .json), a directory (all *.txt below it), or - for stdin",
    )
    c.add_argument("--format", choices=FORMATS, default="table")
    c.add_argument(
        "--output",
        "-o",
        help="write here instead of stdout (atomically: via OUTPUT.partial, renamed when done)",
    )
    c.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="read every file as this format (default: by extension)",
    )
    c.add_argument(
        "--id-column",
        default="note_id",
        help="CSV/TSV/JSONL column holding the note id (default note_id)",
    )
    c.add_argument(
        "--text-column",
        default="text",
        help="CSV/TSV/JSONL column holding the note text (default text)",
    )
    c.add_argument(
        "--codes-column",
        default="cpt_codes",
        help="CSV/TSV/JSONL column holding billed CPT codes (default cpt_codes)",
    )
    c.add_argument(
        "--codes", help="billed CPT codes for notes whose input has none, e.g. '20610;77002-26'"
    )
    c.add_argument(
        "--keep-order",
        action="store_true",
        help="table/csv: input order instead of lowest score first",
    )
    c.add_argument(
        "--group-by",
        metavar="COLUMN",
        help="html: summarise by this carried-through column (e.g. the physician)",
    )
    c.add_argument(
        "--resume",
        action="store_true",
        help="jsonl --output: skip note ids already written by an earlier, interrupted run",
    )
    c.add_argument(
        "--fail-on-error",
        action="store_true",
        help="stop at the first note that cannot be checked (exit 1)",
    )
    c.add_argument("--batch-size", type=int, default=64)
    c.add_argument("--n-process", type=int, default=1, help="worker processes (default 1)")
    c.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    e = sub.add_parser(
        "explain", parents=[common], help="show one note with its evidence highlighted"
    )
    e.add_argument("path", metavar="FILE")

    s = sub.add_parser(
        "serve", parents=[common], help="run the HTTP review service (FastAPI on uvicorn)"
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")

    k = sub.add_parser(
        "spark", parents=[common], help="check a table of notes on Apache Spark, write Parquet"
    )
    from .spark import (
        add_arguments as add_spark_arguments,
    )  # argparse only: pyspark loads when it runs

    add_spark_arguments(k)

    v = sub.add_parser("evaluate", parents=[common], help="compare against gold labels (JSONL)")
    v.add_argument("gold", metavar="GOLD.jsonl")
    v.add_argument("--json", dest="as_json", action="store_true", help="print the numbers as JSON")
    return p


@contextmanager
def _output(path: Optional[str], resume: bool = False) -> Iterator[IO[str]]:
    """stdout, or ``path``: written to ``path.partial`` and renamed over ``path`` only when
    writing finished, so an interrupted run never leaves a truncated file that looks complete.
    With ``resume`` the partial (or finished) file's complete lines are kept and appended to."""
    if not path:
        yield sys.stdout
        return
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    keep = b""
    if resume:
        source = partial if partial.exists() else target if target.exists() else None
        if source is not None:
            data = source.read_bytes()
            keep = data[: data.rfind(b"\n") + 1]  # drop a line cut short by a kill
    with open(partial, "wb") as raw:
        raw.write(keep)
    fh = open(partial, "a", encoding="utf-8", newline="")
    try:
        yield fh
        fh.close()
        os.replace(partial, target)
    finally:
        if not fh.closed:
            fh.close()


def _done_ids(path: Optional[str]) -> set:
    """note ids already in an (interrupted or finished) JSONL output."""
    done: set = set()
    if not path:
        return done
    target = Path(path)
    for source in (target.with_name(target.name + ".partial"), target):
        if not source.exists():
            continue
        with source.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break
                try:
                    note_id = json.loads(line).get("note_id")
                except (json.JSONDecodeError, AttributeError):
                    continue
                if note_id is not None:
                    done.add(str(note_id))
        break
    return done


def _existing_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise UsageError(f"{raw}: no such file")
    return path


def _checker(args):
    from .checker import Checker

    return Checker(
        profile=args.profile, patterns=args.patterns, engine=getattr(args, "engine", "doc-checker")
    )


def _progress(iterable, total: Optional[int], enabled: bool):
    if not enabled:
        yield from iterable
        return
    from rich.progress import Progress

    with Progress(transient=True, console=None) as bar:
        task = bar.add_task("checking notes", total=total)
        for item in iterable:
            yield item
            bar.advance(task)


def cmd_check(args) -> int:
    if args.resume and (args.format != "jsonl" or not args.output):
        raise UsageError("--resume needs --format jsonl and --output FILE")
    if args.group_by and args.format != "html":
        raise UsageError("--group-by applies to --format html")
    paths = resolve_paths(args.paths)
    if args.codes is not None:
        try:
            parse_codes(args.codes)
        except ValueError as exc:
            raise UsageError(f"--codes: {exc}") from None
    records = iter_records(
        paths, args.input_format, args.id_column, args.text_column, args.codes_column, args.codes
    )
    checker = _checker(args)
    if args.resume:
        done = _done_ids(args.output)
        records = (r for r in records if r.note_id is None or str(r.note_id) not in done)
    outcomes = checker.check_many(
        records,
        batch_size=args.batch_size,
        n_process=args.n_process,
        keep_text=args.format == "html",
    )
    show = (not args.no_progress) and sys.stderr.isatty()
    outcomes = _progress(outcomes, None, show)
    counts: Dict[str, int] = {"checked": 0, "errors": 0}
    verdicts: Dict[str, int] = {}

    class _Stop(Exception):
        pass

    def counted(items):
        for o in items:
            if o.ok:
                counts["checked"] += 1
                verdicts[o.verdict] = verdicts.get(o.verdict, 0) + 1
            else:
                counts["errors"] += 1
            yield o
            if not o.ok and args.fail_on_error:
                raise _Stop

    stopped = False
    with checker, _output(args.output, resume=args.resume) as fh:  # the checker's workers end here
        try:
            write_outcomes(
                args.format,
                counted(outcomes),
                fh,
                keep_order=args.keep_order,
                group_by=args.group_by,
            )
        except _Stop:
            stopped = True
        fh.flush()
    by_verdict = ", ".join(
        f"{v} {verdicts[v]}" for v in ("supported", "incomplete", "not_supported") if v in verdicts
    )
    print(
        f"doc-checker: {counts['checked']} checked, {counts['errors']} errors"
        + (f" ({by_verdict})" if by_verdict else "")
        + ("; stopped at the first error" if stopped else ""),
        file=sys.stderr,
    )
    if args.output and args.format == "html":
        print(f"doc-checker: report written to {Path(args.output).resolve()}", file=sys.stderr)
    return EXIT_ERRORS if counts["errors"] else EXIT_OK


def cmd_explain(args) -> int:
    from rich.console import Console
    from rich.text import Text

    path = _existing_file(args.path)
    checker = _checker(args)
    from .io.text import validate_text

    text = validate_text(path.read_bytes())
    result = checker.check(text, note_id=path.stem)
    console = Console()
    rich_text = Text(text)
    for name, el in result.elements.items():
        for m in el.ignored:
            rich_text.stylize(IGNORED_STYLE, m.start, m.end)
    for name, el in result.elements.items():
        for ev in el.evidence:
            rich_text.stylize(ELEMENT_STYLES[name], ev.start, ev.end)
    console.rule(
        f"{result.note_id}: {result.verdict}, score {result.score:.0f}, code {result.suggested_code or 'none'}"
    )
    console.print(rich_text)
    console.rule("elements")
    legend = Text()
    for name, el in result.elements.items():
        legend.append(f" {name} ", style=ELEMENT_STYLES[name])
        legend.append(f" {el.status}{' (required)' if el.required else ''}\n")
        for m in el.ignored:
            legend.append(f"    not counted ({m.reason}): ", style="dim")
            legend.append(m.text + "\n", style=IGNORED_STYLE)
    console.print(legend)
    if result.findings:
        console.rule("findings")
        for f in result.findings:
            console.print(
                f"[{'red' if f.severity == 'error' else 'yellow'}]{f.severity}[/] {f.code}: {f.message}"
            )
    console.rule("missing and queries")
    console.print("missing: " + (", ".join(result.missing) or "none"))
    for q in result.queries:
        console.print(f"  query: {q}")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from .evaluation import evaluate_gold_file

    gold = _existing_file(args.gold)
    try:
        with _checker(args) as checker:
            ev = evaluate_gold_file(checker, gold)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.as_json:
        print(json.dumps(ev.to_dict(), indent=2))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"evaluation on {ev.n} notes")
    for col in ("element", "precision", "recall", "F1", "tp", "fp", "fn", "tn"):
        table.add_column(col, justify="left" if col == "element" else "right")
    for name, s in ev.elements.items():
        table.add_row(
            name,
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
            str(s.tp),
            str(s.fp),
            str(s.fn),
            str(s.tn),
        )
    console.print(table)
    console.print(
        f"verdict accuracy: {ev.verdict_accuracy:.3f}   code accuracy: {ev.code_accuracy:.3f}"
    )
    if ev.disagreements:
        console.print(f"disagreements ({len(ev.disagreements)}):")
        for d in ev.disagreements:
            console.print("  " + json.dumps(d))
    return EXIT_OK


def _doc_checker_engine_only(args) -> None:
    """The service and Spark build their own Checkers: refuse --engine there, never ignore it."""
    if getattr(args, "engine", "doc-checker") != "doc-checker":
        raise UsageError(f"--engine {args.engine} is for check, explain and evaluate")


def cmd_serve(args) -> int:
    _doc_checker_engine_only(args)
    from .service.app import run_server  # needs the "service" extra

    return run_server(args)


def cmd_spark(args) -> int:
    _doc_checker_engine_only(args)
    from .spark import run_spark_cli  # needs the "spark" extra

    return run_spark_cli(args)


COMMANDS = {
    "check": cmd_check,
    "explain": cmd_explain,
    "evaluate": cmd_evaluate,
    "serve": cmd_serve,
    "spark": cmd_spark,
}


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, DocCheckerError) as exc:
        print(f"doc-checker: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
