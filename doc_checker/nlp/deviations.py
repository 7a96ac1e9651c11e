"""Where the checker's engines knowingly differ from stock medspaCy: the one list.

The checker runs its own sections, ConText and matcher (for speed) in medspaCy's rule formats and
algorithms. The differential tests (``tests/nlp/test_differential_*.py``) run the same rules
through stock medspaCy beside them, on every fixture and corpus note, and allow a difference
only when it is listed here: with every deviation below applied to stock medspaCy
(:func:`applied`, a patch per deviation), the two must agree exactly; and each deviation has a
pinned test that shows it on a minimal sentence. README ("How it relates to medspaCy") prints
this table.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import (
    Any,
    Callable,
    ContextManager,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Sequence,
    Tuple,
)
from unittest import mock


@dataclass(frozen=True)
class Deviation:
    id: str
    component: str  # "context", "sections" or "targets"
    what: str  # what the checker does that stock medspaCy does not
    reason: str  # why
    test: str  # the test that pins it (tests/nlp/...::name)


DEVIATIONS: Tuple[Deviation, ...] = (
    Deviation(
        id="symmetric-overlap",
        component="context",
        what=(
            "Two token ranges overlap when they share a token, whichever contains the other "
            "(medspaCy's tuple_overlaps(a, b) is false when b strictly contains a). So a "
            "TERMINATE phrase, whose scope is its whole sentence, cuts a shorter scope it "
            "contains; a modifier inside a target never modifies that target; and a target "
            "longer than a short scope on both sides is still in it."
        ),
        reason=(
            "Stock medspaCy lets 'no' negate across 'but' whenever the negation's scope is "
            "shorter than the sentence (any rule with max_scope): 'No contrast but fluoroscopy "
            "was used' negated the fluoroscopy. And its check meant to stop a concept modifying "
            "itself misses a modifier strictly inside the target: 'NECK - SUPPLE, NO "
            "LYMPHADENOPATHY' as one target was negated by its own 'NO' (all 35 differences on "
            "the ConText benchmark; the gold labels side with the checker in most, see README)."
        ),
        test="tests/nlp/test_differential_context.py::test_deviation_symmetric_overlap",
    ),
    Deviation(
        id="pseudo-silences-inside",
        component="context",
        what=(
            "Overlapping modifier matches are all kept (as medspaCy with "
            "prune_on_modifier_overlap=False), except a trigger that lies inside a PSEUDO "
            "phrase: 'without' inside 'without difficulty' modifies nothing."
        ),
        reason=(
            "medspaCy's only tool is pruning every overlap (prune_on_modifier_overlap=True), "
            "which also drops one of two real overlapping modifiers ('no' inside 'no "
            "history of' is fine to lose, but a FAMILY phrase overlapping a NEGATED one is "
            "not). PSEUDO phrases exist to silence the trigger inside them, so only they do."
        ),
        test="tests/nlp/test_differential_context.py::test_deviation_pseudo_silences_inside",
    ),
    Deviation(
        id="before-by-start",
        component="context",
        what=(
            "When one modifier limits another's backward scope, 'comes before' compares the "
            "modifiers' starts (medspaCy's ConTextModifier.__lt__ compares their ends, while "
            "__gt__ compares starts)."
        ),
        reason=(
            "With overlapping modifiers kept, medspaCy's comparison makes 'not' inside "
            "'not used' come before it, and cuts the BACKWARD 'not used' to an inverted, empty "
            "scope (start after end): 'no imaging (C-arm not used)' lost a modifier. Starts "
            "are the order both directions use elsewhere."
        ),
        test="tests/nlp/test_differential_context.py::test_deviation_before_by_start",
    ),
    Deviation(
        id="longest-first-pruning",
        component="targets",
        what=(
            "Overlapping target matches of a layer (and section headers) are pruned longest "
            "first: the longest match is kept, then each next longest that overlaps nothing "
            "kept (spacy.util.filter_spans). medspaCy's prune_overlapping_matches compares "
            "neighbours pairwise, so a match is lost when it overlapped only a longer one that "
            "was dropped in turn."
        ),
        reason=(
            "With matches (36, 37), (36, 38) and (37, 40), medspaCy keeps only (37, 40), "
            "although (36, 37) overlaps nothing kept: 'He presents for a therapeutic "
            "injection' lost its INDICATION mention ('presents')."
        ),
        test="tests/nlp/test_medspacy_engine.py::test_deviation_longest_first_pruning",
    ),
    Deviation(
        id="first-listed-wins",
        component="targets",
        what=(
            "When rules of a layer match exactly the same tokens, the rule listed first in the "
            "layer wins (its label and metadata are kept): anatomy.json's entries lead the site "
            "layer, then targets/sites.json, then the abbreviation variants. Stock medspaCy "
            "keeps whichever match its internal matchers return first: token patterns before "
            "literals before regular expressions, and among token patterns spaCy's Matcher "
            "order, which the rule file does not decide."
        ),
        reason=(
            "A rule author can read and change an order they wrote; medspaCy's order is not "
            "in the rule files. The site words 'transforaminal' and 'medial branch' are in both "
            "anatomy.json (with what they name: 'transforaminal epidural space', kind 'space') "
            "and in a broad targets/sites.json rule (a category only); stock medspaCy kept the "
            "sites.json rule and lost the anatomy a procedure frame names. Removing such "
            "duplicates from the rule files would not settle the next pair of rules that match "
            "the same words (sites.json's broad rules are the fallback for site words "
            "anatomy.json does not name), so the order is the rule; spaCy's filter_spans also "
            "keeps the first of equal spans."
        ),
        test="tests/nlp/test_medspacy_engine.py::test_deviation_first_listed_wins",
    ),
)


def deviations_of(component: str) -> Tuple[Deviation, ...]:
    """The listed deviations of one component ("context", "sections", "targets")."""
    return tuple(d for d in DEVIATIONS if d.component == component)


# Each deviation as a patch on stock medspaCy's ConText (tests and scripts/bench_context.py only:
# it changes medspaCy's module globals for the duration of a ``with`` block).


def _longest_first(ctx: Any) -> ContextManager:
    import medspacy.common.medspacy_matcher as medspacy_matcher

    def prune(matches):
        kept: list = []
        taken: set = set()
        for m in sorted(matches, key=lambda m: (m[1] - m[2], m[1])):
            if not taken.intersection(range(m[1], m[2])):
                kept.append(m)
                taken.update(range(m[1], m[2]))
        return sorted(kept, key=lambda m: (m[1], m[2]))

    return mock.patch.object(medspacy_matcher, "prune_overlapping_matches", prune)


def _symmetric_overlap(ctx: Any) -> ContextManager:
    import medspacy.context.context_modifier as context_modifier

    return mock.patch.object(
        context_modifier, "tuple_overlaps", lambda a, b: a[0] < b[1] and b[0] < a[1]
    )


def _before_by_start(ctx: Any) -> ContextManager:
    from medspacy.context.context_modifier import ConTextModifier

    return mock.patch.object(
        ConTextModifier,
        "__lt__",
        lambda self, other: self.modifier_span[0] < other.modifier_span[0],
    )


class _PseudoFilter:
    """Wraps stock ConText's matcher: drops every non-PSEUDO match inside a PSEUDO match."""

    def __init__(self, matcher: Any, vocab: Any) -> None:
        self.matcher, self.vocab = matcher, vocab

    def __getattr__(self, name: str) -> Any:
        return getattr(self.matcher, name)

    def _direction(self, key: int) -> str:
        return self.matcher.rule_map[self.vocab[key].text].direction

    def __call__(self, doc: Any) -> Any:
        from .context import _containment

        matches = self.matcher(doc)
        pseudo = [(s, e) for k, s, e in matches if self._direction(k) == "PSEUDO"]
        if not pseudo:
            return matches
        inside = _containment(pseudo)
        return [m for m in matches if self._direction(m[0]) == "PSEUDO" or not inside(m[1], m[2])]


def _pseudo_silences_inside(ctx: Any) -> ContextManager:
    if ctx is None:
        return contextlib.nullcontext()
    inner = ctx._ConText__matcher  # medspaCy keeps its matcher private
    return mock.patch.object(ctx, "_ConText__matcher", _PseudoFilter(inner, ctx.nlp.vocab))


def _first_listed_wins(ctx: Any) -> ContextManager:
    """Stock matches handed to the pruning in rule order for equal spans (medspaCy's pruning,
    stock or patched, keeps the first of equal spans); the pruning is looked up at call time,
    so this composes with ``longest-first-pruning`` in either order."""
    import medspacy.common.medspacy_matcher as medspacy_matcher

    stock_call = medspacy_matcher.MedspacyMatcher.__call__

    def call(self: Any, doc: Any) -> Any:
        if not self._prune:
            return stock_call(self, doc)
        self._prune = False
        try:
            matches = stock_call(self, doc)
        finally:
            self._prune = True
        order = {rule_id: i for i, rule_id in enumerate(self.rule_map)}
        strings = doc.vocab.strings
        matches = sorted(matches, key=lambda m: (m[1], m[2], order[strings[m[0]]]))
        return medspacy_matcher.prune_overlapping_matches(matches)

    return mock.patch.object(medspacy_matcher.MedspacyMatcher, "__call__", call)


PATCHES: Dict[str, Callable[[Any], ContextManager]] = {
    "symmetric-overlap": _symmetric_overlap,
    "pseudo-silences-inside": _pseudo_silences_inside,
    "before-by-start": _before_by_start,
    "longest-first-pruning": _longest_first,
    "first-listed-wins": _first_listed_wins,
}


@contextlib.contextmanager
def applied(ctx: Any, ids: Iterable[str]) -> Iterator[None]:
    """Stock medspaCy with the deviations ``ids`` applied, inside the block; ``ctx``: the stock
    ConText instance whose matcher the PSEUDO deviation wraps (None: no ConText to patch)."""
    with contextlib.ExitStack() as stack:
        for deviation_id in ids:
            stack.enter_context(PATCHES[deviation_id](ctx))
        yield


# Which deviations decide a difference (tests/nlp/test_medspacy_engine.py and
# scripts/medspacy_agreement.py): results(deviation ids, note ids) -> {note id: result}, any
# comparable form of a note's result through stock medspaCy with those deviations applied.
Results = Callable[[Sequence[str], Sequence[str]], Mapping[str, Any]]


def deciding(
    results: Results, ours: Mapping[str, Any], ids: Sequence[str]
) -> Dict[str, Tuple[str, ...]]:
    """Each note whose result through stock medspaCy differs from ``ours`` -> the deviations that
    decide it: those that, left out while all the others of ``ids`` are applied, bring the
    difference back. An empty tuple is a difference no listed deviation explains."""
    stock = results([], list(ours))
    differing = [nid for nid in ours if stock[nid] != ours[nid]]
    needs: Dict[str, List[str]] = {nid: [] for nid in differing}
    for left_out in ids:
        theirs = results([d for d in ids if d != left_out], differing)
        for nid in differing:
            if theirs[nid] != ours[nid]:
                needs[nid].append(left_out)
    return {nid: tuple(found) for nid, found in needs.items()}


def unexplained(
    results: Results, ours: Mapping[str, Any], needs: Mapping[str, Tuple[str, ...]]
) -> List[str]:
    """The notes of ``needs`` that exactly their deciding deviations, and no other, do not make
    identical to ``ours`` (none decides them, or they need more than the ones found)."""
    left: List[str] = [nid for nid, found in needs.items() if not found]
    for found in sorted({f for f in needs.values() if f}):
        notes = [nid for nid, f in needs.items() if f == found]
        theirs = results(list(found), notes)
        left += [nid for nid in notes if theirs[nid] != ours[nid]]
    return sorted(left)
