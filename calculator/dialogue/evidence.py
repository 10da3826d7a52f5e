"""What an answer may show: the catalog items a question names, the passages that cover it, the sentence of a
passage that answers it, and the numbering of citations.

Every quote is text taken verbatim from a document: a catalog clause (verified when the catalog loads) or
a sentence of a retrieved passage (cut from the passage, whose offsets point into the document).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from calculator.core.textnorm import normalise

if TYPE_CHECKING:  # the question's terms and the hits are handed in: search is imported only where it runs
    from calculator.core.asked import Asked
    from calculator.policy.catalog import Catalog, Policy
    from calculator.search.relevance import QuestionTerms
    from calculator.search.retrieve import Hit

MAX_QUOTE_CHARS = 180         # a quoted sentence is cut (still verbatim: a prefix) beyond this
CLOSE_TO_BEST = 0.2           # passages (and item titles) this far below the best one's coverage are left out
DISTINCTIVE_TITLES = 3        # a title word shared by more items than this does not name an item
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
_LIST_MARK = re.compile(r"^[\s\-•·*]+")


class Citations:
    """Numbered citations in order of first use; the same quote from the same document keeps its number."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._numbers: dict[tuple[str, str], int] = {}

    def number(self, citation: dict[str, Any]) -> int:
        key = (citation["doc_id"], normalise(citation["quote"]))
        if key not in self._numbers:
            self.items.append(citation)
            self._numbers[key] = len(self.items)
        return self._numbers[key]

    def marks(self, citations: Iterable[dict[str, Any] | None]) -> str:
        return "".join(f"[{n}]" for n in dict.fromkeys(self.number(c) for c in citations if c))


# ---------------------------------------------------------------- catalog items named by the question

def _title_words(title: str) -> set[str]:
    from calculator.search.lexical import get_lexicon

    lexicon = get_lexicon()
    words = {normalise(w) for w in lexicon.tokenizer.lcut(title, HMM=False)}
    return {w for w in words if len(w) > 1 and re.search(r"[\u4e00-\u9fff]", w) and w not in lexicon.stopwords}


_names_cache: dict[int, tuple[Catalog, dict[str, frozenset[str]]]] = {}


def _policy_names(catalog: Catalog) -> dict[str, frozenset[str]]:
    """policy id → the words of its title that name it (稳岗返还, 高新技术企业, 六税两费 …).

    A word in more than DISTINCTIVE_TITLES titles (企业所得税) names a kind of benefit, not an item.
    """
    cached = _names_cache.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    words = {p.id: _title_words(p.title) for p in catalog.policies}
    shared: dict[str, int] = {}
    for found in words.values():
        for word in found:
            shared[word] = shared.get(word, 0) + 1
    names = {pid: frozenset(w for w in found if shared[w] <= DISTINCTIVE_TITLES) for pid, found in words.items()}
    _names_cache.clear()
    _names_cache[id(catalog)] = (catalog, names)
    return names


def card_text(policy: Policy) -> str:
    """An item's words that say what it is about: how well it covers a question."""
    item = policy.item
    conditions = " ".join(n.text for n in policy.conditions.walk() if getattr(n, "text", ""))
    return " ".join([item.title, item.benefit, item.apply.how, " ".join(item.apply.materials), conditions, *item.tags])


def shown_text(policy: Policy) -> str:
    """Everything an item's card shows (with where, when and until): what it can answer."""
    item = policy.item
    until = f"有效期至{item.validity.until.isoformat()}" if item.validity.until else ""
    return " ".join([card_text(policy), item.apply.where, item.apply.deadline, until])


def part_text(policy: Policy, aspect: str) -> str:
    """The part of an item's card that answers `aspect` (shown first when that aspect is asked)."""
    item = policy.item
    if aspect == "condition":
        return " ".join(n.text for n in policy.conditions.walk() if getattr(n, "text", ""))
    if aspect == "procedure":
        return f"{item.apply.how} {item.apply.where}"
    if aspect == "office":
        return item.department
    return item.benefit   # amount, time (五个工作日内办结), list: the benefit says it, or the item does not lead


def _cited_docs(policy: Policy) -> set[str]:
    return {c.doc_id for c in policy.citations} | {n.cite.doc for n in policy.conditions.walk() if n.cite is not None}


def named_policies(terms: QuestionTerms, catalog: Catalog, hits: list[Any]) -> list[Policy]:
    """Catalog items the question is about, best first.

    An item qualifies when one of the question's words (or a synonym) is a distinctive word of its
    title and the item's text covers the question as well as a passage would have to. Of those, only
    the items whose titles cover the question about as well as the best title are kept ("研发费用加计扣除"
    is about 研发费用 first, not every 加计扣除); ties go to the item whose documents retrieval ranked higher.
    """
    said = {form for concept in terms.concepts for form in concept.forms}
    names = _policy_names(catalog)
    scored: list[tuple[float, float, int, Policy]] = []
    for policy in catalog.policies:
        if not names[policy.id] & said:
            continue
        card = card_text(policy)
        coverage = terms.coverage(card)
        if coverage >= terms.enough and not terms.places_missing_from(card):
            docs = _cited_docs(policy)
            rank = next((i for i, hit in enumerate(hits) if hit.doc_id in docs), len(hits))
            scored.append((terms.coverage(policy.title), coverage, rank, policy))
    best = max((s[0] for s in scored), default=0.0)
    scored = [s for s in scored if s[0] >= best - CLOSE_TO_BEST]
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    return [s[3] for s in scored]


# ---------------------------------------------------------------- passages

@dataclass(frozen=True)
class Quote:
    text: str
    start: int      # offsets into the passage text
    end: int
    cut: bool = False   # the sentence went on past MAX_QUOTE_CHARS


def sentences(text: str) -> list[Quote]:
    out = []
    for m in _SENTENCE.finditer(text):
        raw = m.group()
        mark = _LIST_MARK.match(raw)
        lead = len(mark.group()) if mark else 0
        body = raw[lead:].rstrip()
        if len(body.strip()) >= 4:
            out.append(Quote(body, m.start() + lead, m.start() + lead + len(body)))
    return out


def _bounded(hit: Hit, quote: Quote, following: Quote | None) -> Quote:
    if following is not None and len(quote.text) < 40:   # a short sentence keeps its successor
        quote = Quote(hit.text[quote.start:following.end], quote.start, following.end)
    if len(quote.text) > MAX_QUOTE_CHARS:
        quote = Quote(quote.text[:MAX_QUOTE_CHARS], quote.start, quote.start + MAX_QUOTE_CHARS, cut=True)
    return quote


def best_quote(hit: Hit, terms: QuestionTerms, asked: Asked | None = None) -> Quote:
    """The passage's sentence that covers most of the question; among those close to the best, one that holds
    what the question asks for (the number for "多少", the date for "什么时候") comes first."""
    found = sentences(hit.text) or [Quote(hit.text.strip(), 0, len(hit.text.strip()))]
    scores = [terms.coverage(s.text) for s in found]
    top = max(scores)
    holds = [asked is not None and bool(asked.aspects) and asked.held_by(s.text) for s in found]
    i = max(range(len(found)), key=lambda n: (scores[n] >= top - CLOSE_TO_BEST and holds[n], scores[n], -n))
    return _bounded(hit, found[i], found[i + 1] if i + 1 < len(found) else None)


def mention_quote(hit: Hit, names: list[str]) -> tuple[Quote, str] | None:
    """The passage's first sentence naming the first of `names` (longest first) that it names at all."""
    found = sentences(hit.text)
    for name in names:
        for i, sentence in enumerate(found):
            if name in normalise(sentence.text):
                return _bounded(hit, sentence, found[i + 1] if i + 1 < len(found) else None), name
    return None


def relevant_hits(hits: list[Any], terms: QuestionTerms) -> list[Any]:
    """Hits that cover the question (`terms.enough`) and come close to the best one, in retrieval order;
    none when the question names a place the best of them does not mention."""
    scored = [(terms.coverage(f"{h.doc_title} {h.locator} {h.text}"), h) for h in hits]
    best = max((s for s, _ in scored), default=0.0)
    if best < terms.enough:
        return []
    kept = [h for s, h in scored if s >= terms.enough and s >= best - CLOSE_TO_BEST]
    return [h for h in kept if not terms.places_missing_from(f"{h.doc_title} {h.text}")]
