"""Evaluate the checker against labels: per-element precision/recall/F1 and confusion, verdict and
code confusion matrices, and each disagreement (note ids, fields and, when asked, the checker's
evidence).

Three label formats are read, detected line by line (none needs spaCy; this module never
imports it):

- **corpus** (``shared/corpus``): ``{"id", "text", "expected": {"elements", "suggested_code",
  "verdict"}, "why"}``; the note text is in the record.
- **gold** (the project's ``fixtures/gold.jsonl``): ``{"note_id", "file", "elements",
  "suggested_code", "verdict", ...}``; the text is in ``file`` (relative to the gold file) or
  comes from ``--notes``.
- **decision** (what coders export from the review report; ``schema/decision.schema.json``):
  ``{"note_id", "expected": {...}, "ruleset_version", "comment", "reviewer", "decided_at",
  "checker"}``; it carries no note text (it is made to be shared), so the notes come from
  ``--notes`` (or an optional ``path``).

A line that is none of these, or lacks a field its format needs, is refused (a LabelError naming
the file, the line and the field), never scored: figures over input that was not understood are
worse than none.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from .errors import UsageError
from .result import CODES, ELEMENTS, VERDICTS, CheckResult

LABEL_FORMATS = ("corpus", "gold", "decision")
NO_CODE = "none"  # how a null code (no imaging guidance) is shown in the code matrix
_ABSENT = object()


class LabelError(UsageError):
    """A labels file that cannot be read as labels: names the file, the line and the field."""


@dataclass
class Label:
    """What a note should have produced, from any of the three formats. ``elements`` may hold
    only some elements (a coder's partial decision); the others are not scored for this note."""

    note_id: str
    elements: Dict[str, bool]
    suggested_code: Optional[str]
    verdict: str
    source: str  # "corpus" | "gold" | "decision"
    where: str  # "file:line", for messages
    text: Optional[str] = None  # the note, when the record carries it (corpus format)
    file: Optional[Path] = None  # where the note is, when the record says (gold / decision)
    comment: Optional[str] = None
    reviewer: Optional[str] = None
    ruleset_version: Optional[str] = None  # decisions: the ruleset the coder saw


# ----------------------------------------------------------------------------------------------
# reading labels
def _field(obj: Mapping[str, Any], dotted: str, where: str) -> Any:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            raise LabelError(f"{where}: missing field '{dotted}'")
        cur = cur[part]
    return cur


def _normal_code(code: Any, where: str, name: str) -> Optional[str]:
    """Codes as the checker writes them: "77002", or None for no imaging guidance."""
    if code is None:
        return None
    if not isinstance(code, (str, int)) or isinstance(code, bool):
        raise LabelError(f"{where}: field '{name}' must be a CPT code string or null")
    text = str(code).strip()
    if text.lower() in ("", "none", "null", "n/a"):
        return None
    if text not in CODES:
        raise LabelError(
            f"{where}: field '{name}' is {text!r}, not one of {', '.join(CODES)} or null"
        )
    return text


def _elements(value: Any, where: str, name: str) -> Dict[str, bool]:
    if not isinstance(value, Mapping):
        raise LabelError(f"{where}: field '{name}' must be an object of element: true/false")
    out: Dict[str, bool] = {}
    for key, flag in value.items():
        if key not in ELEMENTS:
            raise LabelError(
                f"{where}: field '{name}.{key}' is not an element ({', '.join(ELEMENTS)})"
            )
        if not isinstance(flag, bool):
            kind = "an object" if isinstance(flag, Mapping) else type(flag).__name__
            raise LabelError(f"{where}: field '{name}.{key}' must be true or false (got {kind})")
        out[key] = flag
    return out


def _verdict(value: Any, where: str, name: str) -> str:
    if value not in VERDICTS:
        raise LabelError(f"{where}: field '{name}' is {value!r}, not one of {', '.join(VERDICTS)}")
    return str(value)


def _optional_str(obj: Mapping[str, Any], key: str, where: str) -> Optional[str]:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise LabelError(f"{where}: field '{key}' must be a string")
    return value


def detect_format(obj: Mapping[str, Any]) -> Optional[str]:
    """Which label format a parsed line is in (None: not a label record). Corpus records have
    ``id`` + ``expected``; decisions ``note_id`` + ``expected``; project gold ``note_id`` with the
    labels at the top level."""
    if "expected" in obj:
        if "id" in obj and "note_id" not in obj:
            return "corpus"
        if "note_id" in obj:
            return "decision"
        return None
    if "note_id" in obj and any(k in obj for k in ("elements", "verdict", "suggested_code")):
        return "gold"
    return None


def parse_label(obj: Any, where: str, base: Optional[Path] = None) -> Label:
    """One label record (any format) -> Label; a LabelError names ``where`` and the field."""
    if not isinstance(obj, Mapping):
        raise LabelError(f"{where}: a label record must be a JSON object")
    if "score" in obj and "missing" in obj and "expected" not in obj:
        raise LabelError(
            f"{where}: this is a checker result, not a label (labels: corpus, gold or "
            "decision format; see README 'Maintaining the rules')"
        )
    fmt = detect_format(obj)
    if fmt is None:
        raise LabelError(
            f"{where}: not a label record: needs 'id' + 'expected' (corpus), 'note_id' + "
            "'expected' + 'ruleset_version' (decision) or 'note_id' + 'elements', "
            "'suggested_code', 'verdict' (gold)"
        )
    id_key = "id" if fmt == "corpus" else "note_id"
    note_id = obj[id_key]
    if not isinstance(note_id, (str, int)) or isinstance(note_id, bool) or str(note_id) == "":
        raise LabelError(f"{where}: field '{id_key}' must be a non-empty string")
    prefix = "expected." if fmt in ("corpus", "decision") else ""
    if prefix and not isinstance(obj["expected"], Mapping):
        raise LabelError(f"{where}: field 'expected' must be an object")
    elements = _elements(_field(obj, f"{prefix}elements", where), where, f"{prefix}elements")
    code = _normal_code(
        _field(obj, f"{prefix}suggested_code", where), where, f"{prefix}suggested_code"
    )
    verdict = _verdict(_field(obj, f"{prefix}verdict", where), where, f"{prefix}verdict")
    label = Label(
        note_id=str(note_id),
        elements=elements,
        suggested_code=code,
        verdict=verdict,
        source=fmt,
        where=where,
    )
    if fmt == "corpus":
        text = _field(obj, "text", where)
        if not isinstance(text, str):
            raise LabelError(f"{where}: field 'text' must be a string")
        label.text = text
    else:
        text = obj.get("text")
        if isinstance(text, str):
            label.text = text
        file_key = next((k for k in ("file", "path") if isinstance(obj.get(k), str)), None)
        if file_key:
            label.file = Path(obj[file_key])
            if base is not None and not label.file.is_absolute():
                label.file = base / label.file
    if fmt == "decision":
        version = _field(obj, "ruleset_version", where)
        if not isinstance(version, str) or not version:
            raise LabelError(f"{where}: field 'ruleset_version' must be a non-empty string")
        label.ruleset_version = version
        label.comment = _optional_str(obj, "comment", where)
        label.reviewer = _optional_str(obj, "reviewer", where)
    else:
        comment = obj.get("comment", obj.get("why"))
        label.comment = comment if isinstance(comment, str) else None
    return label


def read_labels(path: Union[str, Path]) -> List[Label]:
    """Every label of a JSONL file, in order. Refuses (LabelError) a file with a line that is not
    a label, a missing or invalid field, or no labels at all. A note labelled twice: a later
    decision supersedes an earlier one (coders revise); in corpus or gold files it is refused."""
    path = Path(path)
    out: Dict[str, Label] = {}
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise LabelError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelError(f"{where}: invalid JSON ({exc.msg})") from None
            label = parse_label(obj, where, base=path.parent)
            earlier = out.get(label.note_id)
            if earlier is not None and not (
                earlier.source == "decision" and label.source == "decision"
            ):
                raise LabelError(
                    f"{where}: note {label.note_id!r} is labelled again (first at {earlier.where})"
                )
            out.pop(label.note_id, None)
            out[label.note_id] = label
    if not out:
        raise LabelError(f"{path}: no label records")
    return list(out.values())


def attach_texts(labels: List[Label], notes: Optional[Mapping[str, Any]] = None) -> None:
    """Give every label its note: the text it carries, else the note with its id in ``notes``
    (from ``--notes``), else its ``file`` / ``path``. Refuses a label with none of these."""
    for label in labels:
        if label.text is not None:
            continue
        if notes is not None and label.note_id in notes:
            label.text = notes[label.note_id]
            continue
        if label.file is not None:
            try:
                label.text = label.file.read_text(encoding="utf-8")
            except OSError as exc:
                raise LabelError(
                    f"{label.where}: note file {str(label.file)!r} cannot be read ({exc.strerror})"
                ) from None
            continue
        hint = "not in the --notes given" if notes is not None else "give the notes with --notes"
        raise LabelError(
            f"{label.where}: no text for note {label.note_id!r} (the record has no 'text' or "
            f"'file' field; {hint})"
        )


# ----------------------------------------------------------------------------------------------
# decisions: the record the review report exports
@lru_cache(maxsize=1)
def decision_schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one line of a decisions file."""
    text = (
        resources.files("doc_checker.schema")
        .joinpath("decision.schema.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def make_decision(
    result: CheckResult,
    *,
    verdict: Optional[str] = None,
    suggested_code: Any = _ABSENT,
    elements: Optional[Mapping[str, bool]] = None,
    comment: Optional[str] = None,
    reviewer: Optional[str] = None,
    decided_at: Optional[str] = None,
) -> Dict[str, Any]:
    """A coder's decision on one result, as a decisions-file line: what the checker said, with
    the coder's corrections (anything not given confirms the checker). The verdict, unless
    given, follows from the code and the required elements like the checker's does. The review
    report's "Export decisions" writes the same record."""
    decided = {name: el.present for name, el in result.elements.items()}
    decided.update(elements or {})
    code = result.suggested_code if suggested_code is _ABSENT else suggested_code
    if verdict is None:
        required = [name for name, el in result.elements.items() if el.required]
        if code != "77002":
            verdict = "not_supported"
        else:
            verdict = "supported" if all(decided[n] for n in required) else "incomplete"
    record: Dict[str, Any] = {
        "note_id": result.note_id,
        "expected": {"elements": decided, "suggested_code": code, "verdict": verdict},
        "ruleset_version": result.ruleset_version,
        "comment": comment,
        "reviewer": reviewer,
        "decided_at": decided_at,
        "checker": {
            "verdict": result.verdict,
            "suggested_code": result.suggested_code,
            "elements": {name: el.status for name, el in result.elements.items()},
        },
    }
    return record


# ----------------------------------------------------------------------------------------------
# scoring
@dataclass
class ElementScore:
    """Counts for one element over the notes labelled for it. Precision / recall are None when
    their denominator is zero (nothing to measure), never a made-up 1.0."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    # gold (True/False) -> the checker's status -> notes
    confusion: Dict[bool, Counter] = field(
        default_factory=lambda: {True: Counter(), False: Counter()}
    )

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> Optional[float]:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> Optional[float]:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> Optional[float]:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 4)


@dataclass
class Evaluation:
    n: int = 0
    elements: Dict[str, ElementScore] = field(
        default_factory=lambda: {e: ElementScore() for e in ELEMENTS}
    )
    verdict_correct: int = 0
    code_correct: int = 0
    # gold -> predicted -> notes ("none" for a null code)
    verdict_confusion: Dict[str, Counter] = field(default_factory=dict)
    code_confusion: Dict[str, Counter] = field(default_factory=dict)
    sources: Counter = field(default_factory=Counter)  # label format -> notes
    decision_rulesets: Counter = field(default_factory=Counter)  # decisions' ruleset versions
    ruleset_version: Optional[str] = None  # the ruleset evaluated
    disagreements: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def verdict_accuracy(self) -> Optional[float]:
        return self.verdict_correct / self.n if self.n else None

    @property
    def code_accuracy(self) -> Optional[float]:
        return self.code_correct / self.n if self.n else None

    def to_dict(self) -> Dict[str, Any]:
        return {
            "notes": self.n,
            "ruleset_version": self.ruleset_version,
            "label_sources": dict(self.sources),
            "decision_rulesets": dict(self.decision_rulesets),
            "verdict_accuracy": _round(self.verdict_accuracy),
            "code_accuracy": _round(self.code_accuracy),
            "elements": {
                e: {
                    "notes": s.n,
                    "precision": _round(s.precision),
                    "recall": _round(s.recall),
                    "f1": _round(s.f1),
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                    "tn": s.tn,
                    "confusion": {
                        "gold_present": dict(s.confusion[True]),
                        "gold_absent": dict(s.confusion[False]),
                    },
                }
                for e, s in self.elements.items()
            },
            "verdict_confusion": {g: dict(c) for g, c in self.verdict_confusion.items()},
            "code_confusion": {g: dict(c) for g, c in self.code_confusion.items()},
            "disagreements": self.disagreements,
        }


def _as_label(gold: Union[Label, Mapping[str, Any]]) -> Label:
    return gold if isinstance(gold, Label) else parse_label(gold, f"label {gold.get('note_id')!r}")


def _evidence(items: Iterable[Any]) -> List[Dict[str, Any]]:
    return [item.to_dict() for item in items]


def evaluate(
    pairs: Iterable[Tuple[Union[Label, Mapping[str, Any]], CheckResult]],
    show_evidence: bool = False,
) -> Evaluation:
    """Score (label, result) pairs. A disagreement lists each field where they differ; with
    ``show_evidence`` it also carries the checker's evidence (note text: only when asked)."""
    ev = Evaluation()
    for gold, result in pairs:
        label = _as_label(gold)
        ev.n += 1
        ev.sources[label.source] += 1
        if label.ruleset_version:
            ev.decision_rulesets[label.ruleset_version] += 1
        ev.ruleset_version = ev.ruleset_version or result.ruleset_version
        fields: Dict[str, Any] = {}
        for name, g in label.elements.items():
            el = result.elements[name]
            s = ev.elements[name]
            s.confusion[g][el.status] += 1
            if g and el.present:
                s.tp += 1
            elif el.present:
                s.fp += 1
            elif g:
                s.fn += 1
            else:
                s.tn += 1
            if g != el.present:
                entry: Dict[str, Any] = {"gold": g, "predicted": el.status}
                if show_evidence:
                    entry["evidence"] = _evidence(el.evidence)
                    entry["ignored"] = _evidence(el.ignored)
                fields[name] = entry
        ev.verdict_confusion.setdefault(label.verdict, Counter())[result.verdict] += 1
        if label.verdict == result.verdict:
            ev.verdict_correct += 1
        else:
            fields["verdict"] = {"gold": label.verdict, "predicted": result.verdict}
        gold_code = label.suggested_code or NO_CODE
        ev.code_confusion.setdefault(gold_code, Counter())[result.suggested_code or NO_CODE] += 1
        if label.suggested_code == result.suggested_code:
            ev.code_correct += 1
        else:
            fields["suggested_code"] = {
                "gold": label.suggested_code,
                "predicted": result.suggested_code,
            }
        if fields:
            entry = {"note_id": label.note_id, "where": label.where, **fields}
            if label.comment and label.source == "decision":
                entry["comment"] = label.comment
            if show_evidence and ("verdict" in fields or "suggested_code" in fields):
                entry["findings"] = [f.to_dict() for f in result.findings]
                entry["missing"] = result.missing
            ev.disagreements.append(entry)
    return ev


def evaluate_labels(
    checker: Any,
    labels: List[Label],
    batch_size: int = 32,
    n_process: int = 1,
    show_evidence: bool = False,
) -> Evaluation:
    """Check every labelled note (``attach_texts`` first) and score the results."""
    attach_texts(labels)
    notes = ((label.note_id, label.text) for label in labels)
    pairs = []
    for label, outcome in zip(
        labels, checker.check_many(notes, batch_size=batch_size, n_process=n_process), strict=True
    ):
        if not outcome.ok:
            raise LabelError(
                f"{label.where}: note {label.note_id!r} could not be checked: {outcome.message}"
            )
        pairs.append((label, outcome))
    return evaluate(pairs, show_evidence=show_evidence)


def evaluate_gold_file(
    checker: Any, path: Path, batch_size: int = 32, n_process: int = 1
) -> Evaluation:
    """Score the checker on one labels file whose records carry or point to their notes."""
    return evaluate_labels(checker, read_labels(path), batch_size, n_process)
