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
from .errors import DocCheckerError, InputError, UsageError
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
        help=(
            "a note file (.txt, .csv, .tsv, .jsonl, .hl7, FHIR .json), a directory (all *.txt "
            "below it), or - for stdin"
        ),
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

    _add_evaluate_parser(sub, common)
    _add_diff_parser(sub)
    return p


def _add_note_input_arguments(p: argparse.ArgumentParser) -> None:
    """How to read note files (as for ``check``)."""
    p.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="read every note file as this format (default: by extension)",
    )
    p.add_argument("--id-column", default="note_id", help="CSV/TSV/JSONL note id column")
    p.add_argument("--text-column", default="text", help="CSV/TSV/JSONL note text column")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--n-process", type=int, default=1, help="worker processes (default 1)")


def _add_evaluate_parser(sub, common: argparse.ArgumentParser) -> None:
    from .io.evaluation_report import EVALUATION_FORMATS

    v = sub.add_parser(
        "evaluate",
        parents=[common],
        help="score the checker against labels: corpus, project gold or coders' decisions (JSONL)",
    )
    v.add_argument(
        "labels",
        nargs="+",
        metavar="LABELS.jsonl",
        help="labels, any mix of the corpus, gold and decision formats (detected per line)",
    )
    v.add_argument(
        "--notes",
        action="append",
        metavar="PATH",
        help="where the notes of labels without text are (decisions): a directory of .txt, "
        "CSV/TSV/JSONL, HL7, FHIR; matched by note id; repeatable",
    )
    v.add_argument("--format", choices=EVALUATION_FORMATS, default="table")
    v.add_argument("--json", dest="as_json", action="store_true", help="same as --format json")
    v.add_argument(
        "--show",
        action="store_true",
        help="list each disagreement with the evidence the checker used (prints note text)",
    )
    v.add_argument("--output", "-o", help="write here instead of stdout")
    _add_note_input_arguments(v)


def _add_diff_parser(sub) -> None:
    from .io.diff_report import DIFF_FORMATS

    d = sub.add_parser(
        "diff",
        help="what a rule change changes: run two rulesets over the same notes and compare "
        "(exit 1 when any note changes)",
    )
    d.add_argument("paths", nargs="+", metavar="PATH", help="the notes (as for check)")
    d.add_argument("--patterns", required=True, help="the new patterns directory")
    d.add_argument(
        "--base-patterns", help="the patterns directory to compare with (default: the shipped one)"
    )
    d.add_argument("--profile", help="profile JSON, the same for both runs")
    d.add_argument(
        "--gold",
        action="append",
        metavar="LABELS.jsonl",
        help="labels (any format): say which changes fix a disagreement and which break an "
        "agreement; repeatable",
    )
    d.add_argument("--format", choices=DIFF_FORMATS, default="table")
    d.add_argument("--output", "-o", help="write here instead of stdout")
    _add_note_input_arguments(d)


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
    for el in result.elements.values():
        for m in el.ignored:
            rich_text.stylize(IGNORED_STYLE, m.start, m.end)
    for name, el in result.elements.items():
        for ev in el.evidence:
            rich_text.stylize(ELEMENT_STYLES[name], ev.start, ev.end)
    console.rule(
        f"{result.note_id}: {result.verdict}, score {result.score:.0f}, "
        f"code {result.suggested_code or 'none'}"
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
            color = "red" if f.severity == "error" else "yellow"
            console.print(f"[{color}]{f.severity}[/] {f.code}: {f.message}")
    console.rule("missing and queries")
    console.print("missing: " + (", ".join(result.missing) or "none"))
    for q in result.queries:
        console.print(f"  query: {q}")
    return EXIT_OK


def _notes_by_id(args, wanted: set) -> Dict[str, str]:
    """The texts of the wanted note ids from --notes (read as ``check`` reads its inputs)."""
    notes: Dict[str, str] = {}
    records = iter_records(
        resolve_paths(args.notes), args.input_format, args.id_column, args.text_column
    )
    for record in records:
        note_id = None if record.note_id is None else str(record.note_id)
        if note_id is None or note_id not in wanted:
            continue
        if isinstance(record.text, InputError):
            raise UsageError(f"{record.where}: note {note_id!r} cannot be read: {record.text}")
        notes[note_id] = record.text
    return notes


def cmd_evaluate(args) -> int:
    from .evaluation import attach_texts, evaluate_labels, read_labels
    from .io.evaluation_report import write_evaluation

    paths = [_existing_file(raw) for raw in args.labels]
    labels = []
    for path in paths:
        labels.extend(read_labels(path))
    seen: Dict[str, str] = {}
    for label in labels:
        if label.note_id in seen:
            raise UsageError(
                f"{label.where}: note {label.note_id!r} is labelled again (first at "
                f"{seen[label.note_id]})"
            )
        seen[label.note_id] = label.where
    if args.notes:
        wanted = {label.note_id for label in labels if label.text is None}
        attach_texts(labels, _notes_by_id(args, wanted))
    else:
        attach_texts(labels)
    fmt = "json" if args.as_json else args.format
    with _checker(args) as checker:
        ev = evaluate_labels(
            checker,
            labels,
            batch_size=args.batch_size,
            n_process=args.n_process,
            show_evidence=args.show,
        )
    with _output(args.output) as fh:
        write_evaluation(fmt, ev, fh, title=f"evaluation of {', '.join(args.labels)}")
    return EXIT_OK


def cmd_diff(args) -> int:
    from .checker import Checker
    from .evaluation import read_labels
    from .io.diff_report import summary_lines, write_diff
    from .ruleset_diff import diff_outcomes

    if "-" in args.paths:
        raise UsageError("diff reads its notes once per ruleset: give files, not - (stdin)")
    paths = resolve_paths(args.paths)
    labels = None
    if args.gold:
        labels = {}
        for raw in args.gold:
            for label in read_labels(_existing_file(raw)):
                labels[label.note_id] = label
    new = Checker(profile=args.profile, patterns=args.patterns)
    base = Checker(profile=args.profile, patterns=args.base_patterns)

    def run(checker):
        records = iter_records(paths, args.input_format, args.id_column, args.text_column)
        return checker.check_many(records, batch_size=args.batch_size, n_process=args.n_process)

    with base, new:
        pairs = zip(run(base), run(new), strict=True)  # one outcome per note, in input order
        diff = diff_outcomes(pairs, labels, base.ruleset_version, new.ruleset_version)
    with _output(args.output) as fh:
        write_diff(args.format, diff, fh)
    if args.output or args.format != "table":
        for line in summary_lines(diff):
            print(f"doc-checker: {line.strip()}", file=sys.stderr)
    return EXIT_ERRORS if diff.changed else EXIT_OK


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
    "diff": cmd_diff,
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
