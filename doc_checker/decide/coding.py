"""The guidance code the documentation really supports, and the findings that explain it.

fluoroscopy + needle outside the spine -> 77002; spine / paraspinous -> 77003; central venous
access device -> 77001; CT (incl. CT fluoroscopy) -> 77012; MR -> 77021; ultrasound -> 76942;
no imaging guidance -> None. See ``../shared/domain/cpt-77002.md``.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from ..result import Evidence, Finding
from ..rules import Ruleset
from .elements import NoteAnalysis

MODALITY_CODES = (("CT_GUIDANCE", "77012"), ("MR_GUIDANCE", "77021"))


def _finding(ruleset: Ruleset, finding_code: str, evidence: List[Evidence], **fmt: str) -> Finding:
    spec = ruleset.findings.get(finding_code, {"severity": "info", "message": finding_code})
    return Finding(
        code=finding_code,
        severity=spec["severity"],
        message=spec["message"].format(**fmt),
        evidence=evidence[:3],
    )


def suggest_code(analysis: NoteAnalysis, ruleset: Ruleset) -> Tuple[Optional[str], List[Finding]]:
    """Return (suggested_code, findings) from the analysed note."""
    a = analysis.affirmed
    ev = analysis.evidence
    findings: List[Finding] = []
    guidance = analysis.elements["fluoroscopic_guidance"].present
    cvad = a.get("CVAD", [])
    code: Optional[str] = None
    for label, modality_code in MODALITY_CODES:
        if a.get(label):
            code = modality_code
            findings.append(
                _finding(ruleset, "OTHER_MODALITY", [ev(m) for m in a[label]], code=code)
            )
            break
    # no needle and no needle procedure (a procedure stopped before any needle, a tube check, a
    # contrast study through a drain, fluoroscopy in an operation): fluoroscopy guided nothing
    # that 77002/77003 pays for; a fluoroscopic title shows what was planned, not guidance
    nothing_done = not cvad and not any(
        analysis.elements[name].present for name in ("needle_placement", "primary_procedure")
    )
    fluoro_used = [] if nothing_done else analysis.fluoro_used
    if code is None:
        if guidance or (fluoro_used and not a.get("US_GUIDANCE")) or (fluoro_used and cvad):
            if cvad:
                code = "77001"
                findings.append(_finding(ruleset, "CENTRAL_VENOUS_ACCESS", [ev(m) for m in cvad]))
            elif analysis.site_class == "spinal":
                code = "77003"
                findings.append(
                    _finding(
                        ruleset,
                        "SPINAL_SITE",
                        [analysis.span_evidence(m) for m in analysis.spinal_mentions],
                    )
                )
            else:
                code = "77002"
        elif a.get("US_GUIDANCE"):
            code = "76942"
            findings.append(
                _finding(ruleset, "OTHER_MODALITY", [ev(m) for m in a["US_GUIDANCE"]], code=code)
            )
        else:
            findings.append(
                _finding(ruleset, "NO_IMAGING_GUIDANCE", [ev(m) for m in a.get("NO_IMAGING", [])])
            )
    if analysis.fluoro_used and not guidance and code in ("77002", "77003", "77001"):
        findings.append(
            _finding(ruleset, "FLUORO_NOT_FOR_NEEDLE", [ev(m) for m in analysis.fluoro_used])
        )
    if code in ("77002", "77003", "77001"):
        if not analysis.elements["images_recorded"].present:
            findings.append(_finding(ruleset, "IMAGES_NOT_RECORDED", []))
        if not analysis.elements["radiation_dose"].present:
            findings.append(_finding(ruleset, "RADIATION_DOSE_NOT_RECORDED", []))
    return code, findings
