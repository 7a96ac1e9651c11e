"""Rules and profiles as data: loading and validating a patterns directory (``patterns/``).

No spaCy here: both the NLP components (``doc_checker.nlp``) and the decisions
(``doc_checker.decide``) take what this package loads. Public: :class:`Ruleset`,
:func:`load_ruleset`, :func:`default_patterns_dir`, :class:`Profile`, :func:`load_profile`.
"""

from ..result import ELEMENTS
from ._loader import Ruleset, default_patterns_dir, load_ruleset, read_json
from .profiles import ElementPolicy, Profile, load_profile, profile_from_dict

__all__ = [
    "ELEMENTS",
    "ElementPolicy",
    "Profile",
    "Ruleset",
    "default_patterns_dir",
    "load_profile",
    "load_ruleset",
    "profile_from_dict",
    "read_json",
]
