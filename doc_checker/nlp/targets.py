"""Target matching in layers (spaCy component; rules in medspaCy's TargetRule JSON format).

Each rule file in ``patterns/targets/`` is a layer (guidance, needle, site, procedure, ...).
Overlapping matches are pruned longest-first *within* a layer only, so 'spinal needle' beats
'spinal' among sites while 'hip joint' (site) and 'hip joint injection' (procedure) coexist.
Of matches on exactly the same tokens, the rule added first to the layer wins, with its label and
metadata (anatomy.json's entries lead the site layer; the listed deviation 'first-listed-wins').
Matches go to span groups (plain data on the Doc): ``dc_targets`` for mentions ConText reads,
``dc_cues`` for helper words (confirmation cues) it must not modify (see :mod:`.spangroups`).
"""

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc

from ..rules import TargetRule, validate
from ._serialize import Lines, RuleSerializer
from ._spangroups import Bounds, set_group
from .matcher import FastMatcher, longest_first

TARGET_GROUP = "dc_targets"
# (start token, end token) of a site mention -> index into ruleset.anatomy (plain data on the Doc)
ANATOMY_KEY = "dc_anatomy"
NOT_A_TARGET = "SITE_NOT_TARGET"
CUE_GROUP = "dc_cues"
CUE_LAYERS = frozenset({"cue"})


def lexicon_variants(
    layers: Mapping[str, List[TargetRule]], lexicon: List[Dict[str, Any]], tokenizer: Any
) -> Dict[str, List[TargetRule]]:
    """Rules for abbreviations: for every rule whose literal contains a lexicon long form as
    whole words, a token-pattern rule with the abbreviation in its place (same category)."""
    out: Dict[str, List[TargetRule]] = {}
    entries = [
        (entry, re.compile(r"(?<![\w-])" + re.escape(entry["long"]) + r"(?![\w-])", re.IGNORECASE))
        for entry in lexicon
    ]
    for layer, rules in layers.items():
        seen = {r.literal.lower() for r in rules}
        added: List[TargetRule] = []
        for rule in rules:
            literal = rule.literal
            for entry, long_re in entries:
                m = long_re.search(literal)
                if not m:
                    continue
                new = literal[: m.start()] + entry["abbr"] + literal[m.end() :]
                if new.lower() in seen:
                    continue
                seen.add(new.lower())
                abbr_span = (m.start(), m.start() + len(entry["abbr"]))
                pattern = []
                for tok in tokenizer(new):
                    if tok.text == "-":
                        pattern.append({"ORTH": "-", "OP": "?"})
                    elif abbr_span[0] <= tok.idx < abbr_span[1] and entry.get("case_sensitive"):
                        pattern.append({"TEXT": tok.text})
                    else:
                        pattern.append({"LOWER": tok.text.lower()})
                added.append(
                    TargetRule(
                        literal=new,
                        category=rule.category,
                        pattern=pattern,
                        metadata={"abbreviation_of": literal, **_anatomy_id(rule)},
                    )
                )
        out[layer] = list(rules) + added
    return out


def _anatomy_id(rule: TargetRule) -> Dict[str, Any]:
    meta = rule.metadata or {}
    return {"anatomy_id": meta["anatomy_id"]} if "anatomy_id" in meta else {}


class TargetLayers(RuleSerializer):
    """All layers in one matcher; overlaps pruned per layer; results in span groups. Built from
    rule objects, each added to a layer (:meth:`add_patterns`); saves them with their layers."""

    def __init__(self, nlp: Language, name: str = "doc_checker_targets") -> None:
        self.nlp = nlp
        self.name = name
        self.matcher = FastMatcher(nlp)
        self.rules: List[TargetRule] = []
        self.labels: List[str] = []
        self.layer_of: List[str] = []
        self.anatomy_of: Dict[int, int] = {}  # rule key -> index into ruleset.anatomy

    def add_patterns(self, rules: Iterable[TargetRule], *, layer: str) -> None:
        """Add target rules to ``layer`` (converted to the matcher's form here, once). Overlaps
        are pruned within a layer only; layer 'cue' goes to the cue group."""
        for r in rules:
            key = len(self.labels)
            self.rules.append(r)
            self.labels.append(r.category)
            self.layer_of.append(layer)
            anatomy_id = (r.metadata or {}).get("anatomy_id")
            if anatomy_id is not None:
                self.anatomy_of[key] = anatomy_id
            pattern = r.pattern
            if isinstance(pattern, list):
                self.matcher.add_pattern(key, pattern, where=f"{layer} rule {r.literal!r}")
            elif isinstance(pattern, str):
                self.matcher.add_regex(key, pattern)
            else:
                self.matcher.add_literal(key, r.literal)

    def clear(self) -> None:
        """Remove every rule."""
        self.matcher = FastMatcher(self.nlp)
        self.rules, self.labels, self.layer_of = [], [], []
        self.anatomy_of = {}

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def layers(self) -> Dict[str, List[TargetRule]]:
        """The rules by layer, in the order they were added."""
        out: Dict[str, List[TargetRule]] = {}
        for layer, rule in zip(self.layer_of, self.rules, strict=True):
            out.setdefault(layer, []).append(rule)
        return out

    def __call__(self, doc: Doc) -> Doc:
        by_layer: Dict[str, List[Tuple[int, int, int]]] = {}
        for match in self.matcher(doc):
            by_layer.setdefault(self.layer_of[match[0]], []).append(match)
        targets: Bounds = []
        cues: Bounds = []
        labels = self.labels
        anatomy: Dict[Tuple[int, int], int] = {}
        for layer, matches in by_layer.items():
            sink = cues if layer in CUE_LAYERS else targets
            for key, start, end in longest_first(matches):
                label = labels[key]
                if label == NOT_A_TARGET:  # 'spinal needle', 'T1-weighted': blocks, names nothing
                    continue
                sink.append((start, end, label))
                if key in self.anatomy_of:
                    anatomy[(start, end)] = self.anatomy_of[key]
        doc.user_data[ANATOMY_KEY] = anatomy
        set_group(doc, TARGET_GROUP, targets)
        set_group(doc, CUE_GROUP, cues)
        return doc

    # serialization: one JSONL line per rule, its layer beside its keys ----------------------
    def _rule_lines(self) -> Lines:
        return [
            {"layer": layer, **r.to_dict()}
            for layer, r in zip(self.layer_of, self.rules, strict=True)
        ]

    def _restore(
        self, lines: Optional[Lines], settings: Optional[Dict[str, Any]], source: str
    ) -> None:
        if lines is None:
            return
        layered = [
            (line.get("layer"), {k: v for k, v in line.items() if k != "layer"}) for line in lines
        ]
        for layer, rules in _by_layer(layered).items():
            validate("targets", {"layer": layer, "target_rules": rules}, source)
        self.clear()
        for layer, rule in layered:
            self.add_patterns([TargetRule.from_dict(rule)], layer=str(layer))


def _by_layer(layered: List[Tuple[Any, Dict[str, Any]]]) -> Dict[Any, List[Dict[str, Any]]]:
    out: Dict[Any, List[Dict[str, Any]]] = {}
    for layer, rule in layered:
        out.setdefault(layer, []).append(rule)
    return out
