"""Robust key terms as data: misspellings, words split by a space, OCR line-break hyphenation.

Dictation and OCR spell the key vocabulary many ways ('flouroscopy', 'Omni paque', 'C arm',
'fluoro-\\nscopic'). Rather than a variant in every rule, words are respelled once per
*lexeme*: :class:`Spelling` maps a word to the key term it stands for (a listed variant, or a
long term within a few edits that is not on the deny list); the matcher tests a token's
``LOWER`` both as written and as respelled, and the pipeline's joiner merges a term split in
two tokens. Data: ``patterns/spelling.json``. No spaCy here.
"""

from __future__ import annotations

import re
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from ..errors import RulesError

_BREAK_RE = re.compile(r"-[ \t]*\r?\n[ \t]*")  # 'fluoro-\nscopic' (OCR line-break hyphenation)
_ALPHA_RE = re.compile(r"^[a-z]+$")


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):  # the shorter word ends the common prefix
        if x != y:
            break
        n += 1
    return n


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance of ``a`` and ``b``, or ``limit + 1`` once it is known to exceed ``limit``
    (as spaCy's FUZZY matching counts: insertions, deletions, substitutions)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        best = i
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            best = min(best, cur[j])
        if best > limit:
            return limit + 1
        prev = cur
    return min(prev[-1], limit + 1)


class Spelling:
    """Word -> the key term it stands for (or None). Pure and cached per word."""

    def __init__(
        self,
        variants: Dict[str, List[str]],
        fuzzy_terms: List[str],
        deny: List[str],
        min_length: int = 8,
        max_edits: int = 2,
    ) -> None:
        self.variants = {
            v.lower(): term.lower() for term, vs in variants.items() for v in vs if v != term
        }
        self.terms: FrozenSet[str] = frozenset(
            [t.lower() for t in fuzzy_terms] + [t.lower() for t in variants]
        )
        self.fuzzy_terms = tuple(sorted({t.lower() for t in fuzzy_terms if len(t) >= min_length}))
        # a misspelling keeps the word's first letter ('flouroscopy'): only those terms are tried
        self._by_initial: Dict[str, Tuple[str, ...]] = {}
        for term in self.fuzzy_terms:
            self._by_initial[term[0]] = self._by_initial.get(term[0], ()) + (term,)
        self.deny = frozenset(d.lower() for d in deny)
        self.min_length = min_length
        self.max_edits = max_edits
        self._cache: Dict[str, Optional[str]] = {}
        self.data: Dict[str, Any] = {}
        # first halves of a term split in two ('omni' of 'omni paque'): the joiner's prefilter
        self.heads: FrozenSet[str] = frozenset(
            t[:i] for t in self.terms | frozenset(self.variants) for i in range(1, len(t))
        )

    @classmethod
    def from_dict(cls, data: Any, source: str = "spelling.json") -> "Spelling":
        if not isinstance(data, dict):
            raise RulesError(f"{source}: expected an object with 'variants' and 'fuzzy'")
        variants = data.get("variants", {})
        fuzzy = data.get("fuzzy", {})
        if not isinstance(variants, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in variants.values()
        ):
            raise RulesError(f"{source}: 'variants' must map each term to a list of spellings")
        if not isinstance(fuzzy, dict):
            raise RulesError(f"{source}: 'fuzzy' must be an object")
        for key in ("terms", "deny"):
            if not all(isinstance(x, str) for x in fuzzy.get(key, [])):
                raise RulesError(f"{source}: fuzzy.{key} must be a list of words")
        spelling = cls(
            variants,
            list(fuzzy.get("terms", [])),
            list(fuzzy.get("deny", [])),
            int(fuzzy.get("min_length", 8)),
            int(fuzzy.get("max_edits", 2)),
        )
        spelling.data = {"variants": variants, "fuzzy": fuzzy}
        return spelling

    def to_dict(self) -> Dict[str, Any]:
        return dict(self.data)

    def respell(self, word: str) -> Optional[str]:
        """The key term ``word`` (lower case) stands for, when it is not that term already."""
        found = self._cache.get(word, "")
        if found != "":
            return found
        result = self._respell(word)
        if len(self._cache) < 200_000:
            self._cache[word] = result
        return result

    def _respell(self, word: str) -> Optional[str]:
        joined = _BREAK_RE.sub("", word) if "\n" in word else word
        if " " in joined or "\t" in joined:
            joined = "".join(joined.split())
        if joined in self.variants:
            return self.variants[joined]
        if joined != word and joined in self.terms:
            return joined
        if len(joined) < self.min_length or joined in self.deny or not _ALPHA_RE.match(joined):
            return None
        if joined in self.terms:
            return None
        best: Tuple[int, Optional[str]] = (self.max_edits + 1, None)
        for term in self._by_initial.get(joined[0], ()):
            # one edit below ten letters, max_edits from ten ('inserted' is not 'injected')
            limit = self.max_edits if len(term) >= 10 else min(1, self.max_edits)
            if abs(len(term) - len(joined)) > limit:
                continue
            if _common_prefix(joined, term) >= min(len(joined), len(term)) - 3:
                continue  # only the ending differs: another form of the word, not a misspelling
            d = levenshtein(joined, term, limit)
            if d <= limit and d < best[0]:
                best = (d, term)
        return best[1]

    def exact(self, word: str) -> Optional[str]:
        """The key term ``word`` is, or is a listed variant of (no fuzzy match): what a join of
        two tokens must give ('omni' + 'paque'), so two real words are never fused."""
        if word in self.variants:
            return self.variants[word]
        return word if word in self.terms else None

    def is_fuzzy(self, word: str) -> bool:
        """``word`` is read as a key term only by the edit-distance fallback (no listed variant,
        no split or OCR hyphen): a guess a person should confirm."""
        term = self.respell(word)
        if term is None:
            return False
        joined = "".join(_BREAK_RE.sub("", word).split())
        return joined not in self.variants and joined not in self.terms

    def is_term(self, word: str) -> bool:
        return word in self.terms or self.respell(word) is not None
