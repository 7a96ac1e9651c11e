"""Later statements that override earlier ones: corrections and template defaults.

A note is written in layers: a template fills 'Under fluoroscopic guidance ...' or 'Guidance:
Fluoroscopy' by default, the operator then dictates what happened, and an addendum may correct
either. A coder reads the last word on each fact, so:

- a statement in an **addendum** that fluoroscopy was not used, or that another modality guided
  the needle, overrides every earlier affirmed fluoroscopy mention; one that no contrast was
  injected overrides earlier contrast mentions;
- a **needle sentence** saying the needle went in without fluoroscopy overrides earlier
  fluoroscopy statements (fluoroscopy used later in the note, e.g. for the contrast image, still
  shows fluoroscopy was used, not that it guided the needle);
- a fluoroscopy default in a **template field** ('Guidance: Fluoroscopy', '[x] Fluoroscopy')
  loses to a needle sentence in the body that names another modality.

Each overridden mention is ignored with its reason, and the note is flagged for review.
No spaCy here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Set

from .mentions import Mention

ADDENDUM = "addendum"
OTHER_MODALITIES = frozenset({"US_GUIDANCE", "CT_GUIDANCE", "MR_GUIDANCE"})


@dataclass
class Corrections:
    """Mentions a later statement overrides (by identity), and why the note needs review."""

    reasons: Dict[int, str] = field(default_factory=dict)  # id(mention) -> reason
    review: List[str] = field(default_factory=list)

    def reason(self, m: Mention) -> str | None:
        return self.reasons.get(id(m))


def find_corrections(
    mentions: Sequence[Mention],
    needle_sents: Set[int],
    is_field_line: Callable[[int], bool],
    action_of: Callable[[Mention], Optional[str]] = lambda m: None,
    names_procedure: Callable[[int], bool] = lambda sent: False,
) -> Corrections:
    """``action_of(m)``: the action a procedure mention names (inject, aspirate ...);
    ``names_procedure(sent)``: the sentence names a procedure ('the procedure', 'the case')."""
    out = Corrections()
    _not_performed(out, mentions, action_of, names_procedure)
    fluoro = [m for m in mentions if m.label == "FLUORO"]
    affirmed_fluoro = [m for m in fluoro if m.reason is None]
    if affirmed_fluoro:
        points = [  # where the note says fluoroscopy did not guide the needle
            m
            for m in fluoro
            if m.reason == "negated" and (m.section == ADDENDUM or m.sent in needle_sents)
        ]
        points += [
            m
            for m in mentions
            if m.label in OTHER_MODALITIES and m.reason is None and m.section == ADDENDUM
        ]
        if points:
            last = max(p.start for p in points)
            point_sents = {p.sent for p in points}
            # 'No fluoroscopy was used' takes back every use; 'not used during needle placement'
            # (a needle in the sentence) only its use for the needle: it may have been used later
            absolute = any(p.sent not in needle_sents for p in points if p.label == "FLUORO")
            for m in affirmed_fluoro:
                if m.start < last and m.sent not in point_sents:
                    out.reasons[id(m)] = "corrected" if absolute else "not_for_needle"
            if out.reasons:
                from_addendum = any(p.section == ADDENDUM for p in points)
                out.review.append(
                    "addendum_correction" if from_addendum else "conflicting_guidance"
                )
        else:
            # a template default ('Guidance: Fluoroscopy', '[x] Fluoroscopy') loses to prose that
            # names another modality, says fluoroscopy was not used, or names no imaging
            defaults = [m for m in affirmed_fluoro if is_field_line(m.line)]
            prose = [
                m
                for m in mentions
                if not is_field_line(m.line)
                and (
                    (m.label in OTHER_MODALITIES | {"NO_IMAGING"} and m.reason is None)
                    or (m.label == "FLUORO" and m.reason == "negated")
                )
            ]
            if prose and defaults and len(defaults) == len(affirmed_fluoro):
                for m in defaults:
                    out.reasons[id(m)] = "template_default"
                out.review.append("template_default")
    contrast = [m for m in mentions if m.label == "CONTRAST"]
    affirmed_contrast = [m for m in contrast if m.reason is None]
    contrast_defaults = [m for m in affirmed_contrast if is_field_line(m.line)]
    if (
        contrast_defaults
        and len(contrast_defaults) == len(affirmed_contrast)
        and any(m.reason == "negated" and not is_field_line(m.line) for m in contrast)
    ):
        # 'CONTRAST: Omnipaque 300 ___ mL' filled by the template, 'No contrast was used' dictated
        for m in contrast_defaults:
            out.reasons[id(m)] = "template_default"
        if "template_default" not in out.review:
            out.review.append("template_default")
    _device_purpose(out, mentions, needle_sents)
    negated_later = [m for m in contrast if m.reason == "negated" and m.section == ADDENDUM]
    if negated_later:
        last = max(m.start for m in negated_later)
        hit = False
        for m in contrast:
            if m.reason is None and m.start < last and m.section != ADDENDUM:
                out.reasons[id(m)] = "corrected"
                hit = True
        if hit and "addendum_correction" not in out.review:
            out.review.append("addendum_correction")
    return out


def _no_needle_at_all(out: Corrections, mentions: Sequence[Mention]) -> None:
    """Fluoroscopy in a note that places no needle and performs no needle procedure (an
    operation's fluoroscopy time, a tube check) guided no needle: what 77002/77003 pay for is
    not there, so none of its fluoroscopy is needle guidance."""
    if any(m.label in ("PROCEDURE", "CVAD", "NEEDLE") and m.reason is None for m in mentions):
        return
    _fluoroscopy_guided_nothing(out, mentions, "no_needle")


def _fluoroscopy_guided_nothing(out: Corrections, mentions: Sequence[Mention], why: str) -> None:
    for m in mentions:
        if m.label == "FLUORO" and m.reason is None:
            out.reasons[id(m)] = why


def _not_performed(
    out: Corrections,
    mentions: Sequence[Mention],
    action_of: Callable[[Mention], Optional[str]],
    names_procedure: Callable[[int], bool],
) -> None:
    """A procedure aborted, cancelled or declined was not performed here: the one its sentence
    names (every procedure, when the sentence names it only generically: 'the procedure was
    aborted'). In a guidance-only report (the procedure documented in another clinician's
    note) no procedure is this note's."""
    stops = [m for m in mentions if m.label == "NOT_PERFORMED" and m.reason is None]
    _no_needle_at_all(out, mentions)
    # 'will be documented in the clinic note', 'subsequent management per the procedure note':
    # a deferral said of the future still puts the procedure in another note
    elsewhere = any(
        m.label == "PROCEDURE_ELSEWHERE" and m.reason in (None, "hypothetical") for m in mentions
    )
    if not stops and not elsewhere:
        return
    every_mention = [m for m in mentions if m.label == "PROCEDURE"]
    procedures = [m for m in every_mention if m.reason is None]
    by_sent: Dict[int, List[Mention]] = {}
    for m in every_mention:
        by_sent.setdefault(m.sent, []).append(m)
    actions: Set[Optional[str]] = set()
    every = elsewhere  # a guidance-only report: the procedure is another clinician's
    for stop in stops:
        # the procedure words of its sentence, negated ones too ('the injection was not performed')
        named = by_sent.get(stop.sent, [])
        if named:
            # the procedure the stop word is said of: the nearest before it ('the injection was
            # not performed given the purulent aspirate'), else the first after it
            before = [p for p in named if p.start < stop.start]
            subject = before[-1] if before else named[0]
            actions.add(action_of(subject))
        elif names_procedure(stop.sent):
            every = True
    hit = False
    for p in procedures:
        if every or action_of(p) in actions:
            out.reasons[id(p)] = "not_performed"
            hit = True
    performed = any(
        m.label in ("PROCEDURE", "CVAD", "NEEDLE") and m.reason is None and id(m) not in out.reasons
        for m in mentions
    )
    if stops and not elsewhere and not performed:
        # stopped before any needle and nothing else done ('Fluoroscopically guided hip injection
        # - cancelled, patient declined'): a fluoroscopic title names the plan, and no
        # fluoroscopy guided anything either
        _fluoroscopy_guided_nothing(out, mentions, "not_performed")
        hit = True
    if hit:
        out.review.append("procedure_not_performed")


def _device_purpose(out: Corrections, mentions: Sequence[Mention], needle_sents: Set[int]) -> None:
    """Fluoroscopy or contrast the note says served a device (the catheter tip, the drain's
    position, contrast through the drain: ConText's OTHER_PURPOSE) did not guide or confirm
    the needle.

    - Contrast so marked outside a needle sentence is not the needle's confirmation.
    - Fluoroscopy so marked in a needle sentence is still the needle's guidance ('under
      fluoroscopy the needle ... and the catheter tip checked'), unless another modality guided
      that needle ('fluoroscopy only to check the catheter; the needle was placed under
      ultrasound').
    - Fluoroscopy and contrast in a sentence describing a study through a device in place
      (DEVICE_STUDY: a drain injection, a tube check, a sinogram) and no needle served it.
    - When every needle sentence names another modality that guided it, the note's other
      fluoroscopy mentions ('final fluoroscopic image saved', a 'fluoroscopic' title) show the
      device check, not needle guidance.
    """
    # a contrast study through a device in place ('contrast injected through the existing
    # tube under fluoroscopy', a sinogram): its sentence's fluoroscopy and contrast watched the
    # device, unless the sentence also places a needle
    study_sents = {
        m.sent
        for m in mentions
        if m.label == "DEVICE_STUDY" and m.reason is None and m.sent not in needle_sents
    }
    for m in mentions:
        if m.label in ("FLUORO", "CONTRAST") and m.reason is None and m.sent in study_sents:
            out.reasons[id(m)] = "other_purpose"
    other_guided = {
        m.sent
        for m in mentions
        if m.label in OTHER_MODALITIES and m.reason is None and m.sent in needle_sents
    }
    for m in mentions:
        if m.reason is not None or id(m) in out.reasons or "OTHER_PURPOSE" not in m.modifiers:
            continue
        if (m.label == "CONTRAST" and m.sent not in needle_sents) or (
            m.label == "FLUORO" and m.sent in other_guided
        ):
            out.reasons[id(m)] = "other_purpose"
    device_fluoro = any(
        m.label == "FLUORO" and m.reason is None and "OTHER_PURPOSE" in m.modifiers
        for m in mentions
    )
    if device_fluoro and needle_sents and needle_sents <= other_guided:
        for m in mentions:
            if (
                m.label == "FLUORO"
                and m.reason is None
                and id(m) not in out.reasons
                and m.sent not in needle_sents
            ):
                out.reasons[id(m)] = "other_purpose"
