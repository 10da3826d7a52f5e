"""How an amount came about, in lines people read: the formula in words, each parameter with the dates its
value holds for (an unverified one marked), each fact used. Read from `amount_working` of the match JSON,
so the chat panel and every printed format say the same thing.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNVERIFIED = "未核实：依据摘要或报道，原文未入库"


def working_lines(working: Mapping[str, Any] | None) -> list[str]:
    """["计算：上年度研发费用 × … × 企业所得税边际税率", "…比例：100%（2023-01-01起执行；未核实…）", "上年度研发费用：90万元", …]."""
    if not working:
        return []
    lines = [f"计算：{working['formula_text']}"] if working.get("formula_text") else []
    for parameter in working.get("parameters") or []:
        label = parameter.get("label") or parameter.get("description") or ""
        if parameter.get("value") is None:
            lines.append(f"{label}：无已核实的数值（{parameter.get('reason') or '该日期尚无规定的数值'}）")
            continue
        marks = [f"{parameter['dates']}执行"] if parameter.get("dates") else []
        if parameter.get("verified") is False:
            marks.append(UNVERIFIED)
        lines.append(f"{label}：{parameter.get('shown')}（{'；'.join(marks)}）" if marks else f"{label}：{parameter.get('shown')}")
    for fact in (working.get("facts") or {}).values():
        line = f"{fact.get('label')}：{fact.get('display')}"
        lines.append(f"{line}（{fact['explanation']}）" if fact.get("explanation") else line)
    return lines
