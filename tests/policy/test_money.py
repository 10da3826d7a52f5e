"""Honest totals: alternatives are never summed, ceilings and deferrals are shown but never counted."""
from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from calculator.policy.catalog import Catalog, catalog_from_data, load_catalog
from calculator.policy.match import match_profile

CITE = {"doc": "cn_law_vat_2024", "locator": "第二十三条", "quote": "销售额未达到起征点的，免征增值税"}


def _item(item_id: str, formula: str, kind: str = "saving", alternatives: list[str] | None = None) -> dict[str, Any]:
    return {"id": item_id, "title": f"演示{item_id}", "issuer": "测试", "level": "national", "department": "税务部门",
            "benefit": "演示", "mode": "免申即享", "apply": {"how": "演示"}, "validity": {"from": None, "until": None},
            "amount": {"formula": formula, "unit": "万元/年", "note": "演示", "kind": kind},
            "alternatives": alternatives or [],
            "conditions": {"all": [{"id": f"{item_id}_sales", "text": "有销售", "field": "monthly_sales", "op": ">",
                                    "value": 0, "cite": CITE}]},
            "citations": [CITE]}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    real = load_catalog()
    items = [_item("a", "monthly_sales * 2", alternatives=["b"]), _item("b", "monthly_sales * 3", alternatives=["a"]),
             _item("loan", "300", kind="limit"), _item("grant", "5", kind="grant"),
             _item("later", "monthly_sales", kind="deferral")]
    built = catalog_from_data(items, {}, real.docs)
    return dataclasses.replace(built, schema=real.schema)


def test_alternatives_count_once_the_better_one(catalog: Catalog) -> None:
    totals = match_profile({"monthly_sales": 10}, catalog, date(2026, 12, 1)).to_json()["totals"]
    assert totals["counted"] == ["b", "grant"] and totals["amount"] == 35.0
    why = {row["policy_id"]: row["why"] for row in totals["not_counted"]}
    assert "二选一" in why["a"] and "额度上限" in why["loan"] and "递延" in why["later"]
    assert totals["saving"] == 30.0 and totals["grant"] == 5.0 and "35" in totals["text"]


def test_alternatives_must_name_each_other() -> None:
    from calculator.policy.catalog import CatalogError

    real = load_catalog()
    with pytest.raises(CatalogError, match="alternatives"):
        catalog_from_data([_item("a", "1", alternatives=["b"]), _item("b", "1")], {}, real.docs)


TODAY = date(2026, 12, 1)
FACTORY = {"county": "建安区", "entity_type": "公司", "industry": "制造业", "employees": 85, "revenue": 3000,
           "total_assets": 2500, "taxable_income": 200, "restricted_industry": False, "rd_expense": 90}


def _real(**changes: Any) -> dict[str, Any]:
    return match_profile({**FACTORY, **changes}, load_catalog(), TODAY).to_json()


def _result(report: dict[str, Any], policy_id: str) -> dict[str, Any]:
    return next(r for r in report["results"] if r["policy_id"] == policy_id)


@pytest.mark.parametrize("changes,rate", [
    ({}, 0.05),                                                   # 小型微利企业 (5% on the first 300万)
    ({"cert_hightech": True, "hightech_cert_year": 2025}, 0.05),  # both: 小型微利 is tested first and is better
    ({"cert_hightech": True, "employees": 400}, 0.15),            # a current 高企 that is not 小型微利
    ({"employees": 400, "cert_hightech": False}, 0.25),
    ({"taxable_income": -100}, 0.0),                              # a loss year
])
def test_the_marginal_rate_follows_the_law(changes: dict[str, Any], rate: float) -> None:
    report = _real(**changes)
    assert report["derived"]["cit_marginal_rate"]["value"] == pytest.approx(rate)
    rd = _result(report, "rd_super_deduction")
    assert rd["amount"] == pytest.approx(90 * rate)


def test_an_enterprise_that_is_both_counts_the_better_rate_once() -> None:
    report = _real(cert_hightech=True, hightech_cert_year=2025)
    assert _result(report, "small_low_profit_cit")["status"] == _result(report, "hightech_cit_15pct")["status"] == "eligible"
    totals = report["totals"]
    assert totals["counted"][:1] == ["small_low_profit_cit"] and "hightech_cit_15pct" not in totals["counted"]
    why = {n["policy_id"]: n["why"] for n in totals["not_counted"]}
    assert why["hightech_cit_15pct"].startswith("与“小型微利企业所得税优惠（实际税负5%）”二选一")
    assert totals["amount"] == pytest.approx(40 + 4.5) and totals["text"] == "预计每年可少缴/可获得约 44.5 万元（计入 2 项）"


def test_a_zero_estimate_says_why_and_is_not_counted() -> None:
    report = _real(taxable_income=-100)
    rd = _result(report, "rd_super_deduction")
    assert rd["amount"] == 0 and "约 0" not in rd["amount_text"] and "亏损年度" in rd["amount_text"]
    small = _result(report, "small_low_profit_cit")
    assert small["amount_text"].startswith("当年金额为0：年应纳税所得额为-100万元（亏损")
    why = {n["policy_id"]: n["why"] for n in report["totals"]["not_counted"]}
    assert why["rd_super_deduction"].startswith("当年金额为0：亏损年度") and not report["totals"]["counted"]
    assert why["six_taxes_two_fees"] == "本项不估算金额（见优惠内容）"     # eligible, but no estimate: said, not silent


def test_an_undecided_rate_gives_a_range_never_the_highest_figure() -> None:
    report = _real(employees=400)                                   # 高企 not said: 15% or 25%
    assert report["derived"]["cit_marginal_rate"]["value"] == {"min": 0.15, "max": 0.25, "min_open": False, "max_open": False}
    assert _result(report, "rd_super_deduction")["amount_range"] == [13.5, 22.5]


def test_an_unknown_rate_asks_for_the_fact_that_decides_it() -> None:
    rd = _result(_real(taxable_income=None), "rd_super_deduction")
    assert rd["status"] == "eligible" and rd["amount"] is None
    assert rd["amount_text"] == "补充年应纳税所得额后可估算金额"       # not "企业所得税边际税率"


def test_the_working_is_in_words_with_dated_marked_parameters() -> None:
    working = _result(_real(), "rd_super_deduction")["amount_working"]
    assert working["formula_text"] == "上年度研发费用 × 研发费用在据实扣除基础上再加计扣除的比例 × 企业所得税边际税率"
    (rate,) = working["parameters"]
    assert rate["shown"] == "100%" and rate["dates"] == "2023-01-01起" and rate["verified"] is False
    marginal = working["facts"]["cit_marginal_rate"]
    assert marginal["display"] == "5%" and "小型微利企业：是" in marginal["explanation"]
