"""Interval facts: "三百来万" is somewhere in [300, 400), and a verdict on it must say so.

A numeric fact is a number (exact) or an `Interval` (a vague amount: "一百多万", "十几个人"). Comparing
an interval with a threshold is three-valued, like everything else in the engine: met when every value
in it meets the condition, not met when none does, unknown when it straddles the bound. Arithmetic on
intervals gives intervals, so an amount computed from a vague fact is a range, never a guess.

    >>> Interval(300, 400, high_open=True).compare("<=", 300) is None     # 三百来万 vs ≤ 300万: straddles
    True
    >>> Interval(100, 200, True, True).compare(">", 100)                  # 一百多万 > 100万: certainly
    True
    >>> Interval(4, 5).compare("<", 4)                                    # 四五万 < 4万: certainly not
    False
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Number = int | float


@dataclass(frozen=True)
class Interval:
    """Real numbers between `low` and `high` (None: unbounded); `*_open` excludes the end itself."""

    low: float | None
    high: float | None
    low_open: bool = False
    high_open: bool = False

    def __post_init__(self) -> None:
        if self.low is not None and self.high is not None:
            if self.low > self.high or (self.low == self.high and (self.low_open or self.high_open)):
                raise ValueError(f"empty interval {self.to_json()}")

    # -------------------------------------------------------- construction and JSON

    @classmethod
    def point(cls, value: Number) -> Interval:
        return cls(float(value), float(value))

    @classmethod
    def from_json(cls, data: Any) -> Interval:
        """`{min, max, min_open?, max_open?}` (min or max may be null or absent: unbounded)."""
        if not isinstance(data, dict) or not ({"min", "max"} & set(data)):
            raise ValueError("区间应为 {min, max, min_open, max_open} / an interval is {min, max, min_open, max_open}")
        extra = set(data) - {"min", "max", "min_open", "max_open"}
        if extra:
            raise ValueError(f"区间含未知键 {sorted(extra)} / unknown interval keys {sorted(extra)}")
        low, high = data.get("min"), data.get("max")
        for end in (low, high):
            if end is not None and (isinstance(end, bool) or not isinstance(end, (int, float)) or not math.isfinite(end)):
                raise ValueError("区间的端点应为数字 / interval ends must be numbers")
        flags = [data.get("min_open", False), data.get("max_open", False)]
        if not all(isinstance(f, bool) for f in flags):
            raise ValueError("min_open / max_open 应为 true/false / min_open and max_open must be true or false")
        return cls(None if low is None else float(low), None if high is None else float(high),
                   bool(flags[0]) and low is not None, bool(flags[1]) and high is not None)

    def to_json(self) -> dict[str, Any]:
        return {"min": _plain(self.low), "max": _plain(self.high), "min_open": self.low_open, "max_open": self.high_open}

    @property
    def is_point(self) -> bool:
        return self.low is not None and self.low == self.high

    # -------------------------------------------------------- three-valued comparison

    def contains(self, value: Number) -> bool:
        if self.low is not None and (value < self.low or (value == self.low and self.low_open)):
            return False
        return not (self.high is not None and (value > self.high or (value == self.high and self.high_open)))

    def compare(self, op: str, threshold: Number) -> bool | None:
        """True when every value satisfies `value op threshold`, False when none does, None otherwise."""
        if op in ("<", "<="):
            if self.high is not None and (self.high < threshold or (self.high == threshold and (op == "<=" or self.high_open))):
                return True
            if self.low is not None and (self.low > threshold or (self.low == threshold and (op == "<" or self.low_open))):
                return False
            return None
        if op in (">", ">="):
            flipped = self.compare("<" if op == ">=" else "<=", threshold)
            return None if flipped is None else not flipped
        if op in ("==", "!="):
            inside = self.contains(threshold)
            same = True if self.is_point and inside else (False if not inside else None)
            return same if op == "==" or same is None else not same
        raise ValueError(f"op {op!r} does not apply to an interval")

    def member_of(self, values: tuple[Any, ...]) -> bool | None:
        """`in` a list of numbers: True only for a point that is listed, False when no listed value is inside."""
        numbers = [v for v in values if isinstance(v, (int, float))]
        if self.is_point:
            return self.low in numbers
        return None if any(self.contains(v) for v in numbers) else False

    # -------------------------------------------------------- arithmetic (for amounts)

    def hull(self, other: Interval) -> Interval:
        """The smallest interval holding both."""
        low, low_open = _lower(self, other)
        high, high_open = _upper(self, other)
        return Interval(low, high, low_open, high_open)


def as_interval(value: Number | Interval) -> Interval:
    return value if isinstance(value, Interval) else Interval.point(value)


def collapse(value: Interval) -> Number | Interval:
    """A point stays a number: an exact fact is never shown as a range."""
    return value.low if value.is_point and value.low is not None else value


def _plain(value: float | None) -> float | int | None:
    return int(value) if value is not None and float(value).is_integer() else value


def _lower(a: Interval, b: Interval) -> tuple[float | None, bool]:
    if a.low is None or b.low is None:
        return None, False
    if a.low != b.low:
        return (a.low, a.low_open) if a.low < b.low else (b.low, b.low_open)
    return a.low, a.low_open and b.low_open


def _upper(a: Interval, b: Interval) -> tuple[float | None, bool]:
    if a.high is None or b.high is None:
        return None, False
    if a.high != b.high:
        return (a.high, a.high_open) if a.high > b.high else (b.high, b.high_open)
    return a.high, a.high_open and b.high_open


def _mul(x: float | None, y: float | None) -> float | None:
    if x is None or y is None:
        return None
    return x * y


def add(a: Interval, b: Interval) -> Interval:
    low = None if a.low is None or b.low is None else a.low + b.low
    high = None if a.high is None or b.high is None else a.high + b.high
    return Interval(low, high, a.low_open or b.low_open, a.high_open or b.high_open)


def neg(a: Interval) -> Interval:
    return Interval(None if a.high is None else -a.high, None if a.low is None else -a.low, a.high_open, a.low_open)


def sub(a: Interval, b: Interval) -> Interval:
    return add(a, neg(b))


def mul(a: Interval, b: Interval) -> Interval:
    """Product of bounded intervals (ends are treated as closed: an amount range is an estimate anyway)."""
    if None in (a.low, a.high, b.low, b.high):
        if a.is_point and a.low == 0 or b.is_point and b.low == 0:
            return Interval.point(0)
        if a.low is not None and a.low >= 0 and b.low is not None and b.low >= 0:  # unbounded above, both positive
            return Interval(_mul(a.low, b.low), None)
        return Interval(None, None)
    products = [p for p in (_mul(a.low, b.low), _mul(a.low, b.high), _mul(a.high, b.low), _mul(a.high, b.high))
                if p is not None]
    return Interval(min(products), max(products))


def div(a: Interval, b: Interval) -> Interval | None:
    """a / b, or None when b may be zero or comes arbitrarily close to it (an open end at 0: 1/b is unbounded)."""
    if b.contains(0) or b.low is None or b.high is None or b.low == 0 or b.high == 0:
        return None
    return mul(a, Interval(1 / b.high, 1 / b.low))


def minimum(a: Interval, b: Interval) -> Interval:
    low = None if a.low is None or b.low is None else min(a.low, b.low)
    high = b.high if a.high is None else a.high if b.high is None else min(a.high, b.high)
    return Interval(low, high)


def maximum(a: Interval, b: Interval) -> Interval:
    low = b.low if a.low is None else a.low if b.low is None else max(a.low, b.low)
    high = None if a.high is None or b.high is None else max(a.high, b.high)
    return Interval(low, high)


def absolute(a: Interval) -> Interval:
    if a.low is not None and a.low >= 0:
        return a
    if a.high is not None and a.high <= 0:
        return neg(a)
    top = None if a.low is None or a.high is None else max(-a.low, a.high)
    return Interval(0, top)


def rounded(a: Interval, digits: int = 0) -> Interval:
    return Interval(None if a.low is None else round(a.low, digits), None if a.high is None else round(a.high, digits))


def json_value(value: Any) -> Any:
    """A fact's value as JSON: an interval as {min, max, min_open, max_open}, a date as YYYY-MM-DD."""
    if isinstance(value, Interval):
        return value.to_json()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
