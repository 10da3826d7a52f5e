"""A minimal streaming XLSX writer: rows arrive as ready `<row>` XML, rendered by the engine.

An outreach list for a whole register can hold hundreds of thousands of rows; openpyxl writes about
25,000 rows a second here, so the engine renders each row's XML (inline strings, escaped) and this module
only streams them into the zip. The workbook opens in Excel, WPS and LibreOffice; openpyxl reads it back.
"""
from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from sqlglot import exp

from calculator.registry import sql

MAX_ROWS = 1_048_575   # a sheet's rows after its header
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"   # characters XML 1.0 cannot hold


@dataclass
class Sheet:
    name: str
    header: list[str]
    rows: Iterable[str]          # each a complete <row>…</row>
    widths: tuple[int, ...] = ()


def cell(value: object) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"<c><v>{value!r}</v></c>"
    return f'<c t="inlineStr"><is><t xml:space="preserve">{escape(_printable(str(value)))}</t></is></c>'


def row(values: Iterable[object]) -> str:
    return "<row>" + "".join(cell(v) for v in values) + "</row>"


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)


def text_cell(value: exp.Expr) -> exp.Expr:
    """An inline-string cell for a text expression (escaped; NULL stays NULL)."""
    escaped: exp.Expr = exp.cast(value, "VARCHAR")
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        escaped = exp.Anonymous(this="REPLACE", expressions=[escaped, sql.text(raw), sql.text(entity)])
    escaped = exp.RegexpReplace(this=escaped, expression=sql.text(_CONTROL), replacement=sql.text(""))
    return exp.DPipe(this=exp.DPipe(this=sql.text('<c t="inlineStr"><is><t xml:space="preserve">'), expression=escaped),
                     expression=sql.text("</t></is></c>"))


def number_cell(value: exp.Expr) -> exp.Expr:
    return exp.DPipe(this=exp.DPipe(this=sql.text("<c><v>"), expression=exp.cast(value, "VARCHAR")), expression=sql.text("</v></c>"))


def row_expression(parts: list[tuple[exp.Expr, str]]) -> exp.Expr:
    """The engine's rendering of one row: (value, 'text' | 'number' | 'cell') cells, NULL as an empty cell."""
    pieces: list[exp.Expr] = [sql.text("<row>")]
    for value, kind in parts:
        if kind == "cell":          # already a whole <c> element (or NULL)
            pieces.append(exp.Coalesce(this=value, expressions=[sql.text("<c/>")]))
            continue
        body = number_cell(value) if kind == "number" else text_cell(value)
        pieces.append(exp.Coalesce(this=body, expressions=[sql.text("<c/>")]))
    pieces.append(sql.text("</row>"))
    out = pieces[0]
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece)
    return out


def write(path: Path, sheets: list[Sheet]) -> int:
    """Write the workbook; returns the data rows written (a sheet stops at Excel's row limit)."""
    written = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _content_types(len(sheets)))
        book.writestr("_rels/.rels", _RELS)
        book.writestr("xl/workbook.xml", _workbook(sheets))
        book.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        book.writestr("xl/styles.xml", _STYLES)
        for i, sheet in enumerate(sheets, 1):
            with book.open(f"xl/worksheets/sheet{i}.xml", "w") as handle:
                handle.write(_SHEET_HEAD.encode())
                if sheet.widths:
                    handle.write(("<cols>" + "".join(f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>'
                                                     for j, w in enumerate(sheet.widths, 1)) + "</cols>").encode())
                handle.write(b"<sheetData>")
                handle.write(row(sheet.header).encode())
                count = 0
                buffer: list[str] = []
                for line in sheet.rows:
                    if count >= MAX_ROWS:
                        break
                    buffer.append(line)
                    count += 1
                    if len(buffer) >= 2000:
                        handle.write("".join(buffer).encode())
                        buffer.clear()
                handle.write("".join(buffer).encode())
                handle.write(b"</sheetData></worksheet>")
                written += count
    return written


_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
           '<cellXfs count="1"><xf xfId="0"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def _content_types(count: int) -> str:
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                     'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                     for i in range(1, count + 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{sheets}</Types>")


def _workbook(sheets: list[Sheet]) -> str:
    entries = "".join(f'<sheet name="{escape(s.name[:31])}" sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(sheets, 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{entries}</sheets></workbook>")


def _workbook_rels(count: int) -> str:
    items = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                    f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, count + 1))
    styles = (f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
              'Target="styles.xml"/>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{items}{styles}</Relationships>')
