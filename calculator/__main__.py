"""`python -m calculator <command>`: thin dispatcher over the library.

Each command lives in `calculator/commands/<name>.py` with `add_arguments(parser)` and `run(args) -> int`.
Only the chosen command's module is imported, so start-up stays fast and one command's heavy
dependencies (torch, Chroma) never slow another.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import NoReturn

from calculator.core.errors import UserError

COMMANDS: dict[str, str] = {
    "ingest": "导入知识库文档 / ingest documents into the index",
    "search": "检索政策原文段落 / search cited passages",
    "ask": "提问并获得带引用的回答 / answer a question with citations",
    "match": "按企业画像匹配政策 / match an enterprise profile against the catalog",
    "schema": "输出企业画像 JSON Schema / print the profile JSON Schema",
    "catalog": "校验政策目录与引文 / validate the policy catalog and its quotes",
    "eval": "评测检索质量 / evaluate retrieval",
    "export": "导出可打印的结果单 / export a printable result sheet",
    "coverage": "政策覆盖缺口分析 / coverage gaps over enterprise segments",
    "calendar": "政策有效期日历 / policy validity calendar",
    "notify": "订阅画像的新政策提醒 / notify saved profiles of new matches",
    "batch": "按企业登记表批量判定（免申即享、政策测算） / judge a whole enterprise register",
    "registry": "模拟登记表等登记表工具 / register tools (synthetic register)",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print usage + exit 2; keep it one line
        print(f"参数错误 / bad arguments: {message}", file=sys.stderr)
        raise SystemExit(2)


def _overview() -> str:
    lines = ["用法 / usage: python -m calculator <command> [options]", ""]
    lines += [f"  {name:<9} {text}" for name, text in COMMANDS.items()]
    lines += ["", "python -m calculator <command> --help 查看各命令参数 / shows a command's options"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(_overview())
        return 0 if argv else 2
    name = argv[0]
    if name not in COMMANDS:
        print(f"参数错误：未知命令 {name!r}（python -m calculator --help 列出命令） / bad arguments: unknown command "
              f"{name!r} (python -m calculator --help lists them)", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(f"calculator.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"calculator.commands.{name}":
            raise
        print(f"命令 {name} 尚未提供 / command {name!r} is not available in this build", file=sys.stderr)
        return 2
    parser = _Parser(prog=f"python -m calculator {name}", description=COMMANDS[name])
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except UserError as exc:
        print(f"错误：{exc.zh} / Error: {exc.en}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `… | head` closed the pipe: not an error worth a message
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug, not the user's fault: one line, details only on request
        if os.environ.get("CALCULATOR_DEBUG"):
            raise
        print(f"内部错误：{type(exc).__name__}（设置 CALCULATOR_DEBUG=1 查看详情） / internal error: {exc}",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
