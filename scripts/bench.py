#!/usr/bin/env python
"""Throughput benchmark for doc-checker (a benchmark, not a test).

One run measures, on the same generated notes:

1. ``Checker.check_many`` in one process;
2. the same with ``n_process=2`` (its results must be identical to 1: ``to_dict()`` of each);
3. a plain medspaCy pipeline, the reference users would otherwise pick: ``medspacy.load()`` with
   its defaults (PyRuSH sentence splitter, target matcher, default ConText rules) plus
   ``nlp.add_pipe("medspacy_sectionizer")``, run with ``nlp.pipe``;
4. ``spacy.blank("en")`` tokenization with ``nlp.pipe``: the floor.

The notes are built from ``fixtures/notes/*.txt`` with ``random.Random(1234)``: each note joins
1 to 6 distinct fixture notes, so notes run from about 150 to 1,500 tokens. Tokens are counted
once with the blank English tokenizer and that count is used for every row's tokens/s.

Every pipeline is built and warmed up on a few notes before it is timed. Each row runs
``--repeat`` times (3), each time in a fresh process over notes it has not seen, and the fastest
run is reported: noise on a shared machine only ever slows a run down (every time is in
``--json``; the Spark row runs once). By default each row runs
in its own fresh (spawned) process, so each row's peak RSS (``ru_maxrss``) is its own; for
``n_process=2`` the worker processes are reported too (``getrusage(RUSAGE_CHILDREN)`` gives the
largest single worker). ``--no-isolate`` runs all rows in this process (RSS is then cumulative).

Usage, from the repository root::

    python scripts/bench.py [--notes 600] [--batch-size 64] [--medspacy-notes 150]
                            [--repeat 3] [--skip-medspacy] [--json OUT]

No network access is needed or attempted by this script.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "notes"
SEED = 1234

# make ``python scripts/bench.py`` work from a checkout without installing; find_spec does not
# import the package, so the floor row's process stays free of medspaCy and scispaCy
if importlib.util.find_spec("doc_checker") is None:
    sys.path.insert(0, str(REPO))


# ---------------------------------------------------------------------------------------------
# corpus
# ---------------------------------------------------------------------------------------------
def build_corpus(n_notes: int, seed: int = SEED) -> List[Tuple[str, str]]:
    """``n_notes`` (note_id, text) pairs, each joining 1 to 6 distinct fixture notes."""
    paths = sorted(FIXTURES.glob("*.txt"))
    if not paths:
        raise SystemExit(f"no fixture notes found in {FIXTURES}")
    fixtures = [p.read_text(encoding="utf-8").strip() for p in paths]
    rng = random.Random(seed)
    notes = []
    for i in range(n_notes):
        k = rng.randint(1, min(6, len(fixtures)))
        parts = rng.sample(fixtures, k)
        notes.append((f"bench-{i:04d}", "\n\n".join(parts) + "\n"))
    return notes


def default_patterns() -> Optional[str]:
    """None when the package ships its patterns; else the checkout's ``patterns/`` directory.

    Looks without importing doc_checker (that would load spaCy and medspaCy into this driver
    process, whose memory every row process started from it would then report).
    """
    spec = importlib.util.find_spec("doc_checker")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "patterns").is_dir():
            return None
    if (REPO / "patterns").is_dir():
        return str(REPO / "patterns")
    return None


def _dist_version(name: str) -> Optional[str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------------------------
# measurements (each runs in one process; heavy imports stay inside the functions)
# ---------------------------------------------------------------------------------------------
def _maxrss_mib(who: int) -> float:
    rss = resource.getrusage(who).ru_maxrss
    # Linux reports kilobytes, macOS bytes
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _rss_fields() -> Dict[str, float]:
    return {
        "peak_rss_self_mib": _maxrss_mib(resource.RUSAGE_SELF),
        "peak_rss_children_mib": _maxrss_mib(resource.RUSAGE_CHILDREN),
    }


def measure(kind: str, notes: Sequence[Tuple[str, str]], cfg: Dict[str, Any]) -> Dict[str, Any]:
    """Build, warm up, then time one pipeline over ``notes``."""
    batch_size = cfg["batch_size"]
    warm = [text for _, text in notes[: cfg["warmup"]]]
    out: Dict[str, Any] = {"kind": kind, "notes": len(notes)}

    if kind == "spark":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_spark import measure_spark

        return measure_spark(notes, {**cfg, "master": "local[2]", "keep_results": False})

    if kind in ("checker", "checker_mp"):
        from doc_checker import Checker

        t0 = time.perf_counter()
        checker = Checker(patterns=cfg["patterns"])
        out["build_s"] = time.perf_counter() - t0
        out["pipe_names"] = list(checker.nlp.pipe_names)
        from doc_checker._build import build_status

        out["build"] = build_status()  # which modules ran compiled
        n_process = 1 if kind == "checker" else cfg["n_process"]
        out["n_process"] = n_process
        warm_pairs = list(notes[: max(cfg["warmup"], n_process)])
        t0 = time.perf_counter()
        # for n_process > 1 the warm-up call starts the worker pool (small chunks, so every
        # process gets one); a Checker keeps its workers for later calls, as a user's would
        warm_batch = batch_size if n_process == 1 else max(1, len(warm_pairs) // n_process)
        list(checker.check_many(warm_pairs, batch_size=warm_batch, n_process=n_process))
        out["warmup_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        results = list(checker.check_many(notes, batch_size=batch_size, n_process=n_process))
        out["seconds"] = time.perf_counter() - t0
        checker.close()
        out.update(_rss_fields())
        out["errors"] = sum(1 for r in results if not r.ok)
        out["results"] = [r.to_dict() for r in results]
        return out

    if kind == "medspacy":
        import medspacy

        if not cfg["pyrush_log"]:
            # PyRuSH 1.0.x logs every sentence decision at DEBUG through loguru, whose default
            # handler prints to stderr; silence the output (the messages are still formatted)
            try:
                from loguru import logger

                logger.disable("PyRuSH")
            except ImportError:
                pass
        t0 = time.perf_counter()
        nlp = medspacy.load()
        nlp.add_pipe("medspacy_sectionizer")
        out["build_s"] = time.perf_counter() - t0
        out["pipe_names"] = list(nlp.pipe_names)
        out["medspacy_version"] = getattr(medspacy, "__version__", "?")
    elif kind == "floor":
        import spacy

        t0 = time.perf_counter()
        nlp = spacy.blank("en")
        out["build_s"] = time.perf_counter() - t0
        out["pipe_names"] = list(nlp.pipe_names)
        out["spacy_version"] = spacy.__version__
    else:
        raise ValueError(kind)

    texts = [text for _, text in notes]
    t0 = time.perf_counter()
    for _ in nlp.pipe(warm, batch_size=batch_size):
        pass
    out["warmup_s"] = time.perf_counter() - t0
    counts: List[int] = []
    t0 = time.perf_counter()
    for doc in nlp.pipe(texts, batch_size=batch_size):
        counts.append(len(doc))
    out["seconds"] = time.perf_counter() - t0
    out["own_tokens"] = sum(counts)  # with this pipeline's own tokenizer (medspaCy's differs)
    if kind == "floor":
        out["token_counts"] = counts  # the blank tokenizer's count, used for every row
    out.update(_rss_fields())
    return out


def _child(conn, kind, notes, cfg) -> None:
    # a spawned process inherits "spawn" as its default start method; restore the platform's
    # default (fork on Linux) so check_many(n_process>1) starts its workers as in a user's script
    mp.set_start_method(cfg["start_method"], force=True)
    try:
        conn.send(("ok", measure(kind, notes, cfg)))
    except BaseException as exc:  # noqa: BLE001 - report it to the parent
        import traceback

        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def run_row(kind: str, notes: Sequence[Tuple[str, str]], cfg: Dict[str, Any]) -> Dict[str, Any]:
    if not cfg["isolate"]:
        try:
            return measure(kind, notes, cfg)
        except Exception as exc:  # noqa: BLE001
            return {"kind": kind, "notes": len(notes), "error": f"{type(exc).__name__}: {exc}"}
    ctx = mp.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child_conn, kind, list(notes), cfg))
    proc.start()
    child_conn.close()
    try:
        status, payload = parent_conn.recv()
    except EOFError:
        status, payload = "error", "the benchmark process died"
    proc.join()
    if status != "ok":
        if proc.exitcode:
            payload = f"{payload} (exit code {proc.exitcode})"
        return {"kind": kind, "notes": len(notes), "error": payload}
    return payload


# ---------------------------------------------------------------------------------------------
# machine and report
# ---------------------------------------------------------------------------------------------
def _build_line(row: Optional[Dict[str, Any]]) -> str:
    """Which of the checker's modules ran compiled (doc_checker/_build.py)."""
    build = (row or {}).get("build")
    if not build:
        return "doc-checker build: unknown"
    compiled = sorted(name for name, state in build.items() if state == "compiled")
    other = sorted(f"{name} ({state})" for name, state in build.items() if state != "compiled")
    return f"doc-checker build: {len(compiled)} of {len(build)} modules compiled" + (
        f"; NOT compiled: {', '.join(other)}" if other else ""
    )


def machine_info() -> Dict[str, Any]:
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        "cpu": cpu or platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "spacy": _dist_version("spacy"),
        "medspacy": _dist_version("medspacy"),
        "doc_checker": _dist_version("doc-checker"),
    }
    if info["doc_checker"] is None:  # a checkout that is not installed: read _version.py
        import re

        spec = importlib.util.find_spec("doc_checker")
        for location in (spec.submodule_search_locations or []) if spec else []:
            vfile = Path(location) / "_version.py"
            if vfile.is_file():
                m = re.search(
                    r"__version__\s*=\s*['\"]([^'\"]+)", vfile.read_text(encoding="utf-8")
                )
                info["doc_checker"] = m.group(1) if m else None
    return info


def _fmt(x: Optional[float], spec: str) -> str:
    return "-" if x is None else format(x, spec)


def render(machine, corpus, rows, cfg, identical, console_print) -> None:
    labels = {
        "checker": "doc-checker check_many (1 process)",
        "checker_mp": f"doc-checker check_many (n_process={cfg['n_process']})",
        "medspacy": "plain medspaCy (load() + sectionizer)",
        "floor": 'spacy.blank("en") tokenization (floor)',
        "spark": "doc-checker check_notes on Spark local[2]",
    }
    ref = rows.get("medspacy")
    floor = rows.get("floor")
    ref_tps = ref.get("tokens_per_s") if ref and "error" not in ref else None
    floor_tps = floor.get("tokens_per_s") if floor and "error" not in floor else None

    header = [
        "pipeline",
        "notes",
        "tokens",
        "build s",
        "warm-up s",
        "timed s",
        "notes/s",
        "tokens/s",
        "x medspaCy",
        "x floor",
        "peak RSS MiB",
    ]
    table_rows = []
    for kind in ("checker", "checker_mp", "spark", "medspacy", "floor"):
        r = rows.get(kind)
        if r is None:
            continue
        if "error" in r:
            table_rows.append(
                [labels[kind], str(r["notes"]), "-", "-", "-", "-", "-", "-", "-", "-", "FAILED"]
            )
            continue
        tps = r["tokens_per_s"]
        rss = f"{r['peak_rss_self_mib']:.0f}"
        if kind == "checker_mp":
            # the parent is a worker too
            rss += f" + {r['n_process'] - 1}x{r['peak_rss_children_mib']:.0f}"
        if kind == "spark":
            rss += (
                f" + {r['python_workers']}x{r['peak_rss_children_mib']:.0f}"
                f" + JVM {r['jvm_peak_rss_mib']:.0f}"
            )
        table_rows.append(
            [
                labels[kind],
                str(r["notes"]),
                f"{r['tokens']:,}",
                _fmt(r.get("build_s"), ".2f"),
                _fmt(r.get("warmup_s"), ".2f"),
                f"{r['seconds']:.2f}",
                f"{r['notes_per_s']:,.1f}",
                f"{tps:,.0f}",
                _fmt(tps / ref_tps if ref_tps else None, ".2f"),
                _fmt(tps / floor_tps if floor_tps else None, ".3f"),
                rss,
            ]
        )

    lines_before = [
        f"machine: {machine['cpu']}, {machine['cpu_count']} cores "
        f"({machine['cpus_usable']} usable), {machine['platform']}",
        f"python {machine['python']}, spaCy {machine['spacy']}, medspaCy {machine['medspacy']}, "
        f"doc-checker {machine['doc_checker']}",
        _build_line(rows.get("checker")),
        f"corpus: {corpus['notes']} notes from {corpus['fixtures']} fixtures (seed {SEED}), "
        f"{corpus['tokens']:,} tokens; tokens/note min {corpus['min']}, "
        f"median {corpus['median']:.0f}, max {corpus['max']}; batch_size {cfg['batch_size']}, "
        f"warm-up {cfg['warmup']} notes; each row the fastest of {cfg['repeat']} runs in fresh "
        "processes (Spark: 1)",
    ]
    notes_after = [
        "tokens = spacy.blank('en') token count of the notes each row ran on (counted once).",
        "x medspaCy / x floor = this row's tokens/s divided by that row's tokens/s "
        "(tokens/s, not notes/s, because the medspaCy row may run on a subset).",
        "peak RSS = ru_maxrss of "
        + (
            "the row's own fresh process"
            if cfg["isolate"]
            else "this process so far (cumulative, --no-isolate)"
        )
        + f"; for n_process={cfg['n_process']}: parent + N x largest worker (RUSAGE_CHILDREN; "
        "workers are forked, so their RSS includes pages shared with the parent).",
    ]
    mp_row = rows.get("checker_mp")
    if mp_row and "error" not in mp_row:
        notes_after.append(
            f"n_process={cfg['n_process']}: the warm-up call started the worker pool (forked "
            f"workers inherit the built pipeline; it took {mp_row['warmup_s']:.2f} s with its "
            f"notes), and the Checker kept it for the timed call, as it does for a user's later "
            "calls."
        )
    if rows.get("medspacy") and not cfg["pyrush_log"]:
        notes_after.append(
            "medspaCy row: PyRuSH's loguru DEBUG output silenced "
            "(logger.disable('PyRuSH')); --pyrush-log keeps it."
        )
    if identical is not None:
        notes_after.append(
            f"n_process={cfg['n_process']} results identical to 1 process: "
            + (
                "YES"
                if identical["identical"]
                else f"NO - {identical['mismatches']} of {identical['compared']} differ "
                f"(first: {identical['first_mismatch']})"
            )
        )
    for kind in ("checker", "checker_mp"):
        r = rows.get(kind)
        if r and "error" not in r and r.get("errors"):
            notes_after.append(f"{labels[kind]}: {r['errors']} error records")
    for kind, r in rows.items():
        if "error" in r:
            notes_after.append(f"{labels[kind]} FAILED: {r['error'].strip().splitlines()[0]}")
    console_print(lines_before, header, table_rows, notes_after)


def _print_rich(lines_before, header, table_rows, notes_after) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    for line in lines_before:
        console.print(line, highlight=False)
    table = Table(title="doc-checker throughput")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right")
    for row in table_rows:
        table.add_row(*row)
    console.print(table)
    for line in notes_after:
        console.print("  " + line, highlight=False)


def _print_plain(lines_before, header, table_rows, notes_after) -> None:
    for line in lines_before:
        print(line)
    widths = [
        max(len(h), *(len(r[i]) for r in table_rows)) if table_rows else len(h)
        for i, h in enumerate(header)
    ]
    fmt_row = lambda cells: "  ".join(  # noqa: E731
        c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)
    )
    print()
    print(fmt_row(header))
    print(fmt_row(["-" * w for w in widths]))
    for row in table_rows:
        print(fmt_row(row))
    print()
    for line in notes_after:
        print("  " + line)


# ---------------------------------------------------------------------------------------------
def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--notes", type=int, default=600, help="notes in the corpus (default 600)")
    ap.add_argument("--batch-size", type=int, default=64, help="batch size for every pipeline (64)")
    ap.add_argument("--n-process", type=int, default=2, help="processes for the parallel row (2)")
    ap.add_argument(
        "--medspacy-notes",
        type=int,
        default=150,
        help="run the medspaCy reference on at most this many notes (150)",
    )
    ap.add_argument(
        "--skip-medspacy", action="store_true", help="do not run the medspaCy reference"
    )
    ap.add_argument("--skip-spark", action="store_true", help="do not run the Spark local[2] row")
    ap.add_argument("--warmup", type=int, default=5, help="notes each pipeline warms up on (5)")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per row, each in a fresh process; the fastest is reported (3)",
    )
    ap.add_argument(
        "--patterns",
        default=None,
        help="patterns directory for the Checker (default: the shipped patterns, or "
        "the checkout's patterns/ when the package is not installed)",
    )
    ap.add_argument(
        "--pyrush-log",
        action="store_true",
        help="keep PyRuSH's loguru DEBUG output to stderr in the medspaCy row",
    )
    ap.add_argument(
        "--no-isolate",
        dest="isolate",
        action="store_false",
        help="run every row in this process (peak RSS becomes cumulative)",
    )
    ap.add_argument(
        "--only-checker",
        action="store_true",
        help="only the floor and the one-process checker row (e.g. a second build of the package)",
    )
    ap.add_argument("--label", default="", help="what this run measures, printed with the table")
    ap.add_argument("--plain", action="store_true", help="plain-text table even if rich is there")
    ap.add_argument("--json", metavar="OUT", help="also write the numbers as JSON to OUT")
    args = ap.parse_args(argv)
    if args.notes < 1 or args.batch_size < 1 or args.n_process < 2:
        ap.error("--notes and --batch-size must be >= 1, --n-process >= 2")

    cfg = {
        "batch_size": args.batch_size,
        "n_process": args.n_process,
        "warmup": max(0, args.warmup),
        "repeat": max(1, args.repeat),
        "patterns": args.patterns if args.patterns is not None else default_patterns(),
        "pyrush_log": args.pyrush_log,
        "isolate": args.isolate,
        "start_method": mp.get_start_method(),
    }
    notes = build_corpus(args.notes)
    machine = machine_info()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    log(f"corpus: {len(notes)} notes; patterns: {cfg['patterns'] or 'shipped with the package'}")
    if args.label:
        log(f"run: {args.label}")

    rows: Dict[str, Dict[str, Any]] = {}

    def run(
        kind: str, subset: Sequence[Tuple[str, str]], repeat: int = cfg["repeat"]
    ) -> Dict[str, Any]:
        """The row's fastest of ``repeat`` runs, each in a fresh process (a cold start, every
        note seen once: noise on a shared machine only ever slows a run down)."""
        best: Optional[Dict[str, Any]] = None
        times: List[float] = []
        for attempt in range(repeat):
            log(f"running {kind} on {len(subset)} notes ({attempt + 1} of {repeat}) ...")
            r = run_row(kind, subset, cfg)
            if "error" in r:
                log(f"  FAILED: {r['error']}")
                best = r
                break
            log(f"  {r['seconds']:.2f} s, {len(subset) / r['seconds']:.1f} notes/s")
            times.append(r["seconds"])
            if best is None or r["seconds"] < best["seconds"]:
                best = r
        assert best is not None
        if times:
            best["all_seconds"] = times
        rows[kind] = best
        return best

    # the floor row runs first: its blank-tokenizer counts are the tokens of every row
    floor = run("floor", notes)
    if "error" in floor:
        print(f"the blank spaCy tokenizer failed: {floor['error']}", file=sys.stderr)
        return 1
    token_counts: List[int] = floor.pop("token_counts")
    corpus = {
        "notes": len(notes),
        "fixtures": len(list(FIXTURES.glob("*.txt"))),
        "seed": SEED,
        "tokens": sum(token_counts),
        "min": min(token_counts),
        "max": max(token_counts),
        "median": statistics.median(token_counts),
        "chars": sum(len(t) for _, t in notes),
        # the fixture set may grow: the digest tells whether two runs timed the same notes
        "sha256": hashlib.sha256("\x00".join(t for _, t in notes).encode("utf-8")).hexdigest(),
    }
    log(
        f"  {corpus['tokens']:,} tokens, {corpus['min']}-{corpus['max']} per note "
        f"(median {corpus['median']:.0f})"
    )

    run("checker", notes)
    if not args.only_checker:
        run("checker_mp", notes)
    if not args.skip_spark and not args.only_checker:
        run("spark", notes, repeat=1)
    if not args.skip_medspacy and not args.only_checker:
        run("medspacy", notes[: max(1, min(args.medspacy_notes, len(notes)))])
    for r in rows.values():
        if "error" not in r:
            r["tokens"] = sum(token_counts[: r["notes"]])
            r["notes_per_s"] = r["notes"] / r["seconds"]
            r["tokens_per_s"] = r["tokens"] / r["seconds"]

    identical = None
    one, many = rows.get("checker"), rows.get("checker_mp")
    if one and many and "error" not in one and "error" not in many:
        a, b = one.pop("results"), many.pop("results")
        ja = [json.dumps(d, sort_keys=True) for d in a]
        jb = [json.dumps(d, sort_keys=True) for d in b]
        bad = [
            i
            for i in range(max(len(ja), len(jb)))
            if i >= len(ja) or i >= len(jb) or ja[i] != jb[i]
        ]
        identical = {
            "identical": not bad,
            "compared": max(len(ja), len(jb)),
            "mismatches": len(bad),
            "first_mismatch": (notes[bad[0]][0] if bad and bad[0] < len(notes) else None),
        }
    for r in rows.values():
        r.pop("results", None)

    printer = _print_plain
    if not args.plain:
        try:
            import rich  # noqa: F401

            printer = _print_rich
        except ImportError:
            pass
    render(machine, corpus, rows, cfg, identical, printer)
    driver_rss = _maxrss_mib(resource.RUSAGE_SELF)
    print(f"  bench driver process peak RSS: {driver_rss:.0f} MiB")

    if args.json:
        report = {
            "machine": machine,
            "corpus": corpus,
            "config": {k: v for k, v in cfg.items()}
            | {
                "notes": args.notes,
                "medspacy_notes": args.medspacy_notes,
                "skip_medspacy": args.skip_medspacy,
            },
            "label": args.label,
            "rows": rows,
            "n_process_identical": identical,
            "driver_peak_rss_mib": driver_rss,
        }
        ref, floor = rows.get("medspacy"), rows.get("floor")
        for r in rows.values():
            if "error" in r:
                continue
            if ref and "error" not in ref:
                r["ratio_vs_medspacy_tokens_per_s"] = r["tokens_per_s"] / ref["tokens_per_s"]
            if floor and "error" not in floor:
                r["ratio_vs_floor_tokens_per_s"] = r["tokens_per_s"] / floor["tokens_per_s"]
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"  numbers written to {args.json}")

    failed = any("error" in r for r in rows.values())
    return 1 if failed or (identical is not None and not identical["identical"]) else 0


if __name__ == "__main__":
    sys.exit(main())
