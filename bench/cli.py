"""Cold command line: `python -m bench cli [--runs 3] [--data-dir DIR]`.

Each run is a fresh `python -m calculator ask|search "…" --json` process, timed from spawn to exit, as
a user or a script calling the CLI meets it. The Chinese questions are ones the bundled model cannot
read, so dense search is skipped (search/readable.py) and torch, sentence-transformers and Chroma are
never imported; the last rows force the dense half (`DENSE_SEARCH=always`), which is what every cold
`search` cost before, and what a query the model can read (English) still costs. The better and the
median of the runs are reported next to the figure before this change (issue 12: 26–29 s on this
machine; README: 12–15 s on a quiet one). Target: ≤ 5 s with the bundled model.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._common import BENCH_DATA_DIR, PROJECT_ROOT, bench_index, machine, table

QUESTION = "稳岗返还资金可以用在哪些地方？"
CASES = [  # (label, command, extra environment)
    ("ask, Chinese question", ["ask", QUESTION], {}),
    ("search, Chinese question", ["search", QUESTION, "--k", "5"], {}),
    ("ask, dense forced (DENSE_SEARCH=always)", ["ask", QUESTION], {"DENSE_SEARCH": "always"}),
    ("search, English question (the model reads it)", ["search", "R&D super deduction for small enterprises"], {}),
]
BEFORE = ("search 27.0 s, ask 32.8 s (measured here on 2026-12-01 before this change, load 3.8); "
          "issue 12: 26–29 s; README: 12–15 s on a quiet machine")
TARGET_S = 5.0


def _run(args: list[str], extra: dict[str, str], data_dir: Path) -> tuple[float, str]:
    """Seconds from spawn to exit of one cold CLI process, and the `dense` value its JSON reports."""
    env = {k: v for k, v in os.environ.items() if k not in ("DENSE_SEARCH", "CHROMA_HOST")}
    env.update(DATA_DIR=str(data_dir), **extra)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "calculator", *args, "--json"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    data = json.loads(done.stdout)
    dense = data["dense"] if isinstance(data, dict) else (data[0]["dense"] if data else "?")
    return seconds, dense


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench cli")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per command (default 3)")
    parser.add_argument("--data-dir", type=Path, help="an up-to-date index (default: the bench index)")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or (BENCH_DATA_DIR if os.environ.get("BENCH_DATA_DIR") else bench_index().data_dir)
    print(machine(), flush=True)
    rows = []
    for label, command, extra in CASES:
        times, dense = [], ""
        for _ in range(args.runs):
            seconds, dense = _run(command, extra, data_dir)
            times.append(seconds)
        best, median = min(times), statistics.median(times)
        met = "✓" if best <= TARGET_S else "✗"
        target = f"≤ {TARGET_S:g} s {met}" if not extra and "English" not in label else ""
        rows.append([label, f"{best:.2f} s", f"{median:.2f} s", dense, target])
    print(table(["cold `python -m calculator …`", f"best of {args.runs}", "median", "dense", "target"], rows))
    print(f"before this change: {BEFORE}")
    print(machine(), flush=True)
