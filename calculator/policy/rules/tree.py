"""Condition trees as data, evaluated with Kleene three-valued logic (met / not_met / unknown).

A tree is `all`, `any`, `not`, `ref: NAME` (a named definition) or a leaf `{id, text, field, op,
value, cite}` over one profile fact. The op set is closed and pure so the same trees compile to
null-aware column expressions for batch matching. Each tree is compiled ONCE into closures that
return a verdict: True (met), False (not_met) or the tuple of fields whose unknown values keep it
undecided; the traced evaluation with words is built only for results someone looks at.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any, Callable, Iterator, Mapping, Sequence

from calculator.corpus.citation import ClauseRef
from calculator.facts.profile import ALL_FACTS, NUMERIC, FieldSpec, format_value

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
ORDERING = ("<", "<=", ">", ">=")
OPS = ("==", "!=", *ORDERING, "in", "not_in", "contains")
_OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "int": ("==", "!=", *ORDERING, "in", "not_in"),
    "number": ("==", "!=", *ORDERING, "in", "not_in"),
    "date": ("==", "!=", *ORDERING),
    "bool": ("==", "!="),
    "choice": ("==", "!=", "in", "not_in"),
    "str": ("==", "!=", "in", "not_in", "contains"),
}
_SYMBOL = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_NEGATE = {MET: NOT_MET, NOT_MET: MET, UNKNOWN: UNKNOWN}

Facts = Mapping[str, Any]
Verdict = bool | tuple[str, ...]  # True met, False not_met, tuple: unknown, naming the missing fields
Test = Callable[[Facts], Verdict]


class ConditionError(ValueError):
    """A condition that cannot be evaluated as written; `path` points into the YAML (conditions.all[1].op)."""

    def __init__(self, path: str, zh: str, en: str) -> None:
        super().__init__(f"{path}: {en}")
        self.path, self.zh, self.en = path, zh, en


def outcome_of(verdict: Verdict) -> str:
    return MET if verdict is True else NOT_MET if verdict is False else UNKNOWN


def all_of(outcomes: Sequence[str]) -> str:
    """Kleene AND: not_met wins, then unknown."""
    return NOT_MET if NOT_MET in outcomes else UNKNOWN if UNKNOWN in outcomes else MET


def any_of(outcomes: Sequence[str]) -> str:
    """Kleene OR: met wins, then unknown."""
    return MET if MET in outcomes else UNKNOWN if UNKNOWN in outcomes else NOT_MET


# ---------------------------------------------------------------- traces

class Trace:
    """One node's outcome for one profile; words (`detail`) are produced only when asked for."""

    __slots__ = ("node", "outcome", "value", "children", "missing", "presumed")

    def __init__(self, node: "Node", outcome: str, value: Any = None, children: tuple["Trace", ...] = (),
                 missing: tuple[str, ...] = (), presumed: bool = False) -> None:
        self.node, self.outcome, self.value = node, outcome, value
        self.children, self.missing, self.presumed = children, missing, presumed

    @property
    def text(self) -> str:
        return self.node.text

    @property
    def cite(self) -> ClauseRef | None:
        return self.node.cite

    @property
    def detail(self) -> str:
        return self.node.describe(self)

    def leaves(self) -> Iterator["Trace"]:
        if not self.children:
            yield self
        for child in self.children:
            yield from child.leaves()

    def outcome_if_met(self, forced: "Trace") -> str:
        """This node's outcome had the `forced` leaf been met (what a near miss asks)."""
        if self is forced:
            return MET
        if not self.children:
            return self.outcome
        return self.node.combine([child.outcome_if_met(forced) for child in self.children])


def _unknown_missing(children: Sequence[Trace]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for c in children if c.outcome == UNKNOWN for f in c.missing))


# ---------------------------------------------------------------- nodes

class Node:
    """Base of the condition tree. `test` is the compiled fast path; `trace` the explained one."""

    path: str
    text: str
    cite: ClauseRef | None
    test: Test

    def trace(self, facts: Facts) -> Trace:
        raise NotImplementedError

    def describe(self, trace: Trace) -> str:
        raise NotImplementedError

    def combine(self, outcomes: Sequence[str]) -> str:
        raise NotImplementedError

    def walk(self) -> Iterator["Node"]:
        """This node and its descendants, not entering named definitions (they are checked once)."""
        yield self


@dataclass(eq=False)
class Leaf(Node):
    id: str
    text: str
    field: str
    op: str
    value: Any
    cite: ClauseRef
    path: str
    presume: bool = False  # unknown field → met, shown as a presumption (e.g. 非限制和禁止行业)
    spec: FieldSpec = dataclass_field(init=False, repr=False)
    test: Test = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.spec = ALL_FACTS[self.field]
        self.test = _compile_leaf(self.field, self.op, self.value, self.presume)

    @property
    def numeric(self) -> bool:
        return self.spec.type in NUMERIC and self.op in ORDERING

    def trace(self, facts: Facts) -> Trace:
        value = facts.get(self.field)
        verdict = self.test(facts)
        missing = verdict if isinstance(verdict, tuple) else ()
        return Trace(self, outcome_of(verdict), value, (), missing, value is None and self.presume)

    def describe(self, trace: Trace) -> str:
        label = self.spec.label
        if trace.value is None:
            if trace.presumed:
                return f"{label} 未说明，推定{self.want()} ✓（若不符，本项不适用）"
            return f"{label} 未知（需{self.want()}）"
        mark = "✓" if trace.outcome == MET else "✗"
        return f"{self.relation(trace.value, trace.outcome)} {mark}"

    def relation(self, value: Any, outcome: str) -> str:
        """The value against the threshold in words: '从业人数 85人 ≤ 300人', '纳税人类型：一般纳税人（需为…）'."""
        label, shown = self.spec.label, format_value(self.field, value)
        if self.spec.type in NUMERIC or self.spec.type == "date":
            if self.op in _SYMBOL:
                symbol = _SYMBOL[self.op] if outcome == MET else _actual_relation(value, self.value)
                return f"{label} {shown} {symbol} {self._shown(self.value)}"
        if outcome == MET:
            return f"{label}：{shown}"
        return f"{label}：{shown}（需{self.want()}）"

    def want(self) -> str:
        """What the condition asks for, as a phrase after 需: ' ≤ 300人', '：是', '为小规模纳税人'."""
        if self.spec.type == "bool":
            wanted = self.value if self.op == "==" else not self.value
            return f"：{format_value(self.field, wanted)}"
        if self.op in _SYMBOL and (self.spec.type in NUMERIC or self.spec.type == "date"):
            return f" {_SYMBOL[self.op]} {self._shown(self.value)}"
        return {
            "==": f"为{self._shown(self.value)}", "!=": f"不是{self._shown(self.value)}",
            "in": f"为{self._shown(self.value)}之一", "not_in": f"不是{self._shown(self.value)}",
            "contains": f"包含“{self.value}”",
        }[self.op]

    def _shown(self, value: Any) -> str:
        if isinstance(value, (list, tuple, frozenset)):
            return "、".join(format_value(self.field, v) for v in value)
        return format_value(self.field, value)


def _actual_relation(value: Any, threshold: Any) -> str:
    return "<" if value < threshold else ">" if value > threshold else "="


def _compile_leaf(name: str, op: str, value: Any, presume: bool) -> Test:
    """One closure per leaf, specialised by op: a dict lookup and one comparison per call."""
    when_unknown: Verdict = True if presume else (name,)
    if op in ("in", "not_in"):
        members = frozenset(value)
        inside = op == "in"

        def membership(facts: Facts) -> Verdict:
            v = facts.get(name)
            return when_unknown if v is None else (v in members) is inside
        return membership
    if op == "contains":
        def contains(facts: Facts) -> Verdict:
            v = facts.get(name)
            return when_unknown if v is None else value in v
        return contains
    compare = _COMPARE[op]

    def comparison(facts: Facts) -> Verdict:
        v = facts.get(name)
        return when_unknown if v is None else compare(v, value)
    return comparison


@dataclass(eq=False)
class Group(Node):
    kind: str  # all | any
    children: list[Node]
    text: str
    path: str
    cite: ClauseRef | None = None
    id: str = ""
    test: Test = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        tests = tuple(child.test for child in self.children)
        self.test = _compile_junction(tests, decisive=self.kind != "all")

    def combine(self, outcomes: Sequence[str]) -> str:
        return all_of(outcomes) if self.kind == "all" else any_of(outcomes)

    def trace(self, facts: Facts) -> Trace:
        children = tuple(child.trace(facts) for child in self.children)
        outcome = self.combine([c.outcome for c in children])
        missing = _unknown_missing(children) if outcome == UNKNOWN else ()
        return Trace(self, outcome, None, children, missing)

    def describe(self, trace: Trace) -> str:
        if trace.outcome == UNKNOWN:
            return "待补充：" + "、".join(ALL_FACTS[f].label for f in trace.missing)
        if self.kind == "all":
            if trace.outcome == MET:
                return "全部满足"
            return "不满足：" + "；".join(c.text for c in trace.children if c.outcome == NOT_MET)
        if trace.outcome == MET:
            return "满足：" + next(c.text for c in trace.children if c.outcome == MET)
        return "均不满足"

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


def _compile_junction(tests: tuple[Test, ...], decisive: bool) -> Test:
    """Kleene AND (`decisive` False: one unmet child decides) or OR (`decisive` True: one met child decides);
    otherwise unknown with every undecided child's missing facts, or the other truth value."""
    if len(tests) == 1:
        return tests[0]  # a junction of one child is the child
    other = not decisive

    def junction(facts: Facts) -> Verdict:
        missing: tuple[str, ...] = ()
        for test in tests:
            verdict = test(facts)
            if verdict is decisive:
                return decisive
            if verdict is not other:
                missing += verdict
        return missing or other
    return junction


@dataclass(eq=False)
class Not(Node):
    child: Node
    text: str
    path: str
    cite: ClauseRef | None = None
    id: str = ""
    test: Test = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        inner = self.child.test

        def not_test(facts: Facts) -> Verdict:
            verdict = inner(facts)
            return (verdict is False) if isinstance(verdict, bool) else verdict
        self.test = not_test

    def combine(self, outcomes: Sequence[str]) -> str:
        return _NEGATE[outcomes[0]]

    def trace(self, facts: Facts) -> Trace:
        child = self.child.trace(facts)
        return Trace(self, _NEGATE[child.outcome], None, (child,), child.missing)

    def describe(self, trace: Trace) -> str:
        if trace.outcome == UNKNOWN:
            return "待补充：" + "、".join(ALL_FACTS[f].label for f in trace.missing)
        return f"不属于“{self.child.text}” ✓" if trace.outcome == MET else f"属于“{self.child.text}” ✗"

    def walk(self) -> Iterator[Node]:
        yield self
        yield from self.child.walk()


@dataclass(eq=False)
class Definition:
    """A named condition from _definitions.yaml (e.g. 小型微利企业): written once, referenced by name."""

    name: str
    node: Node

    @property
    def text(self) -> str:
        return self.node.text


@dataclass(eq=False)
class Ref(Node):
    definition: Definition
    path: str
    test: Test = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.test = self.definition.node.test  # no indirection on the fast path

    @property
    def text(self) -> str:  # type: ignore[override]
        return self.definition.text

    @property
    def cite(self) -> ClauseRef | None:  # type: ignore[override]
        return self.definition.node.cite

    def combine(self, outcomes: Sequence[str]) -> str:
        return self.definition.node.combine(outcomes)

    def trace(self, facts: Facts) -> Trace:
        body = self.definition.node.trace(facts)
        return Trace(self, body.outcome, body.value, body.children, body.missing, body.presumed)

    def describe(self, trace: Trace) -> str:
        return self.definition.node.describe(trace)


def evaluate(node: Node, facts: Facts) -> Trace:
    """The explained evaluation of a compiled tree (use `node.test(facts)` when only the verdict matters)."""
    return node.trace(facts)


def near_miss(trace: Trace, margin: float) -> Trace | None:
    """The one numeric leaf whose failure alone blocks the policy, when the value is within `margin`.

    Only leaves whose flip would lift the verdict out of not_met count, so alternatives in an `any`
    are judged fairly; among several the relatively closest wins.
    """
    if trace.outcome != NOT_MET:
        return None
    best: tuple[float, Trace] | None = None
    for leaf in trace.leaves():
        node = leaf.node
        if leaf.outcome != NOT_MET or not isinstance(node, (Leaf, Ref)):
            continue
        leaf_node = node if isinstance(node, Leaf) else node.definition.node
        if not isinstance(leaf_node, Leaf) or not leaf_node.numeric or not leaf_node.value:
            continue
        gap = abs(leaf.value - leaf_node.value) / abs(leaf_node.value)
        if gap <= margin and trace.outcome_if_met(leaf) != NOT_MET and (best is None or gap < best[0]):
            best = (gap, leaf)
    return best[1] if best else None


def leaf_of(trace: Trace) -> Leaf | None:
    """The leaf behind a trace (through a reference to a one-leaf definition)."""
    node = trace.node
    if isinstance(node, Ref):
        node = node.definition.node
    return node if isinstance(node, Leaf) else None


# ---------------------------------------------------------------- parsing YAML into compiled nodes

_LEAF_KEYS = {"id", "text", "field", "op", "value", "cite", "presume"}
_GROUP_KEYS = {"id", "text", "cite"}


class DefinitionTable:
    """Parses named definitions on first use so they may reference each other in any order."""

    def __init__(self, raw: Mapping[str, Any], path: str = "definitions") -> None:
        self._raw = raw
        self._path = path
        self._parsed: dict[str, Definition] = {}
        self._resolving: list[str] = []

    def get(self, name: str, where: str) -> Definition:
        if name in self._parsed:
            return self._parsed[name]
        if name not in self._raw:
            known = "、".join(self._raw) or "（无）"
            raise ConditionError(where, f"未定义的命名条件“{name}”（已定义：{known}）", f"unknown definition {name!r}")
        if name in self._resolving:
            cycle = " → ".join([*self._resolving, name])
            raise ConditionError(where, f"命名条件循环引用：{cycle}", f"definitions refer to each other in a cycle: {cycle}")
        self._resolving.append(name)
        try:
            path = f"{self._path}.{name}"
            raw = self._raw[name]
            node = parse_condition(raw, self, path)
            if not isinstance(raw, Mapping) or not raw.get("text") or node.cite is None:
                raise ConditionError(path, "命名条件须有 text 和 cite", "a definition needs text and cite")
            definition = Definition(name, node)
        finally:
            self._resolving.pop()
        self._parsed[name] = definition
        return definition

    def all(self) -> dict[str, Definition]:
        """Every definition, parsed (raises the first ConditionError)."""
        return {name: self.get(name, f"{self._path}.{name}") for name in self._raw}


def parse_condition(raw: Any, definitions: DefinitionTable, path: str = "conditions") -> Node:
    """YAML mapping → compiled node, checking keys, fields, ops and value types; errors name the path."""
    if not isinstance(raw, Mapping):
        raise ConditionError(path, "条件应为映射（all/any/not/ref 或叶子）", "a condition must be a mapping")
    kinds = [k for k in ("all", "any", "not", "ref", "field") if k in raw]
    if len(kinds) != 1:
        raise ConditionError(path, "条件须且只能是 all、any、not、ref 或含 field/op/value 的叶子之一",
                             "a condition is exactly one of all / any / not / ref / a leaf with field, op, value")
    kind = kinds[0]
    if kind == "ref":
        _no_extra(raw, {"ref"}, path)
        return Ref(definitions.get(str(raw["ref"]), f"{path}.ref"), path)
    if kind == "field":
        return _parse_leaf(raw, path)
    _no_extra(raw, _GROUP_KEYS | {kind}, path)
    cite = _parse_cite(raw["cite"], f"{path}.cite") if "cite" in raw else None
    if kind == "not":
        child = parse_condition(raw["not"], definitions, f"{path}.not")
        return Not(child, str(raw.get("text") or f"不属于：{child.text}"), path, cite, str(raw.get("id", "")))
    items = raw[kind]
    if not isinstance(items, list) or not items:
        raise ConditionError(f"{path}.{kind}", f"{kind} 应为非空列表", f"{kind} must be a non-empty list")
    children = [parse_condition(item, definitions, f"{path}.{kind}[{i}]") for i, item in enumerate(items)]
    default_text = "同时满足以下条件" if kind == "all" else "满足以下条件之一"
    group = Group(kind, children, str(raw.get("text") or default_text), path, cite, str(raw.get("id", "")))
    if kind == "all":
        _check_satisfiable(group)
    return group


def _no_extra(raw: Mapping[str, Any], allowed: set[str], path: str) -> None:
    extra = sorted(set(raw) - allowed)
    if extra:
        raise ConditionError(f"{path}.{extra[0]}", f"未知键 {extra}（允许：{sorted(allowed)}）",
                             f"unknown keys {extra} (allowed: {sorted(allowed)})")


def _parse_cite(raw: Any, path: str) -> ClauseRef:
    try:
        return ClauseRef.from_yaml(raw, path)
    except ValueError as exc:
        message = str(exc).removeprefix(f"{path}: ")
        zh, _, en = message.partition(" / ")
        raise ConditionError(path, zh, en or zh) from None


def _parse_leaf(raw: Mapping[str, Any], path: str) -> Leaf:
    _no_extra(raw, _LEAF_KEYS, path)
    for key in ("id", "text", "op", "cite"):
        if key not in raw or raw[key] in (None, ""):
            raise ConditionError(f"{path}.{key}", f"叶子条件缺少 {key}", f"a leaf needs {key}")
    if "value" not in raw:
        raise ConditionError(f"{path}.value", "叶子条件缺少 value", "a leaf needs value")
    name = str(raw["field"])
    spec = ALL_FACTS.get(name)
    if spec is None:
        raise ConditionError(f"{path}.field", f"未知字段“{name}”（须在 knowledge/data/profile_fields.yaml 中）",
                             f"unknown field {name!r} (not in knowledge/data/profile_fields.yaml)")
    op = str(raw["op"])
    if op not in OPS:
        raise ConditionError(f"{path}.op", f"未知运算符“{op}”（可用：{' '.join(OPS)}）", f"unknown op {op!r}")
    if op not in _OPS_BY_TYPE[spec.type]:
        raise ConditionError(f"{path}.op", f"{spec.label}（{spec.type}）不能用运算符 {op}",
                             f"op {op!r} does not apply to {name} ({spec.type})")
    value = _checked_value(spec, op, raw["value"], f"{path}.value")
    presume = raw.get("presume", False)
    if not isinstance(presume, bool):
        raise ConditionError(f"{path}.presume", "presume 应为 true/false", "presume must be true or false")
    return Leaf(str(raw["id"]), str(raw["text"]), name, op, value, _parse_cite(raw["cite"], f"{path}.cite"),
                path, presume)


def _checked_value(spec: FieldSpec, op: str, value: Any, path: str) -> Any:
    """The threshold in the field's own type: numbers for numeric facts, a listed choice for choices …"""
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ConditionError(path, f"{op} 的 value 应为非空列表", f"{op} needs a non-empty list")
        return tuple(_checked_scalar(spec, v, f"{path}[{i}]") for i, v in enumerate(value))
    if op == "contains":
        if not isinstance(value, str) or not value:
            raise ConditionError(path, "contains 的 value 应为文字", "contains needs a text value")
        return value
    return _checked_scalar(spec, value, path)


def _checked_scalar(spec: FieldSpec, value: Any, path: str) -> Any:
    label = spec.label
    if spec.type in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConditionError(path, f"{label}是数值，value 应为数字（收到 {value!r}）",
                                 f"{spec.key} is numeric: value must be a number, got {value!r}")
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            raise ConditionError(path, f"{label}的阈值 {value} 超出取值范围 {spec.minimum}～{spec.maximum}",
                                 f"threshold {value} is outside {spec.key}'s range {spec.minimum}..{spec.maximum}")
        return value
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise ConditionError(path, f"{label}是是/否项，value 应为 true/false（收到 {value!r}）",
                                 f"{spec.key} is yes/no: value must be true or false, got {value!r}")
        return value
    if spec.type == "date":
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                pass
        if not isinstance(value, date):
            raise ConditionError(path, f"{label}是日期，value 应为 YYYY-MM-DD（收到 {value!r}）",
                                 f"{spec.key} is a date: value must be YYYY-MM-DD, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConditionError(path, f"{label}的 value 应为文字（收到 {value!r}）", f"{spec.key} needs a text value, got {value!r}")
    if spec.type == "choice" and value not in spec.choices:
        raise ConditionError(path, f"“{value}”不是{label}的可选值（可选：{'、'.join(spec.choices)}）",
                             f"{value!r} is not one of {spec.key}'s choices")
    return value


# ---------------------------------------------------------------- consistency of thresholds

def _conjuncts(node: Node) -> Iterator[Leaf]:
    """Leaves that must all hold for `node` to be met (through nested `all` and references)."""
    if isinstance(node, Leaf):
        yield node
    elif isinstance(node, Group) and node.kind == "all":
        for child in node.children:
            yield from _conjuncts(child)
    elif isinstance(node, Ref):
        yield from _conjuncts(node.definition.node)


def _check_satisfiable(group: Group) -> None:
    """An `all` whose leaves on one field can never hold together (x ≥ 10 and x < 5) is an error."""
    by_field: dict[str, list[Leaf]] = {}
    for leaf in _conjuncts(group):
        by_field.setdefault(leaf.field, []).append(leaf)
    for name, leaves in by_field.items():
        if len(leaves) > 1 and not _satisfiable(ALL_FACTS[name], leaves):
            ids = "、".join(f"{leaf.id}（{leaf.op} {leaf.value}）" for leaf in leaves)
            raise ConditionError(group.path, f"{ALL_FACTS[name].label}的条件互相矛盾，永远无法同时满足：{ids}",
                                 f"contradictory thresholds on {name}: {ids} can never all hold")


@dataclass
class _Bound:
    value: Any = None
    strict: bool = False


def _satisfiable(spec: FieldSpec, leaves: list[Leaf]) -> bool:
    low = _Bound(spec.minimum)
    high = _Bound(spec.maximum)
    allowed: set[Any] | None = {True, False} if spec.type == "bool" else (
        set(spec.choices) if spec.type == "choice" else None)
    excluded: set[Any] = set()
    for leaf in leaves:
        op, value = leaf.op, leaf.value
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
    return low.value == high.value and not (low.strict or high.strict) and low.value not in excluded


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
