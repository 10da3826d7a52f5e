"""Interval facts: a vague amount is decided three-valuedly, everywhere (model, rules, formulas, JSON)."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calculator.core.errors import UserError
from calculator.facts.interval import Interval
from calculator.facts.profile import validate_profile
from calculator.facts.schema import default_schema
from calculator.policy.match import match_profile
from calculator.policy.rules.tree import leaf_of

TODAY = date(2026, 12, 1)
SMALL = {"entity_type": "公司", "employees": 50, "total_assets": 1000}


@pytest.mark.parametrize("interval,op,bound,expected", [
    (Interval(300, 400, high_open=True), "<=", 300, None),     # 三百来万 vs ≤ 300万: straddles
    (Interval(300, 400, low_open=True), "<=", 300, False),     # 三百多万: wholly above
    (Interval(250, 300), "<=", 300, True),                     # wholly inside, closed end on the bound
    (Interval(250, 300, high_open=True), "<", 300, True),
    (Interval(250, 300), "<", 300, None),                      # may be exactly 300
    (Interval(4, 5), "<", 4, False),
    (Interval(10, 11, low_open=True), ">", 10, True),          # 十万出头 > 10万
    (Interval(None, 5), ">=", 6, False),                       # unbounded below
    (Interval(11, 19), "==", 15, None),
    (Interval(11, 19), "!=", 25, True),
])
def test_comparison_is_three_valued(interval: Interval, op: str, bound: float, expected: bool | None) -> None:
    assert interval.compare(op, bound) is expected


@given(low=st.integers(0, 500), width=st.integers(0, 200), bound=st.integers(0, 700),
       low_open=st.booleans(), high_open=st.booleans(), op=st.sampled_from(["<", "<=", ">", ">="]))
def test_a_decided_comparison_holds_for_every_value_inside(low: int, width: int, bound: int, low_open: bool,
                                                           high_open: bool, op: str) -> None:
    if width == 0:
        low_open = high_open = False
    interval = Interval(low, low + width, low_open, high_open)
    outcome = interval.compare(op, bound)
    inside = [v / 4 for v in range(low * 4, (low + width) * 4 + 1) if interval.contains(v / 4)]
    truth = {"<": lambda v: v < bound, "<=": lambda v: v <= bound, ">": lambda v: v > bound, ">=": lambda v: v >= bound}[op]
    if outcome is True:
        assert all(truth(v) for v in inside)
    elif outcome is False:
        assert not any(truth(v) for v in inside)
    else:
        assert any(truth(v) for v in inside) and not all(truth(v) for v in inside)


@pytest.mark.parametrize("income,status", [
    ({"min": 300, "max": 400, "max_open": True}, "need_info"),     # 三百来万: straddles 300万
    ({"min": 100, "max": 200, "min_open": True, "max_open": True}, "eligible"),   # 一百多万: wholly inside
    ({"min": 300, "max": 400, "min_open": True}, "not_eligible"),   # 三百多万: wholly outside
])
def test_small_low_profit_on_a_vague_income(income: dict, status: str) -> None:
    result = match_profile({**SMALL, "taxable_income": income}, today=TODAY).result("small_low_profit_cit")
    assert result.status == status
    if status == "need_info":
        assert result.missing == ("taxable_income",)
        leaf = next(t for t in result.trace.leaves() if getattr(leaf_of(t), "field", "") == "taxable_income")
        assert "可能" in leaf.detail and "需要准确数字" in leaf.detail


def test_an_amount_from_a_vague_fact_is_a_range_and_the_total_says_so() -> None:
    report = match_profile({**SMALL, "taxable_income": {"min": 100, "max": 200, "min_open": True, "max_open": True}},
                           today=TODAY)
    data = report.to_json()
    item = next(r for r in data["results"] if r["policy_id"] == "small_low_profit_cit")
    assert item["amount"] is None and item["amount_range"] == [20.0, 40.0] and "～" in item["amount_text"]
    assert data["profile"]["taxable_income"] == {"min": 100, "max": 200, "min_open": True, "max_open": True}
    assert data["totals"]["amount"] is None and data["totals"]["amount_min"] < data["totals"]["amount_max"]


def test_the_profile_accepts_a_number_or_an_interval_within_the_bounds() -> None:
    profile = validate_profile({"employees": {"min": 11, "max": 19}})
    assert profile.employees == Interval(11, 19)
    with pytest.raises(UserError, match="区间"):
        validate_profile({"employees": {"min": -5, "max": 3}})
    with pytest.raises(UserError):
        validate_profile({"employees": {"min": 5, "max": 1}})
    schema = default_schema()
    assert schema.format_value("taxable_income", Interval(300, 400, high_open=True)) == "300万元以上、不到400万元"


def test_the_json_schema_accepts_a_number_or_an_interval() -> None:
    from calculator.facts.profile import profile_schema

    employees = profile_schema()["properties"]["employees"]
    kinds = [option.get("type") for option in employees["anyOf"]]
    assert "integer" in kinds and "object" in kinds and "null" in kinds


def test_composed_facts_show_their_working() -> None:
    report = match_profile({"employees_contract": 280, "employees_dispatched": 40, "industry": "制造业"}, today=TODAY)
    assert report.facts["employees"] == 320
    assert "劳务派遣" in report.derived["employees"].explanation
    quarters = match_profile({f"employees_q{i}": n for i, n in enumerate((295, 300, 305, 298), 1)}, today=TODAY)
    assert quarters.facts["employees"] == 299.5
    stated = match_profile({"employees": 250, "employees_contract": 280, "employees_dispatched": 40}, today=TODAY)
    assert stated.facts["employees"] == 250   # a stated figure wins over its parts
