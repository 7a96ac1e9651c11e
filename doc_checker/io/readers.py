"""Readers for notes exported by data warehouses and clinical systems: CSV / TSV, JSON Lines,
HL7 v2 (ORU^R01, MDM^T02), FHIR R4 JSON (DiagnosticReport, DocumentReference, Bundle) and plain
``.txt``. Each reader yields one :class:`NoteRecord` per note, lazily.

Streaming: CSV, TSV, JSONL and HL7 files are read a line / segment at a time and never held in
memory whole; a FHIR JSON document is one JSON value and is parsed whole.

Bad input is reported, never quoted: a ragged row, an empty text cell, a broken JSON line, an HL7
message without text, an undecodable attachment becomes a record whose ``text`` is an
:class:`~doc_checker.errors.InputError` naming where it is (``notes.csv:row 17``,
``batch.hl7:message 3``, ``bundle.json:entry 2``), and reading goes on. Problems with the file as
a whole that the user must fix (unknown format, missing file, a CSV header without the text
column) raise :class:`~doc_checker.io.paths.UsageError` when :func:`read_records` is called.

Locations: CSV/TSV ``row N`` is the spreadsheet row (the header is row 1, so the first note is
row 2, a multi-line cell counts as one row); JSONL ``line N`` is the physical line; HL7
``message N`` and FHIR ``entry N`` count from 1.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import csv
import json
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Generator,
    Iterable,
    Iterator,
    List,
    Optional,
    Tuple,
    Union,
)

import hl7

from ..errors import InputError, UsageError
from .text import decode_bytes

__all__ = ["NoteRecord", "FORMATS", "detect_format", "read_records"]

FORMATS = ("csv", "tsv", "jsonl", "hl7", "fhir", "txt")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".hl7": "hl7",
    ".json": "fhir",
    ".txt": "txt",
}
_CHUNK = 1 << 16


@dataclass
class NoteRecord:
    """One note read from a source file (or the error that stands in for it)."""

    note_id: Optional[str]
    text: Union[str, InputError]
    meta: Dict[str, Any] = field(default_factory=dict)
    codes: Optional[str] = None
    where: str = ""

    @property
    def ok(self) -> bool:
        return not isinstance(self.text, InputError)


# --------------------------------------------------------------------------------------------
# entry points


def detect_format(path: str) -> str:
    """The input format of ``path`` from its extension (case-insensitive)."""
    suffix = Path(str(path)).suffix.lower()
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        known = ", ".join(sorted(_EXTENSIONS))
        raise UsageError(
            f"{path}: cannot tell the input format from the extension "
            f"{suffix or '(none)'!r}; use one of {known} or name the format "
            f"({', '.join(FORMATS)})"
        ) from None


def read_records(
    path: str,
    input_format: Optional[str] = None,
    id_column: str = "note_id",
    text_column: str = "text",
    codes_column: str = "cpt_codes",
) -> Iterator[NoteRecord]:
    """Yield one :class:`NoteRecord` per note in ``path``, lazily.

    Usage errors (unknown format, missing file, a CSV/TSV header without ``text_column``) are
    raised here, before any record is read; everything wrong with a single note becomes an error
    record and reading continues.
    """
    fmt = (input_format or detect_format(path)).lower()
    if fmt not in FORMATS:
        raise UsageError(f"unknown input format {input_format!r}; use one of {', '.join(FORMATS)}")
    p = Path(str(path))
    if not p.is_file():
        raise UsageError(f"{path}: no such file" if not p.exists() else f"{path}: not a file")
    where = str(path)
    if fmt in ("csv", "tsv"):
        delimiter = "," if fmt == "csv" else "\t"
        header = _delimited_header(p, where, delimiter, text_column)
        return _read_delimited(p, where, delimiter, header, id_column, text_column, codes_column)
    if fmt == "jsonl":
        return _read_jsonl(p, where, id_column, text_column, codes_column)
    if fmt == "hl7":
        return _read_hl7(p, where)
    if fmt == "fhir":
        return _read_fhir(p, where)
    return _read_txt(p, where)


def _error(
    where: str,
    code: str,
    message: str,
    note_id: Optional[str] = None,
    meta: Optional[Dict[str, Any]] = None,
    codes: Optional[str] = None,
) -> NoteRecord:
    return NoteRecord(note_id, InputError(code, f"{where}: {message}"), meta or {}, codes, where)


def _opt_str(value: Any) -> Optional[str]:
    """An id / code value as a string, or None when absent or blank."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------------------------
# plain text


def _read_txt(p: Path, where: str) -> Iterator[NoteRecord]:
    try:
        data = p.read_bytes()
    except OSError as exc:
        yield _error(
            where, "unreadable", f"cannot read file ({exc.strerror or type(exc).__name__})", p.stem
        )
        return
    try:
        text: Union[str, InputError] = decode_bytes(data)
    except InputError as exc:
        text = InputError(exc.code, f"{where}: {exc.message}")
    yield NoteRecord(p.stem, text, {}, None, where)


# --------------------------------------------------------------------------------------------
# CSV / TSV


def _raise_csv_field_limit() -> None:
    """Let one cell hold a whole (large) note: the csv module's default limit is 128 KiB."""
    limit = sys.maxsize
    while True:
        try:
            if csv.field_size_limit() < limit:
                csv.field_size_limit(limit)
            return
        except OverflowError:  # C long smaller than Py_ssize_t (Windows)
            limit = int(limit / 10)


def _decoded_lines(p: Path) -> Generator[str, None, None]:
    """The file's physical lines, UTF-8 decoded one at a time (a leading BOM dropped). Invalid
    bytes become lone surrogates (surrogateescape) so the row holding them can be refused alone."""
    with p.open("rb") as fh:
        first = True
        for raw in fh:
            if first:
                first = False
                if raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
            yield raw.decode("utf-8", "surrogateescape")


_SURROGATE_RE = re.compile("[\udc80-\udcff]")


def _has_bad_bytes(values: Iterable[str]) -> bool:
    return any(_SURROGATE_RE.search(v) for v in values)


def _delimited_header(p: Path, where: str, delimiter: str, text_column: str) -> List[str]:
    _raise_csv_field_limit()
    lines = _decoded_lines(p)
    header: Optional[List[str]] = None
    try:
        for row in csv.reader(lines, delimiter=delimiter):
            if any(cell.strip() for cell in row):
                header = row
                break
    except csv.Error as exc:
        raise UsageError(f"{where}: the header row cannot be read ({exc})") from None
    except OSError as exc:
        raise UsageError(
            f"{where}: cannot read file ({exc.strerror or type(exc).__name__})"
        ) from None
    finally:
        lines.close()  # closes the file now, not at garbage collection
    if header is None:
        raise UsageError(f"{where}: the file is empty (no header row)")
    if _has_bad_bytes(header):
        raise UsageError(f"{where}: the header row is not valid UTF-8; convert the file to UTF-8")
    header = [h.strip() for h in header]
    if text_column not in header:
        kind = "column" if delimiter == "," else "tab-separated column"
        # the first row may be data (a file without a header row): name no cell, count them
        raise UsageError(
            f"{where}: no {kind} named {text_column!r} for the note text in the first row "
            f"({len(header)} columns); the first row must be a header row naming the columns "
            f"(choose the text column with the text-column option)"
        )
    if header.count(text_column) > 1:
        raise UsageError(
            f"{where}: the header names the text column {text_column!r} more than once"
        )
    return header


def _meta_keys(header: List[str]) -> List[str]:
    """Column names as meta keys: a repeated name gets a suffix (``name.2``) so no value is lost."""
    seen: Dict[str, int] = {}
    keys = []
    for i, name in enumerate(header):
        name = name or f"column_{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return keys


def _read_delimited(
    p: Path,
    where: str,
    delimiter: str,
    header: List[str],
    id_column: str,
    text_column: str,
    codes_column: str,
) -> Iterator[NoteRecord]:
    _raise_csv_field_limit()
    keys = _meta_keys(header)
    text_i = header.index(text_column)
    id_i = header.index(id_column) if id_column in header and id_column != text_column else None
    codes_i = (
        header.index(codes_column)
        if codes_column in header and codes_column != text_column
        else None
    )
    meta_idx = [i for i in range(len(header)) if i not in (text_i, id_i, codes_i)]
    # strict: a quote closed in the middle of a cell is an error, not glued to the next row
    reader = csv.reader(_decoded_lines(p), delimiter=delimiter, strict=True)
    header_seen = False
    row_no = 0
    while True:
        first_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # an unclosed quote, a stray one after a cell, a NUL byte
            row_no += 1
            yield _error(
                f"{where}:row {row_no}",
                "bad_row",
                f"the row cannot be parsed ({_csv_problem(exc)}; "
                f"{_lines(first_line, reader.line_num)}); check the quoting of this row",
            )
            continue
        row_no += 1
        if reader.line_num > first_line and _quote_swallowed_row(row, delimiter, text_i):
            yield _error(
                f"{where}:row {row_no}",
                "bad_row",
                f"a quoted cell runs on over {_lines(first_line, reader.line_num)} and holds "
                "what looks like the start of the next row: a quote is probably not closed; "
                "check the quoting of this row",
                _opt_str(row[id_i]) if id_i is not None and id_i < len(row) else None,
            )
            continue
        if not header_seen:
            if any(cell.strip() for cell in row):
                header_seen = True
            continue
        if not any(cell.strip() for cell in row):
            continue  # blank line
        loc = f"{where}:row {row_no}"
        note_id = _opt_str(row[id_i]) if id_i is not None and id_i < len(row) else None
        codes = _opt_str(row[codes_i]) if codes_i is not None and codes_i < len(row) else None
        meta = {keys[i]: row[i] for i in meta_idx if i < len(row)}
        if _has_bad_bytes(row):
            clean_id = note_id if note_id and not _has_bad_bytes([note_id]) else None
            yield _error(
                loc, "not_utf8", "the row is not valid UTF-8; convert the file to UTF-8", clean_id
            )
            continue
        if len(row) != len(header):
            yield _error(
                loc,
                "ragged_row",
                f"the row has {len(row)} fields but the header has "
                f"{len(header)}; check the quoting and delimiters of this row",
                note_id,
                meta,
                codes,
            )
            continue
        text = row[text_i]
        if not text.strip():
            yield _error(
                loc, "missing_text", f"the {text_column!r} cell is empty", note_id, meta, codes
            )
            continue
        yield NoteRecord(note_id, text, meta, codes, loc)


def _lines(first: int, last: int) -> str:
    return f"line {first}" if last <= first else f"lines {first}-{last}"


def _csv_problem(exc: csv.Error) -> str:
    """The csv module's message, reworded where it is obscure (it never quotes a value)."""
    msg = str(exc)
    if "unexpected end of data" in msg:
        return "a quote is opened and not closed before the end of the file"
    if "expected after" in msg:
        return "a quote closes in the middle of a cell"
    if "NUL" in msg:
        return "the row contains a NUL byte"
    return msg


def _quote_swallowed_row(row: List[str], delimiter: str, text_i: int) -> bool:
    """A multi-line text cell whose last line looks like the start of the next row, up to its
    own opening quote: ``n1,"a`` / ``n2,"`` read as one row whose text is ``a\\nn2,``. That
    last line holds exactly the delimiters before the text column, ends with one and has no
    space (ids and codes, not prose), so a note whose line ends with a comma is not taken."""
    if text_i >= len(row):
        return False
    cell = row[text_i].rstrip("\r\n")
    if "\n" not in cell:
        return False
    tail = cell.rsplit("\n", 1)[1]
    return (
        text_i > 0
        and tail.endswith(delimiter)
        and tail.count(delimiter) == text_i
        and len(tail) <= 200
        and not any(c.isspace() for c in tail)
    )


# --------------------------------------------------------------------------------------------
# JSON Lines (also FHIR bulk-data NDJSON: one resource per line)


def _json_msg(exc: json.JSONDecodeError) -> str:
    """The decoder's message without its trailing "at" ("Invalid control character at")."""
    msg = exc.msg.strip()
    return msg[:-3].rstrip() if msg.endswith(" at") else msg


def _codes_value(value: Any) -> Optional[str]:
    if isinstance(value, list):
        parts = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return ";".join(parts) or None
    return _opt_str(value)


def _read_jsonl(
    p: Path, where: str, id_column: str, text_column: str, codes_column: str
) -> Iterator[NoteRecord]:
    with p.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if line_no == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            loc = f"{where}:line {line_no}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield _error(
                    loc,
                    "not_utf8",
                    f"the line is not valid UTF-8 (invalid byte at column {exc.start + 1})",
                )
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield _error(
                    loc,
                    "bad_json",
                    f"the line is not valid JSON ({_json_msg(exc)} at column {exc.colno})",
                )
                continue
            if not isinstance(obj, dict):
                yield _error(
                    loc, "bad_json", f"the line is a JSON {type(obj).__name__}, not an object"
                )
                continue
            if text_column not in obj and isinstance(obj.get("resourceType"), str):
                yield from _fhir_resource(obj, loc)
                continue
            note_id = _opt_str(obj.get(id_column))
            codes = _codes_value(obj.get(codes_column))
            meta = {k: v for k, v in obj.items() if k not in (id_column, text_column, codes_column)}
            text = obj.get(text_column)
            if text is None:
                fields = ", ".join(repr(k) for k in obj) or "none"
                yield _error(
                    loc,
                    "missing_text",
                    f"no {text_column!r} field (fields: {fields})",
                    note_id,
                    meta,
                    codes,
                )
            elif not isinstance(text, str):
                yield _error(
                    loc,
                    "not_text",
                    f"the {text_column!r} field is a JSON {type(text).__name__}, not a string",
                    note_id,
                    meta,
                    codes,
                )
            elif not text.strip():
                yield _error(
                    loc, "missing_text", f"the {text_column!r} field is empty", note_id, meta, codes
                )
            else:
                yield NoteRecord(note_id, text, meta, codes, loc)


# --------------------------------------------------------------------------------------------
# HL7 v2

_NEWLINES_RE = re.compile(r"\r\n?")
_TEXT_VALUE_TYPES = {"TX", "FT", "ST"}
_ENVELOPE = {"FHS", "FTS", "BHS", "BTS"}
_MLLP = "\x0b\x1c"
MAX_HL7_ESCAPE_REPEAT = 100  # \.sp N\ / \.sk N\: N blank lines / spaces at most


def _hl7_segments(p: Path) -> Iterator[Tuple[str, bool]]:
    """The file's segments, one at a time, whatever the separator (CR, LF or CRLF), each with
    whether it was terminated (the last one of a file cut short is not; an MLLP end-of-block
    counts as a terminator); bytes are decoded as UTF-8 with surrogateescape so a bad message
    can be refused alone."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    rest = ""
    first = True
    with p.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            text = decoder.decode(chunk, final=final)
            if first and text:
                first = False
                text = text.lstrip("\ufeff")
            parts = re.split(r"[\r\n]+", rest + text)
            rest = parts.pop()  # unterminated so far (at the end: the file's unterminated tail)
            for seg in parts:
                seg = seg.strip(_MLLP + " \t")
                if seg:
                    yield seg, True
            if final:
                last = rest.strip(" \t")
                if last.strip(_MLLP):
                    yield last.strip(_MLLP), last.endswith("\x1c")
                return


def _hl7_messages(p: Path) -> Iterator[Tuple[List[str], bool]]:
    """Group segments into messages: a new message starts at each MSH. Segments before the first
    MSH form a message of their own (reported as lacking MSH); batch envelopes are dropped.
    Each message comes with whether it is complete (False: its last segment has no terminator,
    the file ends in the middle of it)."""
    current: List[str] = []
    complete = True
    for seg, terminated in _hl7_segments(p):
        name = seg[:3].upper()
        if name in _ENVELOPE and (len(seg) == 3 or not seg[3].isalnum()):
            continue
        if name == "MSH" and current:
            yield current, complete
            current = []
        current.append(seg)
        complete = terminated
    if current:
        yield current, complete


def _hl7_unescape(value: str, fs: str, cs: str, rs: str, ss: str, esc: str) -> str:
    """Decode HL7 v2 escape sequences (chapter 2.7): delimiters (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\
    \\P\\), formatting (\\.br\\, \\.sp N\\, \\.ce\\, \\.sk N\\; \\.in\\ \\.ti\\ \\.fi\\ \\.nf\\
    dropped), highlighting (\\H\\ \\N\\ dropped) and hex data (\\Xhh..\\, read as UTF-8 bytes,
    else Latin-1).
    Character-set switches and application escapes are dropped; an unterminated escape is kept
    as it is. (python-hl7's own unescape logs the whole field on an unknown sequence, which would
    put note text in logs, and decodes \\X..\\ byte by byte: hence this one.)"""
    if not esc or esc not in value:
        return value
    simple = {"F": fs, "S": cs, "T": ss, "R": rs, "E": esc, "P": "", "H": "", "N": ""}
    out: List[str] = []
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if c != esc:
            out.append(c)
            i += 1
            continue
        j = value.find(esc, i + 1)
        if j < 0:  # unterminated: keep the rest literally
            out.append(value[i:])
            break
        seq = value[i + 1 : j]
        i = j + 1
        if seq in simple:
            out.append(simple[seq])
        elif seq.startswith("X") or seq.startswith("x"):
            hexdigits = seq[1:]
            try:
                data = bytes.fromhex(hexdigits)
            except ValueError:
                continue
            try:
                out.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(data.decode("latin-1"))
        elif seq.startswith("."):
            cmd, arg = seq[1:3].lower(), seq[3:].strip()
            digits = arg.lstrip("+")
            if (
                cmd in ("sp", "sk")
                and digits.isdigit()
                and (len(digits) > 9 or int(digits) > MAX_HL7_ESCAPE_REPEAT)
            ):
                # \.sp999999999\ would build a gigabyte from a few bytes
                raise InputError(
                    "hl7_bad_escape",
                    f"an escape sequence \\.{cmd} N\\ repeats more than "
                    f"{MAX_HL7_ESCAPE_REPEAT} times",
                )
            try:
                count = int(arg) if arg else 1
            except ValueError:
                count = 1
            if cmd in ("br", "ce"):
                out.append("\n")
            elif cmd == "sp":
                out.append("\n" * max(count, 1))
            elif cmd == "sk":
                out.append(" " * max(count, 1))
            # .fi .nf .in .ti: layout hints with no text
        # C.., M.. (character sets), Z.. (application-defined), empty: dropped
    return "".join(out)


def _hl7_get(msg: "hl7.Message", key: str, unesc: Callable[[str], str]) -> str:
    """A field / component addressed like python-hl7's accessor ("PID.3.1.1"), decoded with our
    own unescape, "" when absent. The library's own lookup unescapes with a routine that raises
    on malformed escapes and logs the field's value (note text must never reach a log)."""
    try:
        seg_name, seg_num, field_num, rep_num, comp_num, sub_num = hl7.Accessor.parse_key(key)
        segment = msg.segments(seg_name)(seg_num or 1)
    except (KeyError, IndexError, ValueError):
        return ""
    field_num = field_num or 1
    if field_num >= len(segment):
        return ""
    node: Any = segment[field_num]
    for index in (rep_num or 1, comp_num or 1, sub_num or 1):
        if isinstance(node, str):
            if index != 1:
                return ""
            continue
        if index - 1 >= len(node):
            return ""
        node = node[index - 1]
    return unesc(str(node))


def _hl7_message_record(lines: List[str], number: int, where: str) -> NoteRecord:
    loc = f"{where}:message {number}"
    if not lines[0][:3].upper() == "MSH":
        return _error(
            loc,
            "hl7_no_msh",
            f"{len(lines)} segment(s) without an MSH header segment "
            "(a message must start with MSH)",
        )
    bad_bytes = _has_bad_bytes(lines)
    try:
        msg = hl7.parse("\r".join(lines))
    except Exception as exc:  # the library raises assorted errors on a malformed MSH
        return _error(loc, "hl7_unparsable", f"the message cannot be parsed ({type(exc).__name__})")
    seps = msg.separators  # '\r' + field, repetition, component, subcomponent
    fs, rs, cs, ss = seps[1], seps[2], seps[3], seps[4] if len(seps) > 4 else "&"
    esc = msg.esc or "\\"

    def unesc(value: str) -> str:
        return _hl7_unescape(value, fs, cs, rs, ss, esc)

    msh = msg.segment("MSH")
    msg_type = unesc(str(msh[9])) if len(msh) > 9 else ""
    control_id = _hl7_get(msg, "MSH.10.1.1", unesc) or None
    meta: Dict[str, Any] = {"message_type": msg_type or None, "control_id": control_id}
    mrn = _hl7_get(msg, "PID.3.1.1", unesc)
    if mrn:
        meta["mrn"] = mrn
    event = msg_type.split(cs)
    kind = event[0].upper() if event else ""
    note_id: Optional[str] = None
    if kind == "MDM":
        note_id = _hl7_get(msg, "TXA.12.1.1", unesc) or None
        doc_field = "TXA.2"
    else:
        note_id = _hl7_get(msg, "OBR.3.1.1", unesc) or None
        doc_field = "OBR.4"
    # document type: the text of the coded value (component 2), else its code (component 1)
    code, label = _hl7_get(msg, doc_field + ".1.1", unesc), _hl7_get(msg, doc_field + ".1.2", unesc)
    if label or code:
        meta["document_type"] = label or code
    if code and label:
        meta["document_code"] = code
    note_id = note_id or control_id
    if kind not in ("ORU", "MDM"):
        return _error(
            loc,
            "hl7_unsupported",
            f"message type {msg_type or '(none)'} is not supported (ORU^R01 and MDM^T02 are)",
            note_id,
            meta,
        )
    if bad_bytes:
        return _error(
            loc, "not_utf8", "the message is not valid UTF-8; convert the file to UTF-8", None, meta
        )
    lines_out: List[str] = []
    found = False
    for seg in msg:
        if str(seg[0]).upper() != "OBX":
            continue
        value_type = str(seg[2]).strip().upper() if len(seg) > 2 else ""
        if value_type not in _TEXT_VALUE_TYPES:
            continue
        found = True
        raw = str(seg[5]) if len(seg) > 5 else ""
        for rep in raw.split(rs):
            lines_out.append(unesc(rep))
    if not found:
        return _error(
            loc,
            "hl7_no_text",
            "the message has no text OBX segment (value type TX, FT or ST)",
            note_id,
            meta,
        )
    text = _NEWLINES_RE.sub("\n", "\n".join(lines_out))
    if not text.strip():
        return _error(loc, "missing_text", "the text OBX segments are empty", note_id, meta)
    return NoteRecord(note_id, text, meta, None, loc)


def _read_hl7(p: Path, where: str) -> Iterator[NoteRecord]:
    for number, (lines, complete) in enumerate(_hl7_messages(p), start=1):
        try:
            record = _hl7_message_record(lines, number, where)
        except InputError as exc:  # an escape sequence that expands beyond bounds
            record = _error(f"{where}:message {number}", exc.code, exc.message)
        if not complete and record.ok:
            # a message cut at end of file would be checked as if complete: its verdict could
            # change with what is missing, so it is refused (ids and meta kept)
            record = _error(
                record.where,
                "hl7_truncated",
                "the file ends inside this message (its last segment has no segment "
                "terminator): the message may be cut short; resend it whole",
                record.note_id,
                record.meta,
            )
        yield record


# --------------------------------------------------------------------------------------------
# FHIR R4 JSON

_BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
}
_PARAGRAPH_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dl",
    "hr",
}
_SKIP_TAGS = {"script", "style", "head", "title", "template"}


_BR, _BLOCK, _PARA = "\x01", "\x02", "\x03"
_BREAKS_RE = re.compile("[ \t]*([\x01\x02\x03][\x01\x02\x03 \t]*)")


class _HTMLText(HTMLParser):
    """HTML to plain text: tags dropped, entities unescaped, whitespace collapsed as a browser
    does (kept inside <pre>), a line break for <br> and block elements, a blank line between
    paragraphs, headings, lists and tables."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: List[str] = []
        self.skip = 0
        self.pre = 0

    def _block(self, tag: str) -> None:
        self.parts.append(_PARA if tag in _PARAGRAPH_TAGS else _BLOCK)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "br":
            self.parts.append(_BR)
        elif tag in _BLOCK_TAGS:
            self._block(tag)
            if tag == "pre":
                self.pre += 1
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        if tag == "br":
            self.parts.append(_BR)
        elif tag in _BLOCK_TAGS:
            self._block(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self._block(tag)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            # spaces and tabs kept as placeholders so that the break clean-up leaves them alone
            self.parts.append(
                data.replace("\r\n", "\n")
                .replace("\r", "\n")
                .replace(" ", "\x04")
                .replace("\t", "\x05")
            )
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        def breaks(match: "re.Match[str]") -> str:
            run = match.group(1)
            n = max(run.count(_BR), 2 if _PARA in run else 1 if _BLOCK in run else 0)
            return "\n" * n

        text = _BREAKS_RE.sub(breaks, "".join(self.parts))
        return text.strip().replace("\x04", " ").replace("\x05", "\t")


def html_to_text(markup: str) -> str:
    """Plain text of an HTML document or fragment (standard library only)."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    return parser.text()


def _content_type(att: Dict[str, Any]) -> Tuple[str, str]:
    """(media type, charset) of an attachment; a missing contentType counts as text/plain."""
    raw = att.get("contentType")
    raw = raw if isinstance(raw, str) and raw.strip() else "text/plain"
    media, _, params = raw.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip("\"'")
    return media.strip().lower(), charset


def _attachment_text(att: Dict[str, Any], loc: str) -> Union[str, InputError]:
    media, charset = _content_type(att)
    data = att.get("data")
    if not isinstance(data, str) or not data.strip():
        if att.get("url"):
            return InputError(
                "attachment_url",
                f"{loc}: attachment by URL not supported, no network "
                "(the text must be inline as base64 data)",
            )
        return InputError("missing_text", f"{loc}: the {media} attachment has no data")
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return InputError("bad_base64", f"{loc}: the attachment data is not valid base64")
    try:
        text = (
            decode_bytes(raw)
            if charset.lower().replace("_", "-") in ("utf-8", "utf8")
            else raw.decode(charset)
        )
    except InputError as exc:
        return InputError(exc.code, f"{loc}: attachment: {exc.message}")
    except (LookupError, UnicodeDecodeError):
        return InputError("undecodable", f"{loc}: the attachment does not decode as {charset}")
    if media == "text/html":
        text = html_to_text(text)
    if not text.strip():
        return InputError("missing_text", f"{loc}: the attachment text is empty")
    return text


def _pick_attachment(atts: List[Dict[str, Any]]) -> Tuple[Optional[Dict[str, Any]], List[str]]:
    """The attachment holding the note: text/plain before text/html, inline data before a URL.
    Returns (attachment or None, the content types seen)."""
    seen = [_content_type(a)[0] for a in atts]
    best: Optional[Dict[str, Any]] = None
    best_rank: Optional[Tuple[int, int]] = None
    for att, media in zip(atts, seen, strict=True):
        if media not in ("text/plain", "text/html"):
            continue
        rank = (
            0 if isinstance(att.get("data"), str) and att["data"].strip() else 1,
            0 if media == "text/plain" else 1,
        )
        if best_rank is None or rank < best_rank:
            best, best_rank = att, rank
    return best, seen


def _ref(value: Any) -> Optional[str]:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return _opt_str(value.get("reference")) or _opt_str(value.get("display"))
    return None


def _concept_text(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        if _opt_str(value.get("text")):
            return _opt_str(value.get("text"))
        for coding in value.get("coding") or []:
            if isinstance(coding, dict) and (
                _opt_str(coding.get("display")) or _opt_str(coding.get("code"))
            ):
                return _opt_str(coding.get("display")) or _opt_str(coding.get("code"))
    return None


def _fhir_resource(res: Dict[str, Any], loc: str) -> Iterator[NoteRecord]:
    rtype = res.get("resourceType")
    note_id = _opt_str(res.get("id"))
    if rtype == "Bundle":
        entries = res.get("entry") or []
        if not isinstance(entries, list):
            yield _error(loc, "bad_fhir", "Bundle.entry is not a list")
            return
        for n, entry in enumerate(entries, start=1):
            eloc = f"{loc}:entry {n}"
            inner = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(inner, dict):
                yield _error(eloc, "bad_fhir", "the entry has no resource")
            elif inner.get("resourceType") == "Bundle":
                yield _error(
                    eloc,
                    "unsupported_resource",
                    "unsupported resource type Bundle (nested bundle)",
                    _opt_str(inner.get("id")),
                )
            else:
                yield from _fhir_resource(inner, eloc)
        return
    if rtype == "DiagnosticReport":
        atts = res.get("presentedForm")
        field_name = "presentedForm"
        encounter = _ref(res.get("encounter"))
        code = _concept_text(res.get("code"))
    elif rtype == "DocumentReference":
        content = res.get("content")
        atts = (
            [c.get("attachment") for c in content if isinstance(c, dict)]
            if isinstance(content, list)
            else None
        )
        field_name = "content.attachment"
        ctx = res.get("context")
        if not isinstance(ctx, dict):
            ctx = {}
        encounter = _ref(ctx.get("encounter"))
        code = _concept_text(res.get("type"))
    else:
        yield _error(
            loc,
            "unsupported_resource",
            f"unsupported resource type {rtype if isinstance(rtype, str) else '(none)'}",
            note_id,
        )
        return
    meta: Dict[str, Any] = {
        "resourceType": rtype,
        "status": _opt_str(res.get("status")),
        "subject": _ref(res.get("subject")),
        "encounter": encounter,
        "code": code,
    }
    atts = [a for a in (atts or []) if isinstance(a, dict)] if isinstance(atts, list) else []
    if not atts:
        yield _error(loc, "missing_text", f"the {rtype} has no {field_name}", note_id, meta)
        return
    att, seen = _pick_attachment(atts)
    if att is None:
        yield _error(
            loc,
            "unsupported_content",
            f"no text/plain or text/html attachment (content types: {', '.join(seen)})",
            note_id,
            meta,
        )
        return
    yield NoteRecord(note_id, _attachment_text(att, loc), meta, None, loc)


def _read_fhir(p: Path, where: str) -> Iterator[NoteRecord]:
    try:
        data = p.read_bytes()
    except OSError as exc:
        yield _error(
            where, "unreadable", f"cannot read file ({exc.strerror or type(exc).__name__})"
        )
        return
    try:
        doc = json.loads(decode_bytes(data))
    except InputError as exc:
        yield _error(where, exc.code, exc.message)
        return
    except json.JSONDecodeError as exc:
        yield _error(
            where,
            "bad_json",
            f"not valid JSON ({_json_msg(exc)} at line {exc.lineno} column {exc.colno})",
        )
        return
    del data
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
        yield _error(where, "bad_fhir", "not a FHIR resource (no resourceType)")
        return
    yield from _fhir_resource(doc, where)
