"""Law watch: the parameters and items that change, end or are unverified in the coming period."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import yaml

from calculator.core.errors import UserError
from calculator.officials.law_watch import (
    CHANGES,
    EXPIRES,
    NO_VALUE,
    REPORT_ONLY,
    REVIEW,
    UNVERIFIED,
    law_watch,
    mentions,
    parameter_users,
)
from calculator.policy.catalog import Catalog, catalog_from_data, load_catalog

AS_OF = date(2026, 12, 1)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _entries(catalog: Catalog, event: str, days: int = 365, as_of: date = AS_OF) -> dict[str, list]:
    out: dict[str, list] = {}
    for entry in law_watch(as_of, days, catalog).with_event(event):
        out.setdefault(entry.name, []).append(entry)
    return out


def test_the_2027_12_31_ends_are_listed_a_year_ahead(catalog: Catalog) -> None:
    ending = _entries(catalog, EXPIRES, 400)
    assert {"small_low_profit_cit", "six_taxes_two_fees", "small_scale_vat_1pct", "small_scale_vat_exemption",
            "advanced_manufacturing_vat_credit"} <= set(ending)
    assert all(e.day == date(2027, 12, 31) for entries in ending.values() for e in entries)
    assert "hightech_cit_15pct" not in ending                # no end date
    assert "job_stability_return" not in ending              # already lapsed on 2025-12-31: not news
    no_value = _entries(catalog, NO_VALUE, 400)
    cap = no_value["cit.small_low_profit_income_cap"][0]
    assert cap.day == date(2028, 1, 1) and "此后的标准未核实" in cap.detail
    assert {"small_low_profit_cit", "six_taxes_two_fees"} <= set(cap.used_by)


def test_the_window_bounds_what_is_listed(catalog: Catalog) -> None:
    assert not _entries(catalog, EXPIRES, 395)               # 2027-12-31 is 395 days after 2026-12-01 …
    assert _entries(catalog, EXPIRES, 396)                   # … so a 396-day window holds it
    dated = [e for e in law_watch(AS_OF, 396, catalog).entries if e.day]
    assert all(AS_OF < e.day <= date(2028, 1, 1) for e in dated)


def test_values_without_a_verified_figure_now(catalog: Catalog) -> None:
    no_value = _entries(catalog, NO_VALUE, 30)
    stability = no_value["social_insurance.job_stability_return_rate_sme"][0]
    assert stability.day is None and "2026年是否延续未核实" in stability.detail
    assert "sme.specialized_score_min" in no_value           # 梯度培育: the 2026 revision is not held
    unverified = _entries(catalog, UNVERIFIED, 30)
    assert "finance.startup_loan_small_firm_cap" in unverified  # 400万元: a report, not a held text
    assert "hightech.henan_award_cap" in unverified and "未核实" in unverified["hightech.henan_award_cap"][0].detail
    assert "cit.standard_rate" not in unverified             # 企业所得税法 第四条: a held original


def test_a_dated_change_inside_the_window_says_from_what_to_what(catalog: Catalog) -> None:
    changes = _entries(catalog, CHANGES, 400, as_of=date(2025, 6, 1))
    (limit,) = changes["vat.small_scale_exemption_limit"]
    assert limit.day == date(2026, 1, 1) and limit.detail == "自2026-01-01起由10万元（含本数）变为10万元（不含本数）"
    assert "small_scale_vat_exemption" in limit.used_by


def test_items_resting_only_on_summaries_or_reports(catalog: Catalog) -> None:
    report_only = _entries(catalog, REPORT_ONLY, 30)
    assert "specialized_sme_support" in report_only          # a news report and a summary
    assert "small_low_profit_cit" not in report_only         # the 12号 clauses are held


def test_users_include_items_reading_a_parameter_through_a_derived_fact(catalog: Catalog) -> None:
    users = parameter_users(catalog)
    assert "rd_super_deduction" in users["cit.small_low_profit_effective_rate"]   # via cit_marginal_rate
    assert "hightech_cit_15pct" in users["hightech.cert_valid_years"]             # via hightech_valid
    assert "small_scale_vat_exemption" in users["vat.small_scale_exemption_limit"]


def test_a_parameter_older_than_a_document_that_mentions_it_is_flagged(catalog: Catalog) -> None:
    review = _entries(catalog, REVIEW, 30)
    # 财税〔2011〕100号 is continued by 2026年第10号 五、（四）1: a 2026 text names the notice the 2011 value rests on
    (software,) = review["vat.software_refund_burden"]
    assert "财政部 税务总局关于增值税法施行后增值税优惠政策衔接事项的公告" in software.detail and "2011-01-01" in software.detail
    assert "vat.small_scale_exemption_limit" not in review    # its newest value (2028) is newer than every mention
    assert any(d.doc_id == "cn_2026_10_vat_transition" for d in mentions(catalog.parameters["vat.software_refund_burden"],
                                                                          catalog.docs))


def test_a_new_document_flags_the_parameter_it_mentions(tmp_path: Path, catalog: Catalog) -> None:
    """The heuristic on a minimal catalog: a later document quoting a parameter's clause asks for a review."""
    quote = {"doc": "cn_law_enterprise_income_tax", "locator": "第四条", "quote": "企业所得税的税率为25％。"}
    folder = tmp_path / "parameters"
    folder.mkdir()
    (folder / "demo.yaml").write_text(yaml.safe_dump({"rate": {"description": "演示税率", "unit": "比例", "values": {
        "2008-01-01": {"value": 0.25, "cite": quote}}}}, allow_unicode=True), encoding="utf-8")
    plain = catalog_from_data([], {}, catalog.docs, parameters_dir=folder)
    assert not _entries(plain, REVIEW)
    newer = dict(catalog.docs)
    newer["demo_2026"] = replace(catalog.docs["cn_law_enterprise_income_tax"], doc_id="demo_2026", valid_from="2026-03-01",
                                 issued="2026-02-01", text="某公告：企业所得税的税率为25％。")
    flagged = catalog_from_data([], {}, newer, parameters_dir=folder)
    (entry,) = _entries(flagged, REVIEW)["demo.rate"]
    assert "2008-01-01" in entry.detail and "2026-03-01" in entry.detail


def test_rows_csv_and_json_are_in_chinese_and_plain(catalog: Catalog) -> None:
    watch = law_watch(AS_OF, 400, catalog)
    titles = {p.id: p.title for p in catalog.policies}
    rows = watch.rows(titles)
    assert list(rows[0]) == ["日期", "类别", "事项", "名称", "说明", "涉及政策", "编号"]
    for row in rows:                                         # words for people: no dotted names, no English
        assert not re.search(r"[A-Za-z]{3,}", row["名称"] + row["说明"] + row["涉及政策"]), row
    assert watch.to_csv(titles).startswith(b"\xef\xbb\xbf")
    data = json.loads(json.dumps(watch.to_json(), ensure_ascii=False))
    assert data["until"] == "2028-01-05" and data["counts"][EXPIRES] == len(watch.with_event(EXPIRES))
    with pytest.raises(UserError):
        law_watch(AS_OF, -1, catalog)


def test_cli_as_of_within(project_root: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "calculator", "catalog", *args], capture_output=True, text=True,
                              cwd=project_root, timeout=120)

    text = run("--as-of", "2026-12-01", "--within", "400")
    assert text.returncode == 0 and "法规变动提示：2026-12-01 至 2028-01-05（400 天）" in text.stdout
    assert "[2027-12-31] 政策条目·到期  小型微利企业所得税优惠（实际税负5%）" in text.stdout
    data = json.loads(run("--as-of", "2026-12-01", "--within", "30", "--json").stdout)
    assert data["ok"] and data["watch"]["within_days"] == 30 and not data["watch"]["counts"][EXPIRES]
    for bad in (["--as-of", "2026-13-01"], ["--within", "30"], ["--as-of", "2026-12-01", "--within", "-1"]):
        failed = run(*bad)
        assert failed.returncode != 0 and "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
