"""The pipeline is built from the ruleset's rule objects: a Checker reads its patterns directory
once, and ``nlp.to_disk`` saves the rules themselves, so a saved pipeline loads in a fresh
process with the patterns directory gone and gives the same span groups, modifiers and results."""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from doc_checker import Checker
from doc_checker.rules import _loader, default_patterns_dir, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
NOTES = sorted((ROOT / "fixtures" / "notes").glob("*.txt"))

# what a pipeline puts on a Doc, and the Checker's results with that pipeline swapped in
PROBE = r"""
import json, sys
from pathlib import Path
from doc_checker.nlp._spangroups import group_bounds
from doc_checker.nlp.context import MODIFIERS_KEY


def probe(nlp, paths):
    out = []
    for path in paths:
        doc = nlp(Path(path).read_text(encoding="utf-8"))
        out.append({
            "sents": [s.start for s in doc.sents],
            "groups": {k: group_bounds(doc, k) for k in sorted(doc.spans)},
            "modifiers": doc.user_data[MODIFIERS_KEY],
        })
    return json.loads(json.dumps(out))
"""
LOAD = r"""
import spacy
import doc_checker.nlp.pipeline  # registers the factories
from doc_checker import Checker

nlp = spacy.load(sys.argv[1])
checker = Checker()
checker.nlp = nlp
texts = [(p, Path(p).read_text(encoding="utf-8")) for p in sys.argv[2:]]
print(json.dumps({
    "docs": probe(nlp, sys.argv[2:]),
    "results": [r.to_dict() for r in checker.check_many(texts)],
}))
"""


@pytest.fixture
def patterns(tmp_path):
    dst = tmp_path / "patterns"
    shutil.copytree(
        default_patterns_dir(), dst, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    return dst


def test_a_checker_reads_each_rule_file_once(patterns, monkeypatch):
    reads: Counter = Counter()
    read_json = _loader.read_json

    def counting(path):
        reads[Path(path).relative_to(patterns).as_posix()] += 1
        return read_json(path)

    monkeypatch.setattr(_loader, "read_json", counting)
    Checker(patterns=patterns)
    assert reads["ruleset.json"] == 1 and reads["context.json"] == 1
    assert set(reads.values()) == {1} and "targets/needle.json" in reads


def test_build_nlp_reads_nothing(monkeypatch):
    from doc_checker.nlp.pipeline import build_nlp

    ruleset = load_ruleset()
    monkeypatch.setattr(_loader, "read_json", lambda path: pytest.fail(f"read {path}"))
    nlp = build_nlp(ruleset)
    assert len(nlp.get_pipe("doc_checker_context")) == len(ruleset.context_rules)
    assert len(nlp.get_pipe("doc_checker_sections")) == len(ruleset.sections)


def test_saved_pipeline_is_portable(patterns, tmp_path):
    """Saved from a copied patterns directory, which is then deleted; loaded in a new process."""
    from doc_checker.nlp.pipeline import build_nlp

    scope: dict = {}
    exec(PROBE, scope)
    checker = Checker(patterns=patterns)
    checker.nlp.to_disk(tmp_path / "nlp")
    paths = [str(p) for p in NOTES]
    expected = {
        "docs": scope["probe"](build_nlp(load_ruleset(patterns)), paths),
        "results": [
            r.to_dict() for r in checker.check_many([(p, Path(p).read_text()) for p in paths])
        ],
    }
    shutil.rmtree(patterns)
    saved = "\n".join(
        p.read_text()
        for p in (tmp_path / "nlp").rglob("*")
        if p.is_file() and p.suffix in (".cfg", ".json", ".jsonl")
    )
    assert str(patterns) not in saved  # the rules themselves, never a path to them

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", PROBE + LOAD, str(tmp_path / "nlp"), *paths],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = json.loads(run.stdout)
    assert loaded["docs"] == expected["docs"]
    assert any(d["modifiers"] for d in loaded["docs"]) and all(
        d["groups"]["dc_targets"] for d in loaded["docs"]
    )
    assert loaded["results"] == expected["results"]
