"""`python -m calculator catalog`: validate every policy item and quote, and show what the catalog holds.

Exit 0 only when the whole catalog loads: schema, fields, thresholds, formulas and every quote verified
against its document. Each problem is printed on its own line naming file and field. With `--as-of DATE`
it adds the law watch (calculator/officials/law_watch.py): the parameters and items that change, expire
or have no verified value from that day over `--within DAYS` (default 365).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from calculator.commands.common import parse_today
from calculator.core.vocabulary import VALIDITY_LABEL

if TYPE_CHECKING:
    from calculator.officials.law_watch import LawWatch
    from calculator.policy.catalog import Catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    parser.add_argument("--today", help="按此日期判断有效期 YYYY-MM-DD / date for validity")
    parser.add_argument("--as-of", dest="as_of", help="法规变动提示的起始日期 YYYY-MM-DD / law watch from this date")
    parser.add_argument("--within", type=int, default=None,
                        help="法规变动提示覆盖的天数（默认365）/ days the law watch covers (default 365)")


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
    watch = _watch(args, catalog)
    if args.json:
        extra = {"watch": watch.to_json()} if watch else {}
        print(json.dumps({"ok": True, **report, **extra}, ensure_ascii=False, indent=2))
    else:
        print(_render(report) + (_render_watch(watch, catalog) if watch else ""))
    return 0


def _watch(args: argparse.Namespace, catalog: Catalog) -> LawWatch | None:
    from calculator.core.errors import UserError
    from calculator.officials.law_watch import DEFAULT_DAYS, law_watch

    if args.as_of is None:
        if args.within is not None:
            raise UserError("--within 须与 --as-of 一起使用", "--within needs --as-of")
        return None
    return law_watch(parse_today(args.as_of, "--as-of"), DEFAULT_DAYS if args.within is None else args.within, catalog)


def _render_watch(watch: LawWatch, catalog: Catalog) -> str:
    from calculator.officials.law_watch import EVENT_LABEL

    titles = {p.id: p.title for p in catalog.policies}
    lines = ["", f"法规变动提示：{watch.as_of.isoformat()} 至 {watch.until.isoformat()}（{watch.within_days} 天）",
             "；".join(f"{EVENT_LABEL[e]} {n} 项" for e, n in watch.counts().items() if n) or "无"]
    for row in watch.rows(titles):
        used = f"（涉及：{row['涉及政策']}）" if row["涉及政策"] else ""
        lines.append(f"[{row['日期']}] {row['类别']}·{row['事项']}  {row['名称']}：{row['说明']}{used}")
    return "\n".join(lines)


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
        f"参数：{report['parameters']} 个，其中当日 {len(report['parameters_unverified'])} 个数值未核实（依据摘要或报道），"
        f"{len(report['parameters_without_value'])} 个无已核实数值",
        "",
    ]
    for item in report["items"]:
        window = f"{item['valid_from'] or '—'} ~ {item['valid_until'] or '长期'}"
        lines.append(f"[{VALIDITY_LABEL[item['status']]}] {item['policy_id']}  {item['title']}（{item['mode']}，{window}）")
        for caveat in item["caveats"]:
            lines.append(f"    提示：{caveat}")
    return "\n".join(lines)
