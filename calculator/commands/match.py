"""`python -m calculator match`: an enterprise profile (JSON file, stdin or free text) → verdicts.

`--json` prints the contract of ../shared/DESIGN.md; for --text it adds `understood` (every fact read, with
the words it came from and how it was read: stated, an interval, a sum of parts, inferred from what the
enterprise does; facts the engine composed by their legal definition, with the clause) and
`not_understood`. Without --json a readable Chinese summary. Bad input is one bilingual line, exit 2.
"""
from __future__ import annotations

import argparse
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from calculator.commands.common import parse_today, read_profile
from calculator.core.errors import UserError
from calculator.core.vocabulary import OUTCOME_MARK, STATUS_HEADING
from calculator.facts.interval import json_value

if TYPE_CHECKING:  # the CLI imports the engine only when the command runs
    from calculator.facts.parse import ParseResult
    from calculator.policy.match import MatchReport, PolicyResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--profile", metavar="FILE", help="企业画像 JSON 文件，- 表示标准输入 / profile JSON file, - for stdin")
    source.add_argument("--text", help="企业自述，如“我们是建安区一家制造企业，员工85人” / free-text description")
    parser.add_argument("--today", help="计算日期 YYYY-MM-DD（默认今天） / date the verdicts apply to")
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")


def understood_json(parsed: ParseResult, report: MatchReport) -> list[dict[str, Any]]:
    """The facts read, then the facts composed from them by their legal definition (从业人数 from its parts)."""
    out = [u.to_json() for u in parsed.understood]
    said = {u.field for u in parsed.understood}
    schema = report.catalog.schema
    for key, derived in report.derived.items():
        spec = schema.fields.get(key)
        if spec is None or not spec.compose or key in said or derived.value is None:
            continue
        parts = [u.span for u in parsed.understood if any(u.field in c.inputs for c in spec.compose)]
        out.append({"field": key, "label": derived.label, "value": json_value(derived.value),
                    "display": f"{derived.label}：{schema.format_value(key, derived.value)}", "span": "，".join(parts),
                    "approx": False, "how": "composed", "how_label": "按定义合计", "said": derived.explanation,
                    "uncertain": True, "cite": vars(derived.cite) if derived.cite else None})
    return out


def _profile_from_text(text: str, today: date | None) -> tuple[dict[str, Any], Any]:
    from calculator.facts.parse import parse_text

    if not text.strip():
        raise UserError("企业自述为空", "the --text description is empty")
    parsed = parse_text(text, today=today)   # 去年, 成立8年 count from the day asked
    if parsed.errors:
        shown = "；".join(getattr(e, "zh", None) or str(e) for e in parsed.errors)
        raise UserError(f"自述中有无效的数值：{shown}", f"invalid values in the description: {len(parsed.errors)}")
    return dict(parsed.updates), parsed


def judge(profile: Any = None, text: str | None = None, today: date | None = None
          ) -> tuple[MatchReport, ParseResult | None]:
    """Match a profile, or the facts read from a free-text description (with what was read)."""
    from calculator.policy.match import match_profile

    parsed = None
    if text is not None:
        profile, parsed = _profile_from_text(text, today)
    return match_profile(profile, today=today), parsed


def contract(report: MatchReport, parsed: ParseResult | None) -> dict[str, Any]:
    """The `match --json` output (the HTTP API's /api/v1/match sends the same); with a description it adds
    `understood` (every fact read and every fact composed from them) and `not_understood`."""
    out = report.to_json()
    if parsed is not None:
        out["understood"] = understood_json(parsed, report)
        out["not_understood"] = list(parsed.not_understood)
    return out


def run(args: argparse.Namespace) -> int:
    today = parse_today(args.today)
    if args.profile is not None:
        report, parsed = judge(read_profile(args.profile), today=today)
    else:
        report, parsed = judge(text=args.text, today=today)
    if args.json:
        print(json.dumps(contract(report, parsed), ensure_ascii=False, indent=2))
    else:
        print(render(report, parsed))
    return 0




def render(report: MatchReport, parsed: ParseResult | None = None) -> str:
    """The report as plain Chinese text for a terminal or a service-hall printout."""
    lines = [f"许昌惠企政策匹配结果（按 {report.today.isoformat()} 的有效政策）", ""]
    if parsed is not None:
        if parsed.understood:
            lines.append("已识别：" + "；".join(u.display for u in parsed.understood))
        composed = [u["said"] for u in understood_json(parsed, report) if u["how"] == "composed" and "cite" in u]
        lines += [f"按定义合计：{c}" for c in composed]
        if parsed.not_understood:
            lines.append("未能识别：" + "；".join(parsed.not_understood))
        lines.append("")
    for key in ("size_class", "rd_ratio"):
        fact = report.derived[key]
        if fact.value is not None:
            lines.append(f"{fact.label}：{fact.value}{'%' if key == 'rd_ratio' else ''}（{fact.explanation}）")
    for name, definition in report.catalog.definitions.items():
        outcome = definition.node.test(report.facts)
        lines.append(f"{name}：{'是' if outcome is True else '否' if outcome is False else '待确认'}")
    totals = report.to_json()["totals"]
    titles = {r.policy.id: r.policy.title for r in report.results}
    lines += ["", totals["text"]]
    lines += [f"  未计入：{titles[n['policy_id']]}：{n['why']}" for n in totals["not_counted"]]
    for status, heading in STATUS_HEADING.items():
        results = report.with_status(status)
        if not results:
            continue
        lines += ["", f"{heading}（{len(results)}项）"]
        for i, result in enumerate(results, 1):
            lines += _render_result(i, result, detailed=status != "not_eligible")
    return "\n".join(lines)


def _render_result(index: int, result: PolicyResult, detailed: bool) -> list[str]:
    item = result.policy.item
    head = f"{index}. {item.title}"
    if result.amount_text and (result.amount_value is not None or result.amount_range is not None):
        head += f" — {result.amount_text}"
    lines = [head]
    if result.validity_condition:
        lines.append(f"   {result.validity_condition['detail']}")
    if not detailed:
        blocking = [c for c in result.conditions if c.outcome == "not_met"]
        reason = result.near_miss or (f"{blocking[0].text}：{blocking[0].detail}" if blocking else "")
        return lines + ([f"   {reason}"] if reason else [])
    lines.append(f"   优惠：{item.benefit}")
    for condition in result.conditions:
        lines.append(f"   {OUTCOME_MARK[condition.outcome]} {condition.text}：{condition.detail}")
    if result.missing:
        lines.append(f"   待补充：{'、'.join(result.missing_labels)}")
    lines.append(f"   办理：{item.mode}｜{item.department}｜{item.apply.how}")
    if item.apply.materials:
        lines.append(f"   材料：{'、'.join(item.apply.materials)}")
    for citation in result.policy.citations:
        lines.append(f"   依据：{citation.label()}：“{citation.quote}”")
    for caveat in result.policy.caveats:
        lines.append(f"   提示：{caveat}")
    return lines
