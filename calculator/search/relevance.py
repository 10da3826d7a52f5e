"""Does a retrieved passage answer the question? The gate between a cited answer and an honest "not found".

Retrieval always returns its k best passages, even for "红烧肉怎么做". Users of RAG tools complain most
about answers that cite unrelated passages, so the answer module asks, per passage, how much of the
question it covers: the question's content words (jieba with the domain dictionary; stopwords and
question words removed), each weighted by how specific it is in the corpus (BM25's IDF), less for
verbs and single characters, counted as present when the passage (with its title and locator) holds
the word, a synonym (knowledge/data/synonyms.yaml) or, for an industry alias, the industry's name.

A place the knowledge base does not cover (jieba tag `ns`, not 许昌/河南/中国 or a county of 许昌, nor a word
of the knowledge folder's own dictionary: jieba tags 安家 of 安家补贴 as a place; or one of chat_words.yaml
`other_places`, the other cities of 河南 jieba does not tag) must appear in the passage itself: "深圳的人才公寓"
is not answered by 许昌's 人才公寓.

RELEVANCE_MIN was set once on the whole question sets (tests/dialogue/test_answer.py reports the rates on the
dev and extra questions and on tests/data/questions_out_of_scope.jsonl), not per question.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from calculator.core.asked import read_question
from calculator.core.config import get_settings
from calculator.core.textnorm import normalise
from calculator.core.wording import chat_words
from calculator.corpus.tables import OUTSIDE_XUCHANG, ReferenceTables, load_tables
from calculator.search.lexical import LexicalIndex, Lexicon, get_lexicon
from calculator.search.postag import pos_cut

RELEVANCE_MIN = 0.45        # share of the question's weighted content a passage must cover
RERANK_FLOOR = 0.3          # reranking: a passage covering none of the question keeps this share of its BM25
HOLDS_BONUS = 1.3           # reranking: a passage holding what is asked (a figure for 多少) over one that only names it
_NOUN_LIKE = re.compile(r"^(n|x|j|l|i|vn|eng|s)")   # jieba tags of nouns, idioms, domain words
_VERB_FACTOR = 0.5          # verbs and adjectives say less about the topic than nouns
_SINGLE_CHAR_FACTOR = 0.3   # 交、卖、钱: colloquial, rarely the words of a legal text
_CONTENT = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class Concept:
    """One thing the question names, with the written forms that count as the passage naming it."""

    word: str
    forms: tuple[str, ...]
    weight: float
    place: bool = False


@dataclass(frozen=True)
class QuestionTerms:
    concepts: tuple[Concept, ...]
    enough: ClassVar[float] = RELEVANCE_MIN   # the coverage a text needs to count as answering

    @property
    def foreign_places(self) -> tuple[str, ...]:
        return tuple(c.word for c in self.concepts if c.place)

    def coverage(self, text: str) -> float:
        """Weighted share of the question's concepts present in `text` (0 when the question has none)."""
        total = sum(c.weight for c in self.concepts)
        if total <= 0:
            return 0.0
        norm = normalise(text)
        return sum(c.weight for c in self.concepts if any(form in norm for form in c.forms)) / total

    def places_missing_from(self, text: str) -> list[str]:
        """Places outside the covered area that the question names and `text` does not."""
        norm = normalise(text)
        return [c.word for c in self.concepts if c.place and not any(form in norm for form in c.forms)]


class _Vocabulary:
    """Document frequencies of the index's lexical terms: how specific a word is in this corpus."""

    def __init__(self, lexical: LexicalIndex) -> None:
        counts = lexical.matrix.indptr[1:] - lexical.matrix.indptr[:-1]
        self.df = {term: int(counts[i]) for term, i in lexical.term_ids.items()}
        self.size = max(int(lexical.size), 1)

    def frequency(self, word: str, lexicon: Lexicon) -> int:
        """Passages holding `word`; for a word the index never saw whole, the rarest of its parts."""
        if word in self.df:
            return self.df[word]
        parts = [self.df.get(p, 0) for p in lexicon.tokenize(word) if p != word]
        return min(parts) if parts else 0

    def idf(self, word: str, lexicon: Lexicon) -> float:
        df = self.frequency(word, lexicon)
        return math.log1p((self.size - df + 0.5) / (df + 0.5))


_vocabularies: dict[int, tuple[Any, _Vocabulary]] = {}


def _vocabulary() -> _Vocabulary:
    from calculator.search.index import open_index

    lexical = open_index().lexical
    cached = _vocabularies.get(id(lexical))
    if cached is None or cached[0] is not lexical:
        _vocabularies.clear()   # a new index generation replaces the old one
        cached = _vocabularies[id(lexical)] = (lexical, _Vocabulary(lexical))
    return cached[1]


def _alias_forms() -> dict[str, tuple[str, ...]]:
    return _alias_forms_of(load_tables(get_settings().tables_dir))


@lru_cache(maxsize=2)
def _alias_forms_of(tables: ReferenceTables) -> dict[str, tuple[str, ...]]:
    """Industry and county aliases → the names documents use (饭店 → 餐饮业, 住宿和餐饮业)."""
    forms: dict[str, tuple[str, ...]] = {}
    for name, spec in tables.industries.items():
        section = str(spec.get("section_name", ""))
        names = (name, section.replace("、", ""), *[p for p in section.split("、") if len(p) > 1])
        for alias in (name, *spec.get("aliases", ())):
            forms[normalise(str(alias))] = tuple(dict.fromkeys(normalise(n) for n in names if n))
    return forms


def _in_scope_places() -> frozenset[str]:
    return _in_scope_places_of(load_tables(get_settings().tables_dir))


@lru_cache(maxsize=2)
def _in_scope_places_of(tables: ReferenceTables) -> frozenset[str]:
    places = set(chat_words()["in_scope_places"])
    for name, aliases in tables.regions.items():
        if name != OUTSIDE_XUCHANG:
            places.update([name, *aliases])
    return frozenset(normalise(p) for p in places)


@lru_cache(maxsize=1)
def _other_places() -> frozenset[str]:
    """Places outside the covered area that jieba does not tag as places (周口 is a noun to it, 开封 a verb)."""
    return frozenset(normalise(p) for p in chat_words()["other_places"])


@lru_cache(maxsize=1)
def _question_words() -> frozenset[str]:
    return frozenset(normalise(w) for w in chat_words()["question_words"])


def _is_content(word: str, lexicon: Lexicon, vocabulary: _Vocabulary) -> bool:
    """A word about the topic: not a stopword or question word, nor an unseen variant of one (由谁来)."""
    if not _CONTENT.search(word) or word in lexicon.stopwords or word in _question_words():
        return False
    return vocabulary.frequency(word, lexicon) > 0 or not any(q in word for q in _question_words() if len(q) > 1)


def question_terms(question: str) -> QuestionTerms:
    """The question's concepts: synonym phrases first (longest wins), then the remaining jieba words."""
    lexicon = get_lexicon()
    vocabulary = _vocabulary()
    text = normalise(question)
    concepts: list[Concept] = []
    taken: list[tuple[int, int]] = []
    for phrase in sorted((p for p in lexicon.synonyms if len(p) > 1 and p in text), key=len, reverse=True):
        start = text.find(phrase)
        if any(a < start + len(phrase) and start < b for a, b in taken):
            continue
        taken.append((start, start + len(phrase)))
        if not _is_content(phrase, lexicon, vocabulary):
            continue
        forms = (phrase, *lexicon.synonyms[phrase])
        present = [vocabulary.idf(f, lexicon) for f in forms if vocabulary.frequency(f, lexicon) > 0]
        weight = vocabulary.idf(phrase, lexicon) if vocabulary.frequency(phrase, lexicon) else max(present, default=0.0)
        concepts.append(Concept(phrase, tuple(normalise(f) for f in forms), weight))
    position = 0
    for word, tag in pos_cut(lexicon.tokenizer, text):
        start, position = position, position + len(word)
        if any(a < position and start < b for a, b in taken) or not _is_content(word, lexicon, vocabulary):
            continue
        factor = 1.0 if _NOUN_LIKE.match(tag) or tag == "ns" else _VERB_FACTOR
        if len(word) == 1:
            factor *= _SINGLE_CHAR_FACTOR
        place = word in _other_places() or (tag == "ns" and word not in _in_scope_places()
                                             and word not in lexicon.domain_words)
        forms = (word, *_alias_forms().get(word, ()))
        concepts.append(Concept(word, tuple(dict.fromkeys(forms)), vocabulary.idf(word, lexicon) * factor, place))
    return QuestionTerms(tuple(concepts))


def reranked(question: str, candidates: list[tuple[int, float]], passages: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """Lexical candidates (row, BM25) re-ordered by BM25 × (RERANK_FLOOR + the question's coverage of the passage).

    BM25 counts tokens: a long notice's list items share a question's generic words (公告, 增值税, 企业) and
    outrank the clause that names what was asked. Coverage weighs the question's concepts by how specific
    they are, finds them as written or as a synonym anywhere in the passage, its heading path or its
    document's title (jieba need not cut 三十日内 and 多少天内 alike), and so lifts the passage that says
    the rare words of the question over one that repeats the common ones. A passage that holds what the
    question asks for (core/asked.py: a figure, a date, a procedure) counts HOLDS_BONUS times more."""
    if not candidates:
        return candidates
    terms = question_terms(question)
    asked = read_question(question, get_settings().today)

    def weight(row: int) -> float:
        p = passages[row]
        covered = terms.coverage(f"{p['doc_title']} {p.get('heading') or p['locator']} {p['text']}")
        holds = bool(asked.aspects) and asked.held_by(p["text"])   # the number for "多少", the date for "哪天"
        return (RERANK_FLOOR + covered) * (HOLDS_BONUS if holds else 1.0)

    scored = [(row, score * weight(row)) for row, score in candidates]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


def warm_up() -> None:
    """Load the dictionary's tags and the vocabulary now, not in the first user's turn."""
    question_terms("许昌的高新技术企业有什么优惠？")
