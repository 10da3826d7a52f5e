"""Matching a profile: verdict order, validity windows, caveats, amounts, near misses, derived facts, JSON."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from calculator.core.errors import UserError
from calculator.core.vocabulary import ELIGIBLE, NEED_INFO, NOT_ELIGIBLE
from calculator.corpus.citation import SUMMARY_NOTE
from calculator.policy.catalog import Catalog, load_catalog
from calculator.policy.match import MatchReport, match_profile

TODAY = date(2026, 11, 23)
SMALL_FACTORY = {"entity_type": "企业", "industry": "制造业", "county": "建安区", "employees": 85, "revenue": 3000,
                 "total_assets": 2000, "taxable_income": 200, "taxpayer_type": "一般纳税人", "restricted_industry": False}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def match(catalog: Catalog, today: date = TODAY, **changes: Any) -> MatchReport:
    profile = {k: v for k, v in {**SMALL_FACTORY, **changes}.items() if v is not None}
    return match_profile(profile, catalog, today)


def test_results_are_sorted_eligible_then_fewest_missing_then_not_eligible(catalog: Catalog) -> None:
    report = match(catalog)
    statuses = [r.status for r in report.results]
    rank = {ELIGIBLE: 0, NEED_INFO: 1, NOT_ELIGIBLE: 2}
    assert statuses == sorted(statuses, key=rank.get)
    amounts = [r.amount_value for r in report.with_status(ELIGIBLE)]
    known = [a for a in amounts if a is not None]
    assert known == sorted(known, reverse=True) and amounts[:len(known)] == known  # amounts first, larger first
    missing = [len(r.missing) for r in report.with_status(NEED_INFO)]
    assert missing == sorted(missing) and all(missing)
    assert len(report.results) == len(catalog.policies)


def test_the_two_reference_items_for_a_small_factory(catalog: Catalog) -> None:
    report = match(catalog)
    cit = report.result("small_low_profit_cit")
    assert cit.status == ELIGIBLE and cit.amount_value == 40
    assert "估算" in cit.amount_text and "万元/年" in cit.amount_text
    assert report.result("six_taxes_two_fees").status == ELIGIBLE


def test_need_info_lists_each_missing_field_once_in_order(catalog: Catalog) -> None:
    report = match_profile({}, catalog, TODAY)
    six = report.result("six_taxes_two_fees")
    assert six.status == NEED_INFO
    assert list(six.missing) == ["taxpayer_type", "taxable_income", "employees", "total_assets", "entity_type"]
    assert six.missing_labels[0] == "增值税纳税人类型"


def test_one_decided_failure_makes_not_eligible_even_with_unknowns(catalog: Catalog) -> None:
    report = match_profile({"total_assets": 6000}, catalog, TODAY)
    result = report.result("small_low_profit_cit")
    assert result.status == NOT_ELIGIBLE and result.missing == () and result.amount is None


def test_expired_item_is_never_current(catalog: Catalog) -> None:
    result = match(catalog, today=date(2028, 1, 1)).result("small_low_profit_cit")
    assert result.status == NOT_ELIGIBLE
    data = result.to_json(catalog)
    assert data["expired"] is True and data["amount"] is None
    assert data["conditions"][0] == {"id": "validity", "text": "政策在有效期内", "outcome": "not_met",
                                     "detail": "已于2027-12-31到期"}
    # the rest are still shown, honestly: 小型微利企业 is undecided on 2028-01-01, because 2023年第12号 ends
    # 2027-12-31 and no later standard is verified (its caps have no value from 2028-01-01)
    (small,) = data["conditions"][1:]
    assert small["outcome"] == "unknown" and "现行标准未核实" in small["detail"] and "cit." not in small["detail"]


def test_not_yet_in_force_item(catalog: Catalog) -> None:
    result = match(catalog, today=date(2022, 12, 31)).result("small_low_profit_cit")
    data = result.to_json(catalog)
    assert result.status == NOT_ELIGIBLE and data["expired"] is False
    assert data["validity"]["status"] == "not_yet"
    assert data["conditions"][0]["detail"] == "自2023-01-01起施行，尚未生效"


def test_expired_items_come_after_current_failures(catalog: Catalog) -> None:
    failed = match(catalog, today=date(2028, 1, 1)).with_status(NOT_ELIGIBLE)
    current = [r.validity == "current" for r in failed]
    assert current == sorted(current, reverse=True)


def test_the_item_caveat_reaches_every_verdict(catalog: Catalog) -> None:
    report = match(catalog, taxpayer_type="小规模纳税人", monthly_sales=8)
    for result in report.results:
        data = result.to_json(catalog)
        assert result.policy.item.caveat and result.policy.item.caveat in data["caveat"], result.policy.id


def test_summary_citations_say_so_everywhere(catalog: Catalog) -> None:
    data = match(catalog).to_json()

    def citations(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            found = [node] if {"doc_id", "quote"} <= set(node) else []
            return found + [c for v in node.values() for c in citations(v)]
        if isinstance(node, list):
            return [c for v in node for c in citations(v)]
        return []

    every = citations(data)
    assert every and any(c["summary"] for c in every)
    for citation in every:
        assert citation["note"] == (SUMMARY_NOTE if catalog.docs[citation["doc_id"]].kind == "summary" else "")


def test_near_miss_note_when_one_threshold_fails_narrowly(catalog: Catalog) -> None:
    report = match(catalog, employees=320)
    result = report.result("small_low_profit_cit")
    assert result.status == NOT_ELIGIBLE
    assert result.near_miss == "只差：从业人数 320人 > 300人"
    assert match(catalog, employees=400).result("small_low_profit_cit").near_miss is None  # 33% past


def test_presumptions_are_listed(catalog: Catalog) -> None:
    report = match(catalog, restricted_industry=None, entity_type=None)
    result = report.result("small_low_profit_cit")
    assert result.status == ELIGIBLE
    assert any(a.startswith("从事国家限制或禁止行业 未说明") for a in result.assumptions)
    assert any(a.startswith("主体类型 未说明") for a in result.assumptions)


def test_derived_facts_with_their_working(catalog: Catalog) -> None:
    derived = match(catalog, rd_expense=96).to_json()["derived"]
    size = derived["size_class"]
    assert size["value"] == "小型" and "工业" in size["explanation"]
    assert size["citation"]["doc_number"] == "工信部联企业〔2011〕300号" and size["citation"]["note"] == SUMMARY_NOTE
    assert derived["rd_ratio"]["value"] == 3.2 and derived["rd_ratio"]["display"] == "3.2%"
    small = derived["小型微利企业"]
    assert small["value"] is True and small["definition"] and len(small["conditions"]) == 5  # 纳税人, 行业, 三个标准
    unknown = match_profile({"employees": 85}, catalog, TODAY).to_json()["derived"]["小型微利企业"]
    assert unknown["value"] is None and unknown["display"] == "未知"


def test_json_contract(catalog: Catalog) -> None:
    data = match(catalog).to_json()
    assert {"profile", "results"} <= set(data)
    assert data["profile"]["employees"] == 85
    for result in data["results"]:
        assert {"policy_id", "title", "status", "benefit", "amount", "mode", "valid_until", "missing",
                "conditions", "citations"} <= set(result)
        assert result["status"] in {ELIGIBLE, NEED_INFO, NOT_ELIGIBLE}
        assert result["citations"], result["policy_id"]
        for condition in result["conditions"]:
            assert {"text", "outcome", "detail"} <= set(condition)
            assert condition["outcome"] in {"met", "not_met", "unknown"} and condition["detail"]
        for citation in result["citations"]:
            assert {"doc_id", "doc_title", "doc_number", "locator", "quote"} <= set(citation)


def test_conditions_show_values_against_thresholds(catalog: Catalog) -> None:
    data = match(catalog).result("small_low_profit_cit").to_json(catalog)
    (small,) = data["conditions"]
    assert small["text"].startswith("小型微利企业") and small["outcome"] == "met"
    details = [c["detail"] for c in small["children"]]
    dated = "（标准按2023-01-01至2027-12-31执行）"   # which dated value of the law was applied
    assert f"从业人数 85人 ≤ 300人 ✓{dated}" in details and f"资产总额 2,000万元 ≤ 5,000万元 ✓{dated}" in details
    assert all(c["citation"]["locator"] == "第五条" for c in small["children"][1:])


def test_profile_may_be_a_mapping_with_labels_and_is_validated(catalog: Catalog) -> None:
    report = match_profile({"从业人数": 85, "资产总额": 2000, "年应纳税所得额": 200}, catalog, TODAY)
    assert report.result("small_low_profit_cit").status == ELIGIBLE
    with pytest.raises(UserError, match="从业人数"):
        match_profile({"employees": -1}, catalog, TODAY)
