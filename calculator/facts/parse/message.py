"""A whole message → ParseResult: clauses read one by one, then what only the message as a whole decides.

Message-level decisions: the short answer to the question just asked ("120", "是", "都没有", "不清楚");
numbers no keyword claimed (to the asked field, the unit's default field, or reported); conversions
that need another fact of the message (研发占比 × 营收); a certification answer that names the whole set
(listed → true, the rest → false); the most specific of several choice words; what to report as not
understood. Work is bounded: only the first MAX_CHARS characters are read, in clauses of at most
CLAUSE_CHARS, so 100 KB of junk costs no more than a long message.
"""
from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.facts.parse.facts import ClauseReader, Reading, fits, to_fact
from calculator.facts.parse.lexicon import Lexicon, lexicon
from calculator.facts.parse.result import Fact, ParseResult, Understood
from calculator.facts.parse.text import normalize, split_clauses
from calculator.facts.profile import validate_profile
from calculator.facts.schema import FactSchema

MAX_CHARS = 2000
CLAUSE_CHARS = 120
REPORTED_KINDS = {"bare", "scaled", "money", "people", "percent", "month", "kva", "kw"}
_PARTICLES = "啊呀吧呢哦嘛哈啦噢~～。.!！?？,，、 "


def parse_message(text: str, expected: str | None, schema: FactSchema) -> ParseResult:
    """See calculator.facts.parse.parse_text."""
    head = text[:MAX_CHARS]
    norm = normalize(head)
    fields = schema.fields
    lex = lexicon(schema)
    members = _set_members(schema, expected)
    result = ParseResult()
    short = _short_answer(lex, norm, expected, members)
    if short is not None:
        answered, result.unknown = short
        return finish(result, answered, schema)
    today = get_settings().today
    reader = ClauseReader(schema, today, expected)
    readings = [reader.read(clause[i:i + CLAUSE_CHARS])
                for clause in split_clauses(norm) for i in range(0, len(clause), CLAUSE_CHARS)]
    facts: list[Fact] = []
    for reading in readings:
        facts += reading.facts
        result.unknown += reading.unknown
    result.correction = any(r.correction for r in readings)
    used = _place_leftovers(schema, readings, facts, expected, today, result.correction)
    _convert(schema, readings, facts, result)
    facts = _resolve_choices(facts)
    facts += _whole_sets(schema, readings, facts, members)
    if expected and not facts and not result.unknown and any(r.acknowledged for r in readings):
        if any(lex.is_word(t.text, "unknown") for r in readings for t in lex.scan(r.text)):
            result.unknown = [expected] if expected in fields else list(members)
    _report(readings, used, result)
    if expected in fields and fields[expected].type == "str" and all(f.field != expected for f in facts):
        answer = unicodedata.normalize("NFKC", head).strip().strip(_PARTICLES)
        if answer:   # the name asked for: the whole answer is the value
            facts.append(Fact(expected, answer, answer))
            result.not_understood.clear()
    if len(text) > MAX_CHARS:
        result.not_understood.append(f"（消息过长：只读取了前{MAX_CHARS}字，其余{len(text) - MAX_CHARS}字未读取）")
    return finish(result, facts, schema)


def _set_members(schema: FactSchema, expected: str | None) -> list[str]:
    """The bools answered together when `expected` is a set (certifications) or one of its members."""
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
        return [Fact(m, False, answer) for m in members], []
    if spec is None:  # the set itself was asked: "没有" empties it
        return ([Fact(m, False, answer) for m in members], []) if lex.is_word(answer, "no") else None
    if spec.type == "bool":
        if lex.is_word(answer, "yes"):
            return [Fact(expected, True, answer)], []
        if lex.is_word(answer, "no"):
            return [Fact(expected, False, answer)], []
    elif spec.type in ("int", "number") and lex.is_word(answer, "no") and (spec.minimum or 0) <= 0:
        return [Fact(expected, 0, answer)], []
    elif spec.type == "choice" and lex.is_word(answer, "no") and "其他" in spec.choices:
        return [Fact(expected, "其他", answer)], []
    return None


def _place_leftovers(schema: FactSchema, readings: list[Reading], facts: list[Fact], expected: str | None,
                     today: date, correction: bool) -> set[int]:
    """Numbers no keyword claimed: a correction's number replaces the fact before it, then the asked
    field takes the first that fits, then the unit's default field (人 → 从业人数). Returns the ids of
    the quantities used."""
    defaults: dict[str, str] = lexicon(schema).words["default_field_by_unit"]
    used: set[int] = set()
    fields = schema.fields
    expected_taken = expected is None or expected not in fields or any(f.field == expected for f in facts)
    for reading in readings:
        for q in reading.leftovers:
            key = ""
            if correction and facts:
                key = next((f.field for f in reversed(facts) if f.field in fields and fits(schema, q, f.field)), "")
            if not key and not expected_taken and expected and fits(schema, q, expected):
                key, expected_taken = expected, True
            if not key and q.kind in defaults:
                key = defaults[q.kind]
            fact = to_fact(schema, q, key, today, q.text) if key else None
            if fact:
                facts.append(fact)
                reading.facts.append(fact)
                used.add(id(q))
    return used


def _convert(schema: FactSchema, readings: list[Reading], facts: list[Fact], result: ParseResult) -> None:
    """研发占比3.2% with 营收1200万 in the same message → 研发费用 38.4万元 (approximate)."""
    for reading in readings:
        for p in reading.pending:
            base = next((f.value for f in reversed(facts) if f.field == p.base and isinstance(f.value, (int, float))), None)
            if base is None or (p.how == "share_of" and not base):
                result.add_fragment(f"{p.quantity.text}（需要{schema.label(p.base)}才能换算为{schema.label(p.field)}）")
                continue
            if p.how == "percent_of":
                value = round(p.quantity.value / 100 * base, 4)
            else:
                value = round(p.quantity.value / base * 100, 2)
            fact = Fact(p.field, value, p.quantity.text, True, f"按{p.quantity.text}换算")
            facts.append(fact)
            reading.facts.append(fact)


def _resolve_choices(facts: list[Fact]) -> list[Fact]:
    """Of several words for one choice field, the longest (most specific) alias wins; ties go to the last."""
    best: dict[str, Fact] = {}
    for f in facts:
        if f.weight and (f.field not in best or f.weight >= best[f.field].weight):
            best[f.field] = f
    return [f for f in facts if not f.weight or best.get(f.field) is f]


def _whole_sets(schema: FactSchema, readings: list[Reading], facts: list[Fact], members: list[str]) -> list[Fact]:
    """A certification answer names the whole set: listed members true, the rest false.

    It applies after a set question ("高企和科小") and when the text says the set is empty
    ("资质都没有"); a member said explicitly in the message keeps its value.
    """
    said = {f.field for f in facts}
    out: list[Fact] = []
    for reading in readings:
        for name in reading.sets_false:
            out += [Fact(m, False, reading.text) for m in schema.sets[name] if m not in said | {f.field for f in out}]
    if members and any(m in said for m in members):
        out += [Fact(m, False, "（未提及）") for m in members if m not in said | {f.field for f in out}]
    return out


def _report(readings: list[Reading], used: set[int], result: ParseResult) -> None:
    """Clauses that said something unusable, and numbers in understood clauses that found no field."""
    for reading in readings:
        unused = [q for q in reading.leftovers if id(q) not in used]
        if not reading.facts and not reading.pending and not reading.unknown and not reading.acknowledged:
            if reading.content or unused:
                result.add_fragment(reading.text)
            continue
        for q in unused:
            if q.kind in REPORTED_KINDS:   # not a year or date: those often only say when (2019年营收…)
                result.add_fragment(q.text)


# ---------------------------------------------------------------- validation: the last step

def display(schema: FactSchema, key: str, value: Any, approx: bool, note: str) -> str:
    label = schema.label(key)
    shown = schema.format_value(key, value)
    if note:
        return f"{label}：{shown}（{note}）"
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
                                            fact.approx))
    result.unknown = [k for k in dict.fromkeys(result.unknown) if k not in result.updates]
    return result
