"""Dated parameters: the law of the day asked, each value cited and verified, a missing value honest."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from batch_features import PARAMETERS as FEATURE_PARAMETERS
from batch_features import QUOTE
from paths import KNOWLEDGE

from calculator.policy.catalog import CatalogError, load_catalog
from calculator.policy.match import match_profile

PARAMETERS = {
    "limit": FEATURE_PARAMETERS["limit"],    # inclusive, exclusive from 2026-01-01, unknown from 2028-01-01
    "rate": {"description": "征收率", "unit": "比例", "values": {
        "2023-01-01": {"value": 0.01, "cite": QUOTE, "verified": False}}},
}
ITEM = {
    "id": "demo_threshold", "title": "演示：月销售额界限", "issuer": "测试", "level": "national", "department": "税务部门",
    "benefit": "演示", "mode": "免申即享", "apply": {"how": "演示"}, "validity": {"from": None, "until": None},
    "amount": {"formula": "monthly_sales * 12 * demo.rate", "unit": "万元/年", "note": "演示"},
    "conditions": {"all": [{"id": "under", "text": "月销售额在{value}以内", "field": "monthly_sales", "op": "<",
                            "value": {"param": "demo.limit"}, "cite": QUOTE}]},
    "citations": [QUOTE],
}


@pytest.fixture
def knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "knowledge"
    for part in ("data", "policies", "parameters", "docs"):
        shutil.copytree(KNOWLEDGE / part, folder / part)
    (folder / "parameters" / "demo.yaml").write_text(yaml.safe_dump(PARAMETERS, allow_unicode=True), encoding="utf-8")
    (folder / "policies" / "demo_threshold.yaml").write_text(yaml.safe_dump(ITEM, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(folder))
    return folder


def _result(sales: float, day: str):
    return match_profile({"monthly_sales": sales}, today=date.fromisoformat(day)).result("demo_threshold")


@pytest.mark.parametrize("sales,day,status", [
    (10, "2025-06-01", "eligible"),        # 含本数 until 2025-12-31
    (10, "2026-12-01", "not_eligible"),    # 达到起征点 from 2026-01-01
    (9.99, "2026-12-01", "eligible"),
    (10.01, "2025-06-01", "not_eligible"),
    (10, "2025-12-31", "eligible"),        # the last day of the old value
    (10, "2026-01-01", "not_eligible"),    # the first day of the new one
])
def test_the_boundary_follows_the_day(knowledge: Path, sales: float, day: str, status: str) -> None:
    assert _result(sales, day).status == status


def test_a_day_with_no_verified_value_is_unknown_naming_the_parameter(knowledge: Path) -> None:
    result = _result(5, "2028-06-01")
    assert result.status == "need_info" and result.missing == ("demo.limit",)
    (condition,) = result.conditions
    assert "2027年以后的标准未核实" in condition.detail
    before = _result(5, "2022-06-01")
    assert before.status == "need_info" and before.missing == ("demo.limit",)


def test_words_and_amounts_name_the_value_and_its_dates(knowledge: Path) -> None:
    result = _result(8, "2026-12-01")
    (condition,) = result.conditions
    assert condition.text == "月销售额在10万元以内" and "2026-01-01至2027-12-31" in condition.detail
    assert result.amount_value == pytest.approx(0.96)
    (used,) = result.amount_working["parameters"]
    assert used["name"] == "demo.rate" and used["value"] == 0.01 and used["verified"] is False


def test_a_misquoted_parameter_value_fails_the_catalog(knowledge: Path) -> None:
    broken = dict(PARAMETERS)
    broken["rate"] = {**PARAMETERS["rate"], "values": {"2023-01-01": {"value": 0.01, "cite": {**QUOTE, "quote": "编造的条文"}}}}
    (knowledge / "parameters" / "demo.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        load_catalog(strict=True)
    assert any(p.file.endswith("demo.yaml") and p.path == "rate.values.2023-01-01.cite.quote" for p in error.value.problems)


@pytest.mark.parametrize("change,words", [
    ({"value": {"param": "demo.nothing"}}, "unknown parameter"),
    ({"op": "in"}, "numeric comparisons only"),
    ({"op": "=="}, "ordering op"),          # a parameter with a boundary needs < <= > >=
    ({"field": "employees"}, "is in"),          # 万元 parameter on a 人 field
    ({"value": 10}, "{value}"),                 # a literal threshold cannot fill {value}
])
def test_a_leaf_on_a_parameter_is_checked_at_load(knowledge: Path, change: dict, words: str) -> None:
    leaf = {**ITEM["conditions"]["all"][0], **change}
    item = {**ITEM, "conditions": {"all": [leaf]}}
    (knowledge / "policies" / "demo_threshold.yaml").write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        load_catalog(strict=True)
    assert any(words in p.en for p in error.value.problems), [p.en for p in error.value.problems]


def test_words_for_people_carry_no_internal_names(knowledge: Path) -> None:
    broken = {**PARAMETERS, "rate": {**PARAMETERS["rate"], "description": "征收率（见 vat.small_scale_reduced_rate）"}}
    (knowledge / "parameters" / "demo.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        load_catalog(strict=True)
    assert any(p.path == "rate.description" and "vat.small_scale_reduced_rate" in p.en for p in error.value.problems)


def test_a_missing_parameter_is_named_for_people_by_what_it_is(knowledge: Path) -> None:
    result = _result(5, "2028-06-01")
    assert result.missing_labels == ["月销售额界限（现行标准未核实）"]   # never "demo.limit"
