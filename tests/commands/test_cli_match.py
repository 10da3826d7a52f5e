"""The CLI as other systems use it: JSON contracts on stdout, one bilingual line and exit ≠ 0 on bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from paths import ROOT

RESULT_KEYS = {"policy_id", "title", "status", "benefit", "amount", "mode", "valid_until", "missing",
               "conditions", "citations"}


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALCULATOR_TODAY": "2026-11-23"}
    env.pop("CALCULATOR_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "calculator", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)


def assert_contract(data: dict[str, Any]) -> None:
    assert {"profile", "results"} <= set(data)
    for result in data["results"]:
        assert RESULT_KEYS <= set(result)
        assert all({"text", "outcome", "detail"} <= set(c) for c in result["conditions"])
        assert all({"doc_id", "doc_title", "doc_number", "locator", "quote"} <= set(c) for c in result["citations"])


def test_match_profile_file_json(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"industry": "制造业", "employees": 85, "total_assets": 2000,
                                "taxable_income": 200, "entity_type": "企业"}, ensure_ascii=False), encoding="utf-8")
    run = cli("match", "--profile", str(path), "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert_contract(data)
    by_id = {r["policy_id"]: r for r in data["results"]}
    assert by_id["small_low_profit_cit"]["status"] == "eligible" and by_id["small_low_profit_cit"]["amount"] == 40
    assert data["today"] == "2026-11-23"


def test_match_profile_from_stdin_with_today() -> None:
    run = cli("match", "--profile", "-", "--json", "--today", "2028-01-01",
              stdin=json.dumps({"employees": 85, "total_assets": 2000, "taxable_income": 200}))
    assert run.returncode == 0, run.stderr
    by_id = {r["policy_id"]: r for r in json.loads(run.stdout)["results"]}
    assert by_id["small_low_profit_cit"]["status"] == "not_eligible" and by_id["small_low_profit_cit"]["expired"]


def test_match_text_reports_what_was_understood() -> None:
    run = cli("match", "--text", "我们是建安区一家制造企业，员工85人，资产2000万，应纳税所得额200万元", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert_contract(data)
    understood = {u["field"]: u for u in data["understood"]}
    assert understood["employees"]["value"] == 85 and understood["county"]["value"] == "建安区"
    assert understood["employees"]["span"] == "员工85人" and understood["employees"]["how"] == "stated"
    assert "not_understood" in data
    by_id = {r["policy_id"]: r for r in data["results"]}
    assert by_id["small_low_profit_cit"]["status"] == "eligible"


def test_readable_output_without_json() -> None:
    run = cli("match", "--profile", "-", stdin=json.dumps({"employees": 85, "total_assets": 2000, "taxable_income": 200}))
    assert run.returncode == 0, run.stderr
    assert "✅ 符合" in run.stdout and "小型微利企业所得税优惠" in run.stdout and "摘要，以原文为准" in run.stdout


def test_schema_prints_the_profile_json_schema() -> None:
    run = cli("schema")
    assert run.returncode == 0
    schema = json.loads(run.stdout)
    assert schema["properties"]["employees"]["title"] == "从业人数"


def test_catalog_validates_and_reports() -> None:
    run = cli("catalog", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["ok"] and report["count"] == len(report["items"]) and report["quotes_verified"] > 0
    assert "校验通过" in cli("catalog").stdout


@pytest.mark.parametrize("args,stdin,words", [
    (("match", "--profile", "-", "--json"), '{"employees": -5}', "从业人数"),
    (("match", "--profile", "-", "--json"), '{"revenue": "abc"}', "营业收入"),
    (("match", "--profile", "-", "--json"), '{"employees": 85,', "JSON"),
    (("match", "--profile", "-", "--json"), '{"staff": 5}', "staff"),
    (("match", "--profile", "-", "--json"), '[1, 2]', "JSON 对象"),
    (("match", "--profile", "-", "--json"), '', "为空"),
    (("match", "--profile", "/no/such/profile.json", "--json"), None, "找不到"),
    (("match", "--profile", "-", "--today", "2026-13-01"), "{}", "YYYY-MM-DD"),
    (("match", "--text", "员工-5人", "--json"), None, "从业人数"),
    (("match", "--json"), None, "--profile"),
])
def test_bad_input_is_one_line_and_non_zero(args: tuple[str, ...], stdin: str | None, words: str) -> None:
    run = cli(*args, stdin=stdin)
    assert run.returncode != 0
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], run.stderr
    assert "Traceback" not in run.stderr and " / " in lines[0]  # Chinese, then English
