"""The checker's Doc in medspaCy's shape, for code and tools written for medspaCy.

The checker keeps plain data on its Docs (span groups, ``user_data``): that is what makes
``n_process`` and DocBin work. :func:`to_medspacy` adds, on request (``Checker.doc(text)``),
what medspaCy's own components would have set, with medspaCy's own classes:

- targets: span group ``medspacy_spans`` (medspaCy's default group name; every target, they may
  overlap) and ``doc.ents`` (the same, longest first where they overlap: entities cannot);
- on each target, medspaCy's Span extensions: ``modifiers`` (``ConTextModifier`` objects),
  ``is_negated``, ``is_uncertain``, ``is_historical``, ``is_hypothetical``, ``is_family`` (set
  as medspaCy's ConText sets them), and ``section_category`` (through ``token._.section``);
- ``doc._.context_graph`` (a ``ConTextGraph``: targets, modifiers, edges) and ``doc._.sections``
  (``Section`` objects, the untitled one before the first header included).

``medspacy.visualization.visualize_ent`` / ``visualize_dep`` render such a Doc.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, cast

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ._spangroups import group_bounds
from .context import ConTextComponent
from .sections import SECTION_GROUP
from .targets import TARGET_GROUP

MEDSPACY_GROUP = "medspacy_spans"


def to_medspacy(doc: Doc, nlp: Language, ruleset: Any) -> Doc:
    """Set medspaCy's extensions on ``doc``, which went through the checker's pipeline ``nlp``
    (built from ``ruleset``). Returns ``doc``."""
    import medspacy  # noqa: F401 - registers medspaCy's Doc / Span / Token extensions
    from medspacy.context import ConText

    ConText.register_graph_attributes()
    ConText.register_default_attributes()
    _set_sections(doc, ruleset.sections)
    targets = [Span(doc, s, e, label=label) for s, e, label in group_bounds(doc, TARGET_GROUP)]
    doc.spans[MEDSPACY_GROUP] = targets
    doc.ents = filter_spans(targets)
    graph = _context_graph(doc, nlp, ruleset, targets)
    from medspacy.context.context import DEFAULT_ATTRIBUTES

    for target, modifier in graph.edges:
        if modifier not in target._.modifiers:  # stock ConText links them itself
            target._.modifiers += (modifier,)
        for attr, value in DEFAULT_ATTRIBUTES.get(modifier.category, {}).items():
            setattr(target._, attr, value)
    doc._.context_graph = graph
    return doc


def _set_sections(doc: Doc, rules: Sequence[Any]) -> None:
    from medspacy.section_detection import Section, SectionRule

    rule_of: Dict[str, Any] = {}
    for r in (rule.to_dict() if hasattr(rule, "to_dict") else rule for rule in rules):
        rule_of.setdefault(
            r["category"], SectionRule(**{k: v for k, v in r.items() if k != "comment"})
        )
    headers = group_bounds(doc, SECTION_GROUP)
    sections: List[Any] = []
    if not headers or headers[0][0] > 0:
        first = headers[0][0] if headers else len(doc)
        sections.append(Section(None, 0, 0, 0, first))
    for i, (start, end, category) in enumerate(headers):
        body_end = headers[i + 1][0] if i + 1 < len(headers) else len(doc)
        sections.append(Section(category, start, end, end, body_end, rule=rule_of.get(category)))
    for section in sections:
        for token in doc[section.title_start : section.body_end]:
            token._.section = section
    doc._.sections = sections


def _context_graph(doc: Doc, nlp: Language, ruleset: Any, targets: List[Span]):
    from medspacy.context import ConTextGraph, ConTextModifier, ConTextRule

    component = nlp.get_pipe("doc_checker_context")
    if not isinstance(component, ConTextComponent):  # the medspaCy engine: stock ConText itself
        ctx = cast(Any, component).ctx
        previous = doc.spans.get(ctx.span_group_name)
        doc.spans[ctx.span_group_name] = targets
        for target in targets:  # the pipeline's run left its modifiers on the same spans
            target._.modifiers = ()
        ctx(doc)
        if previous is None:
            del doc.spans[ctx.span_group_name]
        return doc._.context_graph
    rules = [
        ConTextRule(**{k: v for k, v in r.to_dict().items() if k != "comment"})
        for r in ruleset.context_rules
    ]
    index = {id(rule): i for i, rule in enumerate(component._internal)}
    _, by_sentence = component._modifiers(doc)
    modifiers, edges = [], []
    for group in by_sentence.values():
        for m in group:
            modifier = ConTextModifier(
                rules[index[id(m.rule)]],
                m.start,
                m.end,
                doc,
                scope_start=m.scope_start,
                scope_end=m.scope_end,
            )
            modifiers.append(modifier)
            if m.rule.direction in ("TERMINATE", "PSEUDO") or m.scope_end <= m.scope_start:
                continue
            for target in targets:
                if m.modifies(target.start, target.end, target.label_):
                    edges.append((target, modifier))
    return ConTextGraph(targets=targets, modifiers=modifiers, edges=edges)
