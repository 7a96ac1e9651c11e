"""Inputs for the CLI: .txt files, directories of them, stdin. Each yields (note_id, text-or-bytes);
an unreadable file yields an InputError in place of its text, so it becomes an error record."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple, Union

from .errors import InputError

NoteItem = Tuple[str, Union[bytes, str, InputError]]


class UsageError(Exception):
    """Bad command-line input (exit code 2): a path that does not exist, no notes found."""


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


def iter_notes(paths: Sequence[Union[Path, str]]) -> Iterator[NoteItem]:
    """Read notes lazily, one file at a time."""
    for path in paths:
        if path == "-":
            yield "stdin", sys.stdin.buffer.read()
            continue
        note_id = Path(path).stem
        try:
            yield note_id, Path(path).read_bytes()
        except OSError as exc:
            yield note_id, InputError("unreadable", f"{path}: cannot read file ({exc.strerror or type(exc).__name__})")
