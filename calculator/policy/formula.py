"""Safe arithmetic for the catalog's amount formulas: a whitelisted expression compiled to closures.

Policy YAML is data written by people, so a formula must never run arbitrary code: it is parsed with
`ast`, every node is checked against a small whitelist (numbers, fact names, parameter names such as
`vat.small_scale_reduced_rate`, + - * /, unary minus, min/max/round/abs, comparisons, `a if cond else b`)
and types are checked at catalog load, then the tree is turned into plain Python closures once.

Honest amounts: an unknown input gives an unknown result plus the facts that would decide it, never a
guess; a vague input (an interval such as 三百来万) gives a range; a condition that cannot be decided
(a comparison on an interval, or a named definition still unknown) takes both branches and gives the
range between them. A parameter with no value on the day asked is unknown, named like a fact.

    >>> kinds = {"taxable_income": "number", "cit.rate": "number"}
    >>> Formula("max(0, taxable_income) * cit.rate", kinds).evaluate({"taxable_income": 200, "cit.rate": _V(0.2)}).value
    40.0
"""
from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from calculator.core.errors import LocatedError
from calculator.facts import interval as iv
from calculator.facts.interval import Interval, as_interval

NUMBER, BOOL, TEXT, DEFINITION = "number", "bool", "text", "definition"
_UNKNOWN = object()    # an input fact is None: propagates through every operation, names what is missing
_UNDECIDED = object()  # a condition neither true nor false on what is known: both branches are taken

Closure = Callable[[Mapping[str, Any]], Any]

_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
}
_INTERVAL_ARITHMETIC: dict[type, Callable[[Interval, Interval], Interval | None]] = {
    ast.Add: iv.add, ast.Sub: iv.sub, ast.Mult: iv.mul, ast.Div: iv.div,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_OP_SYMBOL: dict[type, str] = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_FLIPPED: dict[type, str] = {ast.Lt: ">", ast.LtE: ">=", ast.Gt: "<", ast.GtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_FUNCTIONS = ("min", "max", "round", "abs")


class FormulaError(LocatedError):
    """The formula uses something outside the whitelist or mixes types; raised at catalog load."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"金额公式无效：{reason}", f"invalid amount formula: {reason}", "amount.formula")
        self.reason = reason


@dataclass(frozen=True)
class _V:
    """A stand-in for a parameter's value in doctests (the matcher puts policy.parameters.Value there)."""

    value: float | None


@dataclass(frozen=True)
class FormulaResult:
    """The amount: a number, a range (`low`..`high`, `value` None) or unknown (`missing` names why)."""

    value: float | None
    missing: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def is_range(self) -> bool:
        return self.value is None and self.low is not None and self.high is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric(value: Any) -> bool:
    return _is_number(value) or isinstance(value, Interval)


class Formula:
    """A compiled expression over facts. `kinds` maps each usable name (fact, parameter, definition) to
    number | bool | text | definition; a dotted name is a parameter, read from the facts of the day."""

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
        self.parameters: tuple[str, ...] = tuple(n for n in self._names if "." in n)

    def evaluate(self, facts: Mapping[str, Any]) -> FormulaResult:
        """Value (or range), or None with the unknown facts it needs (None and no missing: undefined, e.g. ÷0)."""
        try:
            value = self._run(facts)
        except ZeroDivisionError:
            return FormulaResult(None)
        if value is _UNKNOWN:
            # an undecided definition takes both branches: only the unknown facts and parameters are missing
            return FormulaResult(None, tuple(n for n in self.names
                                             if self._kinds.get(n) != DEFINITION and _lookup(facts, n) is None))
        if value is None or value is _UNDECIDED:
            return FormulaResult(None)
        if isinstance(value, Interval):
            if value.is_point:
                return FormulaResult(value.low)
            return FormulaResult(None, (), value.low, value.high)
        return FormulaResult(float(value))

    # ------------------------------------------------------------ compilation (load time only)

    def _compile(self, node: ast.AST) -> tuple[Closure, str]:
        handler = getattr(self, f"_c_{type(node).__name__}", None)
        if handler is None:
            raise FormulaError(f"{type(node).__name__} is not allowed (only numbers, fact names, + - * /, "
                               "min/max/round/abs, comparisons and 'a if cond else b')")
        result: tuple[Closure, str] = handler(node)
        return result

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
        return self._name(name)

    def _c_Attribute(self, node: ast.Attribute) -> tuple[Closure, str]:
        parts: list[str] = []
        current: ast.AST = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            raise FormulaError("a dotted name must be a parameter such as vat.small_scale_reduced_rate")
        return self._name(".".join([current.id, *reversed(parts)]))

    def _name(self, name: str) -> tuple[Closure, str]:
        kind = self._kinds.get(name)
        if kind is None:
            hint = " (a function needs brackets)" if name in _FUNCTIONS else (
                " (no such parameter in knowledge/parameters/)" if "." in name else "")
            raise FormulaError(f"unknown name {name!r}{hint}")
        self._names[name] = None
        if kind == DEFINITION:   # a named condition: True / False, or undecided (both branches are taken)
            def definition(facts: Mapping[str, Any]) -> Any:
                value = facts.get(name)
                return _UNDECIDED if value is None else value
            return definition, BOOL

        def fact(facts: Mapping[str, Any]) -> Any:
            value = _lookup(facts, name)
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
            if value is _UNKNOWN or value is None:
                return value
            return iv.neg(value) if isinstance(value, Interval) else -value
        return negate, NUMBER

    def _c_BinOp(self, node: ast.BinOp) -> tuple[Closure, str]:
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            raise FormulaError(f"operator {type(node.op).__name__} is not allowed (only + - * /)")
        on_intervals = _INTERVAL_ARITHMETIC[type(node.op)]
        left, right = self._numeric(node.left, "arithmetic"), self._numeric(node.right, "arithmetic")

        def arithmetic(facts: Mapping[str, Any]) -> Any:
            a, b = left(facts), right(facts)
            if a is _UNKNOWN or b is _UNKNOWN:
                return _UNKNOWN
            if a is None or b is None:
                return None
            if isinstance(a, Interval) or isinstance(b, Interval):
                return on_intervals(as_interval(a), as_interval(b))
            return op(a, b)
        return arithmetic, NUMBER

    def _c_Call(self, node: ast.Call) -> tuple[Closure, str]:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name not in _FUNCTIONS or node.keywords:
            raise FormulaError(f"only {', '.join(_FUNCTIONS)} may be called, with positional arguments")
        arity = {"min": (2, 99), "max": (2, 99), "round": (1, 2), "abs": (1, 1)}[name]
        if not arity[0] <= len(node.args) <= arity[1]:
            raise FormulaError(f"{name}() takes {arity[0]}–{arity[1]} arguments")
        args = [self._numeric(arg, name) for arg in node.args]

        def call(facts: Mapping[str, Any]) -> Any:
            values = [arg(facts) for arg in args]
            if any(v is _UNKNOWN for v in values):
                return _UNKNOWN
            if any(v is None for v in values):
                return None
            return _apply(name, values)
        return call, NUMBER

    def _c_Compare(self, node: ast.Compare) -> tuple[Closure, str]:
        operands = [self._compile(node.left), *(self._compile(c) for c in node.comparators)]
        steps: list[tuple[type, Closure, Closure]] = []
        for i, op_node in enumerate(node.ops):
            if type(op_node) not in _COMPARE:
                raise FormulaError(f"comparison {type(op_node).__name__} is not allowed")
            (left, left_kind), (right, right_kind) = operands[i], operands[i + 1]
            if left_kind != right_kind or (isinstance(op_node, _ORDERING) and left_kind != NUMBER):
                raise FormulaError(f"cannot compare {left_kind} with {right_kind} this way")
            steps.append((type(op_node), left, right))

        def compare(facts: Mapping[str, Any]) -> Any:
            undecided = False
            for op_type, left, right in steps:
                a, b = left(facts), right(facts)
                if a is _UNKNOWN or b is _UNKNOWN:
                    return _UNKNOWN
                outcome = _compare(op_type, a, b)
                if outcome is False:
                    return False
                undecided = undecided or outcome is None
            return _UNDECIDED if undecided else True
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
            if flag is _UNDECIDED:
                return _both(body(facts), orelse(facts))
            return body(facts) if flag else orelse(facts)
        return choose, body_kind

    def _numeric(self, node: ast.AST, where: str) -> Closure:
        run, kind = self._compile(node)
        if kind != NUMBER:
            raise FormulaError(f"{where} needs numbers, got {kind}")
        return run


def _lookup(facts: Mapping[str, Any], name: str) -> Any:
    """A fact's value, or a parameter's value on the day (the facts hold the parameter's dated Value)."""
    value = facts.get(name)
    if "." in name and value is not None:
        return getattr(value, "value", value)
    return value


def _compare(op_type: type, a: Any, b: Any) -> bool | None:
    if isinstance(a, Interval) or isinstance(b, Interval):
        if isinstance(a, Interval) and _is_number(b):
            return a.compare(_OP_SYMBOL[op_type], b)
        if isinstance(b, Interval) and _is_number(a):
            return b.compare(_FLIPPED[op_type], a)
        return None   # two vague amounts: not decided here
    return bool(_COMPARE[op_type](a, b))


def _apply(name: str, values: list[Any]) -> Any:
    if not any(isinstance(v, Interval) for v in values):
        if name == "round" and len(values) == 2:
            return round(values[0], int(values[1]))
        plain: dict[str, Callable[..., Any]] = {"min": min, "max": max, "round": round, "abs": abs}
        return plain[name](*values)
    if name == "abs":
        return iv.absolute(as_interval(values[0]))
    if name == "round":
        digits = int(values[1]) if len(values) == 2 and _is_number(values[1]) else 0
        return iv.rounded(as_interval(values[0]), digits)
    combine = iv.minimum if name == "min" else iv.maximum
    result = as_interval(values[0])
    for value in values[1:]:
        result = combine(result, as_interval(value))
    return result


def _both(a: Any, b: Any) -> Any:
    """The range covering both branches of an undecided condition."""
    if a is _UNKNOWN or b is _UNKNOWN:
        return _UNKNOWN
    if a is None or b is None:
        return None
    if _numeric(a) and _numeric(b):
        if _is_number(a) and _is_number(b) and a == b:
            return a
        return as_interval(a).hull(as_interval(b))
    return a if a == b else _UNDECIDED


# ------------------------------------------------------------ the formula in words (for the printed sheet)

_WORD_OP = {ast.Add: "＋", ast.Sub: "－", ast.Mult: "×", ast.Div: "÷"}
_WORD_COMPARE = {ast.Eq: "为", ast.NotEq: "不为", ast.Lt: "＜", ast.LtE: "≤", ast.Gt: "＞", ast.GtE: "≥"}
_WORD_CALL = {"min": "取较小者", "max": "取较大者", "round": "四舍五入", "abs": "绝对值"}
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}


def in_words(source: str, name: Callable[[str], str]) -> str:
    """A formula as people read it: names replaced by `name(…)` (labels of facts and parameters), operators
    as ×, ÷, functions and `a if c else b` in Chinese. `max(0, 应纳税所得额) × 税率差`, never field ids."""
    def words(node: ast.AST, outer: int = 0) -> str:
        if isinstance(node, ast.Constant):
            return f"“{node.value}”" if isinstance(node.value, str) else format_constant(node.value)
        if isinstance(node, ast.Name):
            return {"True": "是", "False": "否"}.get(node.id) or name(node.id)
        if isinstance(node, ast.Attribute):
            parts: list[str] = []
            current: ast.AST = node
            while isinstance(current, ast.Attribute):
                parts.append(current.attr)
                current = current.value
            return name(".".join([getattr(current, "id", ""), *reversed(parts)]))
        if isinstance(node, ast.UnaryOp):
            return f"－{words(node.operand, 3)}"
        if isinstance(node, ast.BinOp):
            level = _PRECEDENCE[type(node.op)]
            text = f"{words(node.left, level)} {_WORD_OP[type(node.op)]} {words(node.right, level + 1)}"
            return f"（{text}）" if level < outer else text
        if isinstance(node, ast.Call):
            function = getattr(node.func, "id", "")
            return f"{_WORD_CALL.get(function, function)}（{'，'.join(words(a) for a in node.args)}）"
        if isinstance(node, ast.Compare):
            text = words(node.left)
            for op, right in zip(node.ops, node.comparators):
                text += f" {_WORD_COMPARE[type(op)]} {words(right)}"
            return text
        if isinstance(node, ast.IfExp):
            return f"（若{words(node.test)}：{words(node.body)}；否则：{words(node.orelse)}）"
        return ast.unparse(node)

    return words(ast.parse(source.strip(), mode="eval").body)


def format_constant(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"
