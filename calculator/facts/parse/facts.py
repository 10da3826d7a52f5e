"""One clause → profile facts: numbers to the nearest fitting keyword, yes/no with negation, choices.

Attribution rules, in the order they apply:
- A number goes to the keyword nearest to it in its clause among the fields its unit fits (人 → 从业人数
  or 参保人数, % → a ratio, 万/元 → a sum, 年/月 → months or the founding date); keyword and number
  pair off one to one, nearest first, so "营收1200万利润80万" gives each sum its own keyword.
- A sum named by a yearly word but said per month (每月开票30万) is the monthly sales; a loss word
  (亏损50万) makes 应纳税所得额 negative.
- A number in the wrong unit for its keyword converts through another fact of the message
  (研发占比3.2% × 营收); see `conversions` in words.yaml.
- A number with no fitting keyword is left over: the message-level step gives it to the field the
  chat asked about, or to the default field of its unit (人 → 从业人数), or reports it.
- A bool keyword is true unless a negation reaches it (没有专利, 专利没有); a negated numeric keyword
  with no number is 0 (没有研发 → 研发费用 0, 没有裁员 → 裁员率 0).
- A choice word (长葛, 小规模, 假发) proposes its value; a negated one of two choices gives the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from calculator.facts.codes import credit_code_ok
from calculator.facts.parse.lexicon import Term, lexicon, normalize_case
from calculator.facts.parse.quantities import Quantity, find_quantities
from calculator.facts.parse.result import Fact
from calculator.facts.schema import FactSchema

# Which field units a quantity of each kind can express (a bare number fits any, in the field's unit).
KIND_UNITS: dict[str, set[str]] = {
    "money": {"万元"}, "scaled": {"万元", "人"}, "people": {"人"}, "classifier": {"人"}, "percent": {"%"},
    "month": {"月"}, "year": {"月", "date"}, "kva": {"千伏安"}, "kw": {"千伏安"}, "date": {"date"},
}
NOT_FACTS = {"count"}  # 3项, 一家: counted things that are no profile fact
_CREDIT = re.compile(r"(?<![0-9a-z])(?=[0-9a-z]*[0-9])[0-9a-z]{18}(?![0-9a-z])")  # GB 32100 code
_MASKING = ("keyword", "choice", "quarter_words")  # words whose numerals are no number (一个月, 一季度)


@dataclass
class Pending:
    """A number that converts into `field` once `base` is known (研发占比3.2% needs 营业收入)."""

    field: str
    base: str
    how: str
    quantity: Quantity


@dataclass
class Reading:
    """What one clause said."""

    text: str
    facts: list[Fact] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    leftovers: list[Quantity] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    acknowledged: bool = False   # a yes/no/unknown/correction word: said something, even without a fact
    correction: bool = False
    sets_false: list[str] = field(default_factory=list)
    content: bool = False        # something besides filler and language words (worth reporting if unused)


def field_unit(schema: FactSchema, key: str) -> str:
    spec = schema.fields[key]
    return "date" if spec.type == "date" else spec.unit


def fits(schema: FactSchema, q: Quantity, key: str) -> bool:
    """Whether quantity `q` can be a value of field `key`."""
    unit = field_unit(schema, key)
    if q.kind == "bare":
        return schema.fields[key].numeric or (unit == "date" and q.yearlike)
    return unit in KIND_UNITS.get(q.kind, set())


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    m += 1
    while True:
        try:
            return day.replace(year=y, month=m)
        except ValueError:
            day = day - timedelta(days=1)


def to_fact(schema: FactSchema, q: Quantity, key: str, today: date, span: str) -> Fact | None:
    """The value of `q` in field `key`'s unit, moved to the right side of a bound.

    Bounds are stored so that a policy threshold at the stated number compares correctly:
    "不到300人" (< 300) → 299, so both "≤ 300" and "< 300" hold and "≥ 300" does not; "不超过5000万" and
    "300人以下" (≤, as in the tax notices' "10万元以下") → the number itself; "三百多人" and "超过300人"
    (> 300) → 301; "300人以上" (≥) → 300. Int fields step by 1, sums and rates by 0.01. Every bound is
    flagged approximate, and the display shows the original words.
    """
    unit = field_unit(schema, key)
    note = q.text if q.bound else ""
    if unit == "date":
        return _date_fact(q, key, today, span)
    if q.kind in ("money", "scaled") and unit == "万元":
        value = q.value / 10_000
    elif q.kind == "year" and unit == "月":
        value = q.value * 12
    else:
        value = q.value
    integral = schema.fields[key].type == "int"
    step = 1 if integral else 0.01
    value += {"lt": -step, "gt": step}.get(q.bound, 0)
    approx = q.approx or q.kind == "kw"   # 千瓦 taken for 千伏安
    if integral:
        rounded = round(value)
        approx = approx or rounded != value
        value = rounded
    else:
        value = round(value, 4)
    return Fact(key, value, span, approx, note)


def _date_fact(q: Quantity, key: str, today: date, span: str) -> Fact | None:
    if q.kind == "date" and q.day:
        return Fact(key, q.day, span, q.approx)
    if q.kind == "bare" and q.yearlike:
        return Fact(key, date(int(q.value), 1, 1), span, q.approx)
    if q.kind == "year" and 0 <= q.value < 200:
        day = _add_months(today, -round(q.value * 12))
        day += {"lt": timedelta(days=1), "gt": timedelta(days=-1)}.get(q.bound, timedelta())
        return Fact(key, day, span, q.approx or bool(q.bound), q.text if q.bound else "")
    return None


class ClauseReader:
    """Reads one clause; built once per message with the day relative dates count from."""

    def __init__(self, schema: FactSchema, today: date, expected: str | None = None) -> None:
        self.schema = schema
        self.lexicon = lexicon(schema)
        self.today = today
        self.expected = expected
        self.date_fields = tuple(k for k, s in schema.fields.items() if s.type == "date")
        words = self.lexicon.words
        self.conversions = words["conversions"]
        self.period_override: dict[str, str] = words["period_override"]
        self.choice_priority: list[str] = words["choice_priority"]

    def read(self, text: str) -> Reading:
        lowered = normalize_case(text)   # same offsets: only ASCII letters change
        terms = self.lexicon.scan(lowered)
        masked = [(t.start, t.end) for t in terms
                  if t.has("not_numbers") or (_has_numeral(t.text) and any(t.has(k) for k in _MASKING))]
        quantities = find_quantities(lowered, masked)
        for q in quantities:
            q.text = text[q.start:q.end]
        reading = Reading(text)
        reading.correction = any(t.has("corrections") for t in terms)
        reading.acknowledged = reading.correction or any(
            t.has(k) for t in terms for k in ("unknown", "yes", "no", "none_of_set"))
        reading.content = _has_content(text, terms)
        if any(t.has("contact_words") for t in terms):
            for q in quantities:
                q.ignored = q.ignored or "contact"
        self._labelled(text, terms, reading)
        self._credit_code(text, lowered, terms, reading)
        used_terms = self._numbers(text, terms, quantities, reading)
        self._loss_without_sum(text, terms, reading)
        self._relative_year(text, terms, reading)
        self._bools(text, terms, reading, used_terms)
        self._choices(text, terms, reading, used_terms)
        return reading

    def _labelled(self, text: str, terms: list[Term], reading: Reading) -> None:
        """"企业名称：许昌瑞丰发制品有限公司": a text field named by its label takes the rest of the clause."""
        for t in terms:
            for m in t.of("keyword"):
                rest = text[t.end:]
                if self.schema.fields[m.field].type == "str" and (rest[:1] in (":", "：") or rest.startswith(("是", "叫", "为"))):
                    value = rest.lstrip(":：是叫为 ").strip()
                    if value:
                        reading.facts.append(Fact(m.field, value, text[t.start:]))
                    return

    def _credit_code(self, text: str, lowered: str, terms: list[Term], reading: Reading) -> None:
        """An 18-character code: taken when it passes the GB 32100 check, or when it was asked for or named
        (then a wrong check character is reported as an error rather than ignored)."""
        named = self.expected == "credit_code" or any(m.field == "credit_code" for t in terms for m in t.of("keyword"))
        for m in _CREDIT.finditer(lowered):
            code = text[m.start():m.end()].upper()
            if named or credit_code_ok(code):
                reading.facts.append(Fact("credit_code", code, text[m.start():m.end()]))

    # ------------------------------------------------------------------ numbers

    def _numbers(self, text: str, terms: list[Term], quantities: list[Quantity], reading: Reading) -> set[int]:
        """Pair numbers with keywords, nearest first, one to one; returns the keyword terms used."""
        live = [q for q in quantities if not q.ignored and not q.minor and q.kind not in NOT_FACTS]
        self._two_digit_years(terms, live)
        q_done: set[int] = set()
        used_terms: set[int] = set()
        for qi, ti, key, how in self._pairs(terms, live):
            if qi in q_done or ti in used_terms:
                continue
            q_done.add(qi)
            used_terms.add(ti)
            q, t = live[qi], terms[ti]
            if how != "direct":
                conv = next(c for c in self.conversions if c["field"] == key and c["how"] == how)
                reading.pending.append(Pending(key, conv["base"], how, q))
                continue
            fact = self._fact(q, key, terms, ti, text[min(q.start, t.start):max(q.end, t.end)])
            if fact is None:
                reading.leftovers.append(q)
            else:
                reading.facts.append(fact)
        reading.leftovers += [q for qi, q in enumerate(live) if qi not in q_done]
        return used_terms

    def _pairs(self, terms: list[Term], live: list[Quantity]) -> list[tuple[int, int, str, str]]:
        """(quantity index, term index, field, how) for every keyword a number fits, nearest first.

        A keyword with another number between it and this one is pushed back, so "员工85人参保80人"
        gives 参保 the 80. `how` is "direct" or the conversion that turns the number into the field.
        """
        scored: list[tuple[float, int, int, str, str]] = []
        for qi, q in enumerate(live):
            others = [x for x in live if x is not q]
            for ti, t in enumerate(terms):
                for m in t.of("keyword"):
                    how = "direct" if fits(self.schema, q, m.field) else self._conversion(q, m.field)
                    if not how:
                        continue
                    d = _distance(t, q) + (0.25 if how != "direct" else 0)
                    if any(_between(x, t, q) for x in others):
                        d += 100
                    scored.append((d, qi, ti, m.field, how))
        scored.sort(key=lambda p: (p[0], p[1], p[2]))
        return [(qi, ti, key, how) for _, qi, ti, key, how in scored]

    def _fact(self, q: Quantity, key: str, terms: list[Term], chosen: int, span: str) -> Fact | None:
        """The fact for a number paired with a keyword: per-month/per-quarter sums and losses applied."""
        key, per_quarter = self._override(key, terms, chosen)
        fact = to_fact(self.schema, q, key, self.today, span)
        if fact is None:
            return None
        if per_quarter:
            fact.value, fact.approx, fact.note = round(fact.value / 3, 4), True, f"按季度{q.text}折算"
        minimum = self.schema.fields[key].minimum
        if minimum is not None and minimum < 0 and any(t.has("loss_words") for t in terms):
            fact.value = -abs(fact.value)
        return fact

    def _loss_without_sum(self, text: str, terms: list[Term], reading: Reading) -> None:
        """"去年亏损了" with no sum: a field that can be negative is 0 (approximate), as words.yaml explains."""
        loss = next((t for t in terms if t.has("loss_words")), None)
        said = {f.field for f in reading.facts}
        if loss is None:
            return
        for t in terms:
            for m in t.of("keyword"):
                spec = self.schema.fields[m.field]
                if m.field not in said and spec.minimum is not None and spec.minimum < 0:
                    reading.facts.append(Fact(m.field, 0, text[min(t.start, loss.start):max(t.end, loss.end)],
                                              True, loss.text))
                    said.add(m.field)

    def _relative_year(self, text: str, terms: list[Term], reading: Reading) -> None:
        """"去年成立的": 1 January of that year (approximate), when no date was given for the founding."""
        said = {f.field for f in reading.facts}
        for t in terms:
            back = next((int(m.value) for m in t.of("relative_year")), None)
            if back is None:
                continue
            for u in terms:
                for m in u.of("keyword"):
                    if m.field in self.date_fields and m.field not in said and 0 <= u.start - t.end <= 3:
                        reading.facts.append(Fact(m.field, date(self.today.year - back, 1, 1), text[t.start:u.end], True))
                        said.add(m.field)

    def _conversion(self, q: Quantity, key: str) -> str:
        """'percent_of' / 'share_of' when q converts into field `key` through another fact, else ''."""
        given = {"percent": "percent", "people": "people", "classifier": "people"}.get(q.kind, "")
        return next((c["how"] for c in self.conversions if c["field"] == key and c["given"] == given), "")

    def _override(self, key: str, terms: list[Term], chosen: int) -> tuple[str, bool]:
        """营收 said per month (每月 in the clause) is the monthly sales; per quarter (每季度), a third of it.

        Returns the field and whether the value is a quarter's."""
        target = self.period_override.get(key)
        if not target:
            return key, False
        if any(m.field == target for i, t in enumerate(terms) if i != chosen for m in t.of("keyword")):
            return target, False
        if any(t.has("quarter_words") for t in terms):
            return target, True
        return key, False

    def _two_digit_years(self, terms: list[Term], live: list[Quantity]) -> None:
        """"19年成立" is 2019, while "成立19年" is a duration: a 年 number right before a founding keyword."""
        for q in live:
            if q.kind != "year" or q.value != int(q.value) or not 0 <= q.value < 100:
                continue
            nxt = next((t for t in terms if t.start >= q.end), None)
            if nxt and nxt.start - q.end <= 1 and any(m.field in self.date_fields for m in nxt.of("keyword")):
                year = 2000 + int(q.value) if 2000 + q.value <= self.today.year else 1900 + int(q.value)
                q.kind, q.day = "date", date(year, 1, 1)

    # ------------------------------------------------------------------ yes / no

    def _bools(self, text: str, terms: list[Term], reading: Reading, used_terms: set[int]) -> None:
        """Bool keywords (专利, 高企) true or negated false; negated numeric keywords 0; 不清楚 → unknown."""
        said = {f.field for f in reading.facts} | {p.field for p in reading.pending}
        for i, t in enumerate(terms):
            scope = _scope(terms, i)
            if scope == "unknown":
                reading.unknown += [m.field for m in t.of("keyword") if m.field not in said]
                continue
            negated = scope == "negated"
            fields = self.schema.fields
            bool_fields = [m.field for m in t.of("keyword") if fields[m.field].type == "bool"]
            for key in bool_fields:
                reading.facts.append(Fact(key, not negated, _phrase(text, terms, i)))
            for m in t.of("false"):
                reading.facts.append(Fact(m.field, negated, _phrase(text, terms, i)))
            if negated and not bool_fields:
                zero = [m.field for m in t.of("keyword") if fields[m.field].numeric and m.field not in said
                        and (fields[m.field].minimum or 0) <= 0]
                for key in zero:
                    reading.facts.append(Fact(key, 0, _phrase(text, terms, i)))
                    used_terms.add(i)
            if t.has("set") and (negated or any(x.has("none_of_set") for x in terms)):
                reading.sets_false += [m.field for m in t.of("set")]

    # ------------------------------------------------------------------ choices

    def _choices(self, text: str, terms: list[Term], reading: Reading, used_terms: set[int]) -> None:
        """Choice words not already used as a number's keyword (研发投入50万 is no research industry)."""
        for i, t in enumerate(terms):
            if i in used_terms or not t.has("choice"):
                continue
            options = {m.field: m.value for m in t.of("choice")}
            key = next((k for k in self.choice_priority if k in options), next(iter(options)))
            value = options[key]
            scope = _scope(terms, i)
            if scope == "negated":
                others = [c for c in self.schema.fields[key].choices if c != value]
                if len(others) != 1:
                    continue
                value = others[0]   # 不是小规模 → 一般纳税人
            elif scope == "unknown":
                continue
            reading.facts.append(Fact(key, value, _phrase(text, terms, i), weight=len(t.text)))


def _has_content(text: str, terms: list[Term]) -> bool:
    """Whether a letter, digit or Chinese character is left once filler and language words are removed."""
    covered = [False] * len(text)
    for t in terms:
        if not any(m.kind in ("keyword", "choice", "false", "set") for m in t.meanings):
            covered[t.start:t.end] = [True] * (t.end - t.start)
    return any(not c and ch.isalnum() for ch, c in zip(text, covered))


def _has_numeral(text: str) -> bool:
    return any(ch in "〇零一二两三四五六七八九十百千万亿" or ch.isdigit() for ch in text)


def _distance(t: Term, q: Quantity) -> float:
    """Characters between keyword and number; a keyword after its number counts half a character more."""
    if t.end <= q.start:
        return q.start - t.end
    if t.start >= q.end:
        return t.start - q.end + 0.5
    return 0


def _between(x: Quantity, t: Term, q: Quantity) -> bool:
    lo, hi = (t.end, q.start) if t.end <= q.start else (q.end, t.start)
    return lo <= x.start and x.end <= hi


def _scope(terms: list[Term], i: int) -> str:
    """'negated' / 'unknown' when a negation or an unknown-word reaches term i, else ''.

    Backwards, the nearest negation (没有, 不是) or unknown-word wins unless a break word (是, 有, 但)
    comes first; forwards, a negation directly after the word that ends the clause ("专利没有") counts.
    """
    for j in range(i - 1, -1, -1):
        t = terms[j]
        if t.has("unknown"):
            return "unknown"
        if t.has("negations"):
            return "negated"
        if t.has("negation_breaks"):
            break
    if i + 1 < len(terms):
        nxt = terms[i + 1]
        rest = terms[i + 2:]
        tail_is_filler = all(not (x.has("keyword") or x.has("choice")) for x in rest)
        if nxt.start - terms[i].end <= 3 and tail_is_filler:
            if nxt.has("unknown"):
                return "unknown"
            if nxt.has("negations"):
                return "negated"
    return ""


def _phrase(text: str, terms: list[Term], i: int) -> str:
    """The words around term i that gave its meaning (a negation before it, or after it)."""
    t = terms[i]
    start, end = t.start, t.end
    if i and terms[i - 1].has("negations") and terms[i - 1].end == t.start:
        start = terms[i - 1].start
    if i + 1 < len(terms) and terms[i + 1].has("negations") and terms[i + 1].start - t.end <= 3:
        end = terms[i + 1].end
    return text[start:end]
