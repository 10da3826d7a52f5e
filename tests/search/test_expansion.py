"""Query expansion is gathered from the knowledge folder's data files: hand-kept words, industries, fact labels."""
from __future__ import annotations

from pathlib import Path

import yaml
from paths import KNOWLEDGE

from calculator.search.expansion import expansions


def test_the_three_sources_feed_the_expansion() -> None:
    table = expansions(KNOWLEDGE / "data")
    assert "个人所得税" in table["个税"] and "个税" in table["个人所得税"]       # equivalent, both ways
    assert table["管吃管住"] == ("食宿",)                                  # colloquial, one way
    assert "食宿" not in table
    assert {"餐饮业", "住宿和餐饮业"} <= set(table["饭店"])                    # an industry alias → its names
    assert "营业收入" in table["营收"]                                     # a fact keyword → its label, no period
    assert all(len(phrase) > 1 or phrase in {"算", "亏", "招", "厂", "地", "卖", "买", "查", "告", "奖"}
               for phrase in table)                                   # one character only when written by hand


def test_descriptions_names_and_components_are_not_expanded(tmp_path: Path) -> None:
    fields = {"fields": {
        "name": {"label": "企业名称", "type": "str", "keywords": ["公司名称"]},
        "uses_residence": {"label": "拟以住宅作为经营场所登记", "type": "bool", "keywords": ["家里"]},
        "employees_q1": {"label": "第一季度从业人数", "type": "number", "component": True, "keywords": ["一季度"]},
        "revenue": {"label": "上年度营业收入", "type": "number", "keywords": ["流水", "卖"]},
    }}
    (tmp_path / "profile_fields.yaml").write_text(yaml.safe_dump(fields, allow_unicode=True), encoding="utf-8")
    assert expansions(tmp_path) == {"流水": ("营业收入",)}


def test_an_empty_folder_expands_nothing(tmp_path: Path) -> None:
    assert expansions(tmp_path) == {}
