"""Build the spaCy / medspaCy pipeline from a ruleset. No model, no network.

tokenizer (medspaCy's clinical tokenizer) -> sentences (layout-aware, ours) -> sections
(medspaCy Sectionizer, our rules) -> targets (medspaCy matchers, layered) -> abbreviations
(scispacy detector + propagation) -> ConText (medspaCy, our small rule set).
"""
from __future__ import annotations

import spacy
import scispacy.abbreviation  # noqa: F401  (registers "abbreviation_detector")
from medspacy.context import ConText, ConTextRule
from medspacy.custom_tokenizer import create_medspacy_tokenizer
from medspacy.section_detection import Sectionizer, SectionRule
from spacy.language import Language

# registers the factories
from . import abbreviations as _abbreviations  # noqa: F401
from . import sentences as _sentences  # noqa: F401
from . import targets as _targets  # noqa: F401
from .rules import Ruleset
from .targets import TARGET_GROUP

CONTEXT_TERMINATED_BY = ("TERMINATE",)


def build_nlp(ruleset: Ruleset) -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    nlp.add_pipe("doc_checker_sentences")
    sectionizer: Sectionizer = nlp.add_pipe(
        "medspacy_sectionizer",
        config={"rules": None, "span_attrs": None, "input_span_type": "group", "span_group_name": TARGET_GROUP},
    )
    sectionizer.add([
        SectionRule(literal=r["literal"], category=r["category"], pattern=r.get("pattern"),
                    max_scope=r.get("max_scope"), parents=r.get("parents"),
                    parent_required=r.get("parent_required", False), metadata=r.get("metadata"))
        for r in ruleset.sections
    ])
    nlp.add_pipe("doc_checker_targets", config={"patterns_dir": str(ruleset.directory)})
    nlp.add_pipe("abbreviation_detector")
    nlp.add_pipe("doc_checker_abbreviations")
    context: ConText = nlp.add_pipe(
        "medspacy_context",
        config={
            "rules": None,
            "span_attrs": None,
            "input_span_type": "group",
            "span_group_name": TARGET_GROUP,
            "prune_on_modifier_overlap": False,
        },
    )
    rules = []
    for r in ruleset.context_rules:
        direction = r.get("direction", "BIDIRECTIONAL").upper()
        rules.append(ConTextRule(
            literal=r["literal"], category=r["category"], pattern=r.get("pattern"), direction=direction,
            allowed_types=set(r["allowed_types"]) if r.get("allowed_types") else None,
            excluded_types=set(r["excluded_types"]) if r.get("excluded_types") else None,
            max_scope=r.get("max_scope"), max_targets=r.get("max_targets"),
            terminated_by=set(r.get("terminated_by") or CONTEXT_TERMINATED_BY), metadata=r.get("metadata"),
        ))
    context.add(rules)
    return nlp
