"""Golden cases, the OpenFisca way: tests/golden/<policy_id>.yaml lists profile → expected verdict.

Each case: {name, today?, profile, status, amount?, missing?}. Every policy in the catalog must have a
golden file, and each file must reach all three verdicts (at a threshold, one past it, and with the
deciding fact unknown) and test a day on each side of every dated change of its law (validity start
and end, a new value of a parameter it reads), so a new policy cannot land untested.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from paths import GOLDEN

from calculator.core.config import get_settings
from calculator.core.vocabulary import ELIGIBLE, NEED_INFO, NOT_ELIGIBLE
from calculator.policy.catalog import Catalog, load_catalog
from calculator.policy.match import match_profile
from calculator.policy.rules.tree import Leaf

GOLDEN_DIR = GOLDEN
CASE_KEYS = {"name", "today", "profile", "status", "amount", "missing"}
STATUSES = {ELIGIBLE, NEED_INFO, NOT_ELIGIBLE}


def _load(path: Path) -> list[dict[str, Any]]:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(cases, list) and cases, f"{path.name}: a golden file is a non-empty YAML list of cases"
    return cases


def _params() -> list[Any]:
    params = []
    for path in sorted(GOLDEN_DIR.glob("*.yaml")):
        for i, case in enumerate(_load(path)):
            name = case.get("name", f"case {i}") if isinstance(case, dict) else f"case {i}"
            params.append(pytest.param(path.stem, case, id=f"{path.stem}::{name}"))
    return params


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_every_policy_has_a_golden_file(catalog: Catalog) -> None:
    missing = [p.id for p in catalog.policies if not (GOLDEN_DIR / f"{p.id}.yaml").exists()]
    assert not missing, f"policies without tests/golden/<id>.yaml: {missing}"


def test_every_golden_file_names_a_policy(catalog: Catalog) -> None:
    known = {p.id for p in catalog.policies}
    stale = [p.stem for p in GOLDEN_DIR.glob("*.yaml") if p.stem not in known]
    assert not stale, f"golden files for policies not in the catalog: {stale}"


@pytest.mark.parametrize("path", sorted(GOLDEN_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_file_reaches_every_verdict(path: Path) -> None:
    reached = {case.get("status") for case in _load(path) if isinstance(case, dict)}
    assert STATUSES <= reached, f"{path.name}: no case for {sorted(STATUSES - reached)}"


def _today(case: dict[str, Any]) -> date | None:
    value = case.get("today")
    return date.fromisoformat(value) if isinstance(value, str) else value


def _changes(catalog: Catalog, policy_id: str) -> list[tuple[date, str]]:
    """The days an item's law changes: its validity starts and ends, and a parameter it reads takes a new
    value within that window."""
    policy = catalog.get(policy_id)
    start, until = policy.valid_from, policy.valid_until
    end = date.fromordinal(until.toordinal() + 1) if until else None
    used = {leaf.param for leaf in policy.conditions.walk(into_refs=True) if isinstance(leaf, Leaf) and leaf.param}
    used |= set(policy.amount.parameters if policy.amount else ())
    changes = [(start, "validity.from")] if start else []
    changes += [(end, "validity.until")] if end else []
    for name in sorted(used):
        for value in catalog.parameters[name].values[1:]:
            if (start is None or value.start > start) and (end is None or value.start <= end):
                changes.append((value.start, name))
    return sorted(set(changes))


@pytest.mark.parametrize("path", sorted(GOLDEN_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_golden_file_tests_both_sides_of_every_dated_change(catalog: Catalog, path: Path) -> None:
    days = [_today(case) or get_settings().today for case in _load(path)]   # no today: the tests' default day
    one_sided = [f"{day} ({what})" for day, what in _changes(catalog, path.stem)
                 if not (any(d < day for d in days) and any(d >= day for d in days))]
    assert not one_sided, f"{path.name}: no case on one side of {one_sided}"


@pytest.mark.parametrize("policy_id,case", _params())
def test_golden_case(catalog: Catalog, policy_id: str, case: Any) -> None:
    assert isinstance(case, dict), "a case is a mapping"
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"unknown keys {sorted(unknown)} (allowed: {sorted(CASE_KEYS)})"
    assert case.get("status") in STATUSES, f"status must be one of {sorted(STATUSES)}"
    only_this = dataclasses.replace(catalog, policies=[catalog.get(policy_id)])
    result = match_profile(case.get("profile") or {}, only_this, _today(case)).result(policy_id)
    working = "\n".join(f"  {c.outcome:8} {c.text}: {c.detail}" for c in result.conditions)
    assert result.status == case["status"], f"expected {case['status']}, got {result.status}\n{working}"
    if "amount" in case:
        expected = case["amount"]
        assert (result.amount_value is None) == (expected is None), f"amount {result.amount_value} ≠ {expected}"
        if expected is not None:
            assert result.amount_value == pytest.approx(expected, abs=0.01)
    if "missing" in case:
        assert set(result.missing) == set(case["missing"] or []), f"missing {list(result.missing)}"
