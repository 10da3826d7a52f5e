"""The enterprise profile: validation with clear messages, label keys, certification sugar, 划型 size class."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from calculator.core.errors import UserError
from calculator.facts.profile import derive, facts, profile_schema, size_class, validate_profile

TODAY = date(2026, 11, 23)


# ------------------------------------------------------------ 统一社会信用代码 (GB 32100-2015)

@pytest.mark.parametrize("code", [
    "91350100M000100Y43",   # the standard's own example
    "914403001922038216",   # published codes of well-known companies
    "9144030071526726XG",
    "91330100799655058B",
])
def test_valid_credit_codes_are_accepted(code: str) -> None:
    assert validate_profile({"credit_code": code}).credit_code == code


def test_credit_code_is_upper_cased() -> None:
    assert validate_profile({"credit_code": "9144030071526726xg"}).credit_code == "9144030071526726XG"


@pytest.mark.parametrize("code", [
    "914403001922038217",   # wrong check character
    "91440300192203821",    # 17 characters
    "9144030019220382160",  # 19 characters
    "9144030019220382I6",   # I is not in the alphabet
    "91350100M000100Y4O",   # O is not in the alphabet
])
def test_invalid_credit_codes_are_rejected_naming_the_field(code: str) -> None:
    with pytest.raises(UserError) as error:
        validate_profile({"credit_code": code})
    assert "统一社会信用代码" in error.value.zh and "check character" in error.value.en


# ------------------------------------------------------------ bounds, types, unknown keys

@pytest.mark.parametrize("data,zh", [
    ({"employees": -1}, "从业人数应在 0～2,000,000人 之间"),
    ({"revenue": "abc"}, "上年度营业收入应为数字"),
    ({"employees": 12.5}, "从业人数应为整数"),
    ({"taxpayer_type": "小规模"}, "增值税纳税人类型只能是"),
    ({"county": "郑州"}, "所在区县只能是"),
    ({"founded": "去年"}, "成立日期应为日期"),
    ({"staff": 5}, "未知字段“staff”"),
])
def test_bad_values_give_one_clear_message(data: dict[str, Any], zh: str) -> None:
    with pytest.raises(UserError) as error:
        validate_profile(data)
    assert zh in error.value.zh and "\n" not in str(error.value)


def test_every_field_may_be_unknown() -> None:
    profile = validate_profile({})
    assert all(value is None for value in profile.model_dump().values())


def test_chinese_labels_work_as_keys() -> None:
    profile = validate_profile({"从业人数": 85, "所属行业": "制造业", "增值税纳税人类型": "小规模纳税人"})
    assert (profile.employees, profile.industry, profile.taxpayer_type) == (85, "制造业", "小规模纳税人")


def test_yes_no_words_and_partial_dates() -> None:
    profile = validate_profile({"restricted_industry": "否", "unemployment_insured": "是", "founded": "2019年5月"})
    assert profile.restricted_industry is False and profile.unemployment_insured is True
    assert profile.founded == date(2019, 5, 1)


# ------------------------------------------------------------ certifications as a list

def test_certification_list_sets_listed_true_and_the_rest_false() -> None:
    profile = validate_profile({"certifications": ["高新技术企业", "cert_tech_sme"]})
    assert profile.cert_hightech is True and profile.cert_tech_sme is True
    assert profile.cert_little_giant is False and profile.cert_specialized_sme is False


def test_empty_certification_list_means_none_held_and_absent_means_unknown() -> None:
    assert validate_profile({"certifications": []}).cert_hightech is False
    assert validate_profile({}).cert_hightech is None


def test_explicit_member_key_wins_over_the_list() -> None:
    assert validate_profile({"certifications": [], "cert_hightech": True}).cert_hightech is True


def test_unknown_certification_is_rejected() -> None:
    with pytest.raises(UserError, match="未知资质"):
        validate_profile({"certifications": ["高企证书"]})


# ------------------------------------------------------------ 企业规模 at every tier boundary

def size(industry: str, **metrics: float | None) -> str | None:
    values = {"employees": None, "revenue": None, "total_assets": None, **metrics}
    return size_class(industry, values).value


@pytest.mark.parametrize("industry,metrics,expected", [
    # 工业 (制造业): 小型 ≥20人 且 ≥300万; 中型 ≥300人 且 ≥2000万; 大型 ≥1000人 且 ≥40000万
    ("制造业", {"employees": 20, "revenue": 300}, "小型"),
    ("制造业", {"employees": 19, "revenue": 300}, "微型"),
    ("制造业", {"employees": 20, "revenue": 299.99}, "微型"),
    ("制造业", {"employees": 300, "revenue": 2000}, "中型"),
    ("制造业", {"employees": 299, "revenue": 2000}, "小型"),
    ("制造业", {"employees": 1000, "revenue": 40000}, "大型"),
    ("制造业", {"employees": 1000, "revenue": 39999}, "中型"),
    ("制造业", {"employees": 999, "revenue": 40000}, "中型"),
    # 零售业: 小型 ≥10人 且 ≥100万; 中型 ≥50人 且 ≥500万; 大型 ≥300人 且 ≥20000万
    ("零售业", {"employees": 10, "revenue": 100}, "小型"),
    ("零售业", {"employees": 9, "revenue": 100}, "微型"),
    ("零售业", {"employees": 50, "revenue": 500}, "中型"),
    ("零售业", {"employees": 300, "revenue": 20000}, "大型"),
    ("零售业", {"employees": 300, "revenue": 19999}, "中型"),
    # 建筑业 by 营业收入 and 资产总额: 小型 ≥300/≥300; 中型 ≥6000/≥5000; 大型 ≥80000/≥80000
    ("建筑业", {"revenue": 300, "total_assets": 300}, "小型"),
    ("建筑业", {"revenue": 300, "total_assets": 299}, "微型"),
    ("建筑业", {"revenue": 6000, "total_assets": 5000}, "中型"),
    ("建筑业", {"revenue": 80000, "total_assets": 80000}, "大型"),
    ("建筑业", {"revenue": 80000, "total_assets": 79999}, "中型"),
    # 软件和信息技术服务业: 小型 ≥10人 且 ≥50万; 中型 ≥100人 且 ≥1000万
    ("软件和信息技术服务业", {"employees": 10, "revenue": 50}, "小型"),
    ("软件和信息技术服务业", {"employees": 10, "revenue": 49}, "微型"),
    ("软件和信息技术服务业", {"employees": 100, "revenue": 1000}, "中型"),
    # 其他未列明行业 (教育) by 从业人数 only: 10 / 100 / 300
    ("教育", {"employees": 9}, "微型"),
    ("教育", {"employees": 10}, "小型"),
    ("教育", {"employees": 100}, "中型"),
    ("教育", {"employees": 300}, "大型"),
])
def test_size_class_at_and_past_each_threshold(industry: str, metrics: dict[str, float], expected: str) -> None:
    assert size(industry, **metrics) == expected


def test_an_unknown_metric_that_cannot_change_the_class_still_decides_it() -> None:
    assert size("制造业", employees=12) == "微型"          # below 20 people: 微型 whatever the revenue
    assert size("建筑业", revenue=100) == "微型"


def test_an_unknown_metric_that_could_change_the_class_leaves_it_open() -> None:
    derived = size_class("制造业", {"employees": 500, "revenue": None, "total_assets": None})
    assert derived.value is None and derived.possible == ["中型", "小型", "微型"]
    assert "需补充数据" in derived.explanation


def test_is_sme_can_be_known_while_the_exact_class_is_not() -> None:
    result = derive(validate_profile({"industry": "制造业", "employees": 500}), TODAY)
    assert result["size_class"].value is None and result["is_sme"].value is True
    large_open = derive(validate_profile({"industry": "制造业", "employees": 1500}), TODAY)
    assert large_open["is_sme"].value is None


def test_size_class_is_cited_to_the_size_standards() -> None:
    derived = size_class("零售业", {"employees": 12, "revenue": 150, "total_assets": None})
    assert derived.cite is not None and derived.cite.doc == "cn_2011_300_sme_size_standards"
    assert derived.cite.quote.startswith("| 零售业 |")


def test_other_derived_facts() -> None:
    values = facts(validate_profile({"rd_expense": 96, "revenue": 3000, "founded": "2016-05-01",
                                     "county": "长葛市"}), TODAY)
    assert values["rd_ratio"] == 3.2
    assert 10.5 < values["years_established"] < 10.6
    assert values["in_xuchang"] is True
    assert facts(validate_profile({"county": "许昌市外"}), TODAY)["in_xuchang"] is False
    assert facts(validate_profile({"rd_expense": 96}), TODAY)["rd_ratio"] is None


def test_schema_has_chinese_titles_units_and_no_extra_keys() -> None:
    schema = profile_schema()
    assert schema["additionalProperties"] is False
    employees = schema["properties"]["employees"]
    assert employees["title"] == "从业人数" and employees["x-unit"] == "人"
    assert "size_class" in schema["x-derived"]
