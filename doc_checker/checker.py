"""The library entry point: ``Checker(profile, patterns).check(text)``.

The pipeline is built once per Checker (per process). ``check_many`` streams: it reads its
input lazily, keeps at most a few batches in memory, and yields one result or one error record
per input, in input order, whatever goes wrong with a single note.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from .coding import suggest_code
from .elements import analyze
from .errors import InputError
from .inputs import validate_text
from .layout import TEXT_KEY
from .pipeline import build_nlp
from .profile import Profile, load_profile
from .result import CheckResult, ErrorRecord, Outcome
from .rules import Ruleset, load_ruleset
from .scoring import assess

log = logging.getLogger(__name__)

NoteInput = Union[str, bytes, Tuple[Any, Any]]


class Checker:
    """Checks procedure notes for the documentation that supports CPT +77002."""

    def __init__(self, profile: Union[None, str, os.PathLike, dict, Profile] = None,
                 patterns: Union[None, str, os.PathLike] = None) -> None:
        self._profile_arg = profile
        self._patterns_arg = str(patterns) if patterns is not None else None
        self.ruleset: Ruleset = load_ruleset(patterns)
        self.profile: Profile = load_profile(profile, Path(patterns) if patterns is not None else None)
        self.nlp = build_nlp(self.ruleset)
        self._required = {name: p.required for name, p in self.profile.elements.items()}

    @property
    def ruleset_version(self) -> str:
        return self.ruleset.version

    # one note --------------------------------------------------------------------------------
    def check(self, text: Union[str, bytes], note_id: Optional[str] = None,
              meta: Optional[Dict[str, Any]] = None) -> CheckResult:
        """Check one note. Raises InputError for text that cannot be a note."""
        text = validate_text(text)
        return self._result(self.nlp(self._make_doc(text)), note_id, meta)

    def _make_doc(self, text: str):
        """Tokenize, keeping the note text on the Doc so components need not rebuild it."""
        doc = self.nlp.make_doc(text)
        doc.user_data[TEXT_KEY] = text
        return doc

    def _result(self, doc, note_id: Optional[str], meta: Optional[Dict[str, Any]] = None) -> CheckResult:
        analysis = analyze(doc, self.ruleset, self._required)
        code, findings = suggest_code(analysis, self.ruleset)
        present = {name: el.present for name, el in analysis.elements.items()}
        score, verdict, queries = assess(present, self.profile, code, self.ruleset.elements)
        return CheckResult(
            note_id=None if note_id is None else str(note_id), score=score, verdict=verdict,
            suggested_code=code, elements=analysis.elements, findings=findings, queries=queries,
            ruleset_version=self.ruleset.version, profile=self.profile.name, meta=dict(meta or {}),
        )

    # many notes ------------------------------------------------------------------------------
    def check_many(self, notes: Iterable[NoteInput], batch_size: int = 64, n_process: int = 1) -> Iterator[Outcome]:
        """Yield one CheckResult or ErrorRecord per input, in input order, streaming.

        ``notes`` items are texts or ``(note_id, text)`` pairs. With ``n_process > 1`` each worker
        process builds its own Checker once; results are identical to one process.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        items = _numbered(notes)
        if n_process == 1:
            while True:
                chunk = list(islice(items, batch_size))
                if not chunk:
                    return
                yield from self._check_chunk(chunk)
        else:
            if n_process < 1:
                n_process = os.cpu_count() or 1
            yield from self._check_parallel(items, batch_size, n_process)

    def _check_chunk(self, chunk: Sequence[Tuple[int, Optional[str], Any, Dict[str, Any]]]) -> List[Outcome]:
        out: List[Optional[Outcome]] = [None] * len(chunk)
        good: List[Tuple[int, str]] = []
        for k, (pos, note_id, text, meta) in enumerate(chunk):
            try:
                good.append((k, validate_text(text)))
            except InputError as exc:
                out[k] = ErrorRecord(note_id, exc.code, exc.message, position=pos, meta=meta)
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
            _, note_id, _, meta = chunk[k]
            try:
                out[k] = self._result(doc, note_id, meta)
            except Exception as exc:  # noqa: BLE001
                out[k] = _internal_error(chunk[k], "element logic", exc)
        return out  # type: ignore[return-value]

    def _check_parallel(self, items: Iterator, batch_size: int, n_process: int) -> Iterator[Outcome]:
        from collections import deque

        global _PARENT
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        _PARENT = self  # a forked worker inherits this built pipeline instead of building its own
        with ProcessPoolExecutor(max_workers=n_process, mp_context=context, initializer=_init_worker,
                                 initargs=(self._profile_arg, self._patterns_arg)) as pool:
            pending: deque = deque()
            max_pending = 2 * n_process
            while True:
                while len(pending) < max_pending:
                    chunk = list(islice(items, batch_size))
                    if not chunk:
                        break
                    pending.append(pool.submit(_worker_check, chunk))
                if not pending:
                    return
                yield from pending.popleft().result()


def _internal_error(item, stage: str, exc: Exception) -> ErrorRecord:
    """An error record for a note the checker itself failed on (logs the type, never the text)."""
    pos, note_id, _, meta = item
    log.warning("note at position %s failed in %s: %s", pos, stage, type(exc).__name__)
    return ErrorRecord(note_id, "internal_error", f"the checker failed on this note ({type(exc).__name__})",
                       position=pos, meta=meta)


def _numbered(notes: Iterable[NoteInput]) -> Iterator[Tuple[int, Optional[str], Any, Dict[str, Any]]]:
    for pos, item in enumerate(notes):
        meta: Dict[str, Any] = {}
        if isinstance(item, tuple):
            if len(item) == 3:
                note_id, text, meta = item
            elif len(item) == 2:
                note_id, text = item
            else:
                yield pos, None, None, {}
                continue
            yield pos, (None if note_id is None else str(note_id)), text, dict(meta or {})
        else:
            yield pos, None, item, meta


_WORKER: Optional[Checker] = None
_PARENT: Optional[Checker] = None


def _init_worker(profile, patterns) -> None:
    global _WORKER
    _WORKER = _PARENT if _PARENT is not None else Checker(profile=profile, patterns=patterns)


def _worker_check(chunk):
    assert _WORKER is not None
    return _WORKER._check_chunk(chunk)
