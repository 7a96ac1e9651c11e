"""The library entry point: ``Checker(profile, patterns).check(text)``.

The pipeline is built once per Checker (per process). ``check_many`` streams: it reads its
input lazily, keeps at most a few batches in memory, and yields one result or one error record
per input, in input order, whatever goes wrong with a single note.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from .claims import ClaimRules, claim_findings, load_claim_rules, parse_codes
from .coding import suggest_code
from .elements import analyze
from .errors import InputError
from .inputs import make_doc, validate_text
from .layout import TEXT_KEY
from .pipeline import build_nlp
from .profile import Profile, load_profile
from .result import CheckResult, ErrorRecord, Finding, Outcome
from .rules import Ruleset, default_patterns_dir, load_ruleset
from .scoring import assess

log = logging.getLogger(__name__)
VOCAB_REFRESH_STRINGS = 50_000

# a text; an (id, text), (id, text, meta) or (id, text, meta, codes) tuple; a dict with those
# keys; or any object with note_id / text / meta / codes attributes (a reader's NoteRecord)
NoteInput = Any


@dataclass
class _Item:
    position: int
    note_id: Optional[str]
    text: Any
    meta: Dict[str, Any] = field(default_factory=dict)
    codes: Any = None


class Checker:
    """Checks procedure notes for the documentation that supports CPT +77002."""

    def __init__(self, profile: Union[None, str, os.PathLike, dict, Profile] = None,
                 patterns: Union[None, str, os.PathLike] = None) -> None:
        self._profile_arg = profile
        self._patterns_arg = str(patterns) if patterns is not None else None
        self.ruleset: Ruleset = load_ruleset(patterns)
        self.profile: Profile = load_profile(profile, Path(patterns) if patterns is not None else None)
        claims_dir = patterns if patterns is not None and (Path(patterns) / "claims.json").exists() else None
        self.claim_rules: ClaimRules = load_claim_rules(claims_dir if claims_dir is not None else default_patterns_dir())
        self.nlp = build_nlp(self.ruleset)
        self._base_strings = len(self.nlp.vocab.strings)
        self._required = {name: p.required for name, p in self.profile.elements.items()}

    @property
    def ruleset_version(self) -> str:
        return self.ruleset.version

    # one note --------------------------------------------------------------------------------
    def check(self, text: Union[str, bytes], note_id: Optional[str] = None,
              meta: Optional[Dict[str, Any]] = None, codes: Any = None, keep_text: bool = False) -> CheckResult:
        """Check one note. ``codes``: the claim's billed CPT codes ("20610;77002-26"), when
        known, for the claim edits. Raises InputError for text that cannot be a note."""
        text = validate_text(text)
        return self._result(self.nlp(self._make_doc(text)), note_id, meta, codes, keep_text)

    def _make_doc(self, text: str):
        """Tokenize, keeping the note text on the Doc so components need not rebuild it."""
        doc = make_doc(self.nlp, text)
        doc.user_data[TEXT_KEY] = text
        return doc

    def _result(self, doc, note_id: Optional[str], meta: Optional[Dict[str, Any]] = None, codes: Any = None,
                keep_text: bool = False) -> CheckResult:
        analysis = analyze(doc, self.ruleset, self._required)
        code, findings = suggest_code(analysis, self.ruleset)
        present = {name: el.present for name, el in analysis.elements.items()}
        score, verdict, queries = assess(present, self.profile, code, self.ruleset.elements)
        billed, claims = self._claims(codes, code, verdict, analysis.ct_mr_arthrogram)
        return CheckResult(
            note_id=None if note_id is None else str(note_id), score=score, verdict=verdict,
            suggested_code=code, elements=analysis.elements, findings=findings, queries=queries,
            ruleset_version=self.ruleset.version, profile=self.profile.name, meta=dict(meta or {}),
            billed_codes=billed, claim_findings=claims, text=doc.user_data.get(TEXT_KEY) if keep_text else None,
        )

    def _claims(self, codes: Any, suggested: Optional[str], verdict: str,
                ct_mr_arthrogram: bool) -> Tuple[Optional[List[str]], List[Finding]]:
        if codes is None:
            return None, []
        try:
            billed = parse_codes(codes)
        except ValueError as exc:
            return [], [Finding("INVALID_CODES", "error", f"The billed codes could not be read: {exc}")]
        return [str(b) for b in billed], claim_findings(billed, suggested_code=suggested, verdict=verdict,
                                                        ct_mr_arthrogram=ct_mr_arthrogram, rules=self.claim_rules)

    # many notes ------------------------------------------------------------------------------
    def check_many(self, notes: Iterable[NoteInput], batch_size: int = 64, n_process: int = 1,
                   keep_text: bool = False) -> Iterator[Outcome]:
        """Yield one CheckResult or ErrorRecord per input, in input order, streaming.

        ``notes`` items are texts, ``(note_id, text[, meta[, codes]])`` tuples, dicts with those
        keys, or reader records. With ``n_process > 1`` worker processes share the work (forked
        workers reuse this Checker's pipeline); results are identical to one process.
        ``keep_text`` keeps each note's text on its result (for an HTML report).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        items = _numbered(notes)
        if n_process == 1:
            while True:
                chunk = list(islice(items, batch_size))
                if not chunk:
                    return
                yield from self._check_chunk(chunk, keep_text)
        else:
            if n_process < 1:
                n_process = os.cpu_count() or 1
            yield from self._check_parallel(items, batch_size, n_process, keep_text)

    def _refresh_vocab(self) -> None:
        """spaCy's vocabulary keeps every string it has seen (accession numbers, dates, names),
        so a long batch would grow without bound: past VOCAB_REFRESH_STRINGS new strings the
        pipeline is rebuilt with a fresh vocabulary (same rules, same results)."""
        if len(self.nlp.vocab.strings) - self._base_strings > VOCAB_REFRESH_STRINGS:
            self.nlp = build_nlp(self.ruleset)
            self._base_strings = len(self.nlp.vocab.strings)

    def _check_chunk(self, chunk: Sequence[_Item], keep_text: bool = False) -> List[Outcome]:
        self._refresh_vocab()
        out: List[Optional[Outcome]] = [None] * len(chunk)
        good: List[Tuple[int, str]] = []
        for k, item in enumerate(chunk):
            try:
                good.append((k, validate_text(item.text)))
            except InputError as exc:
                out[k] = ErrorRecord(item.note_id, exc.code, exc.message, position=item.position, meta=item.meta)
        try:
            docs = list(self.nlp.pipe([self._make_doc(t) for _, t in good]))
        except Exception:  # one note broke the batch: redo one by one
            docs = []
            for k, t in good:
                try:
                    docs.append(self.nlp(self._make_doc(t)))
                except Exception as exc:  # noqa: BLE001 - record it, never stop the batch
                    out[k] = _internal_error(chunk[k], "pipeline", exc)
                    docs.append(None)
        for (k, _), doc in zip(good, docs):
            if doc is None:
                continue
            item = chunk[k]
            try:
                out[k] = self._result(doc, item.note_id, item.meta, item.codes, keep_text)
            except Exception as exc:  # noqa: BLE001
                out[k] = _internal_error(item, "element logic", exc)
        return out  # type: ignore[return-value]

    def _check_parallel(self, items: Iterator[_Item], batch_size: int, n_process: int,
                        keep_text: bool) -> Iterator[Outcome]:
        """n_process - 1 worker processes plus this one: the parent checks every n_process-th
        chunk itself while the workers check the others (it would otherwise sit waiting for
        results and still compete with them for a core). Results are yielded in input order."""
        global _PARENT
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        _PARENT = self  # a forked worker inherits this built pipeline instead of building its own
        frozen = context.get_start_method() == "fork"
        if frozen:
            gc.freeze()  # keep the collector off the inherited heap: no copy-on-write page copies
        try:
            yield from self._run_pool(context, items, batch_size, n_process, keep_text)
        finally:
            if frozen:
                gc.unfreeze()  # the workers are forked by now; let this process collect again

    def _run_pool(self, context, items: Iterator[_Item], batch_size: int, n_process: int,
                  keep_text: bool) -> Iterator[Outcome]:
        workers = n_process - 1
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                 initargs=(self._profile_arg, self._patterns_arg)) as pool:
            pending: deque = deque()  # Futures (workers' chunks) and lists (this process's chunks)
            max_pending = 2 * n_process
            number = 0
            exhausted = False
            while True:
                while not exhausted and len(pending) < max_pending:
                    chunk = list(islice(items, batch_size))
                    if not chunk:
                        exhausted = True
                        break
                    if number % n_process == 0:
                        pending.append(chunk)  # checked here when its turn comes
                    else:
                        pending.append(pool.submit(_worker_check, chunk, keep_text))
                    number += 1
                if not pending:
                    return
                head = pending.popleft()
                if isinstance(head, list):
                    yield from self._check_chunk(head, keep_text)
                else:
                    yield from head.result()


def _internal_error(item: _Item, stage: str, exc: Exception) -> ErrorRecord:
    """An error record for a note the checker itself failed on (logs the type, never the text)."""
    log.warning("note at position %s failed in %s: %s", item.position, stage, type(exc).__name__)
    return ErrorRecord(item.note_id, "internal_error", f"the checker failed on this note ({type(exc).__name__})",
                       position=item.position, meta=item.meta)


def _numbered(notes: Iterable[NoteInput]) -> Iterator[_Item]:
    for pos, item in enumerate(notes):
        if isinstance(item, (str, bytes, bytearray, InputError)) or item is None:
            yield _Item(pos, None, item)
        elif isinstance(item, tuple):
            if not 2 <= len(item) <= 4:
                yield _Item(pos, None, InputError("bad_item", f"input {pos}: a tuple must be (note_id, text[, meta[, codes]])"))
                continue
            note_id, text, meta, codes = (tuple(item) + (None, None))[:4]
            yield _Item(pos, None if note_id is None else str(note_id), text, dict(meta or {}), codes)
        elif isinstance(item, dict):
            note_id = item.get("note_id")
            yield _Item(pos, None if note_id is None else str(note_id), item.get("text"),
                        dict(item.get("meta") or {}), item.get("codes"))
        elif hasattr(item, "text"):
            note_id = getattr(item, "note_id", None)
            yield _Item(pos, None if note_id is None else str(note_id), item.text,
                        dict(getattr(item, "meta", None) or {}), getattr(item, "codes", None))
        else:
            yield _Item(pos, None, InputError("not_text", f"input {pos}: a note must be text, not {type(item).__name__}"))


_WORKER: Optional[Checker] = None
_PARENT: Optional[Checker] = None


def _init_worker(profile, patterns) -> None:
    global _WORKER
    _WORKER = _PARENT if _PARENT is not None else Checker(profile=profile, patterns=patterns)


def _worker_check(chunk, keep_text):
    assert _WORKER is not None
    return _WORKER._check_chunk(chunk, keep_text)
