"""`python -m calculator batch` and `registry synth` as other systems and officials call them: files, exit codes, privacy."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest
from apprunner import CLEARED, ROOT

from calculator.core.vocabulary import ELIGIBLE, NEED_INFO, NOT_ELIGIBLE


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return subprocess.run([sys.executable, "-m", "calculator", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "register.csv"
    run = _run("registry", "synth", "--rows", "1500", "--seed", "4", "--out", str(path))
    assert run.returncode == 0, run.stderr
    return path


@pytest.fixture(scope="module")
def batch(register: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("batch") / "out"
    run = _run("batch", str(register), "--out", str(out), "--today", "2026-11-23", "--json")
    assert run.returncode == 0, run.stderr
    return out, run


def test_it_writes_every_table_under_out(batch: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = batch
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"verdicts.parquet", "verdicts.csv", "summary.csv", "data_gaps.csv", "register_issues.csv",
            "register_summary.json"} <= names
    assert any(n.startswith("outreach/") and n.endswith(".xlsx") for n in names)
    assert not (out / ".work").exists()   # the work folder is gone


def test_verdicts_have_the_contract_columns(batch: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, run = batch
    with (out / "verdicts.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:6] == ["credit_code", "name", "policy_id", "status", "amount", "missing"]
    assert {r["status"] for r in rows} == {ELIGIBLE, NEED_INFO, NOT_ELIGIBLE}
    assert all((r["missing"] != "") == (r["status"] == NEED_INFO) for r in rows)
    parquet = duckdb.execute(f"SELECT count(*), count(DISTINCT credit_code) FROM read_parquet('{out / 'verdicts.parquet'}')").fetchone()
    summary = json.loads(run.stdout)
    assert parquet == (len(rows), summary["register"]["enterprises"])
    assert summary["verdicts"] == len(rows) and summary["register"]["rows_read"] == 1500


def test_summary_lists_free_items_first_and_a_total(batch: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = batch
    rows = list(csv.reader((out / "summary.csv").read_text(encoding="utf-8-sig").splitlines()))
    modes = [r[2] for r in rows[1:-1]]
    assert modes == sorted(modes, key=lambda m: m != "免申即享") and rows[-1][0] == "合计"
    assert all(int(r[5]) + int(r[6]) + int(r[7]) == int(rows[1][5]) + int(rows[1][6]) + int(rows[1][7]) for r in rows[1:-1])


def test_data_gaps_name_the_department_holding_each_fact(batch: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = batch
    rows = list(csv.DictReader((out / "data_gaps.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows and all(r["数据持有部门"] for r in rows)
    holders = {r["字段"]: r["数据持有部门"] for r in rows}
    assert holders.get("taxable_income") == "税务" and holders.get("insured_months", "人社") == "人社"
    settled = [int(r["仅差该事实的判定数"]) for r in rows]
    assert settled == sorted(settled, reverse=True)


def test_outreach_lists_open_and_hold_the_eligible(batch: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = batch
    path = next((out / "outreach").glob("*.xlsx"))
    book = openpyxl.load_workbook(path)
    names = book.sheetnames
    rows = list(book[names[0]].iter_rows(values_only=True))
    assert names == ["名单", "说明"] and rows[0] == ("企业名称", "统一社会信用代码", "所在区县", "优惠内容", "估算金额（万元）", "需要做什么")
    eligible = duckdb.execute(f"SELECT count(*) FROM read_parquet('{out / 'verdicts.parquet'}') "
                              f"WHERE policy_id = '{path.stem}' AND status = 'eligible'").fetchone()
    assert eligible == (len(rows) - 1,)


def test_names_and_codes_never_reach_the_log(batch: tuple[Path, subprocess.CompletedProcess[str]], register: Path) -> None:
    _, run = batch
    with register.open(encoding="utf-8") as handle:
        sample = [r for _, r in zip(range(200), csv.DictReader(handle))]
    for row in sample:
        assert not row["name"] or row["name"] not in run.stderr
        assert not row["credit_code"] or row["credit_code"] not in run.stderr
    assert "读取并校验登记表" in run.stderr and "判定" in run.stderr


def test_bad_invocations_exit_with_one_line(tmp_path: Path, register: Path) -> None:
    missing = _run("batch", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "o1"))
    assert missing.returncode == 2 and "找不到" in missing.stderr and "Traceback" not in missing.stderr
    no_codes = tmp_path / "no_codes.csv"
    no_codes.write_text("credit_code,employees\n12345,10\n", encoding="utf-8")
    empty = _run("batch", str(no_codes), "--out", str(tmp_path / "o2"))
    assert empty.returncode == 3 and len(empty.stderr.strip().splitlines()) <= 2
    unknown = _run("batch", str(register), "--out", str(tmp_path / "o3"), "--policy", "no_such_item")
    assert unknown.returncode == 2 and "no_such_item" in unknown.stderr
    day = _run("batch", str(register), "--out", str(tmp_path / "o4"), "--today", "2026-13-01")
    assert day.returncode == 2 and "YYYY-MM-DD" in day.stderr


def test_policy_choice_and_json_output(tmp_path: Path, register: Path) -> None:
    out = tmp_path / "out"
    run = _run("batch", str(register), "--out", str(out), "--policy", "small_low_profit_cit", "--policy",
               "small_scale_vat_exemption", "--no-outreach", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert [p["policy_id"] for p in result["policies"]] == ["small_low_profit_cit", "small_scale_vat_exemption"]
    assert not (out / "outreach").exists()
