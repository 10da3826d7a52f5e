"""`python -m calculator coverage`: which enterprise groups does no current policy reach?

Without options, a Chinese summary (counts, the groups with nothing certain, policies never certain
for any group, totals per level). `--json` prints the whole report; `--csv FILE` writes the gap table
(UTF-8 with BOM, opens in Excel); `--png FILE` the heatmap. Options combine.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from calculator.commands.common import parse_today, write_output

if TYPE_CHECKING:
    from calculator.officials.coverage import CoverageReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="输出完整报告 JSON / print the report as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="写出缺口表 CSV / write the gap table")
    parser.add_argument("--png", type=Path, metavar="FILE", help="写出热力图 PNG / write the heatmap")
    parser.add_argument("--today", help="按此日期判断有效期 YYYY-MM-DD / date for validity")


def run(args: argparse.Namespace) -> int:
    from calculator.officials.coverage import coverage_report

    report = coverage_report(today=parse_today(args.today))
    if args.csv:
        write_output(args.csv, report.to_csv())
    if args.png:
        from calculator.officials.plots import heatmap

        write_output(args.png, heatmap(report))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    elif not (args.csv or args.png):
        print(_render(report))
    return 0


def _render(report: CoverageReport) -> str:
    from calculator.officials.coverage import describe_contrast

    s = report.summary()
    lines = [
        f"政策覆盖分析（{report.today.isoformat()}）：企业群 {s['segments']} 个 × 现行政策 {s['policies_current']} 项"
        f"（另有 {s['policies_not_current']} 项已到期或未生效，不计入），用时 {report.seconds:.2f} 秒",
        f"无任何政策覆盖（确定与可能均为 0）：{s['gaps']} 个；没有确定符合政策：{s['zero_eligible']} 个",
        f"平均每个企业群：确定符合 {s['mean_eligible']} 项，可能符合 {s['mean_need_info']} 项",
        "",
        "层级：" + "；".join(f"{r['label']} {r['policies']} 项，平均确定符合 {r['mean_eligible']}，"
                          f"覆盖企业群 {r['segments_reached']}" for r in report.by_level()),
    ]
    contrasts = report.contrasts()
    if contrasts:
        lines += ["", "没有确定符合政策的企业群占比（按维度）："]
        lines += [f"  {describe_contrast(c)}" for c in contrasts]
    unreached = report.unreached_policies()
    if unreached:
        lines += ["", "对任何企业群都不能确定符合的政策（均需补充信息）："]
        lines += [f"  {p['policy_id']}  {p['title']}" + ("（不覆盖任何企业群）" if p["unreached"] else "")
                  for p in unreached]
    overlaps = report.overlaps(5)
    if overlaps:
        lines += ["", "最常同时符合的政策："]
        lines += [f"  {o['title_a']} + {o['title_b']}：{o['segments']} 个企业群" for o in overlaps]
    gaps = report.gaps()[:20]
    if gaps:
        lines += ["", "无任何政策覆盖的企业群（前 20 个）："] + [f"  {g.segment.label}" for g in gaps]
    lines += ["", "完整结果：--json；缺口表：--csv FILE；热力图：--png FILE"]
    return "\n".join(lines)
