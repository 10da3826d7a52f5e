"""Condition trees (`policy/rules/tree.py`) as three-valued column expressions: NULL is unknown.

SQL's AND / OR / NOT are Kleene's, so a group is the junction of its children and `not` is NOT; a leaf is
its comparison with the threshold of the day (a parameter resolved to a literal, its boundary setting the
op's strictness), interval facts three-valued (`numbers.compare`), `presume` as `CASE WHEN fact IS NULL
THEN TRUE ELSE … END` (a straddled interval stays unknown, as in the per-profile engine). Every node is a
column computed once, so a definition shared by several items (小型微利企业) is evaluated once per row.

`missing` lists, for an undecided tree, the facts its unknown leaves wait on in the order the per-profile
engine reports them: a leaf counts when it and every node above it are unknown.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from calculator.policy.rules.tree import ORDERING, Group, Leaf, Node, Not, Ref, effective_op
from calculator.registry import numbers as nb
from calculator.registry import sql
from calculator.registry.facts import Fact, Scalar, Years, years_condition
from calculator.registry.numbers import Num
from calculator.registry.plan import Plan
from calculator.registry.sql import Tri

if TYPE_CHECKING:
    from calculator.policy.parameters import Value


def is_unknown(fact: Fact | None) -> Tri:
    if isinstance(fact, Num):
        return sql.is_null(fact.lo.value)
    if isinstance(fact, Years):
        return sql.is_null(fact.founded)
    if isinstance(fact, Scalar):
        return sql.is_null(fact.value)
    return True


class Conditions:
    """The condition nodes of one set of facts, each compiled once."""

    def __init__(self, facts: Mapping[str, Fact], values: Mapping[str, Value], plan: Plan,
                 overrides: Mapping[str, float] | None = None) -> None:
        self.facts, self.values, self.plan = facts, values, plan
        self.overrides = overrides or {}
        self._memo: dict[int, Tri] = {}

    def value(self, node: Node) -> Tri:
        target = node.definition.node if isinstance(node, Ref) else node
        key = id(target)
        if key in self._memo:
            return self._memo[key]
        if isinstance(target, Leaf):
            result = self._leaf(target)
        elif isinstance(target, Group):
            parts = [self.value(child) for child in target.children]
            result = sql.and_(*parts) if target.kind == "all" else sql.or_(*parts)
        elif isinstance(target, Not):
            result = sql.not_(self.value(target.child))
        else:
            raise TypeError(f"unknown condition node {type(target).__name__}")
        result = self.plan.column(result, "c")
        self._memo[key] = result
        return result

    def _leaf(self, leaf: Leaf) -> Tri:
        fact = self.facts.get(leaf.field)
        unknown = is_unknown(fact)
        op, threshold = leaf.op, leaf.value
        if leaf.param:
            day = self.values.get(leaf.param)
            if day is None or day.value is None:   # no value of the law that day: unknown, naming the parameter
                return sql.case([(unknown, True)], None) if leaf.presume else None
            op, threshold = effective_op(leaf.op, day.boundary), day.value
        if leaf.id in self.overrides:
            threshold = self.overrides[leaf.id]
        verdict = judge(fact, op, threshold)
        return sql.case([(unknown, True)], verdict) if leaf.presume else verdict

    def missing(self, root: Node) -> list[tuple[str, Tri]]:
        """(fact or parameter name, when it is missing), in the per-profile engine's order, repeats included."""
        out: list[tuple[str, Tri]] = []

        def walk(node: Node, above: Tri) -> None:
            target = node.definition.node if isinstance(node, Ref) else node
            here = sql.and_(above, sql.is_null(self.value(target)))
            if here is False:
                return
            if isinstance(target, Leaf):
                out.extend(self._leaf_missing(target, here))
            elif isinstance(target, Group):
                for child in target.children:
                    walk(child, here)
            elif isinstance(target, Not):
                walk(target.child, here)
        walk(root, True)
        return out

    def _leaf_missing(self, leaf: Leaf, here: Tri) -> list[tuple[str, Tri]]:
        if leaf.param:
            day = self.values.get(leaf.param)
            if day is None or day.value is None:
                unknown = is_unknown(self.facts.get(leaf.field))
                return [(leaf.field, sql.and_(here, unknown)), (leaf.param, sql.and_(here, sql.not_(unknown)))]
        return [(leaf.field, here)]

    def nodes(self, root: Node) -> list[tuple[Node, Tri]]:
        """Every node of the tree in the order a trace lists it (references entered), with its value."""
        out: list[tuple[Node, Tri]] = []

        def walk(node: Node) -> None:
            target = node.definition.node if isinstance(node, Ref) else node
            out.append((node, self.value(target)))
            for child in target.children_nodes():
                walk(child)
        walk(root)
        return out


def judge(fact: Fact | None, op: str, threshold: Any) -> Tri:
    """`fact op threshold` for one row; NULL when the fact is unknown or an interval straddles the bound."""
    if fact is None:
        return None
    if isinstance(fact, Num):
        if op in ("in", "not_in"):
            return nb.member(fact, tuple(float(v) for v in threshold), op == "in")
        return nb.compare(fact, op, float(threshold))
    if isinstance(fact, Years):
        if op in ("in", "not_in"):
            found = sql.or_(*(years_condition(fact, "==", float(v)) for v in threshold))
            return found if op == "in" else sql.not_(found)
        return years_condition(fact, op, float(threshold))
    value = fact.value
    if value is None:
        return None
    assert isinstance(value, exp.Expr)
    if op in ("in", "not_in"):
        found = sql.isin(value, [sql.as_sql(v) for v in threshold])
        return found if op == "in" else sql.not_(found)
    if op == "contains":
        return exp.GT(this=exp.StrPosition(this=value, substr=sql.text(threshold)), expression=exp.Literal.number(0))
    if op in ORDERING or op in ("==", "!="):
        return sql.compare(value, op, sql.as_sql(threshold))
    raise ValueError(f"op {op!r}")
