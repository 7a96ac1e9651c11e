"""Turning raw input into note text, or refusing it clearly (never quoting it)."""

from __future__ import annotations

import codecs
import re
from typing import Union

from ..errors import InputError

MAX_NOTE_CHARS = 20_000_000
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM), or UTF-16/32 with a BOM; anything else is refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise InputError(
                    "undecodable",
                    f"the note starts with a {encoding} byte-order mark but does not decode as "
                    f"{encoding}",
                ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            "binary",
            f"the input contains NUL bytes (the first at byte offset {nul}): "
            "it looks like a binary file, not a text note",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            "not_utf8",
            f"the input is not valid UTF-8 (invalid byte at offset {exc.start}); "
            "convert it to UTF-8",
        ) from None


def validate_text(text: Union[str, bytes, None, InputError]) -> str:
    """Return checkable note text or raise InputError (empty, binary, too large, wrong type)."""
    if isinstance(text, InputError):  # a reader already refused this input
        raise text
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = decode_bytes(bytes(text))
    if not isinstance(text, str):
        raise InputError(
            "not_text", f"a note must be text (str or bytes), not {type(text).__name__}"
        )
    if not text.strip():
        raise InputError("empty", "the note is empty or only whitespace")
    if len(text) > MAX_NOTE_CHARS:
        raise InputError(
            "too_large", f"the note has {len(text):,} characters; the limit is {MAX_NOTE_CHARS:,}"
        )
    nul = text.find("\x00")
    if nul >= 0:
        raise InputError(
            "binary",
            f"the note contains NUL characters (the first at character {nul}): "
            "it looks like binary data, not a text note",
        )
    surrogate = _SURROGATE_RE.search(text)
    if surrogate is not None:  # not encodable: it would fail deep in the pipeline or the output
        raise InputError(
            "invalid_text",
            f"the note contains a lone surrogate code point (at character {surrogate.start()}): "
            "it is not valid Unicode text",
        )
    sample = text[:4096]
    control = len(_CONTROL_RE.findall(sample))
    if control > max(8, len(sample) // 20):
        raise InputError(
            "binary", "the note is mostly control characters: it looks like binary data"
        )
    return text


_UNPRINTABLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(value: object) -> str:
    """``value`` as one safe line for a terminal or a log: control characters (line breaks,
    ANSI escapes, NUL), line separators and lone surrogates become ``\\xNN`` / ``\\uNNNN``
    escapes, so a file name or an id can neither forge a line nor drive the terminal."""

    def escape(match: "re.Match[str]") -> str:
        code = ord(match.group(0))
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE_RE.sub(escape, str(value))
