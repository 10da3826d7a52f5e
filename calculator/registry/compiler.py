"""The whole catalog, for one day, compiled once into one query over a normalized register.

Per item: its status (validity window decided here: an item not in force that day is not_eligible for
everyone, as in `match_profile`), the facts still missing, and its amount (only where not not_eligible;
a range as low/high, which stay NULL for a formula that can only give a number). The missing facts are a
bit mask per row (bit k: the k-th unknown leaf of the tree, references entered, counts): integer sums are
cheap where building a string per undecided verdict is not, and the few distinct masks are decoded into
keys, in the per-profile engine's order and each once, by `CompiledPolicy.decode`. The query is built from sqlglot
expressions and printed for the engine's dialect (`duckdb` or `spark`); nothing is hand-written SQL.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from calculator.core.vocabulary import CURRENT, ELIGIBLE, NEED_INFO, NOT_ELIGIBLE
from calculator.policy.rules.tree import Leaf, Node
from calculator.registry import sql
from calculator.registry.conditions import Conditions
from calculator.registry.facts import CompileError, Fact, Scalar, build_facts
from calculator.registry.formulas import FormulaCompiler, amount_parts
from calculator.registry.plan import Plan
from calculator.registry.sql import Tri

if TYPE_CHECKING:
    from calculator.policy.catalog import Catalog, Policy
    from calculator.policy.parameters import Value

SEPARATOR = ";"   # between the keys of `missing`
STATUS_CODE = {NOT_ELIGIBLE: 0, NEED_INFO: 1, ELIGIBLE: 2}   # the wide table keeps one small number per verdict
STATUS_OF = {code: status for status, code in STATUS_CODE.items()}
GROUPING = ("county", "industry", "size_class", "entity_type", "taxpayer_type")   # kept beside the verdicts
OUTPUTS = ("status", "amount", "low", "high", "missing")
TYPES = {"status": "INT", "amount": "DOUBLE", "low": "DOUBLE", "high": "DOUBLE", "missing": "BIGINT"}
MAX_TERMS = 62   # bits of a BIGINT mask


@dataclass(frozen=True)
class Overrides:
    """What a what-if changes: parameters on the day (`vat.limit` → 12) and literal thresholds by leaf id."""

    parameters: Mapping[str, float] = field(default_factory=dict)
    leaves: Mapping[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.parameters or self.leaves)


@dataclass
class CompiledPolicy:
    policy: Policy
    current: bool
    root: Tri
    status: Tri | exp.Expr
    amount: Tri | exp.Expr
    low: Tri | exp.Expr
    high: Tri | exp.Expr
    missing: Tri | exp.Expr
    nodes: list[tuple[Node, Tri]]
    terms: list[str] = field(default_factory=list)   # the name bit k stands for

    def column(self, part: str) -> str:
        return f"{self.policy.id}__{part}"

    def decode(self, mask: int | None) -> str:
        """The ';'-joined keys a mask stands for, each once, first occurrence first ('' for none)."""
        if not mask:
            return ""
        names = [name for k, name in enumerate(self.terms) if mask >> k & 1]
        return SEPARATOR.join(dict.fromkeys(names))


@dataclass
class CompiledCatalog:
    catalog: Catalog
    today: date
    plan: Plan
    facts: dict[str, Fact]
    policies: list[CompiledPolicy]
    values: dict[str, Value]

    def grouping(self) -> list[tuple[str, Tri | exp.Expr]]:
        """Columns kept beside the verdicts for the officials' tables (county, industry, 企业规模 …)."""
        out: list[tuple[str, Tri | exp.Expr]] = []
        for key in GROUPING:
            fact = self.facts.get(key)
            out.append((key, fact.value if isinstance(fact, Scalar) else None))
        return out

    def query(self, source: exp.Expr, keep: Iterable[str] = ("credit_code", "name"),
              debug: CompiledPolicy | None = None, extra: list[tuple[str, Any]] | None = None) -> exp.Select:
        """One row per register row: the kept columns, the grouping facts, and per item its five outputs
        (`<policy_id>__status` …); with `debug`, that item's every condition node instead (`_node<i>`)."""
        available = set(self.plan.level)
        outputs: list[tuple[str, Tri | exp.Expr | str]] = [
            (name, sql.column(name) if name in available else exp.cast(exp.Null(), "VARCHAR")) for name in keep]
        outputs += list(extra or [])
        if debug is not None:
            outputs += [(f"_node{i}", value) for i, (_, value) in enumerate(debug.nodes)]
            return self.plan.query(source, outputs)   # type: ignore[arg-type]
        outputs += [(name, _typed(value, "VARCHAR")) for name, value in self.grouping()]
        for compiled in self.policies:
            outputs += [(compiled.column(part), _typed(getattr(compiled, part), TYPES[part])) for part in OUTPUTS]
        return self.plan.query(source, outputs)  # type: ignore[arg-type]

    def sql(self, source: exp.Expr, dialect: str, keep: Iterable[str] = ("credit_code", "name")) -> str:
        return self.query(source, keep).sql(dialect)


def _typed(value: Tri | exp.Expr | str, kind: str) -> exp.Expr:
    """A constant output with the column's type (a bare NULL has none, and the long table needs one)."""
    if isinstance(value, exp.Expr) and not isinstance(value, exp.Null):
        return value
    return exp.cast(sql.as_sql(value), kind)


def values_on(catalog: Catalog, today: date, overrides: Overrides) -> dict[str, Value]:
    """The parameters of the day, with a what-if's changes (a parameter with no value that day takes the
    changed number with its latest boundary)."""
    values = dict(catalog.parameters.on(today))
    for name, number in overrides.parameters.items():
        if name not in catalog.parameters:
            raise CompileError(f"未知参数“{name}”", f"unknown parameter {name!r}")
        base = values.get(name) or catalog.parameters[name].values[-1]
        values[name] = dataclasses.replace(base, value=float(number), reason="")
    return values


def compile_catalog(catalog: Catalog, today: date, columns: Iterable[str], policy_ids: Iterable[str] | None = None,
                    overrides: Overrides | None = None) -> CompiledCatalog:
    """Compile every item (or the chosen ones) for `today` over a register with `columns`."""
    overrides = overrides or Overrides()
    columns = set(columns)
    unknown_leaves = set(overrides.leaves) - {n.id for p in catalog.policies for n in p.conditions.walk(into_refs=True)
                                               if isinstance(n, Leaf)}
    if unknown_leaves:
        raise CompileError(f"没有这些条件：{'、'.join(sorted(unknown_leaves))}", f"no condition with id {sorted(unknown_leaves)}")
    plan = Plan(columns)
    values = values_on(catalog, today, overrides)

    def definition_value(name: str, facts: Mapping[str, Fact]) -> Tri:
        definition = catalog.definitions.get(name)
        return None if definition is None else Conditions(facts, values, plan, overrides.leaves).value(definition.node)

    facts = build_facts(catalog, columns, today, values, plan, definition_value)
    conditions = Conditions(facts, values, plan, overrides.leaves)
    chosen = list(policy_ids) if policy_ids is not None else None
    policies = [p for p in catalog.policies if chosen is None or p.id in chosen]
    if chosen is not None and len(policies) != len(set(chosen)):
        missing = sorted(set(chosen) - {p.id for p in policies})
        raise CompileError(f"目录中没有这些政策：{'、'.join(missing)}", f"no such policies in the catalog: {missing}")
    compiled = [_policy(p, today, facts, values, plan, conditions) for p in policies]
    return CompiledCatalog(catalog, today, plan, facts, compiled, values)


def _policy(policy: Policy, today: date, facts: dict[str, Fact], values: dict[str, Value], plan: Plan,
            conditions: Conditions) -> CompiledPolicy:
    current = policy.status_on(today) == CURRENT
    nodes = conditions.nodes(policy.conditions)
    if not current:
        return CompiledPolicy(policy, False, False, _code(NOT_ELIGIBLE), None, None, None, None, nodes)
    root = conditions.value(policy.conditions)
    status = sql.case([(sql.is_true(root), _code(ELIGIBLE)), (sql.is_false(root), _code(NOT_ELIGIBLE))], _code(NEED_INFO))
    amount = low = high = None
    if policy.amount is not None:
        compiler = FormulaCompiler(policy.amount, facts, values, lambda name: None)
        number = plan.number(compiler.number(), "a")
        offered = sql.not_(sql.is_false(root))
        parts = amount_parts(number)
        amount = sql.case([(offered, parts[0])], None)
        if not number.point:
            low, high = (sql.case([(offered, part)], None) for part in parts[1:])
    mask, terms = _missing(conditions, policy, root)
    return CompiledPolicy(policy, True, root, status, amount, low, high, mask, nodes, terms)


def _code(status: str) -> exp.Expr:
    return exp.Literal.number(STATUS_CODE[status])


def _missing(conditions: Conditions, policy: Policy, root: Tri) -> tuple[Tri | exp.Expr, list[str]]:
    """The mask of the leaves an undecided item waits on (NULL unless need_info), and the name of each bit."""
    terms = [(name, when) for name, when in conditions.missing(policy.conditions) if when is not False]
    if len(terms) > MAX_TERMS:
        raise CompileError(f"“{policy.title}”的条件过多（{len(terms)} 个未知项），批量测算最多支持 {MAX_TERMS} 个",
                           f"{policy.id} has {len(terms)} leaf occurrences; the batch mask holds {MAX_TERMS}")
    if not terms:
        return None, []
    total: exp.Expr = exp.Literal.number(0)
    for k, (_, when) in enumerate(terms):
        bit = exp.Literal.number(1 << k)
        total = exp.Add(this=total, expression=bit if when is True else exp.Case().when(
            sql.as_sql(when), bit, copy=False).else_(exp.Literal.number(0), copy=False))
    return sql.case([(sql.is_null(root), exp.cast(total, "BIGINT"))], None), [name for name, _ in terms]
