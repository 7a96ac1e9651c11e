"""Build the spaCy pipeline from a ruleset. No model, no network.

tokenizer (medspaCy's clinical tokenizer) -> sentences (layout-aware) -> sections (medspaCy
SectionRule format) -> targets (medspaCy TargetRule format, layered) -> abbreviations (scispacy's
Schwartz & Hearst functions + propagation) -> ConText (medspaCy ConTextRule format and algorithm).
Sections, targets and ConText run on :mod:`doc_checker.nlp.matcher`, which caches every token
predicate per lexeme.

The components' factories are registered here rather than beside their classes: the component
modules are compiled by Cython (``doc_checker/_build.py``), and spaCy's config system reads a
factory's type annotations, which a compiled function only has as strings.
"""

from typing import Optional

import spacy
from medspacy.custom_tokenizer import create_medspacy_tokenizer
from spacy.language import Language

from ..rules import Ruleset, load_ruleset
from .abbreviations import AbbreviationPropagator
from .context import ConTextComponent
from .reference import StockContext, StockSections, StockTargets
from .sections import Sections
from .sentences import LineSentenceSplitter
from .targets import TargetLayers


@Language.factory("doc_checker_sentences", assigns=["token.is_sent_start"])
def make_sentence_splitter(nlp: Language, name: str) -> LineSentenceSplitter:
    return LineSentenceSplitter(name)


@Language.factory(
    "doc_checker_sections", assigns=["doc.spans"], default_config={"patterns_dir": None}
)
def make_sections(nlp: Language, name: str, patterns_dir: Optional[str]) -> Sections:
    ruleset = load_ruleset(patterns_dir)
    return Sections(
        nlp,
        name,
        rules=ruleset.sections,
        header_start=ruleset.header_start,
        header_after=ruleset.header_after,
    )


@Language.factory(
    "doc_checker_targets", assigns=["doc.spans"], default_config={"patterns_dir": None}
)
def make_target_layers(nlp: Language, name: str, *, patterns_dir: Optional[str]) -> TargetLayers:
    return TargetLayers(nlp, name, ruleset=load_ruleset(patterns_dir))


@Language.factory("doc_checker_abbreviations", assigns=["doc.spans"])
def make_abbreviation_propagator(nlp: Language, name: str) -> AbbreviationPropagator:
    return AbbreviationPropagator(nlp, name)


@Language.factory(
    "doc_checker_context", assigns=["doc.user_data"], default_config={"patterns_dir": None}
)
def make_context(nlp: Language, name: str, patterns_dir: Optional[str]) -> ConTextComponent:
    return ConTextComponent(nlp, name, rules=load_ruleset(patterns_dir).context_rules)


# the reference engine: stock medspaCy components (Sectionizer, TargetMatcher, ConText) with the
# same rule files, behind the same span groups (``build_nlp(engine="medspacy")``)
@Language.factory(
    "doc_checker_medspacy_sections", assigns=["doc.spans"], default_config={"patterns_dir": None}
)
def make_stock_sections(nlp: Language, name: str, patterns_dir: Optional[str]) -> StockSections:
    return StockSections(nlp, name, ruleset=load_ruleset(patterns_dir))


@Language.factory(
    "doc_checker_medspacy_targets", assigns=["doc.spans"], default_config={"patterns_dir": None}
)
def make_stock_targets(nlp: Language, name: str, patterns_dir: Optional[str]) -> StockTargets:
    return StockTargets(nlp, name, ruleset=load_ruleset(patterns_dir))


@Language.factory(
    "doc_checker_medspacy_context",
    assigns=["doc.user_data"],
    default_config={"patterns_dir": None},
)
def make_stock_context(nlp: Language, name: str, patterns_dir: Optional[str]) -> StockContext:
    return StockContext(nlp, name, rules=load_ruleset(patterns_dir).context_rules)


ENGINES = ("doc-checker", "medspacy")


def build_nlp(
    ruleset: Ruleset, max_length: int = 1_000_000, engine: str = "doc-checker"
) -> Language:
    """The checker's pipeline; ``engine="medspacy"``: the same with stock medspaCy's
    Sectionizer, TargetMatcher and ConText in place of the checker's own (slower; for users who
    must run stock medspaCy, and as the reference the differential tests compare against)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    stock = engine == "medspacy"
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    nlp.max_length = (
        max_length  # no parser or NER here: long notes are safe (the checker's limit is io.text's)
    )
    config = {"patterns_dir": str(ruleset.directory)}
    prefix = "doc_checker_medspacy" if stock else "doc_checker"
    nlp.add_pipe("doc_checker_sentences")
    nlp.add_pipe(f"{prefix}_sections", name="doc_checker_sections", config=config)
    nlp.add_pipe(f"{prefix}_targets", name="doc_checker_targets", config=config)
    nlp.add_pipe("doc_checker_abbreviations")
    nlp.add_pipe(f"{prefix}_context", name="doc_checker_context", config=config)
    return nlp
