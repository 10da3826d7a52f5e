"""The result as a table: XLSX (one row per policy, plus the profile) and CSV (the rows alone).

For offices that collect results across applicants in a spreadsheet. A cell that starts with = + - @
would run as a formula in Excel; such text is stored as text (XLSX) or prefixed with ' (CSV), the
usual guard against formula injection from typed-in fields.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from calculator.present.export.sheet import Item, Sheet

XLSX_CELL_MAX = 32767  # Excel refuses to open a file with a longer cell
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?\D*$")  # "-20万元": a negative amount, not a formula

# (header, width in characters): what a clerk scans first sits on the left.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("状态", 11), ("政策名称", 28), ("优惠内容", 40), ("预计金额（估算）", 22), ("金额计算", 40), ("计入合计", 16),
    ("享受方式", 10),
    ("还需补充信息", 20), ("不符合原因", 30), ("推定前提", 20), ("准备材料", 30), ("办理方式", 30),
    ("受理部门", 20), ("办理期限", 20), ("政策有效期", 16), ("注意事项", 36), ("政策依据", 60),
)


def item_cells(item: Item, sep: str) -> list[str]:
    """One policy as the COLUMNS' values; list-valued facts are joined with `sep`."""
    return [
        item.status_label, item.title, item.benefit, item.amount_line, sep.join(item.working), item.in_total, item.mode,
        "、".join(item.missing), item.reason, sep.join(item.assumptions), sep.join(item.materials), item.how,
        item.department, item.deadline, item.validity, item.caveat, sep.join(c.text for c in item.citations),
    ]


def _is_formula_like(text: str) -> bool:
    return bool(_FORMULA_START.match(text)) and not _NUMBER.match(text)


# ---------------------------------------------------------------- XLSX

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
WRAP = Alignment(wrap_text=True, vertical="top")


def _put(ws: Any, row: int, column: int, value: str) -> None:
    cell = ws.cell(row=row, column=column, value=value[:XLSX_CELL_MAX])
    cell.data_type = "s"  # never a formula, whatever the text starts with
    cell.alignment = WRAP


def _results_sheet(wb: Workbook, sheet: Sheet) -> None:
    """The header block (label in A, value in B), a blank row, then the table with one row per policy."""
    ws = wb.active
    ws.title = "政策匹配结果"
    for row, (label, value) in enumerate(sheet.header, 1):
        _put(ws, row, 1, label)
        ws.cell(row=row, column=1).font = Font(bold=True)
        _put(ws, row, 2, value)
    top = len(sheet.header) + 2  # the table's header row
    for column, (header, width) in enumerate(COLUMNS, 1):
        _put(ws, top, column, header)
        ws.cell(row=top, column=column).fill = HEADER_FILL
        ws.cell(row=top, column=column).font = HEADER_FONT
        ws.column_dimensions[get_column_letter(column)].width = width
    for row, item in enumerate(sheet.items, top + 1):
        for column, value in enumerate(item_cells(item, "\n"), 1):
            _put(ws, row, column, value)
    ws.freeze_panes = f"C{top + 1}"  # header block, header row and the status/title columns stay in view
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(COLUMNS))}{top + max(0, len(sheet.items))}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{top}:{top}"


def _profile_sheet(wb: Workbook, sheet: Sheet) -> None:
    ws = wb.create_sheet("企业信息")
    rows: list[tuple[str, str, str]] = [
        ("结果单", sheet.heading, ""), ("计算日期", sheet.today, ""), ("编号", sheet.reference, ""),
        ("结果概要", sheet.overview, ""),
    ]
    if sheet.totals:
        rows.append(("预计金额合计", sheet.totals.line, "\n".join(sheet.totals.lines[1:])))
    rows += [(f.label, f.value, "") for f in sheet.profile]
    rows += [(f.label, f.value, f.working + (f"（依据：{f.cite.text}）" if f.cite else "")) for f in sheet.derived]
    rows.append(("声明", sheet.disclaimer, ""))
    for column, (header, width) in enumerate((("项目", 24), ("内容", 40), ("计算过程与依据", 70)), 1):
        _put(ws, 1, column, header)
        ws.cell(row=1, column=column).fill = HEADER_FILL
        ws.cell(row=1, column=column).font = HEADER_FONT
        ws.column_dimensions[get_column_letter(column)].width = width
    for row, values in enumerate(rows, 2):
        for column, value in enumerate(values, 1):
            _put(ws, row, column, value)
    ws.freeze_panes = "A2"


def render_xlsx(sheet: Sheet) -> bytes:
    """Workbook with the policies (one row each) and a second sheet with the profile used."""
    wb = Workbook()
    _results_sheet(wb, sheet)
    _profile_sheet(wb, sheet)
    wb.properties.title = sheet.heading
    wb.properties.creator = "许昌惠企政策计算器"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- CSV

def _csv_safe(text: str) -> str:
    return "'" + text if _is_formula_like(text) else text


def render_csv(sheet: Sheet) -> bytes:
    """UTF-8 with BOM (so Excel reads Chinese), CRLF rows; the header block (company, code, day, catalog,
    time, 编号) leads every row, so files from many applicants can be merged and still say whose row it is."""
    out = io.StringIO()
    writer = csv.writer(out)
    block = [value for _, value in sheet.header]
    writer.writerow([label for label, _ in sheet.header] + [header for header, _ in COLUMNS])
    for item in sheet.items:
        writer.writerow([_csv_safe(v) for v in block + item_cells(item, "；")])
    if sheet.totals:   # the one total as a last row, status 合计 (easy to filter out when files are merged)
        total = {"状态": "合计", "政策名称": sheet.totals.line, "预计金额（估算）": "；".join(sheet.totals.lines[1:])}
        writer.writerow([_csv_safe(v) for v in block] + [_csv_safe(total.get(header, "")) for header, _ in COLUMNS])
    return out.getvalue().encode("utf-8-sig")
