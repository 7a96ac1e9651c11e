"""Stock medspaCy components built from the checker's rule files, beside the checker's own.

The checker's sections and ConText are its own engines, written in medspaCy's rule formats and
algorithms for speed. This module builds the stock ones (``medspacy.context.ConText``,
``medspacy.section_detection.Sectionizer``) from the same rules, and reads their output in the
checker's plain-data shape, so the two can be compared (the differential tests, the ConText
benchmark ``scripts/bench_context.py``). The listed differences are in :mod:`.deviations`.

:func:`project_context` and :func:`project_targets` are the only places outside
:mod:`.pipeline` that construct the checker's components (tests and the benchmark use them).
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ._spangroups import Bounds, group_bounds, set_group
from .context import MODIFIERS_KEY, ConTextComponent, target_key
from .sections import SECTION_GROUP
from .targets import (
    ANATOMY_KEY,
    CUE_GROUP,
    CUE_LAYERS,
    NOT_A_TARGET,
    TARGET_GROUP,
    TargetLayers,
    lexicon_variants,
)

# span group the stock components read targets from (never one of the checker's own groups)
STOCK_TARGETS = "medspacy_reference_targets"


def _dicts(rules: Sequence[Any]) -> List[Dict[str, Any]]:
    """Rule objects (or rule dicts) as medspaCy-style dicts."""
    return [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in rules]


def project_context(nlp: Language, rules: Sequence[Any]) -> ConTextComponent:
    """The checker's ConText over ``rules`` (ConTextRule objects or dicts)."""
    from ..rules import ConTextRule

    component = ConTextComponent(nlp, "doc_checker_context")
    component.add_patterns(
        [r if isinstance(r, ConTextRule) else ConTextRule.from_dict(r) for r in rules]
    )
    return component


def project_targets(nlp: Language, ruleset: Any) -> TargetLayers:
    """The checker's layered target matching from a ruleset (``target_layers``,
    ``abbreviations``)."""
    component = TargetLayers(nlp, "doc_checker_targets")
    layers = lexicon_variants(ruleset.target_layers, ruleset.abbreviations, nlp.tokenizer)
    for layer, rules in layers.items():
        component.add_patterns(rules, layer=layer)
    return component


def stock_context(nlp: Language, rules: Sequence[Dict[str, Any]], **options: Any):
    """medspaCy's ConText with ``rules`` (ConTextRule dicts; every key but ``comment`` given to
    ``ConTextRule``, ``terminated_by`` too, which its ``from_dict`` does not accept),
    reading targets from span group :data:`STOCK_TARGETS`. Overlapping modifiers are kept
    (``prune_on_modifier_overlap=False``), as the checker's ConText keeps them; no Span
    attributes are set (the edges are read from ``doc._.context_graph``). ``options`` override
    these settings (``prune_on_modifier_overlap=True, span_attrs="default"``: medspaCy's
    defaults)."""
    from medspacy.context import ConText, ConTextRule

    settings: Dict[str, Any] = {
        "name": "medspacy_reference_context",
        "rules": None,
        "prune_on_modifier_overlap": False,
        "input_span_type": "group",
        "span_group_name": STOCK_TARGETS,
        "span_attrs": None,
    }
    settings.update(options)
    ctx = ConText(nlp, **settings)
    ctx.add([ConTextRule(**{k: v for k, v in r.items() if k != "comment"}) for r in _dicts(rules)])
    return ctx


def stock_modifiers(ctx: Any, doc: Doc, targets: Bounds) -> Dict[str, List[str]]:
    """Run stock ConText ``ctx`` on ``doc`` over ``targets``; for each modified target
    ("start:end:label", as the checker's ``dc_modifiers``), its sorted modifier categories."""
    doc.spans[STOCK_TARGETS] = [Span(doc, s, e, label=label) for s, e, label in targets]
    ctx(doc)
    found: Dict[str, set] = {}
    for target, modifier in doc._.context_graph.edges:
        key = target_key(target.start, target.end, target.label_)
        found.setdefault(key, set()).add(modifier.category)
    del doc.spans[STOCK_TARGETS]
    return {k: sorted(v) for k, v in found.items()}


def project_modifiers(
    component: ConTextComponent, doc: Doc, targets: Bounds
) -> Dict[str, List[str]]:
    """Run the checker's ConText on ``doc`` over ``targets``, in the same shape."""
    set_group(doc, TARGET_GROUP, list(targets))
    component(doc)
    return dict(doc.user_data[MODIFIERS_KEY])


def stock_sectionizer(nlp: Language, rules: Sequence[Dict[str, Any]]):
    """medspaCy's Sectionizer with ``rules`` (SectionRule dicts, every key but ``comment``)."""
    from medspacy.section_detection import Sectionizer, SectionRule

    sectionizer = Sectionizer(
        nlp, name="medspacy_reference_sectionizer", rules=None, span_attrs=None
    )
    sectionizer.add(
        [SectionRule(**{k: v for k, v in r.items() if k != "comment"}) for r in _dicts(rules)]
    )
    return sectionizer


def stock_sections(sectionizer: Any, doc: Doc) -> List[Tuple[int, int, str]]:
    """Run a stock Sectionizer on ``doc``: (header start, header end, category) of each section
    a rule found (not the untitled one before the first header)."""
    sectionizer(doc)
    return [
        (s.title_start, s.title_end, s.category)
        for s in doc._.sections
        if s.category is not None and s.rule is not None
    ]


def modifier_agreement(
    ours: Dict[str, List[str]], theirs: Dict[str, List[str]], targets: Bounds
) -> Tuple[int, List[Tuple[str, List[str], List[str]]]]:
    """(targets agreeing, the disagreements as (target key, ours, theirs))."""
    agree, differ = 0, []
    for s, e, label in targets:
        key = target_key(s, e, label)
        a, b = ours.get(key, []), theirs.get(key, [])
        if a == b:
            agree += 1
        else:
            differ.append((key, a, b))
    return agree, differ


# The reference engine (``Checker(engine="medspacy")``): stock medspaCy components behind the
# checker's plain-data interface (span groups dc_sections / dc_targets / dc_cues and
# user_data["dc_modifiers"]), so the element logic reads them unchanged.


class StockSections:
    """medspaCy's Sectionizer, writing the header spans to span group ``dc_sections``."""

    def __init__(self, nlp: Language, name: str, *, ruleset: Any = None) -> None:
        self.nlp = nlp
        self.name = name
        self.sectionizer: Any = None
        if ruleset is not None:
            self.configure(ruleset)

    def configure(self, ruleset: Any) -> None:
        self.sectionizer = stock_sectionizer(self.nlp, ruleset.sections)

    def __call__(self, doc: Doc) -> Doc:
        set_group(doc, SECTION_GROUP, stock_sections(self.sectionizer, doc))
        return doc


class StockTargets:
    """One medspaCy TargetMatcher per target layer (overlaps pruned within a layer, as the
    checker's layers), writing span groups ``dc_targets`` and ``dc_cues``."""

    def __init__(self, nlp: Language, name: str, *, ruleset: Any = None) -> None:
        self.nlp = nlp
        self.name = name
        self.matchers: Dict[str, Any] = {}
        if ruleset is not None:
            self.configure(ruleset)

    def configure(self, ruleset: Any) -> None:
        from medspacy.target_matcher import TargetMatcher, TargetRule

        nlp = self.nlp
        layers = lexicon_variants(ruleset.target_layers, ruleset.abbreviations, nlp.tokenizer)
        for layer, rules in layers.items():
            matcher = TargetMatcher(nlp, name=f"medspacy_targets_{layer}", result_type=None)
            matcher.add(
                [
                    TargetRule(**{k: v for k, v in r.items() if k != "comment"})
                    for r in _dicts(rules)
                ]
            )
            self.matchers[layer] = matcher

    def __call__(self, doc: Doc) -> Doc:
        targets: Bounds = []
        cues: Bounds = []
        anatomy: Dict[Tuple[int, int], int] = {}
        for layer, matcher in self.matchers.items():
            sink = cues if layer in CUE_LAYERS else targets
            for span in matcher(doc):
                if span.label_ == NOT_A_TARGET:  # as the checker's layers: blocks, names nothing
                    continue
                sink.append((span.start, span.end, span.label_))
                rule = getattr(span._, "target_rule", None)
                anatomy_id = (getattr(rule, "metadata", None) or {}).get("anatomy_id")
                if anatomy_id is not None:
                    anatomy[(span.start, span.end)] = anatomy_id
        doc.user_data[ANATOMY_KEY] = anatomy
        set_group(doc, TARGET_GROUP, targets)
        set_group(doc, CUE_GROUP, cues)
        return doc


class StockContext:
    """medspaCy's ConText over span group ``dc_targets``, writing ``user_data["dc_modifiers"]``."""

    def __init__(self, nlp: Language, name: str, *, rules: Sequence[Any] = ()) -> None:
        self.nlp = nlp
        self.name = name
        self.ctx: Any = stock_context(nlp, rules) if rules else None

    def configure(self, ruleset: Any) -> None:
        self.ctx = stock_context(self.nlp, ruleset.context_rules)

    def __call__(self, doc: Doc) -> Doc:
        targets = list(group_bounds(doc, TARGET_GROUP))
        doc.user_data[MODIFIERS_KEY] = stock_modifiers(self.ctx, doc, targets) if targets else {}
        return doc


__all__ = [
    "StockContext",
    "StockSections",
    "StockTargets",
    "STOCK_TARGETS",
    "modifier_agreement",
    "project_context",
    "project_modifiers",
    "project_targets",
    "stock_context",
    "stock_modifiers",
    "stock_sectionizer",
    "stock_sections",
]
