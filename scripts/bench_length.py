"""Linear cost in note length: time per token of a 1 MB note against a ~250-token note.

Builds, from the fixtures (fixed seed): a short note of about 250 tokens (a fixture of that
size), a 1 MB note (fixture notes joined until 1,000,000 characters) and a 1 MB run-on blob
(the same text with every line break and sentence end removed: one 'sentence'). Times
``Checker.check`` on each (the short note many times, best of ``--repeat`` runs) and prints
microseconds per token and the ratio to the short note. The issue's bar: within 2x.

    python scripts/bench_length.py [--chars 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def notes(chars: int, seed: int = 1234):
    import spacy

    blank = spacy.blank("en")
    fixtures = [
        p.read_text(encoding="utf-8").strip()
        for p in sorted((ROOT / "fixtures" / "notes").glob("*.txt"))
    ]
    short = min(fixtures, key=lambda t: abs(len(blank(t)) - 250))
    rng = random.Random(seed)
    parts, size = [], 0
    while size < chars:
        part = rng.choice(fixtures)
        parts.append(part)
        size += len(part) + 2
    long_note = "\n\n".join(parts)[:chars]
    blob = re.sub(r"[.!?]?\s*\n\s*", " ", long_note)
    return {
        "short (~250 tokens)": short,
        f"{len(long_note):,} chars, laid out": long_note,
        f"{len(blob):,} chars, one run-on line": blob,
    }, blank


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per note; the best is kept")
    args = ap.parse_args(argv)
    from doc_checker import Checker
    from doc_checker.nlp import matcher

    corpus, blank = notes(args.chars)
    checker = Checker()
    checker.check(corpus["short (~250 tokens)"])  # warm up
    print(f"matcher: {'compiled core' if matcher.COMPILED else 'pure Python'}")
    base = None
    for label, text in corpus.items():
        tokens = len(blank.make_doc(text))
        loops = max(1, 200_000 // max(tokens, 1))
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            for _ in range(loops):
                checker.check(text)
            best = min(best, (time.perf_counter() - start) / loops)
        per_token = best / tokens * 1e6
        base = base or per_token
        print(
            f"{label:32s} {tokens:>9,} tokens  {best * 1e3:10.1f} ms  {per_token:6.2f} us/token  "
            f"{per_token / base:4.2f}x the short note"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
