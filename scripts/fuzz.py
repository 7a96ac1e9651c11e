"""Fuzz the readers (CSV, TSV, JSONL, HL7, FHIR) and the checker for a bounded time.

A mutation fuzzer seeded with the fixture notes and the readers' sample files: each round takes
a seed, mutates its bytes (bit flips, byte insertions and deletions, splices of other seeds,
HL7/CSV/JSON delimiters, NULs, BOMs, truncation, repetition), feeds it to one reader (and every
record's text to the checker) or straight to the checker, and checks the contract: readers raise
nothing but UsageError (when the file is opened), the checker raises nothing but InputError, every
result validates against the JSON Schema, check_many gives one outcome per record and every
output format writes them. Generated classes besides the mutations: CSV quoting (quotes left
open, closed mid-cell, multi-line cells), HL7 escape sequences (repeat counts, hex, unterminated,
a message cut at end of file), lone surrogates (in the text, ids and carried values, as str and
as JSON escapes) and control characters in ids and file names (the command line is run on them:
exit 0, 1 or 2, never a traceback, stderr free of control characters). A crash is saved under
fuzz-crashes/ (to become a regression test) and the run exits 1.

    python scripts/fuzz.py --minutes 10        (make fuzz)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jsonschema  # noqa: E402

from doc_checker import Checker, cli  # noqa: E402
from doc_checker.errors import InputError  # noqa: E402
from doc_checker.io.paths import UsageError  # noqa: E402
from doc_checker.io.readers import read_records  # noqa: E402
from doc_checker.io.writers import write_outcomes  # noqa: E402
from doc_checker.result import result_schema  # noqa: E402

FORMAT_OF = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".hl7": "hl7",
    ".json": "fhir",
    ".txt": "txt",
}
TOKENS = [
    b"\r",
    b"\n",
    b"\r\n",
    b"|",
    b"^",
    b"~",
    b"\\",
    b"&",
    b"MSH|^~\\&|",
    b"OBX|1|TX|||",
    b"\\X0D\\",
    b"\\.br\\",
    b'"',
    b",",
    b"\t",
    b"{",
    b"}",
    b"[",
    b"]",
    b'":',
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"<script>",
    b"</p>",
    b"&amp;",
    b"data",
    b"base64",
    b"=",
    b"(FG)",
    b"fluoroscopy",
    b"needle",
    b"no ",
    b"\xc3",
    b"\xe9",
    "\u2028".encode(),
    "\U0001f600".encode(),
    b"\\.sp999999999\\",
    b"\\.sk100\\",
    b"\\.sp3\\",
    b"\\X41\\",
    b"\\Xffff\\",
    b"\\.sp",
    b'""',
    b'",',
    b',"',
    b"\x1b[31m",
    b"\\ud800",
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate (invalid UTF-8)
]
CONTROL = ["\x1b[2J", "\x1b]8;;http://x\x07", "\r", "\n", "\x00", "\x07", "\x85", "\u2028", "\t"]
SURROGATES = ["\ud800", "\udfff", "\udc80", "\ud83d"]


def seeds() -> list:
    files = sorted((ROOT / "fixtures" / "notes").glob("*.txt"))[:40]
    files += [
        p for p in sorted((ROOT / "tests" / "data" / "readers").glob("*")) if p.suffix in FORMAT_OF
    ]
    return [(p.suffix, p.read_bytes()) for p in files]


def mutate(data: bytes, rng: random.Random, pool: list) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(8)
        pos = rng.randint(0, len(buf))
        if op == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and buf:
            del buf[pos : pos + rng.randint(1, 64)]
        elif op == 3:
            other = rng.choice(pool)[1]
            a = rng.randint(0, len(other))
            buf[pos:pos] = other[a : a + rng.randint(1, 400)]
        elif op == 4:
            buf = buf[: rng.randint(0, len(buf))]
        elif op == 5 and buf:
            a = rng.randrange(len(buf))
            buf[pos:pos] = buf[a : a + rng.randint(1, 32)] * rng.randint(2, 200)
        elif op == 6:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            buf[pos:pos] = rng.choice(TOKENS) * rng.randint(10, 2000)
    return bytes(buf)


def _text(rng: random.Random, pool: list) -> str:
    """A piece of a fixture note, as text."""
    data = rng.choice(pool)[1]
    a = rng.randint(0, max(0, len(data) - 1))
    return data[a : a + rng.randint(0, 600)].decode("utf-8", "replace")


def _odd(rng: random.Random) -> str:
    """A short string with control characters, markup or lone surrogates in it."""
    parts = [rng.choice(["N1", "[/red]", "[bold]x", "a,b", '"q', "id"])]
    for _ in range(rng.randint(1, 3)):
        parts.insert(rng.randint(0, len(parts)), rng.choice(CONTROL + SURROGATES))
    return "".join(parts)


def gen_csv(rng: random.Random, pool: list) -> bytes:
    """CSV quoting: cells quoted or not, quotes doubled, left open, closed mid-cell, line breaks
    inside and outside quotes."""
    rows = ["note_id,text,physician"]
    for i in range(rng.randint(1, 8)):
        text = _text(rng, pool)
        cell = rng.choice(
            [
                '"' + text.replace('"', '""') + '"',
                '"' + text,  # left open
                '"' + text[:20] + '"x' + text[20:],  # closed mid-cell
                text.replace(",", " ").replace('"', "").replace("\n", " "),
                '"' + text.replace('"', '""') + "\n" + rng.choice(["n9,", "", '"']) + '"',
            ]
        )
        physician = rng.choice(["Dr A", '"Dr B"', ""])
        rows.append(f"n{i},{cell},{physician}")
    return ("\n".join(rows) + rng.choice(["\n", "", "\r\n"])).encode("utf-8", "surrogatepass")


def gen_hl7(rng: random.Random, pool: list) -> bytes:
    """HL7 messages whose text carries escape sequences, some cut at end of file."""
    escapes = [
        "\\.br\\",
        "\\.sp2\\",
        "\\.sp999999999\\",
        "\\.sk5\\",
        "\\.sk" + "9" * 30 + "\\",
        "\\X0D0A\\",
        "\\Xzz\\",
        "\\F\\",
        "\\E\\",
        "\\",
        "\\.sp",
        "\\Cxxyy\\",
        "\\H\\",
    ]
    msgs = []
    for m in range(rng.randint(1, 4)):
        text = _text(rng, pool).replace("|", " ").replace("\r", " ").replace("\n", " ")
        for _ in range(rng.randint(1, 6)):
            k = rng.randint(0, len(text))
            text = text[:k] + rng.choice(escapes) + text[k:]
        msgs.append(
            f"MSH|^~\\&|A|B|C|D|20240101||ORU^R01|C{m}|P|2.5\rOBR|1||{_odd(rng)}\rOBX|1|TX|||{text}"
        )
    data = ("\r".join(msgs) + "\r").encode("utf-8", "surrogatepass")
    return data[: rng.randint(len(data) // 2, len(data))] if rng.random() < 0.3 else data


def gen_jsonl(rng: random.Random, pool: list) -> bytes:
    """JSON lines with lone surrogates and control characters in ids, text and carried values."""
    lines = []
    for _ in range(rng.randint(1, 6)):
        text = _text(rng, pool)
        if rng.random() < 0.5:
            k = rng.randint(0, len(text))
            text = text[:k] + rng.choice(SURROGATES + CONTROL) + text[k:]
        obj = {"note_id": _odd(rng), "text": text, "physician": _odd(rng)}
        lines.append(json.dumps(obj, ensure_ascii=rng.random() < 0.7))
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


GENERATORS = {".csv": gen_csv, ".hl7": gen_hl7, ".jsonl": gen_jsonl}


def check_outputs(outcomes: list) -> None:
    """Every output format writes every outcome (ids with markup, controls and surrogates)."""
    for fmt in ("jsonl", "csv", "table"):
        buf = io.StringIO()
        write_outcomes(fmt, outcomes, buf, keep_order=True)
        if fmt == "jsonl" and buf.getvalue().count("\n") != len(outcomes):
            raise AssertionError("jsonl: not one line per outcome")


def check_cli(path: Path, tmp: Path, rng: random.Random) -> None:
    """The command line over a file with an odd name: exit 0, 1 or 2, one JSONL line per
    record, and nothing on stderr that could drive a terminal or forge a log line."""
    odd = path.with_name(_odd(rng).replace("/", "_").replace("\x00", "0") + path.suffix)
    try:
        os.replace(path, odd)
    except (OSError, UnicodeEncodeError):
        return
    out = tmp / "out.jsonl"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(["check", "--format", "jsonl", "--no-progress", "-o", str(out), str(odd)])
    if code not in (0, 1, 2):
        raise AssertionError(f"exit code {code}")
    bad = [c for c in err.getvalue() if (c < " " and c != "\n") or "\ud800" <= c <= "\udfff"]
    if bad:
        raise AssertionError(f"control characters on stderr: {bad[:5]!r}")
    if code != 2:
        expected = sum(1 for _ in read_records(str(odd), FORMAT_OF[path.suffix]))
        got = len(out.read_bytes().splitlines())
        if got != expected:
            raise AssertionError(f"{expected} records but {got} output lines")
    os.replace(odd, path)
    out.unlink(missing_ok=True)


def run(minutes: float, seed: int, out_dir: Path) -> int:
    rng = random.Random(seed)
    pool = seeds()
    checker = Checker()
    cli._checker = lambda args: checker  # the command line reuses the one built pipeline
    validator = jsonschema.Draft202012Validator(result_schema())
    deadline = time.time() + minutes * 60
    rounds = records = 0
    by_target: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        while time.time() < deadline:
            rounds += 1
            suffix, data = rng.choice(pool)
            roll = rng.random()
            if roll < 0.35:
                suffix = rng.choice(sorted(GENERATORS))
                data = GENERATORS[suffix](rng, pool)
                if rng.random() < 0.3:
                    data = mutate(data, rng, pool)
            else:
                data = mutate(data, rng, pool)
            target = "checker" if roll > 0.75 else "cli" if roll < 0.05 else "reader"
            by_target[target] = by_target.get(target, 0) + 1
            try:
                if target == "checker":
                    try:
                        if rng.random() < 0.5:
                            text = data.decode("utf-8", "surrogateescape")
                            k = rng.randint(0, len(text))
                            text = text[:k] + rng.choice(SURROGATES + CONTROL) + text[k:]
                            validator.validate(checker.check(text).to_dict())
                        else:
                            validator.validate(checker.check(data).to_dict())
                    except InputError:
                        pass
                elif target == "cli":
                    path = Path(tmp) / f"input{suffix}"
                    path.write_bytes(data)
                    check_cli(path, Path(tmp), rng)
                else:
                    path = Path(tmp) / f"input{suffix}"
                    path.write_bytes(data)
                    try:
                        it = read_records(str(path), FORMAT_OF[suffix])
                    except UsageError:
                        continue
                    batch = list(it)
                    records += len(batch)
                    outcomes = list(checker.check_many(batch))
                    if len(outcomes) != len(batch):
                        raise AssertionError(f"{len(batch)} records, {len(outcomes)} outcomes")
                    for outcome in outcomes:
                        validator.validate(outcome.to_dict())
                    check_outputs(outcomes)
            except Exception:  # noqa: BLE001 - that is the finding
                out_dir.mkdir(parents=True, exist_ok=True)
                crash = out_dir / f"crash-{seed}-{rounds}-{target}{suffix}"
                crash.write_bytes(data)
                print(
                    f"CRASH after {rounds} rounds ({target}, {suffix}): saved {crash}",
                    file=sys.stderr,
                )
                traceback.print_exc()
                return 1
            if rounds % 500 == 0:
                print(
                    f"{rounds} rounds, {records} records, {int(deadline - time.time())} s left",
                    file=sys.stderr,
                )
    targets = ", ".join(f"{k} {v}" for k, v in sorted(by_target.items()))
    print(
        f"fuzz: {rounds} rounds ({targets}), {records} reader records, no crash "
        f"({minutes} min, seed {seed})"
    )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=str(ROOT / "fuzz-crashes"))
    args = ap.parse_args()
    return run(args.minutes, args.seed, Path(args.out))


if __name__ == "__main__":
    sys.exit(main())
