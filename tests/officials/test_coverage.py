"""Coverage gaps: segments generated from the profile data, judged by the engine, reported and drawn."""
from __future__ import annotations

import copy
import csv
import dataclasses
import io
import itertools
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import yaml
from paths import ROOT

from calculator.facts.schema import default_schema
from calculator.officials import coverage
from calculator.officials.coverage import NO_CERT, Segment, coverage_report, dimension_values, segment_facts, segments
from calculator.policy.catalog import Catalog, catalog_from_data, load_catalog

FIELDS, SETS = default_schema().fields, default_schema().sets
REGIONS, SIZE_STANDARDS = default_schema().tables.regions, default_schema().tables.size_standards

TODAY = date(2026, 11, 23)
POLICIES = ROOT / "knowledge" / "policies"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def report(catalog: Catalog) -> coverage.CoverageReport:
    return coverage_report(catalog, TODAY)


def _only(catalog: Catalog, *ids: str) -> Catalog:
    """The real catalog restricted to some items (same compiled trees, a different fingerprint)."""
    return dataclasses.replace(catalog, policies=[catalog.get(i) for i in ids])


# ---------------------------------------------------------------- segments

def test_segments_are_every_combination_of_the_profile_data() -> None:
    values = dimension_values()
    assert values["county"] == tuple(REGIONS)
    assert set(values["size_group"]) == set(SIZE_STANDARDS["groups"])
    assert values["size_class"] == ("大型", "中型", "小型", "微型")
    assert values["certification"] == (NO_CERT, *(FIELDS[m].label for m in SETS["certifications"]))
    assert values["taxpayer_type"] == FIELDS["taxpayer_type"].choices
    all_segments = segments()
    assert len(all_segments) == len(list(itertools.product(*values.values())))
    assert len({s.key for s in all_segments}) == len(all_segments)


@pytest.mark.parametrize("group", list(SIZE_STANDARDS["groups"]))
def test_each_size_class_profile_lands_in_its_band(group: str) -> None:
    for size_class in ("大型", "中型", "小型", "微型"):
        facts = segment_facts(Segment("魏都区", group, size_class, NO_CERT, "一般纳税人"), TODAY)
        assert facts["size_class"] == size_class  # also asserted inside segment_facts: here it must not raise


def test_representative_profile_leaves_other_facts_unknown() -> None:
    facts = segment_facts(Segment("长葛市", "工业", "小型", "高新技术企业", "小规模纳税人"), TODAY)
    assert facts["taxable_income"] is None and facts["founded"] is None and facts["entity_type"] is None
    assert facts["industry"] is None  # 工业 spans 采矿/制造/烟草/电力: which one is not part of the segment
    assert facts["cert_hightech"] is True and facts["cert_tech_sme"] is False
    assert facts["in_xuchang"] is True and facts["is_sme"] is True
    farm = segment_facts(Segment("许昌市外", "农、林、牧、渔业", "微型", NO_CERT, "一般纳税人"), TODAY)
    assert farm["industry"] == "农林牧渔业" and farm["in_xuchang"] is False


# ---------------------------------------------------------------- the report on the real catalog

def test_counts_follow_the_engine(report: coverage.CoverageReport, catalog: Catalog) -> None:
    current = {p.policy_id for p in report.policies}
    assert current == {p.id for p in catalog.policies if p.status_on(TODAY) == "current"}
    assert "job_stability_return" in {p["policy_id"] for p in report.not_current}  # lapsed 2025-12-31
    for s in report.segments:
        assert set(s.eligible) <= current and set(s.need_info) <= current
        assert not set(s.eligible) & set(s.need_info)
        small_scale = s.segment.taxpayer_type == "小规模纳税人"
        assert ("six_taxes_two_fees" in s.eligible) is small_scale
        # from 2026 the 1% rate is for sales that reach the 起征点 (2026年第10号 三（三）6), which a segment
        # does not know: possible for every 小规模纳税人, certain for none
        assert ("small_scale_vat_1pct" in s.need_info) is small_scale and "small_scale_vat_1pct" not in s.eligible
        assert ("hightech_cit_15pct" in s.eligible) is (s.segment.certification == "高新技术企业")


def test_zero_eligible_segments_are_the_general_taxpayers_without_a_certificate(report: coverage.CoverageReport) -> None:
    zero = report.zero_eligible()
    assert zero and len(zero) < len(report.segments)
    assert all(s.segment.taxpayer_type == "一般纳税人" and s.segment.certification != "高新技术企业"
               and s.segment.size_group != "农、林、牧、渔业" for s in zero)
    assert report.summary()["zero_eligible"] == len(zero)
    taxpayer = next(c for c in report.contrasts() if c["dimension"] == "taxpayer_type")
    assert taxpayer["buckets"][0]["values"] == ["一般纳税人"] and taxpayer["buckets"][-1]["zero_eligible"] == 0


def test_a_catalog_that_misses_groups_shows_them_as_gaps(catalog: Catalog) -> None:
    narrow = coverage_report(_only(catalog, "small_scale_vat_1pct"), TODAY)
    gaps = narrow.gaps()
    assert gaps and all(g.segment.taxpayer_type == "一般纳税人" for g in gaps)
    assert len(gaps) == len(narrow.segments) // 2
    rows = narrow.rows()
    assert rows[0]["缺口"] == "无政策覆盖" and (rows[-1]["符合"], rows[-1]["可能符合"]) == (0, 1)  # least covered first
    assert [r["缺口"] for r in narrow.rows(gaps)] == ["无政策覆盖"] * len(gaps)


def test_a_policy_no_segment_can_meet_is_reported(catalog: Catalog) -> None:
    """Two certificates at once: every generated segment holds one at most, so nothing reaches it."""
    raw = yaml.safe_load((POLICIES / "hightech_cit_15pct.yaml").read_text(encoding="utf-8"))
    item = copy.deepcopy(raw)
    definitions = yaml.safe_load((POLICIES / "_definitions.yaml").read_text(encoding="utf-8"))
    cite = definitions["definitions"]["高新技术企业（有效期内）"]["cite"]
    leaf = {"id": "hightech", "text": "高新技术企业", "field": "cert_hightech", "op": "==", "value": True, "cite": cite}
    item["id"] = "two_certificates"
    item["alternatives"] = []
    item["conditions"] = {"all": [leaf, dict(leaf, id="tech_sme", field="cert_tech_sme")]}
    raw["alternatives"] = []   # its alternative (小型微利) is not in this synthetic catalog
    synthetic = catalog_from_data([raw, item], definitions, catalog.docs)
    result = coverage_report(synthetic, TODAY)
    unreached = {p["policy_id"]: p for p in result.unreached_policies()}
    assert unreached["two_certificates"]["unreached"] is True
    assert "hightech_cit_15pct" not in unreached


def test_overlaps_levels_and_departments_add_up(report: coverage.CoverageReport) -> None:
    top = report.overlaps(3)[0]
    assert {top["a"], top["b"]} == {"six_taxes_two_fees", "specialized_sme_support"}
    # both certain for every 小规模纳税人 (half) holding one of the two 专精特新 titles (2 of 6) in 许昌 (10 of 11)
    assert top["segments"] == len(report.segments) // 2 * 2 // 6 * 10 // 11
    assert sum(level["policies"] for level in report.by_level()) == len(report.policies)
    assert sum(d["policies"] for d in report.by_department()) == len(report.policies)
    national = next(level for level in report.by_level() if level["level"] == "national")
    national_ids = {p.policy_id for p in report.policies if p.level == "national"}
    reached = sum(bool(set(s.eligible) & national_ids) for s in report.segments)
    # some segments are certain only for a 许昌 item (专精特新企业培育支持): fewer than all with anything certain
    assert national["segments_eligible"] == reached < len(report.segments) - len(report.zero_eligible())


def test_report_is_cached_per_catalog_and_day(catalog: Catalog) -> None:
    first = coverage_report(catalog, TODAY)
    assert coverage_report(catalog, TODAY) is first
    later = coverage_report(catalog, date(2028, 1, 1))  # the 2023 tax notices lapsed on 2027-12-31
    assert later is not first
    assert "small_scale_vat_1pct" in {p["policy_id"] for p in later.not_current}


def test_fast_enough_for_the_app(catalog: Catalog) -> None:
    started = time.perf_counter()
    fresh = coverage._compute(catalog, TODAY, "timing")
    seconds = time.perf_counter() - started
    print(f"coverage: {len(fresh.segments)} segments × {len(fresh.policies)} policies in {seconds:.2f} s")
    assert len(fresh.segments) > 1000
    assert seconds < 5


# ---------------------------------------------------------------- outputs

def test_json_and_csv(report: coverage.CoverageReport) -> None:
    data = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    assert data["summary"]["segments"] == len(data["segments"]) == len(report.segments)
    assert data["grid"]["rows"] == list(dimension_values()["size_group"])
    raw = report.to_csv()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == len(report.segments)
    assert {"所在区县", "划型行业", "企业规模", "资质", "增值税纳税人类型", "符合", "可能符合", "缺口"} <= set(rows[0])


def test_heatmap_png(report: coverage.CoverageReport, artifacts_dir: Path) -> None:
    from calculator.officials.plots import CJK_FONT_FILES, cjk_font, heatmap

    target = artifacts_dir / "coverage_heatmap.png"
    data = heatmap(report, target)
    assert data.startswith(b"\x89PNG") and target.read_bytes() == data
    assert len(data) > 50_000
    if any(path.exists() for path in CJK_FONT_FILES):
        assert cjk_font()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "calculator", "coverage", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_cli(tmp_path: Path, project_root: Path) -> None:
    out = _cli("--json", "--today", "2026-11-23", "--csv", str(tmp_path / "gaps.csv"), "--png", str(tmp_path / "map.png"),
               cwd=project_root)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["today"] == "2026-11-23"
    assert (tmp_path / "gaps.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (tmp_path / "map.png").read_bytes().startswith(b"\x89PNG")
    bad = _cli("--today", "2026-02-30", cwd=project_root)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
