"""`python -m calculator eval retrieval FILE.jsonl [--split tune|heldout] [--k 5] [--misses] [--json]`: retrieval quality.

Prints Recall@1, Recall@k and MRR of the product's search over a question file (calculator/search/quality.py
defines a hit: the question's key phrase in a returned passage, NFKC and whitespace ignored).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["retrieval"], help="评测对象 / what to evaluate")
    parser.add_argument("file", type=Path, help="问题集 JSONL / question file (JSONL)")
    parser.add_argument("--split", help="只评测这一部分（如 tune、heldout） / only the rows of this split")
    parser.add_argument("--k", type=int, default=5, help="检索段落数（默认 5） / passages per question")
    parser.add_argument("--misses", action="store_true", help="列出未命中的问题 / list the questions missed")
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")


def run(args: argparse.Namespace) -> int:
    from calculator.search.quality import evaluate, our_finder, read_questions, select

    result = evaluate(select(read_questions(args.file), args.split), our_finder(), args.k)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    print(f"问题 {result['questions']} 个 / questions: {result['questions']}")
    print(f"Recall@1  {result['recall@1']:.3f}")
    print(f"Recall@{args.k}  {result[f'recall@{args.k}']:.3f}")
    print(f"MRR       {result['mrr']:.3f}")
    if args.misses:
        for miss in result["misses"]:
            print(f"未命中 / miss {miss['id']}: {miss['q']}  (key: {miss['key']})")
    return 0
