"""doc-checker on Apache Spark (local[2]): the same results as the checker in process, one output
row per input row, input columns unchanged, custom rules shipped to the executors, the CLI."""

import datetime as dt
import json
import os
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from doc_checker import Checker
from doc_checker.cli import main as cli_main
from doc_checker.errors import RulesError
from doc_checker.rules import ELEMENTS, default_patterns_dir
from doc_checker.spark import check_notes, collect_worker_stats, result_columns

pytestmark = pytest.mark.filterwarnings(
    "ignore:distutils Version classes are deprecated:DeprecationWarning"
)

ROOT = Path(__file__).resolve().parents[1]
NOTES = sorted((ROOT / "fixtures" / "notes").glob("*.txt"))
CODES = ["20610;77002", "77002", "49083, 77002-26", "32555;77002", None]
BIG = 9_007_199_254_740_993  # not a float64: a pandas round trip would change it
MARKER = "ZQXJ-PRIVATE-MARKER"

INPUT_DDL = (
    "row long, note_id string, text string, physician string, payer string, "
    "encounter long, seen timestamp, charge decimal(12,2), cpt_codes string"
)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    old = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers on this interpreter, not PATH's python3
    session = (
        SparkSession.builder.master("local[2]")
        .appName("doc-checker-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if old is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = old


def _rows():
    """Every fixture note, with extra columns of awkward types, then rows that cannot be checked."""
    rows = []
    for i, p in enumerate(NOTES):
        rows.append(
            (
                i,
                p.stem,
                p.read_text(encoding="utf-8"),
                f"Dr {chr(65 + i % 7)}",
                ["medicare", "aetna", None][i % 3],
                None if i % 5 == 0 else BIG + i,
                dt.datetime(1900 + i % 120, 1 + i % 12, 1, 12, 30),
                Decimal(f"{i}.25"),
                CODES[i % len(CODES)],
            )
        )
    n = len(rows)
    bad = [("bad-empty", ""), ("bad-null", None), ("bad-space", "  \n\t "), (None, "   ")]
    for k, (note_id, text) in enumerate(bad):
        rows.append((n + k, note_id, text, "Dr Z", "medicaid", BIG, None, None, "77002"))
    return rows


@pytest.fixture(scope="module")
def table(spark):
    rows = _rows()
    df = spark.createDataFrame(rows, INPUT_DDL).repartition(5)
    out = check_notes(df, codes_col="cpt_codes", batch_size=8).collect()
    return rows, df, out


def test_results_equal_the_checker_in_process(table, checker):
    rows, df, out = table
    assert len(out) == len(rows) == df.count()
    by_row = {r["row"]: r for r in out}
    assert sorted(by_row) == [r[0] for r in rows]
    good = [r for r in rows if r[2] and r[2].strip()]
    assert len(good) == len(NOTES)
    for row, note_id, text, *_, codes in good:
        o = by_row[row]
        expected = checker.check(text, note_id=note_id, codes=codes).to_dict()
        assert json.loads(o["result_json"]) == expected, note_id
        # the flattened columns are the same result
        assert o["note_id"] == note_id
        assert o["score"] == expected["score"] and o["verdict"] == expected["verdict"]
        assert o["suggested_code"] == expected["suggested_code"]
        for name in ELEMENTS:
            assert o[f"{name}_status"] == expected["elements"][name]["status"]
        assert list(o["missing"]) == expected["missing"]
        assert list(o["queries"]) == expected["queries"]
        assert list(o["finding_codes"]) == [f["code"] for f in expected["findings"]]
        assert [f.asDict() for f in o["findings"]] == [
            {k: f[k] for k in ("code", "severity", "message")} for f in expected["findings"]
        ]
        assert list(o["claim_finding_codes"]) == [f["code"] for f in expected["claim_findings"]]
        assert (None if o["billed_codes"] is None else list(o["billed_codes"])) == expected[
            "billed_codes"
        ]
        assert o["ruleset_version"] == expected["ruleset_version"] == checker.ruleset_version
        assert o["profile"] == expected["profile"]
        assert o["error_code"] is None and o["error_message"] is None
    # the corpus exercises what is compared
    assert {o["verdict"] for o in out if o["verdict"]} >= {
        "supported",
        "incomplete",
        "not_supported",
    }
    assert any(o["claim_finding_codes"] for o in out if o["error_code"] is None)


def test_bad_rows_are_error_rows_not_lost_rows(table):
    rows, _, out = table
    errors = {o["row"]: o for o in out if o["error_code"] is not None}
    assert sorted(errors) == [r[0] for r in rows if not (r[2] and r[2].strip())]
    for o in errors.values():
        assert o["error_code"] == "missing_text" and o["error_message"]
        assert MARKER not in o["error_message"]
        for name, _ in result_columns():
            if name not in ("note_id", "error_code", "error_message"):
                assert o[name] is None, name
    assert {o["note_id"] for o in errors.values()} == {"bad-empty", "bad-null", "bad-space", None}


def test_input_columns_carried_through_unchanged(table):
    rows, df, out = table
    names = df.columns
    result_names = [n for n, _ in result_columns() if n != "note_id"]  # the input has note_id
    assert list(out[0].__fields__) == names + result_names
    by_row = {r["row"]: r for r in out}
    for r in rows:
        o = by_row[r[0]]
        assert tuple(o[c] for c in names) == r, r[0]
    assert any(o["encounter"] == BIG + 1 for o in out)  # exact, not through float64


def test_one_checker_per_worker_process(spark, table):
    """The table ran 5 partitions in batches of 8 rows on 2 cores: each worker process built
    the (default) Checker once and reused it for every batch and task it ran."""
    stats = collect_worker_stats(spark, 8)
    workers = {s["pid"]: s for s in stats}
    served = [s for s in workers.values() if s["rows"]]
    assert served, stats  # python workers are reused: the ones that checked notes answered
    for s in workers.values():
        assert s["max_builds_per_key"] <= 1, s
    assert any(s["batches"] > s["checkers_built"] >= 1 for s in served), stats


def test_binary_and_non_text_columns(spark, checker):
    note = NOTES[0].read_text(encoding="utf-8")
    rows = [
        ("utf8", note.encode("utf-8")),
        ("bom16", note.encode("utf-16")),
        ("nul", b"\x00\x01\x02binary" * 50),
        ("latin1", "caf\xe9 fluoroscopy".encode("latin-1")),
        ("none", None),
        ("empty", b""),
    ]
    out = {
        r["note_id"]: r
        for r in check_notes(spark.createDataFrame(rows, "note_id string, text binary")).collect()
    }
    assert len(out) == len(rows)
    expected = checker.check(note, note_id="utf8").to_dict()
    assert json.loads(out["utf8"]["result_json"]) == expected
    assert json.loads(out["bom16"]["result_json"]) == {**expected, "note_id": "bom16"}
    assert out["nul"]["error_code"] == "binary"
    assert out["latin1"]["error_code"] == "not_utf8"
    assert out["none"]["error_code"] == "missing_text"
    assert out["empty"]["error_code"] == "empty"
    assert bytes(out["utf8"]["text"]) == note.encode("utf-8")

    ints = spark.createDataFrame([(1, 5), (2, None)], "id long, body long")
    got = check_notes(ints, id_col="id", text_col="body").orderBy("id").collect()
    assert [(r["note_id"], r["error_code"]) for r in got] == [
        ("1", "not_text"),
        ("2", "missing_text"),
    ]


def test_column_names_and_usage_errors(spark):
    df = spark.createDataFrame([("n1", "x", 3.0)], "note_id string, text string, score double")
    with pytest.raises(ValueError, match="score"):
        check_notes(df)
    out = check_notes(df, prefix="dc_").collect()[0]
    assert out["score"] == 3.0 and out["dc_note_id"] == "n1" and out["dc_error_code"] is None
    assert out["dc_verdict"] in ("supported", "incomplete", "not_supported")
    with pytest.raises(ValueError, match="no column named 'body'"):
        check_notes(df, text_col="body")
    with pytest.raises(ValueError, match="codes"):
        check_notes(df, codes_col="codes")
    no_id = spark.createDataFrame([("x",)], "text string")
    assert check_notes(no_id).collect()[0]["note_id"] is None


def test_custom_patterns_and_profile_reach_the_executors(spark, tmp_path):
    """The rules are copied, changed, given to check_notes, then deleted before the job runs:
    the executors can only have used what was shipped with the job."""
    rules = tmp_path / "site_rules"
    shutil.copytree(
        default_patterns_dir(), rules, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    meta = json.loads((rules / "ruleset.json").read_text(encoding="utf-8"))
    meta["version"] = "9999.1.1-spark-test"
    (rules / "ruleset.json").write_text(json.dumps(meta), encoding="utf-8")
    profile = tmp_path / "site_profile.json"
    data = json.loads(
        (default_patterns_dir() / "profiles" / "lenient.json").read_text(encoding="utf-8")
    )
    data["name"] = "site-lenient"
    profile.write_text(json.dumps(data), encoding="utf-8")
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in NOTES[:12]]
    local = Checker(profile=str(profile), patterns=str(rules))
    expected = {nid: local.check(t, note_id=nid).to_dict() for nid, t in texts}

    df = spark.createDataFrame(texts, "note_id string, text string").repartition(3)
    job = check_notes(df, profile=str(profile), patterns=str(rules))
    shutil.rmtree(rules)
    profile.unlink()
    out = job.collect()

    assert len(out) == len(texts)
    for o in out:
        assert o["ruleset_version"] == "9999.1.1-spark-test"
        assert o["profile"] == "site-lenient"
        assert json.loads(o["result_json"]) == expected[o["note_id"]]
    assert all("contrast_confirmation" not in o["missing"] for o in out)


def test_dict_profile_and_invalid_rules(spark, tmp_path):
    data = json.loads(
        (default_patterns_dir() / "profiles" / "lenient.json").read_text(encoding="utf-8")
    )
    df = spark.createDataFrame(
        [(NOTES[1].stem, NOTES[1].read_text(encoding="utf-8"))], "note_id string, text string"
    )
    assert check_notes(df, profile=data).collect()[0]["profile"] == "lenient"
    rules = tmp_path / "broken"
    shutil.copytree(
        default_patterns_dir(), rules, ignore=shutil.ignore_patterns("__pycache__", "*.py")
    )
    (rules / "sections.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RulesError, match="sections.json"):  # on the driver, before any job
        check_notes(df, patterns=str(rules))


# ---------------------------------------------------------------------------------------------
# doc-checker spark INPUT OUTPUT
# ---------------------------------------------------------------------------------------------
def _notes_with_marker():
    rows = [
        (p.stem, p.read_text(encoding="utf-8") + f"\n{MARKER}\n", f"Dr {p.stem[-1]}")
        for p in NOTES[:20]
    ]
    return rows + [("cli-empty", "", "Dr Z"), ("cli-null", None, "Dr Z")]


def test_cli_round_trips_parquet(spark, tmp_path, capsys, checker):
    rows = _notes_with_marker()
    src, dst = tmp_path / "notes.parquet", tmp_path / "checked"
    spark.createDataFrame(rows, "note_id string, text string, physician string").coalesce(
        1
    ).write.parquet(str(src))
    capsys.readouterr()
    code = cli_main(["spark", str(src), str(dst)])
    captured = capsys.readouterr()
    assert code == 1  # some rows are error records, as `doc-checker check` says
    assert "22 rows, 20 checked, 2 errors" in captured.err
    assert MARKER not in captured.err + captured.out
    out = spark.read.parquet(str(dst)).collect()
    assert len(out) == len(rows)
    assert [c for c in out[0].__fields__][:3] == ["note_id", "text", "physician"]
    by_id = {o["note_id"]: o for o in out}
    for note_id, text, physician in rows:
        o = by_id[note_id]
        assert o["text"] == text and o["physician"] == physician
        if text:
            assert json.loads(o["result_json"]) == checker.check(text, note_id=note_id).to_dict()
        else:
            assert o["error_code"] == "missing_text" and o["verdict"] is None
    # a second run overwrites its own earlier output
    assert cli_main(["spark", str(src), str(dst), "--master", "local[2]"]) == 1
    assert spark.read.parquet(str(dst)).count() == len(rows)


def test_cli_csv_and_jsonl(spark, tmp_path, capsys, checker):
    import csv

    note = NOTES[2].read_text(encoding="utf-8")
    quoted = 'INDICATION: "knee" pain, effusion.\n' + note
    csv_path = tmp_path / "export.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["accession", "body", "cpt_codes", "payer"])
        w.writerow(["00123", quoted, "20610;77002", "aetna"])
        w.writerow(["00124", "", "", "aetna"])
    out_csv = tmp_path / "csv_out"
    assert (
        cli_main(
            [
                "spark",
                str(csv_path),
                str(out_csv),
                "--id-column",
                "accession",
                "--text-column",
                "body",
            ]
        )
        == 1
    )
    got = {r["accession"]: r for r in spark.read.parquet(str(out_csv)).collect()}
    assert set(got) == {"00123", "00124"}
    assert got["00123"]["body"] == quoted  # multi-line quoted text with doubled quotes
    expected = checker.check(quoted, note_id="00123", codes="20610;77002").to_dict()
    assert json.loads(got["00123"]["result_json"]) == expected
    assert list(got["00123"]["billed_codes"]) == expected["billed_codes"]
    assert got["00124"]["error_code"] == "missing_text"

    jsonl = tmp_path / "notes.jsonl"
    lines = [
        json.dumps({"note_id": "j1", "text": note, "site": "north"}),
        "{broken json",
        json.dumps({"note_id": "j3", "text": None, "site": "south"}),
    ]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out_json = tmp_path / "json_out"
    assert cli_main(["spark", str(jsonl), str(out_json)]) == 1
    got = spark.read.parquet(str(out_json)).collect()
    assert len(got) == 3 and "_corrupt_record" not in got[0].__fields__
    assert sorted((r["note_id"] or "", r["error_code"] or "") for r in got) == [
        ("", "bad_row"),
        ("j1", ""),
        ("j3", "missing_text"),
    ]
    capsys.readouterr()


def test_cli_usage_errors(spark, tmp_path, capsys):
    assert cli_main(["spark", str(tmp_path / "nope.parquet"), str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    src = tmp_path / "t.parquet"
    spark.createDataFrame([("a", "b")], "note_id string, body string").write.parquet(str(src))
    assert cli_main(["spark", str(src), str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no column named 'text'" in err and "body" in err
    assert cli_main(["spark", str(src), str(src)]) == 2  # never overwrite the input
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "file.txt").write_text("x")
    assert cli_main(["spark", str(src), str(keep), "--text-column", "body"]) == 2
    assert (keep / "file.txt").exists()
    odd = tmp_path / "notes.xyz"
    odd.write_text("x")
    assert cli_main(["spark", str(odd), str(tmp_path / "o2")]) == 2
    capsys.readouterr()
