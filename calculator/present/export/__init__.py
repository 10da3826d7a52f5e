"""Export a match report as a printable sheet (PDF, DOCX) or a table (XLSX, CSV).

The input is the `match --json` dict, so the app, the CLI and any saved report export the same way.
File names carry only the time of export: the company name and 信用代码 are printed on the sheet (the
applicant is at the counter) but never put in a file name, where they would leak into download
folders, print queues and logs.
"""
from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from typing import Any

from calculator.core.config import PROJECT_ROOT
from calculator.core.errors import UserError

# format → (module, function): imported on use, so exporting a CSV never loads reportlab.
RENDERERS: dict[str, tuple[str, str]] = {
    "pdf": ("calculator.present.export.pdf", "render_pdf"),
    "docx": ("calculator.present.export.word", "render_docx"),
    "xlsx": ("calculator.present.export.table", "render_xlsx"),
    "csv": ("calculator.present.export.table", "render_csv"),
}
FORMATS = tuple(RENDERERS)
FILE_STEM = "政策匹配结果"
DEFAULT_DIR = PROJECT_ROOT / "exports"


def render(report: Any, fmt: str) -> bytes:
    """The report in `fmt` as bytes (what a web download serves)."""
    if fmt not in RENDERERS:
        raise UserError(f"不支持的导出格式“{fmt}”，可选：{'、'.join(FORMATS)}",
                        f"unsupported export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    from calculator.present.export.sheet import build_sheet  # the profile model loads only when exporting

    module, function = RENDERERS[fmt]
    return getattr(importlib.import_module(module), function)(build_sheet(report))


def file_name(fmt: str, now: datetime | None = None) -> str:
    """政策匹配结果_YYYYMMDD_HHMMSS.<fmt>: dated, and free of anything identifying."""
    return f"{FILE_STEM}_{(now or datetime.now()):%Y%m%d_%H%M%S}.{fmt}"


def _write_new(directory: Path, name: str, data: bytes) -> Path:
    """Write without overwriting: two exports in the same second get _2, _3 … rather than clobbering."""
    directory.mkdir(parents=True, exist_ok=True)
    stem, suffix = name.rsplit(".", 1)
    for n in range(1, 1000):
        path = directory / (name if n == 1 else f"{stem}_{n}.{suffix}")
        try:
            with path.open("xb") as fh:
                fh.write(data)
            return path
        except FileExistsError:
            continue
    raise UserError(f"导出目录中同名文件过多：{directory}", f"too many exports with the same name in {directory}")


def export_report(report: Any, fmt: str, dest: Path | str | None = None) -> Path:
    """Render `report` and write it; return the path.

    `dest` may be a file path ending in `.<fmt>` (written as given), a directory (a dated name is chosen
    inside it), or None (the project's exports/ folder).
    """
    data = render(report, fmt)
    target = Path(dest) if dest is not None else DEFAULT_DIR
    try:
        if target.suffix.lower() == f".{fmt}":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            return target
        return _write_new(target, file_name(fmt), data)
    except OSError as exc:
        raise UserError(f"无法写入导出文件：{target}（{exc.strerror or exc}）",
                        f"cannot write the export to {target}: {exc}") from None
