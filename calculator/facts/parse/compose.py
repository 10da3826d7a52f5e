"""Facts a message composes from several of its parts, as people say them.

- **Quarters**: "一季度平均从业人数95，二季度102 …" or "四个季度分别是295、300、305、298人" give the quarterly
  parts of a fact the schema composes as their mean (从业人数, 资产总额: `compose: mean` in profile_fields.yaml);
  the engine then computes the year's figure (299.5人) with its clause.
- **Household people**: "就我和我老婆，再雇了两个人" is 4, "两口子开的，没雇人" 2 (words.yaml household_people).
- **Shops that add up**: "东城这个店六个人，魏都区还有个分店五个人" is 11.
- **Parts of a total**: "员工120人，其中劳务派遣30人" makes the 劳动关系职工 90; "员工150人，还有20个劳务派遣的"
  makes 150 the 职工 and leaves 从业人数 to be composed (170); "在编职工150人" with no word of 劳务派遣 is the
  headcount (the chat recomposes it if 劳务派遣 is said later).
- **Uninvoiced sales**: "一个月开票7万，另外没开票的两三万" is [9, 10]万 a month.
- **Shops' sales**: "老店一个月卖六万多，新店四万来块" is (10, 12)万 a month (one taxpayer's sales, all its shops).
Each composed fact says how it was worked out (`how: composed`, the working in `note`).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from calculator.facts import interval as iv
from calculator.facts.interval import Interval, as_interval, collapse
from calculator.facts.parse.facts import Reading, to_fact
from calculator.facts.parse.lexicon import Lexicon, lexicon
from calculator.facts.parse.numerals import parse_numeral
from calculator.facts.parse.quantities import Quantity
from calculator.facts.parse.result import Fact
from calculator.facts.schema import FactSchema, format_number

_LIST = re.compile(r"(?P<items>[0-9.]+(?:[、,，/和及][0-9.]+){3})(?P<unit>万元|万|亿|人|个|名)?")
_QUARTERS = 4
_SELF = {"我", "本人", "我自己"}
_ADDING = set("加再还另雇请招带")
_QUARTER_DIGITS = {"一": (1,), "二": (2,), "三": (3,), "1": (1,), "2": (2,), "3": (3,)}   # the first of 三四季度


def mean_parts(schema: FactSchema) -> dict[str, tuple[str, ...]]:
    """Facts composed as the mean of four quarterly parts (从业人数, 资产总额) → their parts in order."""
    return {key: c.inputs for key, spec in schema.fields.items() for c in spec.compose
            if c.kind == "mean" and len(c.inputs) == _QUARTERS}


def sum_parts(schema: FactSchema) -> dict[str, tuple[str, ...]]:
    """Facts composed as the sum of two parts (从业人数 = 职工 + 劳务派遣)."""
    return {key: c.inputs for key, spec in schema.fields.items() for c in spec.compose
            if c.kind == "sum" and len(c.inputs) == 2}


def _number(value: float | Interval) -> str:
    return format_number(value) if not isinstance(value, Interval) else "、".join(
        format_number(v) for v in (value.low, value.high) if v is not None)


# ---------------------------------------------------------------- quarters

def quarter_lists(text: str, lex: Lexicon) -> tuple[str, list[Fact]]:
    """Lists of four after a quarter word ("季度平均资产分别是1800、1900、2100、2200万") → the four parts;
    the list is blanked in the returned text so that no clause reads its numbers again."""
    schema = lex.schema
    bases = mean_parts(schema)
    quarter_words = sorted(lex.words["quarter_words"] + ["四个季度", "各季度", "每个季度"], key=len, reverse=True)
    facts: list[Fact] = []
    out = text
    for m in _LIST.finditer(text):
        head = text[max(0, m.start() - 20):m.start()]
        head = re.split(r"[。；;！!？?\n]", head)[-1]
        if not any(w in head for w in quarter_words):
            continue
        keys = [mm.field for t in lex.scan(head) for mm in t.of("keyword") if mm.field in bases]
        unit = m.group("unit") or ""
        people = _people_field(schema)
        base = keys[-1] if keys else (people if unit in ("人", "个", "名") and people in bases else "")
        if not base:
            continue
        values = [parse_numeral(v) for v in re.split(r"[、,，/和及]", m.group("items"))]
        if any(v is None for v in values):
            continue
        scale = 10_000 if unit == "亿" and schema.fields[base].unit == "万元" else 1
        for part, value in zip(bases[base], values):
            if value is not None:
                facts.append(Fact(part, value.low * scale, m.group()))
        out = out[:m.start()] + "、" * (m.end() - m.start()) + out[m.end():]
    return out, facts


def quarters(readings: list[Reading], schema: FactSchema, today: date, context: Sequence[str]) -> None:
    """"一季度95，二季度102": a number in a clause naming a quarter is that quarter's part of the fact named
    in the clause, earlier in the message or in the chat so far (from_quarters), else by a later clause that
    only names it ("一季度二百九，…，这是我们从业人数"), else of 从业人数 for people."""
    bases = mean_parts(schema)
    by_part = {part: base for base, parts in bases.items() for part in parts}
    base = next((by_part[k] for k in reversed(context) if k in by_part), "")
    named_in = [[m.field for t in r.terms for m in t.of("keyword") if m.field in bases] for r in readings]
    only_named = [names if not r.facts and not r.leftovers else [] for names, r in zip(named_in, readings)]
    for i, reading in enumerate(readings):
        named = [t for t in reading.terms if t.has("quarter_name")]
        said = named_in[i]
        base = said[-1] if said else base or next((later[0] for later in only_named[i + 1:] if later), "")
        if not named:
            continue
        n = int(next(m.value for m in named[0].of("quarter_name")))
        quarters_said = [*_QUARTER_DIGITS.get(reading.text[named[0].start - 1:named[0].start], ()), n] \
            if named[0].start else [n]      # 三四季度都是一百: the third and the fourth
        fact = next((f for f in reading.facts if f.field in bases), None)
        if fact is not None:
            reading.facts.remove(fact)
            reading.facts += [Fact(bases[fact.field][k - 1], fact.value, fact.span, fact.approx, fact.note, how=fact.how)
                              for k in quarters_said]
            base = fact.field
            continue
        q = next((q for q in reading.leftovers if q.kind in ("bare", "people", "classifier", "scaled", "money")), None)
        people = _people_field(schema)
        target = base or (people if q is not None and q.kind in ("people", "classifier") and people in bases else "")
        if q is None or not target:
            continue
        parts = [to_fact(schema, q, bases[target][k - 1], today, q.text) for k in quarters_said]
        if all(p is not None for p in parts):
            reading.leftovers.remove(q)
            reading.facts += [p for p in parts if p is not None]
            base = target


# ---------------------------------------------------------------- people

def household(readings: list[Reading], schema: FactSchema) -> Fact | None:
    """People counted by who they are: 我 + 我老婆 + 雇了两个人 = 4, and each kind of staff hired after it
    (雇了厨师两个，服务员三个 = 2 + 2 + 3; 雇了个小工 = 1; 再加上收银的一个 = 1). Only when the message says how
    many work (a hiring word, 没雇人, two or more of the family, or 就我 …) and gives no total. A people number
    right after the family words is the family's own count (我和我妈两个人 = 2, 就我一个人 = 1): the total when
    nobody is hired, else what the hired add to (就我一个人，雇了个小工 = 2); named by who they are, they are
    others beside the family (我跟两个同学 = 1 + 2). 我 before a couple is one of it (我两口子 = 2)."""
    key = _people_field(schema)
    if key not in schema.fields or any(_keyword_fact(r, f, key) for r in readings for f in r.facts):
        return None
    members: dict[str, int] = {}
    family_count: tuple[Reading, Quantity] | None = None
    hired: list[tuple[Reading, Quantity | None, float]] = []
    staff: list[tuple[Reading, Quantity | None, float]] = []
    cue = joined = False
    nouns = tuple(lexicon(schema).words["person_nouns"])
    for reading in readings:
        if reading.mode:
            continue                         # 要是我再雇二十个人: a supposition counts nobody
        for k, t in enumerate(reading.terms):
            people = next((int(m.value) for m in t.of("household")), 0)
            if people and t.text in _SELF and k + 1 < len(reading.terms) and reading.terms[k + 1].start == t.end and \
                    any(int(m.value) >= 2 for m in reading.terms[k + 1].of("household")):
                continue                     # 我两口子: I am one of the two
            if people:
                nxt = next((q for q in reading.leftovers if q.kind in ("people", "classifier") and 0 <= q.start - t.end <= 3
                            and not any(ch in _ADDING for ch in reading.text[t.end:q.start])), None)
                if nxt is not None and nxt.text.endswith(nouns):
                    hired.append((reading, nxt, nxt.value))   # 我跟两个同学: others beside me
                    cue = True
                elif nxt is not None:        # 我和我妈两个人: the number says how many they are
                    family_count = family_count or (reading, nxt)
                members.setdefault("我" if t.text in _SELF else t.text, people)
            if t.has("no_hire_words"):
                cue = True
            if t.has("hire_words") or t.has("additive_words"):
                cue = True
                q = next((q for q in reading.leftovers if q.kind in ("people", "classifier", "bare") and 0 <= q.start - t.end <= 3), None)
                if q is not None:
                    hired.append((reading, q, q.value))
                elif t.text.endswith("个") and t.has("hire_words"):
                    hired.append((reading, None, 1))      # 雇了个小工
            if t.has("includes_self"):
                if any(q.kind in ("people", "classifier") and 0 <= q.start - t.end <= 3 for q in reading.leftovers):
                    return None             # 连我八个人: the number is the total
                members.setdefault("我", 1)   # 五个师傅，加上我跟我哥: the counts said add to us
                joined = True
        for q in reading.leftovers:         # 两口子加一个厨师: a count after 加/再/还 adds to the family
            if q.kind not in ("people", "classifier") or any(q is h for _, h, _ in hired) or (
                    family_count is not None and q is family_count[1]):
                continue
            if any(ch in _ADDING for ch in reading.text[max(0, q.start - 3):q.start]):
                hired.append((reading, q, q.value))
                cue = True
            elif reading.has("role_words") or reading.text[:q.start].endswith("的"):
                staff.append((reading, q, q.value))       # 再加上收银的一个、理货的两个
    if hired or sum(members.values()) >= 2:   # 雇了厨师两个，服务员三个 / 后厨三个师傅…我和我老公: each kind adds
        hired += staff
        cue = cue or bool(staff)
    if joined:
        hired += [(r, q, q.value) for r in readings if not r.mode for q in r.leftovers
                  if q.kind in ("people", "classifier") and all(q is not h for _, h, _ in hired)
                  and not (family_count and q is family_count[1])]
    if family_count is not None and not hired:
        return None                          # 我和我妈两个人 / 就我一个人: the number is the total, read as said
    if not members or not (cue or sum(members.values()) >= 2):
        return None
    family = family_count[1].value if family_count is not None else sum(members.values())
    total = family + sum(value for _, _, value in hired)
    for reading, q, _ in [*hired, *([(family_count[0], family_count[1], 0)] if family_count else [])]:
        if q is not None:
            reading.leftovers.remove(q)
    counted = {id(r) for r, _, _ in hired} | ({id(family_count[0])} if family_count else set())
    # 加一个厨子 / 就我一个人: a clause whose count was added is read too
    said = [r for r in readings if id(r) in counted or any(t.has("hire_words") or t.has("no_hire_words") or
                                                         (t.has("household") and t.text not in _SELF) for t in r.terms)]
    for reading in said:
        reading.acknowledged = True
    first = f"{format_number(family)}人" if family_count is not None else " + ".join(members)
    working = " + ".join([first, *(f"雇{format_number(value)}人" for _, _, value in hired)])
    return Fact(key, int(total), "，".join(r.text for r in said), note=working, how="composed")


def _people_field(schema: FactSchema) -> str:
    """The fact a count of people states (words.yaml default_field_by_unit: 从业人数)."""
    return str(lexicon(schema).words["default_field_by_unit"]["people"])


def _keyword_fact(reading: Reading, fact: Fact, key: str) -> bool:
    """Whether a fact for `key` was named by one of its keywords (员工85人), not only by a unit (八个人)."""
    return fact.field == key and any(m.field == key for t in reading.terms for m in t.of("keyword"))


def additive(readings: list[Reading], schema: FactSchema) -> None:
    """"东城这个店六个人，魏都区还有个分店五个人": a later count with an additive word adds to the one before;
    so do counts said shop by shop in one clause ("一个店三个人一个店四个人": words.yaml each_place_words)."""
    key = _people_field(schema)
    previous: Fact | None = None
    for reading in readings:
        by_place = sum(t.has("each_place_words") for t in reading.terms) >= 2
        for fact in list(reading.facts):
            if fact.field != key:
                continue
            if previous is None and reading.has("additive_words"):
                fact.how = "added"       # 还雇了五个: adds to a count the chat already knows
            if previous is not None and _after_total(reading, fact):
                fact.how = "stated"      # the total said replaces the parts
            elif previous is not None and (reading.has("additive_words") or (by_place and previous in reading.facts)):
                total = iv.add(as_interval(previous.value), as_interval(fact.value))
                reading.facts.remove(fact)
                reading.acknowledged = True      # read: its count is in the sum
                previous.value = collapse(total)
                previous.note = f"{previous.note or _number(previous.value)} + {fact.span}"
                previous.how = "added" if previous.how == "added" else "composed"
                continue
            previous = fact


def _after_total(reading: Reading, fact: Fact) -> bool:
    """"再加上我弟弟帮忙一共是三个人": a count right after 一共 is the total, not one more part."""
    at = reading.text.find(fact.span)
    return at >= 0 and any(t.has("total_words") and 0 <= at - t.end <= 2 for t in reading.terms)


def within(readings: list[Reading], schema: FactSchema, context: Sequence[str]) -> None:
    """"员工85人，其中管理人员10人": a figure in a 其中 clause for a fact said before it is a part of it, not the
    fact (parts of a composed fact have fields of their own: `parts`). A part said with 其中 of a total said
    earlier in the chat is marked `within` (the chat keeps that total: 其中十个是派遣的)."""
    said: set[str] = set()
    part_of = {part: total for total, pair in sum_parts(schema).items() for part in pair[1:]}
    for reading in readings:
        if reading.has("part_of"):
            reading.facts = [f for f in reading.facts if f.field not in said]
            for f in reading.facts:
                if part_of.get(f.field) in context and part_of[f.field] not in said:
                    f.how = "within"
        said |= {f.field for f in reading.facts}


def roles(readings: list[Reading], schema: FactSchema, today: date) -> None:
    """"车间工人八十个，管理人员十五个": counts of different kinds of staff said one beside the other add up to
    the headcount, when no clause names the whole (员工, 从业人数, 一共), says it is a part (其中), corrects,
    contrasts (不过, 现在) or supposes."""
    key = _people_field(schema)
    groups: list[tuple[Reading, Fact | None, Quantity | None]] = []
    for reading in readings:
        count = [f for f in reading.facts if f.field == key]
        if not count and not reading.has("role_words"):
            continue
        if not reading.has("role_words") or _names_whole(reading, key) or reading.correction or reading.mode \
                or any(reading.has(k) for k in ("part_of", "contrast_words", "additive_words", "household")):
            return
        q = None if count else next((q for q in reading.leftovers if q.kind in ("people", "classifier")), None)
        if len(count) > 1 or (not count and q is None):
            return
        groups.append((reading, count[0] if count else None, q))
    if len(groups) < 2:
        return
    facts = [f if f is not None else to_fact(schema, q, key, today, q.text) if q is not None else None
             for _, f, q in groups]
    if any(f is None for f in facts):
        return
    counted = [f for f in facts if f is not None]
    total = counted[0].value
    for f in counted[1:]:
        total = collapse(iv.add(as_interval(total), as_interval(f.value)))
    for reading, fact, q in groups:
        if fact is not None:
            reading.facts.remove(fact)
        elif q is not None:
            reading.leftovers.remove(q)
        reading.acknowledged = True      # read: its count is in the sum
    said = [r.text.strip() for r, _, _ in groups]
    groups[0][0].facts.append(Fact(key, total, "，".join(said), any(f.approx for f in counted), " + ".join(said),
                                   how="composed"))


def _names_whole(reading: Reading, key: str) -> bool:
    """A clause that names the headcount itself (员工85人, 一共三百人), not a kind of staff."""
    return reading.has("total_words") or any(
        m.field == key and not t.has("role_words") for t in reading.terms for m in t.of("keyword"))


def parts(readings: list[Reading], schema: FactSchema) -> list[Fact]:
    """其中 and a second part said beside a total (see the module docstring); returns facts to add."""
    extra: list[Fact] = []
    for total_key, (first, second) in sum_parts(schema).items():
        total_words = _total_words(schema, total_key)
        facts = [(r, f) for r in readings for f in r.facts]
        total = next(((r, f) for r, f in facts if f.field == total_key), None)
        given = {f.field: (r, f) for r, f in facts if f.field in (first, second)}
        named = {m.field for r in readings for t in r.terms for m in t.of("keyword")}
        if total is None and first in given and second not in named:   # 在编职工150人 and no word of 劳务派遣
            f_first = given[first][1]
            extra.append(Fact(total_key, f_first.value, f_first.span, f_first.approx,
                              f"{schema.label(first)}，未提及{schema.label(second)}", how="composed"))
            continue
        if total is None or not given:
            continue
        r_total, f_total = total
        for part, (r_part, f_part) in list(given.items()):
            other = second if part == first else first
            if other in given:
                continue
            if r_part.has("part_of") and r_part is not r_total:        # 员工120人，其中劳务派遣30人
                rest = iv.sub(as_interval(f_total.value), as_interval(f_part.value))
                extra.append(Fact(other, collapse(rest), f"{f_total.span}，{f_part.span}",
                                  note=f"{_number(f_total.value)} − {_number(f_part.value)}", how="composed"))
            elif part == second and not _named_total(r_total, total_words):   # 员工150个，还有20个劳务派遣的
                r_total.facts.remove(f_total)
                extra.append(Fact(first, f_total.value, f_total.span, f_total.approx, f_total.note, how=f_total.how))
    return extra


def _total_words(schema: FactSchema, key: str) -> set[str]:
    """Words that name the legal total itself (从业人数, 一共), not a headcount of staff (员工)."""
    return {schema.label(key), *lexicon(schema).words["total_words"], "从业人员", "平均从业人数", "用工人数"}


def _named_total(reading: Reading, words: set[str]) -> bool:
    return any(t.text in words for t in reading.terms) or any(w in reading.text for w in words)


def spans(readings: list[Reading], schema: FactSchema, today: date) -> None:
    """"好的时候十二三万，差的时候五六万": a figure said for good and for bad times is the range between them
    ([5, 13]), when the second clause has a span word (words.yaml span_words) and a number but no keyword."""
    previous: tuple[Reading, Fact] | None = None
    for reading in readings:
        if not reading.has("span_words"):
            previous = None
            continue
        fact = next((f for f in reading.facts if schema.fields[f.field].numeric), None)
        if fact is not None:
            previous = (reading, fact)
            continue
        q = next((q for q in reading.leftovers), None)
        other = to_fact(schema, q, previous[1].field, today, q.text) if previous is not None and q is not None else None
        if previous is None or q is None or other is None or any(t.has("keyword") for t in reading.terms):
            continue
        first = previous[1]
        first.value = collapse(as_interval(first.value).hull(as_interval(other.value)))
        first.note, first.how, first.approx = f"{first.span}，{q.text}", "composed", True
        reading.leftovers.remove(q)
        reading.acknowledged = True


def uninvoiced(readings: list[Reading], sales: set[str]) -> None:
    """"另外没开票的收入两三万": the sum adds to the sales said before it (销售额 includes 未开票收入)."""
    previous: Fact | None = None
    for reading in readings:
        for fact in list(reading.facts):
            if fact.field not in sales:
                continue
            if previous is not None and reading.has("uninvoiced_words"):
                reading.facts.remove(fact)
                reading.acknowledged = True
                previous.value = collapse(iv.add(as_interval(previous.value), as_interval(fact.value)))
                previous.note = f"{_number(previous.value)}（含未开票 {fact.span}）"
                previous.how = "composed"
                previous.approx = True
                continue
            previous = fact


def shops(readings: list[Reading], sales: set[str], schema: FactSchema, today: date) -> None:
    """"老店一个月卖六万多，新店四万来块": sales said shop by shop (words.yaml shop_words) add up to the
    enterprise's; a shop's bare sum takes the field of the shop said before it."""
    words = lexicon(schema).words["shop_words"]
    previous: Fact | None = None
    shop = ""
    for reading in readings:
        named = next((w for w in words if w in reading.text), "")
        if not named or reading.mode:
            continue
        fact = next((f for f in reading.facts if f.field in sales), None)
        if fact is None and previous is not None and named != shop and not any(t.has("keyword") for t in reading.terms):
            q = next((q for q in reading.leftovers if q.kind in ("money", "scaled")), None)
            fact = to_fact(schema, q, previous.field, today, q.text) if q is not None else None
            if fact is not None and q is not None:
                reading.leftovers.remove(q)
                reading.facts.append(fact)
        if fact is None:
            continue
        if previous is not None and fact.field != previous.field and not any(t.has("keyword") for t in reading.terms):
            fact.field = previous.field      # 分店三万来块: the period of the shop said before
        if previous is not None and named != shop and fact.field == previous.field:
            reading.facts.remove(fact)
            reading.acknowledged = True
            previous.value = collapse(iv.add(as_interval(previous.value), as_interval(fact.value)))
            previous.note = f"{previous.note or previous.span} + {fact.span}"
            previous.how, previous.approx = "composed", previous.approx or fact.approx
        else:
            previous = fact
        shop = named
