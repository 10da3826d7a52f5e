"""政策测算: a draft or a changed threshold over a register, beside the law as it is."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from batch_features import feature_knowledge
from paths import KNOWLEDGE

from calculator.core.errors import UserError
from calculator.facts.schema import load_schema
from calculator.registry.batch import BatchRequest, run_batch
from calculator.registry.synth import synthesize, write

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("whatif") / "register.parquet"
    schema = load_schema()
    write(synthesize(4000, 8, schema), path, schema)
    return path


@pytest.fixture(scope="module")
def baseline(register: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("base")
    run_batch(BatchRequest([str(register)], out, today=TODAY, outreach=False))
    return out


def _eligible(out: Path, policy_id: str) -> set[str]:
    rows = duckdb.execute(f"SELECT credit_code FROM read_parquet('{out / 'verdicts.parquet'}') "
                          f"WHERE policy_id = '{policy_id}' AND status = 'eligible'").fetchall()
    return {r[0] for r in rows}


def _draft(tmp_path: Path, change: Any) -> Path:
    item = yaml.safe_load((KNOWLEDGE / "policies" / "small_scale_vat_exemption.yaml").read_text(encoding="utf-8"))
    change(item)
    path = tmp_path / "draft.yaml"
    path.write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    return path


def _raise_limit(item: dict[str, Any]) -> None:
    """A local draft: monthly filers under 12万元 exempt too (beside the national 起征点, so nobody loses)."""
    cite = {"doc": "cn_2026_10_vat_transition", "locator": "一、（一）", "quote": "以一个月为一个计税期间的，起征点为月销售额10万元。"}
    item["conditions"]["all"][1] = {"any": [item["conditions"]["all"][1], {"all": [
        {"id": "draft_monthly", "text": "按月申报", "field": "vat_period", "op": "==", "value": "按月", "cite": cite},
        {"id": "draft_limit", "text": "月销售额未达到12万元", "field": "monthly_sales", "op": "<", "value": 12, "cite": cite}]}]}


def test_a_draft_says_who_newly_qualifies_by_group_and_what_it_costs(register: Path, baseline: Path, tmp_path: Path) -> None:
    draft = _draft(tmp_path, _raise_limit)
    result = run_batch(BatchRequest([str(register)], tmp_path / "out", today=TODAY, draft=draft))
    assert result.whatif is not None
    (change,) = result.whatif.changes
    before, after = _eligible(baseline, "small_scale_vat_exemption"), _eligible(tmp_path / "out", "small_scale_vat_exemption")
    assert change.gained == len(after - before) > 0 and change.lost == len(before - after) == 0
    assert (change.before, change.after) == (len(before), len(after)) and change.amount_after > change.amount_before
    groups = list(csv.DictReader((tmp_path / "out" / "whatif" / "by_group.csv").read_text(encoding="utf-8-sig").splitlines()))
    for dimension in ("所在区县", "所属行业", "企业规模"):
        assert sum(int(g["新增符合"]) for g in groups if g["维度"] == dimension) == change.gained
    png = tmp_path / "out" / "whatif" / "threshold.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and result.whatif.focus[0].fact == "monthly_sales"
    assert not (tmp_path / "out" / "outreach").exists()   # a draft is not law: nobody is told yet


def test_a_draft_is_checked_like_any_item(register: Path, tmp_path: Path) -> None:
    def misquote(item: dict[str, Any]) -> None:
        _raise_limit(item)
        item["conditions"]["all"][1]["any"][1]["all"][1]["cite"] = {**item["conditions"]["all"][1]["any"][1]["all"][1]["cite"],
                                                                    "quote": "月销售额不超过12万元"}
    with pytest.raises(UserError) as error:
        run_batch(BatchRequest([str(register)], tmp_path / "out", today=TODAY, draft=_draft(tmp_path, misquote)))
    assert "quote" in error.value.en or "原文" in error.value.zh
    with pytest.raises(UserError):
        run_batch(BatchRequest([str(register)], tmp_path / "out2", today=TODAY, draft=tmp_path / "absent.yaml"))


def test_a_changed_condition_threshold_reaches_every_item_using_it(register: Path, baseline: Path, tmp_path: Path) -> None:
    """A condition's own number (研发费用 > 0 → > 50) and a dated parameter of the real catalog."""
    result = run_batch(BatchRequest([str(register)], tmp_path / "out", today=TODAY, sets=["has_rd_expense=50"]))
    assert result.whatif is not None
    changed = {c.policy_id: c for c in result.whatif.changes}
    assert {"rd_super_deduction", "ic_machine_tool_rd_120"} <= set(changed)
    rd = changed["rd_super_deduction"]
    assert rd.lost == len(_eligible(baseline, "rd_super_deduction") - _eligible(tmp_path / "out", "rd_super_deduction")) > 0
    assert rd.gained == 0
    result = run_batch(BatchRequest([str(register)], tmp_path / "cap", today=TODAY,
                                    sets=["cit.small_low_profit_employees_cap=100"]))
    assert result.whatif is not None
    small = next(c for c in result.whatif.changes if c.policy_id == "small_low_profit_cit")   # via 小型微利企业
    assert small.lost == len(_eligible(baseline, "small_low_profit_cit") - _eligible(tmp_path / "cap", "small_low_profit_cit")) > 0
    assert small.gained == 0
    with pytest.raises(UserError, match="既不是参数"):
        run_batch(BatchRequest([str(register)], tmp_path / "bad", today=TODAY, sets=["no_such=3"]))


def test_a_changed_parameter_on_the_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = feature_knowledge(KNOWLEDGE, tmp_path / "knowledge")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(folder))
    source = tmp_path / "register.csv"
    schema = load_schema()
    write(synthesize(1500, 9, schema), source, schema)
    result = run_batch(BatchRequest([str(source)], tmp_path / "out", today=TODAY, sets=["demo.limit=12"]))
    assert result.whatif is not None
    (change,) = [c for c in result.whatif.changes if c.policy_id == "demo_threshold"]
    assert change.gained > 0 and result.whatif.focus[0].before == 10 and result.whatif.focus[0].after == 12
    assert (tmp_path / "out" / "whatif" / "threshold.png").exists()
