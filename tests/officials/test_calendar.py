"""Policy calendar: validity windows on a given day, and the texts to double-check."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from calculator.core.errors import UserError
from calculator.officials.calendar import EXPIRED, EXPIRING, IN_FORCE, NOT_YET, document_reasons, policy_calendar
from calculator.policy.catalog import Catalog, load_catalog

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _state(catalog: Catalog, policy_id: str, today: date, within: int = 90) -> str:
    calendar = policy_calendar(today, within, catalog)
    return next(i.state for i in calendar.items if i.policy_id == policy_id)


def test_states_on_the_test_day(catalog: Catalog) -> None:
    calendar = policy_calendar(TODAY, 90, catalog)
    by_id = {i.policy_id: i for i in calendar.items}
    assert by_id["job_stability_return"].state == EXPIRED  # 稳岗返还 ran to 2025-12-31
    assert by_id["job_stability_return"].days_left == -327
    assert by_id["small_low_profit_cit"].state == IN_FORCE and by_id["small_low_profit_cit"].days_left == 403
    assert by_id["hightech_cit_15pct"].days_left is None  # no end date
    counts = calendar.counts()
    assert counts[EXPIRED] == 4 and counts[IN_FORCE] + counts[EXPIRED] == len(catalog.policies)
    assert [i.state for i in calendar.items] == sorted((i.state for i in calendar.items),
                                                       key=[EXPIRING, NOT_YET, IN_FORCE, EXPIRED].index)


def test_expiring_window_and_its_edges(catalog: Catalog) -> None:
    until = catalog.get("small_low_profit_cit").valid_until
    assert until == date(2027, 12, 31)
    assert _state(catalog, "small_low_profit_cit", until - timedelta(days=60), within=60) == EXPIRING
    assert _state(catalog, "small_low_profit_cit", until - timedelta(days=61), within=60) == IN_FORCE
    assert _state(catalog, "small_low_profit_cit", until) == EXPIRING  # the last day still counts
    assert _state(catalog, "small_low_profit_cit", until + timedelta(days=1)) == EXPIRED
    calendar = policy_calendar(date(2027, 11, 1), 60, catalog)
    expiring = {i.policy_id for i in calendar.with_state(EXPIRING)}
    assert {"small_low_profit_cit", "six_taxes_two_fees", "small_scale_vat_1pct"} <= expiring
    assert all(i.days_left == 60 for i in calendar.with_state(EXPIRING))


def test_not_yet_in_force(catalog: Catalog) -> None:
    start = catalog.get("agricultural_producer_vat_exemption").valid_from  # 增值税法, 2026-01-01
    assert _state(catalog, "agricultural_producer_vat_exemption", start - timedelta(days=1)) == NOT_YET
    assert _state(catalog, "agricultural_producer_vat_exemption", start) == IN_FORCE
    item = next(i for i in policy_calendar(date(2025, 12, 1), 90, catalog).items
                if i.policy_id == "agricultural_producer_vat_exemption")
    assert item.days_to_start == 31


def test_documents_in_doubt(catalog: Catalog) -> None:
    docs = {d.doc_id: d for d in policy_calendar(TODAY, 90, catalog).documents}
    stability = docs["cn_unemployment_insurance_job_stability"]
    assert any("摘要" in r for r in stability.reasons) and any("2025-12-31 到期" in r for r in stability.reasons)
    assert stability.cited_by == ("job_stability_return",)
    assert any("不完整" in r for r in docs["henan_reg_vocational_training"].reasons)
    old_award = docs["henan_hightech_first_recognition_award"]      # the 30/20/10万 bands of an older scheme
    assert any(r.startswith("已被取代：") for r in old_award.reasons) and old_award.cited_by == ()
    vat_2023 = docs["cn_2023_19_small_scale_vat_official"]          # stopped by 2026年第10号 第六条
    assert "已于 2025-12-31 到期" in vat_2023.reasons and "已被取代：财政部 税务总局公告2026年第10号" in vat_2023.reasons
    assert "cn_law_enterprise_income_tax" not in docs  # full text, no end date, nothing to check
    for flag in docs.values():                       # maintainers' notes (English) never reach officials
        assert not re.search(r"[A-Za-z]{4,}", "".join(flag.reasons).replace("full/partial", "")), flag.doc_id


def test_document_reasons_read_the_front_matter() -> None:
    def doc(**fields: str) -> SimpleNamespace:
        base = {"kind": "policy", "completeness": "", "valid_until": "", "note": "", "caveat": "", "superseded_by": ""}
        return SimpleNamespace(**{**base, **fields})

    assert document_reasons(doc(completeness="full", valid_until=""), TODAY, 90) == []   # null: no end stated
    assert document_reasons(doc(valid_until="2026-12-31"), TODAY, 90) == ["将于 2026-12-31 到期"]
    assert document_reasons(doc(valid_until="2026-12-31"), TODAY, 30) == []
    # an uploaded text with a remark instead of a date: flagged, the remark itself not echoed
    assert document_reasons(doc(valid_until="PROBABLY SUPERSEDED by a 2024 regulation"), TODAY, 90) == ["有效期未以日期载明，需核实"]
    assert document_reasons(doc(note="interplay NOT verified"), TODAY, 90) == []   # notes are for maintainers
    assert document_reasons(doc(completeness="partial"), TODAY, 90) == ["正文不完整（仅部分条款入库）"]
    assert document_reasons(doc(superseded_by="财政部 税务总局公告2026年第10号（official/cn_2026_10_vat_transition.md）"),
                            TODAY, 90) == ["已被取代：财政部 税务总局公告2026年第10号"]
    assert document_reasons(doc(kind="summary"), TODAY, 90) == ["仅有本项目摘要，原文未入库（以原文为准）"]


def test_csv_json_and_bad_input(catalog: Catalog) -> None:
    calendar = policy_calendar(TODAY, 90, catalog)
    raw = calendar.to_csv()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == len(calendar.items) + len(calendar.documents)
    data = calendar.to_json()
    assert data["counts"]["expired"] == 4 and data["items"][0]["state_label"]
    with pytest.raises(UserError):
        policy_calendar(TODAY, -1, catalog)


def test_cli(project_root: Path, tmp_path: Path) -> None:
    run = [sys.executable, "-m", "calculator", "calendar"]
    out = subprocess.run([*run, "--json", "--today", "2027-11-01", "--within", "60"], capture_output=True,
                         text=True, cwd=project_root, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["counts"]["expiring"] >= 3
    text = subprocess.run([*run, "--today", "2026-11-23"], capture_output=True, text=True, cwd=project_root, timeout=120)
    assert text.returncode == 0 and "已到期" in text.stdout and "job_stability_return" in text.stdout
    written = subprocess.run([*run, "--csv", str(tmp_path / "cal.csv")], capture_output=True, text=True,
                             cwd=project_root, timeout=120)
    assert written.returncode == 0 and (tmp_path / "cal.csv").exists()
