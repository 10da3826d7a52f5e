"""`python -m calculator calendar`: policy validity windows on a given day, and texts to double-check.

Lists items expiring within `--within` days (default 90), not yet in force, in force and expired, then
the documents whose text is a summary or partial or whose validity is in doubt. `--json` prints the
whole calendar; `--csv FILE` writes it as one table (UTF-8 with BOM).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from calculator.commands.common import parse_today, write_output

if TYPE_CHECKING:
    from calculator.officials.calendar import CalendarItem, PolicyCalendar


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--within", type=int, default=90, metavar="DAYS",
                        help="“即将到期”的天数（默认 90） / days counted as expiring soon (default 90)")
    parser.add_argument("--today", help="按此日期判断 YYYY-MM-DD（默认今天） / the day to judge on")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    out.add_argument("--csv", type=Path, metavar="FILE", help="写出 CSV / write a CSV table")


def run(args: argparse.Namespace) -> int:
    from calculator.officials.calendar import policy_calendar

    calendar = policy_calendar(today=parse_today(args.today), within_days=args.within)
    if args.json:
        print(json.dumps(calendar.to_json(), ensure_ascii=False, indent=2))
    elif args.csv:
        write_output(args.csv, calendar.to_csv())
    else:
        print(_render(calendar))
    return 0


def _window(item: CalendarItem) -> str:
    start = item.valid_from.isoformat() if item.valid_from else "—"
    return f"{start} ~ {item.valid_until.isoformat() if item.valid_until else '长期'}"


def _render(calendar: PolicyCalendar) -> str:
    from calculator.officials.calendar import DOUBT_LABEL, EXPIRED, EXPIRING, IN_FORCE, NOT_YET, STATE_LABEL

    c = calendar.counts()
    lines = [f"政策日历（{calendar.today.isoformat()}，{calendar.within_days} 天内到期算“即将到期”）：" +
             "，".join(f"{STATE_LABEL[s]} {c[s]} 项" for s in (EXPIRING, NOT_YET, IN_FORCE, EXPIRED)) +
             f"；需核实的依据文档 {c['documents_flagged']} 份"]
    for state in (EXPIRING, NOT_YET, IN_FORCE, EXPIRED):
        items = calendar.with_state(state)
        if not items:
            continue
        lines += ["", f"【{STATE_LABEL[state]}】"]
        for item in items:
            when = ""
            if state == EXPIRING:
                when = f"，还剩 {item.days_left} 天"
            elif state == NOT_YET:
                when = f"，{item.days_to_start} 天后生效"
            elif state == EXPIRED and item.days_left is not None:
                when = f"，已过期 {-item.days_left} 天"
            doubt = f"  [{'、'.join(DOUBT_LABEL.get(d, d) for d in item.doubt)}]" if item.doubt else ""
            lines.append(f"  {item.policy_id}  {item.title}（{_window(item)}{when}）{doubt}")
    if calendar.documents:
        lines += ["", "【依据文档需核实】"]
        for doc in calendar.documents:
            cited = f"（被引用：{'、'.join(doc.cited_by)}）" if doc.cited_by else ""
            lines.append(f"  {doc.doc_id}  {doc.title}{cited}")
            lines += [f"    - {reason}" for reason in doc.reasons]
    return "\n".join(lines)
