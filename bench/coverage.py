"""Coverage analysis speed: every generated segment × the catalog, as the officials' tab computes it.

Three costs: the first report in a process (segment profiles built and judged), a report after a catalog
edit (segment facts reused, compiled tests re-run) and a cached report; then the same after-edit cost
for a synthetic catalog of 1,000 items (bench/match.py's varied real shapes) to show how it scales.
Printed, not asserted.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

SYNTHETIC_ITEMS = 1_000
TODAY = date(2026, 11, 23)


def _seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    from bench.match import synthetic_items
    from calculator.core.config import get_settings
    from calculator.corpus.documents import load_corpus
    from calculator.officials import coverage
    from calculator.policy.catalog import catalog_from_data, load_catalog

    real = load_catalog()
    first = _seconds(lambda: coverage.coverage_report(real, TODAY))
    report = coverage.coverage_report(real, TODAY)
    edited = _seconds(lambda: coverage._compute(real, TODAY, "bench"))
    cached = _seconds(lambda: coverage.coverage_report(real, TODAY))
    s = report.summary()
    print(f"real catalog: {s['segments']:,} segments × {s['policies_current']} current items; "
          f"gaps {s['gaps']}, nothing certain {s['zero_eligible']:,}")
    print(f"{'coverage report, s':<44} {'seconds':>8}")
    print(f"{'first in process (segment facts + judging)':<44} {first:>8.3f}")
    print(f"{'after a catalog edit (judging only)':<44} {edited:>8.3f}")
    print(f"{'cached (same catalog and day)':<44} {cached:>8.4f}")

    settings = get_settings()
    folder = settings.policies_dir
    raw = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("[!_]*.yaml"))]
    definitions = yaml.safe_load((folder / "_definitions.yaml").read_text(encoding="utf-8"))
    synthetic = catalog_from_data(synthetic_items(raw, SYNTHETIC_ITEMS), definitions, load_corpus(settings.docs_dir))
    big = _seconds(lambda: coverage._compute(synthetic, TODAY, "bench-synthetic"))
    print(f"{f'after an edit, synthetic {SYNTHETIC_ITEMS:,} items':<44} {big:>8.3f}")
    started = time.perf_counter()
    coverage.coverage_report(real, TODAY).to_json()
    print(f"{'to_json of the real report':<44} {time.perf_counter() - started:>8.3f}")
