"""The figures of README "How it relates to medspaCy": the checker against stock medspaCy.

On the fixture notes and the development corpus (``../shared/corpus/*.jsonl``, when present):

- sections: notes whose headers (rule, start, end token) equal medspaCy's ``Sectionizer``'s;
- ConText: targets whose modifiers equal stock ``ConText``'s (overlapping modifiers kept), with
  no deviation and with the listed ConText deviations applied to it;
- the reference engine (``Checker(engine="medspacy")``, rules without ``spelling.json``): notes
  whose whole result differs, with no deviation and with all listed deviations applied; for each
  that differs without, the deviations that decide it (``deviations.deciding``), and any that no
  listed deviation explains; and the seconds each engine takes (one run, after a warm-up); then
  with the shipped rules, ``spelling.json`` included: the notes that differ because stock
  TargetMatchers do not respell a misspelt word.

The differential tests (``tests/nlp/``) assert the same; this prints the counts. No note text is
printed, only note ids.

    .venv/bin/python scripts/medspacy_agreement.py [--only sections,context,engine]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
Notes = List[Tuple[str, str]]


def sources() -> Dict[str, Notes]:
    """The fixture notes, and the corpus notes when the corpus is beside the checkout."""
    out = {
        "fixtures": [
            (p.stem, p.read_text(encoding="utf-8"))
            for p in sorted((ROOT / "fixtures" / "notes").glob("*.txt"))
        ]
    }
    corpus = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                corpus.append((record["id"], record["text"]))
    if corpus:
        out["corpus"] = corpus
    return out


def sections_and_context(notes_by_source: Dict[str, Notes]) -> None:
    from doc_checker import Checker
    from doc_checker.nlp._spangroups import group_bounds
    from doc_checker.nlp.context import MODIFIERS_KEY
    from doc_checker.nlp.deviations import applied, deviations_of
    from doc_checker.nlp.reference import (
        modifier_agreement,
        stock_context,
        stock_modifiers,
        stock_sectionizer,
        stock_sections,
    )
    from doc_checker.nlp.sections import SECTION_GROUP
    from doc_checker.nlp.targets import TARGET_GROUP

    with Checker() as checker:
        stock = stock_context(checker.nlp, checker.ruleset.context_rules)
        sectionizer = stock_sectionizer(checker.nlp, checker.ruleset.sections)
        context_deviations = [d.id for d in deviations_of("context")]
        for name, notes in notes_by_source.items():
            docs = [checker.nlp(checker._make_doc(text)) for _, text in notes]
            headers = same = 0
            for doc in docs:
                ours = list(group_bounds(doc, SECTION_GROUP))
                headers += len(ours)
                same += ours == stock_sections(sectionizer, doc)
            print(f"{name}: sections identical on {same} of {len(docs)} notes ({headers} headers)")
            for label, deviations in (("alone", []), ("+ ConText deviations", context_deviations)):
                total = differ = 0
                with applied(stock, deviations):
                    for doc in docs:
                        targets = list(group_bounds(doc, TARGET_GROUP))
                        theirs = stock_modifiers(stock, doc, targets)
                        _, diffs = modifier_agreement(doc.user_data[MODIFIERS_KEY], theirs, targets)
                        total += len(targets)
                        differ += len(diffs)
                print(
                    f"{name}: ConText, stock medspaCy {label}: identical modifiers on "
                    f"{total - differ:,} of {total:,} targets ({(total - differ) / total:.2%})"
                )


def engine(notes_by_source: Dict[str, Notes]) -> None:
    from doc_checker import Checker
    from doc_checker.nlp.deviations import DEVIATIONS, applied, deciding, unexplained
    from doc_checker.rules import default_patterns_dir

    patterns = Path(tempfile.mkdtemp()) / "patterns"
    shutil.copytree(
        default_patterns_dir(), patterns, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    (patterns / "spelling.json").unlink(missing_ok=True)
    ids = [d.id for d in DEVIATIONS]

    def dump(checker: Checker, notes: Notes) -> List[str]:
        return [json.dumps(r.to_dict(), sort_keys=True) for r in checker.check_many(notes)]

    with (
        Checker(patterns=patterns) as checker,
        Checker(engine="medspacy", patterns=patterns) as reference,
    ):
        ctx = reference.nlp.get_pipe("doc_checker_context").ctx
        for name, notes in notes_by_source.items():
            text = dict(notes)
            dump(checker, notes[:3]), dump(reference, notes[:3])
            start = time.perf_counter()
            ours = dict(zip(text, dump(checker, notes), strict=True))
            ours_s = time.perf_counter() - start
            start = time.perf_counter()
            dump(reference, notes)
            theirs_s = time.perf_counter() - start

            def results(
                deviations: Sequence[str], note_ids: Sequence[str], text: Dict[str, str] = text
            ) -> Dict[str, str]:
                with applied(ctx, deviations):
                    found = dump(reference, [(nid, text[nid]) for nid in note_ids])
                return dict(zip(note_ids, found, strict=True))

            with_all = results(ids, list(text))
            same = sum(with_all[nid] == ours[nid] for nid in text)
            needs = deciding(results, ours, ids)
            print(
                f"{name}: reference engine, all deviations: identical results on {same} of "
                f"{len(text)} notes; stock medspaCy alone: {len(needs)} differ"
            )
            for found, count in Counter(needs.values()).most_common():
                print(f"  {count:3d} decided by {' + '.join(found) or 'NOTHING LISTED'}")
            left = unexplained(results, ours, needs)
            print(f"  unexplained: {', '.join(left) if left else 'none'}")
            print(f"  seconds: checker {ours_s:.1f}, reference engine {theirs_s:.1f}")


def with_spelling(notes_by_source: Dict[str, Notes]) -> None:
    """The shipped rules, spelling.json included: stock TargetMatchers do not respell, so notes
    with a misspelt key word differ (the listed deviations applied)."""
    from doc_checker import Checker
    from doc_checker.nlp.deviations import DEVIATIONS, applied

    with Checker() as checker, Checker(engine="medspacy") as reference:
        ctx = reference.nlp.get_pipe("doc_checker_context").ctx
        for name, notes in notes_by_source.items():
            ours = [r.to_dict() for r in checker.check_many(notes)]
            with applied(ctx, [d.id for d in DEVIATIONS]):
                theirs = [r.to_dict() for r in reference.check_many(notes)]
            pairs = list(zip(ours, theirs, strict=True))
            differ = sum(a != b for a, b in pairs)
            decision = sum(
                (a["verdict"], a["suggested_code"]) != (b["verdict"], b["suggested_code"])
                for a, b in pairs
            )
            print(
                f"{name}: with spelling.json (all deviations applied): {differ} of {len(pairs)} "
                f"notes differ, {decision} in verdict or code"
            )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="sections,context,engine", help="comma-separated parts")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    notes_by_source = sources()
    if parts & {"sections", "context"}:
        sections_and_context(notes_by_source)
    if "engine" in parts:
        engine(notes_by_source)
        with_spelling(notes_by_source)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
