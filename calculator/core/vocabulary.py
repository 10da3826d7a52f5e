"""Words people read, written once: levels, outcome marks, verdicts, validity states, the citation line.

Every screen, sheet, CLI table and chat reply takes its labels from here, so "需补充信息" cannot drift
into a fourth spelling and a validity window is judged the same way by the matcher and the calendar.
"""
from __future__ import annotations

from datetime import date

LEVEL_LABEL = {"national": "国家", "henan": "河南省", "xuchang": "许昌市"}

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
OUTCOME_MARK = {MET: "✓", NOT_MET: "✗", UNKNOWN: "?"}

ELIGIBLE, NEED_INFO, NOT_ELIGIBLE = "eligible", "need_info", "not_eligible"
STATUS_LABEL = {ELIGIBLE: "符合", NEED_INFO: "需补充信息", NOT_ELIGIBLE: "不符合"}
STATUS_HEADING = {ELIGIBLE: "✅ 符合", NEED_INFO: "❓ 需补充信息", NOT_ELIGIBLE: "❌ 暂不符合"}
SHEET_STATUS_LABEL = {ELIGIBLE: "可享受", NEED_INFO: "需补充信息", NOT_ELIGIBLE: "暂不符合"}  # the printed sheet

CURRENT, EXPIRING, EXPIRED, NOT_YET = "current", "expiring", "expired", "not_yet"
VALIDITY_LABEL = {CURRENT: "有效", EXPIRING: "即将到期", EXPIRED: "已到期", NOT_YET: "尚未生效"}

SUMMARY_NOTE = "摘要，以原文为准"

# A document's provenance as people read it (the front-matter keys are for maintainers)
NOT_STATED = "未载明"       # a value the document's front-matter does not state (no 文号, no end date …)
COMPLETENESS_LABEL = {"full": "全文", "partial": "部分条款"}
DOCUMENT_KIND_LABEL = {"policy": "政策文件", "news": "新闻报道", "report": "报告", "law": "法律", "regulation": "法规",
                       "summary": "要点摘要"}


def validity_state(valid_from: date | None, valid_until: date | None, today: date,
                   expiring_within: int | None = None) -> str:
    """current | expired | not_yet on `today`; with `expiring_within` days, a current window ending that
    soon is `expiring`. Both ends are inclusive: an item is in force on its first and last day."""
    if valid_from is not None and today < valid_from:
        return NOT_YET
    if valid_until is not None and today > valid_until:
        return EXPIRED
    if expiring_within is not None and valid_until is not None and (valid_until - today).days <= expiring_within:
        return EXPIRING
    return CURRENT


def citation_line(title: str, number: str, locator: str, summary: bool) -> str:
    """One line for people: 《title》文号 locator（摘要，以原文为准）."""
    shown_number = f" {number}" if number else ""
    note = f"（{SUMMARY_NOTE}）" if summary else ""
    return f"《{title}》{shown_number} {locator}{note}".strip()


def source_line(title: str, number: str, locator: str, summary: bool) -> str:
    """A short source for running text: the 文号 when there is one, else 《title》, then the locator."""
    where = number or f"《{title}》"
    note = f"（{SUMMARY_NOTE}）" if summary else ""
    return f"{where} {locator}{note}".strip()
