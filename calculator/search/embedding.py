"""Sentence embeddings from `EMBEDDING_MODEL`: the bundled all-MiniLM-L6-v2 by default, any model by name or path.

Importing sentence-transformers costs ~13 s here, so nothing is imported or loaded until the first
encode, and the loaded model is cached per process (an unchanged re-ingest never pays for it).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from calculator.core.config import BUNDLED_MODEL, get_settings
from calculator.core.errors import UserError
from calculator.search.readable import model_location

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

CHUNK = 256        # texts per progress step (large enough that sentence-transformers' length sorting pays off)
BATCH_SIZE = 32    # measured on 2 CPU cores: 32 is ~15 % faster than 64 for passages of a few hundred characters


class Embedder:
    """One sentence-transformers model, loaded on first use; vectors are L2-normalised float32."""

    def __init__(self, name: str) -> None:
        self.name = name or BUNDLED_MODEL
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # ingest draws its own bar
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(model_location(self.name), device="cpu")
                except (OSError, ValueError) as exc:
                    raise UserError(f"无法加载向量模型“{self.name}”（本机离线，请给出本地路径或已缓存的模型名）",
                                    f"cannot load embedding model '{self.name}' (offline: give a local path "
                                    f"or a cached model name): {exc}") from exc
            return self._model

    def load(self) -> None:
        """Load now (e.g. to time loading apart from encoding, or to warm a server up)."""
        self.model  # noqa: B018 - the property loads and caches

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension() or 0)

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Batch-encode `texts`; `progress(n)` is called after every chunk of n texts."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        for offset in range(0, len(texts), CHUNK):
            chunk = texts[offset:offset + CHUNK]
            parts.append(self.model.encode(chunk, batch_size=BATCH_SIZE, normalize_embeddings=True,
                                           convert_to_numpy=True, show_progress_bar=False))
            if progress:
                progress(len(chunk))
        return np.vstack(parts).astype(np.float32, copy=False)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@lru_cache(maxsize=4)
def _embedder(name: str) -> Embedder:
    return Embedder(name)


def get_embedder(name: str | None = None) -> Embedder:
    """The process-wide embedder for `name` (default: the `EMBEDDING_MODEL` setting)."""
    return _embedder(name if name is not None else get_settings().embedding_model)


class LangChainEmbeddings(Embeddings):
    """The same model as a LangChain `Embeddings`, so LangChain vector stores and chains can use it."""

    def __init__(self, name: str | None = None) -> None:
        self.embedder = get_embedder(name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode_query(text).tolist()
