"""Command-line inputs: expand PATH arguments, then read each file in its format.

A directory stands for every ``*.txt`` below it (any case, links followed, sorted); ``-`` is
one note on stdin. Files are read by :mod:`doc_checker.io.readers` (txt, csv, tsv, jsonl, hl7,
fhir json), lazily; a bad row, message or resource becomes an error record in place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

from ..errors import InputError, UsageError
from .text import decode_bytes

if TYPE_CHECKING:  # at run time the readers are imported on first use (below)
    from .readers import NoteRecord


def resolve_paths(
    paths: Sequence[str], report: Optional[Callable[[str, str], None]] = None
) -> List[Union[Path, str]]:
    """Expand CLI paths to note files (directories: every ``*.txt`` below, any case, symbolic
    links followed, sorted). Fails before any note is processed when a path does not exist or a
    directory holds no notes. Every path a directory walk passes over that could have been a
    note (a dangling link, a link loop, an unreadable folder, a ``.txt`` that is not a file) is
    given to ``report(path, reason)``."""
    out: List[Union[Path, str]] = []
    for raw in paths:
        if raw == "-":
            out.append("-")
            continue
        path = Path(raw)
        if path.is_dir():
            files = _txt_files(path, report or (lambda _p, _r: None))
            if not files:
                raise UsageError(f"{raw}: directory holds no .txt notes")
            out.extend(files)
        elif path.is_file():
            out.append(path)
        elif path.is_symlink():
            raise UsageError(f"{raw}: a symbolic link to nothing (its target does not exist)")
        else:
            raise UsageError(f"{raw}: no such file or directory")
    if not out:
        raise UsageError("no input paths given")
    return out


def _txt_files(root: Path, report: Callable[[str, str], None]) -> List[Path]:
    """Every ``*.txt`` (case-insensitive) below ``root``, following symbolic links; a folder
    reached twice through links (a loop, or an alias) is walked once."""
    found: List[Path] = []
    seen: Set[Tuple[int, int]] = set()

    def walk(folder: Path) -> None:
        try:
            st = folder.stat()
        except OSError as exc:
            report(str(folder), f"cannot read the folder ({exc.strerror or type(exc).__name__})")
            return
        key = (st.st_dev, st.st_ino)
        if key in seen:
            report(str(folder), "a symbolic link loop (or a second link to a folder already read)")
            return
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            report(str(folder), f"cannot read the folder ({exc.strerror or type(exc).__name__})")
            return
        for entry in entries:
            child = folder / entry.name
            is_txt = entry.name.lower().endswith(".txt")
            try:
                is_dir = entry.is_dir()  # follows links
                is_file = entry.is_file()
            except OSError as exc:
                report(str(child), f"cannot read ({exc.strerror or type(exc).__name__})")
                continue
            if is_dir:
                walk(child)
            elif is_file:
                if is_txt:
                    found.append(child)
            elif is_txt:
                if entry.is_symlink():
                    reason = "a symbolic link to nothing (or a link loop)"
                else:
                    reason = "not a regular file"
                report(str(child), reason)

    walk(root)
    return sorted(found)


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
