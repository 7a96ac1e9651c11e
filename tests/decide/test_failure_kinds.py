"""One test per failure kind of notes written by others (issue 12), on notes written for the
test by an author who never saw the rules (tests/data/kinds/, README there): each note's
verdict and suggested code must be the label's. Known misses stay listed as strict xfails
with what is missing, so a fix shows up as an XPASS and the list only shrinks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import pytest

KINDS = Path(__file__).resolve().parents[1] / "data" / "kinds"

# note id -> why the checker still gets it wrong (the mechanism that is missing)
KNOWN_MISSES: Dict[str, str] = {}
# the kinds written blind to the rules (README there); the others were written with the fix
BLIND_KINDS = {
    "misspelling",
    "ocr_breaks",
    "other_purpose_or_aborted",
    "spinal_false_friend",
    "spinal_unusual",
    "target_named_once",
    "template_default_or_correction",
    "two_targets",
    # written blind in session 4 (measured with 15 misses before any fix of that session)
    "form_checkboxes",
    "prepared_not_given",
    "guidance_only_report",
    "modality_correction",
    "shorthand_dictation",
    "fluoro_other_purpose",
}


def _notes() -> List[pytest.param]:
    params = []
    for path in sorted(KINDS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            note = json.loads(line)
            marks = []
            if note["id"] in KNOWN_MISSES:
                marks.append(pytest.mark.xfail(reason=KNOWN_MISSES[note["id"]], strict=True))
            params.append(pytest.param(note, id=note["id"], marks=marks))
    return params


@pytest.mark.parametrize("note", _notes())
def test_verdict_and_code_of_each_failure_kind(checker, note):
    result = checker.check(note["text"], note_id=note["id"])
    expected = note["expected"]
    assert (result.verdict, result.suggested_code) == (
        expected["verdict"],
        expected["suggested_code"],
    ), note["why"]


def test_every_kind_has_notes_and_most_pass():
    """Every kind written blind has eight notes, every kind written with its fix at least six
    (README there); the known misses only shrink (the six blind kinds added in session 4 came
    with 15, measured before any fix)."""
    counts: Dict[str, int] = {}
    for path in KINDS.glob("*.jsonl"):
        counts[path.stem] = sum(1 for line in path.read_text().splitlines() if line.strip())
    assert BLIND_KINDS <= set(counts)
    assert all(counts[k] >= 8 for k in BLIND_KINDS)
    assert all(n >= 6 for n in counts.values())
    misses: Dict[str, int] = {}
    for note_id in KNOWN_MISSES:
        kind = note_id.rsplit("-", 1)[0]
        misses[kind] = misses.get(kind, 0) + 1
    assert not misses, "every kind note passes now: fix a new miss, or list it with its reason"
