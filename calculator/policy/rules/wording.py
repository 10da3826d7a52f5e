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
        return "待补充：" + "、".join(node.schema.labels(trace.missing))
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


def _describe_leaf(leaf: "Leaf", trace: "Trace") -> str:
    label = leaf.spec.label
    if trace.value is None:
        if trace.presumed:
            return f"{label} 未说明，推定{want(leaf)} ✓（若不符，本项不适用）"
        return f"{label} 未知（需{want(leaf)}）"
    mark = "✓" if trace.outcome == MET else "✗"
    return f"{relation(leaf, trace.value, trace.outcome)} {mark}"


def relation(leaf: "Leaf", value: Any, outcome: str) -> str:
    """The value against the threshold in words: '从业人数 85人 ≤ 300人', '纳税人类型：一般纳税人（需为…）'."""
    spec = leaf.spec
    label, shown = spec.label, leaf.schema.format_value(leaf.field, value)
    if (spec.numeric or spec.type == "date") and leaf.op in SYMBOL:
        symbol = SYMBOL[leaf.op] if outcome == MET else _actual_relation(value, leaf.value)
        return f"{label} {shown} {symbol} {_shown(leaf, leaf.value)}"
    if outcome == MET:
        return f"{label}：{shown}"
    return f"{label}：{shown}（需{want(leaf)}）"


def want(leaf: "Leaf") -> str:
    """What the condition asks for, as a phrase after 需: ' ≤ 300人', '：是', '为小规模纳税人'."""
    spec = leaf.spec
    if spec.type == "bool":
        wanted = leaf.value if leaf.op == "==" else not leaf.value
        return f"：{leaf.schema.format_value(leaf.field, wanted)}"
    if leaf.op in SYMBOL and (spec.numeric or spec.type == "date"):
        return f" {SYMBOL[leaf.op]} {_shown(leaf, leaf.value)}"
    return {
        "==": f"为{_shown(leaf, leaf.value)}", "!=": f"不是{_shown(leaf, leaf.value)}",
        "in": f"为{_shown(leaf, leaf.value)}之一", "not_in": f"不是{_shown(leaf, leaf.value)}",
        "contains": f"包含“{leaf.value}”",
    }[leaf.op]


def _actual_relation(value: Any, threshold: Any) -> str:
    return "<" if value < threshold else ">" if value > threshold else "="


def _shown(leaf: "Leaf", value: Any) -> str:
    if isinstance(value, (list, tuple, frozenset)):
        return "、".join(leaf.schema.format_value(leaf.field, v) for v in value)
    return leaf.schema.format_value(leaf.field, value)
