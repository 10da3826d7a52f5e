"""Chat turn latency without an LLM: a scripted ~20-turn session (answers, corrections, declines, free
questions, a statement with a question, nonsense), repeated after warm-up.

    python -m bench chat [--rounds 5]

Warm-up (embedding model, index, catalog, POS tagger: what `chat.warm_up()` does at app start) is timed
separately. Target (issue 4): p95 < 300 ms per turn on 2 cores. Needs an index (`make ingest`, or
DATA_DIR pointing at one). The load average is printed because other processes on a shared machine
slow the per-query embedding. Printed, not asserted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

SCRIPT = [
    "你好",
    "我们是长葛做机械加工的",
    "员工85个人",
    "去年营收三千万左右",
    "资产两千五百万",
    "稳岗返还怎么申请？",
    "一般纳税人",
    "不清楚",
    "高新技术企业有什么优惠？",
    "利润大概两百万",
    "不对，员工是120人",
    "研发投入九十万",
    "低压接电要多久？",
    "asdf",
    "都没有",
    "我们是小规模纳税人，能享受什么？",
    "深圳的人才公寓怎么申请？",
    "是",
    "不知道",
    "小型微利企业的条件是什么？",
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench chat")
    parser.add_argument("--rounds", type=int, default=5, help="times the scripted session is repeated")
    args = parser.parse_args(argv)
    for name in ("OPENAI_BASE_URL", "LLM_MODEL"):   # the deterministic path is what is measured
        os.environ.pop(name, None)

    from calculator.core.errors import UserError
    from calculator.dialogue import chat
    from calculator.search.index import open_index

    try:
        open_index()
    except UserError as exc:
        print(f"no index: {exc.en} (run `make ingest` or set DATA_DIR)")
        return
    started = time.perf_counter()
    chat.warm_up()
    warm_up_s = time.perf_counter() - started

    turns: list[float] = []
    by_route: dict[str, list[float]] = {}
    for _ in range(max(1, args.rounds)):
        state, _ = chat.new_session()
        for message in SCRIPT:
            begun = time.perf_counter()
            state, reply = chat.respond(state, message)
            elapsed = (time.perf_counter() - begun) * 1000
            turns.append(elapsed)
            by_route.setdefault(reply.route, []).append(elapsed)

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"warm-up (model, index, catalog, tagger): {warm_up_s:.1f} s")
    print(f"turns: {len(turns)} ({len(SCRIPT)} per session x {max(1, args.rounds)}), cores: {os.cpu_count()}, "
          f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'route':<10} {'turns':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for route, values in sorted(by_route.items()):
        print(f"{route:<10} {len(values):>5} {statistics.median(values):>8.1f} {_percentile(values, 0.95):>8.1f} "
              f"{max(values):>8.1f}")
    print(f"{'all':<10} {len(turns):>5} {statistics.median(turns):>8.1f} {_percentile(turns, 0.95):>8.1f} "
          f"{max(turns):>8.1f}   (target p95 < 300 ms)")
