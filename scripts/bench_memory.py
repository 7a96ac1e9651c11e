"""Flat memory at scale: peak RSS of `doc-checker check` on 1,000 vs 100,000 notes.

Writes a JSONL of N notes built from the fixtures (fixed seed; each note gets a unique id and a
varied tail so the vocabulary keeps growing a little, as real notes do), runs the CLI on it in
a child process (jsonl output to a file, one process) and reports the child's peak RSS.

    python scripts/bench_memory.py --small 1000 --large 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_corpus(path: Path, n: int, seed: int = 1234) -> None:
    rng = random.Random(seed)
    notes = [
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures" / "notes").glob("*.txt"))
    ]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            note = rng.choice(notes)
            text = (
                f"{note}\nAccession {rng.randrange(10**8)}. "
                f"Dictated {rng.randrange(1, 29)}/{rng.randrange(1, 13)}/2026."
            )
            fh.write(
                json.dumps({"note_id": f"n{i:06d}", "text": text, "payer": rng.choice("ABCDE")})
                + "\n"
            )


def peak_rss_mib(corpus: Path, out: Path) -> tuple:
    cmd = [
        sys.executable,
        "-m",
        "doc_checker.cli",
        "check",
        "--format",
        "jsonl",
        "--no-progress",
        "--output",
        str(out),
        str(corpus),
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, time.perf_counter() - start, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=100000)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.small, args.large):
            corpus = Path(tmp) / f"notes{n}.jsonl"
            write_corpus(corpus, n)
            rss, seconds, code = peak_rss_mib(corpus, Path(tmp) / f"out{n}.jsonl")
            lines = sum(1 for _ in open(Path(tmp) / f"out{n}.jsonl"))
            rows.append((n, rss, seconds, code, lines))
            print(
                f"{n:>7} notes: peak RSS {rss:7.1f} MiB, {seconds:7.1f} s "
                f"({n / seconds:6.1f} notes/s), exit {code}, {lines} output lines",
                flush=True,
            )
    ratio = rows[1][1] / rows[0][1]
    print(f"peak RSS ratio {args.large} / {args.small} notes: {ratio:.2f} (target <= 1.3)")
    return 0 if ratio <= 1.3 and all(r[4] == r[0] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
