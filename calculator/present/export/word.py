"""The result sheet as DOCX (python-docx), for offices that file or edit the sheet in Word/WPS.

Same content and order as the PDF. Chinese runs name their font in w:eastAsia (宋体 for text, 黑体 for
headings, the fonts every Chinese Windows and WPS install has); without it Word picks the Latin font
for CJK text and falls back unpredictably.
"""
from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from calculator.present.export.sheet import (
    ASSUMED_LABEL,
    CAVEAT_LABEL,
    MISSING_LABEL,
    Cite,
    Fact,
    Item,
    Sheet,
    item_rows,
)

BODY_FONT, HEAD_FONT, LATIN_FONT = "宋体", "黑体", "Arial"
INK = RGBColor(0x1F, 0x29, 0x33)
ACCENT = RGBColor(0x1F, 0x4E, 0x79)
MUTED = RGBColor(0x52, 0x60, 0x6D)
NOTE = RGBColor(0x9A, 0x4A, 0x00)  # the summary note, as on the PDF
BAND, LABEL_BG, WARN_BG = "E4ECF5", "F3F5F7", "FFF3DC"
TEXT_WIDTH = Mm(210 - 2 * 18)
LABEL_W = Mm(26)
PROFILE_LABEL_W = Mm(40)


def _font(run: Run, size: float = 10.5, color: RGBColor = INK, east_asia: str = BODY_FONT) -> Run:
    run.font.size = Pt(size)
    run.font.name = LATIN_FONT
    run.font.color.rgb = color
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)
    return run


# Elements that must follow w:shd inside w:pPr / w:tcPr: Word rejects a file whose children are out of order.
_AFTER_SHD_PPR = ("w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                  "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                  "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                  "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                  "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_SHD_TCPR = ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark",
                   "w:headers", "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange")


def _shade(element: Paragraph | _Cell, fill: str) -> None:
    """Background colour of a paragraph or a table cell (w:shd, placed where the schema wants it)."""
    successors: tuple[str, ...]
    if isinstance(element, Paragraph):
        props, successors = element._p.get_or_add_pPr(), _AFTER_SHD_PPR
    else:
        props, successors = element._tc.get_or_add_tcPr(), _AFTER_SHD_TCPR
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    props.insert_element_before(shd, *successors)


def _para(container: DocxDocument | _Cell, text: str = "", size: float = 10.5, color: RGBColor = INK,
          east_asia: str = BODY_FONT, align: WD_ALIGN_PARAGRAPH | None = None, after: float = 2) -> Paragraph:
    para = container.add_paragraph()
    para.paragraph_format.space_after = Pt(after)
    para.paragraph_format.space_before = Pt(0)
    if align is not None:
        para.alignment = align
    if text:
        _font(para.add_run(text), size, color, east_asia)
    return para


def _cell_text(cell: _Cell, text: str, size: float = 10.5, color: RGBColor = INK) -> Paragraph:
    """Fill a fresh cell: its built-in empty paragraph takes the first text (no blank line on top)."""
    para = cell.paragraphs[0]
    para.paragraph_format.space_after = Pt(1)
    _font(para.add_run(text), size, color)
    return para


def _cite(cell: _Cell, index: int, cite: Cite) -> None:
    """One clause in the 政策依据 cell; the summary note in a warm colour, as on the PDF."""
    para = cell.paragraphs[0] if index == 1 else _para(cell, after=1)
    body = f"{index}. {cite.source}" + (f" “{cite.quote}”" if cite.quote else "")
    _font(para.add_run(body), 8.5, MUTED)
    if cite.note:
        _font(para.add_run(f"（{cite.note}）"), 8.5, NOTE)


def _table(doc: DocxDocument, columns: int, widths: list[Mm]) -> Table:
    table = doc.add_table(rows=0, cols=columns)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
    return table


def _row(table: Table, widths: list[Mm]) -> list[_Cell]:
    cells = table.add_row().cells
    for cell, width in zip(cells, widths):
        cell.width = width
    return list(cells)


def _repeat_header(table: Table) -> None:
    """Mark the first row as a header row, repeated at the top of each page the table runs onto."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _section(doc: DocxDocument, text: str) -> None:
    para = _para(doc, text, 13, ACCENT, HEAD_FONT, after=6)
    para.paragraph_format.space_before = Pt(10)
    para.paragraph_format.keep_with_next = True
    _shade(para, BAND)


def _header(doc: DocxDocument, sheet: Sheet) -> None:
    _para(doc, sheet.heading, 17, ACCENT, HEAD_FONT, WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _header_block(doc, sheet)
    _para(doc, after=2)
    _para(doc, "结果概要：" + sheet.overview, 10.5, align=WD_ALIGN_PARAGRAPH.CENTER, after=6)
    for line in sheet.totals.lines if sheet.totals else ():
        _para(doc, line, 10, align=WD_ALIGN_PARAGRAPH.CENTER, after=4)


def _header_block(doc: DocxDocument, sheet: Sheet) -> None:
    """The same header block as the PDF: two label/value pairs a row."""
    value_w = Mm(int((TEXT_WIDTH.mm - 2 * PROFILE_LABEL_W.mm) / 2))
    widths = [PROFILE_LABEL_W, value_w, PROFILE_LABEL_W, value_w]
    table = _table(doc, 4, widths)
    pairs = list(sheet.header)
    for i in range(0, len(pairs), 2):
        cells = _row(table, widths)
        for offset, (label, value) in zip((0, 2), pairs[i:i + 2]):
            _shade(cells[offset], LABEL_BG)
            _cell_text(cells[offset], label, 9.5, MUTED)
            _cell_text(cells[offset + 1], value)


def _profile(doc: DocxDocument, sheet: Sheet) -> None:
    _section(doc, "一、企业信息")
    if not sheet.profile:
        _para(doc, "（未填写企业信息）", color=MUTED)
        return
    value_w = Mm(int((TEXT_WIDTH.mm - 2 * PROFILE_LABEL_W.mm) / 2))
    widths = [PROFILE_LABEL_W, value_w, PROFILE_LABEL_W, value_w]
    table = _table(doc, 4, widths)
    facts = list(sheet.profile)
    half = (len(facts) + 1) // 2
    for i in range(half):
        cells = _row(table, widths)
        for offset, fact in ((0, facts[i]), (2, facts[half + i] if half + i < len(facts) else None)):
            _shade(cells[offset], LABEL_BG)
            if fact:
                _cell_text(cells[offset], fact.label, 9.5, MUTED)
                _cell_text(cells[offset + 1], fact.value)
    if sheet.derived:
        _para(doc, after=2)
        _derived(doc, sheet.derived)


def _derived(doc: DocxDocument, facts: tuple[Fact, ...]) -> None:
    widths = [PROFILE_LABEL_W, Mm(22), Mm(int(TEXT_WIDTH.mm - PROFILE_LABEL_W.mm - 22))]
    table = _table(doc, 3, widths)
    for cell, text in zip(_row(table, widths), ("推算项目", "结果", "计算过程与依据")):
        _shade(cell, BAND)
        _cell_text(cell, text, 9.5, MUTED)
    _repeat_header(table)
    for fact in facts:
        label, value, working = _row(table, widths)
        _shade(label, LABEL_BG)
        _cell_text(label, fact.label, 9.5, MUTED)
        _cell_text(value, fact.value)
        _cell_text(working, fact.working)
        if fact.cite:
            para = _para(working, after=1)
            _font(para.add_run("依据：" + fact.cite.source), 8.5, MUTED)
            if fact.cite.note:
                _font(para.add_run(f"（{fact.cite.note}）"), 8.5, NOTE)


def _item(doc: DocxDocument, number: int, item: Item) -> None:
    widths = [LABEL_W, Mm(int(TEXT_WIDTH.mm - LABEL_W.mm))]
    table = _table(doc, 2, widths)
    title_cells = _row(table, widths)
    title = title_cells[0].merge(title_cells[1])
    _shade(title, BAND)
    tag = f"　［{item.mode}］" if item.mode else ""
    _font(title.paragraphs[0].add_run(f"{number}. {item.title}{tag}"), 11.5, ACCENT, HEAD_FONT)
    _repeat_header(table)
    for label, value in item_rows(item):
        label_cell, value_cell = _row(table, widths)
        _shade(label_cell, LABEL_BG)
        _cell_text(label_cell, label, 9.5, MUTED)
        lines = value if isinstance(value, tuple) else (value,)
        _cell_text(value_cell, lines[0])
        for line in lines[1:]:
            _font(_para(value_cell, after=1).add_run(line))
        if label in (CAVEAT_LABEL, MISSING_LABEL, ASSUMED_LABEL):
            _shade(value_cell, WARN_BG)
    if item.citations:
        label_cell, value_cell = _row(table, widths)
        _shade(label_cell, LABEL_BG)
        _cell_text(label_cell, "政策依据", 9.5, MUTED)
        for i, cite in enumerate(item.citations, 1):
            _cite(value_cell, i, cite)
    _para(doc, after=4)


def _items(doc: DocxDocument, heading: str, items: tuple[Item, ...], empty: str) -> None:
    _section(doc, f"{heading}（{len(items)}项）")
    if not items:
        _para(doc, empty, color=MUTED)
    for i, item in enumerate(items, 1):
        _item(doc, i, item)


def _not_eligible(doc: DocxDocument, items: tuple[Item, ...]) -> None:
    """One line per item (why not, and how close), its clauses in one short line without quotes."""
    _section(doc, f"四、暂不符合（{len(items)}项）")
    if not items:
        _para(doc, "（无）", color=MUTED)
    for i, item in enumerate(items, 1):
        line = f"{i}. {item.title}" + (f" —— {item.reason}" if item.reason else "")
        _para(doc, line, after=1).paragraph_format.keep_with_next = bool(item.citations)
        if item.citations:
            para = _para(doc, after=5)
            _font(para.add_run("依据："), 8.5, MUTED)
            for n, cite in enumerate(item.citations):
                _font(para.add_run(("；" if n else "") + cite.source), 8.5, MUTED)
                if cite.note:
                    _font(para.add_run(f"（{cite.note}）"), 8.5, NOTE)


def _field(para: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) so page numbers are filled in when the document is laid out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    para._p.append(field)


def _footer(doc: DocxDocument, sheet: Sheet) -> None:
    footer = doc.sections[0].footer
    first = footer.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(first.add_run(sheet.disclaimer), 8.5, MUTED)
    pages = footer.add_paragraph()
    pages.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(pages.add_run(f"编号 {sheet.reference}　　第 "), 8.5, MUTED)
    _field(pages, "PAGE")
    _font(pages.add_run(" 页 / 共 "), 8.5, MUTED)
    _field(pages, "NUMPAGES")
    _font(pages.add_run(" 页"), 8.5, MUTED)


def render_docx(sheet: Sheet) -> bytes:
    """The sheet as DOCX bytes: A4, same sections as the PDF, page numbers in the footer."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin, section.bottom_margin = Mm(16), Mm(18)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    doc.core_properties.title = sheet.heading
    doc.core_properties.author = "许昌惠企政策计算器"
    doc.core_properties.subject = f"政策匹配结果 {sheet.reference}"
    _header(doc, sheet)
    _profile(doc, sheet)
    _items(doc, "二、可享受的政策", sheet.eligible, "暂未找到可直接享受的政策。补充企业信息后可重新计算。")
    _items(doc, "三、还需补充信息", sheet.need_info, "（无）")
    _not_eligible(doc, sheet.not_eligible)
    _footer(doc, sheet)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
