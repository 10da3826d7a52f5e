"""The catalog loads the real items, and each kind of broken item fails loudly with file and field path."""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from paths import ROOT

from calculator.core.vocabulary import CURRENT, EXPIRED, NOT_YET
from calculator.corpus.citation import SUMMARY_NOTE
from calculator.corpus.documents import load_corpus
from calculator.facts.schema import load_schema
from calculator.policy import catalog as catalog_module
from calculator.policy.catalog import Catalog, CatalogError, load_catalog
from calculator.policy.formula import Formula, FormulaError

SIZE_STANDARDS = load_schema().tables.size_standards


POLICIES = ROOT / "knowledge" / "policies"
DOCS = ROOT / "knowledge" / "docs"


@pytest.fixture(scope="module")
def docs() -> dict:
    return load_corpus(DOCS)


@pytest.fixture(scope="module")
def real(docs: dict) -> Catalog:
    return load_catalog(POLICIES, docs)


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """A private copy of the policy folder to break."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(folder: Path, docs: dict) -> list[str]:
    with pytest.raises(CatalogError) as error:
        load_catalog(folder, docs)
    return [p.line() for p in error.value.problems]


def test_the_real_catalog_loads_and_every_quote_verifies(real: Catalog) -> None:
    assert {"small_low_profit_cit", "six_taxes_two_fees"} <= {p.id for p in real.policies}
    assert "小型微利企业" in real.definitions
    for citation in real.citations.values():
        assert citation.start is not None and citation.end > citation.start
        assert citation.note == (SUMMARY_NOTE if citation.kind == "summary" else "")


def test_size_standard_quotes_are_verified_too(real: Catalog) -> None:
    verified = {c.locator for c in real.citations.values() if c.doc_id == "cn_2011_300_sme_size_standards"}
    assert {f"中小企业划型门槛表 › {group}" for group in SIZE_STANDARDS["groups"]} <= verified


def test_broken_quote_in_a_citation(copy: Path, docs: dict) -> None:
    edit(copy / "small_low_profit_cit.yaml", "按20%的税率缴纳企业所得税政策", "按15%的税率缴纳企业所得税政策")
    assert problems(copy, docs) == ["knowledge/policies/small_low_profit_cit.yaml: citations[0].quote: "
                                    "quote not found verbatim in 'cn_2023_12_small_micro_tax_fee_official'"
                                    .replace("knowledge/policies", str(copy))]


def test_broken_quote_in_a_definition_leaf(copy: Path, docs: dict) -> None:
    edit(copy / "_definitions.yaml", '"资产总额不超过5000万元"', '"资产总额不超过8000万元"')
    lines = problems(copy, docs)
    assert lines == [f"{copy}/_definitions.yaml: definitions.小型微利企业.all[4].cite.quote: "
                     "quote not found verbatim in 'cn_2023_12_small_micro_tax_fee_official'"]


def test_quote_matches_despite_width_and_spacing(copy: Path, docs: dict) -> None:
    # full-width digits and extra spaces are normalised away; the words must still be verbatim
    edit(copy / "small_low_profit_cit.yaml", "按20%的税率缴纳企业所得税政策", "按　２０％　的税率缴纳企业所得税政策")
    assert load_catalog(copy, docs).get("small_low_profit_cit")


def test_citation_of_a_missing_document(copy: Path, docs: dict) -> None:
    edit(copy / "six_taxes_two_fees.yaml", "- {doc: cn_2023_12_small_micro_tax_fee_official, locator: 第四条",
         "- {doc: cn_2023_99_missing, locator: 第四条")
    (line,) = problems(copy, docs)
    assert line.endswith("six_taxes_two_fees.yaml: citations[1].doc: document 'cn_2023_99_missing' is not in the knowledge base")


def test_unknown_field(copy: Path, docs: dict) -> None:
    edit(copy / "six_taxes_two_fees.yaml", "field: entity_type", "field: entity_kind")
    (line,) = problems(copy, docs)
    assert "six_taxes_two_fees.yaml: conditions.any[2].field: unknown field 'entity_kind'" in line


def test_value_not_among_the_choices(copy: Path, docs: dict) -> None:
    edit(copy / "six_taxes_two_fees.yaml", "value: 个体工商户", "value: 个体户")
    (line,) = problems(copy, docs)
    assert "six_taxes_two_fees.yaml: conditions.any[2].value: '个体户' is not one of entity_type's choices" in line


def test_contradictory_thresholds(copy: Path, docs: dict) -> None:
    edit(copy / "small_low_profit_cit.yaml", "conditions:\n  ref: 小型微利企业\n",
         "conditions:\n  all:\n    - ref: 小型微利企业\n    - {id: big, text: 大, field: employees, op: '>', value: 1000, cite: "
         "{doc: cn_law_enterprise_income_tax, locator: 第四条, quote: 企业所得税的税率为25％。}}\n")
    (line,) = problems(copy, docs)
    assert re.search(r"small_low_profit_cit\.yaml: conditions: contradictory thresholds on employees", line)


def test_unknown_key_and_wrong_id(copy: Path, docs: dict) -> None:
    edit(copy / "six_taxes_two_fees.yaml", "mode: 免申即享", "mode: 免申即享\nurgency: high")
    edit(copy / "small_low_profit_cit.yaml", "id: small_low_profit_cit", "id: small_low_profit")
    lines = problems(copy, docs)
    assert any(line.endswith("six_taxes_two_fees.yaml: urgency: unknown key (see docs/ARCHITECTURE.md)") for line in lines)
    assert any("small_low_profit_cit.yaml: id: id 'small_low_profit' must equal the file name" in line for line in lines)


@pytest.mark.parametrize("formula,words", [
    ("__import__('os').system('true')", "only min, max, round, abs may be called"),
    ("taxable_income ** 2", "not allowed"),
    ("profit * 0.2", "unknown name 'profit'"),
    ("entity_type * 2", "needs numbers"),
])
def test_unsafe_or_wrong_formulas_are_rejected(copy: Path, docs: dict, formula: str, words: str) -> None:
    edit(copy / "small_low_profit_cit.yaml", 'formula: "max(0, min(taxable_income, cit.small_low_profit_income_cap)) * '
         '(cit.standard_rate - cit.small_low_profit_effective_rate)"', f'formula: "{formula}"')
    (line,) = problems(copy, docs)
    assert "small_low_profit_cit.yaml: amount.formula: invalid amount formula:" in line and words in line


def test_every_problem_is_reported_at_once(copy: Path, docs: dict) -> None:
    edit(copy / "six_taxes_two_fees.yaml", "field: entity_type", "field: entity_kind")
    edit(copy / "rd_super_deduction.yaml", "field: rd_expense", "field: rd_spend")
    with pytest.raises(CatalogError) as error:
        load_catalog(copy, docs)
    assert len(error.value.problems) == 2 and "(+1 more" in str(error.value)


def test_broken_size_standard_quote(monkeypatch: pytest.MonkeyPatch, docs: dict) -> None:
    groups = {**SIZE_STANDARDS["groups"], "工业": {**SIZE_STANDARDS["groups"]["工业"], "quote": "| 工业 | 从业人员 < 999 |"}}
    schema = load_schema()
    tables = dataclasses.replace(schema.tables, size_standards={**SIZE_STANDARDS, "groups": groups})
    monkeypatch.setattr(catalog_module, "load_schema", lambda: dataclasses.replace(schema, tables=tables))
    (line,) = problems(POLICIES, docs)
    assert line == ("knowledge/data/sme_size_standards.yaml: groups.工业.quote: "
                    "quote not found verbatim in 'cn_2011_300_sme_size_standards'")


def test_validity_window(real: Catalog) -> None:
    policy = real.get("small_low_profit_cit")  # 2023-01-01 … 2027-12-31
    assert policy.status_on(date(2022, 12, 31)) == NOT_YET
    assert policy.status_on(date(2023, 1, 1)) == CURRENT
    assert policy.status_on(date(2027, 12, 31)) == CURRENT
    assert policy.status_on(date(2028, 1, 1)) == EXPIRED


def test_an_item_citing_a_doubtful_document_states_its_own_caveat_once(real: Catalog, docs: dict) -> None:
    for policy in real.policies:
        doubtful = [c.doc_id for c in policy.citations if docs[c.doc_id].caveat]
        assert policy.caveats == (policy.item.caveat,) if policy.item.caveat else not doubtful, policy.id
    assert real.get("small_scale_vat_exemption").caveats[0].startswith("2026年起为起征点")


def test_citing_a_doubtful_document_without_a_caveat_fails(copy: Path, docs: dict) -> None:
    text = (copy / "small_scale_vat_exemption.yaml").read_text(encoding="utf-8")
    start = text.index("\ncaveat: >-\n")
    end = text.index("\nconditions:", start)
    (copy / "small_scale_vat_exemption.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    lines = problems(copy, docs)
    assert any("small_scale_vat_exemption.yaml: caveat: cites cn_2023_19_small_scale_vat_official" in line for line in lines), lines


def test_folded_yaml_text_has_no_stray_spaces(real: Catalog) -> None:
    benefit = real.get("small_low_profit_cit").item.benefit
    assert "5%（一般企业" in benefit


def test_report_counts_items_levels_and_verified_quotes(real: Catalog) -> None:
    report = real.report(date(2026, 11, 23))
    assert report["count"] == len(real.policies) == len(report["items"])
    assert sum(report["by_level"].values()) == report["count"]
    assert report["quotes_verified"] == len(real.citations) > report["count"]


def test_cached_until_a_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    knowledge = tmp_path / "knowledge"
    for part in ("policies", "parameters", "docs", "data"):
        shutil.copytree(DOCS.parent / part, knowledge / part)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge))
    first = load_catalog()
    assert load_catalog() is first
    path = knowledge / "policies" / "six_taxes_two_fees.yaml"
    edit(path, "title: “六税两费”减半征收", "title: 六税两费减半")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    second = load_catalog()
    assert second is not first and second.get("six_taxes_two_fees").title == "六税两费减半"
    parameters = knowledge / "parameters" / "cit.yaml"           # the law's values are part of the catalog too
    edit(parameters, "description: 企业所得税法定税率", "description: 法定税率")
    stat = parameters.stat()
    os.utime(parameters, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    third = load_catalog()
    assert third is not second and third.parameters["cit.standard_rate"].description == "法定税率"


# ------------------------------------------------------------ amount formulas (compiled at load)

KINDS = {"taxable_income": "number", "employees": "number", "cert_hightech": "bool", "taxpayer_type": "text"}


@pytest.mark.parametrize("source,facts,value", [
    ("max(0, min(taxable_income, 300)) * (0.25 - 0.05)", {"taxable_income": 200}, 40.0),
    ("max(0, min(taxable_income, 300)) * (0.25 - 0.05)", {"taxable_income": -50}, 0.0),
    ("round(taxable_income / 3, 2)", {"taxable_income": 10}, 3.33),
    ("-abs(taxable_income)", {"taxable_income": 5}, -5.0),
    ("30 if cert_hightech else 0", {"cert_hightech": True}, 30.0),
    ("10 if taxpayer_type == '小规模纳税人' else 0", {"taxpayer_type": "一般纳税人"}, 0.0),
    ("5 if 0 < employees <= 300 else 1", {"employees": 300}, 5.0),
])
def test_formula_values(source: str, facts: dict, value: float) -> None:
    assert Formula(source, KINDS).evaluate(facts).value == pytest.approx(value)


def test_formula_with_unknown_input_names_what_it_needs() -> None:
    result = Formula("min(taxable_income, 300) * 0.2 + employees * 0", KINDS).evaluate({"employees": 3})
    assert result.value is None and result.missing == ("taxable_income",)


def test_formula_division_by_zero_is_no_estimate() -> None:
    assert Formula("taxable_income / employees", KINDS).evaluate({"taxable_income": 1, "employees": 0}).value is None


@pytest.mark.parametrize("source", ["open('x')", "taxable_income.real", "[1][0]", "lambda: 1", "taxable_income and 1",
                                    "cert_hightech + 1", "1 if taxable_income else 2", "'a' < 'b'", "min(1)"])
def test_formula_whitelist(source: str) -> None:
    with pytest.raises(FormulaError):
        Formula(source, KINDS)
