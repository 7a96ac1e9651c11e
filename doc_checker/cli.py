"""Command line: ``doc-checker check | explain | evaluate``. A thin shell over Checker, readers and
writers. Exit codes: 0 done, 2 usage or input errors (bad path, no notes, invalid rules)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, List, Optional

from ._version import __version__
from .errors import DocCheckerError, InputError
from .readers import UsageError, iter_notes, resolve_paths
from .writers import FORMATS, WRITERS

EXIT_OK, EXIT_USAGE = 0, 2
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
    p = argparse.ArgumentParser(prog="doc-checker", description="Check procedure notes for the documentation that supports CPT +77002.")
    p.add_argument("--version", action="version", version=f"doc-checker {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", help="profile JSON (which elements are required, weights)")
    common.add_argument("--patterns", help="patterns directory (rule files) replacing the shipped one")

    c = sub.add_parser("check", parents=[common], help="check notes and print a worklist or records")
    c.add_argument("paths", nargs="+", metavar="PATH", help=".txt file, directory (all *.txt below it), or - for stdin")
    c.add_argument("--format", choices=FORMATS, default="table")
    c.add_argument("--output", "-o", help="write here instead of stdout (atomically)")
    c.add_argument("--batch-size", type=int, default=64)
    c.add_argument("--n-process", type=int, default=1, help="worker processes (default 1)")
    c.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    e = sub.add_parser("explain", parents=[common], help="show one note with its evidence highlighted")
    e.add_argument("path", metavar="FILE")

    v = sub.add_parser("evaluate", parents=[common], help="compare against gold labels (JSONL)")
    v.add_argument("gold", metavar="GOLD.jsonl")
    v.add_argument("--json", dest="as_json", action="store_true", help="print the numbers as JSON")
    return p


@contextmanager
def _output(path: Optional[str]) -> Iterator[IO[str]]:
    """stdout, or a temp file renamed over ``path`` only when writing finished."""
    if not path:
        yield sys.stdout
        return
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent or "."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _existing_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise UsageError(f"{raw}: no such file")
    return path


def _checker(args):
    from .checker import Checker

    return Checker(profile=args.profile, patterns=args.patterns)


def _progress(iterable, total: int, enabled: bool):
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
    paths = resolve_paths(args.paths)
    checker = _checker(args)
    outcomes = checker.check_many(iter_notes(paths), batch_size=args.batch_size, n_process=args.n_process)
    show = (not args.no_progress) and sys.stderr.isatty() and len(paths) > 1
    outcomes = _progress(outcomes, len(paths), show)
    counts = {"checked": 0, "errors": 0}

    def counted(items):
        for o in items:
            counts["checked" if o.ok else "errors"] += 1
            yield o

    with _output(args.output) as fh:
        WRITERS[args.format](counted(outcomes), fh)
        fh.flush()
    print(f"doc-checker: {counts['checked']} checked, {counts['errors']} errors", file=sys.stderr)
    return EXIT_OK


def cmd_explain(args) -> int:
    from rich.console import Console
    from rich.text import Text

    path = _existing_file(args.path)
    checker = _checker(args)
    from .inputs import validate_text

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
    console.rule(f"{result.note_id}: {result.verdict}, score {result.score:.0f}, code {result.suggested_code or 'none'}")
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
            console.print(f"[{'red' if f.severity == 'error' else 'yellow'}]{f.severity}[/] {f.code}: {f.message}")
    console.rule("missing and queries")
    console.print("missing: " + (", ".join(result.missing) or "none"))
    for q in result.queries:
        console.print(f"  query: {q}")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from .evaluate import evaluate_gold_file

    gold = _existing_file(args.gold)
    checker = _checker(args)
    try:
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
        table.add_row(name, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.tp), str(s.fp), str(s.fn), str(s.tn))
    console.print(table)
    console.print(f"verdict accuracy: {ev.verdict_accuracy:.3f}   code accuracy: {ev.code_accuracy:.3f}")
    if ev.disagreements:
        console.print(f"disagreements ({len(ev.disagreements)}):")
        for d in ev.disagreements:
            console.print("  " + json.dumps(d))
    return EXIT_OK


COMMANDS = {"check": cmd_check, "explain": cmd_explain, "evaluate": cmd_evaluate}


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
