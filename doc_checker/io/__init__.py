"""Input and output: ``text`` (decoding and validating note text), ``readers`` (txt, csv, tsv,
jsonl, HL7 v2, FHIR -> note records), ``paths`` (command-line path expansion), ``writers``
(table, json, jsonl, csv, html) and ``report`` (the self-contained HTML review report).
No spaCy here.
"""
