"""Saving a rule component with its rules, as spaCy's SpanRuler does: the rules as JSONL
(``rules.jsonl``, one rule's ``to_dict()`` a line), its settings as JSON (``settings.json``);
never a path to a patterns directory, so a saved pipeline loads anywhere. What is read back is
validated as a rule file is (names the file and the rule)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Union

import srsly
from spacy import util

RULES_FILE = "rules.jsonl"
SETTINGS_FILE = "settings.json"

Lines = List[Dict[str, Any]]


class RuleSerializer:
    """``to_disk`` / ``from_disk`` / ``to_bytes`` / ``from_bytes`` for a component whose state
    is its rules and a few settings. A component gives ``_rule_lines`` and ``_settings`` (what
    to save) and ``_restore`` (replace its rules and settings by saved ones)."""

    def _rule_lines(self) -> Lines:
        raise NotImplementedError

    def _settings(self) -> Dict[str, Any]:
        return {}

    def _restore(self, lines: Optional[Lines], settings: Optional[Dict[str, Any]], source: str):
        raise NotImplementedError

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        return util.to_bytes(
            {
                "rules": lambda: srsly.json_dumps(self._rule_lines()),
                "settings": lambda: srsly.json_dumps(self._settings()),
            },
            exclude,
        )

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()):
        data: Dict[str, Any] = {}
        util.from_bytes(
            bytes_data,
            {
                "rules": lambda b: data.__setitem__("rules", srsly.json_loads(b)),
                "settings": lambda b: data.__setitem__("settings", srsly.json_loads(b)),
            },
            exclude,
        )
        self._restore(data.get("rules"), data.get("settings"), f"{self.name} (bytes)")  # type: ignore[attr-defined]
        return self

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        util.to_disk(
            util.ensure_path(path),
            {
                RULES_FILE: lambda p: srsly.write_jsonl(p, self._rule_lines()),
                SETTINGS_FILE: lambda p: srsly.write_json(p, self._settings()),
            },
            exclude,
        )

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()):
        path = Path(path)
        data: Dict[str, Any] = {}
        util.from_disk(
            path,
            {
                RULES_FILE: lambda p: data.__setitem__("rules", list(srsly.read_jsonl(p))),
                SETTINGS_FILE: lambda p: data.__setitem__("settings", srsly.read_json(p)),
            },
            exclude,
        )
        self._restore(data.get("rules"), data.get("settings"), str(path / RULES_FILE))
        return self
