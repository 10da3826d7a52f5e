"""Consistency of thresholds: an `all` whose leaves on one field can never hold together is an error.

"x ≥ 10 and x < 5", two different required choices, or no whole number between the bounds of a count:
such a tree could never be met, which is always an authoring mistake, so the catalog refuses it. A leaf
on a dated parameter is checked with each of its values: the tree is refused when no day lets it hold.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from calculator.core.errors import LocatedError

if TYPE_CHECKING:
    from calculator.facts.schema import FieldSpec
    from calculator.policy.rules.tree import Group, Leaf, Node


def conjuncts(node: Node) -> Iterator[Leaf]:
    """Leaves that must all hold for `node` to be met (through nested `all` and references); nodes are
    told apart by `kind`, so this check needs nothing from the tree module at run time."""
    if node.kind == "ref":
        node = node.definition.node  # type: ignore[attr-defined]
    if node.kind == "leaf":
        yield node  # type: ignore[misc]
    elif node.kind == "all":
        for child in node.children_nodes():
            yield from conjuncts(child)


def check_satisfiable(group: Group) -> None:
    """Raise a LocatedError when the leaves of an `all` on one field contradict each other on every day."""
    by_field: dict[str, list[Leaf]] = {}
    for leaf in conjuncts(group):
        by_field.setdefault(leaf.field, []).append(leaf)
    for name, leaves in by_field.items():
        spec = group.schema.all_facts[name]
        days = list(_on_each_day(leaves)) if len(leaves) > 1 else []
        if days and not any(_satisfiable(spec, bounds) for bounds in days):
            ids = "、".join(f"{leaf.id}（{leaf.op} {leaf.param or leaf.value}）" for leaf in leaves)
            raise LocatedError(f"{spec.label}的条件互相矛盾，永远无法同时满足：{ids}",
                               f"contradictory thresholds on {name}: {ids} can never all hold", group.path)


def _on_each_day(leaves: list[Leaf]) -> Iterator[list[tuple[str, Any]]]:
    """The leaves' (op, threshold) on each day the value of a parameter among them starts (once when none
    reads a parameter). A day on which one of the parameters has no value is left out: nothing can be met
    on it, so it says nothing about whether the thresholds fit together."""
    days = sorted({value.start for leaf in leaves if leaf.param for value in leaf.parameter.values})
    for day in days or [None]:
        bounds = []
        for leaf in leaves:
            value = leaf.parameter.on(day) if leaf.param and day is not None else None
            if not leaf.param:
                bounds.append((leaf.op, leaf.value))
            elif value is None or value.value is None:
                break
            else:
                bounds.append(leaf.threshold_on(value))
        else:
            yield bounds


@dataclass
class _Bound:
    value: Any = None
    strict: bool = False


def _satisfiable(spec: FieldSpec, bounds: list[tuple[str, Any]]) -> bool:
    low = _Bound(spec.minimum)
    high = _Bound(spec.maximum)
    allowed: set[Any] | None = {True, False} if spec.type == "bool" else (
        set(spec.choices) if spec.type == "choice" else None)
    excluded: set[Any] = set()
    for op, value in bounds:
        if op == "==" or op == "in":
            wanted = set(value) if op == "in" else {value}
            allowed = wanted if allowed is None else allowed & wanted
        elif op == "!=":
            excluded.add(value)
        elif op == "not_in":
            excluded.update(value)
        elif op in (">", ">="):
            _tighten(low, value, op == ">", lower=True)
        elif op in ("<", "<="):
            _tighten(high, value, op == "<", lower=False)
    if allowed is not None:
        return any(v not in excluded and _within(v, low, high) for v in allowed)
    if spec.type == "int":
        _integral(low, high)
    if low.value is None or high.value is None or low.value < high.value:
        return True
    return bool(low.value == high.value and not (low.strict or high.strict) and low.value not in excluded)


def _tighten(bound: _Bound, value: Any, strict: bool, lower: bool) -> None:
    if bound.value is None or (value > bound.value if lower else value < bound.value):
        bound.value, bound.strict = value, strict
    elif value == bound.value:
        bound.strict = bound.strict or strict


def _integral(low: _Bound, high: _Bound) -> None:
    """Whole numbers only: x > 5 means x ≥ 6, x < 5.5 means x ≤ 5."""
    if low.value is not None:
        low.value = math.floor(low.value) + 1 if low.strict else math.ceil(low.value)
        low.strict = False
    if high.value is not None:
        high.value = math.ceil(high.value) - 1 if high.strict else math.floor(high.value)
        high.strict = False


def _within(value: Any, low: _Bound, high: _Bound) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    if low.value is not None and (value < low.value or (low.strict and value == low.value)):
        return False
    return not (high.value is not None and (value > high.value or (high.strict and value == high.value)))
