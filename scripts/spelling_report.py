"""Every word the robust-terms layer reads as a key term, on the labelled note sets.

Respelling (patterns/spelling.json) can add false matches: a word within two edits of
'injection' that is not one. This lists each respelled word with its term, its count and the
sets it occurs in, so a person can read the list and deny what is wrong. Prints words, never
notes. Usage: python scripts/spelling_report.py [FILE.jsonl | DIR ...]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Dict, Iterator, Tuple

from doc_checker.rules import load_ruleset

DEFAULT_SETS = [
    "fixtures/notes",
    "fixtures/others/blind.jsonl",
    "tests/data/kinds",
    "../shared/corpus",
]


def _texts(path: Path) -> Iterator[str]:
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.suffix in (".txt", ".jsonl"):
                yield from _texts(p)
    elif path.suffix == ".txt":
        yield path.read_text(encoding="utf-8")
    elif path.suffix == ".jsonl":
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)["text"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=DEFAULT_SETS)
    args = ap.parse_args()
    from doc_checker.nlp import build_nlp

    ruleset = load_ruleset()
    if ruleset.spelling is None:
        print("no patterns/spelling.json: nothing is respelled")
        return 0
    nlp = build_nlp(ruleset)
    found: Dict[Tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    words = 0
    for name in args.sets:
        path = Path(name)
        if not path.exists():
            print(f"skipped (not found): {name}", file=sys.stderr)
            continue
        for text in _texts(path):
            doc = nlp.make_doc(text)
            doc = nlp.get_pipe("doc_checker_spelling")(doc)
            for tok in doc:
                words += 1
                term = ruleset.spelling.respell(tok.lower_)
                if term is not None:
                    found[(tok.lower_, term)][name] += 1
    print(f"{words:,} tokens read; {len(found)} distinct words respelled:")
    for (word, term), sets in sorted(found.items(), key=lambda kv: -sum(kv[1].values())):
        where = ", ".join(f"{k}: {v}" for k, v in sets.items())
        print(f"  {word!r:28} -> {term:20} {sum(sets.values()):5}  ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
