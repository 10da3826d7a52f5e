"""Policy calendar for officials: what is in force, what expires soon, what has lapsed, what is not yet
in force — and which texts the answers rest on are partial or of doubtful validity.

Today is an input (default: CALCULATOR_TODAY or the system date) because the same catalog answers
differently on different days; tests and the CLI pin it. Item windows come from the catalog
(`validity.from/until`); document doubts come from the corpus front-matter (`kind: summary`,
`completeness: partial`, an ISO `valid_until`, `superseded_by`, `caveat`). Only the Chinese, user-facing
keys are shown: `note` and `source` are for maintainers (often English) and never reach officials' screens.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.core.vocabulary import CURRENT, EXPIRED, EXPIRING, LEVEL_LABEL, NOT_YET, VALIDITY_LABEL, validity_state
from calculator.corpus.documents import superseded_words
from calculator.policy.catalog import Catalog, load_catalog

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

if TYPE_CHECKING:
    from calculator.corpus.documents import Document

IN_FORCE = CURRENT  # the calendar's "in force" is the matcher's "current"
STATE_LABEL = {state: VALIDITY_LABEL[state] for state in (EXPIRING, NOT_YET, IN_FORCE, EXPIRED)}  # listing order
DOUBT_LABEL = {"validity": "有效性存疑", "partial_text": "依据文本不完整", "amount": "金额为估算",
               "local_rules": "地方细则未入库"}


@dataclass(frozen=True)
class CalendarItem:
    policy_id: str
    title: str
    level: str
    department: str
    valid_from: date | None
    valid_until: date | None
    state: str
    days_left: int | None      # days until valid_until (negative: days since it lapsed); None: no end date
    days_to_start: int | None  # for items not yet in force
    caveat: str
    doubt: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(valid_from=_iso(self.valid_from), valid_until=_iso(self.valid_until), doubt=list(self.doubt),
                   state_label=STATE_LABEL[self.state], level_label=LEVEL_LABEL.get(self.level, self.level),
                   doubt_labels=[DOUBT_LABEL.get(d, d) for d in self.doubt])
        return out


@dataclass(frozen=True)
class DocumentFlag:
    """A document whose text is a summary or partial, or whose validity is in doubt, with why."""

    doc_id: str
    title: str
    kind: str
    valid_until: str
    reasons: tuple[str, ...]
    cited_by: tuple[str, ...] = field(default=())  # policy ids whose verdicts rest on it

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "reasons": list(self.reasons), "cited_by": list(self.cited_by)}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def document_reasons(doc: Document, today: date, within_days: int) -> list[str]:
    """Why a document's text or validity should be checked before relying on it (empty: nothing to say)."""
    reasons = []
    if doc.kind == "summary":
        reasons.append("仅有本项目摘要，原文未入库（以原文为准）")
    completeness = (doc.completeness or "").strip()
    if completeness == "partial":
        reasons.append("正文不完整（仅部分条款入库）")
    elif completeness and completeness != "full":
        reasons.append("正文可能不完整（完整性未以 full/partial 载明）")
    until = (doc.valid_until or "").strip()
    if _ISO_DATE.match(until):
        end = date.fromisoformat(until)
        if end < today:
            reasons.append(f"已于 {until} 到期")
        elif (end - today).days <= within_days:
            reasons.append(f"将于 {until} 到期")
    elif until:
        reasons.append("有效期未以日期载明，需核实")
    if (doc.superseded_by or "").strip():
        reasons.append(f"已被取代：{superseded_words(doc.superseded_by)}")
    if doc.caveat:
        reasons.append(f"提示：{doc.caveat}")
    return reasons


@dataclass
class PolicyCalendar:
    today: date
    within_days: int
    items: list[CalendarItem]
    documents: list[DocumentFlag]

    def with_state(self, state: str) -> list[CalendarItem]:
        return [i for i in self.items if i.state == state]

    def counts(self) -> dict[str, int]:
        out = {state: len(self.with_state(state)) for state in STATE_LABEL}
        out["items_in_doubt"] = sum(bool(i.doubt) for i in self.items)
        out["documents_flagged"] = len(self.documents)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Items then flagged documents as one flat table (for the UI and the CSV)."""
        rows = [{"类别": "政策条目", "编号": i.policy_id, "标题": i.title, "层级": LEVEL_LABEL.get(i.level, i.level),
                 "部门": i.department, "生效日期": _iso(i.valid_from) or "", "到期日期": _iso(i.valid_until) or "长期",
                 "状态": STATE_LABEL[i.state], "剩余天数": "" if i.days_left is None else i.days_left,
                 "提示": "；".join([*(DOUBT_LABEL.get(d, d) for d in i.doubt), *([i.caveat] if i.caveat else [])])}
                for i in self.items]
        rows += [{"类别": "依据文档", "编号": d.doc_id, "标题": d.title, "层级": "", "部门": "",
                  "生效日期": "", "到期日期": d.valid_until, "状态": "需核实", "剩余天数": "",
                  "提示": "；".join(d.reasons) + self._cited_by(d)}
                 for d in self.documents]
        return rows

    def _cited_by(self, doc: DocumentFlag) -> str:
        """The policies resting on a flagged document, by their titles (ids are for the CSV's 编号 column)."""
        titles = {i.policy_id: i.title for i in self.items}
        named = [titles[pid] for pid in doc.cited_by if pid in titles]
        return f"（依据此文件的政策：{'、'.join(named)}）" if named else ""

    def to_csv(self) -> bytes:
        """UTF-8 with BOM so Excel shows the Chinese."""
        rows = self.rows()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["类别"])
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")

    def to_json(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "within_days": self.within_days, "counts": self.counts(),
                "items": [i.to_json() for i in self.items], "documents": [d.to_json() for d in self.documents]}


_ORDER = {EXPIRING: 0, NOT_YET: 1, IN_FORCE: 2, EXPIRED: 3}


def _sort_key(item: CalendarItem) -> tuple[int, float, str]:
    """Expiring soonest first, then starting soonest, then in force, then the most recently lapsed."""
    if item.state == EXPIRING:
        days = float(item.days_left or 0)
    elif item.state == NOT_YET:
        days = float(item.days_to_start or 0)
    elif item.state == EXPIRED:
        days = -float(item.days_left or 0)
    else:
        days = float(item.days_left) if item.days_left is not None else float("inf")
    return _ORDER[item.state], days, item.policy_id


def _cited_by(catalog: Catalog) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for policy in catalog.policies:
        docs = {c.doc_id for c in policy.citations}
        docs |= {n.cite.doc for n in policy.conditions.walk() if n.cite is not None}
        for doc_id in sorted(docs):
            out.setdefault(doc_id, []).append(policy.id)
    return out


def policy_calendar(today: date | None = None, within_days: int = 90, catalog: Catalog | None = None,
                    docs: Mapping[str, Any] | None = None) -> PolicyCalendar:
    """The calendar on `today`; `docs` defaults to the corpus the catalog was verified against."""
    if within_days < 0:
        raise UserError(f"天数不能为负：{within_days}", f"within_days must not be negative: {within_days}")
    today = today or get_settings().today
    catalog = catalog or load_catalog()
    docs = docs if docs is not None else catalog.docs
    items = []
    for policy in catalog.policies:
        start, end = policy.valid_from, policy.valid_until
        state = validity_state(start, end, today, within_days)
        items.append(CalendarItem(
            policy.id, policy.title, policy.item.level, policy.item.department, start, end, state,
            (end - today).days if end else None, (start - today).days if state == NOT_YET and start else None,
            policy.item.caveat, tuple(policy.item.doubt)))
    cited = _cited_by(catalog)
    flags = [DocumentFlag(doc.doc_id, doc.title, doc.kind, doc.valid_until, tuple(reasons),
                          tuple(cited.get(doc.doc_id, ())))
             for doc in docs.values() if (reasons := document_reasons(doc, today, within_days))]
    flags.sort(key=lambda d: (not d.cited_by, d.doc_id))
    return PolicyCalendar(today, within_days, sorted(items, key=_sort_key), flags)
