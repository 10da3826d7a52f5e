"""`python -m calculator notify`: tell saved profiles (subscriptions) about items new or changed for them.

Run after the catalog changes (or from cron). Each subscription is re-matched; items that now match
(eligible or need_info) and are new, changed in content or changed in status since the last notice are
listed with why, then recorded as told (`--dry-run` lists without recording). Subscriptions are named by
number only: no enterprise name, credit code or token is printed.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from calculator.commands.common import parse_today


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    parser.add_argument("--dry-run", action="store_true", help="只列出，不标记为已通知 / list without marking as told")
    parser.add_argument("--today", help="按此日期匹配 YYYY-MM-DD（默认今天） / the day to match on")


def run(args: argparse.Namespace) -> int:
    from calculator.core.config import get_settings
    from calculator.officials import subscriptions

    today = parse_today(args.today) or get_settings().today
    total = subscriptions.count()
    found = subscriptions.notify_all(mark=not args.dry_run, today=today)
    if args.json:
        print(json.dumps({"today": today.isoformat(), "subscriptions": total, "marked": not args.dry_run,
                          "notified": [{"subscription": number, "notices": [n.to_json() for n in notices]}
                                       for number, notices in found.items()]}, ensure_ascii=False, indent=2))
    else:
        print(_render(today.isoformat(), total, found, args.dry_run))
    return 0


def _render(today: str, total: int, found: dict[int, Any], dry_run: bool) -> str:
    from calculator.core.vocabulary import STATUS_LABEL
    from calculator.officials.subscriptions import CHANGE_LABEL

    items = sum(len(n) for n in found.values())
    lines = [f"订阅提醒（{today}）：共 {total} 个订阅，{len(found)} 个有新的匹配政策，共 {items} 条"
             + ("（试运行，未标记为已通知）" if dry_run else "")]
    for number, notices in found.items():
        lines += ["", f"订阅 #{number}："]
        for notice in notices:
            lines.append(f"  [{CHANGE_LABEL[notice.change]}] {notice.title} —— {STATUS_LABEL[notice.status]}")
            if notice.met:
                lines.append(f"      已满足：{'；'.join(notice.met)}")
            if notice.missing:
                lines.append(f"      还需确认：{'、'.join(notice.missing)}")
    return "\n".join(lines)
