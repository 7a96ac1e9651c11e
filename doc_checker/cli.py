"""Command line: ``doc-checker check | explain | evaluate``. A thin shell over Checker, readers and
writers. Exit codes: 0 every input checked; 1 some inputs were error records (each is in the
output); 2 usage errors (a bad path, no notes, invalid rules), reported before any note is read."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple, Union

from ._version import __version__
from .decide.claims import parse_codes
from .errors import DocCheckerError, InputError, UsageError
from .io.paths import iter_records, resolve_paths
from .io.readers import FORMATS as INPUT_FORMATS
from .io.text import printable
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
        help="jsonl --output: keep what an interrupted run of the same input wrote, go on",
    )
    c.add_argument(
        "--fail-on-error",
        action="store_true",
        help="stop at the first note that cannot be checked (exit 1)",
    )
    c.add_argument("--batch-size", type=int, default=64)
    c.add_argument(
        "--n-process", type=int, default=1, help="worker processes (default 1; 0: every core)"
    )
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


class _Output:
    """Where ``check`` writes: stdout, or ``path`` via ``path.partial``, renamed over ``path``
    only when the run finished, so an interrupted or stopped run never leaves a file that looks
    complete. Beside the partial file, ``path.partial.input`` records which input (and options)
    it was made from, so that ``--resume`` continues the same input or refuses."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = Path(path) if path else None
        self.partial = self.path.with_name(self.path.name + ".partial") if self.path else None
        self.ident = self.path.with_name(self.path.name + ".partial.input") if self.path else None

    def check(self, inputs: List[Union[Path, str]]) -> None:
        """Usage errors found before any note is read: a directory, a missing or unwritable
        folder, or one of the inputs itself."""
        if self.path is None:
            return
        raw = str(self.path)
        if self.path.is_dir():
            raise UsageError(f"--output {raw}: is a directory; give a file name")
        parent = self.path.parent
        if not parent.is_dir():
            raise UsageError(f"--output {raw}: the folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(f"--output {raw}: the folder {parent} is not writable")
        for source in inputs:
            if source != "-" and _same_file(Path(source), self.path):
                raise UsageError(f"--output {raw}: is one of the inputs; it would be overwritten")

    def resume_point(self, identity: Dict[str, Any]) -> Tuple[int, int]:
        """How many records an interrupted run already wrote (complete lines of the partial
        file), and how many of them are error records, after checking that it was made from
        this same input; (0, 0) when there is none."""
        assert self.partial is not None and self.ident is not None and self.path is not None
        if not self.partial.exists():
            if self.path.exists():
                raise UsageError(
                    f"--resume: {self.path} is complete (no interrupted run to resume); "
                    "run without --resume to check the input again"
                )
            return 0, 0
        try:
            recorded = json.loads(self.ident.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UsageError(
                f"--resume: cannot tell which input {self.partial} was made from "
                f"({self.ident.name} is missing or unreadable); run without --resume"
            ) from None
        if recorded != identity:
            changed = sorted(k for k in identity if recorded.get(k) != identity[k]) or ["format"]
            raise UsageError(
                f"--resume: {self.partial} was made from a different input or options "
                f"({', '.join(changed)} changed); run without --resume to start over"
            )
        done = errors = 0
        with self.partial.open("rb") as fh:
            for line in fh:
                if not line.endswith(b"\n"):
                    break  # cut short by a kill: redone
                done += 1
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                errors += isinstance(record, dict) and "error" in record and "score" not in record
        return done, errors

    @contextmanager
    def open(self, keep: int, identity: Dict[str, Any]) -> Iterator[IO[str]]:
        """The handle to write to, after the first ``keep`` lines of an earlier partial file.
        Renamed into place by ``finish``; left as ``.partial`` when the run stops early."""
        if self.path is None:
            yield sys.stdout
            return
        assert self.partial is not None and self.ident is not None
        kept = b""
        if keep:
            data = self.partial.read_bytes()
            cut = 0
            for _ in range(keep):
                cut = data.index(b"\n", cut) + 1
            kept = data[:cut]  # drops a line cut short by a kill
        with open(self.partial, "wb") as raw:
            raw.write(kept)
        if identity:
            self.ident.write_text(json.dumps(identity, sort_keys=True), encoding="utf-8")
        # backslashreplace: a lone surrogate in an id or a carried value must not end the run
        fh = open(self.partial, "a", encoding="utf-8", errors="backslashreplace", newline="")
        try:
            yield fh
        finally:
            fh.close()

    def finish(self) -> None:
        if self.path is not None and self.partial is not None and self.ident is not None:
            os.replace(self.partial, self.path)
            self.ident.unlink(missing_ok=True)


@contextmanager
def _output(path: Optional[str]) -> Iterator[IO[str]]:
    """stdout, or ``path`` written via ``path.partial`` and renamed when complete (evaluate,
    diff); the output path is checked before anything is computed."""
    out = _Output(path)
    out.check([])
    with out.open(0, {}) as fh:
        yield fh
    out.finish()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _input_identity(inputs: List[Union[Path, str]], args) -> Dict[str, Any]:
    """What a resumed run must share with the interrupted one: each input file's path and
    content digest, and every option that changes which notes are read or what is written."""
    files = []
    for source in inputs:
        digest = hashlib.sha256()
        with open(source, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        files.append([os.fsdecode(Path(source).resolve()), digest.hexdigest()])
    options = {
        k: getattr(args, k)
        for k in (
            "format",
            "input_format",
            "id_column",
            "text_column",
            "codes_column",
            "codes",
            "profile",
            "patterns",
        )
    }
    return {"inputs": files, "options": options}


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
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1 (got {args.batch_size})")
    if args.n_process < 0:
        raise UsageError(f"--n-process must be 0 (every core) or more (got {args.n_process})")
    output = _Output(args.output)
    paths = resolve_paths(args.paths, report=_report_skipped)
    output.check(paths)  # before any note is read: a bad --output must not cost the run
    if args.resume and "-" in paths:
        raise UsageError("--resume cannot tell whether stdin is the same input; give a file")
    if args.codes is not None:
        try:
            parse_codes(args.codes)
        except ValueError as exc:
            raise UsageError(f"--codes: {exc}") from None
    records = iter_records(
        paths, args.input_format, args.id_column, args.text_column, args.codes_column, args.codes
    )
    identity = _input_identity(paths, args) if args.output and "-" not in paths else {}
    resumed, resumed_errors = output.resume_point(identity) if args.resume else (0, 0)
    if resumed:
        # the output is in input order, one line per input: the first `resumed` inputs are done
        records = islice(records, resumed, None)
    checker = _checker(args)
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
    stopped = False

    def counted(items):
        """Counts as it goes; with --fail-on-error the stream ends after the first error record
        (which is written, with everything before it)."""
        nonlocal stopped
        for o in items:
            if resumed and not o.ok and o.position is not None:
                o.position += resumed  # positions count from the start of the input
            if o.ok:
                counts["checked"] += 1
                verdicts[o.verdict] = verdicts.get(o.verdict, 0) + 1
            else:
                counts["errors"] += 1
            yield o
            if not o.ok and args.fail_on_error:
                stopped = True
                return

    if output.path is None:
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    with checker, output.open(resumed, identity) as fh:  # the checker's workers end here
        write_outcomes(
            args.format,
            counted(outcomes),
            fh,
            keep_order=args.keep_order,
            group_by=args.group_by,
        )
        fh.flush()
    if not stopped:
        output.finish()
    by_verdict = ", ".join(
        f"{v} {verdicts[v]}" for v in ("supported", "incomplete", "not_supported") if v in verdicts
    )
    print(
        f"doc-checker: {counts['checked']} checked, {counts['errors']} errors"
        + (f" ({by_verdict})" if by_verdict else "")
        + (
            f"; {resumed} done by the interrupted run ({resumed_errors} errors), kept"
            if resumed
            else ""
        )
        + ("; stopped at the first error" if stopped else ""),
        file=sys.stderr,
    )
    if stopped and output.partial is not None:
        print(
            f"doc-checker: the run is incomplete: what was written is in "
            f"{printable(str(output.partial))}"
            + (" (--resume continues it)" if args.format == "jsonl" else ""),
            file=sys.stderr,
        )
    elif args.output and args.format == "html":
        print(
            f"doc-checker: report written to {printable(str(Path(args.output).resolve()))}",
            file=sys.stderr,
        )
    return EXIT_ERRORS if counts["errors"] or resumed_errors else EXIT_OK


def _report_skipped(path: str, reason: str) -> None:
    print(f"doc-checker: skipped {printable(path)}: {reason}", file=sys.stderr)


def cmd_explain(args) -> int:
    from rich.console import Console
    from rich.markup import escape
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
        escape(
            f"{printable(result.note_id)}: {result.verdict}, score {result.score:.0f}, "
            f"code {result.suggested_code or 'none'}"
        )
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
                f"[{'red' if f.severity == 'error' else 'yellow'}]{f.severity}[/] "
                + escape(f"{f.code}: {f.message}")
            )
    console.rule("procedures")
    if not result.procedures:
        console.print("no procedure with a target site was found")
    for i, proc in enumerate(result.procedures, 1):
        site, guidance = proc["site"], proc["guidance"]
        side = f"{site['laterality']} " if site.get("laterality") else ""
        console.print(
            Text(
                f"{i}. {proc['action'] or 'procedure'} at {side}{site['normalized']}: "
                f"region {site['region']} ({site['why']}); "
                f"guidance {guidance['modality'] or 'none'} ({guidance['status']}); "
                f"needle {'yes' if proc['needle'] else 'no'}; contrast {proc['contrast']}"
            )
        )
    console.rule("review")
    console.print(
        Text(
            "needed: " + ", ".join(result.review.reasons)
            if result.review.needed
            else "not needed: the evidence is consistent"
        )
    )
    console.rule("missing and queries")
    console.print("missing: " + (", ".join(result.missing) or "none"))
    for q in result.queries:
        console.print(Text(f"  query: {q}"))
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
        print(f"doc-checker: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
