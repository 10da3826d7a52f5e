"""Hybrid search: lexical BM25 and dense vectors fused by weighted reciprocal-rank fusion.

Both halves contribute candidates whenever the model can read the query: there is no score threshold that
could silently empty one of them. When the model's own tokenizer maps most of the query to [UNK]
(search/readable.py), its vector is noise, so the dense half is skipped and the result says so
(`Hits.dense`); torch and Chroma are then never imported. The weights are settings; with the bundled
English model (which reads little Chinese) the lexical half leads by default. Each hit keeps its lexical score and both ranks, so a caller (the answer module)
can tell a strong match from a weak one.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from calculator.core.config import BUNDLED_MODEL, get_settings
from calculator.core.errors import UserError
from calculator.corpus.citation import SummaryMark
from calculator.search.index import open_index
from calculator.search.lexical import MAX_QUERY_CHARS, get_lexicon
from calculator.search.readable import DENSE_USED, dense_plan
from calculator.search.relevance import reranked

CANDIDATES = 50   # taken from each half before fusion


@dataclass(frozen=True)
class FusionWeights:
    lexical: float
    dense: float
    k: float      # the RRF constant: larger flattens the difference between neighbouring ranks


def fusion_weights(model: str | None = None) -> FusionWeights:
    """`LEXICAL_WEIGHT`, `DENSE_WEIGHT`, `RRF_K`.

    The bundled English model finds the answer for ~5 % of Chinese questions (DESIGN.md), so by default
    its ranks only break near-ties between lexical ranks (weight 0.1, k 10: measured on the dev set and on
    tests/data/retrieval_extra.jsonl, larger dense weights pushed noise above the lexical best). A real
    Chinese model gets the usual equal-weight RRF (k 60).
    """
    settings = get_settings()
    model = model if model is not None else settings.embedding_model
    bundled = model in ("", BUNDLED_MODEL)

    def positive(value: float | None, default: float) -> float:
        return value if value else default  # 0 means "default": neither half can be switched off by a setting

    return FusionWeights(positive(settings.lexical_weight, 1.0),
                         positive(settings.dense_weight, 0.1 if bundled else 1.0),
                         positive(settings.rrf_k, 10.0 if bundled else 60.0))


@dataclass(frozen=True)
class Hit(SummaryMark):
    """A passage found for a question, with its document's provenance and how it was found."""

    passage_id: str
    doc_id: str
    doc_title: str
    doc_number: str
    kind: str
    locator: str
    text: str
    start: int
    end: int
    score: float                   # fused; higher is better
    lexical_score: float           # BM25 (0 when no query word occurs in the passage)
    lexical_rank: int | None       # 1-based, None when not among the lexical candidates
    dense_rank: int | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(summary=self.is_summary, note=self.note)
        return data


class Hits(list[Hit]):
    """The hits, best first, and whether the dense half took part (`DENSE_USED`) or why it did not."""

    def __init__(self, hits: list[Hit], dense: str) -> None:
        super().__init__(hits)
        self.dense = dense

    def to_json(self) -> list[dict[str, Any]]:
        """The `search --json` contract: one object per hit, each saying whether dense search ran."""
        return [dict(hit.to_json(), dense=self.dense) for hit in self]


_threads_lock = threading.Lock()
_default_threads: int | None = None


def _query_vector(model: str, query: str) -> np.ndarray:
    """The question's embedding, computed with one intra-op thread.

    A question is a few dozen tokens: splitting each of the model's ~100 small matrix products across
    cores gains little (idle 2-core machine: 12 ms with torch's default 2 threads, 14 ms with one), and
    when the cores are busy (other requests, an ingest, other processes) every split waits for a
    descheduled worker: at load ~4, p95 270–550 ms with 2 threads against 30–40 ms with one
    (bench/search_scale.py).

    torch applies the setting to the calling thread (OpenMP/MKL per-thread settings); it also records it
    as the value a thread copies when it first uses torch, so it is reset to the process default at once
    (not to this thread's previous value, which may itself be a copied 1). A thread whose first torch call
    falls inside those few milliseconds keeps one thread, which only makes a background re-index share the
    cores with the searches it overlaps.
    """
    import torch

    from calculator.search.embedding import get_embedder

    global _default_threads
    with _threads_lock:
        if _default_threads is None:  # before any query lowered it
            _default_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return get_embedder(model).encode_query(query)
    finally:
        torch.set_num_threads(_default_threads)


def search(query: str, k: int = 5, timings: dict[str, float] | None = None) -> Hits:
    """The `k` best passages for `query`, best first (`Hits.dense` says whether dense search ran).

    `timings`, when given, receives the seconds spent per stage (lexical, embed, dense, fusion — the last
    includes opening the index and building hits), so a slow query can be explained (bench/search_scale.py).
    """
    query = (query or "").strip()
    if not query:
        raise UserError("问题不能为空", "the question is empty")
    if k < 1:
        raise UserError("k 必须是正整数", "k must be a positive integer")
    started = time.perf_counter()
    query = query[:MAX_QUERY_CHARS]
    index = open_index()
    weights = fusion_weights(index.model)
    lexical_started = time.perf_counter()
    lexical = reranked(query, index.lexical.top(get_lexicon().query_terms(query), CANDIDATES), index.passages)
    embed_started = time.perf_counter()
    plan = dense_plan(query, index.model)
    vector = _query_vector(index.model, query) if plan == DENSE_USED else None
    dense_started = time.perf_counter()
    dense = index.dense_rows(vector, CANDIDATES) if vector is not None else []
    fusion_started = time.perf_counter()
    fused: dict[int, float] = {}
    for rank, (row, _) in enumerate(lexical, 1):
        fused[row] = fused.get(row, 0.0) + weights.lexical / (weights.k + rank)
    for rank, row in enumerate(dense, 1):
        fused[row] = fused.get(row, 0.0) + weights.dense / (weights.k + rank)
    lexical_rank = {row: (rank, score) for rank, (row, score) in enumerate(lexical, 1)}
    dense_rank = {row: rank for rank, row in enumerate(dense, 1)}
    best = sorted(fused, key=lambda row: (-fused[row], row))[:k]
    hits = []
    for row in best:
        p = index.passages[row]
        lex = lexical_rank.get(row)
        hits.append(Hit(p["passage_id"], p["doc_id"], p["doc_title"], p["doc_number"], p["kind"], p["locator"],
                        p["text"], p["start"], p["end"], round(fused[row], 6), round(lex[1], 4) if lex else 0.0,
                        lex[0] if lex else None, dense_rank.get(row)))
    if timings is not None:
        finished = time.perf_counter()
        timings.update(lexical=embed_started - lexical_started, embed=dense_started - embed_started,
                       dense=fusion_started - dense_started,
                       fusion=(finished - fusion_started) + (lexical_started - started))
    return Hits(hits, plan)
