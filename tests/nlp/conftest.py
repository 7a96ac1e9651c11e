"""Notes the differential tests run on: every fixture note and every development corpus note."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_NOTES = ROOT / "fixtures" / "notes"
# the shared development corpus beside the checkout (../shared/corpus/*.jsonl, field "text")
CORPUS = ROOT.parent / "shared" / "corpus"


def fixture_notes() -> List[Tuple[str, str]]:
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(FIXTURE_NOTES.glob("*.txt"))]


def corpus_notes() -> List[Tuple[str, str]]:
    notes = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                notes.append((record["id"], record["text"]))
    return notes


def notes_of(source: str) -> List[Tuple[str, str]]:
    notes = fixture_notes() if source == "fixtures" else corpus_notes()
    if not notes:
        pytest.skip(f"no {source} notes here ({CORPUS if source == 'corpus' else FIXTURE_NOTES})")
    return notes


@pytest.fixture(scope="session")
def checked_docs(checker):
    """source -> [(note id, Doc through the checker's whole pipeline)]."""
    cache = {}

    def docs(source: str):
        if source not in cache:
            cache[source] = [
                (nid, checker.nlp(checker._make_doc(text))) for nid, text in notes_of(source)
            ]
        return cache[source]

    return docs


@pytest.fixture(scope="session")
def nlp():
    """One blank English pipeline for the component tests (spacy.blank takes a second or two)."""
    import spacy

    return spacy.blank("en")
