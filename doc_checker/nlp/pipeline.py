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

import spacy
from medspacy.custom_tokenizer import create_medspacy_tokenizer
from spacy.language import Language

from ..rules import Ruleset
from .abbreviations import AbbreviationPropagator
from .context import ConTextComponent
from .reference import StockContext, StockSections, StockTargets
from .sections import Sections
from .sentences import LineSentenceSplitter
from .spelling import SpellingJoiner
from .targets import TargetLayers, lexicon_variants


@Language.factory("doc_checker_spelling", assigns=["token.text"])
def make_spelling_joiner(nlp: Language, name: str) -> SpellingJoiner:
    return SpellingJoiner(nlp, name)


@Language.factory("doc_checker_sentences", assigns=["token.is_sent_start"])
def make_sentence_splitter(nlp: Language, name: str) -> LineSentenceSplitter:
    return LineSentenceSplitter(name)


@Language.factory("doc_checker_sections", assigns=["doc.spans"])
def make_sections(nlp: Language, name: str) -> Sections:
    return Sections(nlp, name)


@Language.factory("doc_checker_targets", assigns=["doc.spans"])
def make_target_layers(nlp: Language, name: str) -> TargetLayers:
    return TargetLayers(nlp, name)


@Language.factory("doc_checker_abbreviations", assigns=["doc.spans"])
def make_abbreviation_propagator(nlp: Language, name: str) -> AbbreviationPropagator:
    return AbbreviationPropagator(nlp, name)


@Language.factory("doc_checker_context", assigns=["doc.user_data"])
def make_context(nlp: Language, name: str) -> ConTextComponent:
    return ConTextComponent(nlp, name)


# the reference engine: stock medspaCy components (Sectionizer, TargetMatcher, ConText) with the
# same rules, behind the same span groups (``build_nlp(engine="medspacy")``)
@Language.factory("doc_checker_medspacy_sections", assigns=["doc.spans"])
def make_stock_sections(nlp: Language, name: str) -> StockSections:
    return StockSections(nlp, name)


@Language.factory("doc_checker_medspacy_targets", assigns=["doc.spans"])
def make_stock_targets(nlp: Language, name: str) -> StockTargets:
    return StockTargets(nlp, name)


@Language.factory("doc_checker_medspacy_context", assigns=["doc.user_data"])
def make_stock_context(nlp: Language, name: str) -> StockContext:
    return StockContext(nlp, name)


ENGINES = ("doc-checker", "medspacy")


def build_nlp(
    ruleset: Ruleset, max_length: int = 1_000_000, engine: str = "doc-checker"
) -> Language:
    """The pipeline, its components given the ruleset's rule objects (nothing is read here:
    a Checker reads its patterns directory once). ``nlp.to_disk`` saves the rules themselves.
    ``engine="medspacy"``: the same with stock medspaCy's Sectionizer, TargetMatcher and ConText
    in place of the checker's own (slower; for users who must run stock medspaCy, and the
    reference the differential tests compare against)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    # no parser or NER here: long notes are safe (the checker's limit is io.text's)
    nlp.max_length = max_length
    joiner: SpellingJoiner = nlp.add_pipe("doc_checker_spelling")  # type: ignore[assignment]
    # before any matcher sees a word (stock matchers only get the joins: they do not respell)
    joiner.set_spelling(nlp, ruleset.spelling)
    splitter: LineSentenceSplitter = nlp.add_pipe("doc_checker_sentences")  # type: ignore[assignment]
    splitter.set_page_banner(
        ruleset.page_banner.pattern if ruleset.page_banner is not None else None
    )
    if engine == "medspacy":
        _add_stock_components(nlp, ruleset)
        return nlp
    sections: Sections = nlp.add_pipe("doc_checker_sections")  # type: ignore[assignment]
    sections.set_header_position(
        header_start=ruleset.header_start.pattern if ruleset.header_start is not None else None,
        header_after=ruleset.header_after.pattern if ruleset.header_after is not None else None,
    )
    sections.section_effects = dict(ruleset.section_effects)
    sections.add_patterns(ruleset.sections)
    targets: TargetLayers = nlp.add_pipe("doc_checker_targets")  # type: ignore[assignment]
    for layer, rules in lexicon_variants(
        ruleset.target_layers, ruleset.abbreviations, nlp.tokenizer
    ).items():
        targets.add_patterns(rules, layer=layer)
    nlp.add_pipe("doc_checker_abbreviations")
    context: ConTextComponent = nlp.add_pipe("doc_checker_context")  # type: ignore[assignment]
    context.add_patterns(ruleset.context_rules)
    return nlp


def _add_stock_components(nlp: Language, ruleset: Ruleset) -> None:
    """Stock medspaCy's sections, targets and ConText under the checker's component names."""
    for factory, name in (
        ("doc_checker_medspacy_sections", "doc_checker_sections"),
        ("doc_checker_medspacy_targets", "doc_checker_targets"),
        ("doc_checker_abbreviations", "doc_checker_abbreviations"),
        ("doc_checker_medspacy_context", "doc_checker_context"),
    ):
        component = nlp.add_pipe(factory, name=name)
        if hasattr(component, "configure"):
            component.configure(ruleset)
