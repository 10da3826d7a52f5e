"""Cited answers to free questions: from the policy catalog when the question names an item, else extractive.

Every statement carries its citation as [n], and every citation's quote is text taken verbatim from a
document: a catalog clause (verified at catalog load) or a sentence of a retrieved passage (cut from
the passage, whose offsets point into the document). Nothing is generated, so nothing can be invented.
When no passage covers the question (calculator/relevance.py) the answer says so plainly and cites
nothing: a wrong citation is worse than none. The optional LLM (calculator/llm.py) may rephrase an
answer afterwards; it never adds a citation.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from calculator.core.errors import UserError
from calculator.core.vocabulary import ELIGIBLE, LEVEL_LABEL, NEED_INFO, OUTCOME_MARK, citation_line
from calculator.core.wording import message
from calculator.search.relevance import RELEVANCE_MIN, QuestionTerms, normalise, question_terms

if TYPE_CHECKING:  # answers read a catalog and a match report they are handed (or load the defaults)
    from calculator.policy.catalog import Catalog, Policy
    from calculator.policy.match import MatchReport, PolicyResult
    from calculator.search.retrieve import Hit

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500      # a question longer than this is cut (the retriever reads 2,000 at most)
MAX_POLICIES = 3              # catalog items shown in full; more are listed by title
MAX_PASSAGES = 3              # retrieved passages quoted in an extractive answer
MAX_QUOTE_CHARS = 180         # a quoted sentence is cut (still verbatim: a prefix) beyond this
CLOSE_TO_BEST = 0.2           # passages (and item titles) this far below the best one's coverage are left out
DISTINCTIVE_TITLES = 3        # a title word shared by more items than this does not name an item
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
_LIST_MARK = re.compile(r"^[\s\-•·*]+")
_LINE_BREAK = re.compile(r"\s*\n[\s\-•·*]*")


@dataclass
class Answer:
    """The `ask --json` contract: {answer, found, citations}, plus the catalog items it speaks of."""

    answer: str
    found: bool
    citations: list[dict[str, Any]]
    policies: list[str] = field(default_factory=list)
    dense: str = ""          # "used", or why retrieval skipped dense search (search/readable.py)

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.answer, "found": self.found, "citations": self.citations, "policies": self.policies,
                "dense": self.dense}


class _Citations:
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


def _condition_citations(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """A condition's clause, or, for a group that cites none itself (上年度未裁员或裁员率…), its parts' clauses."""
    if condition.get("citation"):
        return [condition["citation"]]
    return [c for child in condition.get("children", []) for c in _condition_citations(child)]


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


def _card_text(policy: Policy) -> str:
    item = policy.item
    conditions = " ".join(n.text for n in policy.conditions.walk() if getattr(n, "text", ""))
    return " ".join([item.title, item.benefit, item.apply.how, " ".join(item.apply.materials), conditions, *item.tags])


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
        card = _card_text(policy)
        coverage = terms.coverage(card)
        if coverage >= RELEVANCE_MIN and not terms.places_missing_from(card):
            docs = _cited_docs(policy)
            rank = next((i for i, hit in enumerate(hits) if hit.doc_id in docs), len(hits))
            scored.append((terms.coverage(policy.title), coverage, rank, policy))
    best = max((s[0] for s in scored), default=0.0)
    scored = [s for s in scored if s[0] >= best - CLOSE_TO_BEST]
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    return [s[3] for s in scored]


# ---------------------------------------------------------------- passages

@dataclass(frozen=True)
class _Quote:
    text: str
    start: int      # offsets into the passage text
    end: int


def _sentences(text: str) -> list[_Quote]:
    out = []
    for m in _SENTENCE.finditer(text):
        raw = m.group()
        mark = _LIST_MARK.match(raw)
        lead = len(mark.group()) if mark else 0
        body = raw[lead:].rstrip()
        if len(body.strip()) >= 4:
            out.append(_Quote(body, m.start() + lead, m.start() + lead + len(body)))
    return out


def _best_quote(hit: Hit, terms: QuestionTerms) -> _Quote:
    """The passage's sentence that covers most of the question (a short one keeps its successor)."""
    sentences = _sentences(hit.text) or [_Quote(hit.text.strip(), 0, len(hit.text.strip()))]
    scores = [terms.coverage(s.text) for s in sentences]
    i = max(range(len(sentences)), key=lambda n: (scores[n], -n))
    quote = sentences[i]
    if len(quote.text) < 40 and i + 1 < len(sentences):
        following = sentences[i + 1]
        quote = _Quote(hit.text[quote.start:following.end], quote.start, following.end)
    if len(quote.text) > MAX_QUOTE_CHARS:
        quote = _Quote(quote.text[:MAX_QUOTE_CHARS], quote.start, quote.start + MAX_QUOTE_CHARS)
    return quote


def _passage_citation(hit: Hit, quote: _Quote) -> dict[str, Any]:
    return {"doc_id": hit.doc_id, "doc_title": hit.doc_title, "doc_number": hit.doc_number, "locator": hit.locator,
            "quote": quote.text, "summary": hit.is_summary, "note": hit.note,
            "start": hit.start + quote.start, "end": hit.start + quote.end, "passage_id": hit.passage_id}


def relevant_hits(hits: list[Any], terms: QuestionTerms) -> list[Any]:
    """Hits that cover the question (RELEVANCE_MIN) and come close to the best one, in retrieval order;
    none when the question names a place the best of them does not mention."""
    scored = [(terms.coverage(f"{h.doc_title} {h.locator} {h.text}"), h) for h in hits]
    best = max((s for s, _ in scored), default=0.0)
    if best < RELEVANCE_MIN:
        return []
    kept = [h for s, h in scored if s >= RELEVANCE_MIN and s >= best - CLOSE_TO_BEST]
    return [h for h in kept if not terms.places_missing_from(f"{h.doc_title} {h.text}")]


# ---------------------------------------------------------------- wording

def _status_line(result: PolicyResult) -> str:
    if result.status == ELIGIBLE:
        amount = f"，{result.amount_text}" if result.amount_text else ""
        return f"按您目前提供的信息：✅ 符合{amount}"
    if result.status == NEED_INFO:
        return f"按您目前提供的信息：❓ 还需补充 {'、'.join(result.missing_labels)}"
    reason = result.validity_condition["detail"] if result.validity_condition else next(
        (t.text for t in result.conditions if t.outcome == "not_met"), "")
    near = f"（{result.near_miss}）" if result.near_miss else ""
    return f"按您目前提供的信息：❌ 不符合{('：' + reason) if reason else ''}{near}"


def _policy_card(result: PolicyResult, catalog: Catalog, cites: _Citations, profile_known: bool) -> list[str]:
    data = result.to_json(catalog)
    item = result.policy.item
    lines = [f"**{item.title}**（{LEVEL_LABEL.get(item.level, item.level)}｜{item.mode}｜{item.department}）",
             f"- 优惠内容：{item.benefit}{cites.marks(data['citations'][:3])}"]
    conditions = [c for c in data["conditions"] if c.get("id") != "validity"]
    if conditions:
        lines.append("- 主要条件：")
        for c in conditions[:6]:
            mark = f"{OUTCOME_MARK.get(c['outcome'], '')} " if profile_known else ""
            lines.append(f"  - {mark}{c['text']}{cites.marks(_condition_citations(c))}")
    how = [item.apply.how]
    if item.apply.materials:
        how.append("需准备：" + "、".join(item.apply.materials))
    if item.apply.deadline:
        how.append("时限：" + item.apply.deadline)
    if item.apply.where:
        how.append("办理地点：" + item.apply.where)
    lines.append(f"- 办理（政策目录整理，以主管部门办事指南为准）：{'；'.join(how)}")
    validity = data["validity"]
    if validity["from"] or validity["until"]:
        expired = "（已到期）" if data["expired"] else ""
        lines.append(f"- 有效期：{validity['from'] or '—'} 至 {validity['until'] or '—'}{expired}")
    if profile_known:
        lines.append(f"- {_status_line(result)}")
    caveat = item.caveat or data["caveat"]   # the item's own words; the results panel lists every caveat
    if caveat:
        lines.append(f"- ⚠ {caveat}")
    return lines


def _passage_lines(hits: list[Any], terms: QuestionTerms, cites: _Citations) -> list[str]:
    lines = []
    for hit in hits:
        quote = _best_quote(hit, terms)
        cut = "…" if quote.end - quote.start >= MAX_QUOTE_CHARS else ""
        source = citation_line(hit.doc_title, hit.doc_number, hit.locator, hit.is_summary)
        shown = _LINE_BREAK.sub(" ", quote.text.strip())   # one Markdown line; the citation keeps the original
        lines.append(f"- {source}：“{shown}{cut}”{cites.marks([_passage_citation(hit, quote)])}")
    return lines


def _not_found(places: list[str]) -> Answer:
    text = message("not_found")
    if places:
        text = message("out_of_scope_place", places="、".join(dict.fromkeys(places))) + "\n\n" + text
    return Answer(text, False, [])


# ---------------------------------------------------------------- the entry point

def ask(question: str, profile: Any = None, k: int = 5, today: date | None = None,
        report: MatchReport | None = None, catalog: Catalog | None = None) -> Answer:
    """Answer `question` from the knowledge base with citations, or say plainly that it has no answer.

    `profile` (a mapping or Profile; optional) adds the enterprise's current status to each catalog
    item the question names; `report`, when the caller already matched that profile, saves the work
    (and brings its catalog). Without either, the configured catalog is loaded.
    """
    from calculator.search.retrieve import search

    question = (question or "").strip()
    if not question:
        raise UserError("问题不能为空", "the question is empty")
    if len(question) > MAX_QUESTION_CHARS:  # answered from its beginning, and the answer says so
        answer = ask(question[:MAX_QUESTION_CHARS], profile=profile, k=k, today=today, report=report, catalog=catalog)
        answer.answer = f"{message('question_truncated', chars=MAX_QUESTION_CHARS)}\n\n{answer.answer}"
        return answer
    started = time.perf_counter()
    terms = question_terms(question)
    hits = search(question, k=k)
    catalog = catalog or (report.catalog if report is not None else _configured_catalog())
    policies = named_policies(terms, catalog, hits)
    passages = relevant_hits(hits, terms)
    if not policies and not passages:
        log.info("ask: not found (%d hits, %.0f ms)", len(hits), (time.perf_counter() - started) * 1000)
        answer = _not_found(list(terms.foreign_places))
        answer.dense = hits.dense
        return answer
    cites = _Citations()
    lines: list[str] = []
    if policies:
        if report is None:
            from calculator.policy.match import match_profile

            report = match_profile(profile if profile is not None else {}, catalog=catalog, today=today)
        known = bool(report.profile.model_dump(exclude_none=True))
        for policy in policies[:MAX_POLICIES]:
            lines += _policy_card(report.result(policy.id), catalog, cites, known) + [""]
        if len(policies) > MAX_POLICIES:
            lines += ["另有相关政策：" + "、".join(p.title for p in policies[MAX_POLICIES:]), ""]
        passages = passages[:MAX_PASSAGES - 1]
        if passages:
            lines.append("相关条文：")
    else:
        passages = passages[:MAX_PASSAGES]
        lines.append("知识库中与您的问题最相关的条文：")
    lines += _passage_lines(passages, terms, cites)
    log.info("ask: found (%d items, %d passages, %.0f ms)", len(policies), len(passages),
             (time.perf_counter() - started) * 1000)
    return Answer("\n".join(lines).strip(), True, cites.items, [p.id for p in policies[:MAX_POLICIES]], hits.dense)


def _configured_catalog() -> Catalog:
    from calculator.policy.catalog import load_catalog

    return load_catalog()


def warm_up() -> None:
    """Load the embedding model, the index, the catalog and the POS tagger before the first user arrives."""
    from calculator.search.relevance import warm_up as relevance_warm_up

    try:
        ask("高新技术企业有什么优惠？")
    except UserError as exc:       # no index yet: the first question will say so
        log.warning("warm-up skipped: %s", exc.en)
        return
    relevance_warm_up()
