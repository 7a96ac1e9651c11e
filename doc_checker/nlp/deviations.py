"""Where the checker's engines knowingly differ from stock medspaCy: the one list.

The checker runs its own sections, ConText and matcher (for speed) in medspaCy's rule formats and
algorithms. The differential tests (``tests/nlp/test_differential_*.py``) run the same rules
through stock medspaCy beside them, on every fixture and corpus note, and allow a difference
only when it is listed here: with every deviation below applied to stock medspaCy (the tests
patch it, ``tests/nlp/medspacy_deviations.py``), the two must agree exactly; and each deviation
has a pinned test that shows it on a minimal sentence. README ("How it relates to medspaCy")
prints this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class Deviation:
    id: str
    component: str  # "context", "sections" or "matcher"
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
            "contains, and a target longer than a short scope on both sides is still in it."
        ),
        reason=(
            "Stock medspaCy lets 'no' negate across 'but' whenever the negation's scope is "
            "shorter than the sentence (any rule with max_scope): 'No contrast but fluoroscopy "
            "was used' negated the fluoroscopy."
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
)


def deviations_of(component: str) -> Tuple[Deviation, ...]:
    """The listed deviations of one component ("context", "sections", "matcher")."""
    return tuple(d for d in DEVIATIONS if d.component == component)
