"""Crashes the fuzzer (scripts/fuzz.py) found, kept as regression tests, named after the case."""

import logging
from pathlib import Path

from doc_checker.io.readers import read_records

DATA = Path(__file__).parent / "data" / "regressions"


def test_hl7_malformed_sp_escape_in_txa12_is_read_not_raised(caplog):
    """fuzz seed 7, round 25156: a TXA-12 value with a broken '\\.sp' escape made python-hl7's
    unescape raise ValueError (and log the field's text). Ids are now decoded by our own
    unescape, which never raises and never logs."""
    caplog.set_level(logging.DEBUG)
    records = list(read_records(str(DATA / "hl7_malformed_sp_escape_in_txa12.hl7"), "hl7"))
    assert len(records) == 1
    assert not [r for r in caplog.records if r.name.startswith("hl7")]
