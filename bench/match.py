"""Matching speed: one profile against the real catalog and a synthetic one of 10,000 items.

The synthetic items are the real items' shapes (condition trees, refs, formulas, quotes) with every
numeric threshold varied, so the work per item is realistic; they load through the same checks as
the files. Pinned to one core. Target (issue 3): p95 < 50 ms per match at 10,000 items. Printed,
not asserted.
"""
from __future__ import annotations

import copy
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SYNTHETIC_ITEMS = 10_000
PROFILE = {
    "county": "建安区", "entity_type": "企业", "industry": "制造业", "founded": "2016-05-01",
    "employees": 85, "revenue": 3200, "total_assets": 2800, "taxable_income": 180, "rd_expense": 110,
    "taxpayer_type": "一般纳税人", "monthly_sales": 260, "restricted_industry": False,
    "certifications": ["科技型中小企业"], "unemployment_insured": True, "insured_months": 36, "layoff_rate": 2.5,
}


def _pin_to_one_core() -> str:
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity here)"


def _vary(node: Any, rng: random.Random) -> Any:
    """Scale every numeric leaf threshold by 0.5–1.5 (whole numbers stay whole)."""
    if isinstance(node, dict):
        out = {k: _vary(v, rng) for k, v in node.items()}
        value = node.get("value")
        if "field" in node and isinstance(value, (int, float)) and not isinstance(value, bool):
            scaled = value * rng.uniform(0.5, 1.5)
            out["value"] = round(scaled) if isinstance(value, int) else round(scaled, 2)
        return out
    if isinstance(node, list):
        return [_vary(v, rng) for v in node]
    return node


def synthetic_items(real: list[dict[str, Any]], count: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    items = []
    for i in range(count):
        template = real[i % len(real)]
        item = copy.deepcopy(template)
        item["id"] = f"{template['id']}_{i:05d}"
        item["conditions"] = _vary(template["conditions"], rng)
        item.pop("alternatives", None)   # they name the real items; a copy stands alone
        items.append(item)
    return items


def _timings(run: Callable[[], Any], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this thread's CPU time per call, in ms (CPU time is immune to other load)."""
    run()  # warm caches once
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.thread_time()
        run()
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return wall, cpu


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _row(label: str, timings: tuple[list[float], list[float]]) -> str:
    wall, cpu = timings
    return (f"{label:<40} {statistics.median(wall):>8.2f} {p95(wall):>8.2f} "
            f"{statistics.median(cpu):>8.2f} {p95(cpu):>8.2f} {len(wall):>5}")


def main(argv: list[str]) -> None:
    from calculator.core.config import get_settings
    from calculator.corpus.documents import load_corpus
    from calculator.facts.profile import validate_profile
    from calculator.policy.catalog import catalog_from_data, load_catalog
    from calculator.policy.match import match_profile

    print(_pin_to_one_core())
    settings = get_settings()
    profile = validate_profile(PROFILE)
    real = load_catalog()
    folder = settings.policies_dir
    raw_items = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("[!_]*.yaml"))]
    definitions = yaml.safe_load((folder / "_definitions.yaml").read_text(encoding="utf-8"))
    started = time.perf_counter()
    synthetic = catalog_from_data(synthetic_items(raw_items, SYNTHETIC_ITEMS), definitions,
                                  load_corpus(settings.docs_dir))
    load_s = time.perf_counter() - started
    print(f"synthetic catalog: {len(synthetic.policies)} items from {len(raw_items)} real shapes, "
          f"loaded and verified in {load_s:.1f} s")
    print(f"{'per call, ms':<40} {'wall p50':>8} {'wall p95':>8} {'cpu p50':>8} {'cpu p95':>8} {'runs':>5}")
    print(_row(f"match, real catalog ({len(real.policies)} items)",
               _timings(lambda: match_profile(profile, real), 300)))
    print(_row("match + to_json, real catalog", _timings(lambda: match_profile(profile, real).to_json(), 100)))
    print(_row("load_catalog() cache hit (stat of files)", _timings(load_catalog, 100)))
    timings = _timings(lambda: match_profile(profile, synthetic), 200)
    print(_row(f"match, synthetic ({SYNTHETIC_ITEMS:,} items)", timings))
    report = match_profile(profile, synthetic)
    counts = {s: len(report.with_status(s)) for s in ("eligible", "need_info", "not_eligible")}
    print(f"synthetic verdicts: {counts}")
    print(f"target p95 < 50 ms at {SYNTHETIC_ITEMS:,} items: wall {'met' if p95(timings[0]) < 50 else 'NOT met'}, "
          f"cpu {'met' if p95(timings[1]) < 50 else 'NOT met'} (load average {os.getloadavg()[0]:.1f})")
