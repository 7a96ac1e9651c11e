"""The classic ConText benchmark through two engines: the checker's ConText and stock medspaCy's.

Data: ``../shared/benchmarks/context/rsAnnotations-1-120-random.txt`` (2,376 annotated sentences
of the NegEx/ConText evaluation, Harkema et al. 2009; README there). Rules: medspaCy's OWN
default ConText rules (``resources/en/context_rules.json``), the same list for both engines.
Each sentence is one Doc tokenized by medspaCy's clinical tokenizer, one sentence; its target
is the annotated phrase (found case-insensitively with whitespace collapsed; rows where it is
not in the sentence are skipped and counted).

Engines (same Docs, same target spans):
- ``doc-checker``: the checker's ConText (``doc_checker.nlp.context``);
- ``medspaCy``: stock ``medspacy.context.ConText`` as ``medspacy.load()`` builds it
  (``prune_on_modifier_overlap=True``, Span attributes set);
- ``medspaCy, overlaps kept``: the same with ``prune_on_modifier_overlap=False``, the setting the
  checker's ConText follows (``doc_checker/nlp/deviations.py`` lists where it still differs).

Labels from modifiers: negation Negated if NEGATED_EXISTENCE else Affirmed; temporality
Not particular (hypothetical) if HYPOTHETICAL, else Historical if HISTORICAL, else Recent;
experiencer Other if FAMILY else Patient.

Printed per attribute: agreement between each medspaCy engine and the checker's, each engine's
accuracy and per-class precision / recall / F1; then each engine's sentences per second (ConText
alone on the prepared Docs, fastest of ``--repeat`` runs). No note text is printed.

    .venv/bin/python scripts/bench_context.py [--limit N] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "benchmarks" / "context" / "rsAnnotations-1-120-random.txt"
ATTRIBUTES = ("negation", "temporality", "experiencer")
CLASSES = {
    "negation": ("Affirmed", "Negated"),
    "temporality": ("Recent", "Historical", "Not particular"),
    "experiencer": ("Patient", "Other"),
}
TARGET_LABEL = "CONDITION"
AGREEMENT_GOAL = 0.995


@dataclass(frozen=True)
class Row:
    line: int
    condition: str
    sentence: str
    gold: Dict[str, str]


def load_rows(path: Path = DATA) -> List[Row]:
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for raw in lines[1:]:
        if not raw.strip():
            continue
        line, condition, sentence, negation, temporality, experiencer = raw.split("\t")
        gold = {"negation": negation, "temporality": temporality, "experiencer": experiencer}
        rows.append(Row(int(line), condition, sentence, gold))
    return rows


def find_target(row: Row) -> Optional[Tuple[int, int]]:
    """Character offsets of the annotated phrase in the sentence (its upper-case occurrence when
    there are several), or None."""
    words = row.condition.split()
    if not words:
        return None
    rx = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    found = list(rx.finditer(row.sentence))
    if not found:
        return None
    upper = [m for m in found if m.group() == m.group().upper()]
    m = (upper or found)[0]
    return m.start(), m.end()


def labels(categories: Sequence[str]) -> Dict[str, str]:
    cats = set(categories)
    return {
        "negation": "Negated" if "NEGATED_EXISTENCE" in cats else "Affirmed",
        "temporality": "Not particular"
        if "HYPOTHETICAL" in cats
        else "Historical"
        if "HISTORICAL" in cats
        else "Recent",
        "experiencer": "Other" if "FAMILY" in cats else "Patient",
    }


def default_rules() -> List[Dict[str, Any]]:
    """medspaCy's own default ConText rules, as the dicts of its JSON file."""
    import medspacy

    path = Path(medspacy.__file__).resolve().parents[1] / "resources" / "en" / "context_rules.json"
    return json.loads(path.read_text(encoding="utf-8"))["context_rules"]


def build_nlp():
    import spacy
    from medspacy.custom_tokenizer import create_medspacy_tokenizer

    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    return nlp


def prepare(nlp, rows: Sequence[Row]) -> Tuple[List[Tuple[Row, Any, Tuple[int, int]]], List[int]]:
    """(row, Doc as one sentence, target token bounds) per usable row; the skipped line numbers."""
    docs, skipped = [], []
    for row in rows:
        chars = find_target(row)
        doc = nlp.make_doc(row.sentence)
        span = doc.char_span(*chars, alignment_mode="expand") if chars else None
        if span is None or not len(span):
            skipped.append(row.line)
            continue
        for i, token in enumerate(doc):
            token.is_sent_start = i == 0
        docs.append((row, doc, (span.start, span.end)))
    return docs, skipped


@dataclass
class Engine:
    name: str
    component: Callable[[Any], Any]
    setup: Callable[[Any, Tuple[int, int]], None]  # puts the target where the engine reads it
    read: Callable[[Any, Tuple[int, int]], List[str]]  # the target's modifier categories


def engines(nlp, rules: List[Dict[str, Any]]) -> List[Engine]:
    from spacy.tokens import Span

    from doc_checker.nlp._spangroups import set_group
    from doc_checker.nlp.context import MODIFIERS_KEY, target_key
    from doc_checker.nlp.deviations import applied, deviations_of
    from doc_checker.nlp.reference import STOCK_TARGETS, project_context, stock_context
    from doc_checker.nlp.targets import TARGET_GROUP

    def ours_setup(doc, t):
        set_group(doc, TARGET_GROUP, [(t[0], t[1], TARGET_LABEL)])

    def ours_read(doc, t):
        return doc.user_data[MODIFIERS_KEY].get(target_key(t[0], t[1], TARGET_LABEL), [])

    def stock_setup(doc, t):
        doc.spans[STOCK_TARGETS] = [Span(doc, t[0], t[1], label=TARGET_LABEL)]

    def stock_read(doc, t):
        return sorted({m.category for span in doc.spans[STOCK_TARGETS] for m in span._.modifiers})

    class _Deviated:
        """Stock ConText with the listed deviations applied (doc_checker/nlp/deviations.py)."""

        def __init__(self) -> None:
            self.ctx = stock_context(nlp, rules, span_attrs="default")

        def __call__(self, doc):
            with applied(self.ctx, [d.id for d in deviations_of("context")]):
                return self.ctx(doc)

    return [
        Engine("doc-checker", project_context(nlp, rules), ours_setup, ours_read),
        Engine(
            "medspaCy",
            stock_context(
                nlp,
                rules,
                name="medspacy_context",
                prune_on_modifier_overlap=True,
                span_attrs="default",
            ),
            stock_setup,
            stock_read,
        ),
        Engine(
            "medspaCy, overlaps kept",
            stock_context(nlp, rules, span_attrs="default"),
            stock_setup,
            stock_read,
        ),
        Engine("medspaCy, overlaps kept + listed deviations", _Deviated(), stock_setup, stock_read),
    ]


def prf(gold: Sequence[str], pred: Sequence[str], cls: str) -> Tuple[float, float, float]:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p == cls)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != cls and p == cls)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p != cls)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def run(limit: Optional[int] = None, repeat: int = 1, data: Path = DATA) -> Dict[str, Any]:
    """Every engine over the set: predictions, agreement, scores, speed (as a dict)."""
    rows = load_rows(data)[:limit]
    nlp = build_nlp()
    rules = default_rules()
    built = engines(nlp, rules)
    predictions: Dict[str, List[Dict[str, str]]] = {}
    speed: Dict[str, float] = {}
    for engine in built:
        # each engine its own Docs: medspaCy keeps its results on Span extensions, by offsets
        prepared, skipped = prepare(nlp, rows)
        for _, doc, t in prepared:
            engine.setup(doc, t)
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            for _, doc, _t in prepared:
                engine.component(doc)
            best = min(best, time.perf_counter() - start)
        speed[engine.name] = len(prepared) / best if best > 0 else float("inf")
        predictions[engine.name] = [labels(engine.read(doc, t)) for _, doc, t in prepared]
    gold = [row.gold for row, _, _ in prepared]
    ours = predictions["doc-checker"]
    report: Dict[str, Any] = {
        "rows": len(rows),
        "used": len(prepared),
        "skipped": skipped,
        "rules": len(rules),
        "sentences_per_second": speed,
        "attributes": {},
    }
    for attr in ATTRIBUTES:
        entry: Dict[str, Any] = {"agreement": {}, "accuracy": {}, "classes": {}}
        g = [x[attr] for x in gold]
        for name, preds in predictions.items():
            p = [x[attr] for x in preds]
            entry["accuracy"][name] = sum(a == b for a, b in zip(g, p, strict=True)) / len(g)
            entry["classes"][name] = {cls: prf(g, p, cls) for cls in CLASSES[attr]}
            if name != "doc-checker":
                entry["agreement"][name] = sum(
                    a[attr] == b[attr] for a, b in zip(ours, preds, strict=True)
                ) / len(ours)
        report["attributes"][attr] = entry
    report["disagreements_gold_sides_with"] = {
        name: {
            "doc-checker": sum(
                1
                for g, a, b in zip(gold, ours, preds, strict=True)
                for x in ATTRIBUTES
                if a[x] != b[x] and g[x] == a[x]
            ),
            name: sum(
                1
                for g, a, b in zip(gold, ours, preds, strict=True)
                for x in ATTRIBUTES
                if a[x] != b[x] and g[x] == b[x]
            ),
        }
        for name, preds in predictions.items()
        if name != "doc-checker"
    }
    report["disagreements"] = {
        name: [
            row.line
            for (row, _, _), a, b in zip(prepared, ours, preds, strict=True)
            if any(a[x] != b[x] for x in ATTRIBUTES)
        ]
        for name, preds in predictions.items()
        if name != "doc-checker"
    }
    return report


def table(report: Dict[str, Any]) -> str:
    names = list(report["sentences_per_second"])
    others = names[1:]
    out = [
        f"{report['used']} of {report['rows']} sentences scored ({len(report['skipped'])} skipped: "
        f"the annotated phrase is not in the sentence, lines {report['skipped']}); "
        f"medspaCy's {report['rules']} default ConText rules through every engine.",
        "",
        "| attribute | class | " + " | ".join(f"{n}: P / R / F1" for n in names) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for attr in ATTRIBUTES:
        entry = report["attributes"][attr]
        for cls in CLASSES[attr]:
            cells = [" / ".join(f"{v:.3f}" for v in entry["classes"][n][cls]) for n in names]
            out.append(f"| {attr} | {cls} | " + " | ".join(cells) + " |")
        out.append(
            f"| {attr} | **accuracy** | "
            + " | ".join(f"{entry['accuracy'][n]:.4f}" for n in names)
            + " |"
        )
    out += ["", "| attribute | " + " | ".join(f"agreement with {n}" for n in others) + " |"]
    out.append("|---|" + "---:|" * len(others))
    for attr in ATTRIBUTES:
        cells = []
        for n in others:
            a = report["attributes"][attr]["agreement"][n]
            cells.append(f"{a:.2%} ({round((1 - a) * report['used'])} differ)")
        out.append(f"| {attr} | " + " | ".join(cells) + " |")
    sides = report["disagreements_gold_sides_with"]
    out.append(
        "| labels that differ: gold sides with doc-checker / with the other | "
        + " | ".join(f"{sides[n]['doc-checker']} / {sides[n][n]}" for n in others)
        + " |"
    )
    out += ["", "| engine | sentences/s (ConText alone) |", "|---|---:|"]
    for n in names:
        out.append(f"| {n} | {report['sentences_per_second'][n]:,.0f} |")
    return "\n".join(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=None, help="first N rows only")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per engine (fastest)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"benchmark data not found: {args.data}", file=sys.stderr)
        return 2
    report = run(limit=args.limit, repeat=args.repeat, data=args.data)
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    worst = min(a for e in report["attributes"].values() for a in e["agreement"].values())
    if worst < AGREEMENT_GOAL:
        print(f"\nagreement below the {AGREEMENT_GOAL:.1%} goal: {worst:.2%}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
