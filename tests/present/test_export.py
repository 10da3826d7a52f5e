"""Export of the result sheet: every format re-opened and read back, as a clerk's printer or Excel would.

The sample report (tests/data/sample_report.json) is `match --json` on 2026-11-23 for a 28-person 长葛
hair-products maker, on six items of the catalog: three eligible (two with amounts — 小型微利 from the held
12号 original, 研发加计扣除 at the 5% marginal rate with its 100% resting on a summary, so unverified — and
六税两费 without one), one need_info (纳税期限 and 月/季销售额: the 起征点 is per 计税期间), two not_eligible
(one near miss), the totals and each amount's working.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from paths import DATA
from pypdf import PdfReader

from calculator.__main__ import main
from calculator.core.errors import UserError
from calculator.corpus.citation import SUMMARY_NOTE
from calculator.present.export import export_report, file_name, render
from calculator.present.export.fonts import MISSING_GLYPH, pdf_fonts
from calculator.present.export.pdf import render_pdf
from calculator.present.export.sheet import DISCLAIMER, HEADER_LABELS, HEADING, build_sheet

SAMPLE = DATA / "sample_report.json"
NAME = "许昌市瑞丰发制品有限公司"
SECTIONS = ("一、企业信息", "二、可享受的政策", "三、还需补充信息", "四、暂不符合")
TOTAL_AND_WORKING = (   # the one total with what it leaves out, and each amount's working with dated, marked parameters
    "预计每年可少缴/可获得约 9.9 万元（计入 2 项）", "未计入：“六税两费”减半征收：本项不估算金额", "金额计算",
    "计算：上年度研发费用 × 研发费用在据实扣除基础上再加计扣除的比例 × 企业所得税边际税率",
    "研发费用在据实扣除基础上再加计扣除的比例：100%（2023-01-01起执行；未核实：依据摘要或报道，原文未入库）",
    "小型微利企业实际税负：5%（2023-01-01至2027-12-31执行）", "企业所得税边际税率：5%")


@pytest.fixture()
def report() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture()
def hostile(report: dict[str, Any]) -> dict[str, Any]:
    """Input nobody should type, all at once: it must neither raise nor push anything off the page."""
    bad = copy.deepcopy(report)
    bad["profile"]["name"] = "超长企业名称" * 1700  # 10,200 characters
    first = bad["results"][0]
    first["title"] = "<b>粗体</b><script>alert(1)</script> & <para> 标题"
    first["benefit"] = "=HYPERLINK(\"http://example.invalid\")\x00\x07 控制字符 😀 𠮷"
    first["citations"][0]["quote"] = "很长的引文，" * 3500  # 21,000 characters
    first["apply"]["materials"] = [f"材料{i}" for i in range(60)]
    return bad


def _pdf_text(data: bytes) -> str:
    """All page text with whitespace removed (a wrapped line may split any phrase)."""
    reader = PdfReader(io.BytesIO(data))
    return "".join("".join((page.extract_text() or "").split()) for page in reader.pages)


def _squash(text: str) -> str:
    return "".join(text.split())


def _docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    parts += [p.text for p in document.sections[0].footer.paragraphs]
    return "\n".join(parts)


# ---------------------------------------------------------------- the sheet model


def test_sheet_groups_items_and_marks_estimates(report: dict[str, Any]) -> None:
    sheet = build_sheet(report)
    assert [i.title for i in sheet.eligible] == ["小型微利企业所得税优惠（实际税负5%）", "研发费用税前加计扣除（100%）",
                                                 "“六税两费”减半征收"]
    # from 2026 the 起征点 is per 计税期间 (2026年第10号 一（一）): the period and the month's or quarter's sales
    assert [i.missing for i in sheet.need_info] == [("增值税纳税期限", "月销售额（增值税）", "季度销售额（增值税）")]
    assert len(sheet.not_eligible) == 2
    assert "估算" in sheet.eligible[0].amount_line
    near = next(i for i in sheet.not_eligible if i.near_miss)
    assert "只差" in near.reason and "未满足" in near.reason
    assert "起征点" in sheet.need_info[0].caveat and not sheet.need_info[0].working   # no estimate, no working
    assert sheet.eligible[1].working[0].startswith("计算：") and sheet.eligible[0].in_total == "计入"
    assert re.fullmatch(r"XC20261123-[0-9A-F]{6}", sheet.reference)
    assert sheet.reference == build_sheet(copy.deepcopy(report)).reference  # same report, same number


def test_summary_citation_always_carries_the_note(report: dict[str, Any]) -> None:
    rd = report["results"][1]                          # 研发费用加计扣除: its rate rests on a summary of 2023年第7号
    assert rd["policy_id"] == "rd_super_deduction" and rd["citations"][0]["summary"]
    rd["citations"][0]["note"] = ""                    # summary: true but the note left out
    cite = build_sheet(report).eligible[1].citations[0]
    assert cite.note == SUMMARY_NOTE
    assert cite.text.endswith(f"（{SUMMARY_NOTE}）")


def test_locator_does_not_repeat_the_document_number(report: dict[str, Any]) -> None:
    cite = build_sheet(report).eligible[0].citations[0]
    assert cite.source.count(cite.number) == 1


def test_profile_prints_labels_units_and_certifications_as_one_line(report: dict[str, Any]) -> None:
    facts = {f.label: f.value for f in build_sheet(report).profile}
    assert facts["企业名称"] == NAME
    assert facts["从业人数"] == "28人"
    assert facts["上年度营业收入"] == "420万元"
    assert facts["已获资质认定"] == "科技型中小企业"
    derived = {f.label: f for f in build_sheet(report).derived}
    assert derived["企业规模"].value == "小型" and "划型" in derived["企业规模"].cite.title
    assert "300" in derived["小型微利企业"].working  # a definition shows its conditions, not just "全部满足"


def test_missing_keys_fall_back_to_field_labels(report: dict[str, Any]) -> None:
    need = report["results"][3]
    need["missing_labels"] = []
    assert build_sheet(report).need_info[0].missing == ("增值税纳税期限", "月销售额（增值税）", "季度销售额（增值税）")


def test_not_a_report_is_a_user_error() -> None:
    with pytest.raises(UserError):
        build_sheet(["not", "a", "report"])
    with pytest.raises(UserError):
        render({"results": []}, "odt")


# ---------------------------------------------------------------- PDF


def test_pdf_has_every_section_in_readable_text(report: dict[str, Any]) -> None:
    data = render(report, "pdf")
    text = _pdf_text(data)
    for expected in (HEADING, *SECTIONS, "小型微利企业所得税优惠", "月销售额（增值税）", SUMMARY_NOTE,
                     "☐企业所得税", "受理部门", "政策依据", "估算", "免申即享", DISCLAIMER, "第1页/共", NAME,
                     "政策依据日期2026-11-23", *TOTAL_AND_WORKING):
        assert _squash(expected) in text, expected
    assert "cit." not in text and "rd_expense" not in text   # the working is in words, never field or parameter ids
    assert "(cid:" not in text and MISSING_GLYPH not in text and "\ufffd" not in text
    reader = PdfReader(io.BytesIO(data))
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [595, 842]  # A4
    assert NAME not in (reader.metadata.title or "") + (reader.metadata.subject or "")


def test_pdf_embeds_its_fonts(report: dict[str, Any]) -> None:
    if not pdf_fonts().embedded:
        pytest.skip("no CJK TrueType font installed: the CID fallback is tested separately")
    reader = PdfReader(io.BytesIO(render(report, "pdf")))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object(), font["/BaseFont"]


def test_pdf_without_cjk_fonts_falls_back_to_the_cid_font(report: dict[str, Any]) -> None:
    data = render_pdf(build_sheet(report), embed_font=False)
    text = _pdf_text(data)
    assert _squash(HEADING) in text and "小型微利企业所得税优惠" in text and SUMMARY_NOTE in text
    assert "(cid:" not in text
    fonts = {f.get_object()["/BaseFont"] for page in PdfReader(io.BytesIO(data)).pages
             for f in page["/Resources"]["/Font"].values()}
    assert any("STSong-Light" in str(f) for f in fonts)


@pytest.mark.parametrize("embed", [True, False])
def test_every_printed_character_has_a_glyph(report: dict[str, Any], embed: bool) -> None:
    """What the sheet prints is covered by the body font or routed to the symbol font, never a box."""
    fonts = pdf_fonts(embed)
    sheet = build_sheet(report)
    texts = [sheet.heading, sheet.disclaimer, sheet.overview]
    texts += [f.label + f.value + f.working for f in sheet.profile + sheet.derived]
    for item in sheet.items:
        texts += [item.title, item.benefit, item.amount_line, item.mode_line, item.how, item.caveat, item.reason]
        texts += list(item.materials) + [c.text for c in item.citations] + ["☐"]
    assert MISSING_GLYPH not in "".join(fonts.markup(t) for t in texts)


def test_uncovered_characters_become_the_missing_mark_not_boxes() -> None:
    fonts = pdf_fonts()
    markup = fonts.markup("☐ 材料 𠮷 <b>")  # 𠮷 (U+20BB7) is in neither WenQuanYi nor DejaVu
    assert "𠮷" not in markup and MISSING_GLYPH in markup
    assert "&lt;b&gt;" in markup
    if fonts.symbol:
        assert f'<font name="{fonts.symbol}">☐</font>' in markup


def test_chinese_punctuation_never_starts_a_line(report: dict[str, Any]) -> None:
    from reportlab.lib.textsplit import wordSplit

    render(report, "pdf")  # rendering installs the Chinese line-breaking rules
    body = pdf_fonts().body
    lines = wordSplit("一二三四五，六七八九十；甲", 50, body, 10)  # five characters fit on a line
    assert not any(text.startswith(("，", "；")) for _, text in lines)


def test_cid_fallback_stands_in_for_what_its_cmap_lacks() -> None:
    fonts = pdf_fonts(embed=False)
    assert fonts.plain("计算器 · 结果单") == "计算器 ・ 结果单"  # U+00B7 is not in UniGB-UCS2-H
    assert fonts.plain("☐") == MISSING_GLYPH  # canvas strings cannot switch to the symbol font


def test_pdf_survives_hostile_input(hostile: dict[str, Any]) -> None:
    data = render(hostile, "pdf")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) < 12  # the 10,000-character name and 21,000-character quote are clipped
    text = _pdf_text(data)
    assert "<b>粗体</b><script>alert(1)</script>&<para>标题" in text  # markup printed as typed
    assert "…" in text and "材料59" in text


def test_empty_result_set_still_prints_a_sheet() -> None:
    data = render({"today": "2026-11-23", "profile": {}, "results": []}, "pdf")
    text = _pdf_text(data)
    for expected in (HEADING, *SECTIONS, "未填写企业信息", "暂未找到可直接享受的政策", DISCLAIMER):
        assert _squash(expected) in text, expected


def test_pdf_renders_to_png_for_a_look(report: dict[str, Any], hostile: dict[str, Any], artifacts_dir: Path) -> None:
    """Leave the sheets and their page images in tests/artifacts/ for a person to look at."""
    for name, data in (("export_sample", report), ("export_hostile", hostile),
                       ("export_empty", {"today": "2026-11-23", "profile": {}, "results": []})):
        pdf = artifacts_dir / f"{name}.pdf"
        pdf.write_bytes(render(data, "pdf"))
        (artifacts_dir / f"{name}.docx").write_bytes(render(data, "docx"))
        if shutil.which("pdftoppm"):
            for old in artifacts_dir.glob(f"{name}-*.png"):
                old.unlink()
            subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(artifacts_dir / name)], check=True)
            assert list(artifacts_dir.glob(f"{name}-*.png"))


# ---------------------------------------------------------------- DOCX


def test_docx_reads_back_with_east_asian_font_and_a4(report: dict[str, Any]) -> None:
    data = render(report, "docx")
    text = _docx_text(data)
    for expected in (HEADING, *SECTIONS, "小型微利企业所得税优惠", "☐ 企业所得税", SUMMARY_NOTE, "月销售额（增值税）",
                     "政策依据", DISCLAIMER, NAME, "91411082MA3X5KQ252", *TOTAL_AND_WORKING):
        assert expected in text, expected
    assert "cit." not in text and "rd_expense" not in text
    document = docx.Document(io.BytesIO(data))
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "宋体"
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert 'w:instr="PAGE"' in section.footer._element.xml
    assert NAME not in (document.core_properties.title + document.core_properties.subject)


def test_docx_survives_hostile_input_and_empty_results(hostile: dict[str, Any]) -> None:
    text = _docx_text(render(hostile, "docx"))
    assert "<script>alert(1)</script>" in text and "\x00" not in text
    empty = _docx_text(render({"today": "2026-11-23", "profile": {}, "results": []}, "docx"))
    assert "暂未找到可直接享受的政策" in empty


# ---------------------------------------------------------------- XLSX and CSV


def test_xlsx_one_row_per_policy_and_a_profile_sheet(report: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    results, profile = book["政策匹配结果"], book["企业信息"]
    top = len(HEADER_LABELS) + 2   # the header block, a blank row, then the table
    header = [c.value for c in results[top]]
    assert header[:4] == ["状态", "政策名称", "优惠内容", "预计金额（估算）"] and "准备材料" in header
    rows = list(results.iter_rows(min_row=top + 1, values_only=True))
    assert len(rows) == len(report["results"])
    assert [r[0] for r in rows] == ["可享受", "可享受", "可享受", "需补充信息", "暂不符合", "暂不符合"]
    assert "“" in rows[0][header.index("政策依据")] and SUMMARY_NOTE not in rows[0][header.index("政策依据")]
    assert SUMMARY_NOTE in rows[1][header.index("政策依据")]          # the 7号 summary behind the 100% rate
    assert "未核实" in rows[1][header.index("金额计算")] and rows[1][header.index("计入合计")] == "计入"
    assert rows[2][header.index("计入合计")].startswith("未计入：本项不估算金额")
    assert results.freeze_panes == f"C{top + 1}"
    assert results.column_dimensions["B"].width >= 20
    assert results[f"C{top + 1}"].alignment.wrap_text
    labels = {r[0]: r[1] for r in profile.iter_rows(min_row=2, values_only=True)}
    assert labels["企业名称"] == NAME and labels["从业人数"] == "28人" and labels["声明"] == DISCLAIMER
    assert labels["预计金额合计"] == "预计每年可少缴/可获得约 9.9 万元（计入 2 项）"


def test_xlsx_never_stores_a_formula(hostile: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render(hostile, "xlsx")))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert any(str(c.value or "").startswith("=HYPERLINK") for c in cells)  # kept, as text


def test_csv_is_utf8_with_bom_and_guards_formulas(report: dict[str, Any], hostile: dict[str, Any]) -> None:
    data = render(report, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    n = len(HEADER_LABELS)   # the header block leads every row
    assert rows[0][:n + 1] == [*HEADER_LABELS, "状态"]
    assert len(rows) == 1 + len(report["results"]) + 1        # and the total, as a last row 合计
    assert rows[1][n + 1] == "小型微利企业所得税优惠（实际税负5%）"
    assert rows[-1][n:n + 2] == ["合计", "预计每年可少缴/可获得约 9.9 万元（计入 2 项）"] and "未计入" in rows[-1][n + 3]
    benefit = list(csv.reader(io.StringIO(render(hostile, "csv").decode("utf-8-sig"))))[1][n + 2]
    assert benefit.startswith("'=HYPERLINK")
    empty = render({"today": "2026-11-23", "profile": {}, "results": []}, "csv").decode("utf-8-sig")
    assert empty.splitlines()[0].startswith("企业名称,统一社会信用代码")


# ---------------------------------------------------------------- files and the command


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx", "csv"])
def test_export_report_writes_a_dated_anonymous_file(report: dict[str, Any], fmt: str, tmp_path: Path) -> None:
    first = export_report(report, fmt, tmp_path)
    second = export_report(report, fmt, tmp_path)  # same second: a new name, never an overwrite
    for path in (first, second):
        assert re.fullmatch(rf"政策匹配结果_\d{{8}}_\d{{6}}(_\d+)?\.{fmt}", path.name)
        assert path.stat().st_size > 0
    assert first != second
    assert "瑞丰" not in first.name and "91411082" not in first.name


def test_export_report_to_a_named_file(report: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "sub" / "sheet.csv"
    assert export_report(report, "csv", target) == target and target.exists()
    assert re.fullmatch(r"政策匹配结果_\d{8}_\d{6}\.pdf", file_name("pdf"))


def test_cli_exports_a_saved_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--report", str(SAMPLE), "--format", "xlsx", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    written = Path(out.out.strip())
    assert written.parent == tmp_path and written.suffix == ".xlsx"
    assert "瑞丰" not in out.out + out.err


def test_cli_matches_a_profile_and_text(report: dict[str, Any], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("calculator.policy.match")
    parse = pytest.importorskip("calculator.facts.parse")
    if not hasattr(parse, "parse_text"):
        pytest.skip("calculator.facts.parse.parse_text is not available yet")
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(report["profile"], ensure_ascii=False), encoding="utf-8")
    args = ["export", "--profile", str(profile), "--text", "每月销售额8万元", "--format", "pdf",
            "--out", str(tmp_path), "--today", "2026-11-23"]
    assert main(args) == 0
    text = _pdf_text(Path(capsys.readouterr().out.strip()).read_bytes())
    assert "小型微利企业所得税优惠" in text and SUMMARY_NOTE in text
    assert "月销售额（增值税）8万元" in text  # the text's fact merged into the file's profile
    assert "政策依据日期2026-11-23" in text and "政策库版本未载明" not in text  # a fresh match is fingerprinted


@pytest.mark.parametrize("args", [
    ["export"],
    ["export", "--report", "does-not-exist.json"],
    ["export", "--report", str(SAMPLE), "--text", "员工28人"],
    ["export", "--text", "员工28人", "--today", "23/11/2026"],
    ["export", "--profile", str(SAMPLE)],  # a report is not a profile: 未知字段
    ["export", "--report", str(SAMPLE), "--format", "odt"],
])
def test_cli_bad_input_is_one_line_and_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors (an unknown --format) exit from the parser
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err
    if "--today" in args:
        assert "YYYY-MM-DD" in err


# ---------------------------------------------------------------- the header block, read back from every format

HEADER_VALUES = {"企业名称": NAME, "统一社会信用代码": "91411082MA3X5KQ252", "政策依据日期": "2026-11-23",
                 "政策库版本": "0123456789abcdef"}


def _read_back(data: bytes, fmt: str) -> str:
    """What a reader sees of the file, whitespace removed: the PDF's text, the DOCX's tables, the XLSX's
    first sheet's first rows, the CSV's first two rows."""
    if fmt == "pdf":
        return _pdf_text(data)
    if fmt == "docx":
        document = docx.Document(io.BytesIO(data))
        return _squash("".join(cell.text for cell in document.tables[0]._cells))
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
        return _squash("".join(str(v or "") for row in sheet.iter_rows(max_row=len(HEADER_LABELS), values_only=True)
                               for v in row))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return _squash("".join(a + b for a, b in zip(rows[0], rows[1])))


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx", "csv"])
def test_every_format_opens_with_the_same_header_block(report: dict[str, Any], fmt: str) -> None:
    """Company, 信用代码, the day's law, the catalog's fingerprint, the time and 编号: first, in every format
    (the CSV had no company at all, issue 14)."""
    stamped = {**report, "catalog_fingerprint": HEADER_VALUES["政策库版本"]}
    sheet = build_sheet(stamped)
    text = _read_back(render(stamped, fmt), fmt)
    for label, value in [*HEADER_VALUES.items(), ("导出时间", sheet.created[:10]), ("编号", sheet.reference)]:
        assert _squash(label + value) in text, (fmt, label)
    assert [label for label, _ in sheet.header] == list(HEADER_LABELS)


def test_a_missing_name_or_fingerprint_says_so() -> None:
    sheet = build_sheet({"today": "2026-11-23", "profile": {}, "results": []})
    assert dict(sheet.header)["企业名称"] == "未填写" and dict(sheet.header)["政策库版本"] == "未载明"
