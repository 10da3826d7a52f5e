"""`python -m calculator ask "问题" [--k 5] [--json]`: a cited answer from the knowledge base, or an honest "not found".

`--json` prints the contract `{answer, found, citations: [{doc_id, doc_title, doc_number, locator, quote, ...}],
coverage: full | partial | none}` (extra keys: policies, dense; per citation summary, note, start, end,
passage_id). `--profile FILE.json` adds the enterprise's status to each catalog item the answer speaks of.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from calculator.core.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", help="问题 / the question")
    parser.add_argument("--k", type=int, default=5, help="检索段落数（默认 5） / passages retrieved")
    parser.add_argument("--profile", type=Path, help="企业画像 JSON 文件（可选） / optional profile JSON file")
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")


def _profile(path: Path | None) -> Any:
    """The --profile file, read with the same limits and messages as `match --profile`."""
    from calculator.commands.common import read_profile

    return None if path is None else read_profile(str(path))


def run(args: argparse.Namespace) -> int:
    from calculator.corpus.citation import SUMMARY_NOTE
    from calculator.dialogue.answer import ask

    if not (args.question or "").strip():
        raise UserError("问题不能为空", "the question is empty")
    if args.k < 1:
        raise UserError("k 必须是正整数", "k must be a positive integer")
    answer = ask(args.question, profile=_profile(args.profile), k=args.k)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=1))
        return 0
    print(answer.answer)
    if answer.citations:
        print("\n依据：")
    for n, c in enumerate(answer.citations, 1):
        number = f" {c['doc_number']}" if c["doc_number"] else ""
        note = f"（{SUMMARY_NOTE}）" if c.get("summary") else ""
        print(f"[{n}] 《{c['doc_title']}》{number} {c['locator']}{note}\n    “{c['quote']}”")
    return 0
