"""`python -m calculator registry synth --rows N --seed S --out FILE.csv|FILE.parquet`: a synthetic 许昌 register.

Plausible counties, industries, sizes and 纳税人类型, missing values, some bad values and a few repeated
or wrong codes (see calculator/registry/synth.py and the README); no real enterprise data.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    synth = sub.add_parser("synth", help="生成模拟登记表 / write a synthetic register")
    synth.add_argument("--rows", type=int, default=10_000, help="行数 / rows (default 10000)")
    synth.add_argument("--seed", type=int, default=1, help="随机种子 / seed (default 1)")
    synth.add_argument("--out", type=Path, required=True, metavar="FILE", help="FILE.csv 或 FILE.parquet")


def run(args: argparse.Namespace) -> int:
    from calculator.facts.schema import load_schema
    from calculator.registry.synth import synthesize, write

    schema = load_schema()
    rows = write(synthesize(args.rows, args.seed, schema), args.out, schema)
    print(f"已写出模拟登记表 {rows:,} 行 / wrote {rows:,} synthetic rows: {args.out}", file=sys.stderr)
    return 0
