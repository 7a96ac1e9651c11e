#!/usr/bin/env python
"""Throughput of ``doc_checker.spark.check_notes`` on Spark ``local[2]`` (a benchmark, not a test).

Same corpus as ``scripts/bench.py`` (its ``build_corpus(n)``: seed 1234, fixture notes joined 1
to 6 at a time). Not timed: starting the JVM and the SparkSession (``session_s``), and a warm-up
job over a few notes on every partition slot, which starts the Python workers and builds one
Checker in each (``warmup_s``; workers are reused, so the timed job finds them built). Timed: one
job checking every note, ``check_notes(df).write.format("noop")`` (every row computed, nothing
written), the notes already in Spark (a cached DataFrame).

Usage, from the repository root::

    python scripts/bench_spark.py [--notes 600] [--master local[2]] [--partitions 8] [--json OUT]

``measure_spark(notes, cfg)`` returns the row as a dict with the keys of ``bench.py``'s
``measure()`` (kind, notes, build_s, warmup_s, seconds, errors, peak_rss_self_mib,
peak_rss_children_mib, results), so bench.py can run it as one more row.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import build_corpus, default_patterns  # noqa: E402  (also puts the checkout on sys.path)


def _vm_hwm_mib(pid: int) -> Optional[float]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def measure_spark(notes: Sequence[Tuple[str, str]], cfg: Dict[str, Any]) -> Dict[str, Any]:
    """One timed ``check_notes`` job over ``notes`` on ``cfg["master"]`` (default local[2])."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from doc_checker.spark import check_notes, collect_worker_stats

    master = cfg.get("master", "local[2]")
    patterns = cfg.get("patterns")
    out: Dict[str, Any] = {"kind": "spark", "notes": len(notes), "master": master}
    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master(master)
        .appName("doc-checker-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    out["session_s"] = time.perf_counter() - t0
    slots = spark.sparkContext.defaultParallelism
    partitions = int(cfg.get("partitions") or 4 * slots)
    out["partitions"] = partitions
    try:
        # warm-up: a few notes on every slot (Python workers start, each builds its Checker)
        t0 = time.perf_counter()
        warm = spark.createDataFrame(
            list(notes[: max(cfg.get("warmup", 5), slots)]), "note_id string, text string"
        )
        check_notes(warm.repartition(slots), patterns=patterns).write.format("noop").mode(
            "overwrite"
        ).save()
        out["warmup_s"] = time.perf_counter() - t0
        out["build_s"] = None  # inside the warm-up (one Checker per worker process)

        df = (
            spark.createDataFrame(list(notes), "note_id string, text string")
            .repartition(partitions)
            .cache()
        )
        df.count()
        t0 = time.perf_counter()
        checked = check_notes(df, patterns=patterns, batch_size=cfg.get("batch_size", 64))
        checked.write.format("noop").mode("overwrite").save()
        out["seconds"] = time.perf_counter() - t0

        workers = {s["pid"]: s for s in collect_worker_stats(spark, 4 * slots)}
        out["python_workers"] = len(workers)
        out["checkers_built"] = sum(s["checkers_built"] for s in workers.values())
        out["peak_rss_children_mib"] = max(
            (s["peak_rss_mib"] for s in workers.values()), default=0.0
        )
        jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
        out["jvm_peak_rss_mib"] = _vm_hwm_mib(int(jvm))
        out["peak_rss_self_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if cfg.get("verify") or cfg.get("keep_results"):
            rows = checked.select("note_id", "result_json", "error_code").collect()
            order = {nid: i for i, (nid, _) in enumerate(notes)}
            rows.sort(key=lambda r: order[r["note_id"]])
            out["errors"] = sum(1 for r in rows if r["error_code"] is not None)
            out["results"] = [
                json.loads(r["result_json"]) if r["result_json"] else None for r in rows
            ]
        else:
            out["errors"] = checked.where("error_code is not null").count()
    finally:
        spark.stop()
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notes", type=int, default=600)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=None, help="default: 4 x the master's slots")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--patterns", default=None)
    ap.add_argument(
        "--verify",
        action="store_true",
        help="also check the results equal Checker.check_many in this process",
    )
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args(argv)
    notes = build_corpus(args.notes)
    cfg = {
        "master": args.master,
        "partitions": args.partitions,
        "batch_size": args.batch_size,
        "patterns": args.patterns if args.patterns is not None else default_patterns(),
        "verify": args.verify,
        "warmup": 5,
    }
    r = measure_spark(notes, cfg)
    r["notes_per_s"] = r["notes"] / r["seconds"]
    identical = None
    if args.verify:
        from doc_checker import Checker

        expected = [o.to_dict() for o in Checker(patterns=cfg["patterns"]).check_many(notes)]
        identical = expected == r.pop("results")
    print(
        f"{'pipeline':<44} {'notes':>6} {'session s':>9} {'warm-up s':>9} {'timed s':>8} "
        f"{'notes/s':>8} {'peak RSS MiB':>24}"
    )
    rss = (
        f"{r['peak_rss_self_mib']:.0f} + {r['python_workers']}x{r['peak_rss_children_mib']:.0f}"
        + (f" + JVM {r['jvm_peak_rss_mib']:.0f}" if r.get("jvm_peak_rss_mib") else "")
    )
    label = f"doc-checker on Spark {r['master']} ({r['partitions']} partitions)"
    print(
        f"{label:<44} {r['notes']:>6} {r['session_s']:>9.2f} {r['warmup_s']:>9.2f} "
        f"{r['seconds']:>8.2f} {r['notes_per_s']:>8.1f} {rss:>24}"
    )
    print(
        f"  {r['checkers_built']} Checkers built in {r['python_workers']} Python workers; "
        f"{r['errors']} error rows"
        + (
            ""
            if identical is None
            else f"; results identical to check_many: {'YES' if identical else 'NO'}"
        )
    )
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2, default=str) + "\n", encoding="utf-8")
    return 0 if identical in (None, True) and not r["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
