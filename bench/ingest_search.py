"""Ingest and search: how fast the knowledge path is on this machine (printed, never asserted).

    python -m bench ingest_search [--multiplier N] [--skip-fresh]

* first ingest and unchanged re-run, each in a fresh process (what `python ingest.py` costs a user);
* ingest throughput with the model already loaded vs raw `model.encode` of the very same passages
  (target: ≥ 80 %);
* search latency p50/p95 (embedded Chroma, warm process) and the lexical half alone;
* lexical scoring at 1×/10×/100× the passages (target: well under 100 ms per query at ~100k passages).

`--multiplier N` ingests N copies of the corpus (distinct ids), the hook for 10×/100× runs; server
mode is the same code with CHROMA_HOST/CHROMA_PORT set.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = (PROJECT_ROOT.parent / "shared" / "eval" / "dev_questions.jsonl",
                  PROJECT_ROOT / "tests" / "data" / "retrieval_extra.jsonl")


def corpus_copy(multiplier: int, target: Path) -> Path:
    """The bundled corpus, or `multiplier` copies of it with distinct file names (hence doc ids)."""
    source = PROJECT_ROOT / "knowledge" / "docs"
    if multiplier == 1:
        return source
    for copy in range(multiplier):
        for path in source.rglob("*"):
            if path.is_file():
                relative = path.relative_to(source)
                name = path.name if path.name in ("INDEX.md", "README.md", "META.yaml") else f"{path.stem}_x{copy}{path.suffix}"
                destination = target / f"copy{copy}" / relative.parent / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, destination)
    return target


def questions() -> list[str]:
    found = []
    for path in QUESTION_FILES:
        if path.is_file():
            found += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return found


def _fresh_ingest(docs: Path, data_dir: Path) -> tuple[float, dict]:
    code = ("import json,sys; from calculator.index import build; r = build(sys.argv[1]); "
            "print(json.dumps({'passages': r.passages, 'embedded': r.embedded, 'up_to_date': r.up_to_date}))")
    env = {**os.environ, "DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, str(docs)], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(result.stdout.strip().splitlines()[-1])


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000


def run(multiplier: int = 1, fresh: bool = True) -> list[tuple[str, str]]:
    """All measurements as (what, value) rows."""
    from calculator.config import Settings
    from calculator.embedding import get_embedder
    from calculator.index import build, current_generation
    from calculator.lexical import LexicalIndex, get_lexicon
    from calculator.retrieve import search
    from calculator.splitter import indexed_text

    rows: list[tuple[str, str]] = [("load average (1 min) at start", f"{os.getloadavg()[0]:.2f}")]
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        docs = corpus_copy(multiplier, scratch_path / "docs")
        if fresh:
            first, info = _fresh_ingest(docs, scratch_path / "fresh")
            rerun, again = _fresh_ingest(docs, scratch_path / "fresh")
            rows += [(f"first ingest, fresh process ({info['passages']} passages)", f"{first:.1f} s"),
                     ("  passages/s end to end (incl. ~13 s model import)", f"{info['passages'] / first:.1f}"),
                     (f"unchanged re-run, fresh process (embedded {again['embedded']})", f"{rerun:.1f} s"),
                     ("  re-run / first", f"{rerun / first:.1%}")]

        embedder = get_embedder()
        started = time.perf_counter()
        embedder.load()
        rows.append(("model import + load (in process)", f"{time.perf_counter() - started:.1f} s"))
        data_dir = scratch_path / "warm"
        settings = Settings(data_dir=data_dir)
        started = time.perf_counter()
        report = build(docs, settings=settings)
        ingest_seconds = time.perf_counter() - started
        records = current_generation(settings).passages()
        texts = [indexed_text(r["doc_title"], r["locator"], r["text"]) for r in records]
        started = time.perf_counter()
        embedder.model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        raw_seconds = time.perf_counter() - started
        ingest_rate, raw_rate = report.passages / ingest_seconds, len(texts) / raw_seconds
        rows += [(f"ingest with model loaded ({report.passages} passages)", f"{ingest_seconds:.1f} s, {ingest_rate:.1f} passages/s"),
                 ("raw model.encode, same passages", f"{raw_seconds:.1f} s, {raw_rate:.1f} passages/s"),
                 ("  ingest / raw encode throughput (target ≥ 80 %)", f"{ingest_rate / raw_rate:.0%}")]

        os.environ["DATA_DIR"] = str(data_dir)
        asked = questions() or ["高新技术企业税率"]
        search(asked[0])  # warm: index load and first query
        timings = []
        for question in asked * 3:
            started = time.perf_counter()
            search(question, k=5)
            timings.append(time.perf_counter() - started)
        p50, p95 = _percentiles(timings)
        rows.append((f"search p50 / p95 (embedded, warm, {len(timings)} queries)", f"{p50:.1f} / {p95:.1f} ms"))

        lexicon = get_lexicon()
        tokens = [r["tokens"].split() for r in records]
        concepts = [lexicon.query_terms(q) for q in asked]
        for factor in (1, 10, 100):
            index = LexicalIndex.build(tokens * factor)
            timings = []
            for concept in concepts * 2:
                started = time.perf_counter()
                index.top(concept, 50)
                timings.append(time.perf_counter() - started)
            p50, p95 = _percentiles(timings)
            rows.append((f"lexical scoring at {factor}× ({index.size} passages) p50 / p95", f"{p50:.2f} / {p95:.2f} ms"))
    return rows


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench ingest_search")
    parser.add_argument("--multiplier", type=int, default=1, help="ingest N copies of the corpus")
    parser.add_argument("--skip-fresh", action="store_true", help="skip the two fresh-process ingests")
    args = parser.parse_args(argv)
    rows = run(args.multiplier, fresh=not args.skip_fresh)
    width = max(len(what) for what, _ in rows)
    for what, value in rows:
        print(f"{what:<{width}}  {value}")
