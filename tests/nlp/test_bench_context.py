"""The ConText benchmark (scripts/bench_context.py, ``make bench-context``) holds its floor: on
the whole NegEx/ConText set (2,376 sentences; a run takes about 20 s), medspaCy's default rules
give the same labels through the checker's ConText as through stock medspaCy with the listed
deviations, and nearly the same as through stock medspaCy alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import bench_context  # noqa: E402

pytestmark = pytest.mark.skipif(
    not bench_context.DATA.exists(), reason=f"benchmark data not here: {bench_context.DATA}"
)
WITH_DEVIATIONS = "medspaCy, overlaps kept + listed deviations"


@pytest.fixture(scope="module")
def report():
    return bench_context.run(repeat=1)


def test_every_row_is_scored_but_the_known_mis_split_ones(report):
    assert report["rows"] == 2376
    assert len(report["skipped"]) <= 11 and report["used"] == 2376 - len(report["skipped"])


def test_agreement_with_stock_medspacy_and_the_listed_deviations_meets_the_goal(report):
    for attr, entry in report["attributes"].items():
        assert entry["agreement"][WITH_DEVIATIONS] >= bench_context.AGREEMENT_GOAL, attr


def test_agreement_with_stock_medspacy_alone(report):
    """Measured 98.60% (negation, medspaCy's default pruning) and 98.77% (overlaps kept); every
    difference is the listed symmetric-overlap deviation (a modifier inside the annotated
    phrase), and the gold label sides with the checker in each."""
    for name in ("medspaCy", "medspaCy, overlaps kept"):
        for attr, entry in report["attributes"].items():
            assert entry["agreement"][name] >= 0.985, (name, attr)
        sides = report["disagreements_gold_sides_with"][name]
        assert sides["doc-checker"] >= sides[name]


def test_accuracy_against_the_gold_labels(report):
    accuracy = {a: e["accuracy"]["doc-checker"] for a, e in report["attributes"].items()}
    assert accuracy["negation"] >= 0.98
    assert accuracy["temporality"] >= 0.92
    assert accuracy["experiencer"] >= 0.99


def test_the_table_names_every_engine_and_attribute(report):
    text = bench_context.table(report)
    for word in ("negation", "temporality", "experiencer", "doc-checker", WITH_DEVIATIONS):
        assert word in text
