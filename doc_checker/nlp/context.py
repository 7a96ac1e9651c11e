"""ConText (Harkema et al. 2009; medspaCy's implementation) over the checker's targets.

Same algorithm and rule format as medspaCy's ``ConText``: modifiers are matched with
ConTextRules; each gets a scope in its sentence (FORWARD, BACKWARD or BIDIRECTIONAL, cut to
``max_scope`` tokens); a TERMINATE phrase, a rule's ``terminated_by`` category or another
modifier of the same category ends a scope; PSEUDO phrases modify nothing and silence the
triggers inside them. Other overlapping modifiers are all kept (as medspaCy with
``prune_on_modifier_overlap=False``). The result is plain data, ``doc.user_data["dc_modifiers"]``:
for each modified target ("start:end:label") the sorted categories that modify it. (medspaCy's
component stores Python objects on spans and the Doc, which breaks DocBin and costs more than
tokenizing the note.)
"""

import bisect
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

import numpy as np
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from ..rules import ConTextRule, validate
from ._serialize import Lines, RuleSerializer
from ._spangroups import group_bounds
from .matcher import FastMatcher
from .targets import TARGET_GROUP

MODIFIERS_KEY = "dc_modifiers"
DEFAULT_TERMINATED_BY = frozenset({"TERMINATE"})


def target_key(start: int, end: int, label: str) -> str:
    return f"{start}:{end}:{label}"


@dataclass(frozen=True)
class Rule:
    category: str
    direction: str
    max_scope: Optional[int]
    allowed: Optional[FrozenSet[str]]
    excluded: Optional[FrozenSet[str]]
    terminated_by: FrozenSet[str]
    max_targets: Optional[int] = None  # only the n targets nearest the modifier (medspaCy's)


@dataclass(slots=True)
class Modifier:
    rule: Rule
    start: int
    end: int
    scope_start: int = 0
    scope_end: int = 0

    def limit_scope(self, other: "Modifier") -> None:
        """medspaCy's ConTextModifier.limit_scope, with one fix: scopes overlap symmetrically.
        (medspaCy's tuple_overlaps is false when the other scope contains this one, so a
        TERMINATE phrase, whose scope is its whole sentence, never cut a shorter scope.)"""
        if not _overlaps(self.scope_start, self.scope_end, other.scope_start, other.scope_end):
            return
        if self.rule.direction == "TERMINATE":
            return
        if (
            other.rule.direction != "TERMINATE"
            and other.rule.category not in self.rule.terminated_by
            and other.rule.category != self.rule.category
        ):
            return
        if self.rule.category == other.rule.category and (
            self.rule.allowed != other.rule.allowed or self.rule.excluded != other.rule.excluded
        ):
            return
        # a terminator that holds the trigger (', not fluoroscopy' around 'not') cuts the scope on
        # its own side of the trigger only: what follows 'not' stays in its forward scope
        if self.rule.direction in ("FORWARD", "BIDIRECTIONAL") and other.start > self.start:
            self.scope_end = min(self.scope_end, max(other.start, self.end))
        if self.rule.direction in ("BACKWARD", "BIDIRECTIONAL") and other.start < self.start:
            self.scope_start = max(self.scope_start, min(other.end, self.start))

    def modifies(self, start: int, end: int, label: str) -> bool:
        if _overlaps(self.start, self.end, start, end):
            return False
        if self.rule.direction in ("TERMINATE", "PSEUDO"):
            return False
        if self.rule.allowed is not None and label not in self.rule.allowed:
            return False
        if (
            self.rule.allowed is None
            and self.rule.excluded is not None
            and label in self.rule.excluded
        ):
            return False
        return _overlaps(self.scope_start, self.scope_end, start, end)


def _containment(ranges: List[Tuple[int, int]]):
    """A test of whether (start, end) lies inside one of ``ranges``, in O(log n) per test: the
    furthest end among the ranges starting at or before ``start`` (a 1 MB note has thousands
    of PSEUDO phrases; testing each against each match was quadratic)."""
    ranges = sorted(ranges)
    starts = [r[0] for r in ranges]
    furthest: List[int] = []
    for _, end in ranges:
        furthest.append(max(end, furthest[-1]) if furthest else end)

    def inside(start: int, end: int) -> bool:
        i = bisect.bisect_right(starts, start) - 1
        return i >= 0 and furthest[i] >= end

    return inside


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Whether two token ranges share a token. (medspaCy's tuple_overlaps is asymmetric: false
    when b contains a; a target longer than a short scope escaped its modifier.)"""
    return a_start < b_end and b_start < a_end


class ConTextComponent(RuleSerializer):
    """ConText over the targets, built from :class:`~doc_checker.rules.ConTextRule` objects
    (:meth:`add_patterns`); ``to_disk`` saves them."""

    def __init__(self, nlp: Language, name: str = "doc_checker_context") -> None:
        self.nlp = nlp
        self.name = name
        self.rules: List[ConTextRule] = []
        self._internal: List[Rule] = []  # each rule in the form the algorithm reads
        self.matcher = FastMatcher(nlp)

    def add_patterns(self, rules: Iterable[ConTextRule]) -> None:
        """Add modifier rules (converted to the matcher's and the algorithm's form here, once)."""
        for r in rules:
            key = len(self.rules)
            self.rules.append(r)
            self._internal.append(
                Rule(
                    category=r.category.upper(),
                    direction=(r.direction or "BIDIRECTIONAL").upper(),
                    max_scope=r.max_scope,
                    allowed=frozenset(r.allowed_types) if r.allowed_types else None,
                    excluded=frozenset(r.excluded_types) if r.excluded_types else None,
                    terminated_by=frozenset(t.upper() for t in r.terminated_by)
                    if r.terminated_by
                    else DEFAULT_TERMINATED_BY,
                    max_targets=r.max_targets,
                )
            )
            if isinstance(r.pattern, list):
                self.matcher.add_pattern(key, r.pattern, where=f"context rule {r.literal!r}")
            elif isinstance(r.pattern, str):
                self.matcher.add_regex(key, r.pattern)
            else:
                self.matcher.add_literal(key, r.literal)

    def clear(self) -> None:
        """Remove every rule."""
        self.rules, self._internal = [], []
        self.matcher = FastMatcher(self.nlp)

    def __len__(self) -> int:
        return len(self.rules)

    def _rule_lines(self) -> Lines:
        return [r.to_dict() for r in self.rules]

    def _restore(
        self, lines: Optional[Lines], settings: Optional[Dict[str, Any]], source: str
    ) -> None:
        if lines is None:
            return
        validate("context", {"context_rules": lines}, source)
        self.clear()
        self.add_patterns(ConTextRule.from_dict(line) for line in lines)

    def __call__(self, doc: Doc) -> Doc:
        targets = group_bounds(doc, TARGET_GROUP)
        result: Dict[str, List[str]] = {}
        if targets:
            _, by_sentence = self._modifiers(doc)
            spans = sorted(targets)
            by_start = [sp[0] for sp in spans]
            longest = max(sp[1] - sp[0] for sp in spans)
            found: Dict[int, set] = {}
            for group in by_sentence.values():
                for m in group:
                    if m.rule.direction in ("TERMINATE", "PSEUDO") or m.scope_end <= m.scope_start:
                        continue
                    # targets that can overlap the scope start before its end and at most
                    # `longest` tokens before its start
                    near = range(
                        bisect.bisect_left(by_start, m.scope_start - longest),
                        bisect.bisect_left(by_start, m.scope_end),
                    )
                    hits = [i for i in near if m.modifies(*spans[i])]
                    limit = m.rule.max_targets
                    if limit is not None and len(hits) > limit:
                        # medspaCy's reduce_targets: the nearest, ties in document order
                        hits = sorted(
                            hits,
                            key=lambda i: min(abs(m.start - spans[i][1]), abs(spans[i][0] - m.end)),
                        )[:limit]
                    for i in hits:
                        found.setdefault(i, set()).add(m.rule.category)
            for i, cats in found.items():
                t0, t1, label = spans[i]
                result[target_key(t0, t1, label)] = sorted(cats)
        doc.user_data[MODIFIERS_KEY] = result
        return doc

    def _modifiers(self, doc: Doc) -> Tuple[List[int], Dict[int, List[Modifier]]]:
        """Sentence starts, and the doc's modifiers (scopes set and limited) by sentence."""
        # overlapping matches are all kept (medspaCy's ConText, prune_on_modifier_overlap=False),
        # except a trigger inside a PSEUDO phrase: 'without difficulty' silences its 'without'
        matches = sorted(set(self.matcher(doc)), key=lambda m: (m[1], m[2], m[0]))
        pseudo = [(s, e) for k, s, e in matches if self._internal[k].direction == "PSEUDO"]
        if pseudo:
            inside = _containment(pseudo)
            matches = [
                m
                for m in matches
                if self._internal[m[0]].direction == "PSEUDO" or not inside(m[1], m[2])
            ]
        sent_starts = np.flatnonzero(doc.to_array(SENT_START) == 1).tolist()
        if not sent_starts or sent_starts[0] != 0:
            sent_starts.insert(0, 0)
        bounds = sent_starts + [len(doc)]
        by_sentence: Dict[int, List[Modifier]] = {}
        for key, start, end in matches:
            rule = self._internal[key]
            k = bisect.bisect_right(sent_starts, start) - 1
            s0, s1 = bounds[k], bounds[k + 1]
            m = Modifier(rule, start, end)
            scope = rule.max_scope
            if rule.direction == "FORWARD":
                m.scope_start, m.scope_end = end, s1
                if scope is not None and s1 - end > scope:
                    m.scope_end = end + scope
            elif rule.direction == "BACKWARD":
                m.scope_start, m.scope_end = s0, start
                if scope is not None and start - s0 > scope:
                    m.scope_start = start - scope
            else:
                m.scope_start, m.scope_end = s0, s1
                if scope is not None and start - s0 > scope:
                    m.scope_start = start - scope
                if scope is not None and s1 - end > scope:
                    m.scope_end = end + scope
            by_sentence.setdefault(k, []).append(m)
        # scopes never leave their sentence, so only modifiers of one sentence can limit each other
        for group in by_sentence.values():
            for i in range(len(group) - 1):
                m1 = group[i]
                for j in range(i + 1, len(group)):
                    m2 = group[j]
                    m1.limit_scope(m2)
                    m2.limit_scope(m1)
        return sent_starts, by_sentence
