"""Claim edits for +77002: check the codes billed for an encounter against the claim rules and
against what the note supports.

Pure (no spaCy): the rules are data (``patterns/claims.json``), this module holds the logic.

>>> rules = load_claim_rules()
>>> billed = parse_codes("20610-RT, 77002-26")
>>> claim_findings(billed, suggested_code="77002", verdict="supported",
...                ct_mr_arthrogram=False, rules=rules)
[]

Message templates (``findings`` in claims.json) are ``str.format`` strings; the fields each one
may use are in ``_TEMPLATE_FIELDS``. Messages name codes, never note text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..errors import RulesError
from ..result import VERDICTS, Finding
from ..rules import default_patterns_dir, read_json

ADDON_CODE = "77002"
CLAIMS_FILE = "claims.json"

# --------------------------------------------------------------------------------------------
# Billed codes
# --------------------------------------------------------------------------------------------

# A 5-character CPT/HCPCS code: CPT Category I (5 digits), CPT Category II/III, PLA and MAAA
# codes (4 digits + F/T/U/M), HCPCS Level II (a letter A-V, F/I/N/O excepted, + 4 digits).
_CODE_SHAPE = re.compile(r"^(?:\d{5}|\d{4}[FMTU]|[A-EGHJ-MP-V]\d{4})$")
# One token: [+]CODE, then modifiers each after '-' or ':', then optional units 'x2' / '*2'.
_TOKEN = re.compile(
    r"^\+?(?P<code>[0-9A-Z]+?)(?P<mods>(?:[-:][0-9A-Z]{2})*)(?:[X*](?P<units>\d+))?$"
)
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_SEPARATORS = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class BilledCode:
    """One claim line: ``77002-26`` is ``BilledCode("77002", ("26",))``; ``77002x2`` has 2 units."""

    code: str
    modifiers: Tuple[str, ...] = ()
    units: int = 1

    def __str__(self) -> str:
        text = "-".join((self.code,) + self.modifiers)
        return f"{text}x{self.units}" if self.units != 1 else text


def _parse_token(token: str) -> BilledCode:
    upper = token.upper()
    match = _TOKEN.match(upper)
    if not match:
        raise ValueError(
            f"invalid billed code {token!r}: expected CODE[-MOD[-MOD]][x UNITS], "
            f"e.g. '77002', '77002-26', '20610-RT', '77002x2'"
        )
    code = match.group("code")
    if not _CODE_SHAPE.match(code):
        hint = (
            " (modifiers attach with '-' or ':', e.g. '77002-26')" if _MODIFIER.match(code) else ""
        )
        raise ValueError(
            f"invalid billed code {token!r}: {code!r} is not a 5-character CPT/HCPCS code{hint}"
        )
    mods = tuple(m for m in re.split(r"[-:]", match.group("mods")) if m)
    for mod in mods:
        if not _MODIFIER.match(mod):
            raise ValueError(f"invalid billed code {token!r}: modifier {mod!r} is not 2 characters")
    units = int(match.group("units")) if match.group("units") is not None else 1
    if units < 1:
        raise ValueError(f"invalid billed code {token!r}: units must be at least 1")
    return BilledCode(code, mods, units)


def parse_codes(value: Union[None, str, Sequence[str]]) -> List[BilledCode]:
    """Parse the codes billed for one encounter.

    ``value`` is ``None`` (nothing: ``[]``), a string of codes separated by ``;``, ``,`` or
    whitespace, or a sequence of such strings. A token is ``[+]CODE`` (5-character CPT/HCPCS,
    case-insensitive), then modifiers each after ``-`` or ``:`` (``77002-26``, ``20610:RT:59``),
    then optional units ``x2`` / ``*2``. The same code with the same modifiers repeated adds its
    units (``77002, 77002`` is one line of 2 units). Lines keep the order of first appearance.
    Raises ``ValueError`` naming the bad token.
    """
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[Any] = [value]
    elif isinstance(value, (bytes, bytearray)) or not isinstance(value, Sequence):
        raise ValueError(
            f"billed codes must be a string or a list of strings, not {type(value).__name__}"
        )
    else:
        items = value
    merged: Dict[Tuple[str, Tuple[str, ...]], BilledCode] = {}
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"invalid billed code {item!r}: expected a string")
        for token in _SEPARATORS.split(item):
            if not token:
                continue
            line = _parse_token(token)
            key = (line.code, line.modifiers)
            if key in merged:
                line = BilledCode(line.code, line.modifiers, merged[key].units + line.units)
            merged[key] = line
    return list(merged.values())


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------

_STATUSES = ("confirmed", "unconfirmed")
_SEVERITIES = ("error", "warning", "info")
_TOP_KEYS = {
    "comment",
    "version",
    "component_modifiers",
    "guidance_codes",
    "em_codes",
    "arthrography_si",
    "guidance_included",
    "unit_limit",
    "supported_code_names",
    "unconfirmed_note",
    "findings",
}
_CODE_LISTS = ("guidance_codes", "em_codes", "arthrography_si", "guidance_included")
_ENTRY_KEYS = {"code", "range", "status", "source", "comment"}
_LIST_EXTRA_KEYS = {"guidance_included": {"fluoroscopic_alternative"}}
_UNIT_KEYS = {"code", "max_units", "per", "status", "source", "comment", "mue"}
_MUE_KEYS = {"max_units", "per", "status", "source", "comment"}
_FINDING_KEYS = {"severity", "message", "message_with_alternative", "message_ct_mr"}
_MAX_RANGE = 1000

# The fields each message template may use (all of them are filled when the message is built).
_TEMPLATE_FIELDS: Dict[str, FrozenSet[str]] = {
    "ADDON_WITHOUT_PRIMARY": frozenset(),
    "ARTHROGRAPHY_SI_WITH_77002": frozenset({"code", "status_note", "source"}),
    "GUIDANCE_INCLUDED_IN_PRIMARY": frozenset({"code", "status_note", "source", "alternative"}),
    "CODE_MISMATCH": frozenset({"supported"}),
    "DOCUMENTATION_INCOMPLETE": frozenset(),
    "UNITS_EXCEEDED": frozenset(
        {
            "units",
            "max_units",
            "per",
            "source",
            "status",
            "mue_units",
            "mue_per",
            "mue_source",
            "mue_status",
        }
    ),
    "MISSED_CHARGE": frozenset(),
}
FINDING_CODES = tuple(_TEMPLATE_FIELDS)


@dataclass(frozen=True)
class CodeEntry:
    """One code of a claim-rule list, with where the rule comes from."""

    code: str
    status: str
    source: str
    comment: Optional[str] = None
    fluoroscopic_alternative: Optional[str] = None

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"


@dataclass(frozen=True)
class UnitLimit:
    code: str
    max_units: int
    per: str
    status: str
    source: str
    mue_units: Optional[int] = None
    mue_per: Optional[str] = None
    mue_status: Optional[str] = None
    mue_source: Optional[str] = None


@dataclass(frozen=True)
class FindingSpec:
    severity: str
    message: str
    message_with_alternative: Optional[str] = None
    message_ct_mr: Optional[str] = None  # ARTHROGRAPHY_SI_WITH_77002 before a CT/MR arthrogram


@dataclass(frozen=True)
class ClaimRules:
    """The validated contents of ``claims.json`` (code lists expanded: one entry per code)."""

    version: str
    path: Path
    component_modifiers: FrozenSet[str]
    guidance_codes: Mapping[str, CodeEntry]
    em_codes: Mapping[str, CodeEntry]
    arthrography_si: Mapping[str, CodeEntry]
    guidance_included: Mapping[str, CodeEntry]
    unit_limit: UnitLimit
    supported_code_names: Mapping[str, str]
    unconfirmed_note: str
    findings: Mapping[str, FindingSpec] = field(default_factory=dict)

    def is_primary(self, code: str) -> bool:
        """A primary procedure code: not an imaging guidance code, not E/M, not a CPT Category II
        (performance measure, ``####F``) tracking code."""
        return (
            code not in self.guidance_codes and code not in self.em_codes and not code.endswith("F")
        )


def _entry_name(list_name: str, i: int, entry: Any) -> str:
    label = entry.get("code") or entry.get("range") if isinstance(entry, dict) else None
    return (
        f"{list_name} entry {i} ({label!r})" if isinstance(label, str) else f"{list_name} entry {i}"
    )


def _check_str(path: Path, where: str, obj: Dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{path}: {where}: '{key}' must be a non-empty string")
    return value


def _check_status(path: Path, where: str, obj: Dict[str, Any], key: str = "status") -> str:
    status = obj.get(key)
    if status not in _STATUSES:
        raise RulesError(f"{path}: {where}: '{key}' must be one of {list(_STATUSES)}")
    return status


def _check_units(path: Path, where: str, obj: Dict[str, Any]) -> int:
    value = obj.get("max_units")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RulesError(f"{path}: {where}: 'max_units' must be a positive integer")
    return value


def _expand_range(path: Path, where: str, text: str) -> List[str]:
    match = re.fullmatch(r"(\d{5})-(\d{5})", text)
    if not match:
        raise RulesError(
            f"{path}: {where}: 'range' must look like \"64479-64484\" (two 5-digit codes)"
        )
    lo, hi = int(match.group(1)), int(match.group(2))
    if lo > hi or hi - lo >= _MAX_RANGE:
        raise RulesError(
            f"{path}: {where}: 'range' must go from low to high and hold at most {_MAX_RANGE} codes"
        )
    return [f"{n:05d}" for n in range(lo, hi + 1)]


def _load_code_list(path: Path, data: Dict[str, Any], name: str) -> Mapping[str, CodeEntry]:
    entries = data.get(name)
    if not isinstance(entries, list):
        raise RulesError(f"{path}: '{name}' must be a list of entries")
    allowed = _ENTRY_KEYS | _LIST_EXTRA_KEYS.get(name, set())
    out: Dict[str, CodeEntry] = {}
    for i, entry in enumerate(entries):
        where = _entry_name(name, i, entry)
        if not isinstance(entry, dict):
            raise RulesError(f"{path}: {where}: an entry must be a JSON object")
        unknown = set(entry) - allowed
        if unknown:
            raise RulesError(
                f"{path}: {where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        if ("code" in entry) == ("range" in entry):
            raise RulesError(f"{path}: {where}: needs exactly one of 'code' or 'range'")
        if "code" in entry:
            code = _check_str(path, where, entry, "code")
            if not _CODE_SHAPE.match(code):
                raise RulesError(f"{path}: {where}: 'code' must be a 5-character CPT/HCPCS code")
            codes = [code]
        else:
            codes = _expand_range(path, where, _check_str(path, where, entry, "range"))
        status = _check_status(path, where, entry)
        source = _check_str(path, where, entry, "source")
        comment = entry.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise RulesError(f"{path}: {where}: 'comment' must be a string")
        alternative = entry.get("fluoroscopic_alternative")
        if alternative is not None and (
            not isinstance(alternative, str) or not _CODE_SHAPE.match(alternative)
        ):
            raise RulesError(
                f"{path}: {where}: 'fluoroscopic_alternative' must be a 5-character CPT code"
            )
        for code in codes:
            if code in out:
                raise RulesError(f"{path}: {where}: code {code} is listed twice in '{name}'")
            out[code] = CodeEntry(code, status, source, comment, alternative)
    return MappingProxyType(out)


def _check_object(path: Path, where: str, obj: Any, allowed: set) -> Dict[str, Any]:
    """``obj`` itself once it is known to be an object with only ``allowed`` keys."""
    if not isinstance(obj, dict):
        raise RulesError(f"{path}: '{where}' must be an object")
    unknown = set(obj) - allowed
    if unknown:
        raise RulesError(
            f"{path}: {where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    return obj


def _load_unit_limit(path: Path, data: Dict[str, Any]) -> UnitLimit:
    where = "unit_limit"
    spec = _check_object(path, where, data.get("unit_limit"), _UNIT_KEYS)
    code = _check_str(path, where, spec, "code")
    if code != ADDON_CODE:
        raise RulesError(f"{path}: {where}: 'code' must be {ADDON_CODE!r}")
    limit = UnitLimit(
        code,
        _check_units(path, where, spec),
        _check_str(path, where, spec, "per"),
        _check_status(path, where, spec),
        _check_str(path, where, spec, "source"),
    )
    if spec.get("mue") is None:
        return limit
    where = "unit_limit.mue"
    mue = _check_object(path, where, spec["mue"], _MUE_KEYS)
    return UnitLimit(
        limit.code,
        limit.max_units,
        limit.per,
        limit.status,
        limit.source,
        _check_units(path, where, mue),
        _check_str(path, where, mue, "per"),
        _check_status(path, where, mue),
        _check_str(path, where, mue, "source"),
    )


def _check_template(path: Path, where: str, template: str, fields: FrozenSet[str]) -> None:
    dummy = {name: "x" for name in fields}
    try:
        template.format(**dummy)
    except KeyError as exc:
        raise RulesError(
            f"{path}: {where}: unknown template field {{{exc.args[0]}}}; "
            f"allowed: {sorted(fields) or 'none'}"
        ) from None
    except (IndexError, ValueError) as exc:
        raise RulesError(f"{path}: {where}: invalid message template ({exc})") from None


def _load_findings(path: Path, data: Dict[str, Any]) -> Mapping[str, FindingSpec]:
    specs = data.get("findings")
    if not isinstance(specs, dict):
        raise RulesError(f"{path}: 'findings' must be an object")
    missing = [code for code in FINDING_CODES if code not in specs]
    if missing:
        raise RulesError(f"{path}: findings: missing {missing}")
    out: Dict[str, FindingSpec] = {}
    for code, spec in specs.items():
        where = f"finding {code!r}"
        if code not in _TEMPLATE_FIELDS:
            raise RulesError(f"{path}: {where}: unknown finding; known: {list(FINDING_CODES)}")
        if not isinstance(spec, dict):
            raise RulesError(f"{path}: {where}: must be an object")
        unknown = set(spec) - _FINDING_KEYS
        if unknown:
            raise RulesError(
                f"{path}: {where}: unknown key(s) {sorted(unknown)}; "
                f"allowed: {sorted(_FINDING_KEYS)}"
            )
        if spec.get("severity") not in _SEVERITIES:
            raise RulesError(f"{path}: {where}: 'severity' must be one of {list(_SEVERITIES)}")
        message = _check_str(path, where, spec, "message")
        _check_template(path, where, message, _TEMPLATE_FIELDS[code])
        variants = []
        for key in ("message_with_alternative", "message_ct_mr"):
            alt = spec.get(key)
            if alt is not None:
                if not isinstance(alt, str) or not alt.strip():
                    raise RulesError(f"{path}: {where}: '{key}' must be a non-empty string")
                _check_template(path, where, alt, _TEMPLATE_FIELDS[code])
            variants.append(alt)
        out[code] = FindingSpec(spec["severity"], message, *variants)
    return MappingProxyType(out)


def load_claim_rules(patterns_dir: Optional[Union[str, "os.PathLike[str]"]] = None) -> ClaimRules:
    """Read and validate ``claims.json`` of ``patterns_dir`` (default: the shipped patterns).

    Raises ``RulesError`` naming the file and the entry on any error.
    """
    root = Path(patterns_dir) if patterns_dir is not None else default_patterns_dir()
    path = root / CLAIMS_FILE
    data = read_json(path)
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected a JSON object")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RulesError(
            f"{path}: unknown top-level key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}"
        )
    version = _check_str(path, "top level", data, "version")
    mods = data.get("component_modifiers", [])
    if not isinstance(mods, list) or not all(
        isinstance(m, str) and _MODIFIER.match(m) for m in mods
    ):
        raise RulesError(f"{path}: 'component_modifiers' must be a list of 2-character modifiers")
    lists = {name: _load_code_list(path, data, name) for name in _CODE_LISTS}
    if ADDON_CODE not in lists["guidance_codes"]:
        raise RulesError(f"{path}: 'guidance_codes' must list {ADDON_CODE}")
    names = data.get("supported_code_names")
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in names.items()
    ):
        raise RulesError(
            f"{path}: 'supported_code_names' must map codes (and 'none') to non-empty strings"
        )
    note = data.get("unconfirmed_note", "")
    if not isinstance(note, str):
        raise RulesError(f"{path}: 'unconfirmed_note' must be a string")
    return ClaimRules(
        version=version,
        path=path,
        component_modifiers=frozenset(mods),
        guidance_codes=lists["guidance_codes"],
        em_codes=lists["em_codes"],
        arthrography_si=lists["arthrography_si"],
        guidance_included=lists["guidance_included"],
        unit_limit=_load_unit_limit(path, data),
        supported_code_names=MappingProxyType(dict(names)),
        unconfirmed_note=note,
        findings=_load_findings(path, data),
    )


# --------------------------------------------------------------------------------------------
# Claim edits
# --------------------------------------------------------------------------------------------


def _finding(
    rules: ClaimRules,
    finding_code: str,
    /,
    use_alternative: bool = False,
    ct_mr: bool = False,
    **fields: Any,
) -> Finding:
    spec = rules.findings[finding_code]
    if use_alternative and spec.message_with_alternative:
        template = spec.message_with_alternative
    elif ct_mr and spec.message_ct_mr:
        template = spec.message_ct_mr
    else:
        template = spec.message
    return Finding(
        code=finding_code, severity=spec.severity, message=template.format(**fields), evidence=[]
    )


def _entry_fields(rules: ClaimRules, entry: CodeEntry) -> Dict[str, Any]:
    return {
        "code": entry.code,
        "source": entry.source,
        "status_note": "" if entry.confirmed else rules.unconfirmed_note,
    }


def addon_units(billed: Sequence[BilledCode], rules: ClaimRules, code: str = ADDON_CODE) -> int:
    """Units of ``code`` for the encounter. A professional (26) and a technical (TC) line split
    one service, so they count once: global units + the larger of the 26 and TC units."""
    whole = 0
    parts: Dict[str, int] = {}
    for line in billed:
        if line.code != code:
            continue
        comps = set(line.modifiers) & rules.component_modifiers
        if not comps:
            whole += line.units
        for comp in comps:
            parts[comp] = parts.get(comp, 0) + line.units
    return whole + max(parts.values(), default=0)


def claim_findings(
    billed: Sequence[BilledCode],
    *,
    suggested_code: Optional[str],
    verdict: str,
    ct_mr_arthrogram: bool,
    rules: ClaimRules,
) -> List[Finding]:
    """The claim edits for one encounter, in a fixed order (the order of ``FINDING_CODES``; codes
    in claim order within an edit).

    ``billed`` is the encounter's claim (``parse_codes``); an empty claim gives no findings
    (nothing was billed to check). ``suggested_code`` and ``verdict`` are the note's
    (``CheckResult.suggested_code`` / ``.verdict``); ``ct_mr_arthrogram`` is True when the
    injection precedes a CT or MR arthrogram (then an arthrography S&I code does not exclude 77002).
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {list(VERDICTS)}, not {verdict!r}")
    if not billed:
        return []
    codes = [line.code for line in billed]
    addon_billed = ADDON_CODE in codes
    findings: List[Finding] = []

    if not addon_billed:
        # The note supports 77002 and the claim does not carry it. Not when the claim carries a
        # code that excludes 77002 anyway (its guidance is included, or arthrography S&I).
        excluded = any(c in rules.guidance_included for c in codes) or (
            not ct_mr_arthrogram and any(c in rules.arthrography_si for c in codes)
        )
        if suggested_code == ADDON_CODE and verdict == "supported" and not excluded:
            findings.append(_finding(rules, "MISSED_CHARGE"))
        return findings

    if not any(rules.is_primary(c) for c in codes):
        findings.append(_finding(rules, "ADDON_WITHOUT_PRIMARY"))

    ordered = list(dict.fromkeys(codes))  # first occurrences, in order
    for code in ordered:
        entry = rules.arthrography_si.get(code)
        if entry is not None:
            # before a CT or MR arthrogram, 77002 is right and the conventional S&I code is wrong
            findings.append(
                _finding(
                    rules,
                    "ARTHROGRAPHY_SI_WITH_77002",
                    ct_mr=ct_mr_arthrogram,
                    **_entry_fields(rules, entry),
                )
            )

    for code in ordered:
        entry = rules.guidance_included.get(code)
        if entry is not None:
            alt = entry.fluoroscopic_alternative
            findings.append(
                _finding(
                    rules,
                    "GUIDANCE_INCLUDED_IN_PRIMARY",
                    use_alternative=alt is not None,
                    alternative=alt or "",
                    **_entry_fields(rules, entry),
                )
            )

    if suggested_code != ADDON_CODE:
        key = suggested_code if suggested_code is not None else "none"
        supported = rules.supported_code_names.get(key, key)
        findings.append(_finding(rules, "CODE_MISMATCH", supported=supported))
    elif verdict == "incomplete":
        findings.append(_finding(rules, "DOCUMENTATION_INCOMPLETE"))

    limit = rules.unit_limit
    units = addon_units(billed, rules)
    if units > limit.max_units:
        findings.append(
            _finding(
                rules,
                "UNITS_EXCEEDED",
                units=units,
                max_units=limit.max_units,
                per=limit.per,
                source=limit.source,
                status=limit.status,
                mue_units=limit.mue_units if limit.mue_units is not None else "n/a",
                mue_per=limit.mue_per or "day",
                mue_source=limit.mue_source or "n/a",
                mue_status=limit.mue_status or "unconfirmed",
            )
        )
    return findings
