"""One batch run: register extracts in, every verdict and the officials' tables out, all under `out`.

Steps (each reported to `progress`): read and validate the extracts; compile the catalog for the day
(with a draft item or changed thresholds for 政策测算); judge every row into a wide table (one row per
enterprise, five columns per item) kept as Parquet in the run's work folder; unpivot it into
`verdicts.parquet` (and `verdicts.csv` up to 100,000 enterprises, or on request); count per item
(`summary.csv`), the facts the undecided verdicts wait on (`data_gaps.csv`), the outreach lists
(`outreach/<policy_id>.xlsx`), the register's own problems (`register_issues.csv`) and, for a what-if,
the comparison with the law as it is (`whatif/`). Nothing is written outside `out`; the work folder is
removed at the end; names and codes are never logged.
"""
from __future__ import annotations

import json
import shutil
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
from calculator.registry.engine import Engine, EngineError, open_engine, watch
from calculator.registry.numbers import round_half_even
from calculator.registry.register import Register, RegisterSummary, load_register

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
    out: Path
    engine: str = "duckdb"
    today: date | None = None
    policies: list[str] | None = None
    csv: bool = False
    draft: Path | None = None
    sets: list[str] = field(default_factory=list)
    outreach: bool = True


@dataclass
class BatchResult:
    out: Path
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


def run_batch(request: BatchRequest, progress: Progress | None = None, catalog: Catalog | None = None) -> BatchResult:
    """The whole run (see the module's docstring); every failure is one bilingual UserError."""
    from calculator.registry.whatif import scenario

    out = prepare_out(request.out)
    work = out / ".work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
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
        _watched(engine, steps, lambda: judge(engine, compiled, register, work, extra))
        steps.start("verdicts")
        rows = _watched(engine, steps, lambda: write_verdicts(engine, compiled, out, work,
                                                              request.csv or register.summary.enterprises <= CSV_LIMIT))
        files += ["verdicts.parquet"] + (["verdicts.csv"] if (out / "verdicts.csv").exists() else [])
        steps.start("reports")
        counts, totals = reports.counts(engine, compiled, WIDE)
        gaps = reports.gaps(engine, compiled, VERDICTS)
        titles = {p.id: p.title for p in plan.catalog.policies}
        (out / "summary.csv").write_bytes(reports.summary_csv(counts, totals, today.isoformat()))
        (out / "data_gaps.csv").write_bytes(reports.gaps_csv(gaps, titles))
        files += ["summary.csv", "data_gaps.csv"]
        whatif = None
        if plan.changed:
            whatif = plan.compare(engine, compiled, register, today, out / "whatif")
            files += [f"whatif/{name}" for name in whatif.files]
        written: dict[str, int] = {}
        if request.outreach and not plan.changed:
            steps.start("outreach")
            written = reports.outreach(engine, compiled, WIDE, out / "outreach")
            files += [f"outreach/{pid}.xlsx" for pid in written]
        steps.finish()
        return BatchResult(out, today, engine.name, register.summary, counts, totals, gaps, written, files,
                           steps.seconds, rows, whatif)
    except EngineError:
        raise
    except UserError:
        raise
    except Exception as exc:   # an engine error may quote a value: say what failed, never the data
        if get_settings_debug():
            raise
        raise EngineError(f"批量判定失败（{type(exc).__name__}）：请检查登记表格式；设置 CALCULATOR_DEBUG=1 查看详情",
                          f"the batch run failed ({type(exc).__name__}); set CALCULATOR_DEBUG=1 for details") from None
    finally:
        if engine is not None:
            engine.close()
        shutil.rmtree(work, ignore_errors=True)


def get_settings_debug() -> bool:
    import os

    return bool(os.environ.get("CALCULATOR_DEBUG"))


def _catalog() -> Catalog:
    from calculator.policy.catalog import load_catalog

    return load_catalog()


def judge(engine: Engine, compiled: CompiledCatalog, register: Register, work: Path,
          extra: list[tuple[str, Any]] | None = None) -> None:
    """Every row × every item into the wide table `judged` (kept as Parquet in the work folder)."""
    query = compiled.query(register.source, extra=extra)
    path = str(work / "judged.parquet")
    engine.write_parquet(query, path)
    engine.view(WIDE, _parquet(engine, path))


def _parquet(engine: Engine, path: str) -> str:
    if engine.dialect == "duckdb":
        return "SELECT * FROM read_parquet('" + path.replace("'", "''") + "')"
    return f"SELECT * FROM parquet.`{path}`"


def long_query(engine: Engine, compiled: CompiledCatalog) -> str:
    """The wide table unpivoted: one row per enterprise × item (UNPIVOT reads alike in DuckDB and Spark)."""
    quote = (lambda n: f'"{n}"') if engine.dialect == "duckdb" else (lambda n: f"`{n}`")
    groups = ", ".join("(" + ", ".join(quote(c.column(p)) for p in ("status", "amount", "low", "high", "missing")) + ")"
                       f" AS {quote(c.policy.id)}" for c in compiled.policies)
    status = sql.case([(sql.compare(sql.column("status"), "==", exp.Literal.number(STATUS_CODE[s])), s)
                       for s in (ELIGIBLE, NEED_INFO)], NOT_ELIGIBLE)
    columns = [f"{quote('credit_code')}", f"{quote('name')}", f"{quote('policy_id')}",
               f"{sql.as_sql(status).sql(engine.dialect)} AS {quote('status')}"]
    def money(part: str, name: str) -> str:
        return f"{round_half_even(sql.column(part), 2).sql(engine.dialect)} AS {quote(name)}"
    columns += [money("amount", "amount"), f"COALESCE({quote('missing')}, '') AS {quote('missing')}",
                money("low", "amount_low"), money("high", "amount_high")]
    return (f"SELECT {', '.join(columns)} FROM {quote(WIDE)} UNPIVOT INCLUDE NULLS "
            f"(({quote('status')}, {quote('amount')}, {quote('low')}, {quote('high')}, {quote('missing')}) "
            f"FOR {quote('policy_id')} IN ({groups}))")


def write_verdicts(engine: Engine, compiled: CompiledCatalog, out: Path, work: Path, csv: bool) -> int:
    """verdicts.parquet (always) and verdicts.csv (when asked); returns the number of verdict rows."""
    query = long_query(engine, compiled)
    target = out / "verdicts.parquet"
    if target.is_dir():
        shutil.rmtree(target)
    engine.write_parquet(query, str(target))
    engine.view(VERDICTS, _parquet(engine, str(target) + ("/*.parquet" if target.is_dir() else "")))
    if csv:
        _csv(engine, f"SELECT * FROM {VERDICTS}", out / "verdicts.csv", work)
    elif (out / "verdicts.csv").exists():
        (out / "verdicts.csv").unlink()   # a stale file from an earlier run would contradict this one
    return int(engine.fetch(f"SELECT count(*) FROM {VERDICTS}")[0][0])


def _csv(engine: Engine, query: str, path: Path, work: Path) -> None:
    if engine.dialect == "duckdb":
        engine.write_csv(query, str(path))
        return
    folder = work / "csv"
    engine.write_csv(query, str(folder))
    part = next(folder.glob("part-*.csv"))
    shutil.move(str(part), path)
