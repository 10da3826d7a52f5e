"""Condition trees, compiled once into closures and evaluated with Kleene logic (met / not_met / unknown).

A tree is `all`, `any`, `not`, `ref` (a named definition) or a leaf over one profile fact. The op set is
closed and pure, so the same trees compile to null-aware column expressions for batch matching. Each
node's `test` is the fast verdict: True (met), False (not_met) or the tuple of fields whose unknown
values keep it undecided; `trace` is the explained evaluation, whose words (`wording.describe`) are
built only for results someone reads.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

from calculator.core.vocabulary import MET, NOT_MET, UNKNOWN
from calculator.facts.interval import Interval
from calculator.policy.rules import wording

if TYPE_CHECKING:  # nodes hold these; load.py builds the nodes and imports them
    from calculator.corpus.citation import ClauseRef
    from calculator.facts.schema import FactSchema, FieldSpec

ORDERING = ("<", "<=", ">", ">=")
OPS = ("==", "!=", *ORDERING, "in", "not_in", "contains")
OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "int": ("==", "!=", *ORDERING, "in", "not_in"),
    "number": ("==", "!=", *ORDERING, "in", "not_in"),
    "date": ("==", "!=", *ORDERING),
    "bool": ("==", "!="),
    "choice": ("==", "!=", "in", "not_in"),
    "str": ("==", "!=", "in", "not_in", "contains"),
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
NEGATE = {MET: NOT_MET, NOT_MET: MET, UNKNOWN: UNKNOWN}

Facts = Mapping[str, Any]
Verdict = bool | tuple[str, ...]  # True met, False not_met, tuple: unknown, naming the missing fields
Test = Callable[[Facts], Verdict]


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

    __slots__ = ("node", "outcome", "value", "children", "missing", "presumed", "threshold")

    def __init__(self, node: "Node", outcome: str, value: Any = None, children: tuple["Trace", ...] = (),
                 missing: tuple[str, ...] = (), presumed: bool = False, threshold: Any = None) -> None:
        self.node, self.outcome, self.value = node, outcome, value
        self.children, self.missing, self.presumed = children, missing, presumed
        self.threshold = threshold   # a leaf on a parameter: the parameter's value on the day asked (or None)

    @property
    def text(self) -> str:
        node = self.node
        if isinstance(node, Leaf) and node.param:
            return node.text_with(self.threshold)
        return node.text

    @property
    def cite(self) -> ClauseRef | None:
        return self.node.cite

    @property
    def detail(self) -> str:
        return wording.describe(self)

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
    """Base of the condition tree. `test` is the compiled fast path; `trace` the explained one.

    `kind` names the node type for code that must not import this module (wording, batch compilers).
    """

    kind: str
    path: str
    text: str
    cite: ClauseRef | None
    schema: FactSchema
    test: Test

    def trace(self, facts: Facts) -> Trace:
        raise NotImplementedError

    def combine(self, outcomes: Sequence[str]) -> str:
        raise NotImplementedError

    def children_nodes(self) -> tuple["Node", ...]:
        return ()

    def walk(self, into_refs: bool = False) -> Iterator["Node"]:
        """This node and its descendants, depth first; `into_refs` also enters named definitions
        (each once), otherwise a reference is a leaf of the walk (definitions are checked once)."""
        seen: set[str] = set()
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            children = list(node.children_nodes())
            if into_refs and isinstance(node, Ref) and node.definition.name not in seen:
                seen.add(node.definition.name)
                children = [node.definition.node]
            stack.extend(reversed(children))


@dataclass(eq=False)
class Leaf(Node):
    """One comparison of a fact with a literal `value` or, when `param` is set, with a dated parameter's
    value on the day asked (read from the facts of that day, where the matcher puts the parameters)."""

    id: str
    text: str
    field: str
    op: str
    value: Any
    cite: ClauseRef
    path: str
    schema: FactSchema
    presume: bool = False  # unknown field → met, shown as a presumption (e.g. 非限制和禁止行业)
    param: str = ""        # the parameter compared with (value is then None); see policy/parameters.py
    parameter: Any = dataclass_field(default=None, repr=False)  # its Parameter, for words without a day
    kind: str = dataclass_field(default="leaf", init=False)
    spec: FieldSpec = dataclass_field(init=False, repr=False)
    test: Test = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.spec = self.schema.all_facts[self.field]
        self.test = _compile_leaf(self.field, self.op, self.value, self.presume, self.param)

    @property
    def numeric(self) -> bool:
        return self.spec.numeric and self.op in ORDERING

    def threshold_on(self, threshold: Any) -> tuple[str, Any]:
        """(op, value) as they apply: a parameter's boundary sets the strictness on its day."""
        if not self.param:
            return self.op, self.value
        if threshold is None or threshold.value is None:
            return self.op, None
        return effective_op(self.op, threshold.boundary), threshold.value

    def text_with(self, threshold: Any) -> str:
        """The condition text with "{value}" filled: the day's value, or the value every day shares."""
        if "{value}" not in self.text:
            return self.text
        number = threshold.value if threshold is not None and threshold.value is not None else (
            self.parameter.constant if self.parameter is not None else None)
        shown = self.schema.format_value(self.field, number) if number is not None else "规定标准"
        return self.text.replace("{value}", shown)

    def trace(self, facts: Facts) -> Trace:
        value = facts.get(self.field)
        verdict = self.test(facts)
        missing = verdict if isinstance(verdict, tuple) else ()
        threshold = facts.get(self.param) if self.param else None
        return Trace(self, outcome_of(verdict), value, (), missing, value is None and self.presume, threshold)

    def relation(self, value: Any, outcome: str, threshold: Any = None) -> str:
        """The value against the threshold in words (see wording.relation)."""
        return wording.relation(self, value, outcome, threshold)


def effective_op(op: str, boundary: str | None) -> str:
    """An ordering op with the strictness a parameter's boundary gives it (含本数 inclusive → ≤/≥)."""
    if boundary is None or op not in ORDERING:
        return op
    upper = op in ("<", "<=")
    if boundary == "inclusive":
        return "<=" if upper else ">="
    return "<" if upper else ">"


def judge(value: Any, op: str, threshold: Any) -> bool | None:
    """`value op threshold`, three-valued when the value is an interval (None: it straddles the bound)."""
    if isinstance(value, Interval):
        if op in ("in", "not_in"):
            inside = value.member_of(tuple(threshold))
            return inside if inside is None or op == "in" else not inside
        return value.compare(op, threshold)
    if op == "in":
        return value in threshold
    if op == "not_in":
        return value not in threshold
    if op == "contains":
        return threshold in value
    return bool(_COMPARE[op](value, threshold))


def _compile_leaf(name: str, op: str, value: Any, presume: bool, param: str = "") -> Test:
    """One closure per leaf, specialised by op: a dict lookup and one comparison per call on exact facts;
    an interval fact or a parameter takes the general `judge` path."""
    when_unknown: Verdict = True if presume else (name,)
    if param:
        def with_parameter(facts: Facts) -> Verdict:
            v = facts.get(name)
            if v is None:
                return when_unknown
            threshold = facts.get(param)
            if threshold is None or threshold.value is None:
                return (param,)            # no value of the law on this day: unknown, naming the parameter
            outcome = judge(v, effective_op(op, threshold.boundary), threshold.value)
            return (name,) if outcome is None else outcome
        return with_parameter
    if op in ("in", "not_in"):
        members = frozenset(value)
        inside = op == "in"

        def membership(facts: Facts) -> Verdict:
            v = facts.get(name)
            if v is None:
                return when_unknown
            if isinstance(v, Interval):
                outcome = judge(v, op, members)
                return (name,) if outcome is None else outcome
            return (v in members) is inside
        return membership
    if op == "contains":
        def contains(facts: Facts) -> Verdict:
            v = facts.get(name)
            return when_unknown if v is None else value in v
        return contains
    compare = _COMPARE[op]

    def comparison(facts: Facts) -> Verdict:
        v = facts.get(name)
        if v is None:
            return when_unknown
        if isinstance(v, Interval):
            outcome = v.compare(op, value)
            return (name,) if outcome is None else outcome
        return bool(compare(v, value))
    return comparison


@dataclass(eq=False)
class Group(Node):
    kind: str  # all | any
    children: list[Node]
    text: str
    path: str
    schema: FactSchema
    cite: ClauseRef | None = None
    id: str = ""
    test: Test = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        tests = tuple(child.test for child in self.children)
        self.test = _compile_junction(tests, decisive=self.kind != "all")

    def children_nodes(self) -> tuple[Node, ...]:
        return tuple(self.children)

    def combine(self, outcomes: Sequence[str]) -> str:
        return all_of(outcomes) if self.kind == "all" else any_of(outcomes)

    def trace(self, facts: Facts) -> Trace:
        children = tuple(child.trace(facts) for child in self.children)
        outcome = self.combine([c.outcome for c in children])
        missing = _unknown_missing(children) if outcome == UNKNOWN else ()
        return Trace(self, outcome, None, children, missing)


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
                missing += verdict  # type: ignore[operator]
        return missing or other
    return junction


@dataclass(eq=False)
class Not(Node):
    child: Node
    text: str
    path: str
    schema: FactSchema
    cite: ClauseRef | None = None
    id: str = ""
    kind: str = dataclass_field(default="not", init=False)
    test: Test = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        inner = self.child.test

        def not_test(facts: Facts) -> Verdict:
            verdict = inner(facts)
            return (verdict is False) if isinstance(verdict, bool) else verdict
        self.test = not_test

    def children_nodes(self) -> tuple[Node, ...]:
        return (self.child,)

    def combine(self, outcomes: Sequence[str]) -> str:
        return NEGATE[outcomes[0]]

    def trace(self, facts: Facts) -> Trace:
        child = self.child.trace(facts)
        return Trace(self, NEGATE[child.outcome], None, (child,), child.missing)


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
    kind: str = dataclass_field(default="ref", init=False)
    text: str = dataclass_field(init=False)
    cite: ClauseRef | None = dataclass_field(init=False)
    schema: FactSchema = dataclass_field(init=False, repr=False)
    test: Test = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        body = self.definition.node  # a definition is fixed once parsed: its words and test are shared
        self.text, self.cite, self.schema = body.text, body.cite, body.schema
        self.test = body.test  # no indirection on the fast path

    def combine(self, outcomes: Sequence[str]) -> str:
        return self.definition.node.combine(outcomes)

    def trace(self, facts: Facts) -> Trace:
        body = self.definition.node.trace(facts)
        return Trace(self, body.outcome, body.value, body.children, body.missing, body.presumed)


def target(node: Node) -> Node:
    """The node a reference stands for (itself for any other node)."""
    return node.definition.node if isinstance(node, Ref) else node


def leaf_of(trace: Trace) -> Leaf | None:
    """The leaf behind a trace (through a reference to a one-leaf definition)."""
    node = target(trace.node)
    return node if isinstance(node, Leaf) else None


def near_miss(trace: Trace, margin: float) -> Trace | None:
    """The one numeric leaf whose failure alone blocks the policy, when the value is within `margin`.

    Only leaves whose flip would lift the verdict out of not_met count, so alternatives in an `any`
    are judged fairly; among several the relatively closest wins.
    """
    if trace.outcome != NOT_MET:
        return None
    best: tuple[float, Trace] | None = None
    for leaf in trace.leaves():
        node = leaf_of(leaf)
        if leaf.outcome != NOT_MET or node is None or not node.numeric or not isinstance(leaf.value, (int, float)):
            continue
        bound = node.threshold_on(leaf.threshold)[1]
        if not bound:
            continue
        gap = abs(leaf.value - bound) / abs(bound)
        if gap <= margin and trace.outcome_if_met(leaf) != NOT_MET and (best is None or gap < best[0]):
            best = (gap, leaf)
    return best[1] if best else None
