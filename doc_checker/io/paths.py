"""Command-line inputs: expand PATH arguments, then read each file in its format.

A directory stands for every ``*.txt`` below it (sorted); ``-`` is one note on stdin. Files are
read by :mod:`doc_checker.io.readers` (txt, csv, tsv, jsonl, hl7, fhir json), lazily; a bad
row, message or resource becomes an error record in place.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Sequence, Union

from ..errors import InputError, UsageError
from .text import decode_bytes

if TYPE_CHECKING:  # at run time the readers are imported on first use (below)
    from .readers import NoteRecord


def resolve_paths(paths: Sequence[str]) -> List[Union[Path, str]]:
    """Expand CLI paths to note files (directories: every *.txt below, sorted). Fails before any
    note is processed when a path does not exist or a directory holds no notes."""
    out: List[Union[Path, str]] = []
    for raw in paths:
        if raw == "-":
            out.append("-")
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if p.is_file())
            if not files:
                raise UsageError(f"{raw}: directory holds no .txt notes")
            out.extend(files)
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"{raw}: no such file or directory")
    if not out:
        raise UsageError("no input paths given")
    return out


def iter_records(
    paths: Sequence[Union[Path, str]],
    input_format: Optional[str] = None,
    id_column: str = "note_id",
    text_column: str = "text",
    codes_column: str = "cpt_codes",
    codes: Optional[str] = None,
) -> Iterator[NoteRecord]:
    """Every note of every path, in order, as reader records. Formats, and the header of every
    CSV/TSV file, are checked before any note is read (a UsageError); ``codes`` fills in the
    billed codes where a record has none."""
    from .readers import detect_format, read_records

    opened: Dict[int, Iterator[NoteRecord]] = {}
    for i, path in enumerate(paths):
        if path == "-":
            continue
        fmt = (input_format or detect_format(str(path))).lower()
        if fmt in ("csv", "tsv"):  # reads and checks the header now
            opened[i] = read_records(str(path), fmt, id_column, text_column, codes_column)
    for i, path in enumerate(paths):
        if path == "-":
            records: Iterator[NoteRecord] = iter([_stdin_record()])
        elif i in opened:
            records = opened.pop(i)
        else:
            records = read_records(str(path), input_format, id_column, text_column, codes_column)
        for record in records:
            if codes is not None and record.codes is None:
                record.codes = codes
            yield record


def _stdin_record() -> NoteRecord:
    """The one note on stdin, decoded as a .txt file is (a decoding failure is its error)."""
    from .readers import NoteRecord

    text: Union[str, InputError]
    try:
        text = decode_bytes(sys.stdin.buffer.read())
    except InputError as exc:
        text = exc
    return NoteRecord("stdin", text, {}, None, "stdin")
