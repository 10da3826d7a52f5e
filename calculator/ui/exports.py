"""Result sheets for download: written to a private temp folder that keeps only the last hour.

Gradio copies a returned file into its own cache before serving it, so our copy is only needed for
a moment; pruning on each export bounds the folder without a background job.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from calculator.core.errors import UserError
from calculator.present.export import FORMATS, export_report

FORMAT_LABELS = {"pdf": "PDF（打印）", "docx": "Word", "xlsx": "Excel", "csv": "CSV"}
KEEP_SECONDS = 3600


def export_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / "xuchang-calculator-exports"
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another worker removed it first
    return folder


def export_sheet(report: dict[str, Any] | None, fmt: str) -> str:
    """Write the report as `fmt` and return the path to serve; a clear message when there is nothing yet."""
    if not report:
        raise UserError("还没有结果可导出：请先回答问题或点击“计算”", "nothing to export yet")
    if fmt not in FORMATS:
        raise UserError(f"请选择导出格式：{'、'.join(FORMATS)}", f"choose an export format: {', '.join(FORMATS)}")
    return str(export_report(report, fmt, export_dir()))
