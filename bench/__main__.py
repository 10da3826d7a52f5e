"""`python -m bench <name> [args]` runs bench/<name>.py's main(argv); `all` runs every benchmark in turn.

Each module in bench/ with a `main(argv: list[str]) -> None` is a benchmark; it prints a small table.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path


def _benchmarks() -> list[str]:
    here = Path(__file__).parent
    names = []
    for info in pkgutil.iter_modules([str(here)]):
        if info.name.startswith("_"):
            continue
        if hasattr(importlib.import_module(f"bench.{info.name}"), "main"):
            names.append(info.name)
    return sorted(names)


def main(argv: list[str]) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    available = _benchmarks()
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: python -m bench <name>|all [args]\nbenchmarks: " + ", ".join(available))
        return 0 if argv else 2
    chosen = available if argv[0] == "all" else [argv[0]]
    for name in chosen:
        if name not in available:
            print(f"unknown benchmark {name!r}; available: {', '.join(available)}", file=sys.stderr)
            return 2
        print(f"\n== bench {name} ==", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.{name}").main(argv[1:] if argv[0] != "all" else [])
        print(f"(bench {name}: {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
