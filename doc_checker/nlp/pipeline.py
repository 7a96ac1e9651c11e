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
from .sections import Sections
from .sentences import LineSentenceSplitter
from .spelling import SpellingJoiner
from .targets import TargetLayers


@Language.factory("doc_checker_spelling", assigns=["token.text"])
def make_spelling_joiner(nlp: Language, name: str) -> SpellingJoiner:
    return SpellingJoiner(nlp, name)


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


def build_nlp(ruleset: Ruleset, max_length: int = 1_000_000) -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    nlp.max_length = (
        max_length  # no parser or NER here: long notes are safe (the checker's limit is io.text's)
    )
    config = {"patterns_dir": str(ruleset.directory)}
    joiner = nlp.add_pipe("doc_checker_spelling")
    joiner.set_spelling(nlp, ruleset.spelling)  # before any matcher sees a word
    nlp.add_pipe("doc_checker_sentences")
    nlp.add_pipe("doc_checker_sections", config=config)
    nlp.add_pipe("doc_checker_targets", config=config)
    nlp.add_pipe("doc_checker_abbreviations")
    nlp.add_pipe("doc_checker_context", config=config)
    return nlp
