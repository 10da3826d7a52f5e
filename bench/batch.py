"""Registry scale: the whole catalog over a synthetic 许昌 register, end to end, on DuckDB and on Spark.

    python -m bench batch [--sizes 10000,100000,1000000] [--spark 100000] [--sample 10000] [--outreach]

Every figure is also printed as a ratio against a baseline measured first in the same run (the load of
this shared machine moves between runs): the per-profile engine, `match_profile`, over the first
--sample rows of the same register, one profile at a time.

- End to end = a fresh `python -m calculator batch REGISTER --no-outreach` process: read and validate the
  register (Parquet), judge every row against every item, write verdicts.parquet, summary.csv,
  data_gaps.csv and coverage.csv. Wall time and the peak RSS of the whole process tree (the JVM too).
  Target (issue 13): 1,000,000 rows ≤ 60 s and ≤ 4 GB on DuckDB.
- The judging step against `match_profile`: the same sample of register rows judged by the compiled
  catalog (DuckDB, the wide verdict table written) and one by one by the per-profile engine, in this
  process; per row, and extrapolated to the largest size. Target ≥ 50×.
- Spark local[2] at each --spark size (0 skips it): no target; Spark is there for clusters.

The synthetic registers are generated once into data/bench/registry/ (outside git) and not timed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench._common import PROJECT_ROOT, machine, table

TODAY = date(2026, 12, 1)
SEED = 13
REGISTERS = PROJECT_ROOT / "data" / "bench" / "registry"


def _register(rows: int) -> Path:
    from calculator.facts.schema import load_schema
    from calculator.registry.synth import synthesize, write

    path = REGISTERS / f"synthetic-{rows}-{SEED}.parquet"
    if not path.exists():
        REGISTERS.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        schema = load_schema()
        partial = path.with_suffix(".partial.parquet")
        write(synthesize(rows, SEED, schema), partial, schema)
        partial.replace(path)
        print(f"synthetic register of {rows:,} rows written in {time.perf_counter() - started:.1f} s (not timed)", flush=True)
    return path


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (the JVM Spark starts is a child)."""
    import psutil

    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


def _run(register: Path, engine: str, outreach: bool) -> dict[str, Any]:
    """One fresh batch process: its wall time, peak RSS (process tree, sampled) and its own JSON summary."""
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as out:
        command = [sys.executable, "-m", "calculator", "batch", str(register), "--out", out, "--engine", engine,
                   "--today", TODAY.isoformat(), "--quiet", "--json"] + ([] if outreach else ["--no-outreach"])
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], _tree_rss(process.pid))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, stderr = process.communicate()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        if process.returncode != 0:
            raise SystemExit(f"batch failed ({process.returncode}): {stderr.strip()[-500:]}")
        result = json.loads(stdout)
        return {"wall": wall, "rss": peak[0], **result}


def _judging_ratio(register: Path, sample: int) -> dict[str, float]:
    """The judging step on `sample` rows: compiled catalog on DuckDB vs match_profile one by one."""
    from calculator.policy.catalog import load_catalog
    from calculator.policy.match import match_profile
    from calculator.registry.compiler import compile_catalog
    from calculator.registry.engine import DuckDBEngine
    from calculator.registry.register import load_register

    catalog = load_catalog()
    with tempfile.TemporaryDirectory(prefix="bench-judge-") as work:
        folder = Path(work)
        engine = DuckDBEngine(folder)
        limited = folder / "sample.parquet"
        engine.con.execute(f"COPY (SELECT * FROM read_parquet('{register}') LIMIT {sample}) TO '{limited}'")
        reg = load_register([str(limited)], engine, catalog.schema, folder)
        compiled = compile_catalog(catalog, TODAY, reg.columns)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            text = compiled.query(reg.source).sql("duckdb")
            engine.write_parquet(text, str(folder / "judged.parquet"))
            best = min(best, time.perf_counter() - started)
        profiles = _profiles(engine, catalog)
        started = time.perf_counter()
        for profile in profiles:
            match_profile(profile, catalog, TODAY)
        per_profile = (time.perf_counter() - started) / len(profiles)
        engine.close()
    return {"rows": len(profiles), "batch_s": best, "match_s": per_profile * len(profiles), "match_per_row_ms": per_profile * 1000,
            "ratio": per_profile * len(profiles) / best}


def _profiles(engine: Any, catalog: Any) -> list[dict[str, Any]]:
    """The validated register rows as profiles (what the per-profile engine would be handed)."""
    names = [name for name, _ in engine.columns("register")]
    rows = engine.fetch('SELECT * FROM "register"')
    out = []
    for row in rows:
        profile = {k: (int(v) if catalog.schema.fields[k].type == "int" and v is not None else v)
                   for k, v in zip(names, row) if v is not None and k in catalog.schema.fields}
        out.append(profile)
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench batch")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="register rows, comma separated (DuckDB)")
    parser.add_argument("--spark", default="100000", help="rows for Spark local[2] runs, comma separated (0: none)")
    parser.add_argument("--sample", type=int, default=10_000, help="rows for the baseline (match_profile one by one)")
    parser.add_argument("--outreach", action="store_true", help="also time the largest DuckDB run with outreach lists")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    spark_sizes = [int(s) for s in args.spark.split(",") if s.strip() and int(s) > 0]
    print(machine(), flush=True)
    # the baseline first, in this run: the per-profile engine over the first `sample` rows of the same register
    ratio = _judging_ratio(_register(max([*sizes, *spark_sizes, args.sample])), args.sample)
    baseline = ratio["rows"] / ratio["match_s"]
    print(f"baseline: match_profile one by one over {ratio['rows']:,} register rows: {baseline:,.0f} rows/s "
          f"({ratio['match_per_row_ms']:.3f} ms/row)", flush=True)
    rows: list[list[str]] = []
    runs: dict[int, dict[str, Any]] = {}

    def line(size: int, engine: str, run: dict[str, Any], label: str = "") -> list[str]:
        s = run["seconds"]
        speed = size / run["wall"]
        return [f"{size:,}", engine + label, f"{run['wall']:.1f}", f"{speed:,.0f}", f"{speed / baseline:.1f}×", f"{run['verdicts']:,}",
                f"{run['rss'] / 2**30:.2f} GB", *(f"{s.get(k, 0):.1f}" for k in ("read", "judge", "verdicts", "reports", "outreach"))]
    for size in sizes:
        runs[size] = _run(_register(size), "duckdb", False)
        rows.append(line(size, "duckdb", runs[size]))
        print(f"duckdb {size:,} rows: {runs[size]['wall']:.1f} s", flush=True)
    if args.outreach and sizes:
        largest = max(sizes)
        rows.append(line(largest, "duckdb", _run(_register(largest), "duckdb", True), " + outreach"))
    for size in spark_sizes:
        spark = _run(_register(size), "spark", False)
        rows.append(line(size, "spark local[2]", spark))
        print(f"spark local[2] {size:,} rows: {spark['wall']:.1f} s", flush=True)
    header = ["rows", "engine", "end to end (s)", "rows/s", "÷ baseline rows/s", "verdicts", "peak RSS", "read", "judge",
              "write verdicts", "tables", "outreach"]
    print(table(header, rows))
    largest = max(sizes) if sizes else 0
    if largest >= 1_000_000:
        run = runs[largest]
        met = run["wall"] <= 60 and run["rss"] <= 4 * 2**30
        print(f"target 1,000,000 rows ≤ 60 s and ≤ 4 GB on DuckDB: {'met' if met else 'NOT met'} "
              f"({run['wall']:.1f} s, {run['rss'] / 2**30:.2f} GB)")
    judged_rows = [[f"{ratio['rows']:,}", f"{ratio['batch_s']:.2f} s", f"{ratio['match_s']:.2f} s", f"{ratio['ratio']:.0f}×"]]
    if largest > ratio["rows"]:
        extrapolated = ratio["match_per_row_ms"] / 1000 * largest
        judge = runs[largest]["seconds"]["judge"]
        judged_rows.append([f"{largest:,} (match extrapolated)", f"{judge:.1f} s", f"{extrapolated:,.0f} s", f"{extrapolated / judge:.0f}×"])
    print(table(["rows", "batch judging step (DuckDB)", "match_profile one by one (baseline)", "ratio"], judged_rows))
    print(f"target judging step ≥ 50× match_profile: {'met' if ratio['ratio'] >= 50 else 'NOT met'} at {ratio['rows']:,} rows "
          f"(load average {os.getloadavg()[0]:.1f})")
