"""`python -m calculator catalog`: validate every policy item and quote, and show what the catalog holds.

Exit 0 only when the whole catalog loads: schema, fields, thresholds, formulas and every quote verified
against its document. Each problem is printed on its own line naming file and field.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from calculator.commands.common import parse_today
from calculator.core.vocabulary import VALIDITY_LABEL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    parser.add_argument("--today", help="按此日期判断有效期 YYYY-MM-DD / date for validity")


def run(args: argparse.Namespace) -> int:
    from calculator.core.config import get_settings
    from calculator.policy.catalog import CatalogError, load_catalog

    today = parse_today(args.today) or get_settings().today
    try:
        catalog = load_catalog(strict=True)
    except CatalogError as exc:
        if args.json:
            print(json.dumps({"ok": False, "problems": [p.to_json() for p in exc.problems]}, ensure_ascii=False, indent=2))
        for problem in exc.problems:
            print(f"错误 / error: {problem.line_zh()} / {problem.en}", file=sys.stderr)
        print(f"政策目录有 {len(exc.problems)} 处错误 / the catalog has {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    report = catalog.report(today)
    if args.json:
        print(json.dumps({"ok": True, **report}, ensure_ascii=False, indent=2))
    else:
        print(_render(report))
    return 0


def _counts(counts: dict[str, int], names: dict[str, str] | None = None) -> str:
    return "，".join(f"{(names or {}).get(k, k)} {v}" for k, v in counts.items())


def _render(report: dict[str, Any]) -> str:
    lines = [
        f"政策目录校验通过：{report['count']} 项（按 {report['today']}）",
        f"层级：{_counts(report['by_level'], {'national': '国家', 'henan': '河南省', 'xuchang': '许昌市'})}",
        f"方式：{_counts(report['by_mode'])}",
        f"有效期：{_counts(report['by_status'], VALIDITY_LABEL)}",
        f"引文：{report['quotes_verified']} 条逐字核对通过，涉及 {len(report['documents_cited'])} 份文档",
        f"命名条件：{'、'.join(report['definitions']) or '无'}",
        "",
    ]
    for item in report["items"]:
        window = f"{item['valid_from'] or '—'} ~ {item['valid_until'] or '长期'}"
        lines.append(f"[{VALIDITY_LABEL[item['status']]}] {item['policy_id']}  {item['title']}（{item['mode']}，{window}）")
        for caveat in item["caveats"]:
            lines.append(f"    提示：{caveat}")
    return "\n".join(lines)
