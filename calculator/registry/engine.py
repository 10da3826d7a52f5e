"""Where the compiled catalog runs: embedded DuckDB (the default) or Apache Spark, behind one small interface.

Both receive the same sqlglot expressions printed in their dialect. DuckDB runs in this process with
`preserve_insertion_order=false` (1 M rows × the catalog in well under 1 GB instead of 7 GB), a memory
limit and a spill folder inside the run's work folder. Spark is started as `SPARK_MASTER` says (local[2]
by default; `spark://…`, `yarn`, `k8s://…` for a cluster) with ANSI mode off, so a failed cast is NULL
in both engines; its session is created once per process and reused.

Engine errors can quote the data (a value that failed a cast), so callers turn them into a message that
never repeats it; names and codes never reach a log.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlglot import exp

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.registry.sources import REMOTE


class EngineError(UserError):
    """The engine could not start or run (exit code 4 in the batch command)."""


class Engine:
    dialect = "duckdb"
    name = "duckdb"

    def text(self, query: exp.Expr | str) -> str:
        return query if isinstance(query, str) else query.sql(self.dialect)

    def view(self, name: str, query: exp.Expr | str) -> None:
        raise NotImplementedError

    def table(self, name: str, query: exp.Expr | str) -> None:
        """Materialize a query (computed once, read by several later queries)."""
        raise NotImplementedError

    def fetch(self, query: exp.Expr | str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def rows_table(self, name: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
        """A small table from Python rows (columns as (name, SQL type))."""
        raise NotImplementedError

    def columns(self, name: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    def read(self, name: str, path: str, kind: str) -> None:
        """A view over a source file: `csv` (all text, with the header) or `parquet` (typed), plus `_row`
        (1-based row in the file, header not counted)."""
        raise NotImplementedError

    def write_parquet(self, query: exp.Expr | str, path: str) -> None:
        raise NotImplementedError

    def write_csv(self, query: exp.Expr | str, path: str) -> None:
        raise NotImplementedError

    def progress(self) -> float | None:
        """Share of the running query done (0..1), when the engine can tell."""
        return None

    def close(self) -> None:
        pass


class DuckDBEngine(Engine):
    def __init__(self, work: Path, memory_limit: str = "3GB", threads: int | None = None) -> None:
        import duckdb

        self.con = duckdb.connect()
        spill = work / "spill"
        spill.mkdir(parents=True, exist_ok=True)
        settings = {"memory_limit": memory_limit, "temp_directory": str(spill), "enable_progress_bar": True,
                    "enable_progress_bar_print": False, "preserve_insertion_order": False}
        if threads:
            settings["threads"] = threads
        for key, value in settings.items():
            self.con.execute(f"SET {key} = {_setting(value)}")
        self._lock = threading.Lock()

    def _run(self, text: str) -> Any:
        with self._lock:
            return self.con.execute(text)

    def view(self, name: str, query: exp.Expr | str) -> None:
        self._run(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {self.text(query)}')

    def table(self, name: str, query: exp.Expr | str) -> None:
        self._run(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {self.text(query)}')

    def fetch(self, query: exp.Expr | str) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._run(self.text(query)).fetchall()
        return rows

    def columns(self, name: str) -> list[tuple[str, str]]:
        return [(row[0], str(row[1])) for row in self._run(f'DESCRIBE "{name}"').fetchall()]

    def rows_table(self, name: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
        with self._lock:
            self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" (' + ", ".join(f'"{c}" {t}' for c, t in columns) + ")")
            if rows:
                self.con.executemany(f'INSERT INTO "{name}" VALUES (' + ", ".join("?" * len(columns)) + ")", rows)

    def read(self, name: str, path: str, kind: str) -> None:
        literal = path.replace("'", "''")
        if kind == "parquet":
            source = f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row FROM read_parquet('{literal}', file_row_number = true)"
            self._run(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {source}')
            return
        # file order is kept while numbering rows, then the setting goes back to streaming
        self._run("SET preserve_insertion_order = true")
        try:
            self._run(f"""CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT row_number() OVER () AS _row, *
                          FROM read_csv('{literal}', all_varchar = true, header = true, sample_size = -1)""")
        finally:
            self._run("SET preserve_insertion_order = false")

    def write_parquet(self, query: exp.Expr | str, path: str) -> None:
        literal = path.replace("'", "''")
        self._run(f"COPY ({self.text(query)}) TO '{literal}' (FORMAT parquet, COMPRESSION zstd)")

    def write_csv(self, query: exp.Expr | str, path: str) -> None:
        literal = path.replace("'", "''")
        self._run(f"COPY ({self.text(query)}) TO '{literal}' (HEADER, DELIMITER ',')")

    def progress(self) -> float | None:
        try:
            value = float(self.con.query_progress())
        except Exception:
            return None
        return None if value < 0 else min(1.0, value / 100)

    def close(self) -> None:
        self.con.close()


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


# ---------------------------------------------------------------- Spark

_spark_lock = threading.Lock()
_spark: Any = None


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """The process's SparkSession (created on first use): SPARK_MASTER and SPARK_CONF, quiet logs, ANSI off."""
    global _spark
    with _spark_lock:
        if _spark is not None:
            return _spark
        settings = get_settings()
        master = master or settings.spark_master
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise EngineError("未安装 pyspark，无法使用 Spark 引擎", f"pyspark is not installed: {exc}") from None
        builder = (SparkSession.builder.master(master).appName("xuchang-policy-batch")
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.ansi.enabled", "false").config("spark.sql.session.timeZone", "UTC")
                   .config("spark.sql.shuffle.partitions", "8"))
        for key, value in {**settings.spark_conf, **(conf or {})}.items():
            builder = builder.config(key, value)
        try:
            with _quiet_stderr():
                _spark = builder.getOrCreate()
        except Exception as exc:
            raise EngineError(f"无法启动 Spark（{master}）：请检查 Java 17 和 SPARK_MASTER",
                              f"Spark could not start on {master}: {type(exc).__name__}") from None
        _spark.sparkContext.setLogLevel("ERROR")
        return _spark


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The JVM prints start-up warnings on the process's stderr; keep the command's output to its own lines."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class SparkEngine(Engine):
    dialect = "spark"
    name = "spark"

    def __init__(self, work: Path, session: Any | None = None) -> None:
        self.spark = session or spark_session()
        self.work = work
        self._cached: list[Any] = []

    def view(self, name: str, query: exp.Expr | str) -> None:
        self.spark.sql(self.text(query)).createOrReplaceTempView(name)

    def table(self, name: str, query: exp.Expr | str) -> None:
        frame = self.spark.sql(self.text(query)).persist()
        self._cached.append(frame)
        frame.createOrReplaceTempView(name)

    def fetch(self, query: exp.Expr | str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.spark.sql(self.text(query)).collect()]

    def columns(self, name: str) -> list[tuple[str, str]]:
        return [(f.name, f.dataType.simpleString().upper()) for f in self.spark.table(name).schema.fields]

    def rows_table(self, name: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
        schema = ", ".join(f"`{c}` {t.replace('VARCHAR', 'STRING')}" for c, t in columns)
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView(name)

    def read(self, name: str, path: str, kind: str) -> None:
        from pyspark.sql import functions as F

        if kind == "csv" and not REMOTE.match(path):   # a local CSV: numbered in file order by DuckDB, read as Parquet
            numbered = Path(self.work) / f"numbered{name}.parquet"   # Spark skips files named _… or .…
            _numbered_parquet(path, numbered)
            self.spark.read.parquet(str(numbered)).createOrReplaceTempView(name)
            return
        if kind == "parquet":
            frame = self.spark.read.parquet(path).select("*", (F.col("_metadata.row_index") + 1).alias("_row"))
        else:
            frame = self.spark.read.option("header", True).option("inferSchema", False).csv(path)
            frame = frame.withColumn("_order", F.monotonically_increasing_id())
            frame = frame.selectExpr("row_number() OVER (ORDER BY _order) AS _row", "*").drop("_order")
        frame.createOrReplaceTempView(name)

    def write_parquet(self, query: exp.Expr | str, path: str) -> None:
        self.spark.sql(self.text(query)).write.mode("overwrite").parquet(path)

    def write_csv(self, query: exp.Expr | str, path: str) -> None:
        self.spark.sql(self.text(query)).coalesce(1).write.mode("overwrite").option("header", True).csv(path)

    def progress(self) -> float | None:
        tracker = self.spark.sparkContext.statusTracker()
        stages = [tracker.getStageInfo(s) for s in tracker.getActiveStageIds()]
        total = sum(s.numTasks for s in stages if s)
        return None if not total else sum(s.numCompletedTasks for s in stages if s) / total

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()


def _numbered_parquet(path: str, target: Path) -> None:
    """A CSV as all-text Parquet with `_row` (1-based, header not counted), written by an embedded DuckDB."""
    import duckdb

    con = duckdb.connect()
    try:
        source, out = path.replace("'", "''"), str(target).replace("'", "''")
        con.execute(f"""COPY (SELECT row_number() OVER () AS _row, * FROM read_csv('{source}', all_varchar = true,
                        header = true, sample_size = -1)) TO '{out}' (FORMAT parquet)""")
    finally:
        con.close()


def open_engine(name: str, work: Path) -> Engine:
    if name == "spark":
        return SparkEngine(work)
    if name == "duckdb":
        return DuckDBEngine(work)
    raise UserError(f"未知引擎：{name}（可选 duckdb、spark）", f"unknown engine {name!r} (duckdb or spark)")


def watch(engine: Engine, step: Callable[[float], None], stop: threading.Event, every: float = 0.25) -> threading.Thread:
    """Report the engine's progress on the running query to `step` until `stop` is set."""
    def loop() -> None:
        while not stop.wait(every):
            done = engine.progress()
            if done is not None:
                step(done)
    thread = threading.Thread(target=loop, name="batch-progress", daemon=True)
    thread.start()
    return thread
