"""Batch runs for the officials' tab: off the request thread, one at a time, with their progress.

A run over a register takes seconds to minutes; the page starts it here and polls `status()`, so no
request waits on it and nobody's chat queues behind it (DuckDB works outside the GIL). This process
runs one batch at a time (the machine's cores are the limit): a second start is refused with a message.
Each run writes under `DATA_DIR/registry/runs/<id>/` (the latest few are kept). Results are kept per
owner: a run over an uploaded register (names and codes) is visible only to the admin page that
started it; the bundled synthetic sample's results are public.
"""
from __future__ import annotations

import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calculator.core.config import get_settings
from calculator.core.errors import UserError

if TYPE_CHECKING:
    from calculator.registry.batch import BatchResult

IDLE, RUNNING, DONE, FAILED = "idle", "running", "done", "failed"
STATE_LABEL = {IDLE: "空闲", RUNNING: "正在测算", DONE: "已完成", FAILED: "失败"}
SAMPLE_ROWS, SAMPLE_SEED = 20_000, 2026
KEEP_RUNS = 4
PUBLIC, ADMIN = "public", "admin"


@dataclass(frozen=True)
class RunStatus:
    state: str = IDLE
    stage: str = ""
    progress: float = 0.0
    started: float = 0.0
    finished: float = 0.0
    error: str = ""
    owner: str = ""
    run_id: str = ""
    result: BatchResult | None = field(default=None, repr=False)

    @property
    def seconds(self) -> float:
        end = self.finished or time.time()
        return round(end - self.started, 1) if self.started else 0.0

    @property
    def label(self) -> str:
        return STATE_LABEL[self.state]


_lock = threading.Lock()
_current = RunStatus()
_last: dict[str, RunStatus] = {}


def runs_dir() -> Path:
    return get_settings().data_dir / "registry" / "runs"


def sample_register(rows: int | None = None, seed: int = SAMPLE_SEED) -> Path:
    """The bundled synthetic sample (no real enterprise), generated once into DATA_DIR."""
    from calculator.facts.schema import load_schema
    from calculator.registry.synth import synthesize, write

    rows = rows or SAMPLE_ROWS
    path = get_settings().data_dir / "registry" / f"sample-{rows}-{seed}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        schema = load_schema()
        partial = path.with_suffix(".partial.parquet")
        write(synthesize(rows, seed, schema), partial, schema)
        partial.replace(path)
    return path


def start(registers: list[str], owner: str, today: date | None = None, sets: list[str] | None = None,
          draft: Path | None = None) -> bool:
    """Start a run in the background; False (nothing started) while another run is going."""
    from calculator.registry.batch import BatchRequest

    global _current
    with _lock:
        if _current.state == RUNNING:
            return False
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        _current = RunStatus(RUNNING, "准备", 0.0, time.time(), owner=owner, run_id=run_id)
    request = BatchRequest(registers, runs_dir() / run_id, today=today, sets=list(sets or []), draft=draft)
    threading.Thread(target=_run, args=(request,), name="registry-batch", daemon=True).start()
    return True


def _run(request: Any) -> None:
    from calculator.registry.batch import run_batch

    global _current

    def progress(done: float, stage: str) -> None:
        global _current
        with _lock:
            _current = replace(_current, progress=round(done, 3), stage=stage)
    try:
        result = run_batch(request, progress)
        final = replace(_current, state=DONE, progress=1.0, stage="完成", finished=time.time(), result=result)
    except UserError as exc:
        final = replace(_current, state=FAILED, finished=time.time(), error=exc.zh)
    except Exception as exc:   # never the exception's text: it may quote a register value
        final = replace(_current, state=FAILED, finished=time.time(), error=f"测算失败（{type(exc).__name__}），请稍后再试")
    with _lock:
        _current = final
        _last[final.owner] = final
    _prune()


def _prune() -> None:
    folder = runs_dir()
    if not folder.is_dir():
        return
    keep = {s.run_id for s in _last.values()} | {_current.run_id}
    runs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    for path in runs[KEEP_RUNS:]:
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def status(owner: str) -> RunStatus:
    """The owner's running or latest run; another owner's run shows only that the slot is busy."""
    with _lock:
        if _current.state == RUNNING:
            return _current if _current.owner == owner else RunStatus(RUNNING, "另一项测算正在运行", owner="other")
        return _last.get(owner, RunStatus())


def wait(owner: str, timeout: float = 600.0) -> RunStatus:
    """Block until the owner's run is no longer running (for tests and scripts)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        current = status(owner)
        if current.state != RUNNING:
            return current
        time.sleep(0.2)
    return status(owner)
