"""The facts of every register row as column expressions: what `match_profile` puts into its facts dict.

In the per-profile engine's order: the profile's own fields (points or intervals, as the register holds
them), facts composed by their legal definition (从业人数 = 职工 + 劳务派遣, quarterly means), the derived
facts of `facts/profile.derive` (企业规模 by the 划型标准, 中小微企业, 划型行业, 研发费用占比, 成立年限,
注册在许昌 …), then the law-derived facts of `_definitions.yaml` (`policy/derived.py`) in their order, each
seeing the ones before it. Parameters are resolved for the day asked and compiled in as literals.

Each function mirrors its Python counterpart step by step; the parity tests hold them together. A derived
fact declared in the schema that nothing here computes is a compile error, not a silent unknown.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Union

from sqlglot import exp

from calculator.core.errors import UserError
from calculator.corpus.tables import OUTSIDE_XUCHANG
from calculator.facts.profile import years_between
from calculator.facts.schema import FactSchema, FieldSpec
from calculator.registry import numbers as nb
from calculator.registry import sql
from calculator.registry.numbers import Num
from calculator.registry.plan import Plan
from calculator.registry.sql import Tri

if TYPE_CHECKING:
    from calculator.policy.catalog import Catalog
    from calculator.policy.parameters import Value


@dataclass(frozen=True)
class Scalar:
    """A yes/no, choice, text or date fact (NULL = unknown)."""

    value: Tri | exp.Expr
    type: str


@dataclass(frozen=True)
class Years:
    """成立年限 on the day asked: decided by cut-off dates computed here, never by engine date arithmetic
    (DuckDB's and Spark's date_diff disagree)."""

    founded: exp.Expr | None
    today: date
    earliest: date
    latest: date


Fact = Union[Num, Scalar, Years]

LO, HI, LO_OPEN, HI_OPEN = "__lo", "__hi", "__lo_open", "__hi_open"
MIRRORED = frozenset({"size_class", "is_sme", "size_group", "industry_section", "rd_ratio", "disabled_staff_share",
                      "years_established", "in_xuchang"})


class CompileError(UserError):
    """The catalog uses something the batch compiler cannot express (said in both languages)."""


def interval_columns(key: str) -> tuple[str, str, str, str]:
    return key + LO, key + HI, key + LO_OPEN, key + HI_OPEN


def raw_fact(spec: FieldSpec, columns: set[str]) -> Fact | None:
    """A field as the normalized register holds it: one column, four for an interval field, or none (unknown)."""
    if spec.numeric:
        lo, hi, lo_open, hi_open = interval_columns(spec.key)
        if lo in columns:
            bounded = spec.minimum is not None and spec.maximum is not None
            ends = sql.column(lo), sql.column(hi)
            iv = sql.compare(ends[0], "<", ends[1])
            return nb.interval(ends[0], ends[1], sql.column(lo_open), sql.column(hi_open), iv, bounded=bounded)
        return nb.of(sql.column(spec.key)) if spec.key in columns else nb.UNKNOWN
    if spec.key not in columns:
        return Scalar(None, spec.type)
    return Scalar(sql.column(spec.key), spec.type)


def _num(fact: Fact | None) -> Num:
    return fact if isinstance(fact, Num) else nb.UNKNOWN


def _value(fact: Fact | None) -> Tri | exp.Expr:
    return fact.value if isinstance(fact, Scalar) else None


def build_facts(catalog: Catalog, columns: set[str], today: date, values: dict[str, Value], plan: Plan,
                definition_value: Any) -> dict[str, Fact]:
    """Every fact the catalog's conditions and formulas may name, for a register with these columns.

    `definition_value(name, facts)` compiles a named definition over the facts so far (for derived rules).
    """
    schema = catalog.schema
    facts: dict[str, Fact] = {}
    for key, spec in schema.fields.items():
        fact = raw_fact(spec, columns)
        if fact is not None:
            facts[key] = fact
    composed = _compose(schema, facts, plan)
    facts.update(composed)
    derived = _derive(schema, facts, today, plan)
    unmirrored = sorted(python_derived(schema, today) - MIRRORED)
    if unmirrored:
        raise CompileError(f"批量测算尚不支持派生事实：{'、'.join(unmirrored)}",
                           f"the batch compiler does not mirror the derived facts {unmirrored}")
    facts.update({k: v for k, v in derived.items() if k in schema.derived})
    from calculator.registry.formulas import compile_derived_rule  # formulas read facts, facts run rules

    for name, rule in catalog.derived_rules.items():
        facts[name] = compile_derived_rule(rule, facts, values, today, plan, definition_value)
    return facts


def python_derived(schema: FactSchema, today: date) -> set[str]:
    """The derived facts the per-profile engine computes in code (a rule-less declared fact is unknown there too)."""
    from calculator.facts.profile import derive, validate_profile

    return set(derive(validate_profile({}, schema), today))


# ---------------------------------------------------------------- composition (profile._compose)

def _compose(schema: FactSchema, facts: dict[str, Fact], plan: Plan) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    for key, spec in schema.fields.items():
        if not spec.compose:
            continue
        stated = _num(facts.get(key))
        result = stated
        for composition in reversed(spec.compose):   # the first composition whose parts are all known wins
            parts = [_num(facts.get(name)) for name in composition.inputs]
            known = plan.column(sql.and_(*(p.known for p in parts)), "m")
            if known is False:
                continue
            result = plan.number(nb.select(known, _combine(composition.kind, parts, composition.factor, plan), result), "m")
        result = nb.select(stated.known, stated, result)
        out[key] = plan.number(result, "f")
    return out


def _combine(kind: str, parts: list[Num], factor: float, plan: Plan) -> Num:
    """profile._combine: numbers summed (left to right), a mean or a multiple, rounded to 4 places;
    intervals added, then multiplied by 1/n or the factor, and collapsed to a number when a point."""
    total = nb.of(0.0)
    for part in parts:
        total = nb.add(total, part) if total.constant != 0.0 else part
    if all(p.point for p in parts):
        if kind == "mean":
            total = nb.div(total, nb.of(float(len(parts))))
        elif kind == "times":
            total = nb.mul(total, nb.of(factor))
        return nb.rounded(total, 4)
    total = plan.number(total, "m")
    number = total
    if kind == "mean":
        number = nb.div(total, nb.of(float(len(parts))))
        ranged = nb.mul(total, nb.of(1 / len(parts)))
    elif kind == "times":
        number = ranged = nb.mul(total, nb.of(factor))
    else:
        ranged = total
    any_interval = plan.column(sql.or_(*(p.iv for p in parts)), "m")
    return nb.select(any_interval, plan.number(nb.collapse(ranged), "m"), plan.number(nb.rounded(number, 4), "m"))


# ---------------------------------------------------------------- profile.derive

def _derive(schema: FactSchema, facts: dict[str, Fact], today: date, plan: Plan) -> dict[str, Fact]:
    tables = schema.tables
    industry = _value(facts.get("industry"))
    metrics = {m: _num(facts.get(m)) for m in ("employees", "revenue", "total_assets")}
    reached = {tier: plan.column(_tier(tables, industry, metrics, tier), "t") for tier in ("large", "medium", "small")}
    large, medium, small = reached["large"], reached["medium"], reached["small"]
    out: dict[str, Fact] = {}
    out["size_class"] = Scalar(plan.column(sql.case([
        (sql.is_true(large), "大型"),
        (sql.and_(sql.is_false(large), sql.is_true(medium)), "中型"),
        (sql.and_(sql.is_false(large), sql.is_false(medium), sql.is_true(small)), "小型"),
        (sql.and_(sql.is_false(large), sql.is_false(medium), sql.is_false(small)), "微型")], None), "s"), "choice")
    out["is_sme"] = Scalar(sql.not_(large), "bool")
    groups = {name: row["size_group"] for name, row in tables.industries.items()}
    sections = {name: f"{row['section']} {row['section_name']}".strip() for name, row in tables.industries.items()}
    out["size_group"] = Scalar(_lookup(industry, groups, plan), "str")
    out["industry_section"] = Scalar(_lookup(industry, sections, plan), "str")
    out["rd_ratio"] = plan.number(_share(_num(facts.get("rd_expense")), _num(facts.get("revenue")), plan), "r")
    contract = _num(facts.get("employees_contract"))
    whole = plan.number(nb.select(contract.known, contract, _num(facts.get("employees"))), "w")
    out["disabled_staff_share"] = plan.number(_share(_num(facts.get("disabled_employees")), whole, plan), "r")
    spec = schema.fields.get("founded")
    founded = _value(facts.get("founded"))
    out["years_established"] = Years(founded if isinstance(founded, exp.Expr) else None, today,
                                      (spec.earliest if spec else None) or date(1900, 1, 1),
                                      (spec.latest if spec else None) or date(2099, 12, 31))
    county = _value(facts.get("county"))
    out["in_xuchang"] = Scalar(None if county is None else sql.compare(county, "!=", sql.text(OUTSIDE_XUCHANG)), "bool")
    return out


def _lookup(key: Tri | exp.Expr, table: dict[str, str], plan: Plan) -> Tri | exp.Expr:
    if not isinstance(key, exp.Expr):
        return None
    by_value: dict[str, list[str]] = {}
    for name, value in table.items():
        by_value.setdefault(value, []).append(name)
    return plan.column(sql.case([(sql.isin(key, [sql.text(n) for n in names]), value)
                                 for value, names in by_value.items()], None), "k")


def _tier(tables: Any, industry: Tri | exp.Expr, metrics: dict[str, Num], tier: str) -> Tri:
    """profile._tier_reached for each 划型 group, chosen by the industry's group."""
    if not isinstance(industry, exp.Expr):
        return None
    groups: dict[str, list[str]] = {}
    for name, row in tables.industries.items():
        groups.setdefault(row["size_group"], []).append(name)
    branches = []
    for group, names in groups.items():
        bounds = tables.size_standards["groups"][group][tier]
        reached = sql.and_(*(nb.compare(metrics[m], ">=", float(b)) for m, b in bounds.items()))
        branches.append((sql.isin(industry, [sql.text(n) for n in names]), reached))
    return sql.case(branches, None)


def _share(part: Num, whole: Num, plan: Plan) -> Num:
    """profile._share: part ÷ whole in %, rounded to 2 places. Division already follows the per-row kind
    (numbers divide, intervals multiply by the reciprocal), and collapsing is a no-op for numbers."""
    ratio = plan.number(nb.div(part, whole), "q")
    return nb.collapse(nb.rounded(plan.number(nb.mul(ratio, nb.of(100.0)), "q"), 2))


# ---------------------------------------------------------------- 成立年限 by cut-off dates

def years_condition(fact: Years, op: str, threshold: float) -> Tri:
    """`years_established op threshold` as comparisons of the founding date with cut-offs for the day.

    成立年限 falls as the founding date moves later, so "≥ θ" holds exactly up to the last such day."""
    if fact.founded is None:
        return None
    founded = fact.founded

    def up_to(strict: bool) -> Tri:
        last = _last_day(fact.today, fact.earliest, fact.latest, threshold, strict)
        if last is None:
            return sql.case([(sql.is_null(founded), None)], False)
        return sql.compare(founded, "<=", sql.day(last))

    at_least, above = up_to(False), up_to(True)
    return {">=": at_least, ">": above, "<": sql.not_(at_least), "<=": sql.not_(above),
            "==": sql.and_(at_least, sql.not_(above)), "!=": sql.not_(sql.and_(at_least, sql.not_(above)))}[op]


@lru_cache(maxsize=512)
def _last_day(today: date, earliest: date, latest: date, threshold: float, strict: bool) -> date | None:
    """The latest founding day in [earliest, latest] whose 成立年限 is ≥ (or >) threshold; None if none is."""
    def holds(day: date) -> bool:
        years = max(0.0, years_between(day, today))
        return years > threshold if strict else years >= threshold
    if not holds(earliest):
        return None
    low, high = earliest.toordinal(), latest.toordinal()
    while low < high:
        middle = (low + high + 1) // 2
        if holds(date.fromordinal(middle)):
            low = middle
        else:
            high = middle - 1
    return date.fromordinal(low)

