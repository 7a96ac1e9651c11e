"""Claim edits for +77002 (doc_checker/claims.py, patterns/claims.json): pure, no spaCy."""

import json
import shutil
import subprocess
import sys

import pytest

from doc_checker.decide.claims import (
    FINDING_CODES,
    BilledCode,
    ClaimRules,
    addon_units,
    claim_findings,
    load_claim_rules,
    parse_codes,
)
from doc_checker.errors import RulesError
from doc_checker.rules import default_patterns_dir


@pytest.fixture(scope="module")
def rules() -> ClaimRules:
    return load_claim_rules()


@pytest.fixture
def patterns(tmp_path):
    dst = tmp_path / "patterns"
    shutil.copytree(
        default_patterns_dir(), dst, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    return dst


def run(rules, billed, suggested="77002", verdict="supported", ct_mr=False):
    found = claim_findings(
        parse_codes(billed),
        suggested_code=suggested,
        verdict=verdict,
        ct_mr_arthrogram=ct_mr,
        rules=rules,
    )
    return found


def codes(findings):
    return [f.code for f in findings]


# ------------------------------------------------------------------ parse_codes


@pytest.mark.parametrize(
    "value",
    [
        "20610, 77002",
        "20610;77002",
        "20610 77002",
        "20610\t77002\n",
        " 20610 ;, 77002 ",
        ["20610", "77002"],
        ("20610, 77002",),
        ["20610", "", "77002"],
    ],
)
def test_parse_separators(value):
    assert parse_codes(value) == [BilledCode("20610", ()), BilledCode("77002", ())]


def test_parse_nothing():
    assert (
        parse_codes(None) == []
        and parse_codes("") == []
        and parse_codes([]) == []
        and parse_codes(" ; ") == []
    )


def test_parse_modifiers_dash_or_colon_uppercased():
    assert parse_codes("77002-26 20610:rt:59 +77002-tc") == [
        BilledCode("77002", ("26",)),
        BilledCode("20610", ("RT", "59")),
        BilledCode("77002", ("TC",)),
    ]


@pytest.mark.parametrize(
    "token,units", [("77002x2", 2), ("77002X3", 3), ("77002*2", 2), ("77002-26x2", 2), ("77002", 1)]
)
def test_parse_units(token, units):
    assert parse_codes(token)[0].units == units


def test_parse_repeated_code_adds_units_and_keeps_first_order():
    assert parse_codes("20610, 77002, 20610-RT, 77002x2, 77002") == [
        BilledCode("20610", ()),
        BilledCode("77002", (), 4),
        BilledCode("20610", ("RT",)),
    ]


def test_parse_code_shapes():
    assert [b.code for b in parse_codes("g0260 0213T 1234F 0001U J1030 d0120")] == [
        "G0260",
        "0213T",
        "1234F",
        "0001U",
        "J1030",
        "D0120",
    ]


@pytest.mark.parametrize(
    "value,bad",
    [
        ("20610 77002 26", "'26'"),  # modifier separated by a space: only '-' or ':'
        ("7700", "'7700'"),
        ("770021", "'770021'"),
        ("20610, 77002-2", "'77002-2'"),  # a modifier has 2 characters
        ("77002-265", "'77002-265'"),
        ("77002x0", "'77002x0'"),
        ("77002x", "'77002x'"),
        ("I1234", "'I1234'"),  # no HCPCS I codes
        ("77002.26", "'77002.26'"),
        (["20610", 77002], "77002"),
    ],
)
def test_parse_invalid_token_names_it(value, bad):
    with pytest.raises(ValueError, match=bad):
        parse_codes(value)


def test_parse_space_modifier_hints_the_separator():
    with pytest.raises(ValueError, match="'-' or ':'"):
        parse_codes("77002 26")


def test_parse_rejects_other_types():
    with pytest.raises(ValueError):
        parse_codes(77002)
    with pytest.raises(ValueError):
        parse_codes(b"77002")


# ------------------------------------------------------------------ the shipped rules


def test_shipped_rules_load_and_expand_ranges(rules):
    assert rules.version  # versioned with the ruleset (patterns/ruleset.json)
    assert {
        "64479",
        "64480",
        "64481",
        "64482",
        "64483",
        "64484",
        "64490",
        "64495",
        "10005",
        "10012",
        "19081",
        "19288",
        "49405",
        "49407",
    } <= set(rules.guidance_included)
    assert "64485" not in rules.guidance_included and "64489" not in rules.guidance_included
    assert rules.guidance_included["20611"].fluoroscopic_alternative == "20610"
    assert (
        not rules.guidance_included["27096"].confirmed
        and rules.guidance_included["62323"].confirmed
    )
    assert not rules.arthrography_si["70332"].confirmed and rules.arthrography_si["73040"].confirmed
    assert (
        rules.unit_limit.mue_status == "unconfirmed"
        and rules.unit_limit.mue_source == "payer policy (MUE)"
    )
    assert set(rules.findings) == set(FINDING_CODES)


def test_every_entry_has_status_and_source():
    data = json.loads((default_patterns_dir() / "claims.json").read_text(encoding="utf-8"))
    assert data["comment"] and data["version"]
    for name in ("guidance_codes", "em_codes", "arthrography_si", "guidance_included"):
        for entry in data[name]:
            assert ("code" in entry) != ("range" in entry)
            assert entry["status"] in ("confirmed", "unconfirmed") and entry["source"]


def test_primary_codes(rules):
    assert rules.is_primary("20610") and rules.is_primary("G0260") and rules.is_primary("10005")
    assert not any(
        rules.is_primary(c)
        for c in ("77001", "77002", "77003", "77012", "76942", "77021", "99213", "99283", "1234F")
    )


# -------------------------------------------------------------- claim edits: fire and do not fire


def test_clean_claim_has_no_findings(rules):
    assert run(rules, "20610-RT, 77002-26") == []


def test_empty_claim_has_no_findings(rules):
    assert run(rules, "") == []


def test_addon_without_primary_fires(rules):
    assert codes(run(rules, "77002")) == ["ADDON_WITHOUT_PRIMARY"]
    assert codes(run(rules, "77002, 99213, 76942")) == [
        "ADDON_WITHOUT_PRIMARY"
    ]  # E/M and guidance are not primaries


def test_addon_without_primary_does_not_fire_with_a_primary(rules):
    assert "ADDON_WITHOUT_PRIMARY" not in codes(run(rules, "99213 20610 77002"))
    assert "ADDON_WITHOUT_PRIMARY" not in codes(run(rules, "77002 G0260"))
    assert "ADDON_WITHOUT_PRIMARY" not in codes(run(rules, "99213"))  # no 77002 billed


@pytest.mark.parametrize("si", ["73040", "73085", "73115", "73525", "73580", "73615"])
def test_arthrography_si_fires(rules, si):
    found = run(rules, f"23350 77002 {si}")
    assert codes(found) == ["ARTHROGRAPHY_SI_WITH_77002"]
    assert si in found[0].message and "unconfirmed" not in found[0].message
    assert found[0].severity == "error" and found[0].evidence == []


def test_arthrography_si_unconfirmed_code_says_so(rules):
    found = run(rules, "21116 77002 70332")
    assert codes(found) == ["ARTHROGRAPHY_SI_WITH_77002"] and "70332" in found[0].message
    assert "unconfirmed" in found[0].message


def test_arthrography_si_before_a_ct_mr_arthrogram_says_the_si_code_is_the_wrong_one(rules):
    """The injection before a CT/MR arthrogram is reported with 77002: billed with a conventional
    S&I code, the S&I code is the problem, and the finding says so (domain primer)."""
    found = run(rules, "23350 77002 73040", ct_mr=True)
    assert codes(found) == ["ARTHROGRAPHY_SI_WITH_77002"]
    assert "73040 itself is the wrong code" in found[0].message


@pytest.mark.parametrize("code", ["64454", "64624"])
def test_genicular_codes_include_imaging_guidance(rules, code):
    assert codes(run(rules, f"{code} 77002")) == ["GUIDANCE_INCLUDED_IN_PRIMARY"]


def test_arthrography_si_does_not_fire_without_77002(rules):
    assert run(rules, "23350 73040") == []


@pytest.mark.parametrize(
    "primary",
    [
        "10005",
        "10012",
        "10030",
        "32555",
        "32557",
        "49083",
        "49084",
        "62321",
        "62323",
        "62325",
        "62327",
        "62328",
        "62329",
        "64479",
        "64484",
        "64490",
        "64495",
    ],
)
def test_guidance_included_fires_and_names_the_code(rules, primary):
    found = run(rules, f"{primary} 77002")
    assert codes(found) == ["GUIDANCE_INCLUDED_IN_PRIMARY"]
    assert primary in found[0].message and "unconfirmed" not in found[0].message


@pytest.mark.parametrize(
    "primary,alternative", [("20604", "20600"), ("20606", "20605"), ("20611", "20610")]
)
def test_guidance_included_ultrasound_joint_codes_mention_fluoroscopic_alternative(
    rules, primary, alternative
):
    found = run(rules, f"{primary} 77002")
    assert codes(found) == ["GUIDANCE_INCLUDED_IN_PRIMARY"]
    assert primary in found[0].message and f"{alternative} + 77002" in found[0].message


@pytest.mark.parametrize("primary", ["27096", "19081", "19086", "19281", "19288", "49405", "49407"])
def test_guidance_included_unconfirmed_codes_say_so(rules, primary):
    found = run(rules, f"{primary} 77002")
    assert codes(found) == ["GUIDANCE_INCLUDED_IN_PRIMARY"] and "unconfirmed" in found[0].message


@pytest.mark.parametrize(
    "primary", ["20600", "20605", "20610", "10004", "10013", "64478", "64485", "62320", "19080"]
)
def test_guidance_included_does_not_fire_for_other_primaries(rules, primary):
    assert run(rules, f"{primary} 77002") == []


def test_fluoroscopic_fna_includes_its_guidance(rules):
    assert codes(run(rules, "10007 77002")) == ["GUIDANCE_INCLUDED_IN_PRIMARY"]


def test_guidance_included_does_not_fire_without_77002(rules):
    assert run(rules, "20611") == []


@pytest.mark.parametrize(
    "suggested,named",
    [
        ("77003", "77003"),
        ("77001", "77001"),
        ("77012", "77012"),
        ("76942", "76942"),
        ("77021", "77021"),
        (None, "no imaging guidance"),
    ],
)
def test_code_mismatch_fires_and_names_the_supported_code(rules, suggested, named):
    found = run(rules, "20610 77002", suggested=suggested, verdict="not_supported")
    assert codes(found) == ["CODE_MISMATCH"] and named in found[0].message


def test_code_mismatch_does_not_fire_when_note_supports_77002(rules):
    assert "CODE_MISMATCH" not in codes(run(rules, "20610 77002", verdict="incomplete"))
    assert (
        run(rules, "62323 77003", suggested="77003", verdict="not_supported") == []
    )  # 77002 not billed


def test_documentation_incomplete_fires(rules):
    found = run(rules, "20610 77002", verdict="incomplete")
    assert codes(found) == ["DOCUMENTATION_INCOMPLETE"] and found[0].severity == "warning"


def test_documentation_incomplete_does_not_fire(rules):
    assert run(rules, "20610 77002", verdict="supported") == []
    assert codes(run(rules, "20610 77002", suggested="77003", verdict="not_supported")) == [
        "CODE_MISMATCH"
    ]
    assert (
        run(rules, "20610", verdict="incomplete") == []
    )  # 77002 not billed, note incomplete: no missed charge


@pytest.mark.parametrize(
    "billed,units",
    [
        ("20610 77002x2", 2),
        ("20610 77002 77002", 2),
        ("20610 77002*3", 3),
        ("20610 77002 77002-26", 2),
        ("20610 77002-26 77002-26", 2),
        ("20610 77002-TC-59 77002-TC", 2),
    ],
)
def test_units_exceeded_fires(rules, billed, units):
    found = run(rules, billed)
    assert codes(found) == ["UNITS_EXCEEDED"] and f"{units} units" in found[0].message
    assert "unconfirmed" in found[0].message and "MUE" in found[0].message


@pytest.mark.parametrize(
    "billed", ["20610 77002", "20610 77002-26 77002-TC", "20610 77002-26-59", "20610x2 77002"]
)
def test_units_exceeded_does_not_fire(rules, billed):
    assert run(rules, billed) == []


def test_addon_units_counts_split_billing_once(rules):
    assert addon_units(parse_codes("77002-26 77002-TC"), rules) == 1
    assert addon_units(parse_codes("77002-26x2 77002-TC"), rules) == 2
    assert addon_units(parse_codes("20610"), rules) == 0


def test_missed_charge_fires(rules):
    found = run(rules, "20610-RT")
    assert codes(found) == ["MISSED_CHARGE"] and found[0].severity == "warning"
    assert codes(run(rules, "20610 77003")) == [
        "MISSED_CHARGE"
    ]  # another guidance code billed instead


@pytest.mark.parametrize(
    "billed,verdict,suggested,ct_mr",
    [
        ("20610", "incomplete", "77002", False),  # note does not support it fully
        ("20610", "not_supported", "77003", False),  # note supports another code
        ("20610", "not_supported", None, False),
        ("20610 77002", "supported", "77002", False),  # billed
        ("20610 77002-26", "supported", "77002", False),
        (
            "20611",
            "supported",
            "77002",
            False,
        ),  # the primary includes guidance: 77002 would not be reported
        ("23350 73040", "supported", "77002", False),  # arthrography S&I excludes 77002
    ],
)
def test_missed_charge_does_not_fire(rules, billed, verdict, suggested, ct_mr):
    assert "MISSED_CHARGE" not in codes(
        run(rules, billed, suggested=suggested, verdict=verdict, ct_mr=ct_mr)
    )


def test_missed_charge_with_ct_mr_arthrogram_injection(rules):
    assert codes(run(rules, "23350 73040", ct_mr=True)) == ["MISSED_CHARGE"]


def test_several_edits_in_fixed_order(rules):
    found = run(rules, "77002x2 73040 20611", suggested=None, verdict="not_supported")
    assert codes(found) == [
        "ARTHROGRAPHY_SI_WITH_77002",
        "GUIDANCE_INCLUDED_IN_PRIMARY",
        "CODE_MISMATCH",
        "UNITS_EXCEEDED",
    ]
    found = run(rules, "77002 77002", verdict="incomplete")
    assert codes(found) == ["ADDON_WITHOUT_PRIMARY", "DOCUMENTATION_INCOMPLETE", "UNITS_EXCEEDED"]


def test_unknown_verdict_is_an_error(rules):
    with pytest.raises(ValueError, match="verdict"):
        run(rules, "20610 77002", verdict="ok")


def test_messages_never_tell_to_bill(rules):
    billed = "77002x2 73040 20611 70332 27096"
    for suggested, verdict in [
        (None, "not_supported"),
        ("77002", "incomplete"),
        ("77003", "not_supported"),
    ]:
        for f in run(rules, billed, suggested=suggested, verdict=verdict):
            assert "check" in f.message.lower() and "{" not in f.message
            assert not any(
                w in f.message.lower() for w in ("add 77002", "bill 77002", "should bill")
            )
    assert "check" in run(rules, "20610")[0].message.lower()


# ------------------------------------------------------------------ loading errors


def _edit(patterns, change):
    path = patterns / "claims.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_invalid_json_names_file_and_line(patterns):
    (patterns / "claims.json").write_text('{"version": "x",\n  "findings": {,}\n}')
    with pytest.raises(RulesError, match=r"claims.json: invalid JSON at line 2"):
        load_claim_rules(patterns)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(RulesError, match=r"claims.json: rule file not found"):
        load_claim_rules(tmp_path)


def test_unknown_entry_key_names_file_and_entry(patterns):
    _edit(patterns, lambda d: d["arthrography_si"][2].update(colour="red"))
    with pytest.raises(
        RulesError, match=r"claims.json: arthrography_si entry 2 \('73115'\): unknown key"
    ):
        load_claim_rules(patterns)


def test_unknown_top_level_key_names_file(patterns):
    _edit(patterns, lambda d: d.update(extra=1))
    with pytest.raises(RulesError, match=r"claims.json: unknown top-level key\(s\) \['extra'\]"):
        load_claim_rules(patterns)


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda d: d["guidance_included"][0].update(status="maybe"),
            r"guidance_included entry 0 \('10005-10012'\): 'status'",
        ),
        (
            lambda d: d["guidance_included"][0].pop("source"),
            r"guidance_included entry 0 .*'source'",
        ),
        (
            lambda d: d["guidance_included"][0].update(range="10012-10005"),
            r"guidance_included entry 0 .*'range'",
        ),
        (
            lambda d: d["guidance_included"][0].update(range="64479–64484"),
            r"guidance_included entry 0 .*'range'",
        ),
        (
            lambda d: d["guidance_included"][1].update(range="10030-10031"),
            r"guidance_included entry 1 .*exactly one",
        ),
        (
            lambda d: d["arthrography_si"][0].update(code="7304"),
            r"arthrography_si entry 0 .*5-character",
        ),
        (
            lambda d: d["arthrography_si"].append(dict(d["arthrography_si"][0])),
            r"arthrography_si entry 7 .*listed twice",
        ),
        (
            lambda d: d["findings"]["CODE_MISMATCH"].update(message="{suported}"),
            r"finding 'CODE_MISMATCH': unknown template field",
        ),
        (
            lambda d: d["findings"]["MISSED_CHARGE"].update(severity="fatal"),
            r"finding 'MISSED_CHARGE': 'severity'",
        ),
        (lambda d: d["findings"].pop("UNITS_EXCEEDED"), r"findings: missing \['UNITS_EXCEEDED'\]"),
        (lambda d: d["unit_limit"].update(max_units=0), r"unit_limit: 'max_units'"),
        (lambda d: d["unit_limit"]["mue"].update(status=None), r"unit_limit.mue: 'status'"),
        (lambda d: d.pop("version"), r"top level: 'version'"),
    ],
)
def test_invalid_entries_name_file_and_entry(patterns, change, message):
    _edit(patterns, change)
    with pytest.raises(RulesError, match=r"claims.json: " + message):
        load_claim_rules(patterns)


def test_rules_are_data(patterns):
    _edit(
        patterns,
        lambda d: d["arthrography_si"].append(
            {"code": "73222", "status": "unconfirmed", "source": "test"}
        ),
    )
    custom = load_claim_rules(str(patterns))
    assert codes(run(custom, "23350 77002 73222")) == ["ARTHROGRAPHY_SI_WITH_77002"]


# ------------------------------------------------------------------ purity


def test_module_does_not_import_spacy():
    code = (
        "import sys, doc_checker.decide.claims as c; c.load_claim_rules(); "
        "c.claim_findings(c.parse_codes('20610 77002'), suggested_code='77002', "
        "verdict='supported', ct_mr_arthrogram=False, rules=c.load_claim_rules()); "
        "print('spacy' in sys.modules, 'medspacy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
