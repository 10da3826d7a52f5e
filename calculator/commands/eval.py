"""`python -m calculator eval retrieval FILE.jsonl [--k 5] [--misses] [--json]`: retrieval quality.

Each line of FILE is `{"id", "q", "key", ...}`; a question is answered at rank r when its key phrase
occurs in the r-th passage (NFKC, whitespace ignored: textnorm.squash). Prints Recall@1, Recall@k, MRR.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from calculator.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["retrieval"], help="评测对象 / what to evaluate")
    parser.add_argument("file", type=Path, help="问题集 JSONL / question file (JSONL)")
    parser.add_argument("--k", type=int, default=5, help="检索段落数（默认 5） / passages per question")
    parser.add_argument("--misses", action="store_true", help="列出未命中的问题 / list the questions missed")
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")


@dataclass(frozen=True)
class Question:
    id: str
    q: str
    key: str


def read_questions(path: Path) -> list[Question]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"无法读取问题集 {path}", f"cannot read the question file {path}: {exc}") from None
    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            questions.append(Question(str(item.get("id", number)), str(item["q"]), str(item["key"])))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UserError(f"问题集第 {number} 行格式不对（需要 q 和 key）",
                            f"line {number} of the question file is not {{\"q\": ..., \"key\": ...}}") from None
    if not questions:
        raise UserError(f"问题集为空：{path}", f"the question file is empty: {path}")
    return questions


def run(args: argparse.Namespace) -> int:
    from calculator.retrieve import search
    from calculator.textnorm import squash

    if args.k < 1:
        raise UserError("k 必须是正整数", "k must be a positive integer")
    questions = read_questions(args.file)
    ranks: dict[str, int | None] = {}
    for question in questions:
        key = squash(question.key)
        hits = search(question.q, k=args.k)
        ranks[question.id] = next((n for n, hit in enumerate(hits, 1) if key in squash(hit.text)), None)
    total = len(questions)
    result = {"questions": total, "k": args.k,
              "recall@1": sum(r == 1 for r in ranks.values()) / total,
              f"recall@{args.k}": sum(r is not None for r in ranks.values()) / total,
              "mrr": sum(1 / r for r in ranks.values() if r) / total,
              "misses": [{"id": q.id, "q": q.q, "key": q.key} for q in questions if ranks[q.id] is None]}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    print(f"问题 {total} 个 / questions: {total}")
    print(f"Recall@1  {result['recall@1']:.3f}")
    print(f"Recall@{args.k}  {result[f'recall@{args.k}']:.3f}")
    print(f"MRR       {result['mrr']:.3f}")
    if args.misses:
        for miss in result["misses"]:
            print(f"未命中 / miss {miss['id']}: {miss['q']}  (key: {miss['key']})")
    return 0
