"""Retrieval quality over a question file: one definition of a hit, shared by the CLI, tests and benches.

Each line of a question file is `{"id", "q", "key", ...}`; a question is answered at rank r when its key
phrase occurs in the r-th passage (NFKC, whitespace ignored: textnorm.squash). Any search function can
be scored, so the peers in bench/retrieval_peers.py are measured by exactly the same rule as ours.
A row may carry `split` (`tune` | `heldout`): whatever is tuned looks at `tune` only, and the held-out
rows are reported on their own (`select`).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calculator.core.errors import UserError
from calculator.core.textnorm import squash

Finder = Callable[[str, int], list[str]]  # (question, k) → passage texts, best first


@dataclass(frozen=True)
class Question:
    id: str
    q: str
    key: str
    split: str = ""


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
            questions.append(Question(str(item.get("id", number)), str(item["q"]), str(item["key"]),
                                      str(item.get("split", ""))))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UserError(f"问题集第 {number} 行格式不对（需要 q 和 key）",
                            f"line {number} of the question file is not {{\"q\": ..., \"key\": ...}}") from None
    if not questions:
        raise UserError(f"问题集为空：{path}", f"the question file is empty: {path}")
    return questions


def select(questions: list[Question], split: str | None) -> list[Question]:
    """The rows of one split (all rows when `split` is None); none of that split is a clear error."""
    if split is None:
        return questions
    chosen = [q for q in questions if q.split == split]
    if not chosen:
        raise UserError(f"问题集中没有 split 为 {split} 的问题", f"no question has split {split!r}")
    return chosen


def first_hit_rank(key: str, texts: list[str]) -> int | None:
    """1-based rank of the first passage containing `key`, None when none does."""
    wanted = squash(key)
    return next((n for n, text in enumerate(texts, 1) if wanted in squash(text)), None)


def our_finder() -> Finder:
    """The product's hybrid search as a Finder."""
    from calculator.search.retrieve import search

    return lambda question, k: [hit.text for hit in search(question, k=k)]


def evaluate(questions: list[Question], find: Finder, k: int = 5) -> dict[str, Any]:
    """Recall@1, Recall@k, MRR and the misses of `find` over `questions`."""
    if k < 1:
        raise UserError("k 必须是正整数", "k must be a positive integer")
    ranks = {q.id: first_hit_rank(q.key, find(q.q, k)) for q in questions}
    total = len(questions)
    return {"questions": total, "k": k,
            "recall@1": sum(r == 1 for r in ranks.values()) / total,
            f"recall@{k}": sum(r is not None for r in ranks.values()) / total,
            "mrr": sum(1 / r for r in ranks.values() if r) / total,
            "misses": [{"id": q.id, "q": q.q, "key": q.key} for q in questions if ranks[q.id] is None]}
