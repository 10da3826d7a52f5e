"""Retrieval quality: ours against the two peers DESIGN.md measured, same corpus, same questions, one run.

    python -m bench retrieval_peers [--k 5] [--misses]      (--misses: every system's, held-out too)

* **LangChain tutorial** — RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50) over each
  document's text, an in-memory `langchain_chroma.Chroma`, the same embedding model through our
  LangChain adapter (`calculator.search.embedding.LangChainEmbeddings`, the configured model), dense top-k.
* **jieba BM25** — the same 500/50 chunks, plain `jieba.lcut` with jieba's default dictionary (none of
  our domain words or synonyms), Okapi BM25 with k1 1.5, b 0.75; and **jieba BM25, our passages** — the
  same over our own passages (their text only: no title, heading or synonyms), so the difference to ours is
  exactly what our lexicon, indexing and scoring add.
* **ours** — `calculator.search.retrieve.search` over the real index of knowledge/docs (data/bench/index).

Recall@1, Recall@k and MRR come from calculator/search/quality.py, as for `calculator eval retrieval` (same hit:
the question's key phrase in a returned passage after textnorm.squash), per question set; a set whose rows
carry `split` (tests/data/everyday_questions.jsonl) is reported per split, so the held-out rows, never
tuned on, stand on their own.
A 500-character chunk is ~4× longer than one of our passages, so the key-phrase test is easier for
the peers: the ratios are conservative.
"""
from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import (
    DOCS_DIR,
    bench_index,
    environment_kept,
    machine,
    question_sets,
    table,
    use_index,
)
from calculator.search.quality import Finder, Question, evaluate, our_finder, read_questions, select

CHUNK_SIZE, CHUNK_OVERLAP = 500, 50
K1, B = 1.5, 0.75
_WORD = re.compile(r"\w")   # keeps words and numbers, drops punctuation and whitespace tokens



def tutorial_chunks() -> list[str]:
    """The LangChain tutorial's split of every document's (cleaned) text."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from calculator.corpus.documents import scan_corpus

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return [chunk for doc in scan_corpus(DOCS_DIR).documents.values() for chunk in splitter.split_text(doc.text)]


def langchain_tutorial(chunks: list[str]) -> Finder:
    """Dense top-k from an in-memory Chroma filled through LangChain with our embedding adapter."""
    from langchain_chroma import Chroma

    from calculator.search.embedding import LangChainEmbeddings

    store = Chroma(collection_name="bench-langchain-tutorial", embedding_function=LangChainEmbeddings())
    store.reset_collection()  # the in-memory client is shared within a process: start empty
    store.add_texts(chunks)
    return lambda question, k: [doc.page_content for doc in store.similarity_search(question, k=k)]


class JiebaBM25:
    """Okapi BM25 over plain jieba words, idf = ln(1 + (N − df + 0.5) / (df + 0.5)) (never negative).

    A query word counts once per occurrence, as rank-bm25 does; passages without any query word are not
    returned. Punctuation and whitespace tokens are dropped on both sides, which only helps this peer.
    """

    def __init__(self, chunks: list[str]) -> None:
        import jieba

        self.tokenizer = jieba.Tokenizer()   # jieba's default dictionary, untouched by our lexicon
        self.chunks = chunks
        counts = [Counter(self.words(chunk)) for chunk in chunks]
        self.vocabulary = {word: i for i, word in enumerate(sorted({w for c in counts for w in c}))}
        self.tf = np.zeros((len(chunks), len(self.vocabulary)), dtype=np.float32)
        for row, count in enumerate(counts):
            for word, n in count.items():
                self.tf[row, self.vocabulary[word]] = n
        lengths = self.tf.sum(axis=1)
        self.norm = K1 * (1 - B + B * lengths / lengths.mean())
        df = (self.tf > 0).sum(axis=0)
        self.idf = np.log1p((len(chunks) - df + 0.5) / (df + 0.5))

    def words(self, text: str) -> list[str]:
        return [word for word in self.tokenizer.lcut(text) if _WORD.search(word)]

    def __call__(self, question: str, k: int) -> list[str]:
        scores = np.zeros(len(self.chunks), dtype=np.float32)
        for word in self.words(question):
            column = self.vocabulary.get(word)
            if column is not None:
                tf = self.tf[:, column]
                scores += self.idf[column] * tf * (K1 + 1) / (tf + self.norm)
        ranked = [int(row) for row in np.argsort(-scores, kind="stable")[:k] if scores[row] > 0]
        return [self.chunks[row] for row in ranked]


def our_passages() -> list[str]:
    """The texts of our own passages (the bench index), for plain BM25 over exactly the chunks ours ranks."""
    from calculator.search.index import open_index

    return [passage["text"] for passage in open_index().passages]


def ours() -> Finder:
    """`calculator.search.retrieve.search` over the bench index (built or refreshed now)."""
    use_index(bench_index())
    return our_finder()


def labelled_sets(paths: dict[str, Path]) -> dict[str, list[Question]]:
    """Each question file as one set, or one set per split when its rows carry `split` ("everyday heldout")."""
    sets: dict[str, list[Question]] = {}
    for name, path in paths.items():
        questions = read_questions(path)
        splits = list(dict.fromkeys(q.split for q in questions))
        if splits == [""]:
            sets[name] = questions
        else:
            sets.update({f"{name} {split or '(no split)'}": select(questions, split) for split in splits})
    return sets


def _cell(value: float, reference: float | None) -> str:
    """The metric, and for a peer how many times better ours is (ours / peer)."""
    if reference is None:
        return f"{value:.3f}"
    ratio = "∞" if value == 0 and reference > 0 else "—" if value == 0 else f"{reference / value:.1f}"
    return f"{value:.3f} (ours ×{ratio})"


def run(k: int = 5, show_misses: bool = False) -> None:
    sets = labelled_sets(question_sets())
    if not sets:
        raise SystemExit("no question files found (tests/data/dev_questions.jsonl, retrieval_extra.jsonl, everyday_questions.jsonl)")
    print(machine(), flush=True)
    chunks = tutorial_chunks()
    print(f"tutorial chunks ({CHUNK_SIZE}/{CHUNK_OVERLAP}): {len(chunks)}, "
          f"mean {sum(map(len, chunks)) / len(chunks):.0f} characters", flush=True)
    systems: dict[str, Finder] = {"ours (hybrid)": ours(),
                                  "LangChain tutorial (dense)": langchain_tutorial(chunks),
                                  "jieba BM25": JiebaBM25(chunks),
                                  "jieba BM25, our passages": JiebaBM25(our_passages())}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name, find in systems.items():
        results[name] = {label: evaluate(questions, find, k) for label, questions in sets.items()}

    metrics = ("recall@1", f"recall@{k}", "mrr")
    rows = []
    ours_name = next(iter(systems))
    for label in results[ours_name]:
        for name in systems:
            reference = None if name == ours_name else results[ours_name][label]
            got = results[name][label]
            rows.append([f"{label} ({got['questions']})", name]
                        + [_cell(got[m], None if reference is None else reference[m]) for m in metrics])
    print()
    print(table(["questions", "system", "Recall@1", f"Recall@{k}", "MRR"], rows))
    print(f"\n(\"ours ×N\": ours / peer; a hit = the key phrase in one of the top {k} passages, "
          "calculator.search.quality. Ours was tuned on dev, extra and everyday tune (fusion weights, lexicon); "
          "everyday heldout was never tuned on.)")
    for name in systems if show_misses else [ours_name]:
        for label, result in results[name].items():
            if "heldout" in label and not show_misses:
                continue   # not looked at while tuning: only its figures are printed by default
            missed = result["misses"]
            print(f"\n{name}, {label} misses ({len(missed)}): "
                  + ("; ".join(f"{m['id']} {m['q']}" for m in missed) or "none"))

def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench retrieval_peers")
    parser.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    parser.add_argument("--misses", action="store_true", help="list every system's misses (default: ours only)")
    args = parser.parse_args(argv)
    with environment_kept():
        run(args.k, args.misses)
