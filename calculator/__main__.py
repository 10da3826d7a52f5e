"""`python -m calculator <command>`: thin dispatcher over the library.

Each command lives in `calculator/commands/<name>.py` with `add_arguments(parser)` and `run(args) -> int`,
so commands are added without touching this file's logic (only the table below).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from calculator.errors import UserError

COMMANDS: dict[str, str] = {
    "ingest": "导入知识库文档 / ingest documents into the index",
    "search": "检索政策原文段落 / search cited passages",
    "ask": "提问并获得带引用的回答 / answer a question with citations",
    "match": "按企业画像匹配政策 / match an enterprise profile against the catalog",
    "schema": "输出企业画像 JSON Schema / print the profile JSON Schema",
    "catalog": "校验政策目录与引文 / validate the policy catalog and its quotes",
    "eval": "评测检索质量 / evaluate retrieval",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage + exit 2; keep it one line
        print(f"参数错误 / bad arguments: {message}", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = _Parser(prog="python -m calculator", description="许昌惠企政策计算器 / Xuchang policy calculator")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    modules = {}
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"calculator.commands.{name}")
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    try:
        return int(modules[args.command].run(args) or 0)
    except UserError as exc:
        print(f"错误：{exc.zh} / Error: {exc.en}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
