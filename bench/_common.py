"""Helpers shared by the benchmarks: question sets, the reusable bench index, timing summaries, tables,
and a throw-away `chroma run` server.

Timings on this 2-core machine are noisy (other people's tests run on it), so every timing benchmark
prints the load average next to its numbers and reports the better of repeated runs.
"""
from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from calculator.core.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS_DIR = PROJECT_ROOT / "knowledge" / "docs"
QUESTION_SETS = {"dev": PROJECT_ROOT / "tests" / "data" / "dev_questions.jsonl",
                 "extra": PROJECT_ROOT / "tests" / "data" / "retrieval_extra.jsonl",
                 "everyday": PROJECT_ROOT / "tests" / "data" / "everyday_questions.jsonl"}  # split: tune | heldout
# The bundled corpus ingested once and kept (data/ is outside git): `build` is incremental, so the
# benchmarks that only *read* an index share it and pay for the embedding once, not once each.
# BENCH_DATA_DIR may name another up-to-date index of knowledge/docs (tests/system/test_bench.py passes its own).
BENCH_DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR") or PROJECT_ROOT / "data" / "bench" / "index")


def question_sets() -> dict[str, Path]:
    """The question files that exist here (the dev set lives outside the repository)."""
    return {name: path for name, path in QUESTION_SETS.items() if path.is_file()}


def machine() -> str:
    """One line: cores and load average, printed with every timing so noisy numbers can be read."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def percentiles(seconds: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds; p95 is the nearest-rank value, never interpolated below a real sample."""
    ordered = sorted(seconds)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table the lead can paste into the README."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def bench_settings(data_dir: Path = BENCH_DATA_DIR, chroma_port: int | None = None) -> Settings:
    """Settings for a benchmark's own data folder (never the user's DATA_DIR); a Chroma server only when
    `chroma_port` is given."""
    if chroma_port is None:
        return Settings(data_dir=data_dir, chroma_host="")
    return Settings(data_dir=data_dir, chroma_host="127.0.0.1", chroma_port=chroma_port)


def use_index(settings: Settings) -> None:
    """Point `calculator.search.retrieve.search` (which reads the environment) at `settings`' index and store."""
    os.environ["DATA_DIR"] = str(settings.data_dir)
    if settings.chroma_host:
        os.environ["CHROMA_HOST"], os.environ["CHROMA_PORT"] = settings.chroma_host, str(settings.chroma_port)
    else:
        os.environ.pop("CHROMA_HOST", None)


@contextmanager
def environment_kept() -> Iterator[None]:
    """Undo `use_index` afterwards: `python -m bench all` runs further benchmarks in the same process."""
    saved = {name: os.environ.get(name) for name in ("DATA_DIR", "CHROMA_HOST", "CHROMA_PORT", "DENSE_SEARCH")}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def bench_index() -> Settings:
    """Settings of the bundled corpus' index in BENCH_DATA_DIR, ingested now if the corpus changed."""
    from calculator.search.index import build

    settings = bench_settings()
    print(f"bench index {settings.data_dir}: checking (a first run embeds the corpus: minutes) …", flush=True)
    started = time.perf_counter()
    report = build(DOCS_DIR, settings=settings)
    state = "up to date" if report.up_to_date else f"embedded {report.embedded}, reused {report.reused}"
    print(f"bench index {settings.data_dir}: {report.passages} passages ({state}, "
          f"{time.perf_counter() - started:.1f} s)", flush=True)
    return settings


@contextmanager
def chroma_server(path: Path) -> Iterator[int]:
    """`chroma run` on 127.0.0.1 with its data in `path`; yields the port, stops the server on exit."""
    from tests.support.apprunner import chroma_server as running_chroma

    with running_chroma(path) as server:
        yield server.port
