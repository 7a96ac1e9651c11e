"""Load the rule files of a patterns directory into rule objects.

Rules are data (``patterns/``); this module is the only place that reads a patterns directory.
Every file is validated on load (:mod:`._schema`: JSON Schemas plus the checks they cannot
express) and an error names the file and the rule, so a bad custom patterns directory fails
before any note is processed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..errors import RulesError
from ._objects import ConTextRule, SectionRule, TargetRule
from ._schema import read_json, validate
from .anatomy import AnatomyEntry, anatomy_from_dict, by_name
from .spelling import Spelling


def default_patterns_dir() -> Path:
    """The patterns shipped with the package: ``doc_checker/patterns`` in an installed wheel (the
    top-level ``patterns/`` mapped in at build time); in a source checkout (editable install),
    the checkout's own ``patterns/`` beside the package, so a checkout never reads another's."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "patterns", package.parent / "patterns"):
        if (candidate / "ruleset.json").is_file():
            return candidate
    try:
        return Path(str(resources.files("doc_checker.patterns")))
    except ModuleNotFoundError:
        return package.parent / "patterns"


@dataclass
class Ruleset:
    """Every rule the pipeline and the element logic use, validated, as rule objects."""

    version: str
    directory: Path
    sections: List[SectionRule]
    section_effects: Dict[str, str]
    header_start: Optional["re.Pattern[str]"]
    target_layers: Dict[str, List[TargetRule]]
    context_rules: List[ConTextRule]
    abbreviations: List[Dict[str, Any]]
    elements: Dict[str, Dict[str, str]]
    template_blank: "re.Pattern[str]"
    findings: Dict[str, Dict[str, str]] = field(default_factory=dict)
    sources: Dict[str, str] = field(default_factory=dict)
    # where a header can begin: at the note start and right after a match (faster than header_start)
    header_after: Optional["re.Pattern[str]"] = None
    # the anatomy model: what each site rule names (its rules lead the "site" target layer)
    anatomy: List[AnatomyEntry] = field(default_factory=list)
    # the same by literal and normalized name (lower case): a site another rule file found
    # ('left hip joint') still gets its anatomy
    anatomy_by_name: Dict[str, AnatomyEntry] = field(default_factory=dict)
    # procedure frames: action names, generic target words that refer back, laterality words
    frames: Optional["FramesConfig"] = None
    # robust key terms (misspellings, fuzzy matches, split words)
    spelling: Optional[Spelling] = None
    # a page / fax banner line a page break left inside a sentence (the sentence runs on past it)
    page_banner: Optional["re.Pattern[str]"] = None


def _load(kind: str, path: Path) -> Dict[str, Any]:
    data = read_json(path)
    validate(kind, data, path)
    return data


def _load_targets(directory: Path) -> Dict[str, List[TargetRule]]:
    target_dir = directory / "targets"
    files = sorted(target_dir.glob("*.json"))
    if not files:
        raise RulesError(f"{target_dir}: no target rule files (*.json)")
    layers: Dict[str, List[TargetRule]] = {}
    for path in files:
        data = _load("targets", path)
        layer = data.get("layer") or path.stem
        layers.setdefault(layer, []).extend(TargetRule.from_dict(r) for r in data["target_rules"])
    return layers


def _load_abbreviations(directory: Path) -> List[Dict[str, Any]]:
    path = directory / "abbreviations.json"
    if not path.exists():
        return []
    entries: List[Dict[str, Any]] = _load("abbreviations", path)["abbreviations"]
    return entries


@dataclass(frozen=True)
class FramesConfig:
    """``frames.json``, compiled: action -> regex; generic word -> kind; side -> regex."""

    actions: Tuple[Tuple[str, "re.Pattern[str]"], ...]
    anaphora: Dict[str, str]
    laterality: Tuple[Tuple[str, "re.Pattern[str]"], ...]
    procedure_nouns: Optional["re.Pattern[str]"] = None


def _load_spelling(directory: Path) -> Optional[Spelling]:
    path = directory / "spelling.json"
    if not path.exists():
        return None
    return Spelling.from_dict(read_json(path), str(path))


def _load_frames(directory: Path) -> Optional[FramesConfig]:
    path = directory / "frames.json"
    if not path.exists():
        return None
    data = read_json(path)
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected an object with 'actions', 'anaphora', 'laterality'")

    def regexes(key: str) -> Tuple[Tuple[str, "re.Pattern[str]"], ...]:
        items = data.get(key, {})
        if not isinstance(items, dict):
            raise RulesError(f"{path}: '{key}' must be an object of name -> regex")
        out = []
        for name, rx in items.items():
            try:
                out.append((name, re.compile(rx, re.IGNORECASE)))
            except (re.error, TypeError) as exc:
                raise RulesError(f"{path}: {key}.{name}: invalid regex: {exc}") from None
        return tuple(out)

    anaphora: Dict[str, str] = {}
    for kind, words in (data.get("anaphora") or {}).items():
        if kind == "comment":
            continue
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise RulesError(f"{path}: anaphora.{kind}: must be a list of words")
        anaphora.update({w.lower(): kind for w in words})
    nouns = data.get("procedure_nouns")
    try:
        noun_re = re.compile(nouns, re.IGNORECASE) if nouns else None
    except (re.error, TypeError) as exc:
        raise RulesError(f"{path}: procedure_nouns: invalid regex: {exc}") from None
    return FramesConfig(regexes("actions"), anaphora, regexes("laterality"), noun_re)


def load_ruleset(directory: Optional["os.PathLike[str] | str"] = None) -> Ruleset:
    """Read and validate every rule file of ``directory`` (default: the shipped patterns)."""
    root = Path(directory) if directory is not None else default_patterns_dir()
    if not root.is_dir():
        raise RulesError(f"{root}: patterns directory not found")
    version = _load("ruleset", root / "ruleset.json")["version"]
    sections = _load("sections", root / "sections.json")
    elements = _load("elements", root / "elements.json")
    headers = {
        key: re.compile(sections[key]) if sections.get(key) is not None else None
        for key in ("header_start", "header_after", "page_banner")
    }
    target_layers = _load_targets(root)
    anatomy: List[AnatomyEntry] = []
    if (root / "anatomy.json").exists():
        model = anatomy_from_dict(read_json(root / "anatomy.json"), root / "anatomy.json")
        anatomy = model.entries
        site_rules = [TargetRule.from_dict(rule) for rule in model.rules]
        target_layers["site"] = site_rules + target_layers.get("site", [])
    return Ruleset(
        version=version,
        directory=root,
        sections=[SectionRule.from_dict(r) for r in sections["section_rules"]],
        section_effects=dict(sections.get("section_effects", {})),
        header_start=headers["header_start"],
        header_after=headers["header_after"],
        target_layers=target_layers,
        context_rules=[
            ConTextRule.from_dict(r)
            for r in _load("context", root / "context.json")["context_rules"]
        ],
        abbreviations=_load_abbreviations(root),
        elements=elements["elements"],
        template_blank=re.compile(elements.get("template_blank_regex", r"^\s*$"), re.IGNORECASE),
        findings=elements.get("findings", {}),
        anatomy=anatomy,
        anatomy_by_name=by_name(anatomy),
        frames=_load_frames(root),
        spelling=_load_spelling(root),
        page_banner=headers["page_banner"],
    )
