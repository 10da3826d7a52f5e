"""Small builders over sqlglot expressions that both dialects print the same way, with constant folding.

A three-valued value (`Tri`) is a Python constant (True, False, None = unknown) or a SQL expression whose
NULL means unknown; the junctions fold constants at compile time (an AND with a FALSE leg is FALSE), so
facts a register lacks cost nothing per row. Numbers are printed as DOUBLE literals in exponent form
(`0.25e0`): a plain `0.25` is DECIMAL in DuckDB and Spark, whose arithmetic is not Python's float arithmetic.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from typing import Union

from sqlglot import exp

Tri = Union[bool, None, exp.Expr]
Number = Union[float, None, exp.Expr]   # a float constant, None (unknown) or an expression

INF = float("inf")


def number(value: float) -> exp.Expr:
    """A DOUBLE literal that parses back to exactly `value` (±inf as a cast)."""
    if math.isinf(value):
        return exp.cast(exp.Literal.string("Infinity" if value > 0 else "-Infinity"), "DOUBLE")
    text = repr(float(value))
    if "e" not in text and "E" not in text:
        text += "e0"
    if text.startswith("-"):
        return exp.Neg(this=exp.Literal.number(text[1:]))
    return exp.Literal.number(text)


def text(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def day(value: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(value.isoformat()), "DATE")


def column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def isin(value: exp.Expr, members: list[exp.Expr]) -> exp.Expr:
    return value.isin(*members, copy=False)


def as_sql(value: Tri | Number | str | date) -> exp.Expr:
    """A constant as SQL (NULL typed as BOOLEAN for None)."""
    if isinstance(value, exp.Expr):
        return value
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (int, float)):
        return number(float(value))
    if isinstance(value, date):
        return day(value)
    return text(value)


def null_of(kind: str) -> exp.Expr:
    return exp.cast(exp.Null(), kind)


def paren(e: exp.Expr) -> exp.Expr:
    return e if isinstance(e, (exp.Column, exp.Literal, exp.Boolean, exp.Null, exp.Paren)) else exp.Paren(this=e)


def and_(*parts: Tri) -> Tri:
    """Kleene AND with constants folded."""
    kept: list[Tri] = []
    for part in parts:
        if part is False:
            return False
        if part is True:
            continue
        if part is None and None in kept:
            continue
        kept.append(part)
    if not kept:
        return True
    if all(p is None for p in kept):
        return None
    if len(kept) == 1:
        return kept[0]
    return exp.and_(*(paren(as_sql(p)) for p in kept), copy=False)


def or_(*parts: Tri) -> Tri:
    """Kleene OR with constants folded."""
    kept: list[Tri] = []
    for part in parts:
        if part is True:
            return True
        if part is False:
            continue
        if part is None and None in kept:
            continue
        kept.append(part)
    if not kept:
        return False
    if all(p is None for p in kept):
        return None
    if len(kept) == 1:
        return kept[0]
    return exp.or_(*(paren(as_sql(p)) for p in kept), copy=False)


def not_(part: Tri) -> Tri:
    if part is None or isinstance(part, bool):
        return None if part is None else not part
    return exp.Not(this=paren(part))


def is_null(value: Tri | Number) -> Tri:
    """Whether the value is unknown: decided at compile time for constants."""
    if not isinstance(value, exp.Expr):
        return value is None
    return exp.Is(this=paren(value), expression=exp.Null())


def is_not_null(value: Tri | Number) -> Tri:
    return not_(is_null(value))


def is_true(value: Tri) -> Tri:
    """TRUE only when the value is TRUE (never NULL): for CASE conditions and masks."""
    if not isinstance(value, exp.Expr):
        return value is True
    return exp.Is(this=paren(value), expression=exp.true())


def is_false(value: Tri) -> Tri:
    if not isinstance(value, exp.Expr):
        return value is False
    return exp.Is(this=paren(value), expression=exp.false())


def tri(met: Tri, not_met: Tri) -> Tri:
    """TRUE when `met`, FALSE when `not_met`, otherwise NULL (unknown, or neither: a straddled bound)."""
    return case([(met, True), (not_met, False)], None)


def case(branches: Iterable[tuple[Tri, Tri | Number | str | date]], default: Tri | Number | str | date) -> Tri:
    """CASE WHEN … THEN … ELSE … END with constant conditions folded."""
    out: list[tuple[exp.Expr, exp.Expr]] = []
    for condition, value in branches:
        if condition is False or condition is None:
            continue
        if condition is True:
            if not out:
                return value  # type: ignore[return-value]
            default = value
            break
        out.append((condition, as_sql(value)))
    if not out:
        return default  # type: ignore[return-value]
    node = exp.Case()
    for condition, value in out:
        node = node.when(condition, value, copy=False)
    return node.else_(as_sql(default), copy=False)


def compare(left: exp.Expr | float, op: str, right: exp.Expr | float) -> Tri:
    """`left op right`, folded when both are constants (NULL-propagating like SQL)."""
    if not isinstance(left, exp.Expr) and not isinstance(right, exp.Expr):
        return {"==": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
                ">": left > right, ">=": left >= right}[op]
    a, b = paren(as_sql(left)), paren(as_sql(right))
    built = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
    return built(this=a, expression=b)


def least(*values: exp.Expr) -> exp.Expr:
    """LEAST of values the caller has made NULL-free (both engines skip NULLs, which would be a guess)."""
    return exp.func("LEAST", *values, copy=False) if len(values) > 1 else values[0]


def greatest(*values: exp.Expr) -> exp.Expr:
    return exp.func("GREATEST", *values, copy=False) if len(values) > 1 else values[0]

