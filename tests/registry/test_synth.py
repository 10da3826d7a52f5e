"""The synthetic 许昌 register: reproducible, plausible, imperfect on purpose, and its rows are `match --profile` inputs."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from apprunner import CLEARED, ROOT

from calculator.facts.codes import credit_code_ok
from calculator.policy.catalog import load_catalog
from calculator.policy.match import match_profile
from calculator.registry.batch import BatchRequest, run_batch
from calculator.registry.synth import COUNTIES, synthesize, write

ROWS = 3000
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "register.csv"
    schema = load_catalog().schema
    write(synthesize(ROWS, 11, schema), path, schema)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_same_seed_gives_the_same_register(tmp_path: Path, register: Path) -> None:
    schema = load_catalog().schema
    again = tmp_path / "again.csv"
    write(synthesize(ROWS, 11, schema), again, schema)
    other = tmp_path / "other.csv"
    write(synthesize(ROWS, 12, schema), other, schema)
    assert again.read_bytes() == register.read_bytes() and other.read_bytes() != register.read_bytes()


def test_it_looks_like_xuchang_and_is_imperfect_on_purpose(register: Path) -> None:
    rows = _rows(register)
    counties = Counter(r["county"] for r in rows if r["county"])
    for county, share in COUNTIES.items():
        assert abs(counties[county] / sum(counties.values()) - share) < 0.03, county
    entities = Counter(r["entity_type"] for r in rows if r["entity_type"])
    assert 0.6 < entities["个体工商户"] / sum(entities.values()) < 0.72
    assert 0.1 < sum(not r["revenue"] for r in rows) / len(rows) < 0.2          # registers lack facts
    codes = [r["credit_code"] for r in rows]
    assert sum(not c for c in codes) >= 1 and sum(bool(c) and not credit_code_ok(c) for c in codes) >= 1
    assert 1 <= len(codes) - len(set(codes)) <= ROWS // 200                      # a few repeated codes
    assert any(r["employees"].startswith("约") for r in rows)                    # and some bad values
    assert all("（样例）" in r["name"] for r in rows if r["name"])               # no real enterprise


def test_its_rows_as_json_are_profiles_with_the_batch_verdicts(register: Path, tmp_path: Path) -> None:
    result = run_batch(BatchRequest([str(register)], tmp_path / "out", today=TODAY, outreach=False))
    assert result.register.enterprises > ROWS * 0.98
    flagged = {int(r[1]) for r in csv.reader((tmp_path / "out" / "register_issues.csv").read_text(encoding="utf-8-sig").splitlines()[1:])}
    verdicts: dict[str, dict[str, str]] = {}
    with (tmp_path / "out" / "verdicts.csv").open(encoding="utf-8") as handle:
        for v in csv.DictReader(handle):
            verdicts.setdefault(v["credit_code"], {})[v["policy_id"]] = v["status"]
    catalog = load_catalog()
    clean = [(i, r) for i, r in enumerate(_rows(register), 1) if i not in flagged][:300]
    for _, row in clean:
        profile = {k: v for k, v in row.items() if v != ""}
        statuses = {r.policy.id: r.status for r in match_profile(json.loads(json.dumps(profile)), catalog, TODAY).results}
        assert statuses == verdicts[row["credit_code"]]
    profile_file = tmp_path / "row.json"
    profile_file.write_text(json.dumps({k: v for k, v in clean[0][1].items() if v != ""}, ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    run = subprocess.run([sys.executable, "-m", "calculator", "match", "--profile", str(profile_file), "--json",
                          "--today", TODAY.isoformat()], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    cli = {r["policy_id"]: r["status"] for r in json.loads(run.stdout)["results"]}
    assert cli == verdicts[clean[0][1]["credit_code"]]
