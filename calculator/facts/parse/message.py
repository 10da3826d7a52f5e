"""A whole message → ParseResult: clauses read one by one, then what only the message as a whole decides.

Message-level decisions: the short answer to the question just asked ("120", "是", "都没有", "不清楚");
what a clause is (a supposition "如果…" to the end of its sentence, a future or past state, a question,
whose facts are then not facts about the enterprise now); a topic asked and answered ("研发？没搞过");
facts composed from several clauses (compose.py: quarters, household people, 其中, 未开票); numbers no
keyword claimed (to the asked field, a corrected field, the unit's default field, or reported);
conversions that need another fact of the message (研发占比 × 营收); a certification answer that names the
whole set and a certification cue that names none (到期了); the strongest of several choice words; what
to report as not understood. Work is bounded: only the first MAX_CHARS characters are read, in clauses of
at most CLAUSE_CHARS, so 100 KB of junk costs no more than a long message.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.core.wording import chat_words
from calculator.facts import interval as iv
from calculator.facts.interval import Interval, as_interval, collapse
from calculator.facts.parse import compose
from calculator.facts.parse.facts import ClauseReader, Reading, fits, to_fact
from calculator.facts.parse.lexicon import Lexicon, Term, lexicon
from calculator.facts.parse.result import Fact, ParseResult, Understood
from calculator.facts.parse.text import Clause, normalize, split_clauses
from calculator.facts.profile import validate_profile
from calculator.facts.schema import FactSchema

MAX_CHARS = 2000
CLAUSE_CHARS = 120
REPORTED_KINDS = {"bare", "scaled", "money", "people", "percent", "month", "kva", "kw"}
_PARTICLES = "啊呀吧呢哦嘛哈啦噢~～。.!！?？,，、 "
_TOPIC_CHARS = 8     # "研发？没搞过": a topic asked in at most this many characters, then answered


def parse_message(text: str, expected: str | None, schema: FactSchema, today: date | None = None,
                  context: Sequence[str] = ()) -> ParseResult:
    """See calculator.facts.parse.parse_text."""
    head = text[:MAX_CHARS]
    norm = normalize(head)
    fields = schema.fields
    lex = lexicon(schema)
    members = [m for m in _set_members(schema, expected) if expected not in schema.sets or m not in context]
    result = ParseResult()
    short = _short_answer(lex, norm, expected, members)
    if short is not None:
        answered, result.unknown = short
        return finish(result, answered, schema)
    today = today or get_settings().today
    reader = ClauseReader(schema, today, expected)
    norm, listed = compose.quarter_lists(norm, lex)
    clauses = _answered_topics(lex, split_clauses(norm))
    modes = _modes(lex, clauses)
    readings = [reader.read(clause.text[i:i + CLAUSE_CHARS], mode)
                for clause, mode in zip(clauses, modes) for i in range(0, len(clause.text), CLAUSE_CHARS)]
    _keep_facts_of_now(lex, readings)
    result.correction = any(r.correction for r in readings)
    compose.quarters(readings, schema, today, context)
    people = compose.household(readings, schema)
    compose.spans(readings, schema, today)
    used = _place_leftovers(schema, readings, expected, today, result.correction, context)
    compose.within(readings, schema, context)
    if people is None:     # 我和我老婆，雇了两个厨师: the household's count already holds them
        compose.roles(readings, schema, today)
    compose.additive(readings, schema)
    extra = compose.parts(readings, schema)
    compose.uninvoiced(readings, _sales_fields(lex))
    compose.shops(readings, _sales_fields(lex), schema, today)
    facts: list[Fact] = listed + [f for r in readings for f in r.facts] + extra + ([people] if people else [])
    facts = _defaults_give_way(facts)
    facts = _last_year(lex, readings, facts, today)
    facts = _not_this_year(lex, readings, facts, context)
    for reading in readings:
        result.unknown += reading.unknown
    _convert(schema, readings, facts, result)
    facts = _resolve_choices(facts, lex)
    facts += _whole_sets(schema, readings, facts, members)
    facts += _orphan_status(lex, readings, facts, context)
    facts = _certificate_years(lex, readings, facts, context)
    facts += _own_sale(lex, readings, facts)
    if expected and not facts and not result.unknown and any(r.acknowledged for r in readings):
        if any(lex.is_word(t.text, "unknown") for r in readings for t in r.terms):
            result.unknown = [expected] if expected in fields else list(members)
    _report(readings, used, result)
    if expected in fields and fields[expected].type == "str" and all(f.field != expected for f in facts):
        answer = unicodedata.normalize("NFKC", head).strip().strip(_PARTICLES)
        if answer:   # the name asked for: the whole answer is the value
            facts.append(Fact(expected, answer, answer, how="answer"))
            result.not_understood.clear()
    if len(text) > MAX_CHARS:
        result.not_understood.append(f"（消息过长：只读取了前{MAX_CHARS}字，其余{len(text) - MAX_CHARS}字未读取）")
    return finish(result, facts, schema)


def _set_members(schema: FactSchema, expected: str | None) -> list[str]:
    """The bools answered together when `expected` is a set (certifications) or one of its members; the caller
    leaves out the members the chat already knows (a set asked again asks only for the rest)."""
    if expected in schema.sets:
        return list(schema.sets[expected])
    if expected in schema.fields and schema.fields[expected].set:
        return list(schema.sets[schema.fields[expected].set])
    return []


def _squash(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace()).strip(_PARTICLES)


def _short_answer(lex: Lexicon, norm: str, expected: str | None,
                  members: list[str]) -> tuple[list[Fact], list[str]] | None:
    """A whole message that is only 是 / 没有 / 不清楚 / 都没有, answering the asked field; None otherwise."""
    if not expected:
        return None
    answer = _squash(norm)
    for lead in ("嗯", "恩", "哦", "噢"):
        if answer.startswith(lead) and len(answer) > len(lead):
            answer = _squash(answer[len(lead):])
    fields = lex.schema.fields
    if lex.is_word(answer, "unknown"):
        return [], [expected] if expected in fields else list(members)
    spec = fields.get(expected)
    if members and lex.is_word(answer, "none_of_set"):
        return [Fact(m, False, answer, how="answer") for m in members], []
    if spec is None:  # the set itself was asked: "没有" empties it
        return ([Fact(m, False, answer, how="answer") for m in members], []) if lex.is_word(answer, "no") else None
    if spec.type == "bool":
        if lex.is_word(answer, "yes"):
            return [Fact(expected, True, answer, how="answer")], []
        if lex.is_word(answer, "no"):
            return [Fact(expected, False, answer, how="answer")], []
    elif spec.type in ("int", "number") and lex.is_word(answer, "no") and (spec.minimum or 0) <= 0:
        return [Fact(expected, 0, answer, how="answer")], []
    elif spec.type == "choice" and lex.is_word(answer, "no") and "其他" in spec.choices:
        return [Fact(expected, "其他", answer, how="answer")], []
    elif spec.type == "choice" and answer in lex.words["answer_only_choices"]:   # 其他 answers only its question
        other = next((c for c in spec.choices if c.startswith(tuple(lex.words["answer_only_choices"]))), None)
        return ([Fact(expected, other, answer, how="answer")], []) if other else None
    return None


# ---------------------------------------------------------------- what each clause is

def _answered_topics(lex: Lexicon, clauses: list[Clause]) -> list[Clause]:
    """"研发？没搞过", "去年研发？那肯定没有", "高企是啥？我们这小铺子没有", "研发嘛，没有": a short question
    naming one fact (or the fact's word alone), answered by a clause that denies without naming anything, denies that fact."""
    out = list(clauses)
    for k in range(len(out) - 1):
        asked, answer = out[k], out[k + 1]
        topics = [t for t in lex.scan(asked.text) if t.has("keyword")]
        bare = len(topics) == 1 and len(asked.text.strip(_PARTICLES + "呢嘛")) <= len(topics[0].text)   # "研发，没有"
        if not (asked.asks or bare) or len(asked.text) > _TOPIC_CHARS:
            continue
        said = lex.scan(answer.text)
        if len(topics) != 1 or any(t.has("keyword") or t.has("choice") for t in said):
            continue
        if any(t.has("negations") or t.has("no") for t in said):
            topic = topics[0]
            out[k] = Clause(asked.text[:topic.start] + asked.text[topic.end:], asked.end)
            out[k + 1] = Clause(answer.text + asked.text[topic.start:topic.end], answer.end)
    return out


def _modes(lex: Lexicon, clauses: list[Clause]) -> list[str]:
    """Per clause: "hypothetical" from a 如果/要是 clause to the end of its sentence (unless a clause turns back
    to the facts: 现在/目前), "question" for a clause that asks; "" otherwise."""
    markers = [w for w in chat_words()["question_markers"]]
    modes: list[str] = []
    supposing = False
    for clause in clauses:
        terms = lex.scan(clause.text)
        if any(t.has("reality") for t in terms):
            supposing = False
        if any(t.has("hypothetical") and not _topic_marker(lex, terms, k) for k, t in enumerate(terms)):
            supposing = True
        asks = clause.asks or any(m in clause.text for m in markers) or any(t.has("question_words") for t in terms)
        modes.append("hypothetical" if supposing else "question" if asks else "")
        if clause.ends_sentence:
            supposing = False
    return modes


def _topic_marker(lex: Lexicon, terms: list[Term], k: int) -> bool:
    """"利润的话，去年是九十万": 的话 right after a fact's keyword names the topic; it supposes nothing."""
    return terms[k].text in lex.words["topic_markers"] and k > 0 and terms[k - 1].end == terms[k].start \
        and terms[k - 1].has("keyword")


def _keep_facts_of_now(lex: Lexicon, readings: list[Reading]) -> None:
    """A supposition states nothing; a future or past clause keeps only intents (想贷款) and the certification
    it found not held; a question keeps what it says of the enterprise but not the certification it asks
    about ("个体户能评高企吗"), nor what an earlier clause only planned (打算注册个体户…注册个体户能享受啥), nor
    the subject of a rule it asks about when it says nothing of us ("小规模纳税人的起征点是多少")."""
    intents = set(lex.words["intent_fields"])
    self_words: list[str] = chat_words()["self_reference"]
    status = set(lex.schema.sets.get("certifications", ()))
    rules = "|".join(map(re.escape, lex.words["rule_words"]))
    planned: set[tuple[str, str]] = set()
    for reading in readings:
        if reading.mode in ("hypothetical", "outsourced", "future", "past"):
            planned |= {(f.field, str(f.value)) for f in reading.facts if f.weight}
        if reading.mode in ("hypothetical", "outsourced"):
            reading.facts, reading.leftovers, reading.pending, reading.unknown = [], [], [], []
            reading.sets_false = []
        elif reading.mode in ("future", "past"):
            reading.facts = [f for f in reading.facts if f.field in intents or (f.field in status and f.value is False)]
            reading.leftovers, reading.pending = [], []
        elif reading.mode == "question":
            about_self = any(w in reading.text for w in self_words)
            if not about_self and any(f.bound for f in reading.facts):
                reading.facts = []           # "参保职工30人以下的企业能申请吗" asks about a condition, not about us
            asked = _asked_whether(lex, reading)  # "我们是小规模纳税人吗": the choice is what is asked
            reading.facts = [f for f in reading.facts if f.field not in status and not (f.weight and asked)
                             and (f.field, str(f.value)) not in planned
                             and (about_self or not f.weight or not re.search(re.escape(f.span) + f"的(?:{rules})", reading.text))]


def _asked_whether(lex: Lexicon, reading: Reading) -> bool:
    """"我们是小规模纳税人吗", "是不是一般纳税人": a clause asking whether the enterprise is something (not
    whether it may do something: "开饭店的研发费用能不能加计扣除" says it runs a 饭店)."""
    text = reading.text.rstrip("？?。!！ ")
    being = lex.words["being_questions"]
    return any(t.text in being for t in reading.terms) or ("是" in text and text.endswith(("吗", "么", "嘛")))


def _sales_fields(lex: Lexicon) -> set[str]:
    table: dict[str, dict[str, str]] = lex.words["period_override"]
    return set(table) | {key for periods in table.values() for key in periods.values()}


# ---------------------------------------------------------------- numbers left over, conversions

def _place_leftovers(schema: FactSchema, readings: list[Reading], expected: str | None, today: date,
                     correction: bool, context: Sequence[str]) -> set[int]:
    """Numbers no keyword claimed: a correction's number replaces the fact said last (in this message, else
    in the chat so far), then a sum said per quarter is the quarterly sales, then the asked field takes the
    first that fits, then the unit's default field (人 → 从业人数). Returns the ids of the quantities used."""
    words = lexicon(schema).words
    defaults: dict[str, str] = words["default_field_by_unit"]
    people_words: list[str] = [*words["people_context"], *words["person_nouns"]]
    last_year = set(words["last_year_fields"])
    heads: dict[str, str] = words["head_words"]
    quarter_sales = next((t["quarter"] for t in words["period_override"].values() if t.get("quarter") in schema.fields), "")
    used: set[int] = set()
    fields = schema.fields
    said = [f.field for r in readings for f in r.facts]
    expected_taken = expected is None or expected not in fields or expected in said
    previous: Reading | None = None
    before: Reading | None = None        # the clause right before this one
    for reading in readings:
        topic = _open_topic(schema, before, reading)
        for q in list(reading.leftovers):
            key, how = "", "default"
            if topic and fits(schema, q, topic) and topic not in said:   # 利润嘛，大概八十万
                key, how = topic, "stated"
                _drop_weak_words(before, topic)
            if not key and previous is not None and _another_year(reading) and not any(t.has("keyword") for t in reading.terms):
                key = next((f.field for f in reversed(previous.facts) if f.field in last_year
                            and _same_kind(schema, q, f.field)), "")    # 今年营收1500万，去年1000万
                how = "stated" if key else how
            if not key and correction:
                recent = [*context, *said]
                key = next((k for k in reversed(recent) if k in fields and fits(schema, q, k)), "")
                how = "stated"
            if not key and q.kind in ("money", "scaled") and reading.has("quarter_words") and quarter_sales:
                key, how = quarter_sales, "stated"      # 小规模 季度28万: a sum said per quarter is its sales
            if not key and not expected_taken and expected and fits(schema, q, expected):
                key, how, expected_taken = expected, "answer", True
            if not key and q.kind in defaults:
                key = defaults[q.kind]
                how = "stated" if reading.has("contrast_words") else how
            if not key and q.kind == "classifier" and (any(w in reading.text for w in people_words) or any(
                    t.has("hire_words") and 0 <= q.start - t.end <= 1 for t in reading.terms)):
                key = defaults["people"]   # 人不多就十来个; 另外雇了两个炸油条的
            head = heads.get(reading.text[:q.start].strip(), "")
            if not key and head in fields and fits(schema, q, head):
                key, how = head, "stated"  # 人八十: the clause's head word names it
            fact = to_fact(schema, q, key, today, q.text) if key else None
            if fact:
                fact.how = fact.how if fact.how != "stated" else how
                reading.facts.append(fact)
                reading.leftovers.remove(q)
                said.append(key)
                used.add(id(q))
        previous = reading if reading.facts else previous
        before = reading
    return used


def _open_topic(schema: FactSchema, before: Reading | None, reading: Reading) -> str:
    """The amount named in the clause before, with no number there ("利润嘛", "有研发"), that a clause with a
    number and no keyword of its own goes on to give ("大概八十万", "去年投了七十来万"); '' if none."""
    if before is None or before.leftovers or before.mode not in ("", "question") or reading.mode or any(
            t.has("keyword") for t in reading.terms):
        return ""                    # 资产你问这干什么的，大概一个亿出头: a question may name the topic
    if before.text.strip(_PARTICLES + "呢") in lexicon(schema).words["people_topic"]:
        return str(lexicon(schema).words["default_field_by_unit"]["people"])     # 人？一百八十来个
    stated = {f.field for f in before.facts if not isinstance(f.value, Interval)}
    keys = [m.field for t in before.terms for m in t.of("keyword")
            if schema.fields[m.field].numeric and m.field not in stated]
    return keys[-1] if len(set(keys)) == 1 else ""


def _drop_weak_words(reading: Reading | None, key: str) -> None:
    """The keyword that named the amount names no industry (有研发 is no research institute) and no "有" bound."""
    if reading is None:
        return
    reading.acknowledged = True
    words = {t.text for t in reading.terms if any(m.field == key for m in t.of("keyword"))}
    reading.facts = [f for f in reading.facts if not (f.field == key or (f.field == "industry" and f.how == "weak"
                                                                         and f.span in words))]


def _same_kind(schema: FactSchema, q: Any, key: str) -> bool:
    """A sum continues a sum, a count of people a count of people."""
    unit = schema.fields[key].unit
    return (q.kind in ("money", "scaled") and unit == "万元") or (q.kind in ("people", "classifier") and unit == "人")


def _another_year(reading: Reading) -> bool:
    """A clause that only says when (去年, 2024年): its number continues the fact said before it."""
    return any(t.has("relative_year") for t in reading.terms) or re.search(r"(?:19|20)\d{2}年", reading.text) is not None


def _not_this_year(lex: Lexicon, readings: list[Reading], facts: list[Fact], context: Sequence[str]) -> list[Fact]:
    """"今年估计能挣一百万" after last year's 利润 was said: a 上年度 fact said of this year is no new value."""
    last_year = set(lex.words["last_year_fields"]) & set(context)
    now_words = [w for w, back in lex.words["relative_years"].items() if back == 0]   # 今年 (also inside 今年营收)
    this_year = {id(f) for r in readings if any(w in r.text for w in now_words) for f in r.facts if f.field in last_year}
    return [f for f in facts if id(f) not in this_year]


def _last_year(lex: Lexicon, readings: list[Reading], facts: list[Fact], today: date) -> list[Fact]:
    """"今年营收1500万，去年1000万": of a 上年度 fact said for several years, the one said for last year."""
    def when(reading: Reading) -> str:   # 今年 may hide inside a keyword (今年应纳税所得额: 年应纳税所得额)
        back = {int(m.value) for t in reading.terms for m in t.of("relative_year")} | {
            b for w, b in lex.words["relative_years"].items() if w in reading.text}
        if 1 in back or f"{today.year - 1}年" in reading.text:
            return "last"
        return "other" if back or re.search(r"(?:19|20)\d{2}年", reading.text) else ""

    said_when = {id(f): when(r) for r in readings for f in r.facts}
    drop: set[int] = set()
    for key in lex.words["last_year_fields"]:
        own = [f for f in facts if f.field == key]
        if any(said_when.get(id(f)) == "last" for f in own):
            drop |= {id(f) for f in own if said_when.get(id(f)) == "other"}
    return [f for f in facts if id(f) not in drop]


def _defaults_give_way(facts: list[Fact]) -> list[Fact]:
    """A number placed by its unit alone ("还有两个人是兼职") never replaces one its keyword named ("员工50人")."""
    named = {f.field for f in facts if f.how not in ("default", "answer")}
    return [f for f in facts if f.how != "default" or f.field not in named]


def _convert(schema: FactSchema, readings: list[Reading], facts: list[Fact], result: ParseResult) -> None:
    """研发占比3.2% with 营收1200万 in the same message → 研发费用 38.4万元 (approximate)."""
    for reading in readings:
        for p in reading.pending:
            base = next((f.value for f in reversed(facts) if f.field == p.base
                         and isinstance(f.value, (int, float, Interval)) and not isinstance(f.value, bool)), None)
            if base is None or (p.how == "share_of" and not isinstance(base, Interval) and not base):
                result.add_fragment(f"{p.quantity.text}（需要{schema.label(p.base)}才能换算为{schema.label(p.field)}）")
                continue
            given = as_interval(p.quantity.value)
            if p.how == "percent_of":
                value: Any = iv.mul(given, iv.mul(as_interval(base), Interval.point(0.01)))
            else:
                ratio = iv.div(given, as_interval(base))
                if ratio is None:
                    continue
                value = iv.mul(ratio, Interval.point(100))
            value = collapse(iv.rounded(value, 4 if p.how == "percent_of" else 2))
            fact = Fact(p.field, value, p.quantity.text, True, f"按{p.quantity.text}换算", how="converted")
            facts.append(fact)
            reading.facts.append(fact)


# ---------------------------------------------------------------- choices, sets, certifications

def _resolve_choices(facts: list[Fact], lex: Lexicon) -> list[Fact]:
    """Of several words for one choice field, the strongest wins (the value itself over an activity over an
    alias over a weak word; a longer alias over a shorter); ties go to the first said, except where
    words.yaml choice_precedence orders the values (重新认定 over 首次认定)."""
    precedence: dict[str, list[str]] = lex.words["choice_precedence"]
    best: dict[str, Fact] = {}
    for f in facts:
        if not f.weight:
            continue
        old = best.get(f.field)
        order = precedence.get(f.field)
        if old is None or f.weight > old.weight:
            best[f.field] = f
        if old is not None and order and f.value in order and old.value in order and \
                order.index(f.value) < order.index(old.value):
            best[f.field] = f
    return [f for f in facts if not f.weight or best.get(f.field) is f]


def _whole_sets(schema: FactSchema, readings: list[Reading], facts: list[Fact], members: list[str]) -> list[Fact]:
    """A certification answer names the whole set: listed members true, the rest false.

    It applies after a set question when the answer names what is held ("高企和科小", "高企有") and when the
    text says the set is empty ("资质都没有"); a member said explicitly in the message keeps its value. A
    denial alone ("不是高企，也没打算申请") says nothing about the other members.
    """
    said = {f.field for f in facts}
    held = any(f.field in members and f.value is True for f in facts)
    out: list[Fact] = []
    for reading in readings:
        for name in reading.sets_false:
            out += [Fact(m, False, reading.text) for m in schema.sets[name] if m not in said | {f.field for f in out}]
    if held:
        out += [Fact(m, False, "（未提及）") for m in members if m not in said | {f.field for f in out}]
    return out


def _orphan_status(lex: Lexicon, readings: list[Reading], facts: list[Fact], context: Sequence[str]) -> list[Fact]:
    """"2024年到期以后没再申报", "现在还有效": a certification cue that names none is about the certification
    named last (also in a supposition or a question), in this message or else in the chat so far (words.yaml certificate_of: the 高企's year); so is
    a bare 不是 in a correction ("不是，说错了，我们只是科小")."""
    status = set(lex.schema.sets.get("certifications", ()))
    owner: dict[str, str] = {k: v for k, v in lex.words["certificate_of"].items() if v in status}
    named: list[str] = [owner.get(k, k) for k in context if k in status or k in owner]
    out: list[Fact] = []
    correcting = any(r.correction for r in readings)
    for reading in readings:
        denial = correcting and lex.is_word(reading.text.strip(_PARTICLES), "no")   # "不是，说错了，我们只是科小"
        if (reading.status is not None or denial) and named:
            out.append(Fact(named[-1], False if denial else bool(reading.status), reading.text))
        named += [owner.get(f.field, f.field) for f in reading.facts if f.field in status or f.field in owner]
        if reading.mode in ("hypothetical", "question"):   # "要是评上高企…？现在正在准备材料": still its topic
            named += [m.field for t in reading.terms for m in t.of("keyword") if m.field in status]
    said = {f.field: f for f in facts}
    return [f for f in out if f.field not in said or said[f.field].value is not f.value]


def _certificate_years(lex: Lexicon, readings: list[Reading], facts: list[Fact], context: Sequence[str]) -> list[Fact]:
    """A year of recognition belongs to its certificate (words.yaml certificate_of: the 高企): only when the
    message or the chat so far names it (or another of its facts: 今年重新认定的) and the clause names no other certification ("去年评上了专精特新" has
    no 高企 year); said several times (2017年首次认定，2023年重新认定) the latest year wins."""
    owners: dict[str, str] = lex.words["certificate_of"]
    status = set(lex.schema.sets.get("certifications", ()))
    years: list[str] = [k for k in lex.words["calendar_year_fields"] if k in owners]
    keep: list[Fact] = []
    for key in years:
        owner = owners[key]
        known = owner in context or any(k in context for k, o in owners.items() if o == owner) or any(
            m.field == owner for r in readings for t in r.terms for m in t.of("keyword")) or any(
            owners.get(f.field) == owner and f.field != key for r in readings for f in r.facts)   # 重新认定: the 高企's
        own: list[Fact] = []
        for r in readings:
            other = any(m.field in status and m.field != owner for t in r.terms for m in t.of("keyword"))
            own += [f for f in r.facts if f.field == key and known and not other]
        latest = max((f for f in own if isinstance(f.value, int)), key=lambda f: f.value, default=None)
        if latest is not None:
            keep.append(latest)
    return [f for f in facts if f.field not in years] + keep


def _own_sale(lex: Lexicon, readings: list[Reading], facts: list[Fact]) -> list[Fact]:
    """"养蛋鸡的…鸡蛋自己卖给批发商": a farm selling by itself sells its own produce (words.yaml own_sale)."""
    rule: dict[str, str] = lex.words["own_sale"]
    if rule["field"] not in lex.schema.fields or any(f.field == rule["field"] for f in facts) or not any(
            f.field == "industry" and f.value == rule["industry"] for f in facts):
        return []
    said = next((r for r in readings if not r.mode and r.has("own_sale_words")), None)
    if said is None:
        return []
    said.acknowledged = True
    return [Fact(rule["field"], True, said.text, how="inferred")]


def _report(readings: list[Reading], used: set[int], result: ParseResult) -> None:
    """Clauses that said something unusable, and numbers in understood clauses that found no field."""
    for reading in readings:
        if reading.mode in ("hypothetical", "outsourced"):
            continue
        unused = [q for q in reading.leftovers if id(q) not in used]
        if not reading.facts and not reading.pending and not reading.unknown and not reading.acknowledged \
                and not reading.owned and reading.status is None:
            if (reading.content or unused) and reading.mode != "question":
                result.add_fragment(reading.text)
            continue
        for q in unused:
            if q.kind in REPORTED_KINDS:   # not a year or date: those often only say when (2019年营收…)
                result.add_fragment(q.text)


# ---------------------------------------------------------------- validation: the last step

def display(schema: FactSchema, key: str, value: Any, approx: bool, note: str) -> str:
    """"从业人数：85人", "年应纳税所得额：300万元以上、不到400万元（三百来万）" (the words, unless they say the same)."""
    label = schema.label(key)
    shown = schema.format_value(key, value)
    if note and note.replace("元", "") != shown.replace("元", ""):
        return f"{label}：{shown}（{note}）"
    if note:
        return f"{label}：{shown}"
    return f"{label}：{'约' if approx else ''}{shown}"


def check(fact: Fact, schema: FactSchema) -> tuple[Any, str]:
    """(valid value, "") or (None, one Chinese line naming the field and its bounds)."""
    try:
        profile = validate_profile({fact.field: fact.value}, schema)
    except UserError as exc:
        return None, exc.zh.removeprefix("画像有误：")
    return getattr(profile, fact.field), ""


def finish(result: ParseResult, facts: list[Fact], schema: FactSchema) -> ParseResult:
    """Validate each fact (the last one for a field wins) into updates, understood and errors."""
    last: dict[str, Fact] = {}
    for fact in facts:
        last.pop(fact.field, None)
        last[fact.field] = fact
    for fact in last.values():
        value, error = check(fact, schema)
        if error:
            result.errors.append(error)
            continue
        result.updates[fact.field] = value
        result.understood.append(Understood(fact.field, schema.label(fact.field), value,
                                            display(schema, fact.field, value, fact.approx, fact.note), fact.span,
                                            fact.approx, fact.how, fact.note, fact.weight))
    result.unknown = [k for k in dict.fromkeys(result.unknown) if k not in result.updates]
    return result
