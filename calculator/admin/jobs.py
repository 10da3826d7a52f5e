"""Re-indexing from the admin page: `calculator.search.index.build` in a background thread, with its progress.

The page must stay responsive while documents are embedded, and an admin must see that something is
happening (the ingest complaint peers hear most is "it hangs without progress"). One ingest at a time:
this module refuses a second start in the same process, and the index's own file lock refuses one
started by another process (that failure is reported like any other).
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calculator.core.config import Settings, get_settings
from calculator.core.errors import UserError

if TYPE_CHECKING:
    from calculator.search.index import IngestReport

IDLE, RUNNING, DONE, FAILED = "idle", "running", "done", "failed"
STATE_LABEL = {IDLE: "空闲", RUNNING: "正在导入", DONE: "已完成", FAILED: "失败"}
STAGE_LABEL = {"scan": "读取文档", "load": "加载向量模型", "embed": "向量化", "store": "写入索引"}


@dataclass(frozen=True)
class IngestStatus:
    state: str = IDLE
    stage: str = ""
    done: int = 0
    total: int = 0
    started: str = ""
    finished: str = ""
    error: str = ""
    report: dict[str, Any] | None = None

    @property
    def progress(self) -> float:
        """0..1 (1 once finished; the scan before embedding counts as 0)."""
        if self.state in (DONE, FAILED):
            return 1.0
        return round(self.done / self.total, 3) if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "progress": self.progress, "state_label": STATE_LABEL[self.state],
                "stage_label": STAGE_LABEL.get(self.stage, self.stage)}


@dataclass
class _Job:
    status: IngestStatus = field(default_factory=IngestStatus)
    thread: threading.Thread | None = None


_lock = threading.Lock()
_job = _Job()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _update(**changes: Any) -> None:
    with _lock:
        _job.status = replace(_job.status, **changes)


def _report_json(report: IngestReport) -> dict[str, Any]:
    return {"documents": report.documents, "passages": report.passages, "embedded": report.embedded,
            "reused": report.reused, "seconds": round(report.seconds, 2), "generation": report.generation,
            "up_to_date": report.up_to_date, "changed": report.changed, "removed": report.removed,
            "failures": [{"file": str(f.path), "reason": f.reason, "zh": f.zh, "en": f.en} for f in report.failures]}


def _run(docs_dir: Path | None, settings: Settings) -> None:
    from calculator.search.index import build

    try:
        report = build(docs_dir, settings=settings,
                       progress=lambda stage, done, total: _update(stage=stage, done=done, total=total))
    except UserError as exc:
        _update(state=FAILED, finished=_now(), error=f"{exc.zh} / {exc.en}")
    except Exception as exc:  # a bug must still end the job visibly, not leave it "running" forever
        _update(state=FAILED, finished=_now(), error=f"内部错误：{type(exc).__name__} / internal error: {exc}")
    else:
        _update(state=DONE, finished=_now(), report=_report_json(report))


def start_ingest(docs_dir: Path | str | None = None, settings: Settings | None = None) -> bool:
    """Start re-indexing in the background; False when one is already running in this process."""
    settings = settings or get_settings()  # read now: later environment changes do not move the job
    with _lock:
        if _job.status.state == RUNNING:
            return False
        _job.status = IngestStatus(state=RUNNING, stage="scan", started=_now())
        _job.thread = threading.Thread(target=_run, args=(Path(docs_dir) if docs_dir else None, settings),
                                       name="admin-ingest", daemon=True)
        _job.thread.start()
    return True


def ingest_status() -> IngestStatus:
    with _lock:
        return _job.status


def wait_ingest(timeout: float | None = None) -> IngestStatus:
    """Block until the running ingest ends (or `timeout` seconds pass); returns the status then."""
    thread = _job.thread
    if thread is not None:
        thread.join(timeout)
    return ingest_status()
