"""The reference engine: ``Checker(engine="medspacy")`` (``--engine medspacy``) builds the same
checker from stock medspaCy components (Sectionizer, one TargetMatcher per layer, ConText) with
the same rule files. With the deviations listed in ``doc_checker.nlp.deviations`` applied to
stock medspaCy, its results are byte-identical to the checker's on every fixture note; without
them, they differ on the few notes where a listed deviation shows."""

from __future__ import annotations

import json
import types

import pytest
import spacy
from spacy.tokens import Doc

from doc_checker import Checker
from doc_checker.cli import main
from doc_checker.nlp._spangroups import group_bounds
from doc_checker.nlp.deviations import DEVIATIONS, applied
from doc_checker.nlp.reference import StockTargets, project_targets
from doc_checker.nlp.targets import TARGET_GROUP
from doc_checker.rules import TargetRule

from .conftest import FIXTURE_NOTES, fixture_notes

# measured: 12 of the 130 fixture notes give another result through stock medspaCy
MAX_NOTES_DIFFERING = 15


@pytest.fixture(scope="module")
def medspacy_checker():
    with Checker(engine="medspacy") as checker:
        yield checker


def _results(checker, notes):
    return [json.dumps(r.to_dict(), sort_keys=True) for r in checker.check_many(notes)]


@pytest.fixture(scope="module")
def ours(checker):
    return _results(checker, fixture_notes())


def test_the_engine_is_built_from_stock_medspacy(medspacy_checker):
    from medspacy.context import ConText
    from medspacy.section_detection import Sectionizer
    from medspacy.target_matcher import TargetMatcher

    nlp = medspacy_checker.nlp
    assert isinstance(nlp.get_pipe("doc_checker_sections").sectionizer, Sectionizer)
    assert isinstance(nlp.get_pipe("doc_checker_context").ctx, ConText)
    matchers = nlp.get_pipe("doc_checker_targets").matchers
    assert matchers and all(isinstance(m, TargetMatcher) for m in matchers.values())


def test_identical_results_with_the_listed_deviations(medspacy_checker, ours):
    ctx = medspacy_checker.nlp.get_pipe("doc_checker_context").ctx
    with applied(ctx, [d.id for d in DEVIATIONS]):
        theirs = _results(medspacy_checker, fixture_notes())
    assert theirs == ours


def test_stock_results_differ_on_few_notes(medspacy_checker, ours):
    theirs = _results(medspacy_checker, fixture_notes())
    differing = sum(a != b for a, b in zip(ours, theirs, strict=True))
    assert 0 < differing <= MAX_NOTES_DIFFERING


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown engine"):
        Checker(engine="cTAKES")


def test_cli_engine_option(capsys):
    note = sorted(FIXTURE_NOTES.glob("*.txt"))[0]
    assert main(["check", str(note), "--format", "jsonl", "--engine", "medspacy"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["note_id"] == note.stem and record["verdict"]


def test_deviation_longest_first_pruning():
    nlp = spacy.blank("en")
    rules = [
        TargetRule.from_dict({"literal": "presents", "category": "INDICATION"}),
        TargetRule.from_dict({"literal": "presents for", "category": "INDICATION"}),
        TargetRule.from_dict({"literal": "for a therapeutic", "category": "INDICATION"}),
    ]
    ruleset = types.SimpleNamespace(target_layers={"indication": rules}, abbreviations=[])
    words = "He presents for a therapeutic injection".split()
    found = {}
    for name, component in [
        ("ours", project_targets(nlp, ruleset)),
        ("stock", StockTargets(nlp, "t", ruleset=ruleset)),
    ]:
        doc = component(Doc(nlp.vocab, words=words))
        found[name] = [(s, e) for s, e, _ in group_bounds(doc, TARGET_GROUP)]
    assert found["ours"] == [(1, 2), (2, 5)]
    # medspaCy: (1, 3) beats (1, 2), then loses to (2, 5); (1, 2) is gone with it
    assert found["stock"] == [(2, 5)]


@pytest.mark.parametrize("command", ["serve", "spark"])
def test_front_ends_with_their_own_checkers_refuse_the_engine_option(command, capsys):
    argv = [command] if command == "serve" else [command, "in.parquet", "out/"]
    assert main(argv + ["--engine", "medspacy"]) == 2
    assert "--engine medspacy" in capsys.readouterr().err
