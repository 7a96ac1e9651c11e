"""Profiles: which elements are required and how much each weighs in the score."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional, Union

from ..errors import RulesError
from ..result import ELEMENTS
from ._loader import default_patterns_dir


@dataclass(frozen=True)
class ElementPolicy:
    required: bool
    weight: float


@dataclass(frozen=True)
class Profile:
    """A named set of element policies; pure data, used by scoring."""

    name: str
    elements: Mapping[str, ElementPolicy]

    @property
    def required(self) -> tuple:
        return tuple(e for e in ELEMENTS if self.elements[e].required)

    def to_dict(self) -> Dict[str, object]:
        return {
            "name": self.name,
            "elements": {
                e: {"required": p.required, "weight": p.weight} for e, p in self.elements.items()
            },
        }


def profile_from_dict(data: object, source: str = "<profile>") -> Profile:
    """Validate a profile object; errors name the source and the element."""
    if not isinstance(data, dict) or not isinstance(data.get("elements"), dict):
        raise RulesError(f"{source}: a profile needs an 'elements' object")
    unknown = set(data) - {"name", "comment", "elements"}
    if unknown:
        raise RulesError(f"{source}: unknown key(s) {sorted(unknown)}")
    elements: Dict[str, ElementPolicy] = {}
    for name, spec in data["elements"].items():
        if name not in ELEMENTS:
            raise RulesError(f"{source}: unknown element {name!r}; known: {list(ELEMENTS)}")
        if not isinstance(spec, dict) or set(spec) - {"required", "weight", "comment"}:
            raise RulesError(f"{source}: element {name!r}: keys must be 'required' and 'weight'")
        required = spec.get("required", False)
        weight = spec.get("weight", 1 if required else 0)
        if not isinstance(required, bool):
            raise RulesError(f"{source}: element {name!r}: 'required' must be true or false")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or weight < 0
            or weight != weight
        ):
            raise RulesError(
                f"{source}: element {name!r}: 'weight' must be a non-negative number, "
                f"got {weight!r}"
            )
        if required and weight == 0:
            raise RulesError(
                f"{source}: element {name!r}: a required element needs a weight above 0"
            )
        elements[name] = ElementPolicy(required=required, weight=float(weight))
    for name in ELEMENTS:
        elements.setdefault(name, ElementPolicy(required=False, weight=0.0))
    if not any(p.required for p in elements.values()):
        raise RulesError(f"{source}: a profile must require at least one element")
    return Profile(name=str(data.get("name") or Path(source).stem), elements=elements)


def load_profile(
    profile: Union[None, str, "os.PathLike[str]", Mapping, Profile] = None,
    patterns_dir: Optional[Path] = None,
) -> Profile:
    """Load a profile: None -> ``profiles/default.json`` of the patterns directory."""
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, Mapping):
        return profile_from_dict(dict(profile))
    if profile is None:
        base = Path(patterns_dir) if patterns_dir is not None else default_patterns_dir()
        path = base / "profiles" / "default.json"
        if not path.exists():
            path = default_patterns_dir() / "profiles" / "default.json"
    else:
        path = Path(profile)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesError(f"{path}: profile not found") from None
    except json.JSONDecodeError as exc:
        raise RulesError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read profile ({exc})") from None
    return profile_from_dict(data, str(path))
