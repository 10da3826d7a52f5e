"""`python -m calculator batch REGISTER… --out DIR`: the whole catalog over an enterprise register (免申即享).

Writes verdicts.parquet (+ verdicts.csv up to 100,000 enterprises or with --csv), summary.csv, data_gaps.csv,
outreach/<policy_id>.xlsx, register_issues.csv and register_summary.json under DIR; with --draft or --set,
the 政策测算 comparison in DIR/whatif/. A progress bar and the counts go to stderr; names and codes never do.
Exit codes: 0 done, 2 bad arguments or input, 3 no usable enterprise in the register, 4 engine failure.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from calculator.commands.common import parse_today
from calculator.core.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("registers", nargs="+", metavar="REGISTER",
                        help="登记表文件（CSV/XLSX/Parquet；多个文件按统一社会信用代码合并） / register extracts")
    parser.add_argument("--out", required=True, metavar="DIR", help="输出文件夹（Spark 时可为 hdfs://、s3a:// 等） / output folder or cluster URI")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb", help="计算引擎 / engine (default duckdb)")
    parser.add_argument("--today", help="判定日期 YYYY-MM-DD / the day verdicts apply to")
    parser.add_argument("--policy", action="append", metavar="ID", help="只判定这些政策（可重复） / only these items")
    parser.add_argument("--csv", action="store_true", help="总是写出 verdicts.csv / always write verdicts.csv")
    parser.add_argument("--draft", type=Path, metavar="DRAFT.yaml", help="政策测算：新的或修改后的政策条目 / a draft item")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="PARAM=VALUE",
                        help="政策测算：改一个参数或条件阈值 / change a parameter or threshold")
    parser.add_argument("--no-outreach", action="store_true", help="不生成推送名单 / skip the outreach lists")
    parser.add_argument("--json", action="store_true", help="在标准输出打印结果摘要 JSON / print the run summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="不显示进度条 / no progress bar")


def run(args: argparse.Namespace) -> int:
    from calculator.registry.batch import BatchRequest, run_batch
    from calculator.registry.engine import EngineError

    request = BatchRequest(args.registers, args.out, args.engine, parse_today(args.today), args.policy, args.csv,
                           args.draft, list(args.sets), not args.no_outreach)
    bar = None if args.quiet else _bar()
    try:
        result = run_batch(request, bar.update if bar else None)
    except EngineError as exc:
        _close(bar)
        print(f"错误：{exc.zh} / Error: {exc.en}", file=sys.stderr)
        return 4
    except UserError as exc:
        _close(bar)
        print(f"错误：{exc.zh} / Error: {exc.en}", file=sys.stderr)
        return 3 if "没有可用的企业" in exc.zh else 2
    _close(bar)
    from calculator.policy.catalog import load_catalog

    for line in result.register.lines(load_catalog().schema):
        print(line, file=sys.stderr)
    eligible = sum(c.eligible for c in result.counts)
    print(f"判定 {result.verdict_rows:,} 条（{len(result.counts)} 项政策）：符合 {eligible:,} 条；"
          f"估算金额合计 {result.totals.low:,.2f}～{result.totals.high:,.2f} 万元；用时 "
          f"{sum(result.seconds.values()):.1f} 秒 → {result.out}", file=sys.stderr)
    if result.whatif:
        w = result.whatif
        print(f"政策测算（{w.description}）：新增符合 {sum(c.gained for c in w.changes):,}，不再符合 "
              f"{sum(c.lost for c in w.changes):,}，估算金额变化 {w.amount_change:+,.2f} 万元", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


class _Bar:
    """A progress bar on a terminal; elsewhere (logs, CI) one line per stage."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.stage = ""
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=100, file=sys.stderr, bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}",
                            dynamic_ncols=True, leave=False)

    def update(self, done: float, stage: str) -> None:
        if self.bar is None:
            if stage != self.stage:
                print(f"… {stage}（{done:.0%}）", file=sys.stderr, flush=True)
        else:
            self.bar.set_description_str(stage, refresh=False)
            self.bar.n = round(done * 100, 1)
            self.bar.refresh()
        self.stage = stage

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _bar() -> _Bar:
    return _Bar()


def _close(bar: _Bar | None) -> None:
    if bar is not None:
        bar.close()
