"""calculator.present.html: results, traces, citations and context as HTML, from the real engine's JSON."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from calculator.corpus.documents import Document
from calculator.policy.match import match_profile
from calculator.present.html import (
    NO_INDEX_NOTICE,
    answer_html,
    citation_html,
    conditions_html,
    context_html,
    documents_rows,
    failing_condition,
    hits_html,
    notice_html,
    notices_html,
    result_html,
    results_html,
)

SMALL_FACTORY = {"county": "魏都区", "entity_type": "企业", "industry": "制造业", "employees": 50, "revenue": 2000,
                 "total_assets": 1500, "taxable_income": 200, "restricted_industry": False}


@pytest.fixture(scope="module")
def report() -> dict:
    return match_profile(SMALL_FACTORY).to_json()


def _result(report: dict, policy_id: str) -> dict:
    return next(r for r in report["results"] if r["policy_id"] == policy_id)


def test_results_sections_counts_and_order(report: dict) -> None:
    html = results_html(report)
    s = report["summary"]
    assert f'{s["eligible"]}</b> 项符合' in html and f'{s["need_info"]}</b> 项需补充信息' in html
    # eligible first, then need_info, and not_eligible folded into one closed <details>
    assert html.index("可以享受") < html.index("还需补充信息") < html.index("不符合的政策")
    folded = html[html.index('<details class="pc-not">'):]
    assert "<details class=\"pc-not\" open" not in html and "pc-item-not_eligible" in folded
    assert "企业规模" in html and "小型" in html  # derived facts with their working


def test_the_total_says_what_it_counts_and_what_it_leaves_out(report: dict) -> None:
    html = results_html(report)
    totals = report["totals"]
    assert totals["text"].startswith("预计每年可少缴/可获得约 ") and totals["text"] in html
    assert html.index("项符合") < html.index(totals["text"]) < html.index("可以享受")
    left = html[html.index('class="pc-total-left"'):]
    titles = {r["policy_id"]: r["title"] for r in report["results"]}
    for row in totals["not_counted"]:                      # by title and why, never by id
        assert f"{titles[row['policy_id']]}：{row['why']}" in left
    assert "计入：" + "、".join(titles[p] for p in totals["counted"]) in html


def test_a_zero_amount_has_no_zero_badge_and_says_why() -> None:
    loss = match_profile({**SMALL_FACTORY, "taxable_income": -50, "rd_expense": 30}).to_json()
    html = result_html(_result(loss, "rd_super_deduction"))
    assert "约 0" not in html and "亏损年度" in html


def test_an_amount_shows_how_it_was_worked_out(report: dict) -> None:
    html = result_html(_result(report, "small_low_profit_cit"))
    working = html[html.index("金额怎么算"):]
    assert "年应纳税所得额：200万元" in working and "2023-01-01至2027-12-31执行" in working and "cit." not in working


def test_eligible_item_has_amount_trace_and_cited_clauses(report: dict) -> None:
    r = _result(report, "small_low_profit_cit")
    html = result_html(r)
    assert "符合" in html and "约 40 万元/年" in html and "免申即享" in html
    assert html.count('class="pc-cond pc-met"') >= 4 and "✓" in html
    assert "财政部 税务总局公告2023年第12号" in html and "第三条" in html
    assert "摘要，以原文为准" not in html  # the 2023/12 notice's clauses are now held in the original
    assert 'data-doc="cn_2023_12_small_micro_tax_fee_official"' in html and re.search(r'data-start="\d+" data-end="\d+"', html)
    assert "准备材料" in html and "税务部门" in html
    rd = result_html(_result(report, "rd_super_deduction"))   # its 100% rate rests on a summary of 2023年第7号
    assert "摘要，以原文为准" in rd and 'data-doc="cn_2023_07_rd_super_deduction"' in rd


def test_need_info_says_what_is_missing(report: dict) -> None:
    r = next(r for r in report["results"] if r["status"] == "need_info" and r["missing_labels"])
    html = result_html(r)
    assert "还需了解：" + "、".join(r["missing_labels"]) in html
    assert 'class="pc-cond pc-unknown"' in html


def test_not_eligible_names_the_failing_condition() -> None:
    big = {**SMALL_FACTORY, "employees": 400}
    r = _result(match_profile(big).to_json(), "small_low_profit_cit")
    assert r["status"] == "not_eligible"
    failing = failing_condition(r["conditions"])
    assert failing is not None and "300" in failing["text"]
    html = result_html(r)
    assert "不符合：" in html and 'class="pc-cond pc-not_met"' in html and "✗" in html


def test_near_miss_is_shown() -> None:
    r = {"policy_id": "x", "title": "T", "status": "not_eligible", "conditions": [], "citations": [],
         "near_miss": "只差：研发费用占营业收入比例 3.2% < 4%"}
    assert "只差：研发费用占营业收入比例 3.2% &lt; 4%" in result_html(r)


def test_everything_from_documents_and_users_is_escaped() -> None:
    evil = "<img src=x onerror=alert(1)>"
    r = {"policy_id": "x", "title": evil, "status": "eligible", "benefit": evil, "conditions": [
        {"text": evil, "outcome": "met", "detail": evil, "citation": {"doc_id": evil, "doc_title": evil, "quote": evil}}],
        "citations": [{"doc_id": "d", "doc_title": evil, "doc_number": evil, "locator": evil, "quote": evil}]}
    html = result_html(r) + hits_html([{"doc_id": "d", "doc_title": evil, "text": evil}], evil)
    assert "<img" not in html and "&lt;img" in html


def test_citation_without_offsets_carries_its_quote_for_lookup() -> None:
    html = citation_html({"doc_id": "d1", "doc_title": "T", "quote": "原文一句"})
    assert 'data-quote="原文一句"' in html and "data-start" not in html


def test_context_marks_the_quote_within_a_window() -> None:
    text = "甲" * 1000 + "关键条款内容" + "乙" * 1000
    doc = SimpleNamespace(text=text, title="某办法", doc_number="豫政〔2020〕1号", is_summary=False)
    html = context_html(doc, 1000, 1006, chars=300)
    assert "<mark>关键条款内容</mark>" in html
    assert html.count("甲") == 300 and html.count("乙") == 300 and html.count("…") == 2
    assert "豫政〔2020〕1号" in html
    assert "未能在原文中定位" in context_html(doc, None, None)
    assert "未能在原文中定位" in context_html(doc, 5, 99999)


def test_context_prefers_whole_lines() -> None:
    text = "第一行很长" * 20 + "\n第二行。关键句。\n" + "后文" * 200
    start = text.index("关键句")
    html = context_html(SimpleNamespace(text=text, title="T", doc_number="", is_summary=True), start, start + 3, 100)
    assert "第二行。<mark>关键句</mark>" in html and "摘要，以原文为准" in html


def test_conditions_nest_groups() -> None:
    html = conditions_html([{"text": "小型微利企业", "outcome": "unknown", "children": [
        {"text": "从业人数≤300人", "outcome": "met", "detail": "50人 ≤ 300人"},
        {"text": "资产≤5000万元", "outcome": "unknown", "presumed": True}]}])
    assert html.count('<ul class="pc-trace">') == 2 and "推定" in html and "?" in html


def test_answers_found_and_not_found() -> None:
    cited = {"answer": "…", "found": True, "citations": [
        {"doc_id": "d", "doc_title": "稳岗返还", "doc_number": "", "locator": "第三条", "quote": "申请条件", "summary": True}]}
    assert "回答依据" in answer_html(cited) and "摘要，以原文为准" in answer_html(cited)
    assert "<b>[1]</b>" in answer_html(cited)
    nothing = answer_html({"answer": "", "found": False, "citations": []})
    assert "没有找到" in nothing and "pc-cite" not in nothing
    assert answer_html(None) == ""


def test_empty_results_and_notices() -> None:
    assert "回答几个问题" in results_html(None)
    assert "没有新的" in notices_html([])
    html = notices_html([{"policy_id": "p", "title": "新政", "status": "eligible", "status_label": "符合",
                          "change_label": "新政策", "met": ["从业人数≤300人"], "missing": [], "benefit": "减税"}])
    assert "新政" in html and "新政策" in html and "✓ 从业人数≤300人" in html


def _document(**fields: str) -> Document:
    return Document(doc_id=fields.pop("doc_id", "d"), text="正文", sha256="", path="", **fields)


def test_document_rows_mark_summaries_and_say_what_is_not_stated() -> None:
    docs = [_document(title="A法", issuer="全国人大", kind="law", completeness="full", level="national", issued="2018-01-01"),
            _document(title="要点摘要：B", doc_number="财税〔2023〕12号", issuer="财政部", kind="summary", level="national",
                      valid_from="2023-01-01", valid_until="2027-12-31"),
            _document(title="C条例", issuer="Henan People's Congress (per the header)", kind="regulation",
                      completeness="partial", valid_until="no expiry date stated in the text", note="verify the 2024 amendment")]
    rows = documents_rows(docs)
    assert rows[0][0] == "要点摘要：B" and "摘要，以原文为准" in rows[0][3] and rows[0][6] == "2023-01-01 至 2027-12-31"
    assert rows[0][4] == "原文未入库"
    by_title = {row[0]: row[1:] for row in rows}
    assert by_title["A法"] == ["未载明", "全国人大", "法律", "全文", "2018-01-01", "未载明"]
    assert by_title["C条例"] == ["未载明", "未载明", "法规", "部分条款", "未载明", "未载明"]   # no curator's English shown


def test_notice_shows_commands_as_code_and_escapes_the_rest() -> None:
    assert "<code>make ingest</code>" in notice_html(NO_INDEX_NOTICE)
    assert notice_html("<b>`x`") == '<div class="pc-notice">&lt;b&gt;<code>x</code></div>'
