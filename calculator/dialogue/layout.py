"""How an answer reads on a phone: the first two lines answer the question, with their citation markers.

A question about a catalog item gets its short card: the item and the part that answers (its benefit, or
its conditions, procedure or validity when those were asked) on the first line, then the main
conditions, the mode and department, where to apply and until when, on one line each. A question about a
fact gets the sentence that states it, then where it stands; further passages and items follow briefly.
Materials, deadlines and every condition stay in the match results, which the chat shows beside.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from calculator.core.vocabulary import ELIGIBLE, NEED_INFO, citation_line, source_line

if TYPE_CHECKING:
    from calculator.dialogue.evidence import Citations, Quote
    from calculator.policy.catalog import Catalog
    from calculator.policy.match import PolicyResult
    from calculator.search.retrieve import Hit

MAX_CONDITIONS = 3            # main conditions on a card; the results panel lists them all
MAX_TITLE_CHARS = 30          # a document title in running text; the citation list has it whole
_LINE_BREAK = re.compile(r"\s*\n[\s\-•·*]*")
_FIRST_SENTENCE = re.compile(r"^.+?[。；;]")


def status_line(result: PolicyResult) -> str:
    if result.status == ELIGIBLE:
        amount = f"，{result.amount_text}" if result.amount_text else ""
        return f"按您目前提供的信息：✅ 符合{amount}"
    if result.status == NEED_INFO:
        return f"按您目前提供的信息：❓ 还需补充 {'、'.join(result.missing_labels)}"
    reason = result.validity_condition["detail"] if result.validity_condition else next(
        (t.text for t in result.conditions if t.outcome == "not_met"), "")
    near = f"（{result.near_miss}）" if result.near_miss else ""
    return f"按您目前提供的信息：❌ 不符合{('：' + reason) if reason else ''}{near}"


def condition_citations(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """A condition's clause, or, for a group that cites none itself (上年度未裁员或裁员率…), its parts' clauses."""
    if condition.get("citation"):
        return [condition["citation"]]
    return [c for child in condition.get("children", []) for c in condition_citations(child)]


def passage_citation(hit: Hit, quote: Quote) -> dict[str, Any]:
    """A retrieved sentence as a citation: its offsets point into the document."""
    return {"doc_id": hit.doc_id, "doc_title": hit.doc_title, "doc_number": hit.doc_number, "locator": hit.locator,
            "quote": quote.text, "summary": hit.is_summary, "note": hit.note,
            "start": hit.start + quote.start, "end": hit.start + quote.end, "passage_id": hit.passage_id}


def _first_sentence(text: str) -> str:
    found = _FIRST_SENTENCE.match(text.strip())
    return found.group() if found else text.strip()


def short_card(result: PolicyResult, catalog: Catalog, cites: Citations, profile_known: bool,
               lead: str = "amount") -> list[str]:
    """The item as a few short lines; `lead` (the aspect asked: condition or procedure) comes first, else the benefit."""
    data = result.to_json(catalog)
    item = result.policy.item
    parts: dict[str, str] = {"amount": f"{item.benefit}{cites.marks(data['citations'][:3])}"}
    conditions = [c for c in data["conditions"] if c.get("id") != "validity"]
    if conditions:
        shown = "；".join(f"{c['text']}{cites.marks(condition_citations(c))}" for c in conditions[:MAX_CONDITIONS])
        more = f"（共{len(conditions)}项）" if len(conditions) > MAX_CONDITIONS else ""
        parts["condition"] = f"条件：{shown}{more}"
    where = f"；地点：{item.apply.where}" if item.apply.where else ""
    parts["procedure"] = f"办理（以办事指南为准）：{item.apply.how}{where}"
    validity = data["validity"]
    if validity["from"] or validity["until"]:
        expired = "（已到期）" if data["expired"] else ""
        parts["time"] = f"有效期：{validity['from'] or '—'} 至 {validity['until'] or '—'}{expired}"
    if lead not in ("condition", "procedure") or lead not in parts:   # else the benefit line leads
        lead = "amount"
    lines = [f"**{item.title}**：{parts.pop(lead)}"]
    if lead != "amount":
        lines.append(f"- 优惠：{parts.pop('amount')}")
    if "condition" in parts:
        lines.append(f"- {parts.pop('condition')}")
    lines.append(f"- 方式：{item.mode}｜{item.department}")
    lines += [f"- {parts[name]}" for name in ("procedure", "time") if name in parts]
    if profile_known:
        lines.append(f"- {status_line(result)}")
    caveat = item.caveat or data["caveat"]   # the item's own words, first sentence; the results panel has all
    if caveat:
        lines.append(f"- ⚠ {_first_sentence(caveat).rstrip('；;')}")
    return lines


def shown_quote(quote: Quote) -> str:
    """A quote as one Markdown line (the citation keeps the original), marked when it was cut."""
    cut = "…" if quote.cut else ""
    return _LINE_BREAK.sub(" ", quote.text.strip()) + cut


def short_title(title: str) -> str:
    """A long title (a newspaper page lists its articles) cut for running text; the citation keeps it whole."""
    return title if len(title) <= MAX_TITLE_CHARS else title[:MAX_TITLE_CHARS] + "…"


def source(hit: Hit) -> str:
    return citation_line(short_title(hit.doc_title), hit.doc_number, hit.locator, hit.is_summary)


def fact_lines(hit: Hit, quote: Quote, cites: Citations) -> list[str]:
    """The sentence that answers, with its marker, then where it stands."""
    marks = cites.marks([passage_citation(hit, quote)])
    where = source_line(short_title(hit.doc_title), hit.doc_number, hit.locator, hit.is_summary)
    return [f"{shown_quote(quote)}{marks}", f"——{where}"]


def passage_line(hit: Hit, quote: Quote, cites: Citations) -> str:
    return f"- {source(hit)}：“{shown_quote(quote)}”{cites.marks([passage_citation(hit, quote)])}"


def related_items(results: list[PolicyResult], profile_known: bool) -> str:
    """Further catalog items by title (with the enterprise's status when its profile is known)."""
    shown = [f"{r.policy.item.title}（{status_line(r).removeprefix('按您目前提供的信息：')}）" if profile_known
             else r.policy.item.title for r in results]
    return "相关政策：" + "、".join(shown) if shown else ""

