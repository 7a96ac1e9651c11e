"""Label-preserving rewrites of procedure notes, for metamorphic invariance tests (issue 12).

Each rewrite is a pure function ``text -> text`` (seeded from the text itself where it picks at
random, so the same note always gets the same rewrite). A rewrite that has nothing to change in a
note returns the note unchanged; the caller then skips that note for that rewrite.

None of these changes what was done to the patient or what the note documents, so the checker's
verdict and suggested code must not change: ALL CAPS, CRLF line endings, OCR hyphen breaks, a
fax/page header in the middle of a sentence, dictation misspellings, a spine-clinic letterhead or
signature, abbreviations, bullets instead of prose, two sections swapped.

``run_invariance(checker, notes)`` checks every note and every applicable rewrite with one Checker
and reports, per rewrite, how many notes it applied to and how many kept verdict and code.
"""

from __future__ import annotations

import glob
import json
import random
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

PAGE_HEADER = "\nPage 2 of 3    Fax 555-0100    Printed 03/04/2024\n"
LETTERHEAD = "TRI-COUNTY SPINE & JOINT CENTER\n1420 Commerce Dr * Fax 555-0100\n"
SIGNATURE = "Electronically signed: A. Doe, MD, Director of Spine Surgery"


# helpers ------------------------------------------------------------------------------------------
def _rng(text: str, salt: str) -> random.Random:
    """A generator seeded by the note and the rewrite: the same note always gets the same pick."""
    return random.Random(zlib.crc32(f"{salt}\0{text}".encode("utf-8")))


def _match_case(original: str, replacement: str) -> str:
    """``replacement`` in the case of ``original`` (UPPER, Title or lower)."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _sub_cased(pattern: str, replacement: str, text: str) -> str:
    return re.sub(
        pattern, lambda m: _match_case(m.group(0), replacement), text, flags=re.IGNORECASE
    )


_HEADER = re.compile(r"(?m)^[ \t]*([A-Za-z][A-Za-z /&()\-]{1,40}):")
_PROC_HEADER = re.compile(r"procedure|technique|description|details|^proc\b", re.IGNORECASE)
_ACTION = re.compile(r"needle|inject|aspirat|advanced|placed|punctur", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)%][.!?])\s+(?=[A-Z0-9(])")
_NOT_THIS_VISIT = re.compile(r"previous|prior|history|past", re.IGNORECASE)


@dataclass
class _Section:
    header: str
    start: int  # the header line's first character
    body_start: int  # just after the header's colon
    end: int  # the next header line's first character, or the end of the text


def _sections(text: str) -> List[_Section]:
    heads = list(_HEADER.finditer(text))
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.append(_Section(m.group(1).strip(), m.start(), m.end(), end))
    return out


def _is_procedure_section(section: _Section) -> bool:
    return bool(_PROC_HEADER.search(section.header)) and not _NOT_THIS_VISIT.search(section.header)


def _procedure_span(text: str) -> Optional[Tuple[int, int]]:
    """Where the procedure's narrative is: the longest procedure/technique section that says what
    the needle did, else the longest blank-line paragraph that does. ``None`` when neither."""
    best: Optional[Tuple[int, int]] = None
    for s in _sections(text):
        body = text[s.body_start : s.end]
        if _is_procedure_section(s) and _ACTION.search(body):
            if best is None or s.end - s.body_start > best[1] - best[0]:
                best = (s.body_start, s.end)
    if best is not None:
        return best
    for m in re.finditer(r"(?s)(?:^|\n\s*\n)(.+?)(?=\n\s*\n|\Z)", text):
        if _ACTION.search(m.group(1)):
            if best is None or m.end(1) - m.start(1) > best[1] - best[0]:
                best = (m.start(1), m.end(1))
    return best


# the rewrites -------------------------------------------------------------------------------------
def all_caps(text: str) -> str:
    """The whole note in capitals, as some dictation systems and old RIS exports write it."""
    return text.upper()


def crlf(text: str) -> str:
    """Windows line endings."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


# key word -> where OCR hyphenates it at a line end
_HYPHEN_BREAKS = {
    "fluoroscopically": 6,
    "fluoroscopic": 6,
    "fluoroscopy": 6,
    "contrast": 3,
    "injection": 5,
    "injected": 2,
    "aspirated": 4,
    "aspiration": 4,
    "arthrogram": 6,
    "guidance": 4,
    "omnipaque": 4,
}


def ocr_hyphen_break(text: str) -> str:
    """Each key word present is hyphen-split across a line end once ("fluoro-\\nscopic"), as a
    faxed or scanned page reflows: the first occurrence in the procedure narrative (or the note)."""
    span = _procedure_span(text) or (0, len(text))
    cuts: List[Tuple[int, int]] = []  # (start of word, cut offset)
    for word, cut in _HYPHEN_BREAKS.items():
        pattern = re.compile(rf"\b{word}\b", re.IGNORECASE)
        m = pattern.search(text, span[0], span[1]) or pattern.search(text)
        if m and not any(s <= m.start() < s + 20 for s, _ in cuts):
            cuts.append((m.start(), cut))
    for start, cut in sorted(cuts, reverse=True):
        text = text[: start + cut] + "-\n" + text[start + cut :]
    return text


def page_header_mid_sentence(text: str) -> str:
    """A fax/page banner inside a sentence of the procedure narrative: at a line break that is
    mid-sentence when there is one, else at a space in the middle of the needle's sentence (or
    another naming a key word): the page broke there."""
    span = _procedure_span(text)
    if span is None:
        return text
    start, end = span
    breaks = [
        m.start()
        for m in re.finditer(r"(?<=[A-Za-z0-9,])[ \t]*\n(?=[ \t]*[a-z0-9(])", text[start:end])
    ]
    if breaks:
        i = start + _rng(text, "page").choice(breaks)
        j = text.index("\n", i)
        return text[:i] + PAGE_HEADER + text[j + 1 :]
    body = text[start:end]
    sentences = [s for s in re.finditer(r"[^.!?\n]+", body)]
    # the needle's sentence first, then any other naming a key word
    ranked = [s for s in sentences if re.search(r"needle", s.group(0), re.I)]
    ranked += [
        s
        for s in sentences
        if s not in ranked and re.search(r"fluoro|contrast|inject|aspirat", s.group(0), re.I)
    ]
    for sentence in ranked:
        spaces = [m.start() for m in re.finditer(r"(?<=[A-Za-z0-9,]) (?=[A-Za-z0-9])", body)]
        spaces = [s for s in spaces if sentence.start() < s < sentence.end()]
        if len(spaces) >= 4:
            i = start + spaces[len(spaces) // 2]
            return text[:i] + PAGE_HEADER + text[i + 1 :]
    return text


def misspellings(text: str) -> str:
    """Key words as dictation and typing misspell them: flouroscopy / fluroscopy, "C arm",
    omnipaq, neddle. A note misspells a word the same way throughout."""
    rng = _rng(text, "misspell")
    stem = rng.choice(["flouroscop", "fluroscop"])
    text = _sub_cased(r"\bfluoroscop(?=(?:y|ic|ically)\b)", stem, text)
    text = re.sub(r"\b([Cc])-(arm|ARM)\b", r"\1 \2", text)
    text = _sub_cased(r"\bomnipaque\b", "omnipaq", text)
    text = _sub_cased(r"\bneedle(?=s?\b)", "neddle", text)
    return text


def letterhead_spine(text: str) -> str:
    """A spine clinic's letterhead above the note (the clinic's name decides no site)."""
    return LETTERHEAD + text


def signature_spine(text: str) -> str:
    """A signature block naming a spine surgeon below the note."""
    return text.rstrip("\n") + "\n\n" + SIGNATURE + "\n"


_LIMB = (
    r"knee|hip|shoulder|elbow|wrist|ankle|foot|hand|thumb|finger|toe|glenohumeral|"
    r"acromioclavicular|sacroiliac|subacromial|trochanteric|greater|first|1st|index|great|"
    r"metacarpophalangeal|metatarsophalangeal|subtalar|tibiotalar|temporomandibular|"
    r"sternoclavicular|iliopsoas|ischial|olecranon|prepatellar|pes|carpometacarpal|"
    r"lateral|medial|hemi|breast|thyroid|lung|kidney|lower|upper|thigh|leg|arm|buttock|groin"
)


def abbreviations(text: str) -> str:
    """Shorthand: fluoroscopy -> fluoro, injection -> inj, right/left knee -> R/L knee,
    intra-articular -> IA."""
    text = _sub_cased(r"\bfluoroscop(?:y|ic|ically)\b", "fluoro", text)
    text = _sub_cased(r"\binjections?\b", "inj", text)
    text = re.sub(
        rf"\b(right|left)(?=\s+(?:{_LIMB})\b)",
        lambda m: "R" if m.group(1).lower() == "right" else "L",
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(r"\bintra-?articular(?:ly)?\b", "IA", text, flags=re.IGNORECASE)
    return text


def _logical_lines(body: str) -> List[Tuple[int, int]]:
    """(start, end) of each line of ``body``, a prose line wrapped onto the next joined to it. A
    "Header:" line, a title (no end punctuation, followed by a header) and a blank line stand
    alone."""
    spans: List[Tuple[int, int]] = []
    for m in re.finditer(r"[^\n]*", body):
        if not m.group(0).strip():
            continue
        line = m.group(0)
        if spans:
            prev = body[spans[-1][0] : spans[-1][1]]
            joined = (
                not _HEADER.match(line)
                and not _HEADER.match(prev)
                and not re.search(r"[.:;!?]\s*$", prev)
                and body[spans[-1][1] : m.start()].count("\n") == 1
                and not re.match(r"\s*[-*\u2022]", line)
            )
            if joined:
                spans[-1] = (spans[-1][0], m.end())
                continue
        spans.append((m.start(), m.end()))
    return spans


def bullets(text: str) -> str:
    """The procedure narrative's sentences as "- " lines instead of prose. "Header:" lines stay
    as they are; a line of one sentence stays as it is."""
    span = _procedure_span(text)
    if span is None:
        return text
    start, end = span
    body = text[start:end]
    out, pos = [], 0
    for a, b in _logical_lines(body):
        line = body[a:b]
        sentences = [x for x in _SENTENCE_END.split(" ".join(line.split())) if x.strip()]
        if _HEADER.match(line) or len(sentences) < 2:
            continue
        lead = "\n" if a > 0 and body[a - 1] != "\n" else ""  # prose after "PROCEDURE:"
        if a == 0 and start > 0 and text[start - 1] != "\n":
            lead = "\n"
        out.append(body[pos:a] + lead + "\n".join(f"- {x}" for x in sentences))
        pos = b
    if not out:
        return text
    return text[:start] + "".join(out) + body[pos:] + text[end:]


_NEVER_SWAP = re.compile(r"addend|sign|attest|correct|amend", re.IGNORECASE)


def sections_reordered(text: str) -> str:
    """Two top-level "HEADER:" sections (never the procedure narrative, an addendum or the
    signature) swap places. Top level: capitalised headers when the note has at least two, else
    headers starting with a capital."""
    sections = _sections(text)
    caps = [s for s in sections if s.header.isupper()]
    top = caps if len(caps) >= 2 else sections
    # a section runs to the next top-level header
    bounds = []
    for i, s in enumerate(top):
        end = top[i + 1].start if i + 1 < len(top) else len(text)
        bounds.append((s, s.start, end))
    # a section that describes the needle is part of the procedure narrative, whatever its name
    candidates = [
        (a, b)
        for s, a, b in bounds
        if not _is_procedure_section(s)
        and not _NEVER_SWAP.search(s.header)
        and not _ACTION.search(text[s.body_start : s.end])
    ]
    if len(candidates) < 2:
        return text
    (a1, b1), (a2, b2) = sorted(_rng(text, "sections").sample(candidates, 2))

    def content(a: int, b: int) -> Tuple[int, int]:
        """The section without its trailing blank lines, which stay where they were."""
        return a, a + len(text[a:b].rstrip())

    (c1, d1), (c2, d2) = content(a1, b1), content(a2, b2)
    return text[:c1] + text[c2:d2] + text[d1:c2] + text[c1:d1] + text[d2:]


REWRITES: Dict[str, Callable[[str], str]] = {
    f.__name__: f
    for f in (
        all_caps,
        crlf,
        ocr_hyphen_break,
        page_header_mid_sentence,
        misspellings,
        letterhead_spine,
        signature_spine,
        abbreviations,
        bullets,
        sections_reordered,
    )
}


# the notes ----------------------------------------------------------------------------------------
def load_notes(root: Path = ROOT) -> List[Tuple[str, str]]:
    """(note id, text) for every gold fixture, every blind note and every failure-kind note."""
    notes: List[Tuple[str, str]] = []
    fixtures = root / "fixtures"
    for line in (fixtures / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            text = rec.get("text")
            if text is None:
                text = (fixtures / rec["file"]).read_text(encoding="utf-8")
            notes.append((rec["note_id"], text))
    paths = [fixtures / "others" / "blind.jsonl"]
    paths += [
        Path(p) for p in sorted(glob.glob(str(root / "tests" / "data" / "kinds" / "*.jsonl")))
    ]
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                notes.append((rec.get("id") or rec.get("note_id"), rec["text"]))
    return notes


# running them ------------------------------------------------------------------------------------
@dataclass
class RewriteOutcome:
    name: str
    applied: int = 0
    unchanged: int = 0
    changed: List[Tuple[str, Tuple, Tuple]] = field(default_factory=list)  # (id, before, after)

    @property
    def rate(self) -> float:
        return self.unchanged / self.applied if self.applied else 1.0


def _answer(outcome) -> Tuple:
    if hasattr(outcome, "verdict"):
        return (outcome.verdict, outcome.suggested_code)
    return ("error", getattr(outcome, "code", None))


def run_invariance(
    checker, notes: Sequence[Tuple[str, str]], rewrites: Optional[Iterable[str]] = None
) -> Dict[str, RewriteOutcome]:
    """For every rewrite, the notes it changes, checked against the checker's own answer on the
    unrewritten note (stability, not accuracy)."""
    names = list(rewrites) if rewrites is not None else list(REWRITES)
    before = {
        nid: _answer(r)
        for (nid, _), r in zip(notes, checker.check_many(list(notes), batch_size=64), strict=True)
    }
    out: Dict[str, RewriteOutcome] = {}
    for name in names:
        rewrite = REWRITES[name]
        batch = [(nid, new) for nid, text in notes if (new := rewrite(text)) != text]
        outcome = RewriteOutcome(name, applied=len(batch))
        for (nid, _), r in zip(batch, checker.check_many(batch, batch_size=64), strict=True):
            after = _answer(r)
            if after == before[nid]:
                outcome.unchanged += 1
            else:
                outcome.changed.append((nid, before[nid], after))
        out[name] = outcome
    return out


def format_table(results: Dict[str, RewriteOutcome], goal: float = 0.99) -> str:
    rows = [f"{'rewrite':<26} {'applied':>7} {'unchanged':>9} {'rate':>7}"]
    for o in results.values():
        flag = "" if o.rate >= goal else "  < goal"
        rows.append(f"{o.name:<26} {o.applied:>7} {o.unchanged:>9} {o.rate:>7.1%}{flag}")
    return "\n".join(rows)


def format_changes(results: Dict[str, RewriteOutcome]) -> str:
    rows = []
    for o in results.values():
        for nid, b, a in o.changed:
            rows.append(f"{o.name:<26} {nid:<34} {b[0]}/{b[1]} -> {a[0]}/{a[1]}")
    return "\n".join(rows)
