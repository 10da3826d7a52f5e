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
