"""The batch verdict is the per-profile verdict: random profiles, every boundary, every item of the loaded catalog.

Hypothesis draws registers of profiles around every threshold the catalog compares with (each leaf's value
or the day's parameter value, the 划型 bounds, the numbers in amount formulas, 研发费用占比 at 3/4/5 % and
half a hundredth either side, founding dates either side of each 成立年限 cut-off), vague values as
intervals on both sides of a bound, missing values, and days on both sides of every dated change (validity
windows, parameter values). Status, the missing facts (in order) and the amount must agree with
`match_profile` exactly; a mismatch names the row, the item and the first differing condition.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from batch_features import feature_knowledge
from batch_parity import judged, load, load_typed, mismatches
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from paths import GOLDEN, KNOWLEDGE

from calculator.policy.catalog import Catalog, load_catalog
from calculator.policy.rules.tree import Leaf
from calculator.registry.compiler import CompiledCatalog, compile_catalog
from calculator.registry.engine import DuckDBEngine
from calculator.registry.facts import _last_day

DEFAULT_DAY = date(2026, 11, 23)
# Each example judges a register (a query of a few hundred ms): shrinking would take minutes, and a mismatch
# already names the row, the item, the condition and the whole profile.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _days(catalog: Catalog) -> list[date]:
    """The default day and both sides of every dated change the catalog knows."""
    days = {DEFAULT_DAY, date(2026, 12, 1)}
    for policy in catalog.policies:
        for edge in (policy.valid_from, policy.valid_until):
            if edge is not None:
                days |= {edge - timedelta(days=1), edge, edge + timedelta(days=1)}
    for parameter in catalog.parameters:
        for value in parameter.values:
            days |= {value.start - timedelta(days=1), value.start}
    return sorted(days)


def _thresholds(catalog: Catalog, days: list[date]) -> dict[str, set[float]]:
    """Every number a fact is compared with: leaves (literal or the day's parameter), 划型 bounds, formula constants."""
    found: dict[str, set[float]] = {}
    for policy in catalog.policies:
        for node in policy.conditions.walk(into_refs=True):
            if isinstance(node, Leaf) and node.spec.numeric:
                values = [node.value] if not node.param else [
                    v.value for d in days if (v := catalog.parameters[node.param].on(d)) is not None and v.value is not None]
                for value in values:
                    for v in (value if isinstance(value, tuple) else (value,)):
                        found.setdefault(node.field, set()).add(float(v))
        formulas = [policy.amount] if policy.amount else []
        for formula in formulas:
            for compare in (n for n in ast.walk(formula.tree) if isinstance(n, ast.Compare)):
                names = [n.id for n in ast.walk(compare) if isinstance(n, ast.Name)]
                numbers = [n.value for n in ast.walk(compare) if isinstance(n, ast.Constant) and isinstance(n.value, (int, float))]
                for name in names:
                    found.setdefault(name, set()).update(float(v) for v in numbers)
            for call in (n for n in ast.walk(formula.tree) if isinstance(n, ast.Call)):
                names = [n.id for n in ast.walk(call) if isinstance(n, ast.Name) and n.id not in ("min", "max", "round", "abs")]
                numbers = [n.value for n in call.args if isinstance(n, ast.Constant) and isinstance(n.value, (int, float))]
                for name in names:
                    found.setdefault(name, set()).update(float(v) for v in numbers)
    for row in catalog.schema.tables.size_standards["groups"].values():
        for tier in ("large", "medium", "small"):
            for metric, bound in row[tier].items():
                found.setdefault(metric, set()).add(float(bound))
    return found


def _number(spec: Any, thresholds: set[float]) -> st.SearchStrategy[Any]:
    low = float(spec.minimum) if spec.minimum is not None else -1e6
    high = float(spec.maximum) if spec.maximum is not None else 1e6
    steps = (0.0, -1.0, 1.0) if spec.type == "int" else (0.0, -0.01, 0.01, -1.0, 1.0, -0.005, 0.005)
    near = sorted({t + d for t in thresholds for d in steps if low <= t + d <= high and (spec.type != "int" or float(t + d).is_integer())})
    if spec.type == "int":
        plain: st.SearchStrategy[Any] = st.integers(int(max(low, -1000)), int(min(high, 100000)))
        exact = st.sampled_from([int(v) for v in near]) if near else plain
    else:
        plain = st.floats(max(low, -10000.0), min(high, 100000.0)).map(lambda v: round(v, 2))
        exact = st.sampled_from(near) if near else plain
    point = st.one_of(exact, plain)

    def around(t: float, below: float, above: float, lo_open: bool, hi_open: bool) -> dict[str, Any] | None:
        lo, hi = max(low, t - below), min(high, t + above)
        if not lo < hi:
            return None
        return {"min": lo, "max": hi, "min_open": lo_open, "max_open": hi_open}
    widths = st.sampled_from([0.0, 0.5, 1.0, 10.0, 100.0])
    interval = st.builds(around, st.sampled_from(near or [low + 1.0]), widths, widths, st.booleans(), st.booleans())
    return st.one_of(st.none(), point, point, interval.filter(lambda v: v is not None))


def _field_strategies(catalog: Catalog, thresholds: dict[str, set[float]]) -> dict[str, st.SearchStrategy[Any]]:
    out: dict[str, st.SearchStrategy[Any]] = {}
    for key, spec in catalog.schema.fields.items():
        if key in ("name", "credit_code") or spec.type == "date":
            continue
        if spec.numeric:
            out[key] = _number(spec, thresholds.get(key, set()))
        elif spec.type == "bool":
            out[key] = st.booleans()
        elif spec.type == "choice":
            out[key] = st.sampled_from(spec.choices)
        else:
            out[key] = st.text("许昌科技有限公司", min_size=1, max_size=8)
    return out


@st.composite
def _profiles(draw: st.DrawFn, catalog: Catalog, days: list[date], thresholds: dict[str, set[float]],
              fields: dict[str, st.SearchStrategy[Any]]) -> tuple[date, list[dict[str, Any]]]:
    today = draw(st.sampled_from(days))
    dated = [k for k, spec in catalog.schema.fields.items() if spec.type == "date"]
    founded_edges = sorted({d for t in thresholds.get("years_established", set())
                            if (last := _last_day(today, date(1949, 10, 1), date(2099, 12, 31), t, False)) is not None
                            for d in (last - timedelta(days=1), last, last + timedelta(days=1))})
    dates = st.one_of(st.sampled_from(founded_edges or [DEFAULT_DAY]), st.dates(date(1990, 1, 1), date(2027, 12, 31)))
    rows = []
    for _ in range(draw(st.integers(8, 40))):
        profile: dict[str, Any] = {}
        for key, strategy in fields.items():
            if draw(st.integers(0, 9)) >= 3 and (value := draw(strategy)) is not None:
                profile[key] = value
        for key in dated:
            if draw(st.integers(0, 9)) >= 3:
                profile[key] = draw(dates)
        if draw(st.booleans()):   # 研发费用占比 at its bounds: revenue × (3 | 4 | 5 % ± half a hundredth)
            revenue = draw(st.sampled_from([100.0, 1000.0, 4999.99, 5000.0, 5000.01, 20000.0, 20000.01, 80000.0]))
            share = draw(st.sampled_from([3.0, 4.0, 5.0])) + draw(st.sampled_from([0.0, -0.005, 0.005, -0.0051, 0.0049, -0.01]))
            profile.update(revenue=revenue, rd_expense=round(revenue * share / 100, 6))
        if draw(st.integers(0, 4)) == 0:   # 从业人数 composed from its parts
            profile.pop("employees", None)
        rows.append(profile)
    return today, rows


_compiled: dict[tuple[date, bool], CompiledCatalog] = {}


def _compile(catalog: Catalog, today: date, columns: list[str], intervals: bool) -> CompiledCatalog:
    key = (today, intervals)
    if key not in _compiled:
        _compiled[key] = compile_catalog(catalog, today, columns)
    return _compiled[key]


def _check(catalog: Catalog, today: date, profiles: list[dict[str, Any]], engine: DuckDBEngine, intervals: bool) -> None:
    register, codes = load_typed(profiles, catalog, engine, intervals)
    compiled = _compile(catalog, today, register.columns, intervals)
    problems = mismatches(profiles, codes, judged(engine, register, compiled), compiled, today, engine, register)
    assert not problems, "\n".join(problems[:5])


def test_random_profiles_get_the_per_profile_verdicts(catalog: Catalog, tmp_path: Path) -> None:
    days = _days(catalog)
    thresholds = _thresholds(catalog, days)
    engine = DuckDBEngine(tmp_path)

    @settings(max_examples=25, deadline=None, derandomize=True, database=None, phases=NO_SHRINK,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_profiles(catalog, days, thresholds, _field_strategies(catalog, thresholds)))
    def run(example: tuple[date, list[dict[str, Any]]]) -> None:
        today, profiles = example
        _check(catalog, today, profiles, engine, intervals=True)
    run()


def test_a_register_without_vague_values_compiles_to_points(catalog: Catalog, tmp_path: Path) -> None:
    """The common layout (one column per fact) takes the plain path and agrees too."""
    days = _days(catalog)
    thresholds = _thresholds(catalog, days)
    engine = DuckDBEngine(tmp_path)

    @settings(max_examples=10, deadline=None, derandomize=True, database=None, phases=NO_SHRINK,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_profiles(catalog, days, thresholds, _field_strategies(catalog, thresholds)))
    def run(example: tuple[date, list[dict[str, Any]]]) -> None:
        today, profiles = example
        points = [{k: v for k, v in p.items() if not isinstance(v, dict)} for p in profiles]
        _check(catalog, today, points, engine, intervals=False)
    run()


def _golden() -> dict[date, list[Any]]:
    cases: dict[date, list[Any]] = {}
    for path in sorted(GOLDEN.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            day = case.get("today") or DEFAULT_DAY
            cases.setdefault(date.fromisoformat(str(day)) if not isinstance(day, date) else day, []).append(case["profile"])
    return cases


def test_every_golden_case_through_the_real_ingestion(catalog: Catalog, tmp_path: Path) -> None:
    """Each item's golden profiles (every threshold, one past it, unknowns) written as a CSV register, read
    and validated by the ingestion, then judged: the same verdicts as match_profile."""
    for i, (today, profiles) in enumerate(sorted(_golden().items())):
        engine, register, codes = load(profiles, catalog, tmp_path / f"g{i}")
        compiled = compile_catalog(catalog, today, register.columns)
        problems = mismatches(profiles, codes, judged(engine, register, compiled), compiled, today, engine, register)
        assert not problems, "\n".join(problems[:5])
        assert register.summary.enterprises == len(profiles) and register.summary.flagged == 0


def test_a_mismatch_names_the_row_the_item_and_the_condition(catalog: Catalog, tmp_path: Path) -> None:
    """The report can fail usefully: a tampered batch verdict is caught and explained."""
    engine = DuckDBEngine(tmp_path)
    profile = {"entity_type": "公司", "employees": 301, "total_assets": 3000, "taxable_income": 200, "restricted_industry": False}
    register, codes = load_typed([profile], catalog, engine)
    compiled = compile_catalog(catalog, DEFAULT_DAY, register.columns, overrides=_tampered())
    problems = mismatches([profile], codes, judged(engine, register, compiled), compiled, DEFAULT_DAY, engine, register)
    mine = [p for p in problems if "item small_low_profit_cit" in p]
    assert mine and mine[0].startswith("row 0 ")
    assert "employees_le_cap" in mine[0] and "batch met, per-profile not_met" in mine[0]


def _tampered() -> Any:
    from calculator.registry.compiler import Overrides

    return Overrides(parameters={"cit.small_low_profit_employees_cap": 400})


def test_rounded_shares_are_compared_as_python_rounds_them(catalog: Catalog, tmp_path: Path) -> None:
    """研发费用占比 is rounded to 0.01 % before the comparison: 4.995 % rounds as Python's round() does."""
    engine = DuckDBEngine(tmp_path)
    profiles = [{"industry": "制造业", "revenue": revenue, "rd_expense": rd} for revenue in (100.0, 1000.0, 333.33)
                for rd in (4.995, 4.9949, 49.95, 16.65, 3.0, 2.99499)]
    register, codes = load_typed(profiles, catalog, engine, intervals=False)
    compiled = compile_catalog(catalog, DEFAULT_DAY, register.columns)
    assert not mismatches(profiles, codes, judged(engine, register, compiled), compiled, DEFAULT_DAY, engine, register)


@pytest.fixture(scope="module")
def feature_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """The bundled catalog plus items using dated parameters, law-derived facts, alternatives and every amount kind."""
    folder = feature_knowledge(KNOWLEDGE, tmp_path_factory.mktemp("features") / "knowledge")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KNOWLEDGE_DIR", str(folder))
        yield load_catalog(strict=True)


def test_dated_parameters_derived_facts_and_alternatives_agree_too(feature_catalog: Catalog, tmp_path: Path) -> None:
    catalog = feature_catalog
    assert catalog.derived_rules and len(catalog.parameters) and any(p.item.alternatives for p in catalog.policies)
    days = _days(catalog)
    assert date(2028, 1, 1) in days and date(2025, 12, 31) in days   # both sides of the parameters' changes
    thresholds = _thresholds(catalog, days)
    thresholds.setdefault("hightech_cert_year", set()).update({2022.0, 2023.0, 2024.0, 2025.0, 2026.0})
    engine = DuckDBEngine(tmp_path)

    @settings(max_examples=15, deadline=None, derandomize=True, database=None, phases=NO_SHRINK,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_profiles(catalog, days, thresholds, _field_strategies(catalog, thresholds)))
    def run(example: tuple[date, list[dict[str, Any]]]) -> None:
        today, profiles = example
        register, codes = load_typed(profiles, catalog, engine)
        compiled = compile_catalog(catalog, today, register.columns)
        problems = mismatches(profiles, codes, judged(engine, register, compiled), compiled, today, engine, register)
        assert not problems, "\n".join(problems[:5])
    run()


def test_amounts_round_as_python_rounds_the_double() -> None:
    """round(x, d) in a formula: half-even on the double's exact value (20341.55 is just below the tie, 2.675
    too), not on x × 10^d, which rounds them up (found by the feature parity test)."""
    import random

    from sqlglot import exp

    from calculator.registry.numbers import round_half_even

    rng = random.Random(5)
    values = [20341.55, 2.675, 0.125, 0.375, 1.005, 2.5, -2.5, 3.5, -0.5, 0.0, 1e15 + 0.5]
    values += [round(rng.uniform(-10 ** k, 10 ** k), 3) / rng.choice([1, 3, 7]) for k in range(1, 8) for _ in range(300)]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    for digits in (0, 1, 2, 3):
        got = con.execute(f"SELECT v, {round_half_even(exp.column('v'), digits).sql('duckdb')} FROM t").fetchall()
        wrong = [(v, r) for v, r in got if r != round(v, digits)]
        assert not wrong, (digits, wrong[:5])
