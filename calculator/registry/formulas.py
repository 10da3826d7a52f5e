"""Amount formulas (`policy/formula.py`) and law-derived facts (`policy/derived.py`) as column expressions.

The same parsed tree the per-profile engine compiles to closures is walked here into `Num` expressions, with
its semantics kept: an unknown input gives no amount (NULL), a vague one a range, an undecided condition
(an interval across the bound, a named definition still unknown) both branches and the range between
them; ÷0 gives no amount. A yes/no inside a formula carries two parts: its value (NULL = undecided) and
whether its inputs are known at all (unknown gives no amount, undecided gives a range).
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Union

from sqlglot import exp

from calculator.policy.formula import BOOL, DEFINITION, NUMBER, TEXT, Formula, dotted_name
from calculator.registry import numbers as nb
from calculator.registry import sql
from calculator.registry.facts import CompileError, Fact, Scalar
from calculator.registry.numbers import Num
from calculator.registry.plan import Plan
from calculator.registry.sql import Tri

if TYPE_CHECKING:
    from calculator.policy.derived import DerivedRule
    from calculator.policy.parameters import Value


@dataclass(frozen=True)
class Flag:
    """A yes/no inside a formula: `value` (NULL = undecided: both branches) and `known` (FALSE: no amount)."""

    value: Tri
    known: Tri
    definition: bool = False   # a named definition or derived yes/no: undecided rather than unknown


@dataclass(frozen=True)
class Text:
    value: Tri | exp.Expr
    known: Tri


Value_ = Union[Num, Flag, Text]
_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class FormulaCompiler:
    def __init__(self, formula: Formula, facts: Mapping[str, Fact], values: Mapping[str, Value],
                 definition: Callable[[str], Tri]) -> None:
        self.formula, self.facts, self.values, self.definition = formula, facts, values, definition

    def number(self) -> Num:
        result = self._c(self.formula.tree)
        if not isinstance(result, Num):
            raise CompileError("金额公式的结果不是数值", f"formula {self.formula.source!r} is not a number")
        return result

    def _fail(self, what: str) -> CompileError:
        return CompileError(f"批量测算尚不支持公式中的{what}：{self.formula.source}",
                            f"the batch compiler does not support {what} in {self.formula.source!r}")

    def _c(self, node: ast.AST) -> Value_:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                return Flag(value, True)
            if isinstance(value, (int, float)):
                return nb.of(float(value))
            return Text(sql.text(str(value)), True)
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):
                return Flag(node.id == "True", True)
            return self._name(node.id)
        if isinstance(node, ast.Attribute):
            name = dotted_name(node)
            assert name is not None   # Formula accepted the tree
            return self._name(name)
        if isinstance(node, ast.UnaryOp):
            inner = self._num(node.operand)
            return nb.neg(inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            a, b = self._num(node.left), self._num(node.right)
            op = {ast.Add: nb.add, ast.Sub: nb.sub, ast.Mult: nb.mul, ast.Div: nb.div}[type(node.op)]
            return op(a, b)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            return self._choose(node)
        raise self._fail(type(node).__name__)

    def _num(self, node: ast.AST) -> Num:
        value = self._c(node)
        if not isinstance(value, Num):
            raise self._fail("非数值运算")
        return value

    def _name(self, name: str) -> Value_:
        kind = self.formula.kinds.get(name)
        if "." in name:
            day = self.values.get(name)
            return nb.UNKNOWN if day is None or day.value is None else nb.of(float(day.value))
        if kind == DEFINITION:
            fact = self.facts.get(name)
            value = fact.value if isinstance(fact, Scalar) else self.definition(name)
            return Flag(value, True, definition=True)
        fact = self.facts.get(name)
        if kind == NUMBER:
            if isinstance(fact, Num) or fact is None:   # a declared fact nothing computes is unknown, as in Python
                return fact or nb.UNKNOWN
            raise self._fail(f"事实 {name}")
        if isinstance(fact, Scalar):
            known = sql.is_not_null(fact.value)
            return Flag(fact.value, known) if kind == BOOL else Text(fact.value, known)
        if kind in (BOOL, TEXT):
            return Flag(None, False) if kind == BOOL else Text(None, False)
        raise self._fail(f"名称 {name}")

    def _call(self, node: ast.Call) -> Num:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name == "round":
            value = self._num(node.args[0])
            digits = 0
            if len(node.args) == 2:
                given = self._num(node.args[1]).constant
                if given is None:
                    raise self._fail("round 的非常数位数")
                digits = int(given)
            return nb.rounded(value, digits)
        args = [self._num(a) for a in node.args]
        if name == "abs":
            return nb.absolute(args[0])
        return nb.minimum(args) if name == "min" else nb.maximum(args)

    def _compare(self, node: ast.Compare) -> Flag:
        operands = [self._c(node.left), *(self._c(c) for c in node.comparators)]
        steps: list[tuple[Tri, Tri]] = []
        for i, op_node in enumerate(node.ops):
            steps.append(_step(operands[i], _OPS[type(op_node)], operands[i + 1]))
        value: Tri = sql.and_(*(v for v, _ in steps))
        known: Tri = True
        for step_value, step_known in reversed(steps):   # an earlier step found false decides before later ones
            known = sql.and_(step_known, sql.or_(sql.is_false(step_value), known))
        return Flag(value, known)

    def _choose(self, node: ast.IfExp) -> Num:
        flag = self._c(node.test)
        if not isinstance(flag, Flag):
            raise self._fail("条件表达式")
        body, orelse = self._num(node.body), self._num(node.orelse)
        both = nb.hull(body, orelse)
        chosen = nb.select(sql.is_true(flag.value), body, nb.select(sql.is_false(flag.value), orelse, both))
        return nb.select(flag.known, chosen, nb.UNKNOWN)


def _step(a: Value_, op: str, b: Value_) -> tuple[Tri, Tri]:
    """One comparison of a chain: (value, known)."""
    if isinstance(a, Num) and isinstance(b, Num):
        return nb.compare_values(a, op, b), sql.and_(a.known, b.known)
    if isinstance(a, Text) and isinstance(b, Text):
        if a.value is None or b.value is None:
            return None, False
        return sql.compare(sql.as_sql(a.value), op, sql.as_sql(b.value)), sql.and_(a.known, b.known)
    if isinstance(a, Flag) and isinstance(b, Flag):
        # the per-profile engine compares its "undecided" marker as an object: equal only to itself
        av, bv = sql.as_sql(a.value), sql.as_sql(b.value)
        same = sql.case([(sql.and_(sql.is_null(a.value), sql.is_null(b.value)), True),
                         (sql.or_(sql.is_null(a.value), sql.is_null(b.value)), False)],
                        sql.compare(av, "==", bv))
        return (same if op == "==" else sql.not_(same)), sql.and_(a.known, b.known)
    raise CompileError("公式比较的两边类型不同", "a formula compares values of different kinds")


def amount_parts(n: Num) -> tuple[Tri | exp.Expr, Tri | exp.Expr, Tri | exp.Expr]:
    """(amount, low, high) as `FormulaResult` gives them: a number; or a range with both ends finite."""
    lo, hi = n.lo.plain(), n.hi.plain()
    if n.point:
        return lo, lo, lo  # type: ignore[return-value]
    if lo is None or hi is None:
        return None, None, None
    finite = True if n.bounded else sql.and_(nb._finite(lo), nb._finite(hi))
    point = sql.compare(lo, "==", hi)
    return (sql.case([(point, lo)], None), sql.case([(finite, lo)], None),
            sql.case([(finite, hi)], None))


def compile_derived_rule(rule: DerivedRule, facts: Mapping[str, Fact], values: Mapping[str, Value], today: date,
                         plan: Plan, definition_value: Callable[[str, Mapping[str, Fact]], Tri]) -> Fact:
    """One rule of `_definitions.yaml` `derived:` (policy/derived.py) over the facts before it."""
    if rule.formula is not None:
        result = FormulaCompiler(rule.formula, facts, values, lambda name: definition_value(name, facts)).number()
        if result.point:
            return plan.number(result, "d")
        amount, low, high = amount_parts(result)
        iv = sql.not_(sql.compare(sql.as_sql(low), "==", sql.as_sql(high))) if not result.point else False
        return plan.number(nb.Num(nb.End(low), nb.End(high), False, False, iv), "d")
    held = facts.get(rule.held)
    held_value = held.value if isinstance(held, Scalar) else None
    year = facts.get(rule.since_year)
    span = values.get(rule.years)
    branches: list[tuple[Tri, Tri]] = [(sql.is_false(held_value), False)]
    if isinstance(year, Num) and span is not None and span.value is not None:
        first = year.lo.plain()
        if first is not None:
            first_year = exp.Floor(this=sql.as_sql(first))
            last = exp.Add(this=first_year, expression=sql.number(float(int(span.value)) - 1))
            this_year = sql.number(float(today.year))
            in_window = sql.and_(sql.compare(first_year, "<=", this_year), sql.compare(this_year, "<=", last))
            lapsing = sql.compare(this_year, "==", exp.Add(this=last, expression=sql.number(1.0)))
            stated = sql.and_(year.known, sql.not_(year.iv))
            branches.append((stated, sql.case([(in_window, True), (lapsing, None)], False)))
    branches.append((sql.is_true(held_value), True))
    return Scalar(plan.column(sql.case(branches, None), "v"), "bool")
