"""Evaluate the checker against gold labels: per-element precision/recall/F1, verdict and code
accuracy, and the disagreements (note ids and fields, never note text)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from .result import ELEMENTS, CheckResult


@dataclass
class ElementScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    n: int = 0
    elements: Dict[str, ElementScore] = field(
        default_factory=lambda: {e: ElementScore() for e in ELEMENTS}
    )
    verdict_correct: int = 0
    code_correct: int = 0
    disagreements: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def verdict_accuracy(self) -> float:
        return self.verdict_correct / self.n if self.n else 0.0

    @property
    def code_accuracy(self) -> float:
        return self.code_correct / self.n if self.n else 0.0

    def to_dict(self) -> Dict[str, Any]:
        return {
            "notes": self.n,
            "verdict_accuracy": round(self.verdict_accuracy, 4),
            "code_accuracy": round(self.code_accuracy, 4),
            "elements": {
                e: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                    "tn": s.tn,
                }
                for e, s in self.elements.items()
            },
            "disagreements": self.disagreements,
        }


def _gold_present(value: Any) -> bool:
    if isinstance(value, dict):
        value = value.get("status", value.get("present"))
    if isinstance(value, str):
        return value == "present"
    return bool(value)


def read_gold(path: Path) -> Iterator[Tuple[Dict[str, Any], str]]:
    """Yield (gold record, note text). A record has ``text`` or ``file`` (relative to the gold
    file)."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                gold = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
            text_key = next(
                (k for k in ("text", "note_text", "note") if isinstance(gold.get(k), str)), None
            )
            file_key = next((k for k in ("file", "path") if isinstance(gold.get(k), str)), None)
            if text_key:
                text = gold[text_key]
            elif file_key:
                text = (path.parent / gold[file_key]).read_text(encoding="utf-8")
            else:
                raise ValueError(f"{path}:{lineno}: a gold record needs 'text' or 'file'")
            if "suggested_code" in gold:
                gold["suggested_code"] = _normal_code(gold["suggested_code"])
            yield gold, text


def _normal_code(code: Any) -> Optional[str]:
    """Gold codes as the checker writes them: "77002", or None for no imaging guidance."""
    if code is None:
        return None
    text = str(code).strip()
    return None if text.lower() in ("", "none", "null", "n/a") else text


def evaluate(pairs: Iterable[Tuple[Dict[str, Any], CheckResult]]) -> Evaluation:
    ev = Evaluation()
    for gold, result in pairs:
        ev.n += 1
        diff: Dict[str, Any] = {}
        for name in ELEMENTS:
            if name not in gold.get("elements", {}):
                continue
            g = _gold_present(gold["elements"][name])
            p = result.elements[name].present
            s = ev.elements[name]
            if g and p:
                s.tp += 1
            elif p:
                s.fp += 1
                diff[name] = {"gold": False, "predicted": result.elements[name].status}
            elif g:
                s.fn += 1
                diff[name] = {"gold": True, "predicted": result.elements[name].status}
            else:
                s.tn += 1
        if "verdict" in gold:
            if gold["verdict"] == result.verdict:
                ev.verdict_correct += 1
            else:
                diff["verdict"] = {"gold": gold["verdict"], "predicted": result.verdict}
        if "suggested_code" in gold:
            if gold["suggested_code"] == result.suggested_code:
                ev.code_correct += 1
            else:
                diff["suggested_code"] = {
                    "gold": gold["suggested_code"],
                    "predicted": result.suggested_code,
                }
        if diff:
            ev.disagreements.append({"note_id": gold.get("note_id"), **diff})
    return ev


def evaluate_gold_file(checker, path: Path, batch_size: int = 32, n_process: int = 1) -> Evaluation:
    golds: List[Dict[str, Any]] = []

    def notes():
        for gold, text in read_gold(path):
            golds.append(gold)
            yield gold.get("note_id"), text

    pairs = []
    for i, outcome in enumerate(
        checker.check_many(notes(), batch_size=batch_size, n_process=n_process)
    ):
        if not outcome.ok:
            raise ValueError(
                f"gold note {golds[i].get('note_id')!r} could not be checked: {outcome.message}"
            )
        pairs.append((golds[i], outcome))
    return evaluate(pairs)
