"""The A4 PDF result sheet (reportlab): what the service-hall clerk prints and hands over.

Layout choices, for a sheet read on paper at arm's length: 10 pt body text, one label/value table per
policy so the applicant finds "准备材料" in the same place every time, its clauses in smaller grey text
in the same table so they stay attached to it. Table rows cannot break across pages, so list-like
fields take one row per line and cell texts are clipped (CELL_CLIP): no input can push a row off the
page. WenQuanYi has no bold face, so headings are set apart by size, colour and a tinted band.
"""
from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors, textsplit
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import paragraph as rl_paragraph

from calculator.present.export.fonts import PdfFonts, pdf_fonts
from calculator.present.export.sheet import (
    ASSUMED_LABEL,
    CAVEAT_LABEL,
    MISSING_LABEL,
    Cite,
    Fact,
    Item,
    Sheet,
    clean,
    item_rows,
)

MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 18 * mm, 16 * mm, 24 * mm
WIDTH = A4[0] - 2 * MARGIN_X
LABEL_W = 26 * mm
PROFILE_LABEL_W = 41 * mm  # fits an 11-character label such as "从事国家限制或禁止行业" on one line
SECTION_ROOM = 30 * mm  # a section band needs this much page left under it, else it starts a new page
ITEM_ROOM = 30 * mm  # likewise a policy table: its title and first rows, not a lone title row
CELL_CLIP = 1200  # characters: about 30 lines in the widest column, well under a page
INK = colors.HexColor("#1F2933")
ACCENT = colors.HexColor("#1F4E79")
MUTED = colors.HexColor("#52606D")
BAND = colors.HexColor("#E4ECF5")
LABEL_BG = colors.HexColor("#F3F5F7")
GRID = colors.HexColor("#BCCCDC")
WARN_BG = colors.HexColor("#FFF3DC")
NOTE = colors.HexColor("#9A4A00")


# Chinese punctuation that must not start a line (避头尾, clreq). reportlab's CJK wrapping knows the
# Japanese set only, so "，" and "；" would open lines; listed here, they hang at the line's end instead.
CANNOT_START_LINE = "，。、；：！？”’）》〉」』】〕…％"


def _chinese_line_breaking() -> None:
    """Teach reportlab's two CJK wrappers the Chinese no-line-start punctuation (idempotent, process-wide)."""
    for module in (textsplit, rl_paragraph):  # single-style paragraphs use the first, mixed ones the second
        missing = "".join(c for c in CANNOT_START_LINE if c not in module.ALL_CANNOT_START)
        module.ALL_CANNOT_START += missing


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, textColor=INK, wordWrap="CJK")

    def style(name: str, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "body": base,
        "title": style("title", fontSize=17, leading=24, alignment=TA_CENTER, textColor=ACCENT, spaceAfter=2),
        "meta": style("meta", fontSize=9.5, leading=14, alignment=TA_CENTER, textColor=MUTED, spaceAfter=8),
        "overview": style("overview", fontSize=10.5, leading=15, alignment=TA_CENTER, spaceAfter=4),
        "h2": style("h2", fontSize=12.5, leading=17, textColor=ACCENT, backColor=BAND, borderPadding=(4, 6, 4, 6),
                    spaceBefore=12, spaceAfter=8),
        "item": style("item", fontSize=11.5, leading=16, textColor=ACCENT),
        "label": style("label", fontSize=9.5, leading=14, textColor=MUTED),
        "cite": style("cite", fontSize=8.5, leading=12.5, textColor=MUTED, leftIndent=10, firstLineIndent=-10),
        "line": style("line", leftIndent=10, firstLineIndent=-10, spaceAfter=1),
        "empty": style("empty", textColor=MUTED),
    }


class _Layout:
    """Turns a Sheet into flowables; holds the fonts so every text goes through glyph routing."""

    def __init__(self, fonts: PdfFonts) -> None:
        self.fonts = fonts
        self.st = _styles(fonts.body)

    def p(self, text: str, style: str = "body", prefix: str = "") -> Paragraph:
        """A paragraph of plain text (never markup: user text is escaped, so `<b>` prints as typed)."""
        return Paragraph(prefix + self.fonts.markup(text), self.st[style])

    def cell(self, text: str, style: str = "body", prefix: str = "") -> Paragraph:
        """A table-cell paragraph, clipped: a table row cannot break across pages, so it must fit on one."""
        return self.p(clean(text, CELL_CLIP), style, prefix)

    def note(self, text: str) -> str:
        """Markup for the summary note, in a warm colour so the reader sees it is not the original text."""
        return f'<font color="{NOTE.hexval().replace("0x", "#")}">（{self.fonts.markup(text)}）</font>'

    def cite(self, index: int, cite: Cite) -> Paragraph:
        quote = f" “{self.fonts.markup(clean(cite.quote, CELL_CLIP))}”" if cite.quote else ""
        note = self.note(cite.note) if cite.note else ""
        return Paragraph(f"{index}. {self.fonts.markup(cite.source)}{quote}{note}", self.st["cite"])

    def sources(self, cites: tuple[Cite, ...]) -> Paragraph:
        """The clauses in one short line, without quotes: for the brief 暂不符合 section."""
        parts = [self.fonts.markup(c.source) + (self.note(c.note) if c.note else "") for c in cites]
        return Paragraph("依据：" + "；".join(parts), self.st["cite"])

    def table(self, rows: list[list[Any]], widths: list[float], style: list[tuple[Any, ...]],
              repeat: int = 0) -> Table:
        table = Table(rows, colWidths=widths, repeatRows=repeat, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), self.fonts.body),  # for empty cells, which draw no Paragraph
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ("LEFTPADDING", (0, 0), (-1, -1), 5),
            ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ] + style))
        return table

    def grid(self, rows: list[list[Any]], widths: list[float], label_cols: tuple[int, ...], header: bool) -> Table:
        """A plain ruled table (profile, derived facts), label columns tinted, optional repeated header."""
        style: list[tuple[Any, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, GRID)]
        style += [("BACKGROUND", (c, 0), (c, -1), LABEL_BG) for c in label_cols]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), BAND))
        return self.table(rows, widths, style, repeat=int(header))

    # ------------------------------------------------------------ sections

    def header(self, sheet: Sheet) -> list[Flowable]:
        return [
            self.p(sheet.heading, "title"),
            self.header_block(sheet),
            Spacer(1, 6),
            self.p("结果概要：" + sheet.overview, "overview"),
            *[self.p(line, "overview") for line in (sheet.totals.lines if sheet.totals else ())],
        ]

    def header_block(self, sheet: Sheet) -> Table:
        """企业名称, 信用代码, the day's law, catalog version, time, 编号: two label/value pairs a row."""
        pairs = list(sheet.header)
        rows = [[cell for label, value in pairs[i:i + 2] for cell in (self.cell(label, "label"), self.cell(value))]
                for i in range(0, len(pairs), 2)]
        value_w = (WIDTH - 2 * LABEL_W) / 2
        return self.grid(rows, [LABEL_W, value_w, LABEL_W, value_w], (0, 2), header=False)

    def section(self, heading: str) -> list[Flowable]:
        """A section band, moved to the next page when too little room is left for anything under it."""
        return [CondPageBreak(SECTION_ROOM), self.p(heading, "h2")]

    def profile(self, sheet: Sheet) -> list[Flowable]:
        out = self.section("一、企业信息")
        if not sheet.profile:
            return out + [self.p("（未填写企业信息）", "empty")]
        cells = [[self.cell(f.label, "label"), self.cell(f.value)] for f in sheet.profile]
        if len(cells) % 2:
            cells.append(["", ""])
        half = len(cells) // 2
        rows = [left + right for left, right in zip(cells[:half], cells[half:])]
        value_w = WIDTH / 2 - PROFILE_LABEL_W
        out.append(self.grid(rows, [PROFILE_LABEL_W, value_w, PROFILE_LABEL_W, value_w], (0, 2), header=False))
        if sheet.derived:
            out += [Spacer(1, 6), self.derived(sheet.derived)]
        return out

    def derived(self, facts: tuple[Fact, ...]) -> Table:
        rows: list[list[Any]] = [[self.p("推算项目", "label"), self.p("结果", "label"),
                                  self.p("计算过程与依据", "label")]]
        for f in facts:
            working: list[Flowable] = [self.cell(f.working)] if f.working else []
            if f.cite:
                note = self.note(f.cite.note) if f.cite.note else ""
                working.append(Paragraph("依据：" + self.fonts.markup(f.cite.source) + note, self.st["cite"]))
            rows.append([self.cell(f.label, "label"), self.cell(f.value), working or ""])
        return self.grid(rows, [PROFILE_LABEL_W, 22 * mm, WIDTH - PROFILE_LABEL_W - 22 * mm], (0,), header=True)

    def item_table(self, number: int, item: Item) -> Table:
        """Title row (repeated if the table runs onto the next page), then one row per line of each field.

        A checklist or citation list spans several rows under one label, so a page break may fall
        between two materials or two clauses; rules are drawn only where a new label starts.
        """
        tag = f"　［{item.mode}］" if item.mode else ""
        rows: list[list[Any]] = [[self.cell(f"{number}. {item.title}{tag}", "item"), ""]]
        style: list[tuple[Any, ...]] = [
            ("SPAN", (0, 0), (1, 0)), ("BACKGROUND", (0, 0), (-1, 0), BAND),
            ("BACKGROUND", (0, 1), (0, -1), LABEL_BG), ("BOX", (0, 0), (-1, -1), 0.5, GRID),
            ("LINEAFTER", (0, 1), (0, -1), 0.5, GRID),
        ]
        fields: list[tuple[str, list[Flowable]]] = []
        for label, value in item_rows(item):
            if isinstance(value, tuple):
                fields.append((label, [self.cell(v, "line") for v in value]))
            else:
                fields.append((label, [self.cell(value)]))
        if item.citations:
            fields.append(("政策依据", [self.cite(i, c) for i, c in enumerate(item.citations, 1)]))
        for label, lines in fields:
            first = len(rows)
            rows += [[self.cell(label, "label") if k == 0 else "", line] for k, line in enumerate(lines)]
            style.append(("LINEABOVE", (0, first), (-1, first), 0.5, GRID))
            if len(lines) > 1:  # continuation lines sit close together under their label
                style += [("BOTTOMPADDING", (0, first), (-1, len(rows) - 2), 0),
                          ("TOPPADDING", (0, first + 1), (-1, len(rows) - 1), 1)]
            if label in (CAVEAT_LABEL, MISSING_LABEL, ASSUMED_LABEL):
                style.append(("BACKGROUND", (1, first), (1, len(rows) - 1), WARN_BG))
        return self.table(rows, [LABEL_W, WIDTH - LABEL_W], style, repeat=1)

    def items(self, number: str, heading: str, items: tuple[Item, ...], empty: str) -> list[Flowable]:
        out = self.section(f"{number}、{heading}（{len(items)}项）")
        if not items:
            return out + [self.p(empty, "empty")]
        for i, item in enumerate(items, 1):
            out += [CondPageBreak(ITEM_ROOM), self.item_table(i, item), Spacer(1, 8)]
        return out

    def not_eligible(self, items: tuple[Item, ...]) -> list[Flowable]:
        """One line per item (why not, and how close), its clauses in one short line under it."""
        out = self.section(f"四、暂不符合（{len(items)}项）")
        if not items:
            return out + [self.p("（无）", "empty")]
        for i, item in enumerate(items, 1):
            block: list[Flowable] = [self.p(f"{i}. {item.title}" + (f" —— {item.reason}" if item.reason else ""),
                                            "line")]
            if item.citations:
                block.append(self.sources(item.citations))
            out.append(KeepTogether(block + [Spacer(1, 4)]))
        return out

    def story(self, sheet: Sheet) -> list[Flowable]:
        out = self.header(sheet) + self.profile(sheet)
        out += self.items("二", "可享受的政策", sheet.eligible, "暂未找到可直接享受的政策。补充企业信息后可重新计算。")
        out += self.items("三", "还需补充信息", sheet.need_info, "（无）")
        out += self.not_eligible(sheet.not_eligible)
        return out


def _canvas_class(fonts: PdfFonts, sheet: Sheet) -> type[canvas.Canvas]:
    """A canvas that draws the footer (disclaimer, 第 x 页 / 共 y 页) once the page count is known."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self._decorate(number, len(self._pages))
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width = A4[0]
            self.saveState()
            self.setStrokeColor(GRID)
            self.setLineWidth(0.5)
            self.line(MARGIN_X, MARGIN_BOTTOM - 6 * mm, width - MARGIN_X, MARGIN_BOTTOM - 6 * mm)
            self.setFillColor(MUTED)
            self.setFont(fonts.body, 8.5)
            self.drawCentredString(width / 2, MARGIN_BOTTOM - 11 * mm, fonts.plain(sheet.disclaimer))
            self.drawCentredString(width / 2, MARGIN_BOTTOM - 15.5 * mm,
                                   fonts.plain(f"编号 {sheet.reference}　　第 {number} 页 / 共 {total} 页"))
            if number > 1:
                self.drawRightString(width - MARGIN_X, A4[1] - 10 * mm, fonts.plain(f"{sheet.heading}（续）"))
            self.restoreState()

    return NumberedCanvas


def render_pdf(sheet: Sheet, embed_font: bool = True) -> bytes:
    """The sheet as PDF bytes; `embed_font=False` uses the CID fallback (what a font-less machine gets)."""
    fonts = pdf_fonts(embed_font)
    _chinese_line_breaking()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=sheet.heading, author="许昌惠企政策计算器",
        subject=f"政策匹配结果 {sheet.reference}", creator="许昌惠企政策计算器",
        initialFontName=fonts.body,  # else every page lists an unused, unembedded Helvetica
    )
    doc.build(_Layout(fonts).story(sheet), canvasmaker=_canvas_class(fonts, sheet))
    return buffer.getvalue()
