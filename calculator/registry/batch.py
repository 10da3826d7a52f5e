"""One batch run: register extracts in, every verdict and the officials' tables out, all under `out`.

Steps (each reported to `progress`): read and validate the extracts; compile the catalog for the day
(with a draft item or changed thresholds for 政策测算); judge every row into a wide table (one row per
enterprise, five columns per item) kept as Parquet in the run's work folder; unpivot it into
`verdicts.parquet` (and `verdicts.csv` up to 100,000 enterprises, or on request); count per item
(`summary.csv`), the facts the undecided verdicts wait on (`data_gaps.csv`), who no item reaches by
county, industry and 企业规模 (`coverage.csv`), the outreach lists
(`outreach/<policy_id>.xlsx`), the register's own problems (`register_issues.csv`) and, for a what-if,
the comparison with the law as it is (`whatif/`). Nothing is written outside `out`; the work folder is
removed at the end; names and codes are never logged.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.core.vocabulary import ELIGIBLE, NEED_INFO, NOT_ELIGIBLE
from calculator.registry import reports, sql
from calculator.registry.compiler import STATUS_CODE, CompiledCatalog, compile_catalog
from calculator.registry.coverage import CoverageRow, coverage_csv, register_coverage
from calculator.registry.engine import Engine, EngineError, open_engine, watch
from calculator.registry.numbers import round_half_even
from calculator.registry.register import Register, RegisterSummary, load_register
from calculator.registry.sources import is_remote

if TYPE_CHECKING:
    from calculator.policy.catalog import Catalog
    from calculator.registry.whatif import WhatIf

CSV_LIMIT = 100_000          # enterprises up to which verdicts.csv is written without being asked
WIDE, VERDICTS = "judged", "verdicts"
Progress = Callable[[float, str], None]
_STAGES = {"read": (0.0, 0.2, "读取并校验登记表"), "judge": (0.2, 0.55, "逐户判定"), "verdicts": (0.55, 0.75, "写出判定结果"),
           "reports": (0.75, 0.85, "汇总与数据缺口"), "outreach": (0.85, 1.0, "生成推送名单")}


@dataclass
class BatchRequest:
    registers: list[str]
    out: Path | str
    engine: str = "duckdb"
    today: date | None = None
    policies: list[str] | None = None
    csv: bool = False
    draft: Path | None = None
    sets: list[str] = field(default_factory=list)
    outreach: bool = True


@dataclass
class BatchResult:
    out: str
    today: date
    engine: str
    register: RegisterSummary
    counts: list[reports.PolicyCount]
    totals: reports.Totals
    gaps: list[reports.Gap]
    outreach: dict[str, int]
    files: list[str]
    seconds: dict[str, float]
    verdict_rows: int = 0
    whatif: WhatIf | None = None
    coverage: list[CoverageRow] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "today": self.today.isoformat(), "engine": self.engine,
                "register": self.register.to_json(), "verdicts": self.verdict_rows,
                "policies": reports.render_counts(self.counts), "totals": self.totals.__dict__,
                "gaps": [{"fact": g.fact, "label": g.label, "holders": g.holders, "waiting": g.waiting, "settled": g.settled}
                         for g in self.gaps[:20]],
                "outreach": self.outreach, "files": self.files, "seconds": self.seconds,
                "whatif": self.whatif.to_json() if self.whatif else None}


class _Steps:
    """Progress over the run's stages, with the engine's own progress inside the long ones."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()
        self._stage = ""

    def start(self, stage: str) -> None:
        self._close()
        self._stage = stage
        self._started = time.perf_counter()
        self.report(0.0)

    def report(self, within: float) -> None:
        if self.progress and self._stage:
            low, high, label = _STAGES[self._stage]
            self.progress(low + (high - low) * max(0.0, min(1.0, within)), label)

    def _close(self) -> None:
        if self._stage:
            self.seconds[self._stage] = round(time.perf_counter() - self._started, 3)

    def finish(self) -> None:
        self._close()
        self._stage = ""
        if self.progress:
            self.progress(1.0, "完成")


def _watched(engine: Engine, steps: _Steps, action: Callable[[], Any]) -> Any:
    stop = threading.Event()
    thread = watch(engine, steps.report, stop)
    try:
        return action()
    finally:
        stop.set()
        thread.join()


def prepare_out(out: Path) -> Path:
    """The output folder (created; an existing file of that name is refused)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out 应为文件夹：{out}", f"--out must be a folder: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"无法创建输出文件夹 {out}（{exc.strerror or exc}）", f"cannot create {out}: {exc.strerror or exc}") from None
    return out


class Output:
    """Where a run writes: a local folder, or (Spark) a cluster URI such as hdfs://… or s3a://….

    Large tables are written by the engine straight to the target (`path`); small ones are written to
    `local` and, for a URI, copied there at the end with the cluster's own file system client. The
    work folder (the wide verdict table) lives under the target too, so every executor can read it."""

    def __init__(self, out: Path | str, engine: str) -> None:
        self.uri = str(out).rstrip("/") if is_remote(str(out)) else ""
        if self.uri and engine != "spark":
            raise UserError("集群路径（hdfs://、s3a:// 等）只能配合 --engine spark 使用",
                            "a cluster URI for --out needs --engine spark")
        self.local = Path(tempfile.mkdtemp(prefix="calculator-batch-")) if self.uri else prepare_out(Path(out))
        self.work = self.local / ".work"
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir()

    @property
    def shown(self) -> str:
        return self.uri or str(self.local)

    def path(self, name: str) -> str:
        """A target the engine writes to directly."""
        return f"{self.uri}/{name}" if self.uri else str(self.local / name)

    def work_path(self, name: str) -> str:
        return f"{self.uri}/_work/{name}" if self.uri else str(self.work / name)

    def finish(self, engine: Engine | None) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        if not self.uri:
            return
        try:
            if engine is not None:
                upload(engine, self.local, self.uri)
        finally:
            shutil.rmtree(self.local, ignore_errors=True)


def upload(engine: Engine, local: Path, uri: str) -> None:
    """Copy the small tables to the cluster's file system (Hadoop FileSystem, as Spark itself writes) and
    remove the work folder there."""
    spark = getattr(engine, "spark", None)
    if spark is None:
        return
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    target = jvm.org.apache.hadoop.fs.Path(uri)
    fs = target.getFileSystem(conf)
    for path in sorted(local.rglob("*")):
        if path.is_file():
            destination = jvm.org.apache.hadoop.fs.Path(f"{uri}/{path.relative_to(local).as_posix()}")
            fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(str(path)), destination)
    fs.delete(jvm.org.apache.hadoop.fs.Path(f"{uri}/_work"), True)


def run_batch(request: BatchRequest, progress: Progress | None = None, catalog: Catalog | None = None) -> BatchResult:
    """The whole run (see the module's docstring); every failure is one bilingual UserError."""
    from calculator.registry.whatif import scenario

    output = Output(request.out, request.engine)
    out, work = output.local, output.work
    today = request.today or get_settings().today
    steps = _Steps(progress)
    engine: Engine | None = None
    try:
        base_catalog = catalog or _catalog()
        plan = scenario(base_catalog, request.draft, request.sets)
        engine = open_engine(request.engine, work)
        steps.start("read")
        register = load_register(request.registers, engine, base_catalog.schema, work)
        files = ["register_issues.csv", "register_summary.json"]
        (out / "register_issues.csv").write_bytes(register.issues_csv)
        (out / "register_summary.json").write_text(json.dumps(register.summary.to_json(), ensure_ascii=False, indent=1),
                                                    encoding="utf-8")
        policies = request.policies
        if plan.draft_id and policies is not None and plan.draft_id not in policies:
            policies = [*policies, plan.draft_id]
        compiled = compile_catalog(plan.catalog, today, register.columns, policies, plan.overrides)
        steps.start("judge")
        extra = plan.focus_columns(compiled)
        _watched(engine, steps, lambda: judge(engine, compiled, register, output, extra))
        steps.start("verdicts")
        csv = request.csv or register.summary.enterprises <= CSV_LIMIT
        rows = _watched(engine, steps, lambda: write_verdicts(engine, compiled, output, csv))
        files += ["verdicts.parquet"] + (["verdicts.csv"] if csv else [])
        steps.start("reports")
        counts, totals = reports.counts(engine, compiled, WIDE)
        gaps = reports.gaps(engine, compiled, WIDE)
        titles = {p.id: p.title for p in plan.catalog.policies}
        covered = register_coverage(engine, compiled, WIDE)
        (out / "summary.csv").write_bytes(reports.summary_csv(counts, totals, today.isoformat()))
        (out / "data_gaps.csv").write_bytes(reports.gaps_csv(gaps, titles))
        (out / "coverage.csv").write_bytes(coverage_csv(covered))
        files += ["summary.csv", "data_gaps.csv", "coverage.csv"]
        whatif = None
        if plan.changed:
            whatif = plan.compare(engine, compiled, register, today, out / "whatif")
            files += [f"whatif/{name}" for name in whatif.files]
        written: dict[str, int] = {}
        if request.outreach and not plan.changed:
            steps.start("outreach")
            written = reports.outreach(engine, compiled, WIDE, out / "outreach")
            files += [f"outreach/{pid}.xlsx" for pid in written]
        output.finish(engine)
        steps.finish()
        return BatchResult(output.shown, today, engine.name, register.summary,
                           counts, totals, gaps, written, files, steps.seconds, rows, whatif, covered)
    except UserError:
        raise
    except Exception as exc:   # an engine error may quote a value: say what failed, never the data
        if os.environ.get("CALCULATOR_DEBUG"):
            raise
        raise EngineError(f"批量判定失败（{type(exc).__name__}）：请检查登记表格式；设置 CALCULATOR_DEBUG=1 查看详情",
                          f"the batch run failed ({type(exc).__name__}); set CALCULATOR_DEBUG=1 for details") from None
    finally:
        if engine is not None:
            engine.close()
        shutil.rmtree(work, ignore_errors=True)
        if output.uri:
            shutil.rmtree(output.local, ignore_errors=True)


def _catalog() -> Catalog:
    from calculator.policy.catalog import load_catalog

    return load_catalog()


def judge(engine: Engine, compiled: CompiledCatalog, register: Register, output: Output,
          extra: list[tuple[str, Any]] | None = None) -> None:
    """Every row × every item into the wide table `judged` (kept as Parquet in the work folder)."""
    query = compiled.query(register.source, extra=extra)
    path = output.work_path("judged.parquet")
    engine.write_parquet(query, path)
    engine.view(WIDE, _parquet(engine, path))


def _parquet(engine: Engine, path: str) -> str:
    if engine.dialect == "duckdb":
        return "SELECT * FROM read_parquet('" + path.replace("'", "''") + "')"
    return f"SELECT * FROM parquet.`{path}`"


MISSING_NAMES = "missing_names"


def decode_masks(engine: Engine, compiled: CompiledCatalog) -> None:
    """The table `missing_names` (policy_id, mask, missing): the few distinct masks of the run, as keys."""
    parts = [f"SELECT '{c.policy.id}' AS policy_id, {_quoted(engine, c.column('missing'))} AS mask FROM {_quoted(engine, WIDE)} "
             f"WHERE {_quoted(engine, c.column('missing'))} IS NOT NULL GROUP BY 2" for c in compiled.policies if c.terms]
    by_id = {c.policy.id: c for c in compiled.policies}
    rows = [(pid, int(mask), by_id[pid].decode(int(mask))) for pid, mask in (engine.fetch(" UNION ALL ".join(parts)) if parts else [])]
    engine.rows_table(MISSING_NAMES, [("policy_id", "VARCHAR"), ("mask", "BIGINT"), ("missing", "VARCHAR")], rows)


def _quoted(engine: Engine, name: str) -> str:
    return f'"{name}"' if engine.dialect == "duckdb" else f"`{name}`"


def long_query(engine: Engine, compiled: CompiledCatalog) -> str:
    """The wide table unpivoted (UNPIVOT reads alike in DuckDB and Spark): one row per enterprise × item, the
    missing facts looked up by their mask."""
    quote = lambda name: _quoted(engine, name)  # noqa: E731
    groups = ", ".join("(" + ", ".join(quote(c.column(p)) for p in ("status", "amount", "low", "high", "missing")) + ")"
                       f" AS {quote(c.policy.id)}" for c in compiled.policies)
    status = sql.case([(sql.compare(exp.column("status", table="u"), "==", exp.Literal.number(STATUS_CODE[s])), s)
                       for s in (ELIGIBLE, NEED_INFO)], NOT_ELIGIBLE)

    def money(value: exp.Expr, name: str) -> str:
        return f"{round_half_even(value, 2).sql(engine.dialect)} AS {quote(name)}"
    amount = exp.column("amount", table="u")
    columns = [f"u.{quote('credit_code')}", f"u.{quote('name')}", f"u.{quote('policy_id')}",
               f"{sql.as_sql(status).sql(engine.dialect)} AS {quote('status')}", money(amount, "amount"),
               f"COALESCE(m.{quote('missing')}, '') AS {quote('missing')}",
               money(exp.Coalesce(this=exp.column("low", table="u"), expressions=[amount]), "amount_low"),
               money(exp.Coalesce(this=exp.column("high", table="u"), expressions=[amount]), "amount_high")]
    unpivot = (f"SELECT {quote('credit_code')}, {quote('name')}, {quote('policy_id')}, {quote('status')}, {quote('amount')}, "
               f"{quote('low')}, {quote('high')}, {quote('missing')} FROM {quote(WIDE)} UNPIVOT INCLUDE NULLS "
               f"(({quote('status')}, {quote('amount')}, {quote('low')}, {quote('high')}, {quote('missing')}) "
               f"FOR {quote('policy_id')} IN ({groups}))")
    return (f"SELECT {', '.join(columns)} FROM ({unpivot}) u LEFT JOIN {quote(MISSING_NAMES)} m "
            f"ON m.{quote('policy_id')} = u.{quote('policy_id')} AND m.{quote('mask')} = u.{quote('missing')}")


def write_verdicts(engine: Engine, compiled: CompiledCatalog, output: Output, csv: bool) -> int:
    """verdicts.parquet (always) and verdicts.csv (when asked); returns the number of verdict rows."""
    decode_masks(engine, compiled)
    query = long_query(engine, compiled)
    target = output.path("verdicts.parquet")
    local = output.local / "verdicts.parquet"
    if not output.uri and local.is_dir():
        shutil.rmtree(local)
    engine.write_parquet(query, target)
    engine.view(VERDICTS, _parquet(engine, target))
    stale = output.local / "verdicts.csv"
    if csv:
        _csv(engine, f"SELECT * FROM {VERDICTS}", output)
    elif not output.uri and stale.exists():
        stale.unlink()   # a file from an earlier run would contradict this one
    return int(engine.fetch(f"SELECT count(*) FROM {VERDICTS}")[0][0])


def _csv(engine: Engine, query: str, output: Output) -> None:
    if engine.dialect == "duckdb":
        engine.write_csv(query, str(output.local / "verdicts.csv"))
        return
    if output.uri:   # on a cluster: a folder holding one part file, as Spark writes it
        engine.write_csv(query, output.path("verdicts.csv"))
        return
    folder = output.work / "csv"
    engine.write_csv(query, str(folder))
    shutil.move(str(next(folder.glob("part-*.csv"))), output.local / "verdicts.csv")
