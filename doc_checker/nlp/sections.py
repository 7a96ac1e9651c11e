"""Section detection (spaCy component) from medspaCy-style SectionRules.

A header rule is a regex (or a literal) over the note text; a section runs from its header to
the next header. The result is plain data: span group ``dc_sections`` holds the header spans,
labelled with their category. (medspaCy's Sectionizer does the same job, but writes a Python
object onto every token, which cost more than tokenizing the note.)
"""

import re
from typing import List, Optional

from spacy.language import Language
from spacy.tokens import Doc

from ._spangroups import set_group
from .matcher import FastMatcher, longest_first

SECTION_GROUP = "dc_sections"


class Sections:
    def __init__(
        self,
        nlp: Language,
        name: str = "doc_checker_sections",
        *,
        rules: List[dict],
        header_start: Optional["re.Pattern[str]"] = None,
        header_after: Optional["re.Pattern[str]"] = None,
    ) -> None:
        self.name = name
        self.categories: List[str] = []
        self.matcher = FastMatcher(nlp, regex_starts=header_start, regex_after=header_after)
        for i, rule in enumerate(rules):
            self.categories.append(rule["category"])
            pattern = rule.get("pattern")
            if isinstance(pattern, str):
                self.matcher.add_regex(i, pattern)
            elif isinstance(pattern, list):
                self.matcher.add_pattern(i, pattern, where=f"section rule {rule['literal']!r}")
            else:
                self.matcher.add_literal(i, rule["literal"])

    def __call__(self, doc: Doc) -> Doc:
        headers = [(s, e, self.categories[k]) for k, s, e in longest_first(self.matcher(doc))]
        set_group(doc, SECTION_GROUP, headers)
        return doc
