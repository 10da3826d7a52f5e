"""A knowledge folder that exercises every engine feature the batch compiler must carry, whatever the catalog.

The bundled catalog may not (yet) use dated parameters, law-derived facts or alternatives; this copy of it
adds items that do: a parameter whose boundary changes on a day and has no value later, a 含本数 limit on
从业人数, a presumed leaf on a parameter, the 高企-still-valid rule (valid_while) and the marginal-rate
rule (a formula over a definition, a derived yes/no and parameters), alternatives, every amount kind,
text and interval comparisons inside formulas, `not`, `in` on numbers, `contains`, a validity window.
Quotes are real text of the bundled documents, so the folder loads through the same checks.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

QUOTE = {"doc": "cn_law_vat_2024", "locator": "第二十三条", "quote": "销售额未达到起征点的，免征增值税"}
PARAMETERS = {
    "limit": {"description": "月销售额界限", "unit": "万元", "values": {
        "2023-01-01": {"value": 10, "boundary": "inclusive", "cite": QUOTE},
        "2026-01-01": {"value": 10, "boundary": "exclusive", "cite": QUOTE},
        "2028-01-01": {"value": None, "reason": "2027年以后的标准未核实"}}},
    "staff": {"description": "从业人数上限", "unit": "人", "values": {
        "2024-01-01": {"value": 300, "boundary": "inclusive", "cite": QUOTE},
        "2026-12-01": {"value": 200, "boundary": "exclusive", "cite": QUOTE}}},
    "rate": {"description": "征收率", "unit": "比例", "values": {"2023-01-01": {"value": 0.01, "cite": QUOTE, "verified": False}}},
    "standard_rate": {"description": "法定税率", "unit": "比例", "values": {"2008-01-01": {"value": 0.25, "cite": QUOTE}}},
    "small_rate": {"description": "小型微利实际税负", "unit": "比例", "values": {"2023-01-01": {"value": 0.05, "cite": QUOTE}}},
    "hightech_rate": {"description": "高企税率", "unit": "比例", "values": {"2008-01-01": {"value": 0.15, "cite": QUOTE}}},
    "hightech_years": {"description": "高企证书有效年数", "unit": "年", "values": {"2016-01-01": {"value": 3, "cite": QUOTE}}},
    "cap": {"description": "扣除上限", "unit": "万元", "values": {"2023-01-01": {"value": 500, "cite": QUOTE},
                                                              "2027-01-01": {"value": None, "reason": "尚未公布"}}},
}
DERIVED = {
    "hightech_valid": {"text": "高企证书在有效期内", "cite": QUOTE,
                       "valid_while": {"held": "cert_hightech", "since_year": "hightech_cert_year", "years": "demo.hightech_years"}},
    "cit_marginal_rate": {"text": "企业所得税边际税率", "cite": QUOTE,
                          "formula": "0 if taxable_income <= 0 else (demo.hightech_rate if hightech_valid else "
                                     "(demo.small_rate if 小型微利企业 else demo.standard_rate))"},
}


def _item(pid: str, conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    base = {"id": pid, "title": f"演示：{pid}", "issuer": "测试", "level": "national", "department": "税务部门",
            "benefit": "演示", "mode": "免申即享", "apply": {"how": "演示"}, "validity": {"from": None, "until": None},
            "conditions": conditions, "citations": [QUOTE]}
    base.update(extra)
    return base


def _leaf(lid: str, field: str, op: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"id": lid, "text": f"{field} {op} {{value}}" if isinstance(value, dict) else f"{field} {op} {value}",
            "field": field, "op": op, "value": value, "cite": QUOTE, **extra}


ITEMS = [
    _item("demo_threshold", {"all": [_leaf("under", "monthly_sales", "<", {"param": "demo.limit"})]},
          amount={"formula": "monthly_sales * 12 * demo.rate", "unit": "万元/年", "note": "演示"}),
    _item("demo_staff", {"all": [_leaf("staff", "employees", "<=", {"param": "demo.staff"}),
                                 _leaf("presumed", "taxable_income", "<=", {"param": "demo.cap"}, presume=True)]},
          amount={"formula": "min(max(taxable_income, 0), demo.cap) * (demo.standard_rate - demo.small_rate)",
                  "unit": "万元/年", "note": "演示", "kind": "saving"}, alternatives=["demo_marginal"]),
    _item("demo_marginal", {"all": [_leaf("rd_positive", "rd_expense", ">", 0), {"not": _leaf("big", "size_class", "==", "大型")}]},
          amount={"formula": "rd_expense * cit_marginal_rate", "unit": "万元/年", "note": "按边际税率", "kind": "saving"},
          alternatives=["demo_staff"]),
    _item("demo_hightech", {"all": [_leaf("valid", "hightech_valid", "==", True),
                                    _leaf("rate_known", "cit_marginal_rate", "<", 0.2)]},
          amount={"formula": "30 if entity_type == '公司' else (20 if revenue >= 1000 else 10)", "unit": "万元",
                  "note": "演示", "kind": "grant"}),
    _item("demo_kinds", {"any": [_leaf("counts", "employees", "in", [5, 10, 20]),
                                 _leaf("named", "name", "contains", "科技"),
                                 _leaf("young", "years_established", "<", 3)]},
          amount={"formula": "abs(revenue - total_assets) / 2 if is_sme else round(revenue / 3, 1)", "unit": "万元",
                  "note": "上限", "kind": "limit"}),
    _item("demo_window", {"all": [_leaf("share", "rd_ratio", ">=", 4), _leaf("ratio_cap", "disabled_staff_share", "<", 50)]},
          validity={"from": "2026-06-01", "until": "2026-12-31"},
          amount={"formula": "max(0, min(rd_expense, 300)) * 0.1", "unit": "万元", "note": "递延", "kind": "deferral"}),
]


def feature_knowledge(source: Path, target: Path) -> Path:
    """A copy of the knowledge folder `source` with the feature items, parameters and derived rules added."""
    for part in ("data", "policies", "docs", "parameters"):
        shutil.copytree(source / part, target / part)
    (target / "parameters" / "demo.yaml").write_text(yaml.safe_dump(PARAMETERS, allow_unicode=True), encoding="utf-8")
    definitions_path = target / "policies" / "_definitions.yaml"
    definitions = yaml.safe_load(definitions_path.read_text(encoding="utf-8"))
    definitions.setdefault("derived", DERIVED)   # a catalog with its own derived rules keeps them
    definitions_path.write_text(yaml.safe_dump(definitions, allow_unicode=True), encoding="utf-8")
    for item in ITEMS:
        (target / "policies" / f"{item['id']}.yaml").write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    return target
