"""doc-checker on Apache Spark: the same checker over a whole table of notes.

``check_notes(df)`` returns ``df`` with the result contract flattened into columns beside every
input column; ``doc-checker spark INPUT OUTPUT`` reads CSV / JSONL / Parquet, checks, writes
Parquet. Needs the ``spark`` extra (``pip install "doc-checker[spark]"``) on the driver and on
every executor.

How it runs:

- ``DataFrame.mapInArrow`` (Arrow record batches, like ``mapInPandas`` but without the pandas
  round trip): the input columns are handed back as the very Arrow arrays Spark sent, so their
  values and types are exactly what came in. (``mapInPandas`` turns a bigint column with a null
  into float64 and back: 9007199254740993 comes back as 9007199254740992.)
- One ``Checker`` per Python worker process, kept in a module-level cache keyed by
  (profile, patterns): built on the worker's first batch, reused by every later batch and task
  that the (reused) worker runs. The mapped function is a module-level function here, so
  cloudpickle ships it by reference and the cache is this module's, not a pickled copy.
- Custom patterns and profile files are read on the driver when ``check_notes`` is called,
  validated there (a bad rule file fails before any job), and shipped with the job as bytes in
  the task closure; each worker writes them once to a local temporary directory named by their
  content hash and builds its Checker from it. Executors never read the driver's paths (which
  do not exist on a cluster; ``SparkContext.addFile`` refuses local directories outside local
  mode), and editing the directory after the call does not change a job already defined.
- Every input row gives exactly one output row. A row that cannot be checked (null, empty or
  whitespace text, binary or undecodable bytes, a text column that is not text) has
  ``error_code`` / ``error_message`` set and the result columns null.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union, cast

from doc_checker.result import ELEMENTS

# Spark's default name for the column that holds a JSON line it could not parse
CORRUPT_RECORD = "_corrupt_record"
# notes checked per Arrow slice (one nlp.pipe batch; one output record batch)
DEFAULT_BATCH_SIZE = 64
# a patterns directory is shipped in the task closure: refuse anything unreasonably large
MAX_PATTERNS_BYTES = 64 * 1024 * 1024

STATUS_SUFFIX = "_status"
FINDING_FIELDS = ("code", "severity", "message")


# ---------------------------------------------------------------------------------------------
# the output columns
# ---------------------------------------------------------------------------------------------
def result_columns() -> List[Tuple[str, str]]:
    """(name, Spark DDL type) of the columns ``check_notes`` adds, in order."""
    finding = "array<struct<code:string,severity:string,message:string>>"
    cols = [
        ("note_id", "string"),
        ("score", "double"),
        ("verdict", "string"),
        ("suggested_code", "string"),
    ]
    cols += [(f"{name}{STATUS_SUFFIX}", "string") for name in ELEMENTS]
    cols += [
        ("missing", "array<string>"),
        ("findings", finding),
        ("finding_codes", "array<string>"),
        ("claim_findings", finding),
        ("claim_finding_codes", "array<string>"),
        ("queries", "array<string>"),
        ("billed_codes", "array<string>"),
        ("ruleset_version", "string"),
        ("profile", "string"),
        ("result_json", "string"),
        ("error_code", "string"),
        ("error_message", "string"),
    ]
    return cols


def _arrow_types() -> Dict[str, Any]:
    import pyarrow as pa

    strings = pa.list_(pa.string())
    finding = pa.list_(pa.struct([pa.field(f, pa.string()) for f in FINDING_FIELDS]))
    out: Dict[str, Any] = {
        "note_id": pa.string(),
        "score": pa.float64(),
        "verdict": pa.string(),
        "suggested_code": pa.string(),
    }
    for name in ELEMENTS:
        out[f"{name}{STATUS_SUFFIX}"] = pa.string()
    out.update(
        {
            "missing": strings,
            "findings": finding,
            "finding_codes": strings,
            "claim_findings": finding,
            "claim_finding_codes": strings,
            "queries": strings,
            "billed_codes": strings,
            "ruleset_version": pa.string(),
            "profile": pa.string(),
            "result_json": pa.string(),
            "error_code": pa.string(),
            "error_message": pa.string(),
        }
    )
    return out


def _flatten(d: Dict[str, Any]) -> Dict[str, Any]:
    """One CheckResult.to_dict() as the values of the result columns."""

    def findings(items):
        return [{f: x.get(f) for f in FINDING_FIELDS} for x in items]

    row: Dict[str, Any] = {
        "note_id": d.get("note_id"),
        "score": float(d["score"]),
        "verdict": d["verdict"],
        "suggested_code": d.get("suggested_code"),
    }
    elements = d.get("elements") or {}
    for name in ELEMENTS:
        row[f"{name}{STATUS_SUFFIX}"] = (elements.get(name) or {}).get("status")
    row.update(
        {
            "missing": list(d.get("missing") or []),
            "findings": findings(d.get("findings") or []),
            "finding_codes": [f["code"] for f in d.get("findings") or []],
            "claim_findings": findings(d.get("claim_findings") or []),
            "claim_finding_codes": [f["code"] for f in d.get("claim_findings") or []],
            "queries": list(d.get("queries") or []),
            "billed_codes": None if d.get("billed_codes") is None else list(d["billed_codes"]),
            "ruleset_version": d.get("ruleset_version"),
            "profile": d.get("profile"),
            "result_json": json.dumps(d, ensure_ascii=False),
            "error_code": None,
            "error_message": None,
        }
    )
    return row


# ---------------------------------------------------------------------------------------------
# shipping the rules with the job
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Files:
    """A directory (or one file) snapshot: relative path -> bytes, with its content hash."""

    digest: str
    files: Tuple[Tuple[str, bytes], ...]


def _snapshot_dir(path: Path) -> _Files:
    files: List[Tuple[str, bytes]] = []
    total = 0
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path)
        if not p.is_file() or any(
            part == "__pycache__" or part.startswith(".") for part in rel.parts
        ):
            continue
        data = p.read_bytes()
        total += len(data)
        if total > MAX_PATTERNS_BYTES:
            raise ValueError(f"{path}: the patterns directory is over {MAX_PATTERNS_BYTES:,} bytes")
        files.append((rel.as_posix(), data))
    return _Files(_digest(files), tuple(files))


def _digest(files: List[Tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for rel, data in files:
        h.update(rel.encode("utf-8") + b"\x00" + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def _materialize(snapshot: _Files, kind: str) -> Path:
    """Write a snapshot once per machine (a directory named by its hash); return its path."""
    root = Path(tempfile.gettempdir()) / f"doc-checker-{kind}-{snapshot.digest[:24]}"
    if root.is_dir():
        return root
    staging = Path(tempfile.mkdtemp(prefix=f".doc-checker-{kind}-", dir=tempfile.gettempdir()))
    for rel, data in snapshot.files:
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    try:
        os.rename(staging, root)  # atomic: another worker may have won the race
    except OSError:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        if not root.is_dir():
            raise
    return root


@dataclass(frozen=True)
class _Config:
    """Everything a worker needs; pickled into the task closure (small: rules are ~200 KB)."""

    id_idx: Optional[int]
    text_idx: int
    codes_idx: Optional[int]
    corrupt_idx: Optional[int]
    text_col: str
    names: Tuple[str, ...]  # the result columns to add (prefixed), in result_columns() order
    keys: Tuple[str, ...]  # their unprefixed names
    patterns: Optional[_Files]
    profile_file: Optional[Tuple[str, _Files]]  # (file name, a one-file snapshot)
    profile_value: Any  # a dict or Profile given directly, or None
    batch_size: int

    @property
    def cache_key(self) -> Tuple[Any, ...]:
        if self.profile_file is not None:
            profile_key: Any = ("file", self.profile_file[0], self.profile_file[1].digest)
        elif self.profile_value is not None:
            value = self.profile_value
            data = value.to_dict() if hasattr(value, "to_dict") else value
            profile_key = ("value", json.dumps(data, sort_keys=True, default=str))
        else:
            profile_key = None
        return (profile_key, None if self.patterns is None else self.patterns.digest)


def _driver_config(
    profile: Any, patterns: Any
) -> Tuple[Optional[_Files], Optional[Tuple[str, _Files]], Any]:
    """Validate the rules on the driver (RulesError before any job) and snapshot them."""
    from doc_checker.rules import load_profile, load_ruleset

    patterns_snap = None
    if patterns is not None:
        pdir = Path(patterns)
        load_ruleset(pdir)  # raises RulesError naming the file and the rule
        patterns_snap = _snapshot_dir(pdir)
    load_profile(profile, Path(patterns) if patterns is not None else None)
    if profile is None:
        return patterns_snap, None, None
    if isinstance(profile, (str, os.PathLike)):
        p = Path(profile)
        data = p.read_bytes()
        return patterns_snap, (p.name, _Files(_digest([(p.name, data)]), ((p.name, data),))), None
    return patterns_snap, None, profile  # a dict or a Profile: pickled as it is


# ---------------------------------------------------------------------------------------------
# the worker side
# ---------------------------------------------------------------------------------------------
_CHECKERS: Dict[Tuple[Any, ...], Any] = {}
# per worker process: how many Checkers were built and batches checked (tests and benchmarks)
STATS: Dict[str, int] = {"checkers_built": 0, "batches": 0, "rows": 0}
_BUILDS: Dict[Tuple[Any, ...], int] = {}


def worker_stats() -> Dict[str, Any]:
    """This process's counters (call it inside a Spark task to see a worker's)."""
    return {
        "pid": os.getpid(),
        **STATS,
        "cached_checkers": len(_CHECKERS),
        "max_builds_per_key": max(_BUILDS.values(), default=0),
    }


_STATS_DDL = (
    "pid long, checkers_built long, cached_checkers long, max_builds_per_key long, "
    "batches long, rows long, peak_rss_mib double"
)


def _stats_batches(batches: Iterator[Any]) -> Iterator[Any]:
    import resource

    import pyarrow as pa

    for _ in batches:
        pass
    s = worker_stats()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (
        1024 * 1024 if sys.platform == "darwin" else 1024
    )
    names = [f.split()[0] for f in _STATS_DDL.split(", ")]
    values = {**s, "peak_rss_mib": float(rss)}
    yield pa.RecordBatch.from_pydict({n: [values[n]] for n in names})


def collect_worker_stats(spark, tasks: int = 8) -> List[Dict[str, Any]]:
    """Each Python worker's counters, one dict per task, gathered by a mapInArrow job (the same
    kind of job as check_notes, so Spark hands it the same pool of reused worker processes)."""
    df = spark.range(tasks, numPartitions=tasks).mapInArrow(_stats_batches, _STATS_DDL)
    return [r.asDict() for r in df.collect()]


def _get_checker(cfg: _Config):
    key = cfg.cache_key
    checker = _CHECKERS.get(key)
    if checker is None:
        from doc_checker.checker import Checker

        patterns = str(_materialize(cfg.patterns, "patterns")) if cfg.patterns is not None else None
        if cfg.profile_file is not None:
            name, snap = cfg.profile_file
            profile: Any = str(_materialize(snap, "profile") / name)
        else:
            profile = cfg.profile_value
        checker = Checker(profile=profile, patterns=patterns)
        _CHECKERS[key] = checker
        STATS["checkers_built"] += 1
        _BUILDS[key] = _BUILDS.get(key, 0) + 1
    return checker


def _check_batches(batches: Iterator[Any], cfg: _Config) -> Iterator[Any]:
    """mapInArrow's function: input record batches -> the same columns plus the result columns."""
    for batch in batches:
        for start in range(0, batch.num_rows, cfg.batch_size):
            part = batch.slice(start, cfg.batch_size)
            if part.num_rows:
                yield _check_part(_get_checker(cfg), part, cfg)


def _note_id(value: Any) -> Optional[str]:
    """As the CSV/JSONL readers do: a string, stripped; None when absent or blank."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _codes(value: Any) -> Optional[str]:
    """Billed codes as the readers pass them: a list joined with ';', blank -> None."""
    if isinstance(value, (list, tuple)):
        parts = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return ";".join(parts) or None
    return _note_id(value)


def _check_part(checker, part, cfg: _Config):
    import pyarrow as pa

    n = part.num_rows
    col = lambda idx: part.column(idx).to_pylist() if idx is not None else [None] * n  # noqa: E731
    ids, texts, codes, corrupt = (
        col(cfg.id_idx),
        col(cfg.text_idx),
        col(cfg.codes_idx),
        col(cfg.corrupt_idx),
    )
    rows: List[Optional[Dict[str, Any]]] = [None] * n
    todo: List[int] = []
    items: List[Tuple[Optional[str], Any, None, Optional[str]]] = []
    for i in range(n):
        note_id, text = _note_id(ids[i]), texts[i]
        error: Optional[Tuple[str, str]] = None
        if corrupt[i] is not None:
            error = ("bad_row", "the input row could not be parsed")
        elif text is None:
            error = ("missing_text", f"the {cfg.text_col!r} column is null")
        elif isinstance(text, str) and not text.strip():
            error = ("missing_text", f"the {cfg.text_col!r} column is empty")
        elif not isinstance(text, (str, bytes)):
            error = (
                "not_text",
                f"the {cfg.text_col!r} column holds {type(text).__name__}, not text",
            )
        if error is not None:
            rows[i] = _error_row(note_id, *error)
            continue
        try:
            billed = _codes(codes[i])
        except Exception:  # noqa: BLE001 - an odd codes value: the checker reports it as a claim finding
            billed = None
        todo.append(i)
        items.append((note_id, text, None, billed))
    outcomes = checker.check_many(items, batch_size=max(1, len(items)))
    for i, outcome in zip(todo, outcomes, strict=True):
        if outcome.ok:
            rows[i] = _flatten(outcome.to_dict())
        else:
            rows[i] = _error_row(outcome.note_id, outcome.code, outcome.message)
    STATS["batches"] += 1
    STATS["rows"] += n
    types = _arrow_types()
    arrays = list(part.columns)
    fields = list(part.schema)
    filled = cast(List[Dict[str, Any]], rows)  # every row is set above: a result or an error
    for name, key in zip(cfg.names, cfg.keys, strict=True):
        arrays.append(pa.array([r[key] for r in filled], type=types[key]))
        fields.append(pa.field(name, types[key]))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _error_row(note_id: Optional[str], code: str, message: str) -> Dict[str, Any]:
    row: Dict[str, Any] = {name: None for name, _ in result_columns()}
    row.update({"note_id": note_id, "error_code": code, "error_message": message})
    return row


# ---------------------------------------------------------------------------------------------
# the library entry point
# ---------------------------------------------------------------------------------------------
def check_notes(
    df,
    id_col: Optional[str] = "note_id",
    text_col: str = "text",
    codes_col: Optional[str] = None,
    profile: Union[None, str, os.PathLike, Mapping, Any] = None,
    patterns: Union[None, str, os.PathLike] = None,
    *,
    prefix: str = "",
    batch_size: int = DEFAULT_BATCH_SIZE,
):
    """Check every row of ``df`` (a Spark DataFrame); return a DataFrame with one row per input row.

    Output columns: every input column, unchanged, then ``prefix`` + each of
    :func:`result_columns` (``note_id`` is left out when the input already has a column of that
    name). ``id_col`` (optional: a missing column gives null ids), ``text_col`` (string or
    binary) and ``codes_col`` (billed CPT codes: a string like ``"20610;77002-26"`` or an array
    of strings; None: no claim edits) name input columns. ``profile`` is a profile file, a dict
    or a ``Profile``; ``patterns`` a patterns directory; both are validated here and shipped to
    the executors with the job. Rows that cannot be checked get ``error_code`` /
    ``error_message`` and null result columns. Lazy, like any transformation.

    Raises ValueError for a missing text or codes column, or result columns that would clash
    with input columns (pass ``prefix="dc_"``); RulesError for invalid rules or profile.
    """
    from pyspark.sql.types import StructField, StructType, _parse_datatype_string

    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    columns = list(df.columns)
    if text_col not in columns:
        raise ValueError(f"no column named {text_col!r} for the note text; columns: {columns}")
    if codes_col is not None and codes_col not in columns:
        raise ValueError(f"no column named {codes_col!r} for the billed codes; columns: {columns}")
    if len(set(columns)) != len(columns):
        raise ValueError(f"the input has duplicate column names: {columns}")
    names, keys, dtypes = [], [], []
    for key, ddl in result_columns():
        name = prefix + key
        if name in columns:
            if key == "note_id":
                continue  # the input's own note_id column stands (the id is also in result_json)
            raise ValueError(
                f"the input already has a column named {name!r}; rename it or pass "
                f"prefix='dc_' to name the result columns dc_*"
            )
        names.append(name)
        keys.append(key)
        dtypes.append(_parse_datatype_string(ddl))
    patterns_snap, profile_file, profile_value = _driver_config(profile, patterns)
    index = {c: i for i, c in enumerate(columns)}
    cfg = _Config(
        id_idx=index.get(id_col) if id_col is not None else None,
        text_idx=index[text_col],
        codes_idx=index[codes_col] if codes_col is not None else None,
        corrupt_idx=index.get(CORRUPT_RECORD) if CORRUPT_RECORD != text_col else None,
        text_col=text_col,
        names=tuple(names),
        keys=tuple(keys),
        patterns=patterns_snap,
        profile_file=profile_file,
        profile_value=profile_value,
        batch_size=batch_size,
    )
    schema = StructType(
        list(df.schema.fields)
        + [StructField(n, t, True) for n, t in zip(names, dtypes, strict=True)]
    )
    # a partial of a module-level function: pickled by reference, so the workers' Checker cache
    # is this module's (a closure would be pickled by value, with a fresh cache per task)
    return df.mapInArrow(functools.partial(_check_batches, cfg=cfg), schema)


# ---------------------------------------------------------------------------------------------
# the command line: doc-checker spark INPUT OUTPUT
# ---------------------------------------------------------------------------------------------
def _usage(message: str):
    from doc_checker.errors import UsageError

    return UsageError(message)


def _has_scheme(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _local(path: str) -> Path:
    return Path(path[len("file://") :] if path.startswith("file://") else path)


def _input_format(path: str, given: Optional[str]) -> str:
    if given:
        return given
    if not _has_scheme(path) and _local(path).is_dir():
        return "parquet"
    suffixes = [s.lower() for s in Path(path.rstrip("/")).suffixes]
    for s in reversed(suffixes):
        if s in (".parquet", ".pq"):
            return "parquet"
        if s in (".csv",):
            return "csv"
        if s in (".jsonl", ".ndjson", ".json"):
            return "jsonl"
        if s in (".gz", ".bz2", ".snappy", ".zst", ".lz4", ".deflate"):
            continue
        break
    if _has_scheme(path) and not suffixes:
        return "parquet"  # a table directory in a warehouse
    raise _usage(
        f"{path}: cannot tell the input format from the name; pass --input-format parquet|csv|jsonl"
    )


def _read(spark, path: str, fmt: str):
    reader = spark.read
    if fmt == "csv":
        # RFC 4180: quoted fields may span lines and double their quotes; every column a string
        # (ids like 00123 stay as written)
        df = (
            reader.option("header", True)
            .option("multiLine", True)
            .option("quote", '"')
            .option("escape", '"')
            .option("inferSchema", False)
            .option("mode", "PERMISSIVE")
            .option("encoding", "UTF-8")
            .csv(path)
        )
        if df.columns and df.columns[0].startswith("\ufeff"):  # a UTF-8 byte-order mark
            df = df.withColumnRenamed(df.columns[0], df.columns[0].lstrip("\ufeff"))
        return df
    if fmt == "jsonl":
        return (
            reader.option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
            .json(path)
        )
    return reader.parquet(path)


def _check_output(inp: str, out: str) -> None:
    if _has_scheme(out) or _has_scheme(inp):
        if inp.rstrip("/") == out.rstrip("/"):
            raise _usage("OUTPUT must not be the INPUT")
        return
    i, o = _local(inp).resolve(), _local(out).resolve()
    if i == o or i in o.parents or o in i.parents:
        raise _usage("OUTPUT must not be the INPUT, inside it, or contain it")
    if o.exists():
        # overwrite only an earlier Spark output (a directory with _SUCCESS) or an empty directory
        if not o.is_dir() or (any(o.iterdir()) and not (o / "_SUCCESS").exists()):
            raise _usage(
                f"{out}: exists and is not an earlier doc-checker spark output; "
                "remove it or choose another OUTPUT"
            )


def _session(master: Optional[str]):
    from pyspark.sql import SparkSession

    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # started by spark-submit
    local = (master or "").startswith("local") or (master is None and not under_submit)
    if local and "PYSPARK_PYTHON" not in os.environ:
        # PySpark starts its workers with $PYSPARK_PYTHON, else "python3" from PATH (which may
        # not have doc-checker): run them on this interpreter
        os.environ["PYSPARK_PYTHON"] = sys.executable
    created = SparkSession.getActiveSession() is None
    builder = SparkSession.builder.appName("doc-checker")
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    if created:
        spark.sparkContext.setLogLevel("WARN")
    return spark, created


def run_spark_cli(args) -> int:
    """``doc-checker spark INPUT OUTPUT``: read, check, write Parquet; summary on stderr.

    Exit 0: every row checked; 1: some rows are error records (each is in the output);
    2: usage errors (raised as UsageError / RulesError, which the CLI maps to 2)."""
    from doc_checker.errors import DocCheckerError

    inp, out = str(args.input), str(args.output)
    if not _has_scheme(inp) and not _local(inp).exists():
        raise _usage(f"{inp}: no such file or directory")
    fmt = _input_format(inp, getattr(args, "input_format", None))
    _check_output(inp, out)
    profile, patterns = getattr(args, "profile", None), getattr(args, "patterns", None)
    if patterns is not None and not Path(patterns).is_dir():
        raise _usage(f"{patterns}: no such patterns directory")
    if profile is not None and not Path(profile).is_file():
        raise _usage(f"{profile}: no such profile file")
    spark, created = _session(getattr(args, "master", None))
    try:
        from pyspark.errors import AnalysisException

        try:
            df = _read(spark, inp, fmt)
        except AnalysisException as exc:
            raise _usage(
                f"{inp}: cannot read as {fmt} ({str(exc).splitlines()[0][:300]})"
            ) from None
        text_col = args.text_column
        if text_col not in df.columns:
            raise _usage(
                f"{inp}: no column named {text_col!r} for the note text; "
                f"columns: {', '.join(c for c in df.columns if c != CORRUPT_RECORD) or 'none'}"
            )
        codes_col = getattr(args, "codes_column", None)
        if codes_col is None and "cpt_codes" in df.columns and text_col != "cpt_codes":
            codes_col = "cpt_codes"  # as `doc-checker check` does
        if codes_col is not None and codes_col not in df.columns:
            raise _usage(f"{inp}: no column named {codes_col!r} for the billed codes")
        parallelism = spark.sparkContext.defaultParallelism
        if df.rdd.getNumPartitions() < parallelism:
            df = df.repartition(parallelism)  # one big CSV is one partition: spread the NLP work
        try:
            checked = check_notes(
                df,
                id_col=args.id_column,
                text_col=text_col,
                codes_col=codes_col,
                profile=profile,
                patterns=patterns,
            )
        except ValueError as exc:
            if isinstance(exc, DocCheckerError):
                raise
            raise _usage(str(exc)) from None
        if CORRUPT_RECORD in df.columns:
            checked = checked.drop(CORRUPT_RECORD)  # Spark's raw copy of a malformed line
        checked.write.mode("overwrite").parquet(out)
        rows, errors, verdicts = _summary(spark, out)
    finally:
        if created:
            spark.stop()
    by_verdict = ", ".join(
        f"{v} {verdicts[v]}"
        for v in ("supported", "incomplete", "not_supported")
        if verdicts.get(v)
    )
    print(
        f"doc-checker spark: {rows} rows, {rows - errors} checked, {errors} errors"
        + (f" ({by_verdict})" if by_verdict else "")
        + f"; Parquet written to {out}",
        file=sys.stderr,
    )
    return 1 if errors else 0


def _summary(spark, out: str) -> Tuple[int, int, Dict[str, int]]:
    """Counts from the written Parquet (two small columns; the notes are not checked again)."""
    from pyspark.sql import functions as F

    written = spark.read.parquet(out)
    error_col = "error_code" if "error_code" in written.columns else None
    stats = (
        written.groupBy("verdict")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.sum(F.col(error_col).isNotNull().cast("long")).alias("errors")
            if error_col
            else F.lit(0).alias("errors"),
        )
        .collect()
    )
    rows = sum(r["n"] for r in stats)
    errors = sum(r["errors"] or 0 for r in stats)
    verdicts = {r["verdict"]: r["n"] for r in stats if r["verdict"] is not None}
    return rows, errors, verdicts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``doc-checker spark`` (and of this file run as a script)."""
    parser.add_argument("input", metavar="INPUT")
    parser.add_argument("output", metavar="OUTPUT")
    parser.add_argument(
        "--input-format",
        choices=("parquet", "csv", "jsonl"),
        default=None,
        help="default: by extension (a directory: parquet)",
    )
    parser.add_argument(
        "--master", default=None, help="Spark master, e.g. local[*] (default: spark-submit's)"
    )
    parser.add_argument("--id-column", default="note_id")
    parser.add_argument("--text-column", default="text")
    parser.add_argument(
        "--codes-column",
        default=None,
        help="column of billed CPT codes (default: cpt_codes when present)",
    )


def _main(argv: Optional[List[str]] = None) -> int:
    """``spark-submit .../doc_checker/spark.py INPUT OUTPUT [options]``: the spark subcommand
    as a script, with the same options and exit codes (2 for usage errors)."""
    from doc_checker.errors import DocCheckerError, UsageError

    parser = argparse.ArgumentParser(prog="doc_checker/spark.py", description=run_spark_cli.__doc__)
    parser.add_argument("--profile", help="profile JSON (which elements are required, weights)")
    parser.add_argument(
        "--patterns", help="patterns directory (rule files) replacing the shipped one"
    )
    add_arguments(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run_spark_cli(args)
    except (UsageError, DocCheckerError) as exc:
        print(f"doc-checker: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # spark-submit runs this file as a script: use the real module
    from doc_checker.spark import _main as _module_main

    sys.exit(_module_main())
