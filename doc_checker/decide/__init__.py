"""Decisions over what the pipeline found: ``elements`` (what counts for each element),
``coding`` (the code the note supports, findings), ``scoring`` (score, verdict, queries) and
``claims`` (claim edits over billed codes). ``scoring`` and ``claims`` import no spaCy.
"""
