"""What a rule change changes: compare the results of two rulesets on the same notes.

Pure (no spaCy): it takes the two runs' outcomes, in the same input order, and lists each note
whose verdict, suggested code, element status or review flag moved, with the evidence before and
after; a summary of verdict moves; and, given labels, whether each change fixes a disagreement
with them or breaks an agreement. ``doc-checker diff`` runs the two checkers and renders this.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from .evaluation import Label
from .result import ELEMENTS, CheckResult, Outcome

FIXES, BREAKS, MIXED, NEUTRAL = "fixes", "breaks", "mixed", "neutral"


def _review(result: CheckResult) -> Any:
    """The result's review flag ('needed' or 'not needed'), when the result has one (not every
    version of the contract does); None otherwise, so two results without it never differ."""
    review = getattr(result, "review", None)
    if review is None:
        return None
    return "needed" if review.needed else "not needed"


@dataclass
class FieldChange:
    """One field of one note that differs between the base and the new ruleset."""

    field: str  # "verdict", "suggested_code", "review", "error" or an element name
    before: Any
    after: Any
    # labels given: "fixes" (was wrong, now right), "breaks" (was right, now wrong), "neutral"
    effect: Optional[str] = None
    gold: Any = None
    evidence_before: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
    evidence_after: List[Dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"field": self.field, "before": self.before, "after": self.after}
        if self.effect is not None:
            out["effect"] = self.effect
            out["gold"] = self.gold
        if self.evidence_before or self.evidence_after:
            out["evidence_before"] = self.evidence_before
            out["evidence_after"] = self.evidence_after
        return out


@dataclass
class NoteChange:
    note_id: Optional[str]
    position: int
    changes: List[FieldChange]
    effect: Optional[str] = None  # labels given: fixes / breaks / mixed / neutral; else None

    def field_change(self, name: str) -> Optional[FieldChange]:
        return next((c for c in self.changes if c.field == name), None)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "note_id": self.note_id,
            "position": self.position,
            "changes": [c.to_dict() for c in self.changes],
        }
        if self.effect is not None:
            out["effect"] = self.effect
        return out


@dataclass
class RulesetDiff:
    base_version: Optional[str]
    new_version: Optional[str]
    notes: int = 0  # notes compared
    errors: int = 0  # notes that neither ruleset could check (not changes)
    changed: List[NoteChange] = dataclasses.field(default_factory=list)
    verdict_moves: Counter = dataclasses.field(default_factory=Counter)  # (before, after) -> notes
    labelled: Optional[int] = None  # notes that had a label (None: no labels given)

    @property
    def effects(self) -> Counter:
        return Counter(c.effect for c in self.changed if c.effect is not None)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "base_ruleset_version": self.base_version,
            "new_ruleset_version": self.new_version,
            "notes": self.notes,
            "errors": self.errors,
            "changed": len(self.changed),
            "verdict_moves": [
                {"before": b, "after": a, "notes": n}
                for (b, a), n in sorted(self.verdict_moves.items())
            ],
            "labelled": self.labelled,
            "effects": dict(self.effects) if self.labelled is not None else None,
            "notes_changed": [c.to_dict() for c in self.changed],
        }


def _gold_value(label: Optional[Label], name: str) -> Tuple[bool, Any]:
    """(is labelled, value) for one field of a label."""
    if label is None:
        return False, None
    if name == "verdict":
        return True, label.verdict
    if name == "suggested_code":
        return True, label.suggested_code
    if name in label.elements:
        return True, label.elements[name]
    return False, None


def _agrees(name: str, value: Any, gold: Any) -> bool:
    if name in ELEMENTS:
        return (value == "present") == gold
    return value == gold


def _mentions(element: Any) -> List[Dict[str, Any]]:
    """An element's evidence, then the mentions that did not count (each with its reason)."""
    return [e.to_dict() for e in element.evidence] + [m.to_dict() for m in element.ignored]


def _note_effect(changes: List[FieldChange]) -> str:
    effects = {c.effect for c in changes}
    if FIXES in effects and BREAKS in effects:
        return MIXED
    if BREAKS in effects:
        return BREAKS
    if FIXES in effects:
        return FIXES
    return NEUTRAL


def compare_results(
    base: CheckResult, new: CheckResult, label: Optional[Label] = None
) -> List[FieldChange]:
    """The fields in which two results of the same note differ, element evidence included."""
    changes: List[FieldChange] = []
    for name, before, after in (
        ("verdict", base.verdict, new.verdict),
        ("suggested_code", base.suggested_code, new.suggested_code),
        ("review", _review(base), _review(new)),
    ):
        if before != after:
            changes.append(FieldChange(name, before, after))
    for name in ELEMENTS:
        b, a = base.elements.get(name), new.elements.get(name)
        if b is None or a is None:
            continue
        if b.status != a.status:
            changes.append(
                FieldChange(
                    name,
                    b.status,
                    a.status,
                    evidence_before=_mentions(b),
                    evidence_after=_mentions(a),
                )
            )
    if label is not None:
        for change in changes:
            labelled, gold = _gold_value(label, change.field)
            if not labelled:
                continue
            change.gold = gold
            was, now = (
                _agrees(change.field, change.before, gold),
                _agrees(change.field, change.after, gold),
            )
            change.effect = FIXES if now and not was else BREAKS if was and not now else NEUTRAL
    return changes


def diff_outcomes(
    pairs: Iterable[Tuple[Outcome, Outcome]],
    labels: Optional[Mapping[str, Label]] = None,
    base_version: Optional[str] = None,
    new_version: Optional[str] = None,
) -> RulesetDiff:
    """Compare two runs over the same notes: ``pairs`` are (base outcome, new outcome) in input
    order. A note that only one ruleset could check is a change of its ``error`` field."""
    out = RulesetDiff(base_version, new_version, labelled=0 if labels is not None else None)
    for position, (base, new) in enumerate(pairs):
        out.notes += 1
        note_id = base.note_id
        label = labels.get(str(note_id)) if labels is not None and note_id is not None else None
        if label is not None and out.labelled is not None:
            out.labelled += 1
        if not base.ok or not new.ok:
            if not base.ok and not new.ok:
                out.errors += 1
                continue
            before = base.code if not base.ok else None  # type: ignore[union-attr]
            after = new.code if not new.ok else None  # type: ignore[union-attr]
            change = FieldChange("error", before, after)
            out.changed.append(NoteChange(note_id, position, [change]))
            continue
        assert isinstance(base, CheckResult) and isinstance(new, CheckResult)
        changes = compare_results(base, new, label)
        if base.verdict != new.verdict:
            out.verdict_moves[(base.verdict, new.verdict)] += 1
        if changes:
            effect = _note_effect(changes) if label is not None else None
            out.changed.append(NoteChange(note_id, position, changes, effect))
    return out
