"""Cited answers to free questions, each saying how much of the question the knowledge base covers.

`coverage` (the `ask --json` contract, with `found`):
- **full**: a catalog item or a passage shown holds what was asked (the amount for "多少", the date for
  "什么时候" …: core/asked.py); the first two lines state it with its citation marker.
- **partial**: the knowledge base names the programme the question is about, but not what was asked
  (许昌英才计划 is named, no amounts are held; a notice that ran out before the year asked about). The
  answer names the document that mentions it, says plainly what is not held and which office to ask; it
  never presents the mention as the answer.
- **none**: nothing covers the question (another city, a consumer or personal matter, an invented
  programme), or the question instructs the assistant (invent a subsidy, ignore the rules): an honest
  "not found" or refusal, no citations.

Every statement carries its citation as [n], and every quote is verbatim (dialogue/evidence.py). Nothing is
generated, so nothing can be invented; the optional LLM (dialogue/llm.py) may rephrase afterwards and
never adds a citation.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from calculator.core.asked import Asked, is_programme, read_question
from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.core.textnorm import normalise
from calculator.core.wording import message
from calculator.dialogue.evidence import (
    Citations,
    Quote,
    best_quote,
    mention_quote,
    named_policies,
    part_text,
    relevant_hits,
    shown_text,
)
from calculator.dialogue.layout import (
    fact_lines,
    passage_citation,
    passage_line,
    related_items,
    short_card,
    shown_quote,
    source,
)
from calculator.search.relevance import QuestionTerms, question_terms

if TYPE_CHECKING:  # answers read a catalog and a match report they are handed (or load the defaults)
    from calculator.policy.catalog import Catalog, Policy
    from calculator.policy.match import MatchReport
    from calculator.search.retrieve import Hit

log = logging.getLogger(__name__)

FULL, PARTIAL, NONE = "full", "partial", "none"
NOT_SEARCHED = "skipped: the question was not searched"
MAX_QUESTION_CHARS = 500      # a question longer than this is cut (the retriever reads 2,000 at most)
MAX_POLICIES = 3              # catalog items named; one is shown as a card, the others by title
MAX_PASSAGES = 3              # retrieved passages considered for the answer
MORE_PASSAGES = 1             # passages quoted after the answer itself


@dataclass
class Answer:
    """The `ask --json` contract: {answer, found, citations, coverage}, plus the catalog items it speaks of."""

    answer: str
    found: bool
    citations: list[dict[str, Any]]
    policies: list[str] = field(default_factory=list)
    dense: str = ""          # "used", or why retrieval skipped dense search (search/readable.py)
    coverage: str = NONE     # full | partial | none

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.answer, "found": self.found, "citations": self.citations, "coverage": self.coverage,
                "policies": self.policies, "dense": self.dense}


@dataclass
class _Found:
    """What retrieval and the catalog offer for one question, before it is worded."""

    question: str
    asked: Asked
    terms: QuestionTerms
    hits: list[Any]
    policies: list[Policy]
    quotes: list[tuple[Hit, Quote]]
    report: MatchReport | None
    today: date

    @property
    def profile_known(self) -> bool:
        return self.report is not None and bool(self.report.profile.model_dump(exclude_none=True))

    def card(self, policy: Policy, cites: Citations, lead: str = "amount") -> list[str]:
        assert self.report is not None
        return short_card(self.report.result(policy.id), self.report.catalog, cites, self.profile_known, lead)


def _answer(text: str, coverage: str, cites: Citations | None = None, policies: list[Policy] | None = None) -> Answer:
    citations = cites.items if cites else []
    return Answer(text.strip(), bool(citations), citations, [p.id for p in policies or []][:MAX_POLICIES],
                  coverage=coverage)


def refusal() -> Answer:
    """The answer to a message that instructs the assistant (invent a subsidy, ignore the rules): no, and why."""
    refused = _answer(message("refused_instruction"), NONE)
    refused.dense = NOT_SEARCHED
    return refused


def _not_found(places: list[str]) -> Answer:
    text = message("not_found")
    if places:
        text = message("out_of_scope_place", places="、".join(dict.fromkeys(places))) + "\n\n" + text
    return _answer(text, NONE)


# ---------------------------------------------------------------- full

def _lead_aspect(found: _Found, policy: Policy) -> str | None:
    """The first asked aspect the item's own part answers (its benefit for 多少, its procedure for 怎么申请 …)."""
    return next((a.name for a in found.asked.aspects if a.holds.search(part_text(policy, a.name))), None)


def _full(found: _Found) -> Answer:
    """The answer itself first: the short card of the item the question names when the item's card says it,
    else the sentence that states it (a fact question gets the fact, not cards)."""
    cites = Citations()
    holding = sorted(((hit, quote) for hit, quote in found.quotes if found.asked.held_by(quote.text)),
                     key=lambda pair: -found.terms.coverage(pair[1].text))  # the sentence saying most of it first
    lead: tuple[Policy, str] | None = None
    if found.policies and not found.asked.aspects:
        lead = (found.policies[0], "amount")
    else:
        lead = next(((p, a) for p in found.policies if (a := _lead_aspect(found, p))), None)
    fact = None if lead else (holding[0] if holding else None)
    if lead is None and fact is None:   # only some other part of an item's card holds it
        lead = next(((p, "amount") for p in found.policies if found.asked.held_by(shown_text(p))), None)
    if lead is None and fact is None:
        fact = found.quotes[0]
    lines: list[str] = []
    if lead is not None:
        lines += found.card(lead[0], cites, lead[1])
        others = [p for p in found.policies if p is not lead[0]]
        shown = {normalise(c["quote"]) for c in cites.items}   # a clause the card does not already quote
        more = [(h, q) for h, q in (holding if found.asked.aspects else found.quotes) if normalise(q.text) not in shown]
    else:
        assert fact is not None
        lines += fact_lines(*fact, cites)
        others = list(found.policies)
        more = [(h, q) for h, q in holding if h is not fact[0]]
    if more:
        lines += ["相关条文："] + [passage_line(hit, quote, cites) for hit, quote in more[:MORE_PASSAGES]]
    if others and found.report is not None:
        lines.append(related_items([found.report.result(p.id) for p in others[:MAX_POLICIES - 1]], found.profile_known))
    return _answer("\n".join(lines), FULL, cites, [lead[0], *others] if lead else others)


# ---------------------------------------------------------------- partial and none

def _office(found: _Found, policy: Policy | None, mention: str = "") -> str:
    from calculator.corpus.tables import load_tables

    if policy is not None:
        return policy.item.department
    return load_tables(get_settings().tables_dir).office_for(found.question, mention)


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _item_citation(found: _Found, policy: Policy, naming: str = "") -> list[dict[str, Any]]:
    """The item's clause that names `naming` (its end year), else its first clause."""
    assert found.report is not None
    citations = found.report.result(policy.id).to_json(found.report.catalog)["citations"]
    return [next((c for c in citations if naming and naming in c["quote"]), citations[0])] if citations else []


def _partial_item(found: _Found, policy: Policy, expired_year: int | None) -> Answer:
    """The question names a catalog item whose card does not hold what was asked (or ran out before the year asked)."""
    cites = Citations()
    until = policy.item.validity.until
    marks = cites.marks(_item_citation(found, policy, f"{until.year}年" if expired_year and until else ""))
    if expired_year is not None and until is not None:
        head = message("partial_year", title=policy.item.title, until=_day(until), marks=marks, year=expired_year)
    else:
        head = message("partial_item", title=policy.item.title, marks=marks, missing=found.asked.missing_label)
    lines = [head, message("ask_office", office=_office(found, policy)), "政策目录中该项的内容如下："]
    lines += found.card(policy, cites)
    return _answer("\n".join(lines), PARTIAL, cites, [policy])


MAX_NAME_WORDS = 4            # 许昌 + 英才 + 计划: a programme's name is a short run of words ending in its kind


def _programme_names(found: _Found) -> list[str]:
    """Names of the programmes the question names, longest first: each run of up to MAX_NAME_WORDS words ending
    in a programme word (许昌英才计划, 英才计划, 计划), then that word's synonyms."""
    from calculator.search.lexical import get_lexicon

    words = [normalise(w) for w in get_lexicon().tokenizer.lcut(normalise(found.question), HMM=False)]
    concepts = {c.word: c for c in found.terms.concepts if not c.place}
    names: list[str] = []
    for end, word in enumerate(words):
        if word in concepts and is_programme(word):
            names += ["".join(words[start:end + 1]) for start in range(max(0, end - MAX_NAME_WORDS + 1), end + 1)]
            names += concepts[word].forms
    return sorted(dict.fromkeys(names), key=len, reverse=True)


def _mentioned(found: _Found) -> tuple[Hit, Quote, str] | None:
    """A retrieved passage naming a programme the question names (许昌英才计划, 人才公寓 …), with its sentence."""
    names = _programme_names(found)
    if not names:
        return None
    shown = [h for h, _ in found.quotes]
    for hit in shown + [h for h in found.hits if h not in shown]:
        mention = mention_quote(hit, names)
        if mention is not None:
            return hit, *mention
    return None


def _partial_mention(found: _Found, hit: Hit, quote: Quote, topic: str) -> Answer:
    cites = Citations()
    marks = cites.marks([passage_citation(hit, quote)])
    lines = [message("partial_mention", source=source(hit), topic=topic, marks=marks, missing=found.asked.missing_label),
             message("ask_office", office=_office(found, None, quote.text)),
             f"原文：“{shown_quote(quote)}”{marks}"]
    return _answer("\n".join(lines), PARTIAL, cites)


def _unknown_names(found: _Found) -> list[str]:
    """Quoted names (“莲城小巨人”) that no item or passage found for the question contains."""
    shown = normalise(" ".join([*(h.text for h in found.hits), *(p.item.title for p in found.policies)]))
    return [name for name in found.asked.names if normalise(name) not in shown]


def _expired_before(found: _Found) -> tuple[Policy, int] | None:
    """The named item's validity ended before the year the question asks about."""
    year = found.asked.year
    if year is None or not found.policies:
        return None
    policy = found.policies[0]
    until = policy.item.validity.until
    return (policy, year) if until is not None and until.year < year else None


def _judged(found: _Found) -> Answer:
    """full, partial or none for a question retrieval found something for."""
    unknown = _unknown_names(found)
    if unknown:
        return _answer(message("unknown_name", names="、".join(unknown)) + "\n\n" + message("not_found"), NONE)
    expired = _expired_before(found)
    if expired is not None:
        policy, year = expired
        if year > found.today.year:
            until = _day(policy.item.validity.until)  # type: ignore[arg-type]
            return _answer(message("future_year", year=year, until=until) + "\n\n" + message("not_found"), NONE)
        return _partial_item(found, policy, year)
    if any(found.asked.held_by(q.text) for _, q in found.quotes) or any(
            found.asked.held_by(shown_text(p)) for p in found.policies):
        return _full(found)
    if found.policies:
        return _partial_item(found, found.policies[0], None)
    mentioned = _mentioned(found)
    if mentioned is not None:
        return _partial_mention(found, *mentioned)
    return _not_found([])


# ---------------------------------------------------------------- the entry point

def ask(question: str, profile: Any = None, k: int = 5, today: date | None = None,
        report: MatchReport | None = None, catalog: Catalog | None = None) -> Answer:
    """Answer `question` from the knowledge base with citations and its coverage, or say plainly that it has none.

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
    day = today or (report.today if report is not None else get_settings().today)
    asked = read_question(question, day)
    if asked.instruction:   # refused before anything is looked up: nothing in it is acted on
        log.info("ask: instruction refused")
        return refusal()
    terms = question_terms(question)
    hits = search(question, k=k)
    catalog = catalog or (report.catalog if report is not None else _configured_catalog())
    policies = named_policies(terms, catalog, hits)[:MAX_POLICIES]
    passages = relevant_hits(hits, terms)[:MAX_PASSAGES]
    if not policies and not passages:
        answer = _not_found(list(terms.foreign_places))
    else:
        if policies and report is None:
            from calculator.policy.match import match_profile

            report = match_profile(profile if profile is not None else {}, catalog=catalog, today=today)
        quotes = [(hit, best_quote(hit, terms, asked)) for hit in passages]
        answer = _judged(_Found(question, asked, terms, list(hits), policies, quotes, report, day))
    answer.dense = hits.dense
    log.info("ask: %s (%d items, %d citations, %.0f ms)", answer.coverage, len(answer.policies),
             len(answer.citations), (time.perf_counter() - started) * 1000)
    return answer


def _configured_catalog() -> Catalog:
    from calculator.policy.catalog import load_catalog

    return load_catalog()


def warm_up() -> None:
    """Load the index, the catalog and the dictionary's tags before the first user arrives (and the embedding
    model, if it can read the warm-up question: the bundled one cannot, and is then never loaded for nothing)."""
    from calculator.search.relevance import warm_up as relevance_warm_up

    try:
        ask("高新技术企业有什么优惠？")
    except UserError as exc:       # no index yet: the first question will say so
        log.warning("warm-up skipped: %s", exc.en)
        return
    relevance_warm_up()
