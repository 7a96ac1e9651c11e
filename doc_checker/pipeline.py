"""Build the spaCy pipeline from a ruleset. No model, no network.

tokenizer (medspaCy's clinical tokenizer) -> sentences (layout-aware) -> sections (medspaCy
SectionRule format) -> targets (medspaCy TargetRule format, layered) -> abbreviations (scispacy's
Schwartz & Hearst functions + propagation) -> ConText (medspaCy ConTextRule format and algorithm). Sections, targets
and ConText run on :mod:`doc_checker.matcher`, which caches every token predicate per lexeme.
"""
import spacy
from medspacy.custom_tokenizer import create_medspacy_tokenizer
from spacy.language import Language

# registers the factories
from . import abbreviations as _abbreviations  # noqa: F401
from . import context as _context  # noqa: F401
from . import sections as _sections  # noqa: F401
from . import sentences as _sentences  # noqa: F401
from . import targets as _targets  # noqa: F401
from .inputs import MAX_NOTE_CHARS
from .rules import Ruleset


def build_nlp(ruleset: Ruleset) -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    nlp.max_length = MAX_NOTE_CHARS  # no parser or NER here: long notes are safe (the limit is in inputs)
    config = {"patterns_dir": str(ruleset.directory)}
    nlp.add_pipe("doc_checker_sentences")
    nlp.add_pipe("doc_checker_sections", config=config)
    nlp.add_pipe("doc_checker_targets", config=config)
    nlp.add_pipe("doc_checker_abbreviations")
    nlp.add_pipe("doc_checker_context", config=config)
    return nlp
