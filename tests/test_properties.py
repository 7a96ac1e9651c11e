"""Property-based tests: for any text, the checker answers (result or clear refusal), the
result validates, evidence offsets slice the note, and the score agrees with the statuses."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doc_checker.errors import InputError
from doc_checker.result import CheckResult, ErrorRecord
from doc_checker.rules import load_profile

from .conftest import assert_valid

CLINICAL_WORDS = [
    "fluoroscopy",
    "fluoroscopic",
    "guidance",
    "needle",
    "22-gauge",
    "hip",
    "joint",
    "epidural",
    "contrast",
    "Omnipaque",
    "no",
    "not",
    "without",
    "prior",
    "will",
    "if",
    "needed",
    "injection",
    "aspiration",
    "INDICATION:",
    "PROCEDURE:",
    "Allergies:",
    "***",
    "L4-5",
    "CT",
    "US",
    "(FG)",
    "FG",
    "mL",
    "2",
    "0.5",
    "min",
    "PACS",
    "saved",
    ".",
    ",",
    ";",
    "\n",
    "\n\n",
    ":",
]
clinical_text = st.lists(st.sampled_from(CLINICAL_WORDS), min_size=0, max_size=80).map(" ".join)
any_text = st.one_of(
    st.text(max_size=400), clinical_text, st.text(alphabet=string.printable, max_size=400)
)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check_invariants(result: CheckResult, text: str, validator) -> None:
    assert_valid(validator, result.to_dict())
    for el in result.elements.values():
        for ev in [*el.evidence, *el.ignored]:
            assert text[ev.start : ev.end] == ev.text
        assert (el.status == "present") == bool(el.evidence)
    profile = load_profile()
    total = sum(p.weight for p in profile.elements.values() if p.required)
    got = sum(
        profile.elements[n].weight
        for n, el in result.elements.items()
        if el.required and el.present
    )
    assert result.score == round(100 * got / total, 1)
    assert result.verdict == (
        "not_supported"
        if result.suggested_code != "77002"
        else "supported"
        if not result.missing
        else "incomplete"
    )
    assert len(result.queries) == len(result.missing)


@SETTINGS
@given(text=any_text)
def test_any_text_gives_a_valid_result_or_a_clear_refusal(checker, validator, text):
    try:
        result = checker.check(text)
    except InputError as exc:
        assert exc.code in {"empty", "binary", "too_large", "not_text"}
        return
    check_invariants(result, text, validator)


@SETTINGS
@given(texts=st.lists(any_text, max_size=6))
def test_batches_account_for_every_input(checker, validator, texts):
    outs = list(checker.check_many(texts, batch_size=2))
    assert len(outs) == len(texts)
    for i, (text, out) in enumerate(zip(texts, outs, strict=True)):
        assert_valid(validator, out.to_dict())
        if isinstance(out, ErrorRecord):
            assert out.position == i
        else:
            check_invariants(out, text, validator)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_any_bytes_are_decoded_or_refused(checker, validator, data):
    try:
        result = checker.check(data)
    except InputError as exc:
        assert exc.code in {"empty", "binary", "not_utf8", "undecodable", "too_large"}
        return
    assert_valid(validator, result.to_dict())


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 10)), min_size=1, max_size=20),
    st.integers(0, 45),
    st.integers(1, 10),
)
def test_pseudo_containment_is_the_brute_force_answer(raw, start, length):
    """ConText's PSEUDO silencing: the O(log n) test agrees with testing every phrase."""
    from doc_checker.nlp.context import _containment

    ranges = [(s, s + n) for s, n in raw]
    end = start + length
    assert _containment(ranges)(start, end) == any(s <= start and end <= e for s, e in ranges)
