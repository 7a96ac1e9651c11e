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
from ._schema import validate


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
    """Validate a profile object (``schema/rules/profile.schema.json`` and the checks it cannot
    express); errors name the source and the element."""
    validate("profile", data, source)
    assert isinstance(data, dict)
    elements: Dict[str, ElementPolicy] = {}
    for name, spec in data["elements"].items():
        required = spec.get("required", False)
        elements[name] = ElementPolicy(
            required=required, weight=float(spec.get("weight", 1 if required else 0))
        )
    for name in ELEMENTS:
        elements.setdefault(name, ElementPolicy(required=False, weight=0.0))
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
