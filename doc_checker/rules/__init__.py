"""Rules and profiles as data: rule objects, loading and validating a patterns directory.

No spaCy here: both the NLP components (``doc_checker.nlp``) and the decisions
(``doc_checker.decide``) take what this package loads. Public: the rule objects
:class:`TargetRule`, :class:`ConTextRule`, :class:`SectionRule` (medspaCy's formats;
``from_json`` / ``from_dict`` / ``to_dict``); :class:`Ruleset`, :func:`load_ruleset`,
:func:`default_patterns_dir`; :func:`validate` (one rule file's data against its JSON Schema in
``doc_checker/schema/rules/``); :class:`Profile`, :func:`load_profile`.
"""

from ..result import ELEMENTS
from ._loader import Ruleset, default_patterns_dir, load_ruleset
from ._objects import ConTextRule, SectionRule, TargetRule
from ._schema import read_json, schema, validate
from .profiles import ElementPolicy, Profile, load_profile, profile_from_dict

__all__ = [
    "ELEMENTS",
    "ConTextRule",
    "ElementPolicy",
    "Profile",
    "Ruleset",
    "SectionRule",
    "TargetRule",
    "default_patterns_dir",
    "load_profile",
    "load_ruleset",
    "profile_from_dict",
    "read_json",
    "schema",
    "validate",
]
