"""`python -m calculator eval retrieval|understanding FILE …`: how well the product finds and reads.

- `retrieval FILE.jsonl [--split tune|heldout] [--k 5] [--misses] [--json]`: Recall@1, Recall@k and MRR of the
  product's search over a question file (calculator/search/quality.py defines a hit: the question's key
  phrase in a returned passage, NFKC and whitespace ignored).
- `understanding FILE.yaml [--split tune|heldout] [--misses] [--json]`: fact and verdict accuracy of
  `match --text` over descriptions, or of the chat over multi-turn chats (the file says which), for the
  tuned and the held-out split separately (calculator/dialogue/quality.py defines a right fact and verdict).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from calculator.core.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["retrieval", "understanding"], help="评测对象 / what to evaluate")
    parser.add_argument("file", type=Path, help="问题集 JSONL 或理解评测集 YAML / question file or evaluation set")
    parser.add_argument("--split", help="只评测这一部分（如 tune、heldout；理解评测默认两部分分别报告） / only the rows of this split")
    parser.add_argument("--k", type=int, default=5, help="检索段落数（默认 5） / passages per question (retrieval)")
    parser.add_argument("--misses", action="store_true", help="列出未命中的项 / list what was missed")
    parser.add_argument("--json", action="store_true", help="输出 JSON / print JSON")


def run(args: argparse.Namespace) -> int:
    if args.what == "understanding":
        return _understanding(args)
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


def _understanding(args: argparse.Namespace) -> int:
    from calculator.dialogue.quality import SPLITS, evaluate_set, read_set

    entries = read_set(args.file)
    splits = (args.split,) if args.split else SPLITS
    if not any(e["split"] in splits for e in entries):
        raise UserError(f"评测集中没有 {'、'.join(splits)} 部分", f"the set has no {'/'.join(splits)} entries")
    scores = evaluate_set(entries, splits)
    out: dict[str, Any] = {split: score.to_json() for split, score in scores.items()}
    if args.misses:
        for split, score in scores.items():
            out[split]["misses"] = score.misses
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    kind = "多轮对话" if any("turns" in e for e in entries) else "企业自述"
    for split, data in out.items():
        facts, verdicts, parser = data["facts"], data["verdicts"], data["parser_verdicts"]
        print(f"{kind} {split}：{data['entries']} 项 / entries")
        print(f"  事实准确率 / fact accuracy   {_ratio(facts['accuracy'])}  （召回 / recall {_ratio(facts['recall'])}，"
              f"应有 {facts['expected']}，多读 {facts['extra']}，误存 {facts['forbidden']}）")
        print(f"  结论准确率 / verdict accuracy {_ratio(verdicts['accuracy'])}  （规则与评测集一致的 {verdicts['scored']} 个结论）")
        print(f"  读取一致率 / reading accuracy {_ratio(parser['accuracy'])}  （全部 {parser['scored']} 个结论：读到的画像 vs 应有的画像）")
        for miss in data.get("misses", []):
            print(f"  未命中 / miss {json.dumps(miss, ensure_ascii=False)}")
    return 0


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
