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
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union, cast

from .decide.claims import ClaimRules, claim_findings, load_claim_rules, parse_codes
from .decide.coding import suggest_code
from .decide.elements import analyze
from .decide.scoring import assess
from .errors import InputError
from .io.text import MAX_NOTE_CHARS, validate_text
from .nlp._layout import TEXT_KEY
from .nlp._spangroups import BOUNDS_ONLY
from .nlp._tokenizer_cache import ChunkCachePrimer
from .nlp.pipeline import build_nlp
from .nlp.tokenizer import make_doc
from .result import CheckResult, ErrorRecord, Finding, Outcome, Review
from .rules import Profile, Ruleset, default_patterns_dir, load_profile, load_ruleset

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
    where: str = ""  # a reader record's location ("notes.csv:row 7"), for error messages


class _Deferred:
    """The input iterator with its failure held back: when the caller's generator raises, the
    notes already read are still checked and yielded, then ``check_many`` raises it."""

    def __init__(self, items: Iterator[_Item]) -> None:
        self._items = items
        self.error: Optional[BaseException] = None

    def __iter__(self) -> "_Deferred":
        return self

    def __next__(self) -> _Item:
        if self.error is not None:
            raise StopIteration
        try:
            return next(self._items)
        except StopIteration:
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised once what was read is yielded
            self.error = exc
            raise StopIteration from None


class Checker:
    """Checks procedure notes for the documentation that supports CPT +77002."""

    def __init__(
        self,
        profile: Union[None, str, os.PathLike, dict, Profile] = None,
        patterns: Union[None, str, os.PathLike] = None,
        engine: str = "doc-checker",
    ) -> None:
        """``engine="medspacy"`` builds the same checker from stock medspaCy components
        (Sectionizer, TargetMatcher, ConText) with the same rule files: slower, for users who
        must run stock medspaCy; its results differ only by the deviations listed in
        ``doc_checker.nlp.deviations``."""
        self._profile_arg = profile
        self.engine = engine
        self._patterns_arg = str(patterns) if patterns is not None else None
        self.ruleset: Ruleset = load_ruleset(patterns)
        self.profile: Profile = load_profile(
            profile, Path(patterns) if patterns is not None else None
        )
        claims_dir = (
            patterns if patterns is not None and (Path(patterns) / "claims.json").exists() else None
        )
        self.claim_rules: ClaimRules = load_claim_rules(
            claims_dir if claims_dir is not None else default_patterns_dir()
        )
        self.nlp = build_nlp(self.ruleset, max_length=MAX_NOTE_CHARS, engine=engine)
        self._primer = ChunkCachePrimer(self.nlp.tokenizer)
        self._base_strings = len(self.nlp.vocab.strings)
        self._required = {name: p.required for name, p in self.profile.elements.items()}
        self._pools: Dict[int, ProcessPoolExecutor] = {}  # n_process -> its worker pool, kept

    # worker pools ----------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the worker processes that ``check_many(n_process > 1)`` started (they are kept
        for the next call, which then starts at once). Also done on exit; idempotent."""
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "Checker":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def ruleset_version(self) -> str:
        return self.ruleset.version

    # one note --------------------------------------------------------------------------------
    def check(
        self,
        text: Union[str, bytes],
        note_id: Optional[str] = None,
        meta: Optional[Dict[str, Any]] = None,
        codes: Any = None,
        keep_text: bool = False,
    ) -> CheckResult:
        """Check one note. ``codes``: the claim's billed CPT codes ("20610;77002-26"), when
        known, for the claim edits. Raises InputError for text that cannot be a note."""
        text = validate_text(text)
        return self._result(self.nlp(self._make_doc(text)), note_id, meta, codes, keep_text)

    def doc(self, text: Union[str, bytes]):
        """The note through the checker's pipeline, as a Doc medspaCy code can read: targets in
        span group ``medspacy_spans`` and ``doc.ents``, with medspaCy's extensions
        (``is_negated`` ... ``modifiers``, ``section_category``, ``doc._.sections``,
        ``doc._.context_graph``); see :mod:`doc_checker.nlp.interop`. (Those are Python objects
        on the Doc: for inspection and medspaCy's tools, not for DocBin.)"""
        from .nlp.interop import to_medspacy

        doc = self.nlp(self._make_doc(validate_text(text), spans=True))
        return to_medspacy(doc, self.nlp, self.ruleset)

    def _make_doc(self, text: str, spans: bool = False):
        """Tokenize, keeping the note text on the Doc so components need not rebuild it.
        ``spans``: build the span groups as Span objects (for a Doc handed to the user); a
        check reads only their (start, end, label) tuples."""
        self._primer(text)
        doc = make_doc(self.nlp, text)
        doc.user_data[TEXT_KEY] = text
        if not spans:
            doc.user_data[BOUNDS_ONLY] = True
        return doc

    def _result(
        self,
        doc,
        note_id: Optional[str],
        meta: Optional[Dict[str, Any]] = None,
        codes: Any = None,
        keep_text: bool = False,
    ) -> CheckResult:
        analysis = analyze(doc, self.ruleset, self._required)
        code, findings = suggest_code(analysis, self.ruleset)
        present = {name: el.present for name, el in analysis.elements.items()}
        score, verdict, queries = assess(present, self.profile, code, self.ruleset.elements)
        billed, claims = self._claims(codes, code, verdict, analysis.ct_mr_arthrogram)
        return CheckResult(
            note_id=None if note_id is None else str(note_id),
            score=score,
            verdict=verdict,
            suggested_code=code,
            elements=analysis.elements,
            findings=findings,
            queries=queries,
            ruleset_version=self.ruleset.version,
            profile=self.profile.name,
            meta=dict(meta or {}),
            billed_codes=billed,
            claim_findings=claims,
            procedures=[f.to_dict() for f in analysis.frames.frames] if analysis.frames else [],
            review=Review(bool(analysis.review), list(dict.fromkeys(analysis.review))),
            text=doc.user_data.get(TEXT_KEY) if keep_text else None,
        )

    def _claims(
        self, codes: Any, suggested: Optional[str], verdict: str, ct_mr_arthrogram: bool
    ) -> Tuple[Optional[List[str]], List[Finding]]:
        if codes is None:
            return None, []
        try:
            billed = parse_codes(codes)
        except ValueError as exc:
            return [], [
                Finding("INVALID_CODES", "error", f"The billed codes could not be read: {exc}")
            ]
        return [str(b) for b in billed], claim_findings(
            billed,
            suggested_code=suggested,
            verdict=verdict,
            ct_mr_arthrogram=ct_mr_arthrogram,
            rules=self.claim_rules,
        )

    # many notes ------------------------------------------------------------------------------
    def check_many(
        self,
        notes: Iterable[NoteInput],
        batch_size: int = 64,
        n_process: int = 1,
        keep_text: bool = False,
    ) -> Iterator[Outcome]:
        """Yield one CheckResult or ErrorRecord per input, in input order, streaming.

        ``notes`` items are texts, ``(note_id, text[, meta[, codes]])`` tuples, dicts with those
        keys, or reader records. With ``n_process > 1`` worker processes share the work (forked
        workers reuse this Checker's pipeline); results are identical to one process.
        ``keep_text`` keeps each note's text on its result (for an HTML report).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        items = _Deferred(_numbered(notes))
        if n_process == 1:
            while True:
                chunk = list(islice(items, batch_size))
                if not chunk:
                    break
                yield from self._check_chunk(chunk, keep_text)
        else:
            if n_process < 1:
                n_process = os.cpu_count() or 1
            yield from self._check_parallel(items, batch_size, n_process, keep_text)
        if items.error is not None:  # the input itself failed: after what it gave is yielded
            raise items.error

    def _refresh_vocab(self) -> None:
        """spaCy's vocabulary keeps every string it has seen (accession numbers, dates, names),
        so a long batch would grow without bound: past VOCAB_REFRESH_STRINGS new strings the
        pipeline is rebuilt with a fresh vocabulary (same rules, same results)."""
        if len(self.nlp.vocab.strings) - self._base_strings > VOCAB_REFRESH_STRINGS:
            self.nlp = build_nlp(self.ruleset, max_length=MAX_NOTE_CHARS, engine=self.engine)
            self._primer = ChunkCachePrimer(self.nlp.tokenizer)
            self._base_strings = len(self.nlp.vocab.strings)

    def _check_chunk(self, chunk: Sequence[_Item], keep_text: bool = False) -> List[Outcome]:
        with _gc_paused():
            return self._check_chunk_now(chunk, keep_text)

    def _check_chunk_now(self, chunk: Sequence[_Item], keep_text: bool) -> List[Outcome]:
        self._refresh_vocab()
        out: List[Optional[Outcome]] = [None] * len(chunk)
        good: List[Tuple[int, str]] = []
        for k, item in enumerate(chunk):
            try:
                good.append((k, validate_text(item.text)))
            except InputError as exc:
                message = exc.message
                if item.where and not message.startswith(item.where):
                    message = f"{item.where}: {message}"  # say where, as the readers do
                out[k] = ErrorRecord(
                    item.note_id, exc.code, message, position=item.position, meta=item.meta
                )
        # stage by stage: every note of the chunk through one component, then the next (about a
        # tenth faster than note by note: each stage's code and data stay warm in the CPU caches)
        try:
            docs = [self._make_doc(t) for _, t in good]
            for _, proc in self.nlp.pipeline:
                docs = [proc(doc) for doc in docs]
        except Exception:  # one note broke the batch: redo it one by one
            docs = []
            for k, t in good:
                try:
                    docs.append(self.nlp(self._make_doc(t)))
                except Exception as exc:  # noqa: BLE001 - record it, never stop the batch
                    out[k] = _internal_error(chunk[k], "pipeline", exc)
                    docs.append(None)
        for (k, _), doc in zip(good, docs, strict=True):
            if doc is not None:
                out[k] = self._outcome(doc, chunk[k], keep_text)
        return cast(List[Outcome], out)  # every slot is set: an error record or a result

    def _outcome(self, doc, item: _Item, keep_text: bool) -> Outcome:
        try:
            return self._result(doc, item.note_id, item.meta, item.codes, keep_text)
        except Exception as exc:  # noqa: BLE001 - record it, never stop the batch
            return _internal_error(item, "element logic", exc)

    def _check_parallel(
        self, items: Iterator[_Item], batch_size: int, n_process: int, keep_text: bool
    ) -> Iterator[Outcome]:
        """n_process - 1 worker processes plus this one: the parent checks every n_process-th
        chunk itself while the workers check the others (it would otherwise sit waiting for
        results and still compete with them for a core). Results are yielded in input order."""
        global _PARENT
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        pool = self._pools.get(n_process)
        if pool is None or getattr(pool, "_broken", False):
            # the workers start at the first submit and are kept for later calls (close() ends them)
            _PARENT = (
                self  # a forked worker inherits this built pipeline instead of building its own
            )
            pool = self._pools[n_process] = ProcessPoolExecutor(
                max_workers=n_process - 1,
                mp_context=context,
                initializer=_init_worker,
                initargs=(self._profile_arg, self._patterns_arg, self.engine, os.getpid()),
            )
        frozen = context.get_start_method() == "fork"
        if frozen:
            gc.freeze()  # keep the collector off the inherited heap: no copy-on-write page copies
        try:
            yield from self._run_pool(pool, items, batch_size, n_process, keep_text)
        finally:
            if frozen:
                gc.unfreeze()  # the workers are forked by now; let this process collect again

    def _run_pool(
        self,
        pool: ProcessPoolExecutor,
        items: Iterator[_Item],
        batch_size: int,
        n_process: int,
        keep_text: bool,
    ) -> Iterator[Outcome]:
        """Every n_process-th chunk is this process's, the others go to the workers. Results are
        yielded in input order; while the next one is still with a worker, this process checks
        one of its own later chunks, or takes back a chunk no worker has started, rather than
        wait (so neither side idles while work remains)."""
        pending: deque = deque()  # in input order: _OwnChunk and _WorkerChunk
        max_pending = 4 * n_process
        number = 0
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < max_pending:
                    chunk = list(islice(items, batch_size))
                    if not chunk:
                        exhausted = True
                        break
                    if number % n_process == 0:
                        pending.append(_OwnChunk(chunk))
                    else:
                        pending.append(
                            _WorkerChunk(chunk, pool.submit(_worker_check, chunk, keep_text))
                        )
                    number += 1
                if not pending:
                    return
                head = pending[0]
                if isinstance(head, _OwnChunk) or head.future.done():
                    pending.popleft()
                    yield from (
                        head.check(self, keep_text)
                        if isinstance(head, _OwnChunk)
                        else head.future.result()
                    )
                    continue
                if not self._work_ahead(pending, keep_text):
                    pending.popleft()
                    yield from head.future.result()
        finally:  # the caller stopped early, or an error: the kept workers drop what is queued
            for p in pending:
                if isinstance(p, _WorkerChunk):
                    p.future.cancel()

    def _work_ahead(self, pending: deque, keep_text: bool) -> bool:
        """Check one later chunk now (kept until its turn): one of this process's, else the last
        one still queued for a worker (taken back). False when there is none."""
        for p in pending:
            if isinstance(p, _OwnChunk) and p.outcomes is None:
                p.check(self, keep_text)
                return True
        for i in range(len(pending) - 1, 0, -1):
            p = pending[i]
            if isinstance(p, _WorkerChunk) and p.future.cancel():  # no worker has started it
                pending[i] = _OwnChunk(p.chunk)
                pending[i].check(self, keep_text)
                return True
        return False


class _WorkerChunk:
    """A chunk sent to a worker process (kept, to be taken back if no worker starts it)."""

    __slots__ = ("chunk", "future")

    def __init__(self, chunk: List[_Item], future: Any) -> None:
        self.chunk = chunk
        self.future = future


class _OwnChunk:
    """A chunk the parent process checks itself, possibly before its turn to be yielded."""

    __slots__ = ("chunk", "outcomes")

    def __init__(self, chunk: List[_Item]) -> None:
        self.chunk = chunk
        self.outcomes: Optional[List[Outcome]] = None

    def check(self, checker: "Checker", keep_text: bool) -> List[Outcome]:
        if self.outcomes is None:
            self.outcomes = checker._check_chunk(self.chunk, keep_text)
        return self.outcomes


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while one chunk is checked (a bounded batch of
    notes: what it allocates is freed by reference counting, and any cycles are collected once
    the chunk is done). Its passes over the pipeline's long-lived objects cost a fifth of the
    checker's time. Process-wide, like gc.disable itself; left off if it was off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _internal_error(item: _Item, stage: str, exc: Exception) -> ErrorRecord:
    """An error record for a note the checker itself failed on (logs the type, never the text)."""
    log.warning("note at position %s failed in %s: %s", item.position, stage, type(exc).__name__)
    return ErrorRecord(
        item.note_id,
        "internal_error",
        f"the checker failed on this note ({type(exc).__name__})",
        position=item.position,
        meta=item.meta,
    )


def _numbered(notes: Iterable[NoteInput]) -> Iterator[_Item]:
    for pos, item in enumerate(notes):
        if isinstance(item, (str, bytes, bytearray, InputError)) or item is None:
            yield _Item(pos, None, item)
        elif isinstance(item, tuple):
            if not 2 <= len(item) <= 4:
                yield _Item(
                    pos,
                    None,
                    InputError(
                        "bad_item", f"input {pos}: a tuple must be (note_id, text[, meta[, codes]])"
                    ),
                )
                continue
            note_id, text, meta, codes = (tuple(item) + (None, None))[:4]
            yield _Item(
                pos, None if note_id is None else str(note_id), text, dict(meta or {}), codes
            )
        elif isinstance(item, dict):
            note_id = item.get("note_id")
            yield _Item(
                pos,
                None if note_id is None else str(note_id),
                item.get("text"),
                dict(item.get("meta") or {}),
                item.get("codes"),
            )
        elif hasattr(item, "text"):
            note_id = getattr(item, "note_id", None)
            where = getattr(item, "where", "")
            yield _Item(
                pos,
                None if note_id is None else str(note_id),
                item.text,
                dict(getattr(item, "meta", None) or {}),
                getattr(item, "codes", None),
                where if isinstance(where, str) else "",
            )
        else:
            yield _Item(
                pos,
                None,
                InputError(
                    "not_text", f"input {pos}: a note must be text, not {type(item).__name__}"
                ),
            )


_WORKER: Optional[Checker] = None
_PARENT: Optional[Checker] = None


def _init_worker(profile, patterns, engine="doc-checker", parent: Optional[int] = None) -> None:
    global _WORKER
    _exit_with_parent(parent if parent is not None else os.getppid())
    _WORKER = (
        _PARENT
        if _PARENT is not None
        else Checker(profile=profile, patterns=patterns, engine=engine)
    )


def _exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """A worker must not outlive the process that started it (killed with SIGKILL, it cannot
    stop its pool, and the orphan would hold its memory): on Linux the kernel sends SIGTERM when
    the parent dies (PR_SET_PDEATHSIG); everywhere, a daemon thread watches for the parent to
    go (the worker is re-parented) and ends the process."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="doc-checker-parent-watch", daemon=True).start()


def _worker_check(chunk, keep_text):
    assert _WORKER is not None
    return _WORKER._check_chunk(chunk, keep_text)
