"""doc-checker: does a procedure note document what supports CPT +77002?

>>> from doc_checker import Checker
>>> result = Checker().check(note_text, note_id="n1")
>>> result.verdict, result.score, result.missing
"""
from ._version import __version__
from .checker import Checker
from .errors import DocCheckerError, InputError, RulesError
from .result import CheckResult, ErrorRecord

__all__ = ["Checker", "CheckResult", "ErrorRecord", "DocCheckerError", "InputError", "RulesError", "__version__"]
