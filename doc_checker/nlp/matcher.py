"""A fast matcher for medspaCy-style rules: spaCy token patterns, phrase literals, text regexes.

Why not spaCy's Matcher: it evaluates every ``IN``/``REGEX`` predicate in Python for every
token it meets, which dominated the checker's run time (issue: throughput). Here every
token-attribute predicate is a property of the *lexeme* (its text), so it is computed once per
vocabulary entry and cached in a boolean table shared by all matchers of a pipeline; a document
becomes one row index per token, candidate starts come from numpy, and only
those few are expanded through the pattern. Semantics follow spaCy's Matcher: ops ``? * +``
and ``{n}``, ``{n,m}``, ``{n,}``, ``{,m}``; every (start, end) that matches is returned.
"""

from __future__ import annotations

import bisect
import json
import operator
import os
import re
import weakref

try:  # Python 3.11+ (typeshed has no stubs for these private modules)
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre
    import sre_parse as _sre_parse
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import numpy as np
from spacy.attrs import ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..errors import RulesError
from ._layout import note_text

try:  # the compiled core (doc_checker/nlp/_matchcore.pyx, typed by _matchcore.pyi), built by
    # ``pip install``; the name _matchcore exists only when it is built
    from . import _matchcore

    CORE_BUILT = True
except ImportError:  # pragma: no cover - a checkout that was never built
    CORE_BUILT = False

# Match with the compiled core when it is built; DOC_CHECKER_PURE_PYTHON=1 (or setting this to
# False) uses the pure-Python path below, the reference the compiled core is tested against.
COMPILED = CORE_BUILT and os.environ.get("DOC_CHECKER_PURE_PYTHON") != "1"

_LEXEME_ATTRS: Dict[str, Callable[[Any], Any]] = {
    "ORTH": lambda lex: lex.orth_,
    "TEXT": lambda lex: lex.orth_,
    "LOWER": lambda lex: lex.lower_,
    "NORM": lambda lex: lex.norm_,
    "LENGTH": lambda lex: len(lex.orth_),
    "LIKE_NUM": lambda lex: lex.like_num,
    "IS_PUNCT": lambda lex: lex.is_punct,
    "IS_ALPHA": lambda lex: lex.is_alpha,
    "IS_DIGIT": lambda lex: lex.is_digit,
    "IS_SPACE": lambda lex: lex.is_space,
    "IS_UPPER": lambda lex: lex.is_upper,
    "IS_LOWER": lambda lex: lex.is_lower,
    "IS_TITLE": lambda lex: lex.is_title,
    "LIKE_URL": lambda lex: lex.like_url,
    "IS_STOP": lambda lex: lex.is_stop,
    "IS_ASCII": lambda lex: lex.is_ascii,
    "SHAPE": lambda lex: lex.shape_,
}
_TOKEN_ATTRS = {"IS_SENT_START"}
_OPS = {"?": (0, 1), "*": (0, None), "+": (1, None), "1": (1, 1)}
_QUANT_RE = re.compile(r"^\{(\d*)(,?)(\d*)\}$")


_COMPARISONS: Dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "!=": operator.ne,
}


def _in_test(values: FrozenSet[Any]) -> Callable[[Any], bool]:
    return lambda v: v in values


def _not_in_test(values: FrozenSet[Any]) -> Callable[[Any], bool]:
    return lambda v: v not in values


def _regex_test(rx: "re.Pattern[str]") -> Callable[[Any], bool]:
    return lambda v: bool(rx.search(str(v)))


def _comparison_test(compare: Callable[[Any, Any], Any], arg: Any) -> Callable[[Any], bool]:
    return lambda v: compare(v, arg)


def _value_test(value: Any) -> Callable[[Any], bool]:
    if isinstance(value, dict):
        tests: List[Callable[[Any], bool]] = []
        for op, arg in value.items():
            if op == "IN":
                tests.append(_in_test(frozenset(arg)))
            elif op == "NOT_IN":
                tests.append(_not_in_test(frozenset(arg)))
            elif op == "REGEX":
                tests.append(_regex_test(re.compile(arg)))
            elif op in _COMPARISONS:
                tests.append(_comparison_test(_COMPARISONS[op], arg))
            else:
                raise RulesError(f"unsupported predicate {op!r} in token pattern")
        return lambda v: all(t(v) for t in tests)
    return lambda v: v == value


class _Respelled:
    """A lexeme as a rule reads it once respelled: LOWER and NORM are the key term it stands
    for ('flouroscopy' -> 'fluoroscopy'); every other attribute is the lexeme's own."""

    __slots__ = ("_lex", "lower_", "norm_")

    def __init__(self, lex: Any, term: str) -> None:
        self._lex = lex
        self.lower_ = term
        self.norm_ = term

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lex, name)


class PredicateTable:
    """Lexeme-level predicates, evaluated once per vocabulary entry; one per pipeline.

    With a :class:`~doc_checker.nlp.spelling.Spelling` set (``set_spelling``), a predicate holds
    for a lexeme when it holds for the word as written *or* as respelled to its key term; without
    one (the default), the predicates are exactly spaCy's."""

    @classmethod
    def of(cls, nlp: Language) -> "PredicateTable":
        """The pipeline's shared table (kept on the Language object)."""
        table = getattr(nlp, "_doc_checker_predicates", None)
        if table is None or table.vocab is not nlp.vocab:
            table = cls(nlp.vocab)
            # an attribute of our own on spaCy's Language, which declares no such attribute
            nlp._doc_checker_predicates = table  # type: ignore[attr-defined]
        return table

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self._ids: Dict[str, int] = {}
        self._tests: List[Callable[[Any], bool]] = []
        # string-valued single tests are indexed: attribute -> value -> predicate ids it satisfies
        self._index: Dict[str, Dict[Any, List[int]]] = {}
        self._general: List[
            int
        ] = []  # predicate ids evaluated one by one (regex, flags, NOT_IN ...)
        self._row_of: Dict[int, int] = {}
        self._true: List[List[int]] = []  # per lexeme row: the predicates that hold for it
        self._bits = np.zeros((256, 1), dtype=np.uint64)  # the same, as a bitset per row
        # each doc's predicate positions (pure-Python path), kept while the doc lives
        self._states_by_doc: "weakref.WeakKeyDictionary[Doc, DocState]" = (
            weakref.WeakKeyDictionary()
        )
        # each doc's rows, kept while the doc lives (targets and ConText ask for them in turn)
        self._rows_by_doc: "weakref.WeakKeyDictionary[Doc, np.ndarray]" = (
            weakref.WeakKeyDictionary()
        )
        self.spelling: Any = None  # Spelling, or None: predicates read words as written

    def set_spelling(self, spelling: Any) -> None:
        """Read every word also as respelled by ``spelling`` (before any document is matched)."""
        if self._row_of:
            raise RuntimeError("set the spelling before the first document is matched")
        self.spelling = spelling

    def _respelled(self, lex: Any) -> Any:
        if self.spelling is None:
            return None
        term = self.spelling.respell(lex.lower_)
        return _Respelled(lex, term) if term is not None else None

    @property
    def n_predicates(self) -> int:
        return len(self._tests)

    @property
    def bits(self) -> np.ndarray:
        """uint64 [row, word]: bit p of a row's words is set when predicate p holds for it."""
        return self._bits

    def _set_bits(self, row: int, preds: Sequence[int]) -> None:
        if row >= self._bits.shape[0]:
            grown = np.zeros(
                (max(2 * self._bits.shape[0], row + 1), self._bits.shape[1]), dtype=np.uint64
            )
            grown[: self._bits.shape[0]] = self._bits
            self._bits = grown
        for p in preds:
            self._bits[row, p >> 6] |= np.uint64(1 << (p & 63))

    def add(self, spec: Dict[str, Any]) -> int:
        """Register a predicate over lexeme attributes (a token spec without OP / token attrs)."""
        key = json.dumps(spec, sort_keys=True, default=str)
        if key in self._ids:
            return self._ids[key]
        parts = []
        for attr, value in spec.items():
            getter = _LEXEME_ATTRS[attr.upper()]
            test = _value_test(value)
            parts.append((getter, test))
        pid = len(self._tests)
        self._states_by_doc.clear()  # positions depend on the predicates
        if (pid >> 6) >= self._bits.shape[1]:
            wider = np.zeros((self._bits.shape[0], (pid >> 6) + 1), dtype=np.uint64)
            wider[:, : self._bits.shape[1]] = self._bits
            self._bits = wider
        checks = tuple(parts)
        self._tests.append(lambda lex: all(t(g(lex)) for g, t in checks))
        self._ids[key] = pid
        values = self._indexable(spec)
        if values is None:
            self._general.append(pid)
        else:
            attr, accepted = values
            by_value = self._index.setdefault(attr, {})
            for v in accepted:
                by_value.setdefault(v, []).append(pid)
        for orth, row in self._row_of.items():  # lexemes seen already
            lex = self.vocab[orth]
            alt = self._respelled(lex)
            if self._tests[pid](lex) or (alt is not None and self._tests[pid](alt)):
                self._true[row].append(pid)
                self._set_bits(row, (pid,))
        return pid

    @staticmethod
    def _indexable(spec: Dict[str, Any]):
        """(attribute, accepted values) for a single exact / IN test on a string attribute."""
        if len(spec) != 1:
            return None
        attr, value = next(iter(spec.items()))
        attr = attr.upper()
        if attr == "TEXT":
            attr = "ORTH"
        if attr not in ("ORTH", "LOWER", "NORM"):
            return None
        if isinstance(value, str):
            return attr, [value]
        if isinstance(value, dict) and set(value) == {"IN"}:
            return attr, list(value["IN"])
        if isinstance(value, dict) and set(value) == {"REGEX"} and isinstance(value["REGEX"], str):
            strings = finite_strings(value["REGEX"])  # '^(biops(y|ies)|fna)$' -> a set lookup
            if strings is not None:
                return attr, strings
        return None

    def _row(self, orth: int) -> int:
        lex = self.vocab[orth]
        true: List[int] = []
        for attr, by_value in self._index.items():
            true.extend(by_value.get(_LEXEME_ATTRS[attr](lex), ()))
        true.extend(pid for pid in self._general if self._tests[pid](lex))
        alt = self._respelled(lex)
        if alt is not None:  # a misspelt key term: the rules also read it as the term
            for attr, by_value in self._index.items():
                true.extend(by_value.get(_LEXEME_ATTRS[attr](alt), ()))
            true.extend(pid for pid in self._general if self._tests[pid](alt))
        row = len(self._true)
        self._true.append(sorted(set(true)))
        self._set_bits(row, self._true[row])
        self._row_of[orth] = row
        return row

    def rows(self, doc: Doc) -> np.ndarray:
        """The lexeme row of each token (int32), for the compiled core; new lexemes get a row."""
        rows = self._rows_by_doc.get(doc)
        if rows is not None and len(rows) == len(doc):
            return rows
        orths = np.ascontiguousarray(doc.to_array(ORTH), dtype=np.uint64)
        rows, missing = _matchcore.rows_of(orths, self._row_of)
        for i in np.flatnonzero(rows < 0).tolist() if missing else ():
            orth = int(orths[i])
            row = self._row_of.get(orth)
            rows[i] = self._row(orth) if row is None else row
        self._rows_by_doc[doc] = rows
        return rows

    def state(self, doc: Doc) -> "DocState":
        """Where each predicate holds in ``doc`` (one pass over its tokens), kept for the doc:
        every matcher of the pipeline asks for it in turn."""
        state = self._states_by_doc.get(doc)
        if state is not None and state.n == len(doc):
            return state
        row_of, true = self._row_of, self._true
        positions: Dict[int, List[int]] = {}
        for i, orth in enumerate(doc.to_array(ORTH).tolist()):
            row = row_of.get(orth)
            if row is None:
                row = self._row(orth)
            for p in true[row]:
                found = positions.get(p)
                if found is None:
                    positions[p] = [i]
                else:
                    found.append(i)
        state = self._states_by_doc[doc] = DocState(len(doc), positions)
        return state


class DocState:
    """Per-doc predicate positions (sorted token indices), built in one pass over the tokens:
    no tokens x predicates matrix, so a 10 MB note costs memory in proportion to its matches."""

    _EMPTY: List[int] = []

    def __init__(self, n: int, positions: Dict[int, List[int]]) -> None:
        self.n = n
        self._positions = positions
        self._sets: Dict[int, Set[int]] = {}

    def has(self, p: int) -> bool:
        return p in self._positions

    @property
    def present(self):
        """The predicates that hold somewhere in the doc (a set-like view)."""
        return self._positions.keys()

    def positions(self, p: int) -> List[int]:
        return self._positions.get(p, self._EMPTY)

    def held(self, p: int) -> Set[int]:
        found = self._sets.get(p)
        if found is None:
            found = self._sets[p] = set(self._positions.get(p, ()))
        return found


@dataclass(frozen=True)
class _Element:
    pred: Optional[int]  # lexeme predicate id (None: any token)
    sent_start: Optional[bool]  # token-level IS_SENT_START test
    lo: int
    hi: Optional[int]  # None: unbounded


def _quantifier(op: Optional[str], where: str) -> Tuple[int, Optional[int]]:
    if op is None:
        return 1, 1
    if op in _OPS:
        return _OPS[op]
    m = _QUANT_RE.match(op)
    if not m:
        raise RulesError(f"{where}: unsupported OP {op!r}")
    lo_s, comma, hi_s = m.groups()
    lo = int(lo_s) if lo_s else 0
    hi = (int(hi_s) if hi_s else None) if comma else lo
    return lo, hi


class FastMatcher:
    """Matches token patterns, phrase literals and text regexes; returns (key, start, end)."""

    def __init__(
        self,
        nlp: Language,
        regex_starts: Optional["re.Pattern[str]"] = None,
        regex_after: Optional["re.Pattern[str]"] = None,
    ) -> None:
        """Where text regexes can match (they are tried only there, with ``match`` instead of a
        scan of the whole text): ``regex_starts``' match positions, or the text start and the
        ends of ``regex_after``'s matches (one scan finds those where some rule matches);
        neither: the whole text is scanned."""
        self.table = PredicateTable.of(nlp)
        self.regex_starts = regex_starts
        self.regex_after = regex_after
        self.make_doc = nlp.make_doc
        self._patterns: List[Tuple[int, Tuple[_Element, ...], Optional[_Plan]]] = []
        self._regexes: List[Tuple[int, "re.Pattern[str]"]] = []
        self._any_regex: Optional["re.Pattern[str]"] = None
        self._after_scan: Optional["re.Pattern[str]"] = None  # regex_after, then some rule
        self._compiled: Any = None  # _matchcore.Patterns, built at the first doc

    def __len__(self) -> int:
        return len(self._patterns) + len(self._regexes)

    def add_pattern(
        self, key: int, pattern: Sequence[Dict[str, Any]], where: str = "pattern"
    ) -> None:
        elements = []
        for tok in pattern:
            spec = {k: v for k, v in tok.items() if k != "OP"}
            sent_start = None
            for attr in list(spec):
                if attr.upper() in _TOKEN_ATTRS:
                    sent_start = bool(spec.pop(attr))
                elif attr.upper() not in _LEXEME_ATTRS:
                    raise RulesError(f"{where}: unsupported token attribute {attr!r}")
            op = tok.get("OP")
            lo, hi = _quantifier(op, where)
            pred = self.table.add(spec) if spec else None
            elements.append(_Element(pred, sent_start, lo, hi))
        if not elements or all(e.lo == 0 for e in elements):
            raise RulesError(f"{where}: a pattern needs at least one required token")
        self._patterns.append((key, tuple(elements), _plan(elements)))
        self._compiled = None

    def add_literal(self, key: int, literal: str) -> None:
        """A phrase, matched on the lower-case form of its tokens (medspaCy's phrase rules)."""
        tokens = [t.lower_ for t in self.make_doc(literal.lower()) if not t.is_space]
        if not tokens:
            raise RulesError(f"literal {literal!r} has no tokens")
        self.add_pattern(key, [{"LOWER": t} for t in tokens], where=f"literal {literal!r}")

    def add_regex(self, key: int, regex: str) -> None:
        self._regexes.append((key, re.compile(regex, re.IGNORECASE)))
        self._any_regex = _union([rx for _, rx in self._regexes])
        if self.regex_after is not None and self._any_regex is not None:
            self._after_scan = _followed_by(self.regex_after, self._any_regex)

    def __call__(self, doc: Doc) -> List[Tuple[int, int, int]]:
        n = len(doc)
        out: List[Tuple[int, int, int]] = []
        if n == 0:
            return out
        if self._patterns and COMPILED:
            out.extend(self._match_compiled(doc))
        elif self._patterns:
            state = self.table.state(doc)
            held = state.held
            present = state.present
            sent_starts: Optional[Set[int]] = None
            for key, elements, plan in self._patterns:
                if plan is not None and not plan.required_set <= present:
                    continue  # a required token is nowhere in the doc
                if sent_starts is None:
                    sent_starts = set(np.flatnonzero(doc.to_array(SENT_START) == 1).tolist()) | {0}
                if plan is not None and plan.fixed:
                    # every element is exactly one token: check each candidate straight through
                    length = len(elements)
                    for start in _candidates(plan, state, n):
                        if start + length > n:
                            continue
                        for j, e in enumerate(elements):
                            pos = start + j
                            if (e.pred is not None and pos not in held(e.pred)) or (
                                e.sent_start is not None and (pos in sent_starts) != e.sent_start
                            ):
                                break
                        else:
                            out.append((key, start, start + length))
                    continue
                for start in _candidates(plan, state, n):
                    for end in _ends(elements, 0, start, held, sent_starts, n, {}):
                        if end > start:
                            out.append((key, start, end))
        if self._regexes:
            text = note_text(doc)
            any_regex = self._any_regex
            # where a rule can match (every rule is tried only there), or None: anywhere
            starts_at: Optional[List[int]] = None
            # _after_scan is only built with _any_regex (regex_after followed by some rule)
            if self._after_scan is not None and any_regex is not None:
                starts_at = [m.end() for m in self._after_scan.finditer(text)]
                if any_regex.match(text):
                    starts_at.insert(0, 0)
            elif self.regex_starts is not None:
                starts_at = sorted({m.start() for m in self.regex_starts.finditer(text)})
                if any_regex is not None:  # one quick test before trying each rule
                    starts_at = [p for p in starts_at if any_regex.match(text, p)]
            elif self.regex_after is not None:  # but the rules' flags defeat the one-scan
                starts_at = [0] + [m.end() for m in self.regex_after.finditer(text)]
            if starts_at is None:
                found = [(key, m) for key, rx in self._regexes for m in rx.finditer(text)]
            else:
                found = [
                    (key, m)
                    for key, rx in self._regexes
                    for p in starts_at
                    for m in (rx.match(text, p),)
                    if m is not None
                ]
            for key, m in found:
                span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
                if span is not None and len(span):
                    out.append((key, span.start, span.end))
        return out

    def _match_compiled(self, doc: Doc) -> List[Tuple[int, int, int]]:
        if self._compiled is None:
            self._compiled = _matchcore.Patterns(
                [
                    (
                        key,
                        [
                            (
                                -1 if e.pred is None else e.pred,
                                -1 if e.sent_start is None else int(e.sent_start),
                                e.lo,
                                -1 if e.hi is None else e.hi,
                            )
                            for e in elements
                        ],
                        None
                        if plan is None
                        else (
                            plan.anchor,
                            -1 if plan.next_pred is None else plan.next_pred,
                            plan.next_dist,
                            list(plan.optional),
                            list(plan.required),
                        ),
                    )
                    for key, elements, plan in self._patterns
                ]
            )
        rows = self.table.rows(doc)
        sent = (doc.to_array(SENT_START) == 1).astype(np.uint8)
        sent[0] = 1
        return _matchcore.match(
            self._compiled, rows, self.table.bits, sent, self.table.n_predicates
        )


INF = 10**9
MAX_FINITE_STRINGS = 5000


class _Infinite(Exception):
    pass


def finite_strings(regex: str) -> Optional[List[str]]:
    """Every string an anchored regex (``^...$``, no flags) matches, when that set is finite and
    small; else None. Rule files write token tests as readable regexes; a set lookup replaces
    running each regex on every new word of the vocabulary."""
    try:
        parsed = list(_sre_parse.parse(regex))
        flags = _sre_parse.parse(regex).state.flags
    except Exception:  # noqa: BLE001 - leave anything unusual to the regex engine
        return None
    if flags & (_sre.SRE_FLAG_IGNORECASE | _sre.SRE_FLAG_VERBOSE | _sre.SRE_FLAG_MULTILINE):
        return None
    if (
        len(parsed) < 2
        or parsed[0] != (_sre.AT, _sre.AT_BEGINNING)
        or parsed[-1] != (_sre.AT, _sre.AT_END)
    ):
        return None
    try:
        return sorted(_expand(parsed[1:-1]))
    except _Infinite:
        return None


def _cross(prefixes: Set[str], suffixes: Set[str]) -> Set[str]:
    out = {p + s for p in prefixes for s in suffixes}
    if len(out) > MAX_FINITE_STRINGS:
        raise _Infinite
    return out


def _expand(items) -> Set[str]:
    result = {""}
    for op, av in items:
        if op is _sre.LITERAL:
            alts = {chr(av)}
        elif op is _sre.SUBPATTERN:
            alts = _expand(av[-1])
        elif op is _sre.BRANCH:
            alts = set()
            for branch in av[1]:
                alts |= _expand(branch)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            lo, hi, sub = av
            if hi is _sre.MAXREPEAT or hi > 8:
                raise _Infinite
            one = _expand(sub)
            alts, current = set(), {""}
            for k in range(hi + 1):
                if k >= lo:
                    alts |= current
                if k < hi:
                    current = _cross(current, one)
        elif op is _sre.IN:
            alts = set()
            for cop, cav in av:
                if cop is _sre.LITERAL:
                    alts.add(chr(cav))
                elif cop is _sre.RANGE and cav[1] - cav[0] < 64:
                    alts |= {chr(c) for c in range(cav[0], cav[1] + 1)}
                elif cop is _sre.CATEGORY and cav is _sre.CATEGORY_DIGIT:
                    alts |= {str(d) for d in range(10)}
                else:
                    raise _Infinite  # negated or wide classes
        else:
            raise _Infinite
        result = _cross(result, alts)
    return result


_INLINE_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")


def _union(regexes: Sequence["re.Pattern[str]"]) -> Optional["re.Pattern[str]"]:
    """One regex matching wherever any of ``regexes`` matches (a prefilter: it may match more,
    never less). None when a rule's flags cannot be merged (verbose mode)."""
    parts, flags = [], re.IGNORECASE | re.MULTILINE | re.DOTALL
    for rx in regexes:
        body = _bare(rx)
        if body is None:
            return None
        parts.append(body)
    try:
        return re.compile(_factored(parts), flags)
    except re.error:
        return None


_FLAG_LETTERS = (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL))


def _bare(rx: "re.Pattern[str]") -> Optional[str]:
    """``rx``'s pattern without its leading inline flags, to be joined into another regex; None
    when it cannot be (verbose mode, or flags set inside the pattern)."""
    m = _INLINE_FLAGS.match(rx.pattern)
    body = rx.pattern[m.end() :] if m else rx.pattern
    if rx.flags & re.VERBOSE or re.search(r"\(\?[aiLmsux]+[):]", body):
        return None
    return body


def _scoped(rx: "re.Pattern[str]") -> Optional[str]:
    """``rx`` as a group keeping its own i/m/s flags inside another regex; None if it cannot."""
    body = _bare(rx)
    if body is None:
        return None
    on = "".join(letter for letter, bit in _FLAG_LETTERS if rx.flags & bit)
    off = "".join(letter for letter, bit in _FLAG_LETTERS if not rx.flags & bit)
    return f"(?{on}-{off}:{body})" if off else f"(?{on}:{body})"


def _followed_by(after: "re.Pattern[str]", union: "re.Pattern[str]") -> Optional["re.Pattern[str]"]:
    """``after`` when some rule (``union``) matches right after it, as one regex: ``finditer``
    then finds, in one scan of the text, the ends of ``after``'s matches where a rule can start
    (the regex engine skips quickly to the characters ``after`` can start with)."""
    head, tail = _scoped(after), _scoped(union)
    if head is None or tail is None:
        return None
    try:
        return re.compile(f"{head}(?={tail})")
    except re.error:
        return None


def _factored(bodies: Sequence[str]) -> str:
    """``(?:b1)|(?:b2)|...`` with the leading elements most bodies share written once,
    ``P(?:(?:r1)|(?:r2))|(?:b3)``: the regex engine then tests the shared start (an anchor, a
    lookbehind, leading blanks) once per position instead of once per rule. Matching backtracks
    into P, so this matches exactly where the plain alternation does; a body joins the group
    only when its parsed pattern is P's followed by its rest's."""
    plain = "|".join(f"(?:{b})" for b in bodies)
    counts: Dict[str, int] = {}
    for body in set(bodies):
        for length in range(2, min(len(body) - 1, 300) + 1):
            if (
                body[length - 1] in ")*?+}]" and body[length - 2] != "\\"
            ):  # where an element can end
                counts[body[:length]] = counts.get(body[:length], 0) + 1
    candidates = sorted(((n - 1) * len(prefix), prefix) for prefix, n in counts.items() if n >= 2)
    for _, prefix in reversed(candidates[-50:]):
        group = [b for b in bodies if b.startswith(prefix) and _splits_at(b, len(prefix))]
        if len(group) >= 2:
            rest = [b for b in bodies if b not in group]
            shared = f"{prefix}(?:{'|'.join(f'(?:{b[len(prefix) :]})' for b in group)})"
            return "|".join([shared] + [f"(?:{b})" for b in rest])
    return plain


def _splits_at(body: str, i: int) -> bool:
    """Whether ``body`` parses as the pattern ``body[:i]`` followed by the pattern ``body[i:]``."""
    try:
        whole, head, tail = (_sre_parse.parse(x) for x in (body, body[:i], body[i:]))
    except Exception:  # noqa: BLE001 - not a split point (unbalanced, a dangling quantifier ...)
        return False
    return _shape(whole) == _shape(head) + _shape(tail)


def _shape(node: Any) -> Any:
    """A parsed regex as nested lists and tuples (the parser's SubPattern compares by identity)."""
    if isinstance(node, _sre_parse.SubPattern):
        return [_shape(item) for item in node.data]
    if isinstance(node, (list, tuple)):
        return type(node)(_shape(item) for item in node)
    return node


@dataclass(frozen=True)
class _Plan:
    """How to find a pattern's start positions without trying every token.

    ``required``: predicates of the required elements, all of which must occur in the doc;
    ``anchor``: the first required element's predicate; ``next_pred``/``next_dist``: the next
    required element and how far after the anchor it can start; ``optional``: (predicate,
    max distance to the anchor) of the optional elements before the anchor."""

    required: Tuple[int, ...]
    required_set: FrozenSet[int]
    fixed: bool  # every element matches exactly one token
    anchor: int
    next_pred: Optional[int]
    next_dist: int
    optional: Tuple[Tuple[int, int], ...]


def _plan(elements: Sequence[_Element]) -> Optional[_Plan]:
    """None when a wildcard may start the pattern (then every token is a candidate)."""
    required = tuple(e.pred for e in elements if e.lo > 0 and e.pred is not None)
    anchor_i = next((i for i, e in enumerate(elements) if e.lo > 0), None)
    if anchor_i is None:
        return None
    anchor = elements[anchor_i]
    if anchor.pred is None:
        return None
    optional = []
    for j in range(anchor_i):
        e = elements[j]
        if e.pred is None:
            return None
        dist = 0
        for between in elements[j:anchor_i]:
            hi = between.hi
            dist = INF if hi is None or dist >= INF else dist + hi
        optional.append((e.pred, dist))
    next_pred: Optional[int] = None
    next_dist = INF
    dist = anchor.hi if anchor.hi is not None else INF
    for e in elements[anchor_i + 1 :]:
        if e.lo > 0:
            if e.pred is not None:
                next_pred, next_dist = e.pred, dist
            break
        dist = INF if e.hi is None or dist >= INF else dist + e.hi
    fixed = all(e.lo == 1 and e.hi == 1 for e in elements)
    return _Plan(
        required,
        frozenset(required),
        fixed,
        anchor.pred,
        next_pred,
        next_dist,
        tuple(optional),
    )


def _within(points: List[int], targets: List[int], dist: int) -> List[int]:
    """The points p with some target t, p < t <= p + dist (both lists sorted)."""
    if not points or not targets:
        return []
    out = []
    last = len(targets)
    for p in points:
        k = bisect.bisect_right(targets, p)
        if k < last and targets[k] <= p + dist:
            out.append(p)
    return out


def _candidates(plan: Optional[_Plan], state: "DocState", n: int) -> List[int]:
    """Token positions where a match can start."""
    if plan is None:
        return list(range(n))
    anchors = state.positions(plan.anchor)
    if plan.next_pred is not None and anchors:
        anchors = _within(anchors, state.positions(plan.next_pred), plan.next_dist)
    if not plan.optional:
        return anchors
    cand = set(anchors)
    for p, dist in plan.optional:
        cand.update(_within(state.positions(p), anchors, dist))
    return sorted(cand)


def _ends(
    elements,
    i: int,
    pos: int,
    held: Callable[[int], Set[int]],
    sent_starts: Set[int],
    n: int,
    memo: Dict,
) -> Set[int]:
    """Every end position reachable from element i at token pos. ``held(p)``: the token
    positions where predicate p holds."""
    key = (i, pos)
    if key in memo:
        return memo[key]
    if i == len(elements):
        return {pos}
    e = elements[i]
    result: Set[int] = set()
    if e.lo == 0:
        result |= _ends(elements, i + 1, pos, held, sent_starts, n, memo)
    where = held(e.pred) if e.pred is not None else None
    want_start = e.sent_start
    count, p = 0, pos
    while (
        (e.hi is None or count < e.hi)
        and p < n
        and (where is None or p in where)
        and (want_start is None or (p in sent_starts) == want_start)
    ):
        p += 1
        count += 1
        if count >= e.lo:
            result |= _ends(elements, i + 1, p, held, sent_starts, n, memo)
    memo[key] = result
    return result


def longest_first(matches: List[Tuple[int, int, int]]) -> List[Tuple[int, int, int]]:
    """Non-overlapping matches, longest first then leftmost (as spacy.util.filter_spans)."""
    if COMPILED:
        return _matchcore.longest_first(matches)
    kept: List[Tuple[int, int, int]] = []
    taken: Set[int] = set()
    for match in sorted(set(matches), key=lambda m: (m[1] - m[2], m[1], m[0])):
        if any(i in taken for i in range(match[1], match[2])):
            continue
        kept.append(match)
        taken.update(range(match[1], match[2]))
    return sorted(kept, key=lambda m: (m[1], m[2]))
