"""The compiled catalog as layers of named columns: each layer is `SELECT *, <new columns> FROM <previous>`.

A fact, a definition or a condition used in several places is computed once, as a column, and later layers
refer to it by name; a column's layer is one more than the deepest column it reads. Engines see one query
of nested projections, which both DuckDB and Spark evaluate in a single streaming pass.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar, cast

from sqlglot import exp

from calculator.registry import sql
from calculator.registry.numbers import End, Num
from calculator.registry.sql import Number, Tri

T = TypeVar("T")


class Plan:
    def __init__(self, base_columns: Iterable[str]) -> None:
        self.level: dict[str, int] = {name: 0 for name in base_columns}
        self.layers: list[list[tuple[str, exp.Expr]]] = []
        self._named: dict[str, str] = {}   # SQL text → column name (the same expression is computed once)
        self._count = 0

    def column(self, value: T, prefix: str = "c") -> T:
        """`value` as a column of its own (constants and plain column references stay as they are)."""
        if not isinstance(value, exp.Expr) or isinstance(value, exp.Column):
            return value
        key = value.sql()
        name = self._named.get(key)
        if name is None:
            depth = max((self.level.get(c.name, 0) for c in value.find_all(exp.Column)), default=0)
            self._count += 1
            name = f"_{prefix}{self._count}"
            while len(self.layers) <= depth:
                self.layers.append([])
            self.layers[depth].append((name, value))
            self.level[name] = depth + 1
            self._named[key] = name
        return cast(T, sql.column(name))

    def number(self, n: Num, prefix: str = "n") -> Num:
        """A number with each of its parts as a column."""
        if n.point:
            end = End(self.column(n.lo.value, prefix), n.lo.digits)
            return Num(end, end)
        return Num(End(self.column(n.lo.value, prefix), n.lo.digits),
                   End(self.column(n.hi.value, prefix), n.hi.digits),
                   self.column(n.lo_open, prefix), self.column(n.hi_open, prefix), self.column(n.iv, prefix),
                   n.bounded)

    def query(self, source: exp.Expr, outputs: list[tuple[str, Tri | Number | str]]) -> exp.Select:
        """SELECT outputs FROM the layered projections over `source` (a table or a subquery)."""
        relation: exp.Expr = source
        for i, layer in enumerate(self.layers):
            if not layer:
                continue
            select = exp.select(exp.Star(), *(e.as_(name, quoted=True, copy=False) for name, e in layer), copy=False)
            relation = select.from_(_as_from(relation, f"_l{i}"), copy=False)
        final = exp.select(*(sql.as_sql(v).as_(name, quoted=True, copy=False) for name, v in outputs), copy=False)
        return final.from_(_as_from(relation, "_judged"), copy=False)


def _as_from(relation: exp.Expr, alias: str) -> exp.Expr:
    if isinstance(relation, exp.Table):
        return relation
    return exp.Subquery(this=relation, alias=exp.TableAlias(this=exp.to_identifier(alias)))
