"""Fuzz the readers (CSV, TSV, JSONL, HL7, FHIR) and the checker for a bounded time.

A mutation fuzzer seeded with the fixture notes and the readers' sample files: each round takes
a seed, mutates its bytes (bit flips, byte insertions and deletions, splices of other seeds,
HL7/CSV/JSON delimiters, NULs, BOMs, truncation, repetition), feeds it to one reader (and every
record's text to the checker) or straight to the checker, and checks the contract: readers raise
nothing but UsageError (when the file is opened), the checker raises nothing but InputError, every
result validates against the JSON Schema. A crash is saved under fuzz-crashes/ (to become a
regression test) and the run exits 1.

    python scripts/fuzz.py --minutes 10        (make fuzz)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jsonschema  # noqa: E402

from doc_checker import Checker  # noqa: E402
from doc_checker.errors import InputError  # noqa: E402
from doc_checker.io.paths import UsageError  # noqa: E402
from doc_checker.io.readers import read_records  # noqa: E402
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
]


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


def run(minutes: float, seed: int, out_dir: Path) -> int:
    rng = random.Random(seed)
    pool = seeds()
    checker = Checker()
    validator = jsonschema.Draft202012Validator(result_schema())
    deadline = time.time() + minutes * 60
    rounds = records = 0
    with tempfile.TemporaryDirectory() as tmp:
        while time.time() < deadline:
            rounds += 1
            suffix, data = rng.choice(pool)
            data = mutate(data, rng, pool)
            target = "checker" if rng.random() < 0.3 else "reader"
            try:
                if target == "checker":
                    try:
                        validator.validate(checker.check(data).to_dict())
                    except InputError:
                        pass
                else:
                    path = Path(tmp) / f"input{suffix}"
                    path.write_bytes(data)
                    try:
                        it = read_records(str(path), FORMAT_OF[suffix])
                    except UsageError:
                        continue
                    batch = list(it)
                    records += len(batch)
                    for outcome in checker.check_many(batch):
                        validator.validate(outcome.to_dict())
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
    print(f"fuzz: {rounds} rounds, {records} reader records, no crash ({minutes} min, seed {seed})")
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
