"""The sections component: built from SectionRule objects, saved with its rules and settings."""

import json

import pytest

from doc_checker import RulesError
from doc_checker.nlp.sections import SECTION_GROUP, Sections
from doc_checker.rules import SectionRule

RULES = [
    SectionRule(literal="Indication", category="indication", pattern=r"(?i)indication:"),
    SectionRule(literal="Plan", category="plan", pattern=r"(?i)plan:"),
    SectionRule(literal="findings", category="findings"),  # a literal: matched on its tokens
]
NOTE = "Indication: hip pain; see plan: below.\nPlan: follow up.\nFindings normal."


def headers(component, text):
    doc = component(component.nlp.make_doc(text))
    return [(span.text, span.label_) for span in doc.spans[SECTION_GROUP]]


@pytest.fixture
def sections(nlp):
    component = Sections(nlp)
    component.set_header_position(header_after="\n")
    component.section_effects = {"plan": "hypothetical"}
    component.add_patterns(RULES)
    return component


def test_headers_found_where_a_header_can_begin(sections):
    # 'see plan:' is inside a line: header_after (a line break) does not let a header begin there;
    # the literal rule is not a text regex, so header_after does not restrict it
    assert headers(sections, NOTE) == [
        ("Indication:", "indication"),
        ("Plan:", "plan"),
        ("Findings", "findings"),
    ]


def test_without_header_position_a_header_begins_anywhere(sections):
    sections.set_header_position()
    assert ("plan:", "plan") in headers(sections, NOTE)
    assert len(sections) == len(RULES)  # the rules were kept when the matcher was rebuilt


def test_to_disk_writes_the_rules_and_settings_and_from_disk_reads_them(nlp, sections, tmp_path):
    sections.to_disk(tmp_path / "sections")
    lines = (tmp_path / "sections" / "rules.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [r.to_dict() for r in RULES]
    settings = json.loads((tmp_path / "sections" / "settings.json").read_text())
    assert settings == {"header_after": "\n", "section_effects": {"plan": "hypothetical"}}

    loaded = Sections(nlp).from_disk(tmp_path / "sections")
    assert loaded.rules == RULES and loaded.header_after == "\n" and loaded.header_start is None
    assert loaded.section_effects == {"plan": "hypothetical"}
    assert headers(loaded, NOTE) == headers(sections, NOTE)


def test_bytes_round_trip(nlp, sections):
    loaded = Sections(nlp).from_bytes(sections.to_bytes())
    assert loaded.rules == RULES and headers(loaded, NOTE) == headers(sections, NOTE)


def test_exclude_keeps_what_is_not_read(nlp, sections, tmp_path):
    sections.to_disk(tmp_path / "s")
    other = Sections(nlp)
    other.add_patterns(RULES[:1])
    other.from_disk(tmp_path / "s", exclude=["rules"])
    assert other.rules == RULES[:1] and other.header_after == "\n"


def test_a_bad_saved_rule_names_the_file_and_the_rule(nlp, sections, tmp_path):
    sections.to_disk(tmp_path / "s")
    path = tmp_path / "s" / "rules.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = json.dumps({"literal": "Plan", "category": "plan", "pattern": "(plan"})
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RulesError, match=r"rules.jsonl: rule 1 \('Plan'\): invalid regex"):
        Sections(nlp).from_disk(tmp_path / "s")
