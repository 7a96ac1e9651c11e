"""The checker inside medspaCy's world: ``Checker.doc(text)`` gives a Doc medspaCy code reads
(its extensions, rendered by ``medspacy.visualization``), and ``nlp.add_pipe("doc_checker")``
adds the whole check to a user's own pipeline, saved with its rules."""

from __future__ import annotations

import shutil

import pytest
import spacy
from spacy.tokens import DocBin

import doc_checker.component  # noqa: F401 - registers the "doc_checker" factory
from doc_checker.nlp._spangroups import group_bounds
from doc_checker.nlp.context import MODIFIERS_KEY, target_key
from doc_checker.nlp.sections import SECTION_GROUP
from doc_checker.nlp.targets import TARGET_GROUP
from doc_checker.rules import default_patterns_dir

from .conftest import fixture_notes

ATTRIBUTES = {
    "NEGATED_EXISTENCE": "is_negated",
    "POSSIBLE_EXISTENCE": "is_uncertain",
    "HISTORICAL": "is_historical",
    "HYPOTHETICAL": "is_hypothetical",
    "FAMILY": "is_family",
}
NOTE = (
    "INDICATION: Right hip pain.\n"
    "PROCEDURE: Under fluoroscopic guidance a 22 gauge spinal needle was advanced into the right "
    "hip joint. No contrast was injected. Family history of hip dysplasia.\n"
)


@pytest.mark.parametrize("nid_text", fixture_notes()[:40], ids=lambda x: x[0])
def test_medspacy_extensions_say_what_the_checker_found(checker, nid_text):
    doc = checker.doc(nid_text[1])
    modifiers = doc.user_data[MODIFIERS_KEY]
    spans = doc.spans["medspacy_spans"]
    assert [(s.start, s.end, s.label_) for s in spans] == list(group_bounds(doc, TARGET_GROUP))
    for span in spans:
        found = modifiers.get(target_key(span.start, span.end, span.label_), [])
        assert sorted({m.category for m in span._.modifiers}) == found
        for category, attr in ATTRIBUTES.items():
            assert getattr(span._, attr) == (category in found)
    assert [s.category for s in doc._.sections if s.category is not None] == [
        c for _, _, c in group_bounds(doc, SECTION_GROUP)
    ]
    assert {(e.start, e.end, e.label_) for e in doc.ents} <= {
        (s.start, s.end, s.label_) for s in spans
    }


def test_a_known_note(checker):
    doc = checker.doc(NOTE)
    by_text = {s.text.lower(): s for s in doc.spans["medspacy_spans"]}
    contrast = next(s for t, s in by_text.items() if "contrast" in t)
    assert contrast._.is_negated and contrast._.section_category == "procedure"
    assert any(s._.is_family for s in doc.spans["medspacy_spans"])
    assert by_text["fluoroscopic"].label_ == "FLUORO" and not by_text["fluoroscopic"]._.is_negated
    assert doc[0]._.section_category == "indication"
    edges = doc._.context_graph.edges
    assert any(t is contrast or t == contrast for t, _ in edges)


def test_medspacy_visualization_renders_it(checker):
    from medspacy.visualization import visualize_dep, visualize_ent

    doc = checker.doc(NOTE)
    html = visualize_ent(doc, jupyter=False)
    assert "NEGATED_EXISTENCE" in html and "<< PROCEDURE >>" in html
    assert "FAMILY" in html
    assert "NEGATED_EXISTENCE" in visualize_dep(doc, jupyter=False)


def test_the_medspacy_engine_gives_the_same_extensions(checker):
    from doc_checker import Checker

    stock = Checker(engine="medspacy").doc(NOTE)  # NOTE has no misspelt key term to respell
    ours = checker.doc(NOTE)
    read = lambda d: [  # noqa: E731
        (s.start, s.end, s.label_, sorted(m.category for m in s._.modifiers))
        for s in d.spans["medspacy_spans"]
    ]
    assert read(stock) == read(ours)


def test_add_pipe_runs_the_whole_check(checker):
    nlp = spacy.blank("en")
    nlp.add_pipe("doc_checker")
    doc = nlp(NOTE)
    assert doc._.doc_checker == checker.check(NOTE).to_dict()
    # a DocBin keeps it (even with medspaCy's msgpack decoders registered)
    docs = list(DocBin(docs=[doc], store_user_data=True).get_docs(nlp.vocab))
    assert docs[0]._.doc_checker == doc._.doc_checker


def test_to_disk_saves_the_rules_not_a_path(tmp_path, checker):
    custom = tmp_path / "custom_patterns"
    shutil.copytree(default_patterns_dir(), custom)
    nlp = spacy.blank("en")
    nlp.add_pipe("doc_checker", config={"patterns_dir": str(custom)})
    expected = nlp(NOTE)._.doc_checker
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(custom)  # the saved pipeline must not need it
    assert (tmp_path / "pipeline" / "doc_checker" / "patterns" / "context.json").exists()
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded(NOTE)._.doc_checker == expected
    assert expected == checker.check(NOTE).to_dict()
