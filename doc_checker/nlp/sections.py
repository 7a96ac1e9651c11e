"""Section detection (spaCy component) from medspaCy-style SectionRules.

A header rule is a regex (or a literal) over the note text; a section runs from its header to
the next header. The result is plain data: span group ``dc_sections`` holds the header spans,
labelled with their category. (medspaCy's Sectionizer does the same job, but writes a Python
object onto every token, which cost more than tokenizing the note.)

The component is built from rule objects (:meth:`Sections.add_patterns`) and saves them, with
its settings (where a header can begin, what each section means), in ``to_disk``.
"""

import re
from typing import Any, Dict, Iterable, List, Optional

from spacy.language import Language
from spacy.tokens import Doc

from ..rules import SectionRule, validate
from ._serialize import Lines, RuleSerializer
from ._spangroups import set_group
from .matcher import FastMatcher, longest_first

SECTION_GROUP = "dc_sections"


class Sections(RuleSerializer):
    def __init__(self, nlp: Language, name: str = "doc_checker_sections") -> None:
        self.nlp = nlp
        self.name = name
        self.rules: List[SectionRule] = []
        self.categories: List[str] = []
        # where a header can begin (regexes; see FastMatcher): header_after is the fast one
        self.header_start: Optional[str] = None
        self.header_after: Optional[str] = None
        # section category -> what its section means to the element logic (patterns/sections.json)
        self.section_effects: Dict[str, str] = {}
        self.matcher = self._new_matcher()

    def _new_matcher(self) -> FastMatcher:
        return FastMatcher(
            self.nlp,
            regex_starts=re.compile(self.header_start) if self.header_start is not None else None,
            regex_after=re.compile(self.header_after) if self.header_after is not None else None,
        )

    def set_header_position(
        self, *, header_start: Optional[str] = None, header_after: Optional[str] = None
    ) -> None:
        """Where a header can begin: where ``header_start`` matches, or at the note start and
        right after each match of ``header_after``; neither: anywhere. Rebuilds the matcher."""
        self.header_start, self.header_after = header_start, header_after
        rules = self.rules
        self.clear()
        self.add_patterns(rules)

    def add_patterns(self, rules: Iterable[SectionRule]) -> None:
        """Add header rules (converted to the matcher's form here, once)."""
        for rule in rules:
            key = len(self.rules)
            self.rules.append(rule)
            self.categories.append(rule.category)
            if isinstance(rule.pattern, str):
                self.matcher.add_regex(key, rule.pattern)
            elif isinstance(rule.pattern, list):
                self.matcher.add_pattern(key, rule.pattern, where=f"section rule {rule.literal!r}")
            else:
                self.matcher.add_literal(key, rule.literal)

    def clear(self) -> None:
        """Remove every rule (the settings stay)."""
        self.rules, self.categories = [], []
        self.matcher = self._new_matcher()

    def __len__(self) -> int:
        return len(self.rules)

    def __call__(self, doc: Doc) -> Doc:
        headers = [(s, e, self.categories[k]) for k, s, e in longest_first(self.matcher(doc))]
        set_group(doc, SECTION_GROUP, headers)
        return doc

    # serialization: the rules and settings as patterns/sections.json has them -----------------
    def _rule_lines(self) -> Lines:
        return [rule.to_dict() for rule in self.rules]

    def _settings(self) -> Dict[str, Any]:
        settings: Dict[str, Any] = {"section_effects": dict(self.section_effects)}
        for key in ("header_start", "header_after"):
            if getattr(self, key) is not None:
                settings[key] = getattr(self, key)
        return settings

    def _restore(
        self, lines: Optional[Lines], settings: Optional[Dict[str, Any]], source: str
    ) -> None:
        settings = settings if settings is not None else self._settings()
        lines = lines if lines is not None else self._rule_lines()
        validate("sections", {**settings, "section_rules": lines}, source)
        self.section_effects = dict(settings.get("section_effects", {}))
        self.header_start = settings.get("header_start")
        self.header_after = settings.get("header_after")
        self.clear()
        self.add_patterns(SectionRule.from_dict(line) for line in lines)
