"""Lexical retrieval: jieba tokens with a domain dictionary, BM25 as a sparse matrix, synonyms at query time.

The offline embedding model barely reads Chinese (DESIGN.md), so this half carries retrieval. BM25
weights are precomputed into a passages × terms CSC matrix: a query reads one column per query term
and adds it into a score vector with numpy, which stays in milliseconds at 100k passages (no Python
loop over passages; see bench/ingest_search.py). scipy builds the matrix at ingest; a query only reads
its three arrays, so a cold `search` never imports scipy (0.8 s here).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from calculator.core.config import get_settings
from calculator.core.wording import chat_words

K1 = 1.2
B = 0.75
SYNONYM_WEIGHT = 0.4        # an expanded term counts less than a word the user actually wrote
MAX_QUERY_CHARS = 2000      # longer questions are truncated: bounded time for any input
LEXICON_FILES = ("jieba_dict.txt", "stopwords.txt", "synonyms.yaml")  # changed → passages re-tokenised
_KEEP = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class Lexicon:
    """Tokenizer and query expansion, built from the data files in knowledge/data/."""

    tokenizer: Any               # jieba.Tokenizer with the domain dictionary (jieba has no type hints)
    stopwords: frozenset[str]
    synonyms: dict[str, tuple[str, ...]]
    fingerprint: str             # changes when the tokens of indexed passages would change
    question_words: frozenset[str] = frozenset()   # 现在, 多少, 能不能: how a question is asked, not what about
    domain_words: frozenset[str] = frozenset()     # dictionary and synonym words (安家补贴): not places

    def tokenize(self, text: str) -> list[str]:
        """NFKC, lower case, jieba search-mode words (long words and their parts), no stopwords or punctuation."""
        text = unicodedata.normalize("NFKC", text).lower()
        return [token for token in (t.strip() for t in self.tokenizer.cut_for_search(text))
                if token and token not in self.stopwords and _KEEP.search(token)]

    def query_terms(self, query: str) -> list[dict[str, float]]:
        """The question as concepts: each of its words alone, or, for a phrase with synonyms, the phrase's
        words together with the synonyms' words (lower weight) as alternatives of one concept."""
        query = unicodedata.normalize("NFKC", query[:MAX_QUERY_CHARS]).lower()
        own = self.tokenize(query)
        groups: list[dict[str, float]] = []
        grouped: set[str] = set()
        for phrase, others in self.synonyms.items():
            # one character ("地", "厂") must be a word of its own, or it would fire inside other words
            if phrase not in query or (len(phrase) == 1 and phrase not in own):
                continue
            group = {token: 1.0 for token in self.tokenize(phrase)}
            for other in others:
                for token in self.tokenize(other):
                    group.setdefault(token, SYNONYM_WEIGHT)
            grouped.update(t for t, w in group.items() if w == 1.0)
            groups.append(group)
        singles = [{token: 1.0} for token in dict.fromkeys(own)
                   if token not in grouped and token not in self.question_words]
        return singles + groups


def _data_dir() -> Path:
    return get_settings().tables_dir


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    """phrase → terms to add: every member of an `equivalent` group, plus one-way `colloquial` entries."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    data = data or {}
    expansions: dict[str, list[str]] = {}

    def norm(word: object) -> str:
        return unicodedata.normalize("NFKC", str(word)).lower()

    for group in data.get("equivalent", []):
        members = [norm(m) for m in group]
        for member in members:
            expansions.setdefault(member, []).extend(m for m in members if m != member)
    for phrase, targets in (data.get("colloquial") or {}).items():
        expansions.setdefault(norm(phrase), []).extend(norm(t) for t in targets)
    return {phrase: tuple(dict.fromkeys(t for t in terms if t != phrase)) for phrase, terms in expansions.items()}


@lru_cache(maxsize=4)
def _lexicon(data_dir: Path) -> Lexicon:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    synonyms = _synonyms(data_dir / "synonyms.yaml")
    domain_words: set[str] = set()     # the knowledge folder's own words: never read as a foreign place
    for phrase, others in synonyms.items():
        for word in (phrase, *others):  # short forms and colloquial words must stay whole words
            tokenizer.add_word(word)
            domain_words.add(word)
    for line in _read_lines(data_dir / "jieba_dict.txt"):
        word, *rest = line.split()
        tokenizer.add_word(word, freq=int(rest[0]) if rest and rest[0].isdigit() else None)
        if "ns" not in rest:
            domain_words.add(unicodedata.normalize("NFKC", word).lower())
    stopwords = frozenset(_read_lines(data_dir / "stopwords.txt"))
    digest = hashlib.sha256()
    for name in LEXICON_FILES:  # synonyms count too: their words join the dictionary
        path = data_dir / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    question_words = frozenset(unicodedata.normalize("NFKC", str(w)).lower() for w in chat_words()["question_words"])
    return Lexicon(tokenizer, stopwords, synonyms, digest.hexdigest()[:16], question_words, frozenset(domain_words))


def get_lexicon() -> Lexicon:
    """The process-wide lexicon for the configured knowledge folder."""
    return _lexicon(_data_dir().resolve())


@dataclass(frozen=True)
class ColumnMatrix:
    """A compressed-sparse-column matrix as its three arrays (scipy's layout): what a query reads."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]


class LexicalIndex:
    """BM25 over passages: `matrix[row, term]` holds the precomputed BM25 weight of term in passage row."""

    def __init__(self, vocabulary: list[str], matrix: ColumnMatrix) -> None:
        self.vocabulary = vocabulary
        self.term_ids = {term: i for i, term in enumerate(vocabulary)}
        self.matrix = matrix

    @property
    def size(self) -> int:
        return self.matrix.shape[0]

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> LexicalIndex:
        from scipy import sparse

        term_ids: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for row, tokens in enumerate(token_lists):
            for token in tokens:
                cols.append(term_ids.setdefault(token, len(term_ids)))
                rows.append(row)
        n_rows, n_terms = len(token_lists), max(len(term_ids), 1)
        tf = sparse.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                               shape=(n_rows, n_terms)).tocsr()
        tf.sum_duplicates()
        lengths = np.asarray([len(tokens) for tokens in token_lists], dtype=np.float32)
        norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()) if n_rows else 1.0, 1.0))
        df = np.bincount(tf.indices, minlength=n_terms).astype(np.float32)
        idf = np.log1p((n_rows - df + 0.5) / (df + 0.5)).astype(np.float32)
        row_of_value = np.repeat(np.arange(n_rows), np.diff(tf.indptr))
        values = tf.data
        tf.data = (idf[tf.indices] * values * (K1 + 1) / (values + norm[row_of_value])).astype(np.float32)
        vocabulary = [""] * n_terms
        for term, i in term_ids.items():
            vocabulary[i] = term
        csc = tf.tocsc()
        return cls(vocabulary, ColumnMatrix(csc.data, csc.indices, csc.indptr, (n_rows, n_terms)))

    def scores(self, concepts: list[dict[str, float]]) -> np.ndarray:
        """BM25 with coordination: per concept its best weighted term, summed, times the share of concepts
        the passage matches. Short questions name few things; a passage that has all of them beats one
        that repeats a single word many times."""
        total = np.zeros(self.size, dtype=np.float32)
        matched = np.zeros(self.size, dtype=np.float32)
        known_concepts = 0
        data, indices, indptr = self.matrix.data, self.matrix.indices, self.matrix.indptr
        for concept in concepts:
            columns = [(self.term_ids[t], w) for t, w in concept.items() if t in self.term_ids]
            if not columns:
                continue
            known_concepts += 1
            best = np.zeros(self.size, dtype=np.float32) if len(columns) > 1 else total
            for column, weight in columns:
                rows = indices[indptr[column]:indptr[column + 1]]
                values = data[indptr[column]:indptr[column + 1]] * np.float32(weight)
                if best is total:
                    total[rows] += values
                    matched[rows] += 1
                else:
                    best[rows] = np.maximum(best[rows], values)
            if best is not total:
                total += best
                matched += best > 0
        if known_concepts:
            total *= matched / known_concepts
        return total

    def top(self, concepts: list[dict[str, float]], n: int) -> list[tuple[int, float]]:
        """(row, score) of the best `n` passages with a positive score, best first."""
        scores = self.scores(concepts)
        n = min(n, int(np.count_nonzero(scores > 0)))
        if n <= 0:
            return []
        rows = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [(int(r), float(scores[r])) for r in rows]

    def save(self, path: Path) -> None:
        m = self.matrix
        with open(path, "wb") as handle:
            np.savez(handle, data=m.data, indices=m.indices, indptr=m.indptr, shape=np.asarray(m.shape),
                     vocabulary=np.asarray(self.vocabulary, dtype=str))

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        with np.load(path, allow_pickle=False) as npz:
            rows, columns = (int(n) for n in npz["shape"])
            matrix = ColumnMatrix(npz["data"], npz["indices"], npz["indptr"], (rows, columns))
            return cls(npz["vocabulary"].tolist(), matrix)

