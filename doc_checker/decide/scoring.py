"""Score, verdict and physician queries: a pure function of element statuses and a profile.

No spaCy here, so callers that bring their own NLP can score, and scoring tests need no model.
"""

from __future__ import annotations

from typing import List, Mapping, Optional, Tuple

from ..rules import Profile

SUPPORTED_CODE = "77002"


def score(present: Mapping[str, bool], profile: Profile) -> float:
    """0-100: the weighted share of required elements that are present (one decimal)."""
    total = sum(p.weight for p in profile.elements.values() if p.required)
    got = sum(p.weight for name, p in profile.elements.items() if p.required and present.get(name))
    return round(100.0 * got / total, 1) if total else 0.0


def verdict(present: Mapping[str, bool], profile: Profile, suggested_code: Optional[str]) -> str:
    """supported: 77002 with every required element; incomplete: 77002 with some missing;
    not_supported: the note supports another code or none."""
    if suggested_code != SUPPORTED_CODE:
        return "not_supported"
    if all(present.get(name) for name in profile.required):
        return "supported"
    return "incomplete"


def queries(
    present: Mapping[str, bool], profile: Profile, query_text: Mapping[str, Mapping[str, str]]
) -> List[str]:
    """One non-leading query per missing required element, in element order."""
    return [query_text[name]["query"] for name in profile.required if not present.get(name)]


def assess(
    present: Mapping[str, bool],
    profile: Profile,
    suggested_code: Optional[str],
    query_text: Mapping[str, Mapping[str, str]],
) -> Tuple[float, str, List[str]]:
    return (
        score(present, profile),
        verdict(present, profile, suggested_code),
        queries(present, profile, query_text),
    )
