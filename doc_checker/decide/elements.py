"""What counts for each element: the only place that decides it.

Input: a processed Doc (targets, ConText modifiers, sections, sentences). Output: one
:class:`~doc_checker.result.ElementResult` per element and the facts the coding step needs.
A mention counts only when it is affirmed and about this procedure: not negated, hypothetical,
historical, family, in an allergy list, in a history/plan/indication section, or a template
blank. Each element is one function below; the words it reads are in ``patterns/``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import (
    AbstractSet,
    Callable,
    Dict,
    FrozenSet,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
)

import numpy as np
from spacy.attrs import IDX, LENGTH, SENT_START
from spacy.tokens import Doc

from ..nlp._layout import layout_of, note_text
from ..nlp._spangroups import group_bounds
from ..nlp.context import MODIFIERS_KEY, target_key
from ..nlp.sections import SECTION_GROUP
from ..nlp.targets import ANATOMY_KEY, CUE_GROUP, TARGET_GROUP
from ..result import ELEMENTS, ElementResult, Evidence, IgnoredMention
from ..rules import Ruleset
from .corrections import find_corrections
from .frames import AMBIGUOUS, SITE_LABELS, SPINAL, FrameSet, action_name, build_frames
from .mentions import Mention

EVIDENCE_MAX_CHARS = 300
MAX_LISTED = (
    50  # evidence passages / ignored mentions listed per element (a huge note lists its first 50)
)
# reasons a mention did not count -> the element status they explain (others: "missing")
REASON_STATUS = {"negated": "negated", "hypothetical": "hypothetical", "historical": "historical"}
REASON_ORDER = (
    "negated",
    "hypothetical",
    "historical",
    "family",
    "allergy",
    "template_blank",
    "indication_section",
    "excluded_section",
    "other_purpose",
    "corrected",
    "template_default",
    "not_performed",
    "no_target",
    "no_confirmation",
    "prepared_only",
    "spinal_site",
    "ambiguous_site",
    "empty_header",
)
_MODIFIER_REASON = {
    "NEGATED_EXISTENCE": "negated",
    "HYPOTHETICAL": "hypothetical",
    "HISTORICAL": "historical",
    "FAMILY": "family",
    "ALLERGY": "allergy",
}
_EFFECT_REASON = {
    "allergy": "allergy",
    "family": "family",
    "historical": "historical",
    "hypothetical": "hypothetical",
    "excluded": "excluded_section",
    "indication": "indication_section",
}
_WORD_RE = re.compile(r"[A-Za-z]{3,}")
# a line whose text runs on into the next one (a trailing comma, hyphen, conjunction, article)
_CONTINUES_RE = re.compile(
    r"(?:[,;:/&(\-]|\b(?:and|or|of|the|a|an|with|to|in|for|on|at|from|by|due|secondary))\s*$",
    re.IGNORECASE,
)
_NO_MODIFIERS: FrozenSet[str] = frozenset()


@dataclass
class NoteAnalysis:
    """Element results plus the facts coding needs (affirmed mentions by label)."""

    elements: Dict[str, ElementResult]
    affirmed: Dict[str, List[Mention]]
    site_class: Optional[str]  # "spinal" | "nonspinal" | None
    spinal_mentions: List[Mention]
    fluoro_used: List[Mention]  # affirmed fluoroscopy mentions of any purpose
    evidence: Callable[[Mention], Evidence]
    span_evidence: Callable[[Mention], Evidence]
    ct_mr_arthrogram: bool = (
        False  # the injection prepares a CT or MR arthrogram (claim-edit exception)
    )
    frames: Optional[FrameSet] = None  # the procedures performed, and the region they decide
    review: List[str] = field(default_factory=list)  # why a person should look (weak evidence)


class _Note:
    """Read-only view of a processed Doc as plain mentions, sentences, sections and lines."""

    def __init__(self, doc: Doc, ruleset: Ruleset) -> None:
        self.doc = doc
        self.text = note_text(doc)
        self.ruleset = ruleset
        self.layout = layout_of(doc)
        sent_starts, tok_start, tok_end = _token_offsets(doc)
        self.sent_bounds: List[Tuple[int, int]] = _sentence_bounds(
            sent_starts, tok_start, tok_end, len(self.text)
        )
        self._sent_starts = [b[0] for b in self.sent_bounds]
        # title start, title end, end, category
        self.sections: List[Tuple[int, int, int, str]] = []
        headers = group_bounds(doc, SECTION_GROUP)
        for i, (h0, h1, category) in enumerate(headers):
            end = tok_start[headers[i + 1][0]] if i + 1 < len(headers) else len(self.text)
            self.sections.append((tok_start[h0], tok_end[h1 - 1], end, category))
        self._section_starts = [s[0] for s in self.sections]
        # start, end, effect, content start
        self.effect_regions: List[Tuple[int, int, str, int]] = []
        for t0, t1, end, category in self.sections:
            effect = ruleset.section_effects.get(category)
            if effect:
                _, region_end = self.layout.region_after_header(t1)
                content = min(region_end, len(self.text)) - len(self.text[t1:region_end].lstrip())
                line_end = self.layout.line_at(t1).end
                if content < line_end:
                    # content on the header's own line: the section governs its first sentence,
                    # and no further than that line when the line reads as complete ('Dx: L hip
                    # OA, failed PT' then 'c-arm used for guidance.' is a new statement)
                    region_end = min(region_end, self.sent_bounds[self.sent_of(content)][1])
                    if not _CONTINUES_RE.search(self.text[content:line_end]):
                        region_end = min(region_end, line_end)
                self.effect_regions.append((t0, min(region_end, end), effect, content))
        self._effect_starts = [r[0] for r in self.effect_regions]
        self.modifiers: Dict[str, List[str]] = doc.user_data.get(MODIFIERS_KEY, {})
        spans = [
            (s, e, label, tok_start[s], tok_end[e - 1])
            for s, e, label in group_bounds(doc, TARGET_GROUP)
        ]
        starts = [sp[3] for sp in spans]
        sents = _index_at(self._sent_starts, starts)
        self.needle_sents: Set[int] = {
            sent for sent, sp in zip(sents, spans, strict=True) if sp[2] == "NEEDLE"
        }
        lines = _index_at(self.layout.line_starts, starts)
        self.mentions = [
            self._mention(*sp, sent, line)
            for sp, sent, line in zip(spans, sents, lines, strict=True)
        ]
        anatomy = doc.user_data.get(ANATOMY_KEY) or {}
        self.anatomy_of: Dict[Tuple[int, int], int] = {
            (tok_start[s], tok_end[e - 1]): i for (s, e), i in anatomy.items()
        }
        cues = group_bounds(doc, CUE_GROUP)
        cue_sents = _index_at(self._sent_starts, [tok_start[s] for s, _, _ in cues])
        # sentence -> the kinds of cue in it (CONFIRM_CUE, VOLUME_CUE, PREPARED_CUE)
        self.cue_sents: Dict[int, Set[str]] = {}
        for sent, (_, _, label) in zip(cue_sents, cues, strict=True):
            self.cue_sents.setdefault(sent, set()).add(label)

    def sent_of(self, char: int) -> int:
        return max(0, bisect.bisect_right(self._sent_starts, char) - 1)

    def section_of(self, char: int) -> Optional[str]:
        i = bisect.bisect_right(self._section_starts, char) - 1
        if i < 0:
            return None
        t0, t1, end, category = self.sections[i]
        return category if char < end else None

    def effect_of(self, char: int) -> Optional[str]:
        """The section effect at ``char``. Past the first sentence of a section's content, a
        sentence that places a needle is the procedure itself (one-line notes: 'Indication:
        pain. Under fluoroscopy a needle ...'), so no effect applies to it."""
        i = bisect.bisect_right(self._effect_starts, char) - 1  # regions are sorted, disjoint
        if i < 0:
            return None
        start, end, effect, content = self.effect_regions[i]
        if char >= end:
            return None
        sent = self.sent_of(char)
        if sent > self.sent_of(content) and sent in self.needle_sents:
            return None
        return effect

    def _mention(
        self, tok_start: int, tok_end: int, label: str, start: int, end: int, sent: int, line_i: int
    ) -> Mention:
        line = self.layout.lines[line_i]
        blank = False
        field_m = line.field
        if field_m is not None and start < line.start + field_m.end():
            rest = self.text[line.start + field_m.end() : line.end]
            blank = bool(self.ruleset.template_blank.match(rest))
        # most targets have no modifier: skip building their key
        mods = self.modifiers.get(target_key(tok_start, tok_end, label)) if self.modifiers else None
        effect = self.effect_of(start) if self.effect_regions else None
        m = Mention(
            label,
            start,
            end,
            sent,
            line_i,
            self.section_of(start),
            effect,
            frozenset(mods) if mods else _NO_MODIFIERS,
            blank,
        )
        m.reason = _reason(m)
        return m

    def is_template_field(self, line_index: int) -> bool:
        """A template field line with a short value ('Guidance: Fluoroscopy'), or a checkbox
        line: what a template fills by default, unlike a field that holds dictated prose."""
        layout = self.layout
        return (
            layout.lines[line_index].is_field_line
            and layout.value_words(line_index) <= TEMPLATE_VALUE_WORDS
        )

    def field_neighbours(self, m: Mention) -> List[int]:
        """Template field lines next to a needle field ('Needle: 22 g' beside 'Site: left hip
        joint'): their sites belong to it."""
        if m.label != "NEEDLE" or not self.layout.lines[m.line].is_field_line:
            return []
        lines = self.layout.lines
        return [
            i
            for i in range(max(0, m.line - 2), min(len(lines), m.line + 3))
            if lines[i].is_field_line
        ]

    # evidence ---------------------------------------------------------------------------
    def evidence(self, m: Mention) -> Evidence:
        """The sentence holding the mention (trimmed, at most EVIDENCE_MAX_CHARS around it)."""
        start, end = self.evidence_bounds(m)
        return Evidence(self.text[start:end], start, end, m.section)

    def evidence_bounds(self, m: Mention) -> Tuple[int, int]:
        """Where :meth:`evidence` starts and ends (without building it)."""
        s0, s1 = self.sent_bounds[m.sent]
        s0, s1 = min(s0, m.start), max(s1, m.end)
        i = bisect.bisect_right(self._section_starts, m.start) - 1
        if i >= 0 and s0 <= self.sections[i][0] and self.sections[i][1] <= m.start:
            s0 = self.sections[i][1]  # drop a heading ('PROCEDURE:') that opens the sentence
        if s1 - s0 > EVIDENCE_MAX_CHARS:
            pad = max(0, (EVIDENCE_MAX_CHARS - (m.end - m.start)) // 2)
            s0, s1 = max(s0, m.start - pad), min(s1, m.end + pad)
        return self.trimmed(s0, s1)

    def span_evidence(self, m: Mention) -> Evidence:
        return self.span(m.start, m.end, m.section)

    def span(self, start: int, end: int, section: Optional[str]) -> Evidence:
        start, end = self.trimmed(start, end)
        return Evidence(self.text[start:end], start, end, section)

    def trimmed(self, start: int, end: int) -> Tuple[int, int]:
        """``start:end`` without the whitespace at either end."""
        text = self.text
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end


def _index_at(starts: List[int], chars: List[int]) -> List[int]:
    """For each char offset, the index of the region (sentence, line) holding it: the last of
    the sorted ``starts`` at or before it, 0 before the first. (As one bisect per mention, but
    in one numpy call: a note has about a hundred mentions.)"""
    if not chars:
        return []
    return np.maximum(np.searchsorted(starts, chars, side="right") - 1, 0).tolist()


def _token_offsets(doc: Doc) -> Tuple[List[int], List[int], List[int]]:
    """The sentence-start tokens, and each token's start and end char (spaCy's Span.start_char
    and end_char of a span are its first token's start and its last token's end)."""
    if not len(doc):
        return [], [], []
    arr = doc.to_array([SENT_START, IDX, LENGTH]).astype(np.int64)
    idx = arr[:, 1]
    return np.flatnonzero(arr[:, 0] == 1).tolist(), idx.tolist(), (idx + arr[:, 2]).tolist()


def _sentence_bounds(
    starts: List[int], tok_start: List[int], tok_end: List[int], n_chars: int
) -> List[Tuple[int, int]]:
    """(start char, end char) of each sentence: from sentence-start tokens to the next start,
    whitespace after the last token excluded (as spaCy's Span.end_char)."""
    if not tok_start:
        return [(0, n_chars)]
    if not starts or starts[0] != 0:
        starts = [0] + starts
    bounds = starts + [len(tok_start)]
    return [(tok_start[a], tok_end[b - 1]) for a, b in pairwise(bounds)]


def _reason(m: Mention, *, indication: bool = False) -> Optional[str]:
    """Why a mention does not document this procedure, or None when it counts."""
    if m.modifiers:
        for category, reason in _MODIFIER_REASON.items():
            if category in m.modifiers and not (indication and reason == "historical"):
                return reason
    if m.effect is not None:
        reason = _EFFECT_REASON[m.effect]
        if not (indication and reason == "indication_section"):
            return reason
    if m.template_blank:
        return "template_blank"
    return None


def _first_reason(reasons: Sequence[str]) -> str:
    return min(
        reasons, key=lambda r: REASON_ORDER.index(r) if r in REASON_ORDER else len(REASON_ORDER)
    )


def _result(
    note: _Note,
    required: bool,
    counted: List[Mention],
    ignored: List[Tuple[Mention, str]],
    evidence: Optional[List[Evidence]] = None,
    span_only: bool = False,
) -> ElementResult:
    if counted or evidence:
        ev = evidence if evidence is not None else []
        # one evidence per passage: a passage overlapping one listed already is skipped
        listed = sorted((e.start, e.end) for e in ev)
        starts, ends = [s for s, _ in listed], [e for _, e in listed]
        for m in counted:
            if len(ev) >= MAX_LISTED:
                break
            start, end = note.trimmed(m.start, m.end) if span_only else note.evidence_bounds(m)
            i = bisect.bisect_left(starts, end)  # the listed passages starting before this one ends
            if i and max(ends[:i]) > start:
                continue
            ev.append(Evidence(note.text[start:end], start, end, m.section))
            j = bisect.bisect_left(starts, start)
            starts.insert(j, start)
            ends.insert(j, end)
        status = "present"
    else:
        ev = []
        status = (
            REASON_STATUS.get(_first_reason([r for _, r in ignored]), "missing")
            if ignored
            else "missing"
        )
    ign: List[IgnoredMention] = []
    seen_ign: Set[Tuple[int, int]] = set()
    for m, reason in ignored:
        if len(ign) >= MAX_LISTED:
            break
        if (m.start, m.end) in seen_ign:
            continue
        seen_ign.add((m.start, m.end))
        e = note.span_evidence(m)
        ign.append(IgnoredMention(e.text, e.start, e.end, e.section, reason))
    return ElementResult(status=status, required=required, evidence=ev, ignored=ign)


def _split(
    mentions: List[Mention], labels: FrozenSet[str], indication: bool = False
) -> Tuple[List[Mention], List[Tuple[Mention, str]]]:
    counted, ignored = [], []
    for m in mentions:
        if m.label in labels:
            r = _reason(m, indication=True) if indication else m.reason
            (ignored.append((m, r)) if r else counted.append(m))
    return counted, ignored


_NO_CUES: FrozenSet[str] = frozenset()
# beside a PREPARED_CUE, these do not show the contrast went in (INJECT_CUE, or a cue of a rule
# set that names it otherwise, does)
_QUALIFIED_CUES = frozenset({"VOLUME_CUE", "PREPARED_CUE", "CONFIRM_CUE"})


def _contrast_cue_reason(cues: AbstractSet[str]) -> Optional[str]:
    """Why a contrast mention with these cues in its sentence confirms nothing (None: it
    confirms). Any cue confirms ('2 mL Omnipaque 300', 'contrast confirmed the position'),
    unless the sentence only makes the contrast ready or lists it ('drawn up', 'on the tray',
    'Supplies: ... Omnipaque 300 10 mL vial', 'contrast was available; aspiration confirmed
    the position'): then only a word saying it went in ('injected', 'outlined') does."""
    if not cues:
        return "no_confirmation"
    if "PREPARED_CUE" not in cues:
        return None
    return None if cues - _QUALIFIED_CUES else "prepared_only"


KEY_TERM_LABELS = frozenset({"FLUORO", "CONTRAST", "NEEDLE", "PROCEDURE"})
OTHER_GUIDANCE = frozenset({"US_GUIDANCE", "CT_GUIDANCE", "MR_GUIDANCE"})
TEMPLATE_VALUE_WORDS = 6  # a field value this short is a template's pick, not dictated prose
OCR_NOISE_JOINS = 3  # words rejoined across OCR line breaks before a note reads as noisy


def _weak_evidence(
    note: "_Note", mentions: List[Mention], results: Dict[str, ElementResult]
) -> List[str]:
    """Review reasons the element evidence itself gives: a key term read only by the fuzzy
    fallback, fluoroscopy documented only in template fields, two modalities for the needle,
    heavy OCR debris."""
    reasons: List[str] = []
    text = note.text
    spelling = note.ruleset.spelling
    counted = [m for m in mentions if m.reason is None]
    if spelling is not None and any(
        spelling.is_fuzzy(w.lower())
        for m in counted
        if m.label in KEY_TERM_LABELS
        for w in text[m.start : m.end].split()
    ):
        reasons.append("respelled_key_term")
    guidance = results["fluoroscopic_guidance"]
    fluoro = [m for m in counted if m.label == "FLUORO"]
    layout = note.layout
    if guidance.present and fluoro and all(layout.is_filled_field(m.line) for m in fluoro):
        reasons.append("guidance_template_only")
    needle_sents = {m.sent for m in counted if m.label == "NEEDLE"}
    if guidance.present and any(
        m.label in OTHER_GUIDANCE and m.sent in needle_sents for m in counted
    ):
        reasons.append("conflicting_modalities")
    if text.count("-\n") >= OCR_NOISE_JOINS:
        reasons.append("ocr_noise")
    return reasons


def analyze(doc: Doc, ruleset: Ruleset, required: Dict[str, bool]) -> NoteAnalysis:
    """Decide every element for one processed note."""
    note = _Note(doc, ruleset)
    mentions = note.mentions
    results: Dict[str, ElementResult] = {}

    # fluoroscopic guidance: affirmed fluoroscopy that guided the needle --------------------
    needle_sents = {m.sent for m in mentions if m.label == "NEEDLE" and m.reason is None}
    frames_cfg = ruleset.frames
    noun_re = frames_cfg.procedure_nouns if frames_cfg is not None else None
    corrections = find_corrections(
        mentions,
        needle_sents,
        note.is_template_field,
        action_of=lambda m: action_name(note.text[m.start : m.end], ruleset),
        names_procedure=lambda sent: bool(
            noun_re and noun_re.search(note.text[slice(*note.sent_bounds[sent])])
        ),
    )
    fl_counted, fl_ignored = [], []
    for m in mentions:
        if m.label != "FLUORO":
            continue
        r = m.reason or corrections.reason(m)
        if r == "not_for_needle":
            # used (the contrast image), not to guide the needle; in a needle sentence the
            # statement is overridden outright
            r = "other_purpose" if m.sent not in needle_sents else "corrected"
        if r is None and "OTHER_PURPOSE" in m.modifiers and m.sent not in needle_sents:
            r = "other_purpose"
        (fl_ignored.append((m, r)) if r else fl_counted.append(m))
    results["fluoroscopic_guidance"] = _result(
        note, required["fluoroscopic_guidance"], fl_counted, fl_ignored
    )

    # needle placement: a needle and its target in one sentence (or adjacent template fields) -
    needles, needle_ignored = _split(mentions, frozenset({"NEEDLE"}))
    sites, _ = _split(mentions, SITE_LABELS)
    sites_by_sent: Dict[int, List[Mention]] = {}
    sites_by_line: Dict[int, List[Mention]] = {}
    for s in sites:
        sites_by_sent.setdefault(s.sent, []).append(s)
        sites_by_line.setdefault(s.line, []).append(s)
    paired_needles: List[Mention] = []
    needle_sites: List[Mention] = []
    for n in needles:
        targets = list(sites_by_sent.get(n.sent, []))
        line = note.layout.lines[n.line]
        if not targets and line.is_field_line:
            # template: 'Needle: 22 g spinal' next to 'Site: left hip joint'
            for line_i in range(n.line - 2, n.line + 3):
                for s in sites_by_line.get(line_i, ()):
                    if note.layout.lines[s.line].is_field_line:
                        targets.append(s)
        if targets:
            paired_needles.append(n)
            needle_sites.extend(targets)
        else:
            needle_ignored.append((n, "no_target"))
    results["needle_placement"] = _result(
        note, required["needle_placement"], paired_needles, needle_ignored
    )

    # contrast confirmation: contrast injected now, confirming the position -----------------
    ct_counted, ct_ignored = [], []
    for m in mentions:
        if m.label != "CONTRAST":
            continue
        r = m.reason or corrections.reason(m)
        if r is None:
            line = note.layout.lines[m.line]
            field = line.field
            in_field = field is not None and "contrast" in field.group(1).lower()
            if not (m.section == "contrast" or in_field):
                r = _contrast_cue_reason(note.cue_sents.get(m.sent, _NO_CUES))
        (ct_ignored.append((m, r)) if r else ct_counted.append(m))
    results["contrast_confirmation"] = _result(
        note, required["contrast_confirmation"], ct_counted, ct_ignored
    )

    # primary procedure: performed, not planned or past -------------------------------------
    pr_counted, pr_ignored = [], []
    for m in mentions:
        if m.label in ("PROCEDURE", "CVAD"):
            r = m.reason or corrections.reason(m)
            (pr_ignored.append((m, r)) if r else pr_counted.append(m))
    results["primary_procedure"] = _result(
        note, required["primary_procedure"], pr_counted, pr_ignored
    )

    # indication: an Indication/History section with content, or a reason in the text ------
    ind_evidence: List[Evidence] = []
    ind_ignored: List[Tuple[Mention, str]] = []
    for t0, t1, end, category in note.sections:
        if ruleset.section_effects.get(category) != "indication":
            continue
        r0, r1 = note.layout.region_after_header(t1)
        r1 = min(r1, end)
        body = note.text[r0:r1]
        header = Mention(
            category,
            t0,
            t1,
            note.sent_of(t0),
            note.layout.line_index(t0),
            category,
            None,
            frozenset(),
        )
        if not body.strip():
            ind_ignored.append((header, "empty_header"))
        elif ruleset.template_blank.match(body) or not _WORD_RE.search(body):
            ind_ignored.append((header, "template_blank"))
        else:
            e = note.span(r0, min(r1, r0 + EVIDENCE_MAX_CHARS), category)
            ind_evidence.append(e)
    in_counted, in_ign = _split(mentions, frozenset({"INDICATION"}), indication=True)
    ind_ignored.extend(in_ign)
    results["indication"] = _result(
        note, required["indication"], in_counted, ind_ignored, evidence=ind_evidence or None
    )

    # recommended: radiation dose, images recorded ------------------------------------------
    d_counted, d_ignored = _split(mentions, frozenset({"DOSE"}))
    results["radiation_dose"] = _result(
        note, required["radiation_dose"], d_counted, d_ignored, span_only=True
    )
    im_counted, im_ignored = _split(mentions, frozenset({"IMAGES_RECORDED"}))
    results["images_recorded"] = _result(note, required["images_recorded"], im_counted, im_ignored)

    # procedure frames and the non-spinal site: where the needle went ----------------------
    affirmed_labels = {m.label for m in mentions if m.reason is None}
    modality_status: Dict[str, str] = {
        "FLUORO": results["fluoroscopic_guidance"].status,
        **{
            lab: "present"
            for lab in ("CT_GUIDANCE", "US_GUIDANCE", "MR_GUIDANCE")
            if lab in affirmed_labels
        },
    }
    frameset = build_frames(
        mentions,
        note.text,
        ruleset,
        note.anatomy_of,
        note.span_evidence,
        note.evidence,
        note.field_neighbours,
        modality_status,
        results["contrast_confirmation"].status,
    )
    if frameset.region in ("non_spinal", "unknown"):
        counted = [m for m in frameset.site_mentions if m.label != SPINAL]
        results["non_spinal_site"] = _result(
            note, required["non_spinal_site"], counted, [], span_only=True
        )
    else:
        ign = [(m, "spinal_site") for m in frameset.site_mentions if m.label == SPINAL]
        ign += [(m, "ambiguous_site") for m in frameset.site_mentions if m.label == AMBIGUOUS]
        results["non_spinal_site"] = _result(note, required["non_spinal_site"], [], ign)
    site_class = {"spinal": "spinal", "non_spinal": "nonspinal", "unknown": "nonspinal"}.get(
        frameset.region or ""
    )

    # facts for coding -----------------------------------------------------------------------
    affirmed: Dict[str, List[Mention]] = {}
    for m in mentions:
        if m.reason is None:
            affirmed.setdefault(m.label, []).append(m)
    fluoro_used = [m for m, r in fl_ignored if r == "other_purpose"] + fl_counted
    fluoro_used += [m for m in affirmed.get("FLUORO_NON_GUIDANCE", [])]
    fluoro_used += [
        m
        for m in d_counted
        if "fluoro" in note.text[m.start : m.end].lower()
        and not note.text[m.start : m.end].lower().startswith("ct")
    ]
    ordered = {name: results[name] for name in ELEMENTS}
    # a planned CT/MR arthrogram ('for subsequent MR arthrography') still names the later exam
    arthrogram = any(
        m.label == "CT_MR_ARTHROGRAM" and m.reason not in ("negated", "historical", "family")
        for m in mentions
    )
    review = corrections.review + frameset.review + _weak_evidence(note, mentions, results)
    return NoteAnalysis(
        ordered,
        affirmed,
        site_class,
        frameset.spinal_mentions,
        fluoro_used,
        note.evidence,
        note.span_evidence,
        ct_mr_arthrogram=arthrogram,
        frames=frameset,
        review=review,
    )
