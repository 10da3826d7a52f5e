"""Subscriptions (精准推送): a saved profile is told about an item added to the catalog, once, with why.

The catalog is a temporary copy of knowledge/ (KNOWLEDGE_DIR) so adding and editing items touches
nothing real; the database is a temporary file (SUBSCRIPTIONS_DB).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from calculator.core.errors import UserError
from calculator.officials import subscriptions
from calculator.policy.catalog import load_catalog
from calculator.policy.match import match_profile

TODAY = date(2026, 11, 23)
NEW_ID = "xuchang_manufacturing_test_award"
NEW_ITEM = f"""
id: {NEW_ID}
title: 许昌市制造业企业测试奖补
issuer: 许昌市人民政府
level: xuchang
department: 许昌市工业和信息化局
benefit: 注册在许昌的制造业企业可申请测试奖补
caveat: 测试条目，引用的河南省文件为摘要
mode: 需申报
apply:
  how: 向市工业和信息化局申报
validity: {{from: 2026-01-01, until: null}}
conditions:
  all:
    - id: in_xuchang
      text: 注册在许昌
      field: in_xuchang
      op: "=="
      value: true
      cite: {{doc: henan_hightech_first_recognition_award, locator: 对象, quote: "郑洛新国家自主创新示范区内企业另按示范区政策执行（许昌不在其内）"}}
    - id: manufacturing
      text: 从事制造业
      field: industry
      op: "=="
      value: 制造业
      cite: {{doc: 003_8975ab261d4dbbb2, locator: 第1段, quote: "落实国家降低制造业增值税税负"}}
citations:
  - {{doc: 003_8975ab261d4dbbb2, locator: 第1段, quote: "落实国家降低制造业增值税税负"}}
"""
GOLDEN = """
- name: 许昌制造业企业
  profile: {county: 魏都区, industry: 制造业}
  status: eligible
- name: 区县未知
  profile: {industry: 制造业}
  status: need_info
  missing: [in_xuchang]
- name: 许昌市外
  profile: {county: 许昌市外, industry: 制造业}
  status: not_eligible
"""
FACTORY = {"name": "许昌某某机械有限公司", "credit_code": "91411000MA44KD7R1T", "county": "魏都区",
           "industry": "制造业", "employees": 85, "revenue": 3000, "taxpayer_type": "一般纳税人"}
OUTSIDE = {"county": "许昌市外", "industry": "制造业", "employees": 10}
UNSURE = {"industry": "制造业"}


@pytest.fixture
def knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project_root: Path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(project_root / "knowledge", copy, ignore=shutil.ignore_patterns("uploads"))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(copy))
    monkeypatch.setenv("SUBSCRIPTIONS_DB", str(tmp_path / "subs.sqlite3"))
    monkeypatch.setenv("CALCULATOR_TODAY", TODAY.isoformat())
    return copy


def _add_item(knowledge: Path, text: str = NEW_ITEM) -> None:
    (knowledge / "policies" / f"{NEW_ID}.yaml").write_text(text, encoding="utf-8")
    golden = knowledge / "golden" / f"{NEW_ID}.yaml"  # the item's golden file travels with it
    golden.parent.mkdir(exist_ok=True)
    golden.write_text(GOLDEN, encoding="utf-8")


def test_new_item_is_told_once_with_why(knowledge: Path) -> None:
    token = subscriptions.subscribe(FACTORY, today=TODAY)
    assert subscriptions.check(token, today=TODAY) == []  # what matched at saving time is the baseline
    _add_item(knowledge)
    catalog = load_catalog()
    for case in yaml.safe_load((knowledge / "golden" / f"{NEW_ID}.yaml").read_text(encoding="utf-8")):
        result = match_profile(case["profile"], catalog=catalog, today=TODAY).result(NEW_ID)
        assert result.status == case["status"], case["name"]
        assert set(result.missing) == set(case.get("missing", []))
    notices = subscriptions.check(token, today=TODAY)
    assert [(n.policy_id, n.change, n.status) for n in notices] == [(NEW_ID, "new", "eligible")]
    assert notices[0].met == ["注册在许昌", "从事制造业"] and notices[0].missing == []
    assert subscriptions.check(token, today=TODAY) == []  # told once


def test_changed_content_and_need_info_are_news(knowledge: Path) -> None:
    told = subscriptions.subscribe(FACTORY, today=TODAY)
    unsure = subscriptions.subscribe(UNSURE, today=TODAY)
    outside = subscriptions.subscribe(OUTSIDE, today=TODAY)
    _add_item(knowledge)
    subscriptions.check(told, today=TODAY)
    _add_item(knowledge, NEW_ITEM.replace("可申请测试奖补", "可申请测试奖补（标准提高）"))
    changed = subscriptions.check(told, today=TODAY, mark=False)
    assert [(n.policy_id, n.change) for n in changed] == [(NEW_ID, "changed")]
    assert subscriptions.check(told, today=TODAY, mark=False) == changed  # mark=False records nothing
    maybe = subscriptions.check(unsure, today=TODAY)
    assert [(n.policy_id, n.status) for n in maybe] == [(NEW_ID, "need_info")]
    assert maybe[0].missing == ["注册在许昌"] and maybe[0].met == ["从事制造业"]
    assert subscriptions.check(outside, today=TODAY) == []  # not eligible outside 许昌: nothing to tell


def test_notify_command_names_no_one(knowledge: Path, project_root: Path) -> None:
    token = subscriptions.subscribe(FACTORY, today=TODAY)
    subscriptions.subscribe(OUTSIDE, today=TODAY)
    _add_item(knowledge)
    cmd = [sys.executable, "-m", "calculator", "notify", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=project_root, env=os.environ.copy(), timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["subscriptions"] == 2
    assert [(n["subscription"], [x["policy_id"] for x in n["notices"]]) for n in data["notified"]] == [(1, [NEW_ID])]
    for secret in (FACTORY["name"], FACTORY["credit_code"], token):
        assert secret not in out.stdout and secret not in out.stderr
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=project_root, env=os.environ.copy(), timeout=120)
    assert json.loads(again.stdout)["notified"] == []  # marked as told by the first run


def test_stored_safely_and_deletable(knowledge: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = subscriptions.subscribe(FACTORY, today=TODAY)
    assert subscriptions.profile_of(token)["name"] == FACTORY["name"]  # stored, as the user asked
    raw = sqlite3.connect(os.environ["SUBSCRIPTIONS_DB"]).execute("SELECT * FROM subscriptions").fetchall()
    assert token not in repr(raw)  # only the token's hash is kept
    assert FACTORY["name"] not in caplog.text and FACTORY["credit_code"] not in caplog.text
    assert subscriptions.delete(token) is True
    assert subscriptions.delete(token) is False
    with pytest.raises(UserError):
        subscriptions.check(token, today=TODAY)
    assert subscriptions.count() == 0


def test_invalid_profile_is_refused(knowledge: Path) -> None:
    with pytest.raises(UserError, match="从业人数"):
        subscriptions.subscribe({"employees": -5})
    with pytest.raises(UserError):
        subscriptions.check("no-such-token")
