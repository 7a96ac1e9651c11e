"""Shared fixtures: one Checker per test session (building the pipeline takes a few seconds)."""

import json
from pathlib import Path

import jsonschema
import pytest

from doc_checker import Checker
from doc_checker.result import result_schema

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
GOLD = FIXTURES / "gold.jsonl"


def pytest_sessionstart(session):
    """A compiled module older than its source would test the old code: stop with the fix."""
    from doc_checker._build import build_status

    stale = sorted(name for name, state in build_status().items() if state == "stale")
    if stale:
        pytest.exit(
            f"compiled module(s) {', '.join(stale)} are older than their source: "
            "rebuild with `make build` (or `python setup.py build_ext --inplace`)",
            returncode=3,
        )


@pytest.fixture(scope="session")
def checker() -> Checker:
    return Checker()


@pytest.fixture(scope="session")
def validator():
    schema = result_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="session")
def gold_records():
    return [
        json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture(scope="session")
def fixture_results(checker, gold_records):
    """(gold, text, result) for every fixture note."""
    out = []
    texts = [
        (g["note_id"], (FIXTURES / g["file"]).read_text(encoding="utf-8")) for g in gold_records
    ]
    for g, (_, text), result in zip(gold_records, texts, checker.check_many(texts), strict=True):
        out.append((g, text, result))
    return out


def assert_valid(validator, record: dict) -> None:
    errors = sorted(validator.iter_errors(record), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
