"""A target mention as the decision steps read it (plain data, no spaCy)."""

from __future__ import annotations

from typing import FrozenSet, Optional


class Mention:
    """One target mention, as the element logic reads it. (A plain class, not a dataclass: a
    note has about a hundred mentions, and this __init__ is compiled with the module.)"""

    __slots__ = (
        "label",
        "start",
        "end",
        "sent",
        "line",
        "section",
        "effect",
        "modifiers",
        "template_blank",
        "reason",
    )

    def __init__(
        self,
        label: str,
        start: int,
        end: int,
        sent: int,
        line: int,
        section: Optional[str],
        effect: Optional[str],
        modifiers: FrozenSet[str],
        template_blank: bool = False,
        reason: Optional[str] = None,
    ) -> None:
        self.label = label
        self.start = start  # char offsets into the note
        self.end = end
        self.sent = sent  # sentence index
        self.line = line
        self.section = section
        self.effect = effect
        self.modifiers = modifiers
        self.template_blank = template_blank
        self.reason = reason  # why it does not document this procedure (None: it counts)

    def __repr__(self) -> str:
        return f"Mention({self.label}, {self.start}:{self.end}, reason={self.reason})"
