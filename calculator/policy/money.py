"""Honest money: each amount with its working, and one total that never sums alternatives or ceilings.

An amount is an estimate from the item's formula, at the enterprise's own marginal rate where it is a
deduction. Its working lists the formula, every parameter used with the dates its value holds for (and
whether it is verified) and every fact used, so a printed sheet can show how the figure came about.

`totals` counts what an enterprise can actually expect this year: savings (tax paid less) and grants
(money received) of the items it qualifies for. Ceilings (a loan limit) and deferrals (tax paid later)
are shown but never counted; of items that are alternatives (小型微利 or 高企15%), only the better one
counts and the others say why; an amount that cannot be estimated yet is listed with what it needs.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from calculator.core.vocabulary import ELIGIBLE
from calculator.facts.schema import RATIO, format_number
from calculator.policy.formula import Formula, in_words
from calculator.policy.parameters import Parameters

if TYPE_CHECKING:
    from calculator.facts.profile import Derived
    from calculator.facts.schema import FactSchema
    from calculator.policy.match import PolicyResult

COUNTED_KINDS = ("saving", "grant")
KIND_LABEL = {"saving": "少缴税费", "grant": "可获得资金", "limit": "额度上限（不是实际所得）", "deferral": "递延纳税（不是少缴）"}
UNIT = "万元"


def working(formula: Formula, facts: Mapping[str, Any], schema: FactSchema, derived: Mapping[str, Derived] | None = None,
            parameters: Parameters | None = None) -> dict[str, Any]:
    """The formula (as written and in words), the parameters it used (value, dates, verified) and the facts
    it used (a derived one with how it was derived), for the printed sheet."""
    known = parameters if parameters is not None else Parameters({})
    used_parameters = []
    used_facts = {}
    for name in formula.names:
        value = facts.get(name)
        if "." in name:
            label = known[name].short if name in known else name
            if value is not None and value.value is not None:
                used_parameters.append({"name": name, "label": label, "description": value.description,
                                        "value": value.value, "shown": shown(value.value, value.unit), "unit": value.unit,
                                        "from": value.start.isoformat(), "until": value.until.isoformat() if value.until else None,
                                        "dates": value.dates(), "verified": value.verified, "reason": value.reason})
            else:
                reason = value.reason if value is not None else "该日期尚无规定的数值"
                used_parameters.append({"name": name, "label": label, "value": None, "shown": "无已核实的数值",
                                        "verified": False, "reason": reason})
        elif name in schema.all_facts:
            used_facts[name] = {"label": schema.label(name), "display": schema.format_value(name, value)}
            fact = (derived or {}).get(name)
            if fact is not None and fact.explanation:
                used_facts[name]["explanation"] = fact.explanation

    def words(name: str) -> str:
        return known[name].short if name in known else schema.label(name)
    return {"formula": formula.source, "formula_text": in_words(formula.source, words), "parameters": used_parameters,
            "facts": used_facts}


def shown(value: float, unit: str) -> str:
    """A parameter's value in words: a rate kept as a fraction reads as a percentage (0.05 → 5%)."""
    if unit == RATIO:
        return f"{format_number(round(value * 100, 4))}%"
    return f"{format_number(value)}{unit}"


def zero_reason(formula: Formula, facts: Mapping[str, Any], schema: FactSchema) -> str:
    """Why an estimate is 0, in words: a loss year (the marginal rate is 0), or the facts that are 0 or less."""
    if "cit_marginal_rate" in formula.names and facts.get("cit_marginal_rate") == 0:
        return "亏损年度（年应纳税所得额不大于0）当年不缴企业所得税，没有减税额，可结转以后年度"
    low = [f"{schema.label(n)}为{schema.format_value(n, v)}{'（亏损，当年没有应纳税额）' if v < 0 else ''}"
           for n in formula.names
           if n in schema.all_facts and isinstance(v := facts.get(n), (int, float)) and not isinstance(v, bool) and v <= 0]
    return "、".join(low) if low else "按所填数据计算为0"


def _value(result: PolicyResult) -> tuple[float, float] | None:
    """(low, high) of the estimate, or None when there is none."""
    if result.amount_value is not None:
        return result.amount_value, result.amount_value
    if result.amount_range is not None:
        return result.amount_range
    return None


def totals(results: Iterable[PolicyResult]) -> dict[str, Any]:
    """`{amount, unit, counted, not_counted: [{policy_id, why}]}` plus the range and the split by kind."""
    eligible = [r for r in results if r.status == ELIGIBLE]
    by_id = {r.policy.id: r for r in eligible}
    counted: list[str] = []
    not_counted: list[dict[str, str]] = []
    low = high = 0.0
    per_kind = {kind: 0.0 for kind in COUNTED_KINDS}
    for result in _best_first(eligible):
        item = result.policy.item
        spec = item.amount
        if spec is None:
            not_counted.append({"policy_id": item.id, "why": "本项不估算金额（见优惠内容）"})
            continue
        if spec.kind not in COUNTED_KINDS:
            not_counted.append({"policy_id": item.id, "why": KIND_LABEL[spec.kind]})
            continue
        better = next((other for other in item.alternatives if other in counted), None)
        if better is not None:
            not_counted.append({"policy_id": item.id,
                                "why": f"与“{by_id[better].policy.title}”二选一，已计入金额较高的一项"})
            continue
        estimate = _value(result)
        if estimate is None:
            needs = "、".join(result.amount_needs)
            not_counted.append({"policy_id": item.id, "why": f"金额暂不能估算（还需{needs}）" if needs else "金额暂不能估算"})
            continue
        if estimate == (0, 0):
            not_counted.append({"policy_id": item.id, "why": f"当年金额为0：{result.zero_reason}"})
            continue
        counted.append(item.id)
        low, high = low + estimate[0], high + estimate[1]
        per_kind[spec.kind] += estimate[0]
    exact = round(low, 2) == round(high, 2)
    return {"amount": round(low, 2) if exact else None, "unit": UNIT, "counted": counted, "not_counted": not_counted,
            "amount_min": round(low, 2), "amount_max": round(high, 2),
            "saving": round(per_kind["saving"], 2), "grant": round(per_kind["grant"], 2),
            "text": _text(counted, low, high, exact)}


def _best_first(results: list[PolicyResult]) -> list[PolicyResult]:
    """Larger estimates first, so of two alternatives the better one is counted and the other explains."""
    def size(result: PolicyResult) -> float:
        estimate = _value(result)
        return -(estimate[1] if estimate else -1.0)
    return sorted(results, key=size)


def _text(counted: list[str], low: float, high: float, exact: bool) -> str:
    if not counted:
        return "暂无可估算金额的优惠"
    figure = f"{_number(low)}" if exact else f"{_number(low)}～{_number(high)}"
    return f"预计每年可少缴/可获得约 {figure} 万元（计入 {len(counted)} 项）"


def _number(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"
