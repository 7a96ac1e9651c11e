"""The result contract: typed dataclasses whose ``to_dict`` is what every output format writes.

The JSON Schema beside it (``schema/result.schema.json``) describes exactly ``to_dict``; tests
validate every result against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Dict, List, Optional, Union

# the elements, in report order: the one list every module and output format uses
ELEMENTS = (
    "indication",
    "fluoroscopic_guidance",
    "needle_placement",
    "contrast_confirmation",
    "non_spinal_site",
    "primary_procedure",
    "radiation_dose",
    "images_recorded",
)

STATUSES = ("present", "missing", "negated", "hypothetical", "historical")
VERDICTS = ("supported", "incomplete", "not_supported")
CODES = ("77002", "77003", "77001", "77012", "76942", "77021")


@dataclass(frozen=True)
class Evidence:
    """Exact words of the note: ``text == note[start:end]``."""

    text: str
    start: int
    end: int
    section: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "section": self.section}


@dataclass(frozen=True)
class IgnoredMention:
    """A mention that did not count, and why (negated, hypothetical, allergy list ...)."""

    text: str
    start: int
    end: int
    section: Optional[str]
    reason: str

    def to_dict(self) -> Dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "section": self.section,
            "reason": self.reason,
        }


@dataclass
class ElementResult:
    status: str
    required: bool
    evidence: List[Evidence] = field(default_factory=list)
    ignored: List[IgnoredMention] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return self.status == "present"

    def to_dict(self) -> Dict[str, Any]:
        return {
            "status": self.status,
            "required": self.required,
            "evidence": [e.to_dict() for e in self.evidence],
            "ignored": [m.to_dict() for m in self.ignored],
        }


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    evidence: List[Evidence] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class Review:
    """Whether a person should look at this note before trusting the verdict, and why: the
    checker's own evidence is weak or conflicts (reason codes in the README)."""

    needed: bool = False
    reasons: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {"needed": self.needed, "reasons": list(self.reasons)}


@dataclass
class CheckResult:
    note_id: Optional[str]
    score: float
    verdict: str
    suggested_code: Optional[str]
    elements: Dict[str, ElementResult]
    findings: List[Finding]
    queries: List[str]
    ruleset_version: str
    profile: str
    meta: Dict[str, Any] = field(default_factory=dict)
    billed_codes: Optional[List[str]] = None  # the claim's codes when known (None: not given)
    claim_findings: List[Finding] = field(default_factory=list)
    # the procedures performed (decide.frames.Frame.to_dict()), and whether a person should look
    procedures: List[Dict[str, Any]] = field(default_factory=list)
    review: Review = field(default_factory=Review)
    # the note itself, kept only when a caller asks (an HTML report); never in to_dict()
    text: Optional[str] = field(default=None, repr=False, compare=False)

    ok = True

    @property
    def missing(self) -> List[str]:
        """Required elements that are not present, in element order."""
        return [name for name, el in self.elements.items() if el.required and not el.present]

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "note_id": self.note_id,
            "score": self.score,
            "verdict": self.verdict,
            "suggested_code": self.suggested_code,
            "missing": self.missing,
            "elements": {name: el.to_dict() for name, el in self.elements.items()},
            "findings": [f.to_dict() for f in self.findings],
            "queries": list(self.queries),
            "billed_codes": self.billed_codes,
            "claim_findings": [f.to_dict() for f in self.claim_findings],
            "procedures": [dict(p) for p in self.procedures],
            "review": self.review.to_dict(),
            "ruleset_version": self.ruleset_version,
            "profile": self.profile,
        }
        if self.meta:
            out["meta"] = dict(self.meta)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=False)


@dataclass
class ErrorRecord:
    """One input that could not be checked: where it was and why, never its text."""

    note_id: Optional[str]
    code: str
    message: str
    position: Optional[int] = None
    meta: Dict[str, Any] = field(default_factory=dict)

    ok = False

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "note_id": self.note_id,
            "error": {"code": self.code, "message": self.message},
        }
        if self.position is not None:
            out["position"] = self.position
        if self.meta:
            out["meta"] = dict(self.meta)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


Outcome = Union[CheckResult, ErrorRecord]


@lru_cache(maxsize=1)
def result_schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``CheckResult.to_dict()`` and
    ``ErrorRecord.to_dict()``."""
    text = (
        resources.files("doc_checker.schema")
        .joinpath("result.schema.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)
