"""Every benchmark still runs: `python -m bench <name>` with its smallest arguments, on the session's index.

The numbers are not checked here (bench/ measures them, on a quiet machine); what is checked is that a
benchmark the README quotes has not rotted: it exits 0 and prints its table.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from apprunner import CLEARED, ROOT

pytestmark = pytest.mark.slow

# name → (the smallest arguments, a line of its table); `ingest` is left out: even its smallest run
# embeds the corpus twice (~1 min), and tests/search/test_ingest.py covers what it calls.
SMALLEST = {
    "match": ([], "synthetic verdicts"),
    "chat": (["--rounds", "1"], "(target p95 < 300 ms)"),
    "coverage": ([], "after a catalog edit"),
    "retrieval_peers": ([], "| everyday heldout (78) | ours (hybrid) |"),
    "search_scale": (["--factors", "1", "--stores", "embedded", "--passes", "1"], "| 1× | 1,526 | embedded |"),
    "app": (["--turns", "2"], "peak RSS"),
    "cli": (["--runs", "1"], "| ask, Chinese question |"),
}


def test_every_benchmark_is_listed_here() -> None:
    names = {p.stem for p in (ROOT / "bench").glob("*.py") if not p.stem.startswith("_")}
    assert names == {*SMALLEST, "ingest"}


@pytest.mark.parametrize("name", list(SMALLEST))
def test_benchmark_runs(name: str, built_index: Path) -> None:
    args, line = SMALLEST[name]
    if name == "app":
        args = [*args, "--data-dir", str(built_index)]
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update({"DATA_DIR": str(built_index), "BENCH_DATA_DIR": str(built_index)})
    run = subprocess.run([sys.executable, "-m", "bench", name, *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert line in run.stdout, run.stdout[-3000:]
