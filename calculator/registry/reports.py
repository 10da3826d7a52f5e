"""The officials' tables from a judged register: per-item summary, data gaps, outreach lists.

All counting is done by the engine (one aggregate over the wide table, one over the need_info verdicts);
Python only words the results. Money follows `policy/money.py`: a total counts savings and grants of
eligible verdicts, an item and its alternative (小型微利 or 高企15%) once per enterprise (the larger),
and never a ceiling (limit) or a deferral.
"""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from calculator.core.vocabulary import ELIGIBLE, NEED_INFO, NOT_ELIGIBLE
from calculator.policy.money import COUNTED_KINDS, KIND_LABEL
from calculator.registry import sql, xlsx
from calculator.registry.compiler import SEPARATOR, STATUS_CODE, CompiledCatalog, CompiledPolicy
from calculator.registry.engine import Engine
from calculator.registry.numbers import round_half_even

FREE = "免申即享"
PUSH = "精准推送"
PARAMETER_HOLDER = "（该日政策参数无数值）"


@dataclass
class PolicyCount:
    policy_id: str
    title: str
    mode: str
    kind: str
    unit: str
    current: bool
    eligible: int = 0
    need_info: int = 0
    not_eligible: int = 0
    estimated: int = 0           # eligible verdicts with an amount
    amount_low: float = 0.0      # sum over eligible verdicts
    amount_high: float = 0.0
    open_low: float = 0.0        # sum over need_info verdicts with an amount (what is at stake)
    open_high: float = 0.0


@dataclass
class Totals:
    """What enterprises can expect in all (savings and grants; alternatives once; ceilings never)."""

    low: float = 0.0
    high: float = 0.0
    enterprises: int = 0         # with at least one counted amount
    unreached: int = 0           # no current item eligible or possibly eligible
    no_eligible: int = 0         # no current item certainly eligible


@dataclass
class Gap:
    fact: str
    label: str
    holders: str
    waiting: int = 0             # need_info verdicts that list the fact
    settled: int = 0             # need_info verdicts that wait on this fact alone
    settled_low: float = 0.0
    settled_high: float = 0.0
    settled_unpriced: int = 0
    policies: Counter[str] = field(default_factory=Counter)


def _status(c: CompiledPolicy) -> exp.Expr:
    return sql.column(c.column("status"))


def _when(condition: sql.Tri, value: exp.Expr | float, otherwise: exp.Expr | float | None = None) -> exp.Expr:
    return sql.as_sql(sql.case([(condition, value)], otherwise))


def _total(value: exp.Expr) -> exp.Expr:
    """SUM over money as DECIMAL: a sum of doubles depends on the order the engine adds them in."""
    return exp.Sum(this=exp.cast(value, "DECIMAL(38, 6)"))


def low_of(c: CompiledPolicy) -> exp.Expr:
    """The low end of an amount (the amount itself when the formula gives a number)."""
    return exp.Coalesce(this=sql.column(c.column("low")), expressions=[sql.column(c.column("amount"))])


def high_of(c: CompiledPolicy) -> exp.Expr:
    return exp.Coalesce(this=sql.column(c.column("high")), expressions=[sql.column(c.column("amount"))])


def _is(c: CompiledPolicy, status: str) -> sql.Tri:
    return sql.compare(_status(c), "==", exp.Literal.number(STATUS_CODE[status]))


def counts(engine: Engine, compiled: CompiledCatalog, wide: str) -> tuple[list[PolicyCount], Totals]:
    """Per item: verdict counts and money; and the totals per enterprise. One scan of the wide table."""
    aggregates: list[exp.Expr] = []
    for c in compiled.policies:
        low, high = low_of(c), high_of(c)
        aggregates += [exp.Sum(this=_when(_is(c, s), 1.0, 0.0)) for s in (ELIGIBLE, NEED_INFO, NOT_ELIGIBLE)]
        aggregates += [exp.Sum(this=_when(sql.and_(_is(c, ELIGIBLE), sql.is_not_null(low)), 1.0, 0.0)),
                       _total(_when(_is(c, ELIGIBLE), low)), _total(_when(_is(c, ELIGIBLE), high)),
                       _total(_when(_is(c, NEED_INFO), low)), _total(_when(_is(c, NEED_INFO), high))]
    row_low, row_high = _counted(compiled)
    current = [c for c in compiled.policies if c.current]
    any_eligible = sql.or_(*(_is(c, ELIGIBLE) for c in current)) if current else False
    any_open = sql.or_(*(_is(c, NEED_INFO) for c in current)) if current else False
    aggregates += [_total(row_low), _total(row_high),
                   exp.Sum(this=_when(sql.compare(row_high, ">", 0.0), 1.0, 0.0)),
                   exp.Sum(this=_when(sql.not_(sql.or_(any_eligible, any_open)), 1.0, 0.0)),
                   exp.Sum(this=_when(sql.not_(any_eligible), 1.0, 0.0))]
    row = engine.fetch(exp.select(*aggregates).from_(exp.to_table(wide, quoted=True)))[0]
    out: list[PolicyCount] = []
    for i, c in enumerate(compiled.policies):
        values = [v or 0 for v in row[i * 8:(i + 1) * 8]]
        item = c.policy.item
        spec = item.amount
        out.append(PolicyCount(item.id, item.title, item.mode, spec.kind if spec else "", spec.unit if spec else "",
                               c.current, int(values[0]), int(values[1]), int(values[2]), int(values[3]),
                               float(values[4]), float(values[5]), float(values[6]), float(values[7])))
    rest = [v or 0 for v in row[len(compiled.policies) * 8:]]
    totals = Totals(float(rest[0]), float(rest[1]), int(rest[2]), int(rest[3]), int(rest[4]))
    return out, totals


def _counted(compiled: CompiledCatalog) -> tuple[exp.Expr, exp.Expr]:
    """Per row: the sum of counted amounts (low, high), each group of alternatives counted once (the larger)."""
    counted = [c for c in compiled.policies if c.current and c.policy.item.amount is not None
               and c.policy.item.amount.kind in COUNTED_KINDS]
    index = {c.policy.id: i for i, c in enumerate(counted)}
    parent = list(range(len(counted)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for c in counted:
        for other in c.policy.item.alternatives:
            if other in index:
                parent[find(index[c.policy.id])] = find(index[other])
    groups: dict[int, list[CompiledPolicy]] = defaultdict(list)
    for i, c in enumerate(counted):
        groups[find(i)].append(c)
    low_terms: list[exp.Expr] = [sql.number(0.0)]
    high_terms: list[exp.Expr] = [sql.number(0.0)]
    for members in groups.values():
        branches_low, branches_high = [], []
        for i, c in enumerate(members):
            mine_high = high_of(c)
            mine = sql.and_(_is(c, ELIGIBLE), sql.is_not_null(mine_high))
            beaten = [sql.and_(_is(o, ELIGIBLE), sql.is_not_null(high_of(o)),
                               sql.or_(sql.compare(high_of(o), ">", mine_high),
                                       sql.and_(sql.compare(high_of(o), "==", mine_high), j < i)))
                      for j, o in enumerate(members) if o is not c]
            chosen = sql.and_(mine, *(sql.not_(b) for b in beaten))
            branches_low.append((chosen, low_of(c)))
            branches_high.append((chosen, mine_high))
        low_terms.append(sql.as_sql(sql.case(branches_low, 0.0)))
        high_terms.append(sql.as_sql(sql.case(branches_high, 0.0)))
    low: exp.Expr = low_terms[0]
    high: exp.Expr = high_terms[0]
    for term in low_terms[1:]:
        low = exp.Add(this=low, expression=term)
    for term in high_terms[1:]:
        high = exp.Add(this=high, expression=term)
    return low, high


def summary_csv(rows: list[PolicyCount], totals: Totals, today: str) -> bytes:
    """Per item, 免申即享 first (then by eligible count); a last row with the totals per enterprise."""
    ordered = sorted(rows, key=lambda r: (r.mode != FREE, not r.current, -r.eligible))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["政策编号", "政策名称", "办理方式", "判定日期", "是否有效", "符合", "需补充信息", "不符合",
                     "可估算金额的符合户数", "估算金额合计下限", "估算金额合计上限", "金额单位", "金额类型",
                     "需补充信息者的可估算金额下限", "上限"])
    for r in ordered:
        writer.writerow([r.policy_id, r.title, r.mode, today, "有效" if r.current else "不在有效期内", r.eligible, r.need_info,
                         r.not_eligible, r.estimated, _money(r.amount_low), _money(r.amount_high), r.unit,
                         KIND_LABEL.get(r.kind, ""), _money(r.open_low), _money(r.open_high)])
    writer.writerow(["合计", "按企业计：少缴税费与可获得资金；二选一的只计较高一项；额度上限、递延纳税不计", "", today, "",
                     "", "", "", totals.enterprises, _money(totals.low), _money(totals.high), "万元", "", "", ""])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _money(value: float) -> str:
    return f"{value:.2f}"


# ---------------------------------------------------------------- data gaps

def gaps(engine: Engine, compiled: CompiledCatalog, wide: str) -> list[Gap]:
    """For the need_info verdicts: which fact, held by which department, would settle how many and how much.
    Counted per item and mask (the few distinct sets of missing facts), then read in Python."""
    schema = compiled.catalog.schema
    found: dict[str, Gap] = {}
    for c in compiled.policies:
        if not c.terms:
            continue
        mask = sql.column(c.column("missing"))
        low, high = low_of(c), high_of(c)
        query = exp.select(mask, exp.Count(this=exp.Star()), _total(low), _total(high),
                           exp.Sum(this=_when(sql.is_null(low), 1.0, 0.0))).from_(exp.to_table(wide, quoted=True)).where(
            sql.as_sql(_is(c, NEED_INFO))).group_by(mask)
        for value, count, low_sum, high_sum, unpriced in engine.fetch(query):
            names = [n for n in c.decode(int(value)).split(SEPARATOR) if n]
            for name in names:
                gap = found.get(name)
                if gap is None:
                    holders = PARAMETER_HOLDER if "." in name else "、".join(schema.holders(name))
                    label = (compiled.catalog.parameters[name].description if name in compiled.catalog.parameters
                             else schema.label(name))
                    gap = found[name] = Gap(name, label, holders)
                gap.waiting += int(count)
                gap.policies[c.policy.id] += int(count)
                if len(names) == 1:
                    gap.settled += int(count)
                    gap.settled_low += float(low_sum or 0)
                    gap.settled_high += float(high_sum or 0)
                    gap.settled_unpriced += int(unpriced or 0)
    return sorted(found.values(), key=lambda g: (-g.settled, -g.waiting, g.fact))


def gaps_csv(rows: list[Gap], titles: dict[str, str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["事实", "字段", "数据持有部门", "等待该事实的判定数", "仅差该事实的判定数",
                     "补齐后可确定的估算金额下限（万元）", "上限（万元）", "其中金额暂不能估算的判定数", "涉及最多的政策"])
    for g in rows:
        top = "、".join(f"{titles.get(p, p)}（{n:,}）" for p, n in g.policies.most_common(3))
        writer.writerow([g.label, g.fact, g.holders, g.waiting, g.settled, _money(g.settled_low), _money(g.settled_high),
                         g.settled_unpriced, top])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- outreach lists

OUTREACH_HEADER = ["企业名称", "统一社会信用代码", "所在区县", "优惠内容", "估算金额（万元）", "需要做什么"]


def outreach_kind(c: CompiledPolicy) -> str:
    return FREE if c.policy.item.mode == FREE else PUSH


def what_to_do(c: CompiledPolicy) -> str:
    apply = c.policy.item.apply
    parts = ["无需申请，符合条件自动享受：" + apply.how] if c.policy.item.mode == FREE else ["请按以下方式申请：" + apply.how]
    if apply.materials and c.policy.item.mode != FREE:
        parts.append("材料：" + "、".join(apply.materials))
    if apply.deadline:
        parts.append("时限：" + apply.deadline)
    if apply.where:
        parts.append("地点：" + apply.where)
    return "；".join(parts)


def outreach(engine: Engine, compiled: CompiledCatalog, wide: str, folder: Path) -> dict[str, int]:
    """outreach/<policy_id>.xlsx for every current item with eligible enterprises; returns rows per item."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for c in compiled.policies:
        if not c.current:
            continue
        amount, low, high = sql.column(c.column("amount")), sql.column(c.column("low")), sql.column(c.column("high"))
        rounded = {name: round_half_even(column, 2) for name, column in (("amount", amount), ("low", low), ("high", high))}
        range_text = exp.DPipe(this=exp.DPipe(this=exp.cast(rounded["low"], "VARCHAR"), expression=sql.text("～")),
                               expression=exp.cast(rounded["high"], "VARCHAR"))
        shown = sql.case([(sql.is_not_null(amount), xlsx.number_cell(rounded["amount"])),
                          (sql.is_not_null(low), xlsx.text_cell(range_text))], None)
        row = xlsx.row_expression([(sql.column("name"), "text"), (sql.column("credit_code"), "text"),
                                   (sql.column("county"), "text"), (sql.text(c.policy.item.benefit), "text"),
                                   (sql.as_sql(shown), "cell"), (sql.text(what_to_do(c)), "text")])
        query = exp.select(row.as_("xml")).from_(exp.to_table(wide, quoted=True)).where(
            sql.as_sql(_is(c, ELIGIBLE))).order_by(exp.Ordered(this=high_of(c), desc=True, nulls_first=False),
                                                   sql.column("credit_code"))
        rows = engine.fetch(query)
        if not rows:
            continue
        item = c.policy.item
        about = [xlsx.row(["政策", item.title]), xlsx.row(["类别", outreach_kind(c)]), xlsx.row(["判定日期", compiled.today.isoformat()]),
                 xlsx.row(["优惠内容", item.benefit]), xlsx.row(["需要做什么", what_to_do(c)]),
                 xlsx.row(["主管部门", item.department]), xlsx.row(["符合条件的企业", len(rows)]),
                 xlsx.row(["说明", "名单由政策计算器按登记数据逐条判定，估算金额仅供参考，以主管部门认定为准。"])]
        xlsx.write(folder / f"{item.id}.xlsx", [
            xlsx.Sheet("名单", OUTREACH_HEADER, (r[0] for r in rows), (36, 22, 18, 40, 16, 60)),
            xlsx.Sheet("说明", ["项目", "内容"], about, (16, 80))])
        written[item.id] = len(rows)
    return written


def render_counts(rows: list[PolicyCount]) -> list[dict[str, Any]]:
    return [r.__dict__ for r in rows]
