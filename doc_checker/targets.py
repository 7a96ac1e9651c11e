"""Target matching in layers (spaCy component over medspaCy's matcher and TargetRule).

Each rule file in ``patterns/targets/`` is a layer (guidance, needle, site, procedure, ...).
Overlapping matches are pruned longest-first *within* a layer only, so 'spinal needle' beats
'spinal' among sites while 'hip joint' (site) and 'hip joint injection' (procedure) coexist.
Matches go to span groups (plain data on the Doc): ``dc_targets`` for mentions ConText reads,
``dc_cues`` for helper words (confirmation cues) it must not modify.
"""

import re
from typing import Dict, List, Optional, Tuple

from medspacy.common.medspacy_matcher import MedspacyMatcher
from medspacy.target_matcher import TargetRule
from spacy.language import Language
from spacy.tokens import Doc, Span

from .rules import Ruleset, load_ruleset

TARGET_GROUP = "dc_targets"
CUE_GROUP = "dc_cues"
CUE_LAYERS = frozenset({"cue"})


def lexicon_variants(layers: Dict[str, List[dict]], lexicon: List[dict], tokenizer) -> Dict[str, List[dict]]:
    """Rules for abbreviations: for every rule whose literal contains a lexicon long form as
    whole words, a token-pattern rule with the abbreviation in its place (same category)."""
    out: Dict[str, List[dict]] = {}
    entries = [(entry, re.compile(r"(?<![\w-])" + re.escape(entry["long"]) + r"(?![\w-])", re.IGNORECASE))
               for entry in lexicon]
    for layer, rules in layers.items():
        seen = {r["literal"].lower() for r in rules}
        added: List[dict] = []
        for rule in rules:
            literal = rule["literal"]
            for entry, long_re in entries:
                m = long_re.search(literal)
                if not m:
                    continue
                new = literal[: m.start()] + entry["abbr"] + literal[m.end():]
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
                added.append({"literal": new, "category": rule["category"], "pattern": pattern,
                              "metadata": {"abbreviation_of": literal}})
        out[layer] = rules + added
    return out


def longest_first(matches: List[Tuple[int, int, int]]) -> List[Tuple[int, int, int]]:
    """Non-overlapping matches, longest first then leftmost (as spacy.util.filter_spans).
    medspaCy's own pruning compares neighbours pairwise and can keep a shorter match."""
    kept: List[Tuple[int, int, int]] = []
    taken: set = set()
    for match in sorted(matches, key=lambda m: (m[1] - m[2], m[1])):
        if any(i in taken for i in range(match[1], match[2])):
            continue
        kept.append(match)
        taken.update(range(match[1], match[2]))
    return sorted(kept, key=lambda m: m[1])


@Language.factory(
    "doc_checker_targets",
    assigns=["doc.spans"],
    default_config={"patterns_dir": None},
)
def make_target_layers(nlp: Language, name: str, *, patterns_dir: Optional[str]) -> "TargetLayers":
    return TargetLayers(nlp, name, ruleset=load_ruleset(patterns_dir))


class TargetLayers:
    """One medspaCy matcher per layer; results in span groups."""

    def __init__(self, nlp: Language, name: str = "doc_checker_targets", *, ruleset: Ruleset) -> None:
        self.name = name
        self.layer_of: Dict[str, str] = {}
        self.matchers: Dict[str, MedspacyMatcher] = {}
        layers = lexicon_variants(ruleset.target_layers, ruleset.abbreviations, nlp.tokenizer)
        for layer, rules in layers.items():
            matcher = MedspacyMatcher(nlp, name=f"{name}_{layer}", phrase_matcher_attr="LOWER", prune=False)
            matcher.add([TargetRule(literal=r["literal"], category=r["category"], pattern=r.get("pattern"),
                                    metadata=r.get("metadata")) for r in rules])
            self.matchers[layer] = matcher
            for r in rules:
                self.layer_of[r["category"]] = layer
        self._vocab = nlp.vocab

    def __call__(self, doc: Doc) -> Doc:
        targets: List[Span] = []
        cues: List[Span] = []
        strings = self._vocab.strings
        for layer, matcher in self.matchers.items():
            rule_map = matcher.rule_map
            sink = cues if layer in CUE_LAYERS else targets
            for match_id, start, end in longest_first(matcher(doc)):
                sink.append(Span(doc, start, end, label=rule_map[strings[match_id]].category))
        targets.sort(key=lambda s: (s.start, s.end))
        doc.spans[TARGET_GROUP] = targets
        doc.spans[CUE_GROUP] = cues
        return doc
