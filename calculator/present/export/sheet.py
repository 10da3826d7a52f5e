"""The result sheet as data: one reading of the match JSON that every export format lays out.

PDF, DOCX, XLSX and CSV all render the same `Sheet`, so a key renamed in the engine's JSON is handled
here once and the formats never disagree about what an applicant was told. Only the JSON dict is read
(not the engine's classes): a saved `match --json` output exports the same way as a fresh match.

Text is cleaned here too: control characters (which DOCX and XLSX reject) are dropped, and profile
values are clipped, because a profile row is a one-glance table cell, not a place for pages of text.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.core.vocabulary import SHEET_STATUS_LABEL, SUMMARY_NOTE
from calculator.facts.schema import FactSchema, default_schema, format_number
from calculator.present.working import working_lines

HEADING = "许昌惠企政策计算器 · 政策匹配结果单"
DISCLAIMER = "本结果依据政策规则自动计算，仅供参考，最终以主管部门审核为准"
SET_LABEL = {"certifications": "已获资质认定"}
CHECKBOX = "☐"
MODE_HINT = {  # what each 兑现方式 asks of the applicant, in the words a clerk would use
    "免申即享": "无需申请，符合条件即自动享受",
    "即申即享": "提交申请后即时兑现",
    "需申报": "需按要求申报，经审核后享受",
}
ESTIMATE = "估算"
CAVEAT_LABEL = "注意事项"
MISSING_LABEL = "还需提供"
ASSUMED_LABEL = "推定前提"  # conditions presumed met because the text presumes them: to be confirmed
WORKING_LABEL = "金额计算"
TOTAL_LABEL = "计入合计"
PROFILE_CLIP = 200  # the profile model caps 企业名称 at 100 characters; anything longer is not a name
NOT_GIVEN = "未填写"     # the applicant gave no name or code
NOT_STATED = "未载明"    # a saved report from before catalogs were fingerprinted
# The block every format prints first (PDF and DOCX under the title, XLSX above the table, CSV on every
# row): whose sheet it is, on which day's law, from which catalog, and when it was made.
HEADER_LABELS = ("企业名称", "统一社会信用代码", "政策依据日期", "政策库版本", "导出时间", "编号")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


def clean(value: Any, clip: int | None = None) -> str:
    """Printable text: None → "", control characters removed, optionally clipped with "…"."""
    if value is None:
        return ""
    text = _CONTROL.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n")).strip()
    if clip is not None and len(text) > clip:
        return text[: clip - 1] + "…"
    return text


@dataclass(frozen=True)
class Cite:
    """One clause citation as printed: 《title》文号 locator “quote”, plus the summary note."""

    title: str
    number: str
    locator: str
    quote: str
    note: str

    @property
    def source(self) -> str:
        """《title》文号 locator; a locator that already starts with the 文号 does not repeat it."""
        locator = self.locator
        if self.number and locator.startswith(self.number):
            locator = locator[len(self.number):].strip()
        parts = [f"《{self.title}》" if self.title else "", self.number, locator]
        return " ".join(p for p in parts if p)

    @property
    def text(self) -> str:
        quote = f"“{self.quote}”" if self.quote else ""
        note = f"（{self.note}）" if self.note else ""
        return f"{self.source} {quote}{note}".strip()


@dataclass(frozen=True)
class Fact:
    """A profile or derived fact: label, value with unit, and how it was worked out (derived only)."""

    label: str
    value: str
    working: str = ""
    cite: Cite | None = None


@dataclass(frozen=True)
class Item:
    """One policy with everything the sheet may print about it; empty strings mean "not given"."""

    title: str
    status: str
    benefit: str
    amount: str
    amount_note: str
    mode: str
    how: str
    materials: tuple[str, ...]
    department: str
    deadline: str
    validity: str
    caveat: str
    missing: tuple[str, ...]
    failed: tuple[str, ...]
    near_miss: str
    assumptions: tuple[str, ...]
    citations: tuple[Cite, ...]
    working: tuple[str, ...] = ()   # how the amount came about (formula in words, parameters with dates, facts)
    in_total: str = ""              # eligible items: "计入" or "未计入：why" (the one honest total)

    @property
    def status_label(self) -> str:
        return SHEET_STATUS_LABEL.get(self.status, self.status)

    @property
    def mode_line(self) -> str:
        hint = MODE_HINT.get(self.mode, "")
        return f"{self.mode}（{hint}）" if hint else self.mode

    @property
    def amount_line(self) -> str:
        """The amount marked as an estimate, with the engine's note on how it was estimated."""
        if not self.amount:
            return ""
        notes = [ESTIMATE] if ESTIMATE not in self.amount else []
        if self.amount_note and self.amount_note not in self.amount:
            notes.append(self.amount_note)
        return f"{self.amount}（{'；'.join(notes)}）" if notes else self.amount

    @property
    def reason(self) -> str:
        """Why a not_eligible item fails, in one line: the failing conditions, then the near-miss hint."""
        parts = []
        if self.failed:
            parts.append("未满足：" + "；".join(self.failed))
        if self.near_miss:
            parts.append("提示：" + self.near_miss)
        return "。".join(parts)


@dataclass(frozen=True)
class Totals:
    """The one total printed under the overview: what it counts and what it leaves out, with why."""

    line: str                       # 预计每年可少缴/可获得约 X 万元（计入 N 项）
    counted: tuple[str, ...]        # titles
    left_out: tuple[str, ...]       # "title：why"

    @property
    def lines(self) -> tuple[str, ...]:
        out = [self.line]
        if self.counted:
            out.append("计入：" + "、".join(self.counted) + "（均为估算，以主管部门核定为准）")
        if self.left_out:
            out.append("未计入：" + "；".join(self.left_out))
        return tuple(out)


@dataclass(frozen=True)
class Sheet:
    """Everything printed for one applicant, grouped the way the clerk explains it."""

    today: str
    reference: str
    profile: tuple[Fact, ...]
    derived: tuple[Fact, ...]
    eligible: tuple[Item, ...]
    need_info: tuple[Item, ...]
    not_eligible: tuple[Item, ...]
    totals: Totals | None = None
    company: str = ""
    credit_code: str = ""
    fingerprint: str = ""           # the catalog's content fingerprint (which rules and law were applied)
    created: str = ""               # when the sheet was exported, YYYY-MM-DD HH:MM
    heading: str = HEADING
    disclaimer: str = DISCLAIMER

    @property
    def header(self) -> tuple[tuple[str, str], ...]:
        """The header block as (label, value) pairs, in HEADER_LABELS order; missing values say so."""
        values = (self.company or NOT_GIVEN, self.credit_code or NOT_GIVEN, self.today, self.fingerprint,
                  self.created, self.reference)
        return tuple((label, value or NOT_STATED) for label, value in zip(HEADER_LABELS, values, strict=True))

    @property
    def items(self) -> tuple[Item, ...]:
        return self.eligible + self.need_info + self.not_eligible

    @property
    def overview(self) -> str:
        """One line the clerk can read out first: how many policies fall in each group."""
        return (f"可享受 {len(self.eligible)} 项　｜　还需补充信息 {len(self.need_info)} 项"
                f"　｜　暂不符合 {len(self.not_eligible)} 项")


# ---------------------------------------------------------------- reading the match JSON

def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> tuple[str, ...]:
    """A list of texts (or one text) as non-empty cleaned strings."""
    if value is None:
        return ()
    if isinstance(value, (str, int, float)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(t for t in (clean(v) for v in value) if t)


def cite_from(raw: Any) -> Cite | None:
    """A citation dict of the match JSON; summaries always carry the note, whatever the dict says."""
    c = _mapping(raw)
    if not c:
        return None
    note = clean(c.get("note"))
    if c.get("summary") and not note:
        note = SUMMARY_NOTE
    return Cite(clean(c.get("doc_title")) or clean(c.get("doc_id")), clean(c.get("doc_number")),
                clean(c.get("locator")), clean(c.get("quote")), note)


def _amount(result: Mapping[str, Any]) -> tuple[str, str]:
    """(amount in words, how it was estimated): the engine's amount_text wins over formatting `amount`."""
    value, unit, note = result.get("amount"), clean(result.get("amount_unit")), clean(result.get("amount_note"))
    text = clean(result.get("amount_text"))
    if text:
        return text, note
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"约{format_number(value)}{unit or '万元'}", note
    return "", note


def _estimated(result: Mapping[str, Any]) -> bool:
    """An amount was estimated (a figure or a range): only then is its working printed."""
    value = result.get("amount")
    return bool(result.get("amount_working")) and (
        (isinstance(value, (int, float)) and not isinstance(value, bool)) or bool(result.get("amount_range")))


def _validity(result: Mapping[str, Any]) -> str:
    window = _mapping(result.get("validity"))
    start = clean(window.get("from"))
    until = clean(result.get("valid_until")) or clean(window.get("until"))
    if start and until:
        return f"{start} 至 {until}"
    if until:
        return f"至 {until}"
    return f"{start} 起" if start else ""


def _missing(result: Mapping[str, Any], schema: FactSchema) -> tuple[str, ...]:
    labels = _strings(result.get("missing_labels"))
    if labels:
        return labels
    return tuple(schema.labels(_strings(result.get("missing"))))


def _failed(result: Mapping[str, Any]) -> tuple[str, ...]:
    """The not_met conditions as "text（detail）" lines."""
    out = []
    for cond in result.get("conditions") or ():
        cond = _mapping(cond)
        if cond.get("outcome") == "not_met":
            text, detail = clean(cond.get("text")), clean(cond.get("detail"))
            out.append(f"{text}（{detail}）" if detail and detail != text else text)
    return tuple(o for o in out if o)


def totals_from(report: Mapping[str, Any]) -> tuple[Totals | None, dict[str, str]]:
    """The report's `totals` with item titles, and for each eligible item whether it is in the total."""
    raw = _mapping(report.get("totals"))
    if not raw:
        return None, {}
    titles = {clean(_mapping(r).get("policy_id")): clean(_mapping(r).get("title")) for r in report.get("results") or ()}
    counted = _strings(raw.get("counted"))
    left = [(_mapping(n).get("policy_id"), clean(_mapping(n).get("why"))) for n in raw.get("not_counted") or ()]
    marks = {pid: "计入" for pid in counted}
    marks.update({clean(pid): f"未计入：{why}" for pid, why in left})
    totals = Totals(clean(raw.get("text")) or "暂无可估算金额的优惠", tuple(titles.get(p, p) for p in counted),
                    tuple(f"{titles.get(clean(pid), clean(pid))}：{why}" for pid, why in left))
    return totals, marks


def item_from(raw: Any, schema: FactSchema, in_total: str = "") -> Item:
    """One entry of `results`; the office named in apply.where, when given, is more useful than the department."""
    r = _mapping(raw)
    apply = _mapping(r.get("apply"))
    amount, amount_note = _amount(r)
    return Item(
        title=clean(r.get("title")) or clean(r.get("policy_id")) or "（未命名政策）",
        status=clean(r.get("status")),
        benefit=clean(r.get("benefit")),
        amount=amount,
        amount_note=amount_note,
        mode=clean(r.get("mode")),
        how=clean(apply.get("how")),
        materials=_strings(apply.get("materials")),
        department=clean(apply.get("where")) or clean(r.get("department")),
        deadline=clean(apply.get("deadline")),
        validity=_validity(r),
        caveat=clean(r.get("caveat")),
        missing=_missing(r, schema),
        failed=_failed(r),
        near_miss=clean(r.get("near_miss")),
        assumptions=_strings(r.get("assumptions")),
        citations=tuple(c for c in (cite_from(x) for x in r.get("citations") or ()) if c),
        working=_strings(working_lines(_mapping(r.get("amount_working")))) if _estimated(r) else (),
        in_total=in_total,
    )


def _profile_facts(profile: Mapping[str, Any], schema: FactSchema) -> tuple[Fact, ...]:
    """Known profile facts in the form's order with units; a set of bools (资质) becomes one line."""
    fields, sets = schema.fields, schema.sets
    members = {m: name for name, ms in sets.items() for m in ms}
    facts: list[Fact] = []
    shown_sets: set[str] = set()
    for key in list(fields) + [k for k in profile if k not in fields]:
        if key in members:
            name = members[key]
            if name not in shown_sets and any(profile.get(m) is not None for m in sets[name]):
                shown_sets.add(name)
                facts.append(_set_fact(name, profile, schema))
            continue
        value = profile.get(key)
        if value is None or value == "":
            continue
        label = fields[key].label if key in fields else clean(key, 40)
        facts.append(Fact(label, clean(schema.format_value(key, value), PROFILE_CLIP)))
    return tuple(facts)


def _set_fact(name: str, profile: Mapping[str, Any], schema: FactSchema) -> Fact:
    members = schema.sets[name]
    held = [schema.label(m) for m in members if profile.get(m) is True]
    unknown = [m for m in members if profile.get(m) is None]
    value = "、".join(held) if held else "无"
    if unknown:
        value += "（其余未填）"
    return Fact(SET_LABEL.get(name, name), value)


def _derived_facts(derived: Any, schema: FactSchema) -> tuple[Fact, ...]:
    """Derived facts (企业规模, and named definitions such as 小型微利企业) with their working and clause."""
    facts = []
    for key, raw in _mapping(derived).items():
        d = _mapping(raw)
        label = clean(d.get("label")) or clean(schema.label(key))
        value = clean(d.get("display")) or schema.format_value(key, d.get("value"))
        cite = cite_from(d.get("citation"))
        facts.append(Fact(label, clean(value, PROFILE_CLIP), _working(d), cite))
    return tuple(facts)


def _working(derived: Mapping[str, Any]) -> str:
    """How a derived fact was reached: a named definition (小型微利企业) lists its conditions' details."""
    details = _strings([_mapping(c).get("detail") for c in derived.get("conditions") or ()])
    return "；".join(details) if details else clean(derived.get("explanation"))


def reference_number(report: Mapping[str, Any], today: str) -> str:
    """A reference printed on every format: same report → same number, so a PDF and its XLSX match up.

    It is a short content hash, not a registry key: it identifies the sheet, not the enterprise.
    """
    digest = hashlib.sha256(json.dumps(report, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    return f"XC{today.replace('-', '')}-{digest[:6].upper()}"


def build_sheet(report: Any, schema: FactSchema | None = None, now: datetime | None = None) -> Sheet:
    """Read a match report (the `match --json` dict) into the sheet every format prints; `schema` gives
    the labels of the facts (default: the configured knowledge folder's), `now` the export time."""
    schema = schema or default_schema()
    if not isinstance(report, Mapping) or not isinstance(report.get("results", []), list):
        raise UserError("导出失败：匹配结果格式不正确（应为含 results 列表的 JSON 对象）",
                        "export failed: the report must be a JSON object with a results list")
    totals, marks = totals_from(report)
    items = [item_from(r, schema, marks.get(clean(_mapping(r).get("policy_id")), "")) for r in report.get("results") or ()]
    today = clean(report.get("today"), 10) or get_settings().today.isoformat()
    profile = _mapping(report.get("profile"))
    return Sheet(
        today=today,
        reference=reference_number(report, today),
        profile=_profile_facts(profile, schema),
        derived=_derived_facts(report.get("derived"), schema),
        eligible=tuple(i for i in items if i.status == "eligible"),
        need_info=tuple(i for i in items if i.status == "need_info"),
        not_eligible=tuple(i for i in items if i.status not in {"eligible", "need_info"}),
        totals=totals,
        company=clean(profile.get("name"), PROFILE_CLIP),
        credit_code=clean(profile.get("credit_code"), 40),
        fingerprint=clean(report.get("catalog_fingerprint"), 64),
        created=f"{(now or datetime.now()):%Y-%m-%d %H:%M}",
    )



def item_rows(item: Item) -> list[tuple[str, str | tuple[str, ...]]]:
    """The label/value rows printed under an item, in reading order; a tuple value is one line each.

    Shared by PDF and DOCX so both sheets list the same facts; materials come as a ☐ checklist the
    applicant ticks off; empty values are left out.
    """
    if item.status == "need_info":
        rows: list[tuple[str, str | tuple[str, ...]]] = [
            (MISSING_LABEL, "、".join(item.missing) or "（见政策条件）"),
            ("优惠内容", item.benefit),
            ("预计金额", item.amount_line),
            (WORKING_LABEL, item.working),
            (ASSUMED_LABEL, item.assumptions),
            ("享受方式", item.mode_line),
            ("受理部门", item.department),
            ("政策有效期", item.validity),
            (CAVEAT_LABEL, item.caveat),
        ]
    else:
        rows = [
            ("优惠内容", item.benefit),
            ("预计金额", item.amount_line),
            (WORKING_LABEL, item.working),
            (TOTAL_LABEL, item.in_total),
            (ASSUMED_LABEL, item.assumptions),
            ("享受方式", item.mode_line),
            ("办理方式", item.how),
            ("准备材料", tuple(f"{CHECKBOX} {m}" for m in item.materials)),
            ("受理部门", item.department),
            ("办理期限", item.deadline),
            ("政策有效期", item.validity),
            (CAVEAT_LABEL, item.caveat),
        ]
    return [(label, value) for label, value in rows if value]
