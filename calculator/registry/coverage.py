"""Coverage over a register: which enterprises no current item reaches, by county, industry and 企业规模.

The segment grid of `officials/coverage.py` counts kinds of enterprise and says little when most of its
verdicts are "需补充信息"; over a register the same question counts enterprises: how many have no item
they certainly qualify for, and how many are not reached at all (not even one fact away).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlglot import exp

from calculator.core.vocabulary import ELIGIBLE, NEED_INFO
from calculator.registry import sql
from calculator.registry.compiler import STATUS_CODE, CompiledCatalog
from calculator.registry.engine import Engine

DIMENSIONS = {"county": "所在区县", "industry": "所属行业", "size_class": "企业规模"}
UNKNOWN_VALUE = "未知"


@dataclass(frozen=True)
class CoverageRow:
    dimension: str
    value: str
    enterprises: int
    no_eligible: int       # no current item certainly eligible
    unreached: int         # no current item eligible or one fact away

    @property
    def share_no_eligible(self) -> float:
        return self.no_eligible / self.enterprises if self.enterprises else 0.0


def register_coverage(engine: Engine, compiled: CompiledCatalog, wide: str) -> list[CoverageRow]:
    current = [c for c in compiled.policies if c.current]

    def any_status(status: str) -> sql.Tri:
        code = exp.Literal.number(STATUS_CODE[status])
        return sql.or_(*(sql.compare(sql.column(c.column("status")), "==", code) for c in current)) if current else False
    eligible, reached = any_status(ELIGIBLE), sql.or_(any_status(ELIGIBLE), any_status(NEED_INFO))
    rows: list[CoverageRow] = []
    for key, label in DIMENSIONS.items():
        value = exp.Coalesce(this=sql.column(key), expressions=[sql.text(UNKNOWN_VALUE)])
        query = exp.select(value.as_("value"), exp.Count(this=exp.Star()),
                           exp.Sum(this=sql.as_sql(sql.case([(eligible, 0.0)], 1.0))),
                           exp.Sum(this=sql.as_sql(sql.case([(reached, 0.0)], 1.0)))).from_(
            exp.to_table(wide, quoted=True)).group_by(value)
        found = [CoverageRow(label, str(v), int(n), int(no or 0), int(un or 0)) for v, n, no, un in engine.fetch(query)]
        rows += sorted(found, key=lambda r: (-r.share_no_eligible, -r.enterprises, r.value))
    return rows


def coverage_csv(rows: list[CoverageRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["维度", "分组", "企业数", "没有确定符合政策的企业数", "占比", "完全无政策触达的企业数"])
    for r in rows:
        writer.writerow([r.dimension, r.value, r.enterprises, r.no_eligible, f"{r.share_no_eligible:.1%}", r.unreached])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
