"""Numbers and intervals as column expressions, mirroring `facts/interval.py` and `policy/formula.py` exactly.

A numeric fact is `Num`: its ends (`lo`, `hi`: DOUBLE, ±Infinity for an unbounded end, NULL when unknown),
whether each end is open, and `iv`: whether the per-profile engine would hold an `Interval` rather than a
plain number (the two differ only in division, where an interval divides by the reciprocal). A plain
column is a point (`lo` is `hi`), so a register without vague values compiles to plain comparisons.

Both engines do IEEE double arithmetic, so the same operations in the same order give the same doubles
as Python. Two places need care, both mirrored here rather than approximated:
- `round(x, 2)` (研发费用占比) is Python's correctly rounded half-even on the exact binary value; a
  comparison of a rounded value with a threshold is rewritten, at compile time, into a comparison of the
  unrounded value with the exact cut-off double (`_at_least`), so 4.995 % against 5 % is decided as Python
  decides it. Rounded values inside arithmetic use a half-even approximation.
- LEAST/GREATEST skip NULLs in both engines and x/0 differs between them, so every such use is guarded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from sqlglot import exp

from calculator.registry import sql
from calculator.registry.sql import INF, Number, Tri


@dataclass(frozen=True)
class End:
    """One end of a number: `value` (a float constant, None = unknown, or an expression), and `digits` when
    the end is Python's `round(value, digits)` (kept unrounded so comparisons can be exact)."""

    value: Number
    digits: int | None = None

    def plain(self) -> Number:
        """The end's value for arithmetic (rounded, approximately, when it is a rounded value)."""
        if self.digits is None or self.value is None:
            return self.value
        if not isinstance(self.value, exp.Expr):
            return round(self.value, self.digits)
        return round_half_even(self.value, self.digits)


@dataclass(frozen=True)
class Num:
    lo: End
    hi: End
    lo_open: Tri = False
    hi_open: Tri = False
    iv: Tri = False
    bounded: bool = True   # known at compile time: no end is ±Infinity (fields with bounds allow no other)

    @property
    def point(self) -> bool:
        """Known at compile time to be a plain number (or unknown): no interval logic needed."""
        return self.lo is self.hi and self.iv is False

    @property
    def known(self) -> Tri:
        return sql.is_not_null(self.lo.value)

    @property
    def constant(self) -> float | None:
        value = self.lo.plain()
        return value if self.point and isinstance(value, float) else None


def of(value: Number, digits: int | None = None) -> Num:
    """A plain number (or unknown when `value` is None)."""
    end = End(value if not isinstance(value, int) else float(value), digits)
    return Num(end, end)


UNKNOWN = of(None)


def interval(lo: Number, hi: Number, lo_open: Tri = False, hi_open: Tri = False, iv: Tri = True,
             digits: int | None = None, bounded: bool = True) -> Num:
    return Num(End(lo, digits), End(hi, digits), lo_open, hi_open, iv, bounded)


# ---------------------------------------------------------------- rounding

def round_half_even(value: exp.Expr, digits: int) -> exp.Expr:
    """Python's round(value, digits), exactly: half-even on the exact value of the double, not on its scaled copy.

    z = value × 10^digits is p + e exactly (p the rounded product, e its error by Dekker's two-product, which
    both engines compute alike in plain IEEE doubles); the tie point h = floor(p) + ½ then decides with
    exact comparisons of p - h against -e (20341.55 is a double just below the tie, so it rounds to 20341.5).
    Exact for |z| < 2^52; beyond, the value is returned as it is (an amount in 万元 is far below)."""
    if digits == 0:
        p: exp.Expr = sql.paren(value)
        error: exp.Expr = sql.number(0.0)
    else:
        p, error = _two_product(sql.paren(value), 10.0 ** digits)
    floor = exp.Floor(this=p)
    offset = exp.Paren(this=exp.Sub(this=p, expression=exp.Paren(this=exp.Add(this=floor, expression=sql.number(0.5)))))
    minus_error = exp.Neg(this=exp.Paren(this=error))
    up = exp.Add(this=floor, expression=sql.number(1.0))
    even = exp.EQ(this=exp.Mod(this=floor, expression=sql.number(2.0)), expression=sql.number(0.0))
    chosen = sql.case([(exp.GT(this=offset, expression=minus_error), up),
                       (exp.LT(this=offset, expression=minus_error), floor), (even, floor)], up)
    assert isinstance(chosen, exp.Expr)
    result = chosen if digits == 0 else exp.Div(this=sql.paren(chosen), expression=sql.number(10.0 ** digits))
    # from 2^52 on, p has no fraction (and h is not a double): the value already has the digits asked
    huge = exp.GTE(this=exp.Abs(this=p.copy()), expression=sql.number(2.0 ** 52))
    return exp.Case().when(huge, sql.paren(value.copy())).else_(result)


def _two_product(a: exp.Expr, b: float) -> tuple[exp.Expr, exp.Expr]:
    """(p, e) with p = fl(a·b) and a·b = p + e exactly (Dekker; b a constant split here, a split in SQL)."""
    def split(x: float) -> tuple[float, float]:
        c = 134217729.0 * x
        high = c - (c - x)
        return high, x - high
    bh, bl = split(b)
    c = exp.Paren(this=exp.Mul(this=sql.number(134217729.0), expression=a))
    ah = exp.Paren(this=exp.Sub(this=c, expression=exp.Paren(this=exp.Sub(this=c, expression=a))))
    al = exp.Paren(this=exp.Sub(this=a, expression=ah))
    p = exp.Paren(this=exp.Mul(this=a, expression=sql.number(b)))

    def times(x: exp.Expr, y: float) -> exp.Expr:
        return exp.Mul(this=x, expression=sql.number(y))
    first = exp.Paren(this=exp.Sub(this=times(ah, bh), expression=p))
    error = exp.Add(this=exp.Add(this=exp.Add(this=first, expression=times(ah, bl)), expression=times(al, bh)),
                    expression=times(al, bl))
    return p, error


def _smallest(theta: float, digits: int, strict: bool) -> int:
    """The smallest m whose rounded value m/10^digits is > theta (strict) or >= theta."""
    scale = 10 ** digits
    m = math.floor(Fraction(theta) * scale) - 2
    while not ((m / scale > theta) if strict else (m / scale >= theta)):
        m += 1
    return m


def _at_least(value: exp.Expr, digits: int, m: int) -> Tri:
    """round(value, digits) ≥ m/10^digits, exactly: value beyond the tie point T = (m - ½)/10^digits, or on
    it when half-even rounds up. `t`, the double nearest T, separates the doubles above T from those below;
    whether t itself counts is decided here with exact fractions."""
    tie = Fraction(2 * m - 1, 2 * 10 ** digits)
    t = float(tie)
    exact = Fraction(t)
    include = exact > tie or (exact == tie and m % 2 == 0)
    return sql.compare(value, ">=" if include else ">", t)


def compare_end(end: End, op: str, threshold: Number) -> Tri:
    """`end op threshold` as Python compares the end's (rounded) value; exact for a constant threshold."""
    if end.value is None or threshold is None:
        return None
    if end.digits is None or not isinstance(threshold, float) or not isinstance(end.value, exp.Expr):
        plain = end.plain()
        assert plain is not None
        return sql.compare(plain, op, threshold)
    value, digits = end.value, end.digits
    at_least = _at_least(value, digits, _smallest(threshold, digits, strict=False))
    above = _at_least(value, digits, _smallest(threshold, digits, strict=True))
    return {">=": at_least, ">": above, "<": sql.not_(at_least), "<=": sql.not_(above),
            "==": sql.and_(at_least, sql.not_(above)), "!=": sql.not_(sql.and_(at_least, sql.not_(above)))}[op]


# ---------------------------------------------------------------- three-valued comparison (Interval.compare)

def compare(n: Num, op: str, threshold: float) -> Tri:
    """`n op threshold`: met when all of n satisfies it, not_met when none does, NULL otherwise or unknown."""
    if n.point:
        return compare_end(n.lo, op, threshold)
    if op in ("<", "<="):
        met = sql.or_(compare_end(n.hi, "<", threshold),
                      sql.and_(compare_end(n.hi, "==", threshold), True if op == "<=" else n.hi_open))
        not_met = sql.or_(compare_end(n.lo, ">", threshold),
                          sql.and_(compare_end(n.lo, "==", threshold), True if op == "<" else n.lo_open))
        return sql.tri(met, not_met)
    if op in (">", ">="):
        return sql.not_(compare(n, "<" if op == ">=" else "<=", threshold))
    inside = contains(n, threshold)
    same = sql.tri(sql.and_(is_point(n), inside), sql.not_(inside))
    return same if op == "==" else sql.not_(same)


def contains(n: Num, value: float) -> Tri:
    below = sql.or_(compare_end(n.lo, ">", value), sql.and_(compare_end(n.lo, "==", value), n.lo_open))
    above = sql.or_(compare_end(n.hi, "<", value), sql.and_(compare_end(n.hi, "==", value), n.hi_open))
    return sql.and_(sql.not_(below), sql.not_(above))


def is_point(n: Num) -> Tri:
    if n.point:
        return n.known
    lo, hi = n.lo.plain(), n.hi.plain()
    if lo is None or hi is None:
        return None
    return sql.compare(lo, "==", hi)


def member(n: Num, values: tuple[float, ...], inside: bool) -> Tri:
    """`n in values` (inside) or `not in`: a point is listed or not; an interval holding a listed value is undecided."""
    if n.point:
        found = sql.or_(*(compare_end(n.lo, "==", v) for v in values))
    else:
        found = sql.case([(sql.is_null(n.lo.value), None),
                          (is_point(n), sql.or_(*(compare_end(n.lo, "==", v) for v in values))),
                          (sql.or_(*(contains(n, v) for v in values)), None)], False)
    return found if inside else sql.not_(found)


def compare_values(a: Num, op: str, b: Num) -> Tri:
    """A formula's `a op b` between two numbers (policy/formula.py `_compare`): an interval against a number is
    three-valued, two intervals are undecided (NULL)."""
    if b.constant is not None:
        return compare(a, op, b.constant)
    if a.lo.value is None or b.lo.value is None:
        return None
    flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[op]
    plain = sql.compare(_v(a.lo), op, _v(b.lo))
    if a.point and b.point:
        return plain
    return sql.case([(sql.and_(a.iv, b.iv), None),
                     (a.iv, _compare_with(a, op, _v(b.lo))),
                     (b.iv, _compare_with(b, flipped, _v(a.lo)))], plain)


def _compare_with(n: Num, op: str, threshold: exp.Expr | float) -> Tri:
    """Interval.compare against a threshold that is itself a column (rounded values approximately)."""
    if isinstance(threshold, float):
        return compare(n, op, threshold)
    lo, hi = _v(n.lo), _v(n.hi)
    if op in ("<", "<="):
        met = sql.or_(sql.compare(hi, "<", threshold),
                      sql.and_(sql.compare(hi, "==", threshold), True if op == "<=" else n.hi_open))
        not_met = sql.or_(sql.compare(lo, ">", threshold),
                          sql.and_(sql.compare(lo, "==", threshold), True if op == "<" else n.lo_open))
        return sql.tri(met, not_met)
    if op in (">", ">="):
        return sql.not_(_compare_with(n, "<" if op == ">=" else "<=", threshold))
    below = sql.or_(sql.compare(lo, ">", threshold), sql.and_(sql.compare(lo, "==", threshold), n.lo_open))
    above = sql.or_(sql.compare(hi, "<", threshold), sql.and_(sql.compare(hi, "==", threshold), n.hi_open))
    inside = sql.and_(sql.not_(below), sql.not_(above))
    same = sql.tri(sql.and_(is_point(n), inside), sql.not_(inside))
    return same if op == "==" else sql.not_(same)


# ---------------------------------------------------------------- arithmetic (interval.py add … rounded)

def _v(end: End) -> exp.Expr | float:
    value = end.plain()
    assert value is not None
    return value


def _arith(a: Number, op: str, b: Number) -> Number:
    """a op b on doubles (NULL-propagating); constants are folded with Python's float arithmetic."""
    if a is None or b is None:
        return None
    if isinstance(a, float) and isinstance(b, float):
        if op == "/" and b == 0:
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[op]
    left, right = sql.paren(sql.as_sql(a)), sql.paren(sql.as_sql(b))
    if op == "/":
        right = exp.Nullif(this=right, expression=sql.number(0.0))
    built = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div}[op]
    return built(this=left, expression=right)


def _guarded(parts: list[Number], value: Number) -> Number:
    """`value`, or NULL when any of `parts` is unknown (LEAST/GREATEST would skip it)."""
    if any(p is None for p in parts):
        return None
    exprs = [p for p in parts if isinstance(p, exp.Expr)]
    if not exprs or value is None:
        return value
    unknown = sql.or_(*(sql.is_null(p) for p in exprs))
    return sql.case([(unknown, None)], value)


def _least(values: list[Number]) -> Number:
    distinct = _distinct(values)
    if any(v is None for v in distinct):
        return None
    if all(isinstance(v, float) for v in distinct):
        return min(distinct)  # type: ignore[type-var]
    return _guarded(distinct, sql.least(*(sql.as_sql(v) for v in distinct)))


def _greatest(values: list[Number]) -> Number:
    distinct = _distinct(values)
    if any(v is None for v in distinct):
        return None
    if all(isinstance(v, float) for v in distinct):
        return max(distinct)  # type: ignore[type-var]
    return _guarded(distinct, sql.greatest(*(sql.as_sql(v) for v in distinct)))


def _distinct(values: list[Number]) -> list[Number]:
    out: list[Number] = []
    for v in values:
        if not any(v is o or (isinstance(v, float) and isinstance(o, float) and v == o) for o in out):
            out.append(v)
    return out


def add(a: Num, b: Num) -> Num:
    if a.point and b.point:
        return of(_arith(a.lo.plain(), "+", b.lo.plain()))
    return Num(End(_arith(a.lo.plain(), "+", b.lo.plain())), End(_arith(a.hi.plain(), "+", b.hi.plain())),
               sql.or_(a.lo_open, b.lo_open), sql.or_(a.hi_open, b.hi_open), sql.or_(a.iv, b.iv),
               a.bounded and b.bounded)


def neg(a: Num) -> Num:
    if a.point:
        return of(_negate(a.lo.plain()))
    return Num(End(_negate(a.hi.plain())), End(_negate(a.lo.plain())), a.hi_open, a.lo_open, a.iv, a.bounded)


def _negate(value: Number) -> Number:
    if value is None or isinstance(value, float):
        return None if value is None else -value
    return exp.Neg(this=sql.paren(value))


def sub(a: Num, b: Num) -> Num:
    if a.point and b.point:
        return of(_arith(a.lo.plain(), "-", b.lo.plain()))
    return add(a, neg(b))


def _finite(value: Number) -> Tri:
    if value is None or isinstance(value, float):
        return None if value is None else math.isfinite(value)
    return sql.and_(sql.compare(value, ">", -INF), sql.compare(value, "<", INF))


def mul(a: Num, b: Num) -> Num:
    """interval.mul: ends treated as closed; an unbounded end follows Python's special cases, never 0 × ∞."""
    if a.point and b.point:
        return of(_arith(a.lo.plain(), "*", b.lo.plain()))
    alo, ahi, blo, bhi = a.lo.plain(), a.hi.plain(), b.lo.plain(), b.hi.plain()
    products = [_arith(x, "*", y) for x in _distinct([alo, ahi]) for y in _distinct([blo, bhi])]
    finite_lo, finite_hi = _least(products), _greatest(products)
    if a.bounded and b.bounded:
        return Num(End(finite_lo), End(finite_hi), False, False, sql.or_(a.iv, b.iv))
    bounded = sql.and_(*(_finite(v) for v in (alo, ahi, blo, bhi)))
    zero = sql.or_(sql.and_(sql.compare(_or0(alo), "==", 0.0), sql.compare(_or0(ahi), "==", 0.0)),
                   sql.and_(sql.compare(_or0(blo), "==", 0.0), sql.compare(_or0(bhi), "==", 0.0)))
    positive = sql.and_(sql.compare(_or0(alo), ">=", 0.0), sql.compare(_or0(blo), ">=", 0.0))
    low = sql.case([(bounded, finite_lo), (zero, 0.0), (positive, _arith(alo, "*", blo))], -INF)
    high = sql.case([(bounded, finite_hi), (zero, 0.0)], INF)
    known = sql.and_(*(sql.is_not_null(v) for v in (alo, ahi, blo, bhi)))
    return Num(End(sql.case([(known, low)], None)), End(sql.case([(known, high)], None)),
               False, False, sql.or_(a.iv, b.iv), False)


def _or0(value: Number) -> exp.Expr | float:
    return 0.0 if value is None else value


def div(a: Num, b: Num) -> Num:
    """Numbers: a / b (÷0 → unknown, as Python's ZeroDivisionError gives no amount). Intervals: a × [1/b.hi, 1/b.lo],
    undefined when b may be zero or is unbounded."""
    number = of(_arith(a.lo.plain(), "/", b.lo.plain()))
    if a.point and b.point:
        return number
    blo, bhi = b.lo.plain(), b.hi.plain()
    reciprocal = Num(End(_arith(1.0, "/", bhi)), End(_arith(1.0, "/", blo)), False, False, True)
    ranged = mul(a, reciprocal)
    touches_zero = sql.or_(contains(b, 0.0), sql.compare(_or0(blo), "==", 0.0), sql.compare(_or0(bhi), "==", 0.0))
    defined = sql.not_(touches_zero) if b.bounded else sql.and_(sql.not_(touches_zero), _finite(blo), _finite(bhi))
    which = sql.or_(a.iv, b.iv)

    def pick(number_part: Number, interval_part: Number) -> Number:
        return sql.case([(which, sql.case([(defined, interval_part)], None))], number_part)
    return Num(End(pick(number.lo.value, ranged.lo.value)), End(pick(number.hi.value, ranged.hi.value)),
               False, False, which, a.bounded)


def minimum(values: list[Num]) -> Num:
    if all(v.point for v in values):
        return of(_least([v.lo.plain() for v in values]))
    return Num(End(_least([v.lo.plain() for v in values])), End(_least([v.hi.plain() for v in values])),
               False, False, sql.or_(*(v.iv for v in values)), all(v.bounded for v in values))


def maximum(values: list[Num]) -> Num:
    if all(v.point for v in values):
        return of(_greatest([v.lo.plain() for v in values]))
    return Num(End(_greatest([v.lo.plain() for v in values])), End(_greatest([v.hi.plain() for v in values])),
               False, False, sql.or_(*(v.iv for v in values)), all(v.bounded for v in values))


def absolute(a: Num) -> Num:
    if a.point:
        value = a.lo.plain()
        return of(abs(value) if isinstance(value, float) else None if value is None else exp.Abs(this=value))
    lo, hi = a.lo.plain(), a.hi.plain()
    flipped = neg(a)
    nonneg = sql.compare(_or0(lo), ">=", 0.0) if lo is not None else None
    nonpos = sql.compare(_or0(hi), "<=", 0.0) if hi is not None else None
    top = _greatest([_negate(lo), hi])
    low = sql.case([(nonneg, lo), (nonpos, flipped.lo.value)], 0.0)
    high = sql.case([(nonneg, hi), (nonpos, flipped.hi.value)], top)
    return Num(End(_guarded([lo, hi], low)), End(_guarded([lo, hi], high)),
               sql.case([(nonneg, a.lo_open), (nonpos, a.hi_open)], False),
               sql.case([(nonneg, a.hi_open), (nonpos, a.lo_open)], False), a.iv, a.bounded)


def rounded(a: Num, digits: int) -> Num:
    """round(x, digits) / interval.rounded: ends rounded and closed; comparisons on them stay exact."""
    def end(e: End) -> End:
        if e.digits is not None:
            return End(e.plain(), digits)
        return End(e.value, digits)
    if a.point:
        e = end(a.lo)
        return Num(e, e)
    return Num(end(a.lo), end(a.hi), False, False, a.iv, a.bounded)


def hull(a: Num, b: Num) -> Num:
    """`_both` in formula.py: the two branches of an undecided condition. Equal numbers stay a number;
    otherwise the smallest interval holding both."""
    alo, blo, ahi, bhi = a.lo.plain(), b.lo.plain(), a.hi.plain(), b.hi.plain()
    if alo is None or blo is None or ahi is None or bhi is None:
        return UNKNOWN
    lo, hi = _least([alo, blo]), _greatest([ahi, bhi])
    lo_open = sql.case([(sql.compare(alo, "<", blo), a.lo_open), (sql.compare(blo, "<", alo), b.lo_open)],
                       sql.and_(a.lo_open, b.lo_open))
    hi_open = sql.case([(sql.compare(ahi, ">", bhi), a.hi_open), (sql.compare(bhi, ">", ahi), b.hi_open)],
                       sql.and_(a.hi_open, b.hi_open))
    same_number = sql.and_(sql.not_(a.iv), sql.not_(b.iv), sql.compare(alo, "==", blo))
    return Num(End(lo), End(hi), lo_open, hi_open, sql.not_(same_number), a.bounded and b.bounded)


def select(condition: Tri, when_true: Num, when_false: Num) -> Num:
    """Component-wise CASE: `when_true` where the condition holds, else `when_false` (a rounded end stays
    exactly comparable when both branches round it alike)."""
    if condition is True:
        return when_true
    if condition is False or condition is None:
        return when_false

    def end(a: End, b: End) -> End:
        if a.digits == b.digits:
            return End(sql.case([(condition, a.value)], b.value), a.digits)
        return End(sql.case([(condition, a.plain())], b.plain()))
    if when_true.point and when_false.point:
        shared = end(when_true.lo, when_false.lo)
        return Num(shared, shared)
    return Num(end(when_true.lo, when_false.lo), end(when_true.hi, when_false.hi),
               sql.case([(condition, when_true.lo_open)], when_false.lo_open),
               sql.case([(condition, when_true.hi_open)], when_false.hi_open),
               sql.case([(condition, when_true.iv)], when_false.iv), when_true.bounded and when_false.bounded)


def collapse(a: Num) -> Num:
    """interval.collapse: a point interval becomes a plain number again (iv off)."""
    if a.point:
        return a
    return Num(a.lo, a.hi, a.lo_open, a.hi_open, sql.and_(a.iv, sql.not_(is_point(a))), a.bounded)
