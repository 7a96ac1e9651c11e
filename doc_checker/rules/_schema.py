"""Validation of every rule file, in one place: the JSON Schemas in ``doc_checker/schema/rules/``
(one per kind of file) and, here, the checks a schema cannot express (regexes compile, element
names are the result contract's, header positions are usable, a profile requires something).

:func:`validate` raises :class:`RulesError` naming the file and the rule (its index and literal)
or entry, so a bad custom patterns directory fails before any note is processed. A schema can
give a failure its own wording with an ``x-message`` key beside the failing keyword
(``{name}``: the property, ``{instance!r}``: the value).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from ..errors import RulesError
from ..result import ELEMENTS

KINDS = (
    "targets",
    "context",
    "sections",
    "abbreviations",
    "elements",
    "ruleset",
    "profile",
)
# lists whose items are rules (named by index and literal) and objects whose keys name an entry
_RULE_LISTS = frozenset({"target_rules", "context_rules", "section_rules"})
_NAMED_ENTRIES = {"elements": "element", "findings": "finding"}
_CONTAINERS = _RULE_LISTS | set(_NAMED_ENTRIES) | {"section_effects", "abbreviations"}
_MAX_REPR = 120

Source = Union[str, Path]


def read_json(path: Path) -> Any:
    """A rule file's JSON; errors name the file (and the line of a syntax error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"{path}: rule file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read rule file ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def schema(kind: str) -> Dict[str, Any]:
    """The JSON Schema of one kind of rule file (``schema/rules/<kind>.schema.json``)."""
    return json.loads(_schema_text(kind))


@lru_cache(maxsize=None)
def _schema_text(kind: str) -> str:
    return (
        resources.files("doc_checker.schema")
        .joinpath("rules")
        .joinpath(f"{kind}.schema.json")
        .read_text(encoding="utf-8")
    )


@lru_cache(maxsize=None)
def _validator(kind: str) -> jsonschema.protocols.Validator:
    resources_ = [
        (s["$id"], Resource.from_contents(s)) for s in (schema(k) for k in ("common",) + KINDS)
    ]
    registry: Registry = Registry().with_resources(resources_)
    return jsonschema.Draft202012Validator(schema(kind), registry=registry)


def validate(kind: str, data: Any, source: Source) -> None:
    """Check one rule file's (or profile's) data; raise RulesError naming ``source`` and the
    first rule at fault."""
    errors = list(_validator(kind).iter_errors(data))
    if errors:
        raise RulesError(_describe(min(errors, key=_document_order), data, source))
    _CHECKS.get(kind, _no_check)(data, source)


# --------------------------------------------------------------------------------------------
# Schema errors as messages that name the rule
# --------------------------------------------------------------------------------------------


class _Short:
    """A value's repr, cut to a readable length (a rule's pattern can be long)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        text = repr(self.value)
        return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _document_order(error: ValidationError) -> List[Any]:
    """Errors sorted by where they are: the first rule at fault is reported; at one place, an
    unknown key first (a misspelt key also makes the one meant missing)."""
    where = [(0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path]
    return where + [(2, error.validator != "additionalProperties")]


def rule_name(i: int, rule: Any) -> str:
    """'rule 3 ('no')': how an error names a rule (its index and literal)."""
    if isinstance(rule, dict) and isinstance(rule.get("literal"), str):
        return f"rule {i} ({rule['literal']!r})"
    return f"rule {i}"


def _describe(error: ValidationError, data: Any, source: Source) -> str:
    where: List[str] = []  # the rule or entry at fault
    prop: List[str] = []  # the property inside it
    node: Any = data
    container: Optional[str] = None  # container: the key of a list or object of entries
    for key in error.absolute_path:
        node = node[key]
        if isinstance(key, int) and prop:  # an item of a property's list
            prop[-1] += f"[{key}]"
        elif isinstance(key, int):
            where.append(rule_name(key, node) if container in _RULE_LISTS else f"entry {key}")
            prop, container = [], None
        elif container is not None and container in _NAMED_ENTRIES:
            where.append(f"{_NAMED_ENTRIES[container]} {key!r}")
            container = None
        elif container == "section_effects":
            where.append(f"section_effects[{key!r}]")
            container = None
        elif not prop and key in _CONTAINERS:
            container = key
        else:
            prop.append(str(key))
            container = None
    name = ".".join(prop)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        top = "" if where or prop else "top-level "
        message = f"unknown {top}key(s) {unknown}; allowed: {allowed}"
    else:
        keyword_schema = error.schema.get(error.validator) if error.validator == "not" else None
        custom = (
            keyword_schema.get("x-message")
            if isinstance(keyword_schema, dict)
            else error.schema.get("x-message")
        )
        if custom:
            message = custom.format(name=name, instance=_Short(error.instance))
        else:
            message = f"{name}: {error.message}" if name else error.message
            if len(message) > 4 * _MAX_REPR:
                message = message[: 4 * _MAX_REPR - 3] + "..."
    return ": ".join([str(source), *where, message])


# --------------------------------------------------------------------------------------------
# What a schema cannot express
# --------------------------------------------------------------------------------------------


def _no_check(data: Any, source: Source) -> None:
    return None


def _regex(source: Source, where: str, regex: str, flags: int = 0) -> "re.Pattern[str]":
    try:
        return re.compile(regex, flags)
    except re.error as exc:
        raise RulesError(f"{source}: {where}: invalid regex: {exc}") from None


def check_pattern(source: Source, where: str, pattern: Any) -> None:
    """A rule's regex, or the REGEX values of its token pattern, compile."""
    if isinstance(pattern, str):
        _regex(source, where, pattern)
        return
    for tok in pattern or ():
        for value in tok.values():
            if isinstance(value, dict) and "REGEX" in value:
                try:
                    re.compile(value["REGEX"])
                except (re.error, TypeError) as exc:
                    raise RulesError(
                        f"{source}: {where}: invalid REGEX {value['REGEX']!r}: {exc}"
                    ) from None


def _check_rules(list_key: str) -> Callable[[Any, Source], None]:
    def check(data: Any, source: Source) -> None:
        for i, rule in enumerate(data[list_key]):
            check_pattern(source, rule_name(i, rule), rule.get("pattern"))

    return check


def _check_sections(data: Any, source: Source) -> None:
    _check_rules("section_rules")(data, source)
    for key in ("header_start", "header_after", "page_banner"):
        if data.get(key) is not None:
            _regex(source, key, data[key])
    banner = data.get("page_banner")
    if banner is not None and re.fullmatch(banner, "") is not None:
        raise RulesError(f"{source}: page_banner must not match an empty line")
    after = data.get("header_after")
    if after is not None and re.match(after, "") is not None:
        raise RulesError(
            f"{source}: header_after must not match the empty string "
            "(it marks what a header follows)"
        )


def _check_elements(data: Any, source: Source) -> None:
    elements: Mapping[str, Any] = data["elements"]
    missing = [e for e in ELEMENTS if e not in elements]
    if missing:
        raise RulesError(f"{source}: missing element definition(s) {missing}")
    _check_element_names(elements, source)
    _regex(source, "template_blank_regex", data.get("template_blank_regex", r"^\s*$"))


def _check_element_names(names: Sequence[str] | Mapping[str, Any], source: Source) -> None:
    for name in names:
        if name not in ELEMENTS:
            raise RulesError(f"{source}: unknown element {name!r}; known: {list(ELEMENTS)}")


def _check_profile(data: Any, source: Source) -> None:
    elements: Mapping[str, Any] = data["elements"]
    _check_element_names(elements, source)
    for name, spec in elements.items():
        required = spec.get("required", False)
        weight = spec.get("weight", 1 if required else 0)
        if weight != weight:  # NaN: Python's json reads it, a schema's minimum lets it through
            raise RulesError(
                f"{source}: element {name!r}: "
                f"'weight' must be a non-negative number, got {weight!r}"
            )
        if required and weight == 0:
            raise RulesError(
                f"{source}: element {name!r}: a required element needs a weight above 0"
            )
    if not any(spec.get("required", False) for spec in elements.values()):
        raise RulesError(f"{source}: a profile must require at least one element")


_CHECKS: Dict[str, Callable[[Any, Source], None]] = {
    "targets": _check_rules("target_rules"),
    "context": _check_rules("context_rules"),
    "sections": _check_sections,
    "elements": _check_elements,
    "profile": _check_profile,
}
