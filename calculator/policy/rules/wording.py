"""The Chinese words of a condition trace: '从业人数 85人 ≤ 300人 ✓', '待补充：从业人数', '不属于“…” ✓'.

Kept apart from the tree so the logic stays small and the words can change without touching it;
nodes are told apart by `kind` (leaf, all, any, not, ref), so this module needs nothing from tree.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calculator.core.vocabulary import MET, NOT_MET, UNKNOWN

if TYPE_CHECKING:
    from calculator.policy.rules.tree import Leaf, Node, Trace

SYMBOL = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def describe(trace: "Trace") -> str:
    """The detail line of one trace node."""
    node: Node = trace.node
    if node.kind == "ref":
        node = node.definition.node  # type: ignore[attr-defined]
    if node.kind == "leaf":
        return _describe_leaf(node, trace)  # type: ignore[arg-type]
    if trace.outcome == UNKNOWN:
        return "待补充：" + "、".join(missing_words(trace))
    if node.kind == "not":
        child = node.child  # type: ignore[attr-defined]
        return f"不属于“{child.text}” ✓" if trace.outcome == MET else f"属于“{child.text}” ✗"
    if node.kind == "all":
        if trace.outcome == MET:
            return "全部满足"
        return "不满足：" + "；".join(c.text for c in trace.children if c.outcome == NOT_MET)
    if trace.outcome == MET:
        return "满足：" + next(c.text for c in trace.children if c.outcome == MET)
    return "均不满足"


def missing_words(trace: "Trace") -> list[str]:
    """The facts (or parameters of the law) a trace still waits on, in words: a parameter is named by its
    description, taken from the leaf that reads it, never by its dotted name."""
    described = {}
    for leaf in trace.leaves():
        parameter = getattr(leaf.node, "parameter", None)
        if parameter is not None:
            described[parameter.name] = parameter.label
    return [described.get(name) or trace.node.schema.label(name) for name in trace.missing]


def _describe_leaf(leaf: "Leaf", trace: "Trace") -> str:
    label = leaf.spec.label
    threshold = trace.threshold
    if trace.value is None:
        if trace.presumed:
            return f"{label} 未说明，推定{want(leaf, threshold)} ✓（若不符，本项不适用）"
        return f"{label} 未知（需{want(leaf, threshold)}）"
    if leaf.param and (threshold is None or threshold.value is None):
        why = threshold.reason if threshold is not None else "该日期尚无规定的数值"
        return f"{label} {leaf.schema.format_value(leaf.field, trace.value)}；标准“{leaf.parameter.description if leaf.parameter else leaf.param}”待确认：{why}"
    if trace.outcome == UNKNOWN:   # an interval that straddles the bound
        op, bound = leaf.threshold_on(threshold)
        return (f"{label} {leaf.schema.format_value(leaf.field, trace.value)} 可能{SYMBOL.get(op, op)}也可能不{SYMBOL.get(op, op)}"
                f" {_shown(leaf, bound)}，需要准确数字")
    mark = "✓" if trace.outcome == MET else "✗"
    return f"{relation(leaf, trace.value, trace.outcome, threshold)} {mark}{_dated(leaf, threshold)}"


def _dated(leaf: "Leaf", threshold: Any) -> str:
    """Which dated value of the law was applied, when the condition reads a parameter."""
    if not leaf.param or threshold is None or threshold.value is None:
        return ""
    unverified = "，未核实" if not threshold.verified else ""
    return f"（标准按{threshold.dates()}执行{unverified}）"


def relation(leaf: "Leaf", value: Any, outcome: str, threshold: Any = None) -> str:
    """The value against the threshold in words: '从业人数 85人 ≤ 300人', '纳税人类型：一般纳税人（需为…）'."""
    spec = leaf.spec
    op, bound = leaf.threshold_on(threshold)
    label, shown = spec.label, leaf.schema.format_value(leaf.field, value)
    if (spec.numeric or spec.type == "date") and op in SYMBOL:
        symbol = SYMBOL[op] if outcome == MET else _actual_relation(value, bound)
        return f"{label} {shown} {symbol} {_shown(leaf, bound)}"
    if outcome == MET:
        return f"{label}：{shown}"
    return f"{label}：{shown}（需{want(leaf, threshold)}）"


def want(leaf: "Leaf", threshold: Any = None) -> str:
    """What the condition asks for, as a phrase after 需: ' ≤ 300人', '：是', '为小规模纳税人'."""
    spec = leaf.spec
    op, bound = leaf.threshold_on(threshold)
    if spec.type == "bool":
        wanted = bound if op == "==" else not bound
        return f"：{leaf.schema.format_value(leaf.field, wanted)}"
    if op in SYMBOL and (spec.numeric or spec.type == "date"):
        if bound is None:
            return f" {SYMBOL[op]} {leaf.text_with(threshold)}"
        return f" {SYMBOL[op]} {_shown(leaf, bound)}"
    return {
        "==": f"为{_shown(leaf, bound)}", "!=": f"不是{_shown(leaf, bound)}",
        "in": f"为{_shown(leaf, bound)}之一", "not_in": f"不是{_shown(leaf, bound)}",
        "contains": f"包含“{bound}”",
    }[op]


def _actual_relation(value: Any, threshold: Any) -> str:
    if hasattr(value, "compare"):   # an interval wholly on one side
        return ">" if value.compare("<=", threshold) is False else "<"
    return "<" if value < threshold else ">" if value > threshold else "="


def _shown(leaf: "Leaf", value: Any) -> str:
    if isinstance(value, (list, tuple, frozenset)):
        return "、".join(leaf.schema.format_value(leaf.field, v) for v in value)
    return leaf.schema.format_value(leaf.field, value)
