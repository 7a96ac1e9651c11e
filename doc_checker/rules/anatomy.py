"""The anatomy model (``patterns/anatomy.json``): needle targets with their region.

Each entry is a medspaCy-style target rule whose ``metadata`` says what the words name:
``normalized`` anatomy, ``region`` (``spinal`` | ``non_spinal`` | ``ambiguous``), ``parent``
structure and ``kind`` (joint, bursa, level ...). False friends (the ischial *spine*, the
subtalar *facet*, the TFCC's articular *disc*) are entries like any other, whose region is
what they really are; ``not_a_target`` entries ('spinal needle', 'T1-weighted') name no
anatomy and only stop shorter words inside them from matching. The rules join the ``site``
target layer ahead of ``targets/sites.json``, so an anatomy entry wins a tie of equal length.
No spaCy here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..errors import RulesError

REGIONS = ("spinal", "non_spinal", "ambiguous")
# region -> the target category the site layer gives the words
REGION_CATEGORY = {
    "spinal": "SITE_SPINAL",
    "non_spinal": "SITE_NONSPINAL",
    "ambiguous": "SITE_AMBIGUOUS",
}
NOT_A_TARGET = "SITE_NOT_TARGET"
_ENTRY_KEYS = {"literal", "category", "pattern", "metadata", "comment"}


@dataclass(frozen=True)
class AnatomyEntry:
    """What one anatomy rule names."""

    literal: str
    normalized: str
    region: str
    parent: Optional[str]
    kind: Optional[str]
    false_friend_of: Optional[str] = None
    not_a_target: bool = False
    needs_context: bool = False

    def to_dict(self) -> Dict[str, Any]:
        return {
            "normalized": self.normalized,
            "region": self.region,
            "parent": self.parent,
            "kind": self.kind,
        }


@dataclass
class Anatomy:
    """The entries, and the site-layer target rules built from them (``anatomy_id`` in each
    rule's metadata indexes ``entries``)."""

    entries: List[AnatomyEntry]
    rules: List[Dict[str, Any]]


def anatomy_from_dict(data: Any, path: Path) -> Anatomy:
    """Validate ``anatomy.json`` (read from ``path``); an error names the file and the entry."""
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected an object with 'target_rules' and 'false_friends'")
    entries: List[AnatomyEntry] = []
    rules: List[Dict[str, Any]] = []
    for key in ("target_rules", "false_friends"):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise RulesError(f"{path}: '{key}' must be a list")
        for i, rule in enumerate(items):
            where = f"{path}: {key}[{i}]"
            if not isinstance(rule, dict) or not isinstance(rule.get("literal"), str):
                raise RulesError(f"{where}: needs a 'literal' string")
            where += f" ({rule['literal']!r})"
            unknown = set(rule) - _ENTRY_KEYS
            if unknown:
                raise RulesError(f"{where}: unknown key(s) {sorted(unknown)}")
            meta = rule.get("metadata")
            if not isinstance(meta, dict):
                raise RulesError(f"{where}: needs 'metadata' with normalized, region, parent, kind")
            region = meta.get("region")
            if region not in REGIONS:
                raise RulesError(f"{where}: region must be one of {list(REGIONS)}, not {region!r}")
            if not isinstance(meta.get("normalized"), str):
                raise RulesError(f"{where}: metadata needs a 'normalized' name")
            entry = AnatomyEntry(
                literal=rule["literal"],
                normalized=meta["normalized"],
                region=region,
                parent=meta.get("parent"),
                kind=meta.get("kind"),
                false_friend_of=meta.get("false_friend_of"),
                not_a_target=bool(meta.get("not_a_target")),
                needs_context=bool(meta.get("needs_context")),
            )
            category = NOT_A_TARGET if entry.not_a_target else REGION_CATEGORY[region]
            target: Dict[str, Any] = {
                "literal": rule["literal"],
                "category": category,
                "metadata": {"anatomy_id": len(entries)},
            }
            if "pattern" in rule:
                target["pattern"] = rule["pattern"]
            entries.append(entry)
            rules.append(target)
    return Anatomy(entries, rules)


def by_name(entries: List[AnatomyEntry]) -> Dict[str, AnatomyEntry]:
    """Entries by literal and normalized name, lower case (the first entry of a name wins)."""
    table: Dict[str, AnatomyEntry] = {}
    for entry in entries:
        if not entry.not_a_target:
            table.setdefault(entry.literal.lower(), entry)
            table.setdefault(entry.normalized.lower(), entry)
    return table
