"""Each listed ConText deviation (``doc_checker.nlp.deviations``) as a patch on stock medspaCy.

With every patch applied, stock medspaCy's ConText must give exactly the checker's modifiers:
that proves the listed deviations are the *only* differences. The patches are test code: they
touch medspaCy's module globals for the duration of a ``with`` block only.
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Dict, Iterable, Iterator
from unittest import mock

import medspacy.context.context_modifier as context_modifier

from doc_checker.nlp.context import _containment


def _symmetric_overlap(ctx) -> ContextManager:
    return mock.patch.object(
        context_modifier, "tuple_overlaps", lambda a, b: a[0] < b[1] and b[0] < a[1]
    )


def _before_by_start(ctx) -> ContextManager:
    return mock.patch.object(
        context_modifier.ConTextModifier,
        "__lt__",
        lambda self, other: self.modifier_span[0] < other.modifier_span[0],
    )


class _PseudoFilter:
    """Wraps ConText's matcher: drops every non-PSEUDO match inside a PSEUDO match."""

    def __init__(self, matcher, vocab) -> None:
        self.matcher, self.vocab = matcher, vocab

    def __getattr__(self, name):
        return getattr(self.matcher, name)

    def _direction(self, key: int) -> str:
        return self.matcher.rule_map[self.vocab[key].text].direction

    def __call__(self, doc):
        matches = self.matcher(doc)
        pseudo = [(s, e) for k, s, e in matches if self._direction(k) == "PSEUDO"]
        if not pseudo:
            return matches
        inside = _containment(pseudo)
        return [m for m in matches if self._direction(m[0]) == "PSEUDO" or not inside(m[1], m[2])]


def _pseudo_silences_inside(ctx) -> ContextManager:
    inner = ctx._ConText__matcher  # medspaCy keeps its matcher private
    return mock.patch.object(ctx, "_ConText__matcher", _PseudoFilter(inner, ctx.nlp.vocab))


PATCHES: Dict[str, Callable[[object], ContextManager]] = {
    "symmetric-overlap": _symmetric_overlap,
    "pseudo-silences-inside": _pseudo_silences_inside,
    "before-by-start": _before_by_start,
}


@contextlib.contextmanager
def applied(ctx, ids: Iterable[str]) -> Iterator[None]:
    """Stock ConText ``ctx`` with the deviations ``ids`` applied, inside the block."""
    with contextlib.ExitStack() as stack:
        for deviation_id in ids:
            stack.enter_context(PATCHES[deviation_id](ctx))
        yield
