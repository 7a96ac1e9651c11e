"""The spaCy/medspaCy pipeline: tokenizer -> sentences -> sections -> targets -> abbreviations
-> ConText. Each component is a module here (``sentences``, ``sections``, ``targets``,
``abbreviations``, ``context``) over one rule matcher (``matcher``, with its compiled core
``_matchcore``); ``pipeline`` registers their spaCy factories and builds the pipeline from a
ruleset's rule objects (``add_patterns``). The rule components save their rules themselves
(``to_disk`` / ``to_bytes``: JSONL, like spaCy's SpanRuler), so ``nlp.to_disk`` is portable.
Modules starting with ``_`` are internal.
"""

from .pipeline import build_nlp
from .tokenizer import make_doc

__all__ = ["build_nlp", "make_doc"]
