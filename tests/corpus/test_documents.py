"""Documents: provenance, encodings, formats, layout repair and one clear reason per bad file."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from calculator.corpus.documents import (
    DocumentError,
    clean_text,
    load_corpus,
    load_document,
    scan_corpus,
)

ARTICLE = "第二十八条 符合条件的小型微利企业，减按20%的税率征收企业所得税。\n\n国家需要重点扶持的高新技术企业，减按15%的税率征收企业所得税。"


@pytest.fixture(scope="module")
def corpus(project_root: Path):
    return load_corpus(project_root / "knowledge" / "docs")


def test_front_matter_provenance(corpus) -> None:
    doc = corpus["cn_2023_12_small_micro_tax_fee"]
    assert doc.doc_number == "财政部 税务总局公告2023年第12号"
    assert doc.kind == "summary" and doc.is_summary
    official = corpus["cn_2023_12_small_micro_tax_fee_official"]   # the original clauses, from a public repository
    assert official.kind == "policy" and official.completeness == "partial" and official.extra["commit"]
    assert doc.valid_until == "2027-12-31"
    assert not doc.text.startswith("---") and "title:" not in doc.text
    assert len(doc.sha256) == 64


def test_normalised_front_matter_null_dates_and_empty_numbers(tmp_path: Path) -> None:
    path = tmp_path / "demo.md"
    path.write_text("---\ntitle: 某条例\ndoc_number: ''\nissued: null\nvalid_from: '2020-01-01'\nvalid_until: null\n"
                    "completeness: partial\nsuperseded_by: 财政部 税务总局公告2026年第10号（official/x.md）\n"
                    "note: 'Stored copy ends at 第四十二条; verify against the official text.'\n---\n\n第一条 正文。\n",
                    encoding="utf-8")
    doc = load_document(path)
    assert (doc.doc_number, doc.issued, doc.valid_until, doc.valid_from) == ("", "", "", "2020-01-01")
    assert doc.date("valid_from").isoformat() == "2020-01-01" and doc.date("valid_until") is None
    shown = doc.shown()   # for people: 未载明 for what is not stated, never the maintainer's note
    assert shown["doc_number"] == shown["issued"] == shown["valid_until"] == "未载明"
    assert shown["completeness"] == "部分条款" and shown["superseded_by"] == "财政部 税务总局公告2026年第10号"
    assert "verify" not in "".join(shown.values())


def test_the_shared_corpus_front_matter_is_normalised(corpus) -> None:
    for doc in corpus.values():
        assert doc.completeness in ("", "full", "partial"), doc.doc_id
        if "seeds" not in doc.path:   # seeds/META.yaml keeps the delivered dates (2023-03, 2023-02-27/28)
            for name in ("issued", "valid_from", "valid_until"):
                assert getattr(doc, name) == "" or doc.date(name), (doc.doc_id, name)
        assert not re.search(r"[A-Za-z]{4,}", "".join(doc.shown().values())), doc.doc_id
    assert corpus["000_51c722840596ee65"].shown()["issued"] == "2023-03"
    assert corpus["cn_2023_19_small_scale_vat"].valid_until == "2025-12-31"           # superseded from 2026-01-01
    assert corpus["cn_2023_19_small_scale_vat"].superseded_by.startswith("财政部 税务总局公告2026年第10号")
    assert corpus["henan_hightech_first_recognition_award"].caveat.startswith("已被取代")


def test_official_kind_from_title(corpus) -> None:
    assert corpus["cn_law_enterprise_income_tax"].kind == "law"
    assert corpus["cn_reg_enterprise_income_tax_implementation"].kind == "regulation"
    assert corpus["henan_reg_sme_promotion_implementation"].kind == "regulation"  # 《…法》办法
    assert "<!-- INFO END -->" not in corpus["cn_law_vat_2024"].text


def test_seeds_take_meta_yaml(corpus) -> None:
    doc = corpus["003_8975ab261d4dbbb2"]
    assert doc.title.startswith("许昌市优化营商环境三年行动方案")
    assert doc.kind == "policy" and doc.valid_until == "2020-12-31" and doc.issued == "2018-10-30"
    assert "**" not in doc.text
    assert corpus["000_51c722840596ee65"].kind == "news"


def test_corpus_skips_notes(corpus) -> None:
    assert not {"INDEX", "README", "META"} & set(corpus)
    assert len(corpus) >= 27


def test_two_column_layout_repaired(corpus) -> None:
    text = corpus["004_4d038e9deba97052"].text
    assert "本报讯（记者张辉）3月13日，市政府2023年第10次重点工作周交办会议召开。" in text
    assert "城乡融合共同富裕先行试验区建设方面" in text  # broken across a blank line in the source
    assert "本 报" not in text


def test_cleaning_rules_are_general() -> None:
    damaged = "标题一行\n\n本 报 讯 （记 者 王 五） 5 月 1\n日，某某会议召开。会议\n要求：\n一、加强领导。\n（一）明确分工，\n落实责任。"
    cleaned = clean_text(damaged)
    assert cleaned.startswith("标题一行\n\n本报讯（记者王五）5月1日，某某会议召开。会议要求：\n一、加强领导。\n（一）明确分工，落实责任。")
    assert clean_text(ARTICLE) == ARTICLE  # well-formed law text is left alone
    assert clean_text("# 第一章 总则\n\n第一条 总 则") == "# 第一章 总则\n\n第一条 总则"
    assert clean_text("English words\nwrapped here.") == "English words wrapped here."


def test_gbk_and_gb18030_files(tmp_path: Path) -> None:
    for encoding in ("gbk", "gb18030"):
        path = tmp_path / f"notice_{encoding}.txt"
        path.write_bytes(("关于支持小微企业发展的通知\n\n" + ARTICLE + "𠀀" * (encoding == "gb18030")).encode(encoding))
        doc = load_document(path)
        assert "减按20%的税率征收企业所得税" in doc.text
        assert doc.title == "关于支持小微企业发展的通知"


def test_docx_pdf_html(tmp_path: Path) -> None:
    import docx
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    word = docx.Document()
    word.add_heading("许昌市测试办法", level=1)
    word.add_paragraph(ARTICLE.split("\n\n")[0])
    word.save(tmp_path / "rules.docx")
    doc = load_document(tmp_path / "rules.docx")
    assert doc.text.startswith("# 许昌市测试办法") and "减按20%的税率" in doc.text
    assert doc.kind == "regulation"

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(tmp_path / "scan.pdf"), pagesize=A4)
    pdf.setFont("STSong-Light", 12)
    pdf.drawString(72, 760, "第三条 企业开办全程网上办理，")
    pdf.drawString(72, 740, "一个工作日内办结。")
    pdf.save()
    doc = load_document(tmp_path / "scan.pdf")
    assert "企业开办全程网上办理，一个工作日内办结。" in doc.text

    (tmp_path / "page.html").write_text(
        "<html><head><title>惠企政策</title><style>p{color:red}</style></head><body><nav>首页 导航</nav>"
        "<h2>一、政策内容</h2><p>对新认定的高新技术企业<b>给予奖励</b>。</p><script>var x='脚本';</script></body></html>",
        encoding="utf-8")
    doc = load_document(tmp_path / "page.html")
    assert doc.title == "惠企政策"
    assert "## 一、政策内容" in doc.text and "对新认定的高新技术企业给予奖励。" in doc.text
    assert "导航" not in doc.text and "脚本" not in doc.text and "color" not in doc.text


@pytest.mark.parametrize("name, content, reason", [
    ("empty.txt", b"  \n\n", "empty"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    ("latin.txt", bytes([0x80, 0xA0, 0xFF, 0x81, 0x30]) * 200, "undecodable"),
    ("big.txt", "很大的文件。".encode() * 200_000, "oversized"),
    ("sheet.xlsx", b"PK\x03\x04 not really", "unsupported"),
    ("broken.docx", b"PK\x03\x04 truncated zip", "unreadable"),
])
def test_bad_files_have_one_reason(tmp_path: Path, monkeypatch, name: str, content: bytes, reason: str) -> None:
    monkeypatch.setenv("MAX_DOCUMENT_MB", "1")
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    assert caught.value.reason == reason
    assert "\n" not in str(caught.value) and caught.value.zh and caught.value.en


def test_scan_keeps_good_files_and_lists_bad_ones(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: 好文件\nkind: policy\n---\n\n" + ARTICLE, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    scan = scan_corpus(tmp_path)
    assert list(scan.documents) == ["good"] and scan.documents["good"].title == "好文件"
    assert [(f.path.name, f.reason) for f in scan.failures] == [("empty.txt", "empty")]
