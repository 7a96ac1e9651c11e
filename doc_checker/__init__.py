"""doc-checker: does a procedure note document what supports CPT +77002?

>>> from doc_checker import Checker
>>> result = Checker().check(note_text, note_id="n1")
>>> result.verdict, result.score, result.missing

``Checker`` (and with it spaCy) is imported on first use, so the pure parts (scoring, profile,
result model) stay importable without the NLP stack.
"""

from typing import Any

from ._version import __version__
from .errors import DocCheckerError, InputError, RulesError
from .result import CheckResult, ErrorRecord

__all__ = [
    "Checker",
    "CheckResult",
    "ErrorRecord",
    "DocCheckerError",
    "InputError",
    "RulesError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "Checker":
        from .checker import Checker

        return Checker
    raise AttributeError(f"module 'doc_checker' has no attribute {name!r}")
