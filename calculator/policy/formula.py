"""Safe arithmetic for the catalog's amount formulas: a whitelisted expression compiled to closures.

Policy YAML is data written by people, so a formula must never run arbitrary code: it is parsed with
`ast`, every node is checked against a small whitelist (numbers, fact names, + - * /, unary minus,
min/max/round/abs, comparisons, `a if cond else b`) and types are checked at catalog load, then the
tree is turned into plain Python closures once. An unknown input gives an unknown result plus the
list of facts that would decide it, never a guess.
"""
from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from calculator.core.errors import LocatedError

NUMBER, BOOL, TEXT = "number", "bool", "text"
_UNKNOWN = object()  # an input fact is None: propagates through every operation

Closure = Callable[[Mapping[str, Any]], Any]

_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "round": round, "abs": abs}


class FormulaError(LocatedError):
    """The formula uses something outside the whitelist or mixes types; raised at catalog load."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"金额公式无效：{reason}", f"invalid amount formula: {reason}", "amount.formula")
        self.reason = reason


@dataclass(frozen=True)
class FormulaResult:
    value: float | None
    missing: tuple[str, ...] = ()


class Formula:
    """A compiled expression over facts. `kinds` maps each usable fact name to number | bool | text."""

    def __init__(self, source: str, kinds: Mapping[str, str]) -> None:
        self.source = source
        self._kinds = kinds
        self._names: dict[str, None] = {}
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise FormulaError(f"syntax error: {exc.msg}") from None
        self._run, kind = self._compile(tree.body)
        if kind != NUMBER:
            raise FormulaError(f"the result must be a number, not {kind}")
        self.names: tuple[str, ...] = tuple(self._names)

    def evaluate(self, facts: Mapping[str, Any]) -> FormulaResult:
        """Value, or None with the unknown facts it needs (None and no missing: undefined, e.g. ÷0)."""
        try:
            value = self._run(facts)
        except ZeroDivisionError:
            return FormulaResult(None)
        if value is _UNKNOWN:
            return FormulaResult(None, tuple(n for n in self.names if facts.get(n) is None))
        return FormulaResult(float(value))

    # ------------------------------------------------------------ compilation (load time only)

    def _compile(self, node: ast.AST) -> tuple[Closure, str]:
        handler = getattr(self, f"_c_{type(node).__name__}", None)
        if handler is None:
            raise FormulaError(f"{type(node).__name__} is not allowed (only numbers, fact names, + - * /, "
                               "min/max/round/abs, comparisons and 'a if cond else b')")
        return handler(node)

    def _c_Constant(self, node: ast.Constant) -> tuple[Closure, str]:
        value = node.value
        if isinstance(value, bool):
            kind = BOOL
        elif isinstance(value, (int, float)):
            kind = NUMBER
        elif isinstance(value, str):
            kind = TEXT
        else:
            raise FormulaError(f"constant {value!r} is not allowed")
        return (lambda facts: value), kind

    def _c_Name(self, node: ast.Name) -> tuple[Closure, str]:
        name = node.id
        if name in ("True", "False"):
            value = name == "True"
            return (lambda facts: value), BOOL
        kind = self._kinds.get(name)
        if kind is None:
            hint = " (a function needs brackets)" if name in _FUNCTIONS else ""
            raise FormulaError(f"unknown name {name!r}{hint}")
        self._names[name] = None

        def fact(facts: Mapping[str, Any]) -> Any:
            value = facts.get(name)
            return _UNKNOWN if value is None else value
        return fact, kind

    def _c_UnaryOp(self, node: ast.UnaryOp) -> tuple[Closure, str]:
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
        inner = self._numeric(node.operand, "unary minus")
        if isinstance(node.op, ast.UAdd):
            return inner, NUMBER

        def negate(facts: Mapping[str, Any]) -> Any:
            value = inner(facts)
            return _UNKNOWN if value is _UNKNOWN else -value
        return negate, NUMBER

    def _c_BinOp(self, node: ast.BinOp) -> tuple[Closure, str]:
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            raise FormulaError(f"operator {type(node.op).__name__} is not allowed (only + - * /)")
        left, right = self._numeric(node.left, "arithmetic"), self._numeric(node.right, "arithmetic")

        def arithmetic(facts: Mapping[str, Any]) -> Any:
            a, b = left(facts), right(facts)
            return _UNKNOWN if a is _UNKNOWN or b is _UNKNOWN else op(a, b)
        return arithmetic, NUMBER

    def _c_Call(self, node: ast.Call) -> tuple[Closure, str]:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        function = _FUNCTIONS.get(name)
        if function is None or node.keywords:
            raise FormulaError(f"only {', '.join(_FUNCTIONS)} may be called, with positional arguments")
        arity = {"min": (2, 99), "max": (2, 99), "round": (1, 2), "abs": (1, 1)}[name]
        if not arity[0] <= len(node.args) <= arity[1]:
            raise FormulaError(f"{name}() takes {arity[0]}–{arity[1]} arguments")
        args = [self._numeric(arg, name) for arg in node.args]

        def call(facts: Mapping[str, Any]) -> Any:
            values = [arg(facts) for arg in args]
            if any(v is _UNKNOWN for v in values):
                return _UNKNOWN
            if name == "round" and len(values) == 2:
                values[1] = int(values[1])
            return function(*values)
        return call, NUMBER

    def _c_Compare(self, node: ast.Compare) -> tuple[Closure, str]:
        operands = [self._compile(node.left), *(self._compile(c) for c in node.comparators)]
        steps: list[tuple[Callable[[Any, Any], bool], Closure, Closure]] = []
        for i, op_node in enumerate(node.ops):
            op = _COMPARE.get(type(op_node))
            if op is None:
                raise FormulaError(f"comparison {type(op_node).__name__} is not allowed")
            (left, left_kind), (right, right_kind) = operands[i], operands[i + 1]
            if left_kind != right_kind or (isinstance(op_node, _ORDERING) and left_kind != NUMBER):
                raise FormulaError(f"cannot compare {left_kind} with {right_kind} this way")
            steps.append((op, left, right))

        def compare(facts: Mapping[str, Any]) -> Any:
            for op, left, right in steps:
                a, b = left(facts), right(facts)
                if a is _UNKNOWN or b is _UNKNOWN:
                    return _UNKNOWN
                if not op(a, b):
                    return False
            return True
        return compare, BOOL

    def _c_IfExp(self, node: ast.IfExp) -> tuple[Closure, str]:
        test, test_kind = self._compile(node.test)
        if test_kind != BOOL:
            raise FormulaError("the condition of 'a if cond else b' must be a comparison or a yes/no fact")
        (body, body_kind), (orelse, else_kind) = self._compile(node.body), self._compile(node.orelse)
        if body_kind != else_kind:
            raise FormulaError(f"both branches of 'a if cond else b' must have one type ({body_kind}/{else_kind})")

        def choose(facts: Mapping[str, Any]) -> Any:
            flag = test(facts)
            if flag is _UNKNOWN:
                return _UNKNOWN
            return body(facts) if flag else orelse(facts)
        return choose, body_kind

    def _numeric(self, node: ast.AST, where: str) -> Closure:
        run, kind = self._compile(node)
        if kind != NUMBER:
            raise FormulaError(f"{where} needs numbers, got {kind}")
        return run
