"""Hybrid search: lexical BM25 and dense vectors fused by weighted reciprocal-rank fusion.

Both halves always contribute candidates: there is no score threshold that could silently empty one of
them. The weights are settings; with the bundled English model (which reads little Chinese) the lexical
half leads by default. Each hit keeps its lexical score and both ranks, so a caller (the answer module)
can tell a strong match from a weak one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LangChainDocument
from langchain_core.retrievers import BaseRetriever

from calculator.config import BUNDLED_MODEL, get_settings
from calculator.documents import SUMMARY_NOTE
from calculator.errors import UserError
from calculator.index import open_index
from calculator.lexical import MAX_QUERY_CHARS, get_lexicon

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
class Hit:
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

    @property
    def is_summary(self) -> bool:
        return self.kind == "summary"

    @property
    def note(self) -> str:
        return SUMMARY_NOTE if self.is_summary else ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(summary=self.is_summary, note=self.note)
        return data


def search(query: str, k: int = 5) -> list[Hit]:
    """The `k` best passages for `query`, best first."""
    query = (query or "").strip()
    if not query:
        raise UserError("问题不能为空", "the question is empty")
    if k < 1:
        raise UserError("k 必须是正整数", "k must be a positive integer")
    query = query[:MAX_QUERY_CHARS]
    index = open_index()
    weights = fusion_weights(index.model)
    lexical = index.lexical.top(get_lexicon().query_terms(query), CANDIDATES)

    from calculator.embedding import get_embedder

    dense = index.dense_rows(get_embedder(index.model).encode_query(query), CANDIDATES)
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
    return hits


class PolicyRetriever(BaseRetriever):
    """`search` as a LangChain retriever: Documents whose metadata carry provenance and scores."""

    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LangChainDocument]:
        return [LangChainDocument(page_content=hit.text, id=hit.passage_id,
                                  metadata={key: value for key, value in hit.to_json().items() if key != "text"})
                for hit in search(query, self.k)]
