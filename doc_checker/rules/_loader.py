"""Load and validate the rule files of a patterns directory.

Rules are data (``patterns/``); this module is the only place that reads them. Every file is
validated on load and an error names the file and the rule, so a bad custom patterns directory
fails before any note is processed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..errors import RulesError
from ..result import ELEMENTS

_TARGET_KEYS = {"literal", "category", "pattern", "attributes", "metadata", "comment"}
_CONTEXT_KEYS = {
    "literal",
    "category",
    "pattern",
    "direction",
    "allowed_types",
    "excluded_types",
    "max_scope",
    "max_targets",
    "terminated_by",
    "metadata",
    "comment",
}
_SECTION_KEYS = {
    "literal",
    "category",
    "pattern",
    "max_scope",
    "parents",
    "parent_required",
    "metadata",
    "comment",
}
_DIRECTIONS = {"FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"}
# the ConText categories the element logic acts on: any other one would be matched and then
# silently ignored (a typo like "NEGATED" would turn a negation rule off)
_CONTEXT_CATEGORIES = {
    "NEGATED_EXISTENCE",
    "HYPOTHETICAL",
    "HISTORICAL",
    "FAMILY",
    "ALLERGY",
    "OTHER_PURPOSE",
    "TERMINATE",
    "PSEUDO",
}
_SECTION_EFFECTS = {"indication", "historical", "hypothetical", "family", "allergy", "excluded"}


def default_patterns_dir() -> Path:
    """The patterns shipped inside the package (the top-level ``patterns/`` at build time).
    In a source checkout that was never installed, the checkout's ``patterns/`` folder."""
    try:
        return Path(str(resources.files("doc_checker.patterns")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "patterns"


@dataclass
class Ruleset:
    """Every rule the pipeline and the element logic use, validated."""

    version: str
    directory: Path
    sections: List[Dict[str, Any]]
    section_effects: Dict[str, str]
    header_start: Optional["re.Pattern[str]"]
    target_layers: Dict[str, List[Dict[str, Any]]]
    context_rules: List[Dict[str, Any]]
    abbreviations: List[Dict[str, Any]]
    elements: Dict[str, Dict[str, str]]
    template_blank: "re.Pattern[str]"
    findings: Dict[str, Dict[str, str]] = field(default_factory=dict)
    sources: Dict[str, str] = field(default_factory=dict)
    # where a header can begin: at the note start and right after a match (faster than header_start)
    header_after: Optional["re.Pattern[str]"] = None


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"{path}: rule file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read rule file ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def _rule_name(i: int, rule: Any) -> str:
    if isinstance(rule, dict) and isinstance(rule.get("literal"), str):
        return f"rule {i} ({rule['literal']!r})"
    return f"rule {i}"


def _check_pattern(path: Path, where: str, pattern: Any) -> None:
    """Validate a medspaCy pattern: a regex string, or a list of spaCy token dicts."""
    if pattern is None:
        return
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RulesError(f"{path}: {where}: invalid regex: {exc}") from None
        return
    if (
        not isinstance(pattern, list)
        or not pattern
        or not all(isinstance(t, dict) for t in pattern)
    ):
        raise RulesError(
            f"{path}: {where}: 'pattern' must be a regex string or a non-empty list of "
            "token objects"
        )
    for tok in pattern:
        for value in tok.values():
            if isinstance(value, dict) and "REGEX" in value:
                try:
                    re.compile(value["REGEX"])
                except re.error as exc:
                    raise RulesError(
                        f"{path}: {where}: invalid REGEX {value['REGEX']!r}: {exc}"
                    ) from None


def _check_rule(path: Path, i: int, rule: Any, allowed: set) -> None:
    where = _rule_name(i, rule)
    if not isinstance(rule, dict):
        raise RulesError(f"{path}: {where}: a rule must be a JSON object")
    unknown = set(rule) - allowed
    if unknown:
        raise RulesError(
            f"{path}: {where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    for key in ("literal", "category"):
        if not isinstance(rule.get(key), str) or not rule[key].strip():
            raise RulesError(f"{path}: {where}: '{key}' must be a non-empty string")
    _check_pattern(path, where, rule.get("pattern"))


def _load_list(path: Path, key: str, allowed: set) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise RulesError(f"{path}: expected an object with a '{key}' list")
    for i, rule in enumerate(data[key]):
        _check_rule(path, i, rule, allowed)
    return data, data[key]


def _load_targets(directory: Path) -> Dict[str, List[Dict[str, Any]]]:
    target_dir = directory / "targets"
    files = sorted(target_dir.glob("*.json"))
    if not files:
        raise RulesError(f"{target_dir}: no target rule files (*.json)")
    layers: Dict[str, List[Dict[str, Any]]] = {}
    for path in files:
        data, rules = _load_list(path, "target_rules", _TARGET_KEYS)
        unknown = set(data) - {"comment", "layer", "target_rules"}
        if unknown:
            raise RulesError(f"{path}: unknown top-level key(s) {sorted(unknown)}")
        layer = data.get("layer") or path.stem
        layers.setdefault(layer, []).extend(rules)
    return layers


def _load_context(directory: Path) -> List[Dict[str, Any]]:
    path = directory / "context.json"
    data, rules = _load_list(path, "context_rules", _CONTEXT_KEYS)
    for i, rule in enumerate(rules):
        direction = str(rule.get("direction", "BIDIRECTIONAL")).upper()
        if direction not in _DIRECTIONS:
            raise RulesError(
                f"{path}: {_rule_name(i, rule)}: direction must be one of {sorted(_DIRECTIONS)}"
            )
        category = rule["category"].strip().upper()
        if category not in _CONTEXT_CATEGORIES:
            raise RulesError(
                f"{path}: {_rule_name(i, rule)}: unknown category {rule['category']!r}; "
                f"one of {sorted(_CONTEXT_CATEGORIES)}"
            )
        ends = rule.get("terminated_by")
        if ends is not None and (
            not isinstance(ends, list)
            or any(not isinstance(c, str) or c.upper() not in _CONTEXT_CATEGORIES for c in ends)
        ):
            raise RulesError(
                f"{path}: {_rule_name(i, rule)}: terminated_by must be a list of categories "
                f"from {sorted(_CONTEXT_CATEGORIES)}"
            )
        scope = rule.get("max_scope")
        if scope is not None and (
            not isinstance(scope, int) or isinstance(scope, bool) or scope < 1
        ):
            raise RulesError(f"{path}: {_rule_name(i, rule)}: max_scope must be a positive integer")
    return rules


def _load_sections(
    directory: Path,
) -> Tuple[
    List[Dict[str, Any]], Dict[str, str], Optional["re.Pattern[str]"], Optional["re.Pattern[str]"]
]:
    path = directory / "sections.json"
    data, rules = _load_list(path, "section_rules", _SECTION_KEYS)
    effects = data.get("section_effects", {})
    if not isinstance(effects, dict):
        raise RulesError(f"{path}: 'section_effects' must be an object")
    for category, effect in effects.items():
        if effect not in _SECTION_EFFECTS:
            raise RulesError(
                f"{path}: section_effects[{category!r}]: {effect!r} is not one of "
                f"{sorted(_SECTION_EFFECTS)}"
            )
    unknown = set(data) - {
        "comment",
        "section_effects",
        "section_rules",
        "header_start",
        "header_after",
    }
    if unknown:
        raise RulesError(f"{path}: unknown top-level key(s) {sorted(unknown)}")
    header_start, header_after = (
        _optional_regex(path, data, key) for key in ("header_start", "header_after")
    )
    if header_start is not None and header_after is not None:
        raise RulesError(f"{path}: give 'header_start' or 'header_after', not both")
    if header_after is not None and header_after.match("") is not None:
        raise RulesError(
            f"{path}: header_after must not match the empty string (it marks what a header follows)"
        )
    return rules, dict(effects), header_start, header_after


def _optional_regex(path: Path, data: Dict[str, Any], key: str) -> Optional["re.Pattern[str]"]:
    if data.get(key) is None:
        return None
    try:
        return re.compile(data[key])
    except (re.error, TypeError) as exc:
        raise RulesError(f"{path}: {key}: invalid regex: {exc}") from None


def _load_abbreviations(directory: Path) -> List[Dict[str, Any]]:
    path = directory / "abbreviations.json"
    if not path.exists():
        return []
    data = read_json(path)
    entries = data.get("abbreviations") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RulesError(f"{path}: expected an object with an 'abbreviations' list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - {
            "abbr",
            "long",
            "case_sensitive",
            "comment",
        }:
            raise RulesError(f"{path}: entry {i}: keys must be abbr, long, case_sensitive, comment")
        if not entry.get("abbr") or not entry.get("long"):
            raise RulesError(f"{path}: entry {i}: 'abbr' and 'long' are required")
    return entries


def _load_elements(
    directory: Path,
) -> Tuple[Dict[str, Dict[str, str]], "re.Pattern[str]", Dict[str, Dict[str, str]]]:
    path = directory / "elements.json"
    data = read_json(path)
    elements = data.get("elements") if isinstance(data, dict) else None
    if not isinstance(elements, dict):
        raise RulesError(f"{path}: expected an object with an 'elements' object")
    missing = [e for e in ELEMENTS if e not in elements]
    if missing:
        raise RulesError(f"{path}: missing element definition(s) {missing}")
    for name, spec in elements.items():
        if name not in ELEMENTS:
            raise RulesError(f"{path}: unknown element {name!r}; known: {list(ELEMENTS)}")
        if not isinstance(spec, dict) or not isinstance(spec.get("query"), str):
            raise RulesError(f"{path}: element {name!r}: needs a 'query' string")
    try:
        blank = re.compile(data.get("template_blank_regex", r"^\s*$"), re.IGNORECASE)
    except re.error as exc:
        raise RulesError(f"{path}: template_blank_regex: invalid regex: {exc}") from None
    findings = data.get("findings", {})
    for code, spec in findings.items():
        if (
            not isinstance(spec, dict)
            or spec.get("severity") not in ("error", "warning", "info")
            or not isinstance(spec.get("message"), str)
        ):
            raise RulesError(
                f"{path}: finding {code!r}: needs 'severity' (error|warning|info) and 'message'"
            )
    return elements, blank, findings


def load_ruleset(directory: Optional["os.PathLike[str] | str"] = None) -> Ruleset:
    """Read and validate every rule file of ``directory`` (default: the shipped patterns)."""
    root = Path(directory) if directory is not None else default_patterns_dir()
    if not root.is_dir():
        raise RulesError(f"{root}: patterns directory not found")
    meta = read_json(root / "ruleset.json")
    version = meta.get("version") if isinstance(meta, dict) else None
    if not isinstance(version, str) or not version:
        raise RulesError(f"{root / 'ruleset.json'}: needs a 'version' string")
    sections, effects, header_start, header_after = _load_sections(root)
    elements, blank, findings = _load_elements(root)
    return Ruleset(
        version=version,
        directory=root,
        sections=sections,
        section_effects=effects,
        header_start=header_start,
        header_after=header_after,
        target_layers=_load_targets(root),
        context_rules=_load_context(root),
        abbreviations=_load_abbreviations(root),
        elements=elements,
        template_blank=blank,
        findings=findings,
    )
