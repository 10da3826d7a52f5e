"""`python -m calculator export`: match a profile and write the printable result sheet.

`--profile` and/or `--text` are matched here (the text's facts override the file's, as a correction
would); `--report` exports a saved `match --json` output instead, so a result computed elsewhere
prints the same. Only the output path is printed: nothing identifying goes to the terminal or logs.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from calculator.core.errors import UserError
from calculator.present.export import FORMATS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", metavar="FILE",
                        help="企业画像 JSON 文件，- 表示标准输入 / profile JSON file, - for stdin")
    parser.add_argument("--text", help="企业自述，如“我们是长葛的小规模纳税人，员工28人” / free-text description")
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="已保存的 match --json 结果 / a saved match --json report")
    parser.add_argument("--format", choices=FORMATS, default="pdf", help="导出格式 / output format (default pdf)")
    parser.add_argument("--out", type=Path, default=Path("exports"),
                        help="输出目录，或以 .pdf 等结尾的文件路径 / output directory or file (default ./exports)")
    parser.add_argument("--today", help="计算日期 YYYY-MM-DD（默认今天） / date the verdicts apply to")


MAX_REPORT_CHARS = 50_000_000  # a match report is a few hundred KB; far bigger is the wrong file


def _read_report(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            raw = handle.read(MAX_REPORT_CHARS + 1)
        if len(raw) > MAX_REPORT_CHARS:
            raise UserError(f"匹配结果文件过大：{path}", f"the report file is too large: {path}")
        return json.loads(raw)
    except FileNotFoundError:
        raise UserError(f"找不到匹配结果文件：{path}", f"report file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"无法读取匹配结果文件：{path}", f"cannot read the report {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"匹配结果不是有效的 JSON（第{exc.lineno}行）：{path}",
                        f"the report is not valid JSON (line {exc.lineno}): {path}") from None
    except RecursionError:
        raise UserError(f"匹配结果 JSON 嵌套过深：{path}", f"the report JSON is nested too deeply: {path}") from None


def _profile_data(args: argparse.Namespace) -> dict[str, Any]:
    """The profile file's facts with the free text's facts merged over them (as a correction would)."""
    from calculator.commands.common import read_profile

    data: dict[str, Any] = {}
    if args.profile:
        loaded = read_profile(args.profile)
        if not isinstance(loaded, dict):
            raise UserError("企业画像应为 JSON 对象", "the profile must be a JSON object")
        data.update(loaded)
    if args.text:
        from calculator.facts.parse import parse_text

        parsed = parse_text(args.text)
        if parsed.errors:
            raise UserError(f"自述中有无效的数值：{'；'.join(parsed.errors)}",
                            f"invalid values in the description: {len(parsed.errors)}")
        data.update(parsed.updates)
    return data


def _match(args: argparse.Namespace) -> dict[str, Any]:
    if not args.profile and not args.text:
        raise UserError("请提供 --profile 画像文件、--text 企业自述或 --report 匹配结果",
                        "give --profile, --text or --report")
    from calculator.commands.common import parse_today
    from calculator.policy.match import match_profile

    today = parse_today(args.today)
    return match_profile(_profile_data(args), today=today).to_json()


def run(args: argparse.Namespace) -> int:
    from calculator.present.export import export_report

    if args.report and (args.profile or args.text):
        raise UserError("--report 不能与 --profile/--text 同时使用", "--report excludes --profile and --text")
    report = _read_report(args.report) if args.report else _match(args)
    print(export_report(report, args.format, args.out))
    return 0
