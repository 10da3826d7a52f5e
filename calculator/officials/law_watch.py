"""Law watch for officials: what in the law the catalog rests on changes, ends or is unverified soon.

From a day (`as_of`) over the coming `within_days`, it lists
- parameters that take a new value (a threshold, rate or cap changes), or from some day have no verified
  value (the 2027-12-31 ends of 2023年第12号 and 2026年第10号: verdicts needing them become unknown);
- parameters whose value in force rests on a summary or a report (`verified: false`) or has no value now;
- items that start or expire, and items whose every cited text is a summary or a report;
- parameters to review: the newest value is older than the newest document that mentions the parameter.

"Mentions" is a simple, documented heuristic, not an understanding of the text: a document mentions a
parameter when one of the parameter's values cites it, or when its text holds the verbatim quote of the
newest known value or the 文号 of a document that value cites (a later notice quoting or naming the
notice a value rests on may restate, extend or stop it). A document's date is its `valid_from`, else
its `issued`. A flag asks a person to look; it decides nothing.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.core.textnorm import squash
from calculator.facts.schema import format_number
from calculator.policy.catalog import Catalog, Policy, load_catalog
from calculator.policy.rules.tree import Leaf

if TYPE_CHECKING:
    from calculator.corpus.documents import Document
    from calculator.policy.parameters import Parameter, Value

PARAMETER, ITEM = "parameter", "item"
CHANGES, NO_VALUE, UNVERIFIED, REVIEW, STARTS, EXPIRES, REPORT_ONLY = (
    "changes", "no_value", "unverified", "review", "starts", "expires", "report_only")
EVENT_LABEL = {CHANGES: "数值变化", NO_VALUE: "无已核实数值", UNVERIFIED: "数值未核实", REVIEW: "待复核",
               STARTS: "开始施行", EXPIRES: "到期", REPORT_ONLY: "依据仅为摘要或报道"}
KIND_LABEL = {PARAMETER: "参数", ITEM: "政策条目"}
REPORT_KINDS = ("summary", "news", "report")
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class WatchEntry:
    """One thing to watch: a parameter or an item, what happens to it, when, and in words."""

    kind: str                  # parameter | item
    name: str                  # the parameter's dotted name or the item's id (for the CSV and tools)
    title: str                 # the parameter's description or the item's title
    event: str                 # see EVENT_LABEL
    day: date | None           # when it happens (None: already so on the day asked)
    detail: str                # in Chinese, for officials
    used_by: tuple[str, ...] = ()   # items reading the parameter (directly or through a law-derived fact)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat() if self.day else None, "used_by": list(self.used_by),
                "kind_label": KIND_LABEL[self.kind], "event_label": EVENT_LABEL[self.event]}


@dataclass
class LawWatch:
    as_of: date
    within_days: int
    entries: list[WatchEntry]

    @property
    def until(self) -> date:
        return self.as_of + timedelta(days=self.within_days)

    def with_event(self, event: str) -> list[WatchEntry]:
        return [e for e in self.entries if e.event == event]

    def counts(self) -> dict[str, int]:
        return {event: len(self.with_event(event)) for event in EVENT_LABEL}

    def rows(self, titles: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Flat rows with Chinese column names (the UI table and the CSV); `titles` names the items."""
        shown = titles or {}
        return [{"日期": e.day.isoformat() if e.day else "现在", "类别": KIND_LABEL[e.kind], "事项": EVENT_LABEL[e.event],
                 "名称": e.title, "说明": e.detail, "涉及政策": "、".join(shown.get(i, i) for i in e.used_by),
                 "编号": e.name} for e in self.entries]

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "until": self.until.isoformat(), "within_days": self.within_days,
                "counts": self.counts(), "entries": [e.to_json() for e in self.entries]}

    def to_csv(self, titles: Mapping[str, str] | None = None) -> bytes:
        """UTF-8 with BOM so Excel shows the Chinese."""
        rows = self.rows(titles)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["日期"])
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")


def law_watch(as_of: date | None = None, within_days: int = DEFAULT_DAYS, catalog: Catalog | None = None) -> LawWatch:
    """What changes, ends or is unverified between `as_of` and `as_of + within_days` (both included)."""
    if within_days < 0:
        raise UserError(f"天数不能为负：{within_days}", f"within_days must not be negative: {within_days}")
    as_of = as_of or get_settings().today
    catalog = catalog or load_catalog()
    until = as_of + timedelta(days=within_days)
    users = parameter_users(catalog)
    entries: list[WatchEntry] = []
    for parameter in catalog.parameters:
        entries += _parameter_entries(parameter, as_of, until, tuple(users.get(parameter.name, ())), catalog.docs)
    for policy in catalog.policies:
        entries += _item_entries(policy, as_of, until, catalog)
    entries.sort(key=lambda e: (e.day or as_of, e.kind != PARAMETER, e.event, e.name))
    return LawWatch(as_of, within_days, entries)


def parameter_users(catalog: Catalog) -> dict[str, list[str]]:
    """parameter name → ids of the items that read it: in a condition, in the amount, or through a
    law-derived fact (hightech_valid reads hightech.cert_valid_years; the marginal rate the cit.* rates)."""
    through: dict[str, set[str]] = {}
    for name, rule in catalog.derived_rules.items():
        through[name] = set(rule.formula.parameters) if rule.formula else set()
        if rule.years:
            through[name].add(rule.years)
    users: dict[str, list[str]] = {}
    for policy in catalog.policies:
        read: set[str] = set(policy.amount.parameters) if policy.amount else set()
        facts = set(policy.amount.names) if policy.amount else set()
        for node in policy.conditions.walk(into_refs=True):
            if isinstance(node, Leaf):
                facts.add(node.field)
                if node.param:
                    read.add(node.param)
        for fact in facts & set(through):
            read |= through[fact]
        for name in sorted(read):
            users.setdefault(name, []).append(policy.id)
    return users


def _shown(value: Value) -> str:
    if value.value is None:
        return "无已核实的数值"
    number = value.value * 100 if value.unit == "比例" else value.value
    unit = "%" if value.unit == "比例" else value.unit
    edge = {"inclusive": "（含本数）", "exclusive": "（不含本数）"}.get(value.boundary or "", "")
    return f"{format_number(round(number, 4))}{unit}{edge}"


def _parameter_entries(parameter: Parameter, as_of: date, until: date, used_by: tuple[str, ...],
                       docs: Mapping[str, Document]) -> list[WatchEntry]:
    out = []

    def entry(event: str, day: date | None, detail: str) -> None:
        out.append(WatchEntry(PARAMETER, parameter.name, parameter.description, event, day, detail, used_by))

    now = parameter.on(as_of)
    if now is None:
        first = parameter.values[0]
        if first.start > until:
            entry(NO_VALUE, None, f"{first.start.isoformat()}以前没有数值")
    elif now.value is None:
        entry(NO_VALUE, None, f"自{now.start.isoformat()}起无已核实的数值：{now.reason}")
    elif not now.verified:
        entry(UNVERIFIED, None, f"现行数值{_shown(now)}依据摘要或报道，原文未入库，未核实")
    previous = now
    for value in parameter.values:
        if not as_of < value.start <= until:
            continue
        if value.value is None:
            entry(NO_VALUE, value.start, f"自{value.start.isoformat()}起无已核实的数值：{value.reason}")
        else:
            before = f"由{_shown(previous)}" if previous is not None else ""
            unverified = "（未核实）" if not value.verified else ""
            entry(CHANGES, value.start, f"自{value.start.isoformat()}起{before}变为{_shown(value)}{unverified}")
        previous = value
    stale = _newer_mention(parameter, docs)
    if stale is not None:
        doc, day = stale
        newest = parameter.values[-1].start
        entry(REVIEW, None, f"最新数值自{newest.isoformat()}起，而提到它的《{doc.title}》（{day.isoformat()}）更新，"
                            "请核对数值是否已变")
    return out


def mentions(parameter: Parameter, docs: Mapping[str, Document]) -> list[Document]:
    """The documents that mention a parameter (see the module docstring for the heuristic)."""
    known = [v for v in parameter.values if v.value is not None and v.cite is not None]
    cited = {v.cite.doc for v in parameter.values if v.cite is not None}
    phrases = []
    if known:
        newest = known[-1]
        assert newest.cite is not None
        phrases.append(squash(newest.cite.quote))
        number = getattr(docs.get(newest.cite.doc), "doc_number", "")
        if number:
            phrases.append(squash(number))
    found = []
    for doc_id, doc in docs.items():
        if doc_id in cited or any(p and p in _squashed(doc) for p in phrases):
            found.append(doc)
    return found


def _squashed(doc: Document) -> str:
    cached = _SQUASHED.get(doc.doc_id)
    if cached is None or cached[0] != doc.sha256:
        cached = _SQUASHED[doc.doc_id] = (doc.sha256, squash(doc.text))
    return cached[1]


_SQUASHED: dict[str, tuple[str, str]] = {}


def _doc_day(doc: Document) -> date | None:
    return doc.date("valid_from") or doc.date("issued")


def _newer_mention(parameter: Parameter, docs: Mapping[str, Document]) -> tuple[Document, date] | None:
    """The newest document mentioning the parameter, when it is newer than the parameter's newest value."""
    newest = parameter.values[-1].start
    dated = [(doc, day) for doc in mentions(parameter, docs) if (day := _doc_day(doc)) is not None]
    later = [(doc, day) for doc, day in dated if day > newest]
    return max(later, key=lambda pair: pair[1]) if later else None


def _item_entries(policy: Policy, as_of: date, until: date, catalog: Catalog) -> list[WatchEntry]:
    out = []

    def entry(event: str, day: date | None, detail: str) -> None:
        out.append(WatchEntry(ITEM, policy.id, policy.title, event, day, detail))

    start, end = policy.valid_from, policy.valid_until
    if start is not None and as_of < start <= until:
        entry(STARTS, start, f"自{start.isoformat()}起施行")
    if end is not None and as_of <= end < until:
        entry(EXPIRES, end, f"{end.isoformat()}到期，此后不再作为现行政策提供（延续与否以新文件为准）")
    current = policy.status_on(as_of) == "current" or (start is not None and as_of < start <= until)
    if current and _report_only(policy, catalog.docs):
        entry(REPORT_ONLY, None, "所引文件均为本项目摘要或新闻、报告，原文未入库；结论以原文为准")
    return out


def _report_only(policy: Policy, docs: Mapping[str, Document]) -> bool:
    """Every document the item cites (conditions and citations) is a summary, news or a report."""
    cited: Iterable[str] = {c.doc_id for c in policy.citations} | {
        n.cite.doc for n in policy.conditions.walk(into_refs=True) if n.cite is not None}
    kinds = [getattr(docs.get(doc_id), "kind", "") for doc_id in cited]
    return bool(kinds) and all(kind in REPORT_KINDS for kind in kinds)
