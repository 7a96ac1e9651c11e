"""Errors doc-checker raises. Messages name files, rules and positions, never note text."""


class DocCheckerError(Exception):
    """Base class of every error this package raises on purpose."""


class RulesError(DocCheckerError, ValueError):
    """A rule file or profile is invalid (names the file and the rule)."""


class InputError(DocCheckerError, ValueError):
    """A note cannot be checked (empty, binary, not decodable). Says where, never what."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self):  # picklable, for worker processes
        return (InputError, (self.code, self.message))


class UsageError(Exception):
    """Bad command-line input (exit code 2): a path that does not exist, no notes found."""
