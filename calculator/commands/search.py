"""`python -m calculator search "问题" [--k 5] [--json]`: the passages that answer a question.

`--json` prints the contract `[{doc_id, doc_title, doc_number, locator, text, score, ...}]`, best first
(extra keys: passage_id, kind, summary, note, start, end, lexical_score, lexical_rank, dense_rank, and
dense: "used" or why dense search was skipped, e.g. "skipped: model cannot read the query").
"""
from __future__ import annotations

import argparse
import json
import textwrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="问题 / the question")
    parser.add_argument("--k", type=int, default=5, help="返回段落数（默认 5） / number of passages")
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")


def run(args: argparse.Namespace) -> int:
    from calculator.search.retrieve import search

    hits = search(args.query, k=args.k)
    if args.json:
        print(json.dumps(hits.to_json(), ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("没有找到相关段落。/ nothing found.")
    for n, hit in enumerate(hits, 1):
        number = f"（{hit.doc_number}）" if hit.doc_number else ""
        summary = f"【{hit.note}】" if hit.is_summary else ""
        print(f"{n}. {summary}《{hit.doc_title}》{number} {hit.locator}  得分 {hit.score:.4f}")
        print(textwrap.indent(textwrap.shorten(hit.text.replace("\n", " "), 300, placeholder="…"), "   "))
    return 0
