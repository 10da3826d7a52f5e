"""`match --text` end to end on realistic descriptions: the parser and the engine must agree with the table."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from paths import DATA

from calculator.facts.parse import parse_text
from calculator.policy.match import match_profile

CASES = yaml.safe_load((DATA / "match_text_cases.yaml").read_text(encoding="utf-8"))
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:24] for c in CASES])
def test_description_gives_the_expected_verdicts(case: dict[str, Any]) -> None:
    parsed = parse_text(case["text"])
    assert not parsed.errors, parsed.errors
    results = {r["policy_id"]: r for r in match_profile(parsed.updates, today=TODAY).to_json()["results"]}
    got = {pid: results[pid]["status"] for pid in case["expect"]}
    assert got == case["expect"], parsed.updates
    for pid, facts in case.get("missing", {}).items():
        assert set(results[pid]["missing"]) == set(facts), (pid, results[pid]["missing"])
