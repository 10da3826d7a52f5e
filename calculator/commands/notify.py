"""`python -m calculator notify`: send saved profiles (subscriptions) what is due for them.

Run after the catalog changes and from cron. Each subscription is re-matched; items that now match
(eligible or need_info) and are new, changed in content or changed in status since the last notice, and
matching items whose validity ends within `--within` days (default REMINDER_DAYS), are sent to the
subscriber's e-mail (SMTP_*) and webhook, then recorded as told: nothing is sent twice, a failed channel
is retried next run (`--dry-run` lists without sending or recording). Subscriptions are named by number
only: no enterprise name, credit code, address or token is printed.
"""
from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from calculator.commands.common import parse_today

if TYPE_CHECKING:
    from calculator.officials.reminders import Delivery


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    parser.add_argument("--dry-run", action="store_true", help="只列出，不发送也不标记 / list without sending or marking")
    parser.add_argument("--today", help="按此日期匹配 YYYY-MM-DD（默认今天） / the day to match on")
    parser.add_argument("--within", type=int, help="提醒多少天内到期的政策（默认 REMINDER_DAYS） / days ahead for validity ends")


def run(args: argparse.Namespace) -> int:
    from calculator.core.config import get_settings
    from calculator.officials import subscriptions
    from calculator.officials.reminders import deliver

    if args.within is not None and args.within < 0:
        from calculator.core.errors import UserError

        raise UserError("--within 不能为负数", "--within must not be negative")
    today = parse_today(args.today) or get_settings().today
    total = subscriptions.count()
    done = deliver(today=today, within=args.within, dry_run=args.dry_run)
    if args.json:
        print(json.dumps({"today": today.isoformat(), "subscriptions": total, "marked": not args.dry_run,
                          "notified": [d.to_json() for d in done]}, ensure_ascii=False, indent=2))
    else:
        print(_render(today.isoformat(), total, done, args.dry_run))
    return 1 if any(d.failed and not d.sent for d in done) else 0


def _render(today: str, total: int, done: list[Delivery], dry_run: bool) -> str:
    from calculator.core.vocabulary import STATUS_LABEL
    from calculator.officials.subscriptions import CHANGE_LABEL

    items = sum(d.due.items for d in done)
    lines = [f"订阅提醒（{today}）：共 {total} 个订阅，{len(done)} 个有新的提醒，共 {items} 条"
             + ("（试运行，未发送、未标记）" if dry_run else "")]
    channel_words = {"email": "邮件", "webhook": "推送"}
    for delivery in done:
        sent = "、".join(channel_words[c] for c in delivery.sent) or "无"
        failed = f"；失败：{'、'.join(channel_words[c] for c in delivery.failed)}（下次重试）" if delivery.failed else ""
        lines += ["", f"订阅 #{delivery.due.subscription}（已发送：{sent}{failed}）："]
        for notice in delivery.due.notices:
            lines.append(f"  [{CHANGE_LABEL[notice.change]}] {notice.title} —— {STATUS_LABEL[notice.status]}")
            if notice.met:
                lines.append(f"      已满足：{'；'.join(notice.met)}")
            if notice.missing:
                lines.append(f"      还需确认：{'、'.join(notice.missing)}")
        lines += [f"  [即将到期] {e.title}：{e.ends.isoformat()}（还剩 {e.days_left} 天）" for e in delivery.due.expiring]
    return "\n".join(lines)
