"""HTML for people: match results, condition traces, citations, cited answers and document context.

Pure functions over the JSON the library already produces (`MatchReport.to_json()`, the `ask` answer,
`Hit.to_json()`), so the app, a test or a saved report render the same way without Gradio. Every piece
of text from a document, a profile or a user is escaped here: a document may contain anything.

Class names (`pc-…`) are styled by calculator/ui/app.css; the HTML stays readable without it.
Citation context is not inlined: each citation carries a `<details class="pc-ctx">` whose body the app
fills on first open (`citation_context`), because inlining ±300 characters for the ~200 citations of
one report would make every chat turn ship ~100 KB the user mostly never opens.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from calculator.core.vocabulary import LEVEL_LABEL, NOT_STATED, OUTCOME_MARK, STATUS_LABEL, SUMMARY_NOTE
from calculator.facts.schema import format_number
from calculator.present.working import working_lines

if TYPE_CHECKING:
    from calculator.corpus.documents import Document

CONTEXT_CHARS = 300
OUTCOME_WORD = {"met": "满足", "not_met": "不满足", "unknown": "未知"}
NO_INDEX_NOTICE = "知识库尚未导入，请先运行 `make ingest`（问答不可用，政策匹配仍可使用）"


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def notice_html(text: str) -> str:
    """A highlighted notice; `code` in backticks (a command to run) is shown as code."""
    body = re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))
    return f'<div class="pc-notice">{body}</div>'

# ---------------------------------------------------------------- citations

def _is_summary(c: Mapping[str, Any]) -> bool:
    return bool(c.get("summary")) or c.get("kind") == "summary" or c.get("note") == SUMMARY_NOTE


def citation_html(c: Mapping[str, Any], index: int | None = None) -> str:
    """One citation: where (document, 文号, locator, summary mark, validity when given), the quoted text, and
    its context on demand.

    `index` prefixes "[n]" to match the markers in a cited answer's text; `c["validity"]` (a knowledge hit:
    已到期… / 有效期至…) is shown as a mark, red when `c["expired"]`.
    """
    quote = c.get("quote") or c.get("text") or ""
    number = f'<span class="pc-docno">{_e(c["doc_number"])}</span>' if c.get("doc_number") else ""
    locator = f'<span class="pc-loc">{_e(c["locator"])}</span>' if c.get("locator") else ""
    summary = f'<span class="pc-summary">{SUMMARY_NOTE}</span>' if _is_summary(c) else ""
    if c.get("validity"):
        state = "pc-expired" if c.get("expired") else "pc-current"
        summary += f'<span class="pc-validity {state}">{_e(c["validity"])}</span>'
    start, end = c.get("start"), c.get("end")
    attrs = f'data-doc="{_e(c.get("doc_id"))}"'
    if isinstance(start, int) and isinstance(end, int):
        attrs += f' data-start="{start}" data-end="{end}"'
    else:
        attrs += f' data-quote="{_e(quote[:400])}"'
    return (
        '<div class="pc-cite">'
        f'<div class="pc-cite-head">{f"<b>[{index}]</b> " if index else ""}《{_e(c.get("doc_title") or c.get("doc_id"))}》{number}{locator}{summary}</div>'
        f'<blockquote class="pc-quote">{_e(quote)}</blockquote>'
        f'<details class="pc-ctx" {attrs}><summary>查看原文上下文</summary>'
        '<div class="pc-ctx-body">加载中…</div></details>'
        "</div>"
    )


def cite_href(c: Mapping[str, Any]) -> str:
    """Where a citation marker [n] in a chat answer points: #pc-cite?doc=…&start=…&end=… (or &quote=… when
    the citation has no offsets); the page's click handler opens that clause in its document's context."""
    params: dict[str, Any] = {"doc": c.get("doc_id") or ""}
    start, end = c.get("start"), c.get("end")
    if isinstance(start, int) and isinstance(end, int):
        params.update(start=start, end=end)
    else:
        params["quote"] = str(c.get("quote") or c.get("text") or "")[:80]
    return "#pc-cite?" + urlencode(params)


_MARKER = re.compile(r"\[(\d{1,2})\]")


def link_markers(text: str, citations: list[Mapping[str, Any]]) -> str:
    """The answer's [n] markers as Markdown links to their clause (markers without a citation stay text)."""
    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= len(citations):
            return m.group(0)
        return f"[\\[{n}\\]]({cite_href(citations[n - 1])})"   # a Markdown link: the chat renders Markdown
    return _MARKER.sub(link, text)


def profile_html(rows: Iterable[list[str]], empty: str = "还没有企业信息：回答左侧的问题，或在下方直接填写。") -> str:
    """What the chat understood, as label/value rows that stack on a narrow screen (a phone shows both)."""
    items = "".join(f'<div class="pc-prow"><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>' for label, value in rows)
    return f'<dl class="pc-profile">{items}</dl>' if items else f'<div class="pc-empty">{_e(empty)}</div>'


def citations_html(citations: Iterable[Mapping[str, Any]], title: str = "依据条款", numbered: bool = False) -> str:
    items = "".join(citation_html(c, n if numbered else None) for n, c in enumerate(citations, 1))
    return f'<div class="pc-cites"><div class="pc-sub">{_e(title)}</div>{items}</div>' if items else ""


def context_html(doc: Document, start: int | None, end: int | None, chars: int = CONTEXT_CHARS) -> str:
    """The passage around [start, end) of `doc.text` with the quote highlighted (<mark>), ±`chars` characters.

    Cut at a line break near the window's edge when there is one, so the excerpt starts and ends on
    whole lines rather than mid-sentence.
    """
    text: str = doc.text
    if start is None or end is None or not (0 <= start <= end <= len(text)):
        return '<div class="pc-ctx-text">未能在原文中定位这段引文。</div>'
    lo, hi = max(0, start - chars), min(len(text), end + chars)
    nl = text.find("\n", lo, start)
    if lo > 0 and nl != -1 and nl - lo < chars // 2:
        lo = nl + 1
    nr = text.rfind("\n", end, hi)
    if hi < len(text) and nr != -1 and hi - nr < chars // 2:
        hi = nr
    head = "…" if lo > 0 else ""
    tail = "…" if hi < len(text) else ""
    provenance = [f"《{_e(doc.title)}》"]
    if getattr(doc, "doc_number", ""):
        provenance.append(_e(doc.doc_number))
    if getattr(doc, "is_summary", False):
        provenance.append(f'<span class="pc-summary">{SUMMARY_NOTE}</span>')
    return (
        f'<div class="pc-ctx-src">{" ".join(provenance)}</div>'
        f'<div class="pc-ctx-text">{head}{_e(text[lo:start])}<mark>{_e(text[start:end])}</mark>'
        f"{_e(text[end:hi])}{tail}</div>"
    )


# ---------------------------------------------------------------- conditions trace

def _condition_li(cond: Mapping[str, Any]) -> str:
    outcome = cond.get("outcome", "unknown")
    icon = OUTCOME_MARK.get(outcome, "？")
    word = OUTCOME_WORD.get(outcome, "")
    detail = cond.get("detail") or ""
    presumed = '<span class="pc-presumed">推定</span>' if cond.get("presumed") else ""
    detail_html = f'<div class="pc-detail">{_e(detail)}</div>' if detail and detail != cond.get("text") else ""
    cite = cond.get("citation")
    cite_html = f'<details class="pc-cond-cite"><summary>条款</summary>{citation_html(cite)}</details>' if cite else ""
    children = cond.get("children") or []
    nested = f'<ul class="pc-trace">{"".join(_condition_li(ch) for ch in children)}</ul>' if children else ""
    return (
        f'<li class="pc-cond pc-{outcome}" title="{word}"><span class="pc-icon" aria-label="{word}">{icon}</span>'
        f'<div class="pc-cond-body"><div class="pc-cond-text">{_e(cond.get("text"))}{presumed}{cite_html}</div>'
        f"{detail_html}{nested}</div></li>"
    )


def conditions_html(conditions: Iterable[Mapping[str, Any]]) -> str:
    """The conditions trace: ✓ met, ✗ not met, ? unknown; groups nest; each leaf opens its clause."""
    items = "".join(_condition_li(c) for c in conditions)
    return f'<ul class="pc-trace">{items}</ul>' if items else ""


def failing_condition(conditions: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The deepest first not-met condition: the one line that says why an item does not apply."""
    for cond in conditions:
        if cond.get("outcome") == "not_met":
            deeper = failing_condition(cond.get("children") or [])
            return deeper or cond
    return None


# ---------------------------------------------------------------- results

def _apply_html(r: Mapping[str, Any]) -> str:
    apply = r.get("apply") or {}
    rows = []
    if r.get("department"):
        rows.append(("办理部门", _e(r["department"])))
    if apply.get("how"):
        rows.append(("怎么办", _e(apply["how"])))
    if apply.get("materials"):
        rows.append(("准备材料", "；".join(_e(m) for m in apply["materials"])))
    if apply.get("deadline"):
        rows.append(("时限", _e(apply["deadline"])))
    if apply.get("where"):
        rows.append(("办理地点", _e(apply["where"])))
    validity = r.get("validity") or {}
    if validity.get("from") or validity.get("until"):
        rows.append(("有效期", f'{_e(validity.get("from") or "—")} 至 {_e(validity.get("until") or "长期")}'))
    if not rows:
        return ""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="pc-apply">{body}</table>'


def result_html(r: Mapping[str, Any]) -> str:
    """One policy: headline (title, verdict, amount, mode) and, opened, the why, the how and the clauses."""
    status = r.get("status", "need_info")
    amount = r.get("amount")
    unit = r.get("amount_unit") or ""
    amount_badge = (f'<span class="pc-amount">约 {format_number(amount)} {_e(unit)}</span>'
                    if isinstance(amount, (int, float)) and amount else "")   # a 0 is explained in amount_text
    level = LEVEL_LABEL.get(r.get("level", ""), "")
    meta = " · ".join(x for x in (_e(r.get("mode")), level) if x)
    head = (f'<summary><span class="pc-badge pc-{status}">{STATUS_LABEL.get(status, status)}</span>'
            f'<span class="pc-title">{_e(r.get("title"))}</span>{amount_badge}'
            f'<span class="pc-meta">{meta}</span></summary>')
    parts = [f'<div class="pc-benefit">{_e(r.get("benefit"))}</div>']
    if r.get("amount_text"):
        parts.append(f'<div class="pc-amount-text">金额：{_e(r["amount_text"])}</div>')
    lines = working_lines(r.get("amount_working")) if r.get("amount") is not None or r.get("amount_range") else []
    if lines:
        items = "".join(f"<li>{_e(line)}</li>" for line in lines)
        parts.append(f'<details class="pc-why pc-working"><summary>金额怎么算</summary><ul class="pc-explain">{items}</ul></details>')
    if status == "need_info" and r.get("missing_labels"):
        parts.append(f'<div class="pc-missing">还需了解：{_e("、".join(r["missing_labels"]))}</div>')
    if status == "not_eligible":
        failing = failing_condition(r.get("conditions") or [])
        if failing:
            parts.append(f'<div class="pc-why-not">不符合：{_e(failing.get("text"))}'
                         f'{("（" + _e(failing["detail"]) + "）") if failing.get("detail") else ""}</div>')
    if r.get("near_miss"):
        parts.append(f'<div class="pc-near">{_e(r["near_miss"])}</div>')
    if r.get("assumptions"):
        parts.append(f'<div class="pc-assume">推定：{_e("；".join(r["assumptions"]))}</div>')
    if r.get("caveat"):
        parts.append(f'<div class="pc-caveat">提示：{_e(r["caveat"])}</div>')
    parts.append(_apply_html(r))
    parts.append(f'<details class="pc-why"><summary>条件逐项核对</summary>{conditions_html(r.get("conditions") or [])}</details>')
    parts.append(f'<details class="pc-why"><summary>政策依据（{len(r.get("citations") or [])} 条）</summary>'
                 f'{citations_html(r.get("citations") or [], "")}</details>')
    return (f'<details class="pc-item pc-item-{status}" data-policy="{_e(r.get("policy_id"))}">'
            f'{head}<div class="pc-item-body">{"".join(parts)}</div></details>')


def totals_html(report: Mapping[str, Any]) -> str:
    """The one honest total: "预计每年可少缴/可获得约 X 万元", the items it counts and those it leaves out, with why
    (alternatives counted once, ceilings and deferrals never, amounts not yet estimable named)."""
    totals = report.get("totals") or {}
    if not totals:
        return ""
    titles = {r.get("policy_id"): r.get("title") for r in report.get("results") or []}
    counted = "、".join(_e(titles.get(pid, pid)) for pid in totals.get("counted") or [])
    left_out = "".join(f'<li>{_e(titles.get(n.get("policy_id"), n.get("policy_id")))}：{_e(n.get("why"))}</li>'
                       for n in totals.get("not_counted") or [])
    parts = [f'<div class="pc-total-line"><b>{_e(totals.get("text"))}</b></div>']
    if counted:
        parts.append(f'<div class="pc-total-counted">计入：{counted}（均为估算，以主管部门核定为准）</div>')
    if left_out:
        parts.append(f'<details class="pc-total-left"><summary>未计入 {len(totals["not_counted"])} 项及原因</summary>'
                     f'<ul>{left_out}</ul></details>')
    return f'<div class="pc-totals">{"".join(parts)}</div>'


def derived_html(report: Mapping[str, Any]) -> str:
    """Facts computed from the answers (企业规模 by 划型标准 …) on one line; their working folded below."""
    facts = [(key, fact) for key, fact in (report.get("derived") or {}).items()
             if fact.get("value") is not None and not fact.get("definition")]
    if not facts:
        return ""
    line = "；".join(f'{_e(fact.get("label", key))} <b>{_e(fact.get("display"))}</b>' for key, fact in facts)
    working = "".join(f'<li>{_e(fact.get("label", key))}：{_e(fact.get("explanation"))}</li>' for key, fact in facts)
    return f'<details class="pc-derived"><summary>据此推算：{line}</summary><ul class="pc-explain">{working}</ul></details>'


def results_html(report: Mapping[str, Any] | None, empty: str = "回答几个问题后，这里会列出可享受的政策。") -> str:
    """The whole result panel: counts, eligible (open), need_info, and not_eligible folded away."""
    if not report:
        return f'<div class="pc-results pc-empty">{_e(empty)}</div>'
    results = report.get("results") or []
    groups = {s: [r for r in results if r.get("status") == s] for s in STATUS_LABEL}
    counts = (f'<div class="pc-summary-line">截至 {_e(report.get("today"))}：'
              f'<b class="pc-n-eligible">{len(groups["eligible"])}</b> 项符合，'
              f'<b>{len(groups["need_info"])}</b> 项需补充信息，{len(groups["not_eligible"])} 项不符合</div>')
    sections = [counts, totals_html(report), derived_html(report)]
    if groups["eligible"]:
        sections.append('<h4 class="pc-h">可以享受</h4>' + "".join(result_html(r) for r in groups["eligible"]))
    if groups["need_info"]:
        sections.append('<h4 class="pc-h">可能符合，还需补充信息</h4>'
                        + "".join(result_html(r) for r in groups["need_info"]))
    if groups["not_eligible"]:
        inner = "".join(result_html(r) for r in groups["not_eligible"])
        sections.append(f'<details class="pc-not"><summary>不符合的政策（{len(groups["not_eligible"])} 项）</summary>'
                        f"{inner}</details>")
    return f'<div class="pc-results">{"".join(sections)}</div>'


# ---------------------------------------------------------------- answers, search, documents

def answer_html(answer: Mapping[str, Any] | None) -> str:
    """A free question's sources: the cited clauses with context, or a plain 'not in the knowledge base'."""
    if not answer:
        return ""
    if not answer.get("found"):
        return '<div class="pc-answer pc-notfound">知识库中没有找到相关内容，未引用任何条款。</div>'
    return f'<div class="pc-answer">{citations_html(answer.get("citations") or [], "回答依据", numbered=True)}</div>'


def hits_html(hits: Iterable[Mapping[str, Any]], query: str = "") -> str:
    """Search results: each passage with its provenance and a link to its context."""
    items = []
    for h in hits:
        items.append(citation_html({**h, "quote": h.get("text", "")}))
    if not items:
        return f'<div class="pc-notfound">没有找到与“{_e(query)}”相关的段落。</div>'
    return f'<div class="pc-hits">{"".join(items)}</div>'


def documents_rows(docs: Iterable[Any]) -> list[list[str]]:
    """One row per document for the public knowledge list: title, 文号, issuer, kind, completeness, dates
    (in Chinese: `Document.shown()`, where anything not stated is 未载明)."""
    rows = []
    for d in sorted(docs, key=lambda d: (d.kind != "summary", d.level, d.title)):
        shown = d.shown()
        start, end = shown["valid_from"], shown["valid_until"]
        validity = NOT_STATED if start == end == NOT_STATED else f"{start} 至 {end}"
        rows.append([shown["title"], shown["doc_number"], shown["issuer"], shown["kind"], shown["completeness"],
                     shown["issued"], validity])
    return rows


DOCUMENT_HEADERS = ["标题", "文号", "发布机关", "类型", "完整性", "发布日期", "有效期"]


def notices_html(notices: Iterable[Mapping[str, Any]]) -> str:
    """What is new for a subscriber: each item with what changed, why it matches and what is still missing."""
    items = []
    for n in notices:
        met = "".join(f"<li>✓ {_e(t)}</li>" for t in n.get("met") or [])
        missing = (f'<div class="pc-missing">还需了解：{_e("、".join(n["missing"]))}</div>'
                   if n.get("missing") else "")
        items.append(
            f'<div class="pc-item pc-item-{_e(n.get("status"))} pc-notice-item"><div class="pc-item-body">'
            f'<div><span class="pc-badge pc-{_e(n.get("status"))}">{_e(n.get("status_label"))}</span> '
            f'<b>{_e(n.get("title"))}</b> <span class="pc-meta">{_e(n.get("change_label"))}</span></div>'
            f'<div class="pc-benefit">{_e(n.get("benefit"))}</div>{missing}'
            + (f'<ul class="pc-trace">{met}</ul>' if met else "") + "</div></div>")
    if not items:
        return '<div class="pc-empty">自上次查看以来，没有新的或有变化的政策。</div>'
    return f'<div class="pc-results">{"".join(items)}</div>'
