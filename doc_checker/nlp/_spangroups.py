"""Span groups written once for users, read back by the checker's components as plain tuples.

Every Span read from a ``doc.spans`` group is a new Python object built from Token objects
(about a microsecond each, and a note has about a hundred targets), and the targets are read by
three later steps. So the component that writes a group also keeps its ``(start, end, label)``
tuples in ``doc.user_data``; readers take those, and rebuild them from the group only when they
are missing or do not count as many spans (a Doc from another pipeline, or a group replaced or
extended since). Code that changes a group between the checker's components should do it with
:func:`set_group`.
"""

from __future__ import annotations

from operator import itemgetter
from typing import List, Tuple

from spacy.tokens import Doc, Span

Bounds = List[Tuple[int, int, str]]  # (start token, end token, label), sorted by (start, end)
_START_END = itemgetter(0, 1)
# set on a Doc by a caller that reads only the result (Checker.check / check_many): the groups
# are kept as tuples and never built as Span objects (a fifth of a millisecond per note)
BOUNDS_ONLY = "dc_bounds_only"


def _key(name: str) -> str:
    return f"{name}:bounds"


def set_group(doc: Doc, name: str, bounds: Bounds) -> None:
    """Set span group ``name`` from ``bounds`` and keep the tuples beside it. ``bounds`` is
    sorted in place by (start, end), stably: spans with the same bounds keep their order."""
    bounds.sort(key=_START_END)
    doc.user_data[_key(name)] = bounds
    if doc.user_data.get(BOUNDS_ONLY):
        return
    # each distinct label interned once (a Span given a str label interns it itself, every time)
    ids = {label: doc.vocab.strings.add(label) for label in {b[2] for b in bounds}}
    doc.spans[name] = [Span(doc, start, end, ids[label]) for start, end, label in bounds]


def group_bounds(doc: Doc, name: str) -> Bounds:
    """The (start, end, label) tuples of span group ``name`` (empty when there is none).
    The list may be the one kept on the Doc: copy it before changing it."""
    bounds = doc.user_data.get(_key(name))
    if name not in doc.spans:
        return bounds if bounds is not None and doc.user_data.get(BOUNDS_ONLY) else []
    group = doc.spans[name]
    if bounds is None or len(bounds) != len(group):
        bounds = [(span.start, span.end, span.label_) for span in group]
    return bounds
