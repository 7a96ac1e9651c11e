"""Rule objects in medspaCy's formats: :class:`TargetRule`, :class:`ConTextRule`,
:class:`SectionRule` (``medspacy.target_matcher.TargetRule``, ``medspacy.context.ConTextRule``,
``medspacy.section_detection.SectionRule``).

Each holds exactly the keys the rule files use (``metadata`` and ``comment`` included), so
``Rule.from_dict(d).to_dict() == d`` and a component can save its rules as they were written. A
key a file leaves out is ``None`` here and left out again by ``to_dict``; the components apply
the defaults (a ConText rule without ``direction`` is BIDIRECTIONAL, as in medspaCy). No spaCy
here: the components in :mod:`doc_checker.nlp` turn these into their matcher's form once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Type, TypeVar, Union

from ..errors import RulesError
from ._schema import read_json, validate

# a medspaCy pattern: a regex over the text, or a list of spaCy token dicts; None: the literal
Pattern = Union[str, List[Dict[str, Any]], None]

R = TypeVar("R", bound="_Rule")


class _Rule:
    """``from_dict`` / ``to_dict`` / ``from_json`` shared by the rule classes (dataclasses)."""

    KIND: ClassVar[str]  # the schema that validates a file of these rules (``schema/rules/``)
    LIST_KEY: ClassVar[str]  # the file's key that holds the list of rules

    @classmethod
    def keys(cls) -> List[str]:
        """The keys a rule of this class may have (its fields)."""
        return [f.name for f in fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: Type[R], rule: Mapping[str, Any]) -> R:
        """A rule from one object of a rule file. Unknown keys are an error (as in medspaCy);
        the full checks run when a file is read (:meth:`from_json`, ``load_ruleset``)."""
        allowed = cls.keys()
        unknown = set(rule) - set(allowed)
        if unknown:
            raise RulesError(
                f"{cls.__name__} {rule.get('literal')!r}: unknown key(s) {sorted(unknown)}; "
                f"allowed: {sorted(allowed)}"
            )
        missing = [k for k in ("literal", "category") if k not in rule]
        if missing:
            raise RulesError(f"{cls.__name__}: missing key(s) {missing}")
        return cls(**rule)

    @classmethod
    def from_json(cls: Type[R], path: Union[str, "os.PathLike[str]"]) -> List[R]:
        """The rules of one rule file, validated (errors name the file and the rule)."""
        data = read_json(Path(path))
        validate(cls.KIND, data, Path(path))
        return [cls.from_dict(rule) for rule in data[cls.LIST_KEY]]

    def to_dict(self) -> Dict[str, Any]:
        """The rule as its file has it: every key that is set, nothing else."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)  # type: ignore[arg-type]
            if getattr(self, f.name) is not None
        }


@dataclass
class TargetRule(_Rule):
    """A target concept (medspaCy's TargetRule): its ``category`` labels the matched span."""

    KIND: ClassVar[str] = "targets"
    LIST_KEY: ClassVar[str] = "target_rules"

    literal: str
    category: str
    pattern: Pattern = None
    attributes: Optional[Dict[str, Any]] = None
    metadata: Optional[Dict[str, Any]] = None
    comment: Optional[str] = None


@dataclass
class ConTextRule(_Rule):
    """A ConText modifier (medspaCy's ConTextRule, Harkema et al. 2009)."""

    KIND: ClassVar[str] = "context"
    LIST_KEY: ClassVar[str] = "context_rules"

    literal: str
    category: str
    pattern: Pattern = None
    direction: Optional[str] = None  # FORWARD, BACKWARD, BIDIRECTIONAL (default), TERMINATE, PSEUDO
    allowed_types: Optional[List[str]] = None
    excluded_types: Optional[List[str]] = None
    max_scope: Optional[int] = None
    max_targets: Optional[int] = None
    terminated_by: Optional[List[str]] = None
    metadata: Optional[Dict[str, Any]] = None
    comment: Optional[str] = None


@dataclass
class SectionRule(_Rule):
    """A section header (medspaCy's SectionRule): its section runs to the next header."""

    KIND: ClassVar[str] = "sections"
    LIST_KEY: ClassVar[str] = "section_rules"

    literal: str
    category: str
    pattern: Pattern = None
    max_scope: Optional[int] = None
    parents: Optional[List[str]] = None
    parent_required: Optional[bool] = None
    metadata: Optional[Dict[str, Any]] = None
    comment: Optional[str] = None
