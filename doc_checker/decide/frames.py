"""Procedure frames: what was done, where, under what guidance, read the way a coder reads it.

A frame is one procedure the note says was performed at one target site: its action (inject,
aspirate, biopsy, localize, drain, place), the site (normalized anatomy, laterality, region),
the guidance modality, the needle and the contrast, each with its evidence. The site is taken
only from where a coder looks for it: sentences that place a needle or name the procedure (the
title, the 'Procedure:' line, the needle sentence). A generic word there ('into the joint', 'the
bursa', 'at this level') refers back to the site such a sentence named. Anatomy words anywhere
else (a letterhead, a signature block, the history, a prior-procedure list) never decide it.

The region of the note's target (spinal -> 77003, non-spinal -> 77002) is decided from the
frames; ambiguous or unknown regions, and frames that disagree, are reported for review.
No spaCy here: the input is the mentions the element step built.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from ..result import Evidence
from ..rules import Ruleset
from .mentions import Mention

SPINAL, NONSPINAL, AMBIGUOUS, GENERIC = (
    "SITE_SPINAL",
    "SITE_NONSPINAL",
    "SITE_AMBIGUOUS",
    "SITE_GENERIC",
)
SITE_LABELS = frozenset({SPINAL, NONSPINAL, AMBIGUOUS, GENERIC})
_LABEL_REGION = {SPINAL: "spinal", NONSPINAL: "non_spinal", AMBIGUOUS: "ambiguous"}
ANCHOR_LABELS = frozenset({"NEEDLE", "PROCEDURE", "CVAD"})
MODALITY_LABELS = {
    "FLUORO": "fluoroscopy",
    "CT_GUIDANCE": "ct",
    "US_GUIDANCE": "ultrasound",
    "MR_GUIDANCE": "mr",
}
MAX_FRAME_EVIDENCE = 20  # evidence passages listed per frame (a huge note lists its first 20)
_WORDS = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass
class Site:
    """Where a frame's needle went."""

    text: str
    normalized: str
    laterality: Optional[str]
    region: str  # spinal | non_spinal | ambiguous | unknown
    kind: Optional[str]
    evidence: Evidence
    why: str  # how the site and its region were found
    mention: Mention

    def to_dict(self) -> Dict[str, object]:
        return {
            "text": self.text,
            "normalized": self.normalized,
            "laterality": self.laterality,
            "region": self.region,
            "kind": self.kind,
            "evidence": self.evidence.to_dict(),
            "why": self.why,
        }


@dataclass
class Frame:
    """One procedure performed at one site."""

    action: Optional[str]
    site: Site
    guidance: Optional[str]  # modality: fluoroscopy | ct | ultrasound | mr | None
    guidance_status: str  # present | negated | hypothetical | historical | missing
    needle: Optional[Evidence]
    contrast: Optional[str]  # present | ... | missing
    evidence: List[Evidence] = field(default_factory=list)

    def to_dict(self) -> Dict[str, object]:
        return {
            "action": self.action,
            "site": self.site.to_dict(),
            "guidance": {"modality": self.guidance, "status": self.guidance_status},
            "needle": self.needle.to_dict() if self.needle else None,
            "contrast": self.contrast,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class FrameSet:
    """The note's frames and the region they decide."""

    frames: List[Frame]
    region: Optional[str]  # spinal | non_spinal | ambiguous | unknown | None (no target)
    spinal_mentions: List[Mention]
    site_mentions: List[Mention]  # the mentions that decided the region
    review: List[str]  # reasons the region needs a person (site_ambiguous, mixed_regions ...)


def _laterality(text: str, ruleset: Ruleset) -> Optional[str]:
    cfg = ruleset.frames
    if cfg is None:
        return None
    found = [side for side, rx in cfg.laterality if rx.search(text)]
    return found[0] if len(found) == 1 else ("bilateral" if len(found) > 1 else None)


def action_name(text: str, ruleset: Ruleset) -> Optional[str]:
    """The action a procedure mention names (inject, aspirate, biopsy ...), from frames.json."""
    return _action(text, ruleset)


def _action(text: str, ruleset: Ruleset) -> Optional[str]:
    cfg = ruleset.frames
    if cfg is None:
        return None
    for action, rx in cfg.actions:
        if rx.search(text):
            return action
    return None


def _without_side(words: str, ruleset: Ruleset) -> str:
    """'left hip joint' -> 'hip joint' (the laterality words of frames.json removed)."""
    cfg = ruleset.frames
    if cfg is None:
        return words
    for _, rx in cfg.laterality:
        words = rx.sub(" ", words)
    return " ".join(words.split())


def _generic_kind(text: str, ruleset: Ruleset) -> Optional[str]:
    cfg = ruleset.frames
    if cfg is None:
        return None
    for word in _WORDS.findall(text.lower()):
        kind = cfg.anaphora.get(word)
        if kind:
            return kind
    return None


def build_frames(
    mentions: Sequence[Mention],
    text: str,
    ruleset: Ruleset,
    anatomy_of: Dict[Tuple[int, int], int],
    span_evidence: Callable[[Mention], Evidence],
    sentence_evidence: Callable[[Mention], Evidence],
    field_neighbours: Callable[[Mention], List[int]],
    modality_status: Dict[str, str],
    contrast_status: str,
) -> FrameSet:
    """Frames from the note's mentions.

    ``anatomy_of`` maps a site mention's (start char, end char) to its anatomy entry;
    ``field_neighbours(m)`` gives the template field lines next to a needle field (their sites
    belong to it); ``modality_status`` is each modality's note-level status, used when a frame's
    own sentences name none.
    """
    anchors: Dict[int, List[Mention]] = {}  # sentence -> affirmed needle / procedure mentions
    for m in mentions:
        if m.label in ANCHOR_LABELS and m.reason is None:
            anchors.setdefault(m.sent, []).append(m)
    sites = [m for m in mentions if m.label in SITE_LABELS and m.reason is None]
    site_sents = {s.sent for s in sites}
    anchor_lines: Set[int] = set()
    for sent, ms in anchors.items():
        if sent not in site_sents:  # a needle field without its site: the fields beside it
            for m in ms:
                anchor_lines.update(field_neighbours(m))
    in_position = [s for s in sites if s.sent in anchors or s.line in anchor_lines]

    def site_of(m: Mention) -> Tuple[str, Optional[str], str, str]:
        """(normalized, kind, region, why) of a named site."""
        words = text[m.start : m.end]
        entry_id = anatomy_of.get((m.start, m.end))
        if entry_id is not None and entry_id < len(ruleset.anatomy):
            e = ruleset.anatomy[entry_id]
            why = f"anatomy: {e.normalized} ({e.region.replace('_', '-')}"
            why += f"; not the {e.false_friend_of})" if e.false_friend_of else ")"
            return e.normalized, e.kind, e.region, why
        region = _LABEL_REGION.get(m.label, "unknown")
        entry = ruleset.anatomy_by_name.get(_without_side(words.lower(), ruleset))
        if entry is not None and entry.region == region:
            return (
                entry.normalized,
                entry.kind,
                region,
                f"site rule and anatomy: {entry.normalized}",
            )
        return words.lower(), None, region, f"site rule: {m.label.lower()}"

    named = [
        s
        for s in in_position
        if s.label != GENERIC
        and not (s.label == AMBIGUOUS and _generic_kind(text[s.start : s.end], ruleset))
    ]
    by_kind: Dict[Optional[str], Tuple[List[int], List[Mention]]] = {}

    def referent(kind: Optional[str], at: int) -> Optional[Mention]:
        """The named site a generic word of ``kind`` stands for: the last one before it, else
        the first after it (one bisection: a huge note has thousands of generic words)."""
        found = by_kind.get(kind)
        if found is None:
            cands = [
                c
                for c in named
                if kind is None or kind == "lesion" or site_of(c)[1] in (kind, None)
            ]
            found = by_kind[kind] = ([c.start for c in cands], cands)
        starts, cands = found
        if not cands:
            return None
        i = bisect.bisect_left(starts, at)
        return cands[i - 1] if i else cands[0]

    frames: List[Frame] = []
    by_key: Dict[Tuple[str, Optional[str]], Frame] = {}
    evidence_starts: Dict[int, Set[int]] = {}  # id(frame) -> starts of its evidence passages
    decided: List[Mention] = []
    spinal_site_sents: Set[int] = set()  # sentences that name a spinal target
    needle_sents_of: Dict[int, Set[int]] = {}  # id(frame) -> sentences placing its needle
    for s in in_position:
        words = text[s.start : s.end]
        kind = _generic_kind(words, ruleset)
        # a generic word ('the joint'), or an ambiguous one that is also generic ('this level')
        if s.label == GENERIC or (s.label == AMBIGUOUS and kind is not None):
            # the nearest named site before it (the title, the 'Procedure:' line) of that kind
            ref = referent(kind, s.start)
            if ref is not None and ref is not s:
                normalized, k, region, why = site_of(ref)
                why = f"'{words}' refers to '{text[ref.start : ref.end]}': {why}"
                site_mention = ref
            elif s.label == AMBIGUOUS:
                normalized, k, region, why = site_of(s)
                site_mention = s
            else:
                normalized, k, region, why = words.lower(), kind, "unknown", "generic target"
                site_mention = s
        else:
            normalized, k, region, why = site_of(s)
            site_mention = s
        sentence = anchors.get(s.sent, [])
        lat = _laterality(text[max(0, site_mention.start - 12) : site_mention.end], ruleset)
        key = (normalized, lat)
        frame = by_key.get(key)
        needle = next((a for a in sentence if a.label == "NEEDLE"), None)
        proc = next((a for a in sentence if a.label in ("PROCEDURE", "CVAD")), None)
        if frame is None:
            frame = Frame(
                action=_action(text[proc.start : proc.end], ruleset) if proc else None,
                site=Site(
                    text=text[site_mention.start : site_mention.end],
                    normalized=normalized,
                    laterality=lat,
                    region=region,
                    kind=k,
                    evidence=span_evidence(site_mention),
                    why=why,
                    mention=site_mention,
                ),
                guidance=None,
                guidance_status="missing",
                needle=None,
                contrast=contrast_status,
            )
            by_key[key] = frame
            frames.append(frame)
        elif frame.site.region in ("ambiguous", "unknown") and region in ("spinal", "non_spinal"):
            # 'R SI jt' in the title, 'SI joint' in the needle sentence: the specific word decides
            frame.site.region, frame.site.why = region, why
            frame.site.text = text[site_mention.start : site_mention.end]
            frame.site.evidence, frame.site.mention = span_evidence(site_mention), site_mention
        if frame.action is None and proc is not None:
            frame.action = _action(text[proc.start : proc.end], ruleset)
        if frame.needle is None and needle is not None:
            frame.needle = span_evidence(needle)
        if region == "spinal":
            spinal_site_sents.add(s.sent)
        if needle is not None:
            needle_sents_of.setdefault(id(frame), set()).add(s.sent)
        anchor = needle or proc
        listed = evidence_starts.setdefault(id(frame), set())
        if anchor is not None and len(listed) < MAX_FRAME_EVIDENCE:
            ev = sentence_evidence(anchor)
            if ev.start not in listed:
                listed.add(ev.start)
                frame.evidence.append(ev)
        decided.append(site_mention)
    # a frame whose sentences name no action takes the nearest procedure the note performed
    performed = [m for m in mentions if m.label == "PROCEDURE" and m.reason is None]
    performed_starts = [m.start for m in performed]
    for frame in frames:
        if frame.action is None and performed:
            at = frame.site.mention.start
            i = bisect.bisect_left(performed_starts, at)
            near = [performed[j] for j in (i - 1, i) if 0 <= j < len(performed)]
            nearest = min(near, key=lambda p: abs(p.start - at))
            frame.action = _action(text[nearest.start : nearest.end], ruleset)
    # guidance: the modality the note documents for the needle (one note, one encounter)
    modality, status = None, "missing"
    for label, name in MODALITY_LABELS.items():
        st = modality_status.get(label)
        if st == "present":
            modality, status = name, st
            break
        if st and status == "missing":
            modality, status = name, st
    for frame in frames:
        frame.guidance, frame.guidance_status = modality, status

    spinal_all = [s for s in sites if s.label == SPINAL]
    regions = {f.site.region for f in frames}
    review: List[str] = []
    note_region: Optional[str] = None
    if frames:
        for candidate in ("spinal", "non_spinal", "ambiguous", "unknown"):
            if candidate in regions:
                note_region = candidate
                break
        if {"spinal", "non_spinal"} <= regions:
            review.append("mixed_regions")
            # two procedures in one session (an epidural, then a hip injection): a needle
            # placed at a non-spinal target in a sentence that names no spinal one supports
            # 77002 on its own; a non-spinal word beside the spinal target in the same sentence
            # ('through the trapezius') does not
            if any(
                f.site.region == "non_spinal"
                and needle_sents_of.get(id(f), set()) - spinal_site_sents
                for f in frames
            ):
                note_region = "non_spinal"
        if note_region in ("ambiguous", "unknown"):
            review.append(f"site_{note_region}")
    elif spinal_all:
        # no site where a needle or procedure is named, but a spinal target in a procedural
        # part of the note ('L4-5 TFESI' title the rules did not read as a procedure)
        note_region = "spinal"
        decided = spinal_all
        review.append("site_outside_procedure")
    return FrameSet(frames, note_region, spinal_all, decided, review)
