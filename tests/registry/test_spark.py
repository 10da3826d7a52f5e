"""The same compiled catalog on Apache Spark (local[2]): the per-profile verdicts, and DuckDB's, row by row.

Spark reads the same sqlglot expressions printed in its dialect. The golden profiles (and vague ones) go
through Spark's own ingestion and must get `match_profile`'s verdicts; a synthetic register of 10,000 rows
is judged end to end on both engines and every verdict compared; a cluster-style URI (file://) is read
and written through Hadoop's file system as hdfs:// or s3a:// would be.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from batch_parity import judged, load, mismatches
from test_parity import DEFAULT_DAY, _golden

from calculator.policy.catalog import load_catalog
from calculator.registry.batch import BatchRequest, run_batch
from calculator.registry.compiler import compile_catalog
from calculator.registry.engine import SparkEngine
from calculator.registry.synth import synthesize, write

# every test here starts (or shares) a JVM: 15-60 s on this machine before the first query, so the fast set
# leaves them to `make test`, where the session is started once for all three
pytestmark = pytest.mark.slow

VAGUE = [
    {"industry": "软件和信息技术服务业", "employees": {"min": 280, "max": 320}, "revenue": 900,
     "taxable_income": {"min": 100, "max": 200, "min_open": True, "max_open": True}},
    {"industry": "制造业", "revenue": {"min": 90, "max": 110}, "rd_expense": 4.995, "employees_q1": 300,
     "employees_q2": 300.5, "employees_q3": 299.5, "employees_q4": 300},
    {"entity_type": "公司", "employees_contract": 200, "employees_dispatched": 150, "total_assets": {"min": 4000, "max": 6000}},
]


def test_golden_and_vague_profiles_get_the_per_profile_verdicts_on_spark(spark: Any, tmp_path: Path) -> None:
    catalog = load_catalog()
    batch = _golden()[DEFAULT_DAY] + VAGUE   # the other days' cases run on Spark in the register test below
    engine, register, codes = load(batch, catalog, tmp_path, SparkEngine(tmp_path, spark))
    compiled = compile_catalog(catalog, DEFAULT_DAY, register.columns)
    problems = mismatches(batch, codes, judged(engine, register, compiled), compiled, DEFAULT_DAY, engine, register)
    assert not problems, "\n".join(problems[:5])


def test_a_synthetic_register_gets_the_same_verdicts_on_duckdb_and_spark(spark: Any, tmp_path: Path) -> None:
    """10,000 rows end to end on both engines: every verdict, amount and missing list, row by row."""
    catalog = load_catalog()
    source = tmp_path / "register.csv"
    write(synthesize(10_000, 21, catalog.schema), source, catalog.schema)
    today = date(2026, 11, 23)
    runs = {name: run_batch(BatchRequest([str(source)], tmp_path / name, name, today, outreach=False))
            for name in ("duckdb", "spark")}
    assert runs["duckdb"].verdict_rows == runs["spark"].verdict_rows > 250_000
    differ = duckdb.execute(f"""
        SELECT a.credit_code, a.policy_id, a.status, b.status, a.amount, b.amount, a.missing, b.missing
        FROM read_parquet('{tmp_path / 'duckdb' / 'verdicts.parquet'}') a
        FULL JOIN read_parquet('{tmp_path / 'spark' / 'verdicts.parquet'}/*.parquet') b USING (credit_code, policy_id)
        WHERE a.status IS DISTINCT FROM b.status OR a.amount IS DISTINCT FROM b.amount OR a.missing IS DISTINCT FROM b.missing
           OR a.amount_low IS DISTINCT FROM b.amount_low OR a.amount_high IS DISTINCT FROM b.amount_high
        LIMIT 5""").fetchall()
    assert not differ, f"rows that differ (code, item, duckdb vs spark status, amount, missing): {differ}"
    for name in ("summary.csv", "data_gaps.csv", "register_issues.csv"):
        assert (tmp_path / "duckdb" / name).read_bytes() == (tmp_path / "spark" / name).read_bytes(), name


def test_cluster_paths_are_read_and_written_through_hadoop(spark: Any, tmp_path: Path) -> None:
    """--out and the register as URIs (file:// here, hdfs:// or s3a:// on a cluster): Spark reads the Parquet
    in place, writes verdicts.parquet there, and the small tables are copied next to it."""
    catalog = load_catalog()
    source = tmp_path / "register.parquet"
    write(synthesize(300, 5, catalog.schema), source, catalog.schema)
    target = tmp_path / "cluster"
    result = run_batch(BatchRequest([f"file://{source}"], f"file://{target}", "spark", date(2026, 11, 23), outreach=False))
    assert result.out == f"file://{target}" and result.register.rows_read == 300
    names = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))}
    assert {"summary.csv", "data_gaps.csv", "register_issues.csv", "register_summary.json"} <= names
    assert any(n.startswith("verdicts.parquet/part-") for n in names) and not (target / "_work").exists()
    count = duckdb.execute(f"SELECT count(*) FROM read_parquet('{target}/verdicts.parquet/*.parquet')").fetchone()
    assert count == (result.verdict_rows,)
