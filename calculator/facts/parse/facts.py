"""One clause → profile facts: numbers to the nearest fitting keyword, yes/no with negation, choices.

Attribution rules, in the order they apply:
- A number owned by a word that is no fact (想贷个五十万, 注册资本五百万, 2024年到期) is set aside.
- A number goes to the keyword nearest to it in its clause among the fields its unit fits (人 → 从业人数
  or 参保人数, % → a ratio, 万/元 → a sum, 年/月 → months or the founding date); keyword and number
  pair off one to one, nearest first, so "营收1200万利润80万" gives each sum its own keyword.
- A sum named by a yearly word but said per month (每月开票30万) is the monthly sales, per quarter the
  quarterly sales, per day nothing; a loss word (亏损50万) makes 应纳税所得额 negative.
- A number in the wrong unit for its keyword converts through another fact of the message
  (研发占比3.2% × 营收); see `conversions` in words.yaml.
- A number with no fitting keyword is left over: the message-level step gives it to the field the
  chat asked about, or to the default field of its unit (人 → 从业人数), or reports it.
- A bool keyword is true unless a negation reaches it (没有专利, 专利没有); a negated numeric keyword
  with no number is 0 (没有研发 → 研发费用 0). A certification's status also follows the cues around it
  (想申请, 到期, 还在有效期: words.yaml certificate_cues).
- A choice word (长葛, 小规模, 假发) proposes its value with a weight (the value itself, an activity, an
  alias, a weak word); a negated one of two choices gives the other; one that names a customer or a
  contractor (给超市存冷冻品, 外包给物业公司) or a branch (分店在魏都) is not ours.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from calculator.facts.codes import credit_code_ok
from calculator.facts.interval import Interval, collapse
from calculator.facts.parse.lexicon import ACTIVITY_WEIGHT, VALUE_WEIGHT, WEAK_WEIGHT, Term, lexicon, normalize_case
from calculator.facts.parse.quantities import Quantity, find_quantities
from calculator.facts.parse.result import Fact
from calculator.facts.schema import FactSchema

# Which field units a quantity of each kind can express (a bare number fits any, in the field's unit).
KIND_UNITS: dict[str, set[str]] = {
    "money": {"万元"}, "scaled": {"万元", "人"}, "people": {"人"}, "classifier": {"人"}, "percent": {"%"},
    "month": {"月", "date"}, "year": {"月", "date"}, "kva": {"千伏安"}, "kw": {"千伏安"}, "date": {"date", "year"},
}
NOT_FACTS = {"count"}  # 3项, 一家: counted things that are no profile fact
_CREDIT = re.compile(r"(?<![0-9a-z])(?=[0-9a-z]*[0-9])[0-9a-z]{18}(?![0-9a-z])")  # GB 32100 code
_MASKING = ("keyword", "choice", "quarter_words", "quarter_name", "household", "not_numbers")
_STATUS_SET = "certifications"
_OWNER_GAP = 4   # characters between an owner word and the number it owns (想贷个五十万)
_BOUNDS = {"below", "at_most", "above", "at_least"}
_COMPANY_NAME = re.compile(r"^(?!.*[的是在和])[\u4e00-\u9fff（）()]{4,30}?(?:有限责任公司|股份有限公司|有限公司|集团公司|合作社|工作室|商行|经营部)$")
_HOME = ("许昌", "河南")
_NUMERAL_CHARS = set("0123456789〇零一二两三四五六七八九十百千万亿几")
_SCALE_AFTER = set("万亿千百元块人个")
_ROUND_DIGITS = 100   # a rough figure has at most two significant digits (三百, 一千二, 9万9千)   # 十四五万 is a range of money, 十四五 (规划) no number
_TOGETHER = {"industry": ("entity_type",), "entity_type": ("industry",)}   # one word may name both (软件公司)


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
    terms: list[Term] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    leftovers: list[Quantity] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    acknowledged: bool = False   # a yes/no/unknown/correction word: said something, even without a fact
    correction: bool = False
    sets_false: list[str] = field(default_factory=list)
    content: bool = False        # something besides filler and language words (worth reporting if unused)
    status: bool | None = None   # a certification cue with no certification named (到期了, 还有效)
    mode: str = ""               # "" | hypothetical | future | past | question: not a fact about now
    owned: int = 0               # numbers set aside as no fact (a loan wanted, wages)

    def has(self, kind: str) -> bool:
        return any(t.has(kind) for t in self.terms)


def field_unit(schema: FactSchema, key: str) -> str:
    spec = schema.fields[key]
    if spec.type == "date":
        return "date"
    return "year" if key in lexicon(schema).words["calendar_year_fields"] else spec.unit


def fits(schema: FactSchema, q: Quantity, key: str) -> bool:
    """Whether quantity `q` can be a value of field `key`."""
    unit = field_unit(schema, key)
    if q.kind == "bare":
        if unit == "year":
            return q.yearlike
        return schema.fields[key].numeric or (unit == "date" and q.yearlike)
    if unit == "year" and q.kind == "date":
        return True
    return unit in KIND_UNITS.get(q.kind, set())


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    m += 1
    while True:
        try:
            return day.replace(year=y, month=m)
        except ValueError:
            day = day - timedelta(days=1)


def _in_unit(q: Quantity, unit: str) -> float:
    """The factor from the quantity's absolute value to the field's unit (元 → 万元, 年 → 月)."""
    if q.kind in ("money", "scaled") and unit == "万元":
        return 1 / 10_000
    if q.kind == "year" and unit == "月":
        return 12.0
    return 1.0


def to_fact(schema: FactSchema, q: Quantity, key: str, today: date, span: str) -> Fact | None:
    """The value of `q` in field `key`'s unit: a number, or an interval when the words give one.

    "三百来万" → [300, 400) 万元; "不到300人" → (null, 300); "十几个人" → the whole numbers [11, 19]; "大概80万"
    and "三百人左右" → one unit of the next lower place either side ([79, 81]万, [290, 310]人): near a threshold
    the words do not decide it, and a point would (296左右, 十万零一百左右 stay points, flagged approximate). The note keeps the words of a vague amount for the display and the
    chat's question when a verdict depends on them.
    """
    unit = field_unit(schema, key)
    if unit in ("date", "year"):
        return _date_fact(q, key, today, span, unit)
    factor = _in_unit(q, unit)
    integral = schema.fields[key].type == "int"
    if q.is_interval:
        low = None if q.low is None else round(q.low * factor, 6)
        high = None if q.high is None else round(q.high * factor, 6)
        low_open, high_open = q.low_open, q.high_open
        if integral and q.reading == "few" and low is not None and high is not None:
            low, high, low_open, high_open = float(int(low) + 1), float(-int(-high) - 1), False, False   # 十几个 → [11, 19]
        try:
            value = collapse(Interval(low, high, low_open and low is not None, high_open and high is not None))
        except ValueError:
            return None
        return Fact(key, value, span, True, q.text, how="interval", bound=q.reading in _BOUNDS)
    value = q.value * factor
    half = q.place * factor / 10
    if (q.reading == "about" and half > 0 and not (integral and half < 1)
            and abs(q.value) / q.place < _ROUND_DIGITS):     # 三百人左右 → [290, 310]; 十万零一百左右 stays a point
        value_range = Interval(round(value - half, 6), round(value + half, 6))
        return Fact(key, value_range, span, True, q.text, how="interval")
    approx = q.approx or q.kind == "kw"   # 千瓦 taken for 千伏安
    if integral:
        rounded = round(value)
        approx = approx or rounded != value
        return Fact(key, rounded, span, approx)
    return Fact(key, round(value, 4), span, approx)


def _date_fact(q: Quantity, key: str, today: date, span: str, unit: str) -> Fact | None:
    """A date (成立日期) or a calendar year (认定年份) from a date, a year or an age (成立8年 → 8 years ago)."""
    day: date | None = None
    approx = q.approx
    if q.kind == "date" and q.day:
        day = q.day
    elif q.kind == "bare" and q.yearlike:
        day = date(int(q.value), 1, 1)
    elif q.kind in ("year", "month") and unit == "date" and 0 <= q.value < 2400:
        age = q.low if q.low is not None else q.high   # 成立五年多 → 5 years back; 成立不到两年 → just under 2
        if age is None:
            return None
        day = _add_months(today, -round(age * (12 if q.kind == "year" else 1)))
        if q.low is None:
            day += timedelta(days=1)
        elif q.low_open:
            day -= timedelta(days=1)
        approx = approx or q.is_interval
    if day is None:
        return None
    if unit == "year":
        return Fact(key, day.year, span, approx)
    return Fact(key, day, span, approx, q.text if q.is_interval else "")


class ClauseReader:
    """Reads one clause; built once per message with the day relative dates count from."""

    def __init__(self, schema: FactSchema, today: date, expected: str | None = None) -> None:
        self.schema = schema
        self.lexicon = lexicon(schema)
        self.today = today
        self.expected = expected
        self.date_fields = tuple(k for k, s in schema.fields.items() if s.type == "date")
        words = self.lexicon.words
        self.year_fields: tuple[str, ...] = tuple(words["calendar_year_fields"])
        self.conversions = words["conversions"]
        self.period_override: dict[str, dict[str, str]] = words["period_override"]
        self.choice_priority: list[str] = words["choice_priority"]
        self.served: dict[str, list[str]] = words["served_parties"]
        self.status_members = set(schema.sets.get(_STATUS_SET, ()))
        activities = schema.tables.activities
        self.make_pattern = _product_pattern(activities.get("make"), activities.get("made"))
        self.goods_industry = "制造业"
        self.verb_industry = sorted((activities.get("verb_before_goods") or {}).items(), key=lambda p: len(p[0]), reverse=True)
        self.verb_after = sorted((activities.get("verb_after_goods") or {}).items(), key=lambda p: len(p[0]), reverse=True)
        self.tool_verbs = tuple(activities.get("tool_verbs") or ())
        self.equipment = tuple(activities.get("equipment") or ())
        self.premises = tuple(activities.get("premises") or ())
        self.goods_industries = {"制造业", "零售业", "批发业"}    # what goods words name before a verb says what is done
        self.verbs = {*(activities.get("sell") or ()), *(activities.get("make") or ()), *(activities.get("grow") or ()),
                      *(activities.get("open_shop") or ()), *(activities.get("grown") or ())}
        self.sell_pattern = _product_pattern(activities.get("sell"), None)
        self.wholesale_pattern = _product_pattern(activities.get("sell"), [f"给{b}" for b in activities.get("buyers") or ()])
        self.grow_pattern = _product_pattern(activities.get("grow"), activities.get("grown"))
        self.shop_pattern = _product_pattern(activities.get("open_shop"), activities.get("shops"))
        food_verbs = [*(activities.get("sell") or ()), *(activities.get("make") or ()), *(activities.get("open_shop") or ())]
        self.food_pattern = _product_pattern(food_verbs, activities.get("foods"))
        self.farm_pattern = _product_pattern(activities.get("grown"), activities.get("farm_places"), gap=2)

    def read(self, text: str, mode: str = "") -> Reading:
        """The facts of one clause; `mode` is what the message around it makes of it (hypothetical, question)."""
        lowered = normalize_case(text)   # same offsets: only ASCII letters change
        terms = self.lexicon.scan(lowered)
        masked = [(t.start, t.end) for t in terms
                  if _has_numeral(t.text) and any(t.has(k) for k in _MASKING)
                  and not (t.has("not_numbers") and lowered[t.end:t.end + 1] in _SCALE_AFTER)]
        quantities = find_quantities(lowered, masked, self.today)
        for q in quantities:
            q.text = text[q.start:q.end]
        reading = Reading(text, terms)
        reading.mode = "hypothetical" if mode == "hypothetical" else (_mode(terms) or mode)
        reading.correction = any(t.has("corrections") for t in terms)
        reading.acknowledged = reading.correction or any(
            t.has(k) for t in terms for k in ("unknown", "yes", "no", "none_of_set"))
        reading.content = _has_content(text, terms)
        if any(t.has("contact_words") for t in terms):
            for q in quantities:
                q.ignored = q.ignored or "contact"
        self._unit_before(lowered, terms, quantities)
        self._labelled(text, terms, reading)
        self._credit_code(text, lowered, terms, reading)
        self._owned(terms, quantities, reading)
        used_terms = self._numbers(text, terms, quantities, reading)
        self._loss_without_sum(text, terms, reading)
        self._relative_year(text, terms, reading)
        self._bools(text, terms, reading, used_terms)
        self._choices(text, lowered, terms, reading, used_terms)
        self._name_only(text, terms, reading)
        return reading

    def _unit_before(self, text: str, terms: list[Term], quantities: list[Quantity]) -> None:
        """"人二十", "人一百多", "人：86": a unit said before a bare number (words.yaml units_before), not inside a
        word."""
        units: dict[str, str] = self.lexicon.words["units_before"]
        for q in quantities:
            head = text[:q.start].rstrip(":：")
            unit = next((u for u in units if head.endswith(u)), "")
            if q.kind in ("bare", "classifier") and unit and not any(t.start < q.start <= t.end for t in terms):
                q.kind = units[unit]

    def _name_only(self, text: str, terms: list[Term], reading: Reading) -> None:
        """"许昌恒瑞高新材料有限公司": a clause that is a company name (or a name read from its label) names the
        enterprise; the words inside it (高新, 新材料, 科技) state nothing else but its form (有限公司)."""
        names = [f for f in reading.facts if f.field == "name"]
        if not names and "name" in self.schema.fields and _COMPANY_NAME.match(text.strip()) and \
                any(m.field == "county" for t in terms[:1] for m in t.of("choice")) | text.strip().startswith(_HOME):
            names = [Fact("name", text.strip(), text.strip(), how="stated")]
            reading.facts.append(names[0])
        if names:
            inside = names[0].value
            reading.facts = [f for f in reading.facts
                             if f.field in ("name", "entity_type") or not (f.span and f.span in inside)]

    def _labelled(self, text: str, terms: list[Term], reading: Reading) -> None:
        """"企业名称：许昌瑞丰发制品有限公司": a text field named by its label takes the rest of the clause, unless
        that is a placeholder (（略）, 暂无: words.yaml placeholders)."""
        for t in terms:
            for m in t.of("keyword"):
                rest = text[t.end:]
                if self.schema.fields[m.field].type == "str" and (rest[:1] in (":", "：") or rest.startswith(("是", "叫", "为"))):
                    value = rest.lstrip(":：是叫为 ").strip()
                    if value.strip("()（）[]【】 ").lower() in self.lexicon.words["placeholders"]:
                        reading.acknowledged = True
                    elif value:
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

    def _owned(self, terms: list[Term], quantities: list[Quantity], reading: Reading) -> None:
        """想贷个五十万, 注册资本五百万, 工资一个月三千, 2024年到期: the number belongs to a word that is no fact."""
        owners = [t for t in terms if t.has("number_owners")]
        live = [q for q in quantities if not q.ignored]
        for q in live:
            for t in owners:
                after = 0 <= q.start - t.end <= _OWNER_GAP and not any(
                    x is not q and t.end <= x.start and x.end <= q.start for x in live)
                if after or 0 <= t.start - q.end <= 1:
                    q.ignored = "owned"
                    reading.owned += 1
                    break

    # ------------------------------------------------------------------ numbers

    def _numbers(self, text: str, terms: list[Term], quantities: list[Quantity], reading: Reading) -> set[int]:
        """Pair numbers with keywords, nearest first, one to one; returns the keyword terms used."""
        live = [q for q in quantities if not q.ignored and not q.minor and q.kind not in NOT_FACTS]
        self._two_digit_years(text, terms, live)
        q_done: set[int] = set()
        used_terms: set[int] = set()
        daily = any(t.has("daily_words") for t in terms)
        for qi, ti, key, how in self._pairs(text, terms, live):
            if qi in q_done or ti in used_terms:
                continue
            q_done.add(qi)
            used_terms.add(ti)
            q, t = live[qi], terms[ti]
            if how != "direct":
                conv = next(c for c in self.conversions if c["field"] == key and c["how"] == how)
                reading.pending.append(Pending(key, conv["base"], how, q))
                continue
            key = self._total(key, terms, q)
            key = self._override(key, terms, ti, text)
            if daily and self.schema.fields[key].unit == "万元" and key in self._sales_fields():
                reading.owned += 1      # 一天营业额两三千: no monthly or yearly figure
                continue
            fact = self._fact(q, key, terms, text[min(q.start, t.start):max(q.end, t.end)])
            if fact is None:
                reading.leftovers.append(q)
            else:
                reading.facts.append(fact)
        reading.leftovers += [q for qi, q in enumerate(live) if qi not in q_done]
        return used_terms

    def _total(self, key: str, terms: list[Term], q: Quantity) -> str:
        """"一共三百一十人" beside its parts is the total they compose (从业人数), not one of the parts."""
        if any(t.has("total_words") and 0 <= q.start - t.end <= 1 for t in terms):
            return next((total for total, spec in self.schema.fields.items() for c in spec.compose
                         if c.kind == "sum" and key in c.inputs), key)
        return key

    def _sales_fields(self) -> set[str]:
        return {key for table in self.period_override.values() for key in table.values()} | set(self.period_override)

    def _pairs(self, text: str, terms: list[Term], live: list[Quantity]) -> list[tuple[int, int, str, str]]:
        """(quantity index, term index, field, how) for every keyword a number fits, nearest first.

        A keyword with another number between it and this one is pushed back, so "员工85人参保80人"
        gives 参保 the 80. A keyword followed by 是/为/： introduces the number after it, so it is pushed back
        from a number before it ("利润去年是一百八九十万资产是两千多万"). `how` is "direct" or the conversion that
        turns the number into the field.
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
                    if t.start >= q.end and text.startswith(_COPULAS, t.end):
                        d += 2
                    scored.append((d, qi, ti, m.field, how))
        scored.sort(key=lambda p: (p[0], p[1], p[2]))
        return [(qi, ti, key, how) for _, qi, ti, key, how in scored]

    def _fact(self, q: Quantity, key: str, terms: list[Term], span: str) -> Fact | None:
        """The fact for a number paired with a keyword, a loss word making a sum negative."""
        minimum = self.schema.fields[key].minimum
        if minimum is not None and minimum < 0 and any(t.has("loss_words") for t in terms) and q.value > 0:
            q.negate()
        return to_fact(self.schema, q, key, self.today, span)

    def _loss_without_sum(self, text: str, terms: list[Term], reading: Reading) -> None:
        """"去年亏损了" with no sum: the profit (a field that may be negative) is below 0; "还没盈利" at most 0."""
        cue = next((t for t in terms if t.has("loss_words") or t.has("no_profit_words")), None)
        if cue is None:
            return
        fields = self.schema.fields
        keys = [m.field for t in terms for m in t.of("keyword") if (fields[m.field].minimum or 0) < 0]
        default = self.lexicon.words["loss_field"]
        said = {f.field for f in reading.facts}
        value = Interval(None, 0.0, high_open=cue.has("loss_words"))
        for key in dict.fromkeys(keys or ([default] if default in fields else [])):
            if key not in said:
                reading.facts.append(Fact(key, value, text[cue.start:cue.end], True, cue.text, how="interval"))

    def _relative_year(self, text: str, terms: list[Term], reading: Reading) -> None:
        """"去年成立的", "去年重新认定了高企": that year, when no date was given for the fact; "上个月才拿的执照":
        that month (a date only)."""
        said = {f.field for f in reading.facts}
        for t in terms:
            back = next((int(m.value) for m in t.of("relative_year")), None)
            months = next((int(m.value) for m in t.of("relative_month")), None)
            if back is None and months is None:
                continue
            for u in terms:
                for m in u.of("keyword"):
                    if m.field in said or not 0 <= u.start - t.end <= 4:
                        continue
                    if months is not None:
                        if m.field not in self.date_fields:
                            continue
                        day = _add_months(self.today.replace(day=1), -months)
                        reading.facts.append(Fact(m.field, day, text[t.start:u.end], True))
                        said.add(m.field)
                        continue
                    year = self.today.year - (back or 0)
                    if m.field in self.date_fields:
                        reading.facts.append(Fact(m.field, date(year, 1, 1), text[t.start:u.end], True))
                    elif m.field in self.year_fields:
                        reading.facts.append(Fact(m.field, year, text[t.start:u.end]))
                    else:
                        continue
                    said.add(m.field)

    def _conversion(self, q: Quantity, key: str) -> str:
        """'percent_of' / 'share_of' when q converts into field `key` through another fact, else ''."""
        given = {"percent": "percent", "people": "people", "classifier": "people"}.get(q.kind, "")
        return next((c["how"] for c in self.conversions if c["field"] == key and c["given"] == given), "")

    def _override(self, key: str, terms: list[Term], chosen: int, text: str) -> str:
        """营收 said per month (每月 in the clause) or for a month named right before it (10月份开票…) is the monthly sales; per
        quarter (每季度), the quarterly sales."""
        table = self.period_override.get(key)
        if not table:
            return key
        for target in table.values():
            if any(m.field == target for i, t in enumerate(terms) if i != chosen for m in t.of("keyword")):
                return target
        if any(t.has("quarter_words") or t.has("quarter_name") for t in terms) and "quarter" in table:
            return table["quarter"]
        if "month" in table and any(m.end() == terms[chosen].start for m in _NAMED_MONTH.finditer(text)):
            return table["month"]
        return key

    def _two_digit_years(self, text: str, terms: list[Term], live: list[Quantity]) -> None:
        """"19年成立", "22年底的证书" are 2019 and 2022, while "成立19年" is a duration."""
        suffixes = tuple(sorted(self.lexicon.words["year_suffix"], key=len, reverse=True))
        for q in live:
            if q.kind != "year" or q.value != int(q.value) or not 0 <= q.value < 100 or q.is_interval:
                continue
            nxt = next((t for t in terms if t.start >= q.end), None)
            before_fact = nxt is not None and nxt.start - q.end <= 1 and any(
                m.field in self.date_fields or m.field in self.year_fields for m in nxt.of("keyword"))
            if before_fact or text.startswith(suffixes, q.end):
                year = 2000 + int(q.value) if 2000 + q.value <= self.today.year else 1900 + int(q.value)
                q.kind, q.day = "date", date(year, 1, 1)

    # ------------------------------------------------------------------ yes / no

    def _bools(self, text: str, terms: list[Term], reading: Reading, used_terms: set[int]) -> None:
        """Bool keywords (专利, 高企) true or negated false; negated numeric keywords 0; 不清楚 → unknown."""
        said = {f.field for f in reading.facts} | {p.field for p in reading.pending}
        fields = self.schema.fields
        named_status = False
        for i, t in enumerate(terms):
            scope = _scope(terms, i)
            if scope == "unknown":
                reading.unknown += [m.field for m in t.of("keyword") if m.field not in said]
                continue
            negated = scope == "negated"
            for key in dict.fromkeys(m.field for m in t.of("keyword") if fields[m.field].type == "bool"):
                if key in self.status_members:
                    named_status = True
                    held = False if negated else self._status(reading)
                    if held is not None:
                        reading.facts.append(Fact(key, held, _phrase(text, terms, i)))
                    continue
                reading.facts.append(Fact(key, not negated, _phrase(text, terms, i)))
            for m in t.of("false"):
                reading.facts.append(Fact(m.field, negated, _phrase(text, terms, i)))
            if not negated and _affirmed(terms, i) and reading.mode != "question":
                for key in (m.field for m in t.of("keyword")):
                    if fields[key].numeric and key not in said and i not in used_terms and (fields[key].minimum or 0) >= 0:
                        reading.facts.append(Fact(key, Interval(0.0, None, low_open=True), _phrase(text, terms, i), True,
                                                  "有", how="interval"))   # 研发也有投入: above 0
                        used_terms.add(i)
                        break
            if negated and not any(fields[m.field].type == "bool" for m in t.of("keyword")):
                zero = [m.field for m in t.of("keyword") if fields[m.field].numeric and m.field not in said
                        and (fields[m.field].minimum or 0) <= 0 and i not in used_terms]
                for key in zero:
                    reading.facts.append(Fact(key, 0, _phrase(text, terms, i)))
                    used_terms.add(i)
            if t.has("set") and (negated or any(x.has("none_of_set") for x in terms)):
                reading.sets_false += [m.field for m in t.of("set")]
        if not named_status:
            reading.status = self._status(reading, cues_only=True)

    def _status(self, reading: Reading, cues_only: bool = False) -> bool | None:
        """Whether a certification named in this clause is held now, from the cues around it.

        Lapsed, never recognised (还没评上), aimed at or past → not held; still valid → held; recognised in a year said in full
        ("2024年拿到的") or a certificate's year ("证书21年的") → the year only (None); a question about it → None; otherwise held. With
        `cues_only` (no certification named) only an explicit cue counts.
        """
        if reading.mode == "hypothetical":
            return None           # 万一明年复审没过: a supposition says nothing of the certificate held now
        cues = {"lapsed" if m.value == "recognised" and _scope(reading.terms, j) == "negated" else m.value
                for j, t in enumerate(reading.terms) for m in t.of("certificate_cues")}   # 还没评上: not held
        if "valid" in cues:
            return True
        if "lapsed" in cues or reading.mode in ("future", "past"):
            return False
        if cues_only or reading.mode in ("question", "hypothetical"):
            return None
        dated = any(f.field in self.lexicon.words["certificate_of"] for f in reading.facts)   # 高企证书21年的
        if ("recognised" in cues or dated) and _full_year(reading.text):
            return None
        return True

    # ------------------------------------------------------------------ choices

    def _choices(self, text: str, lowered: str, terms: list[Term], reading: Reading, used_terms: set[int]) -> None:
        """Choice words not already used as a number's keyword (研发投入50万 is no research industry),
        each with its weight; then an industry from a verb and a product (做编织袋的, 卖家电的)."""
        unknown_clause = any(t.has("unknown") for t in terms)
        registered = any(t.has("registration_words") for t in terms)
        branch = any(t.has("secondary_place_words") for t in terms)
        anchored = any(t.has("industry_anchors") for t in terms)
        moved = next((t.start for t in terms if t.has("moved_words")), -1)
        for i, t in enumerate(terms):
            if not t.has("choice") or unknown_clause or _other_party(text, terms, i, self.served) or _dated(text, t):
                continue
            if moved >= 0 and any(m.field == "county" for m in t.of("choice")):
                if t.start < moved:
                    continue      # 从郑州搬到长葛: the seat it left
                registered = True
            options: dict[str, int] = {}
            values: dict[str, str] = {}
            for m in t.of("choice"):
                if m.field == "industry" and i in used_terms:
                    continue      # 研发投入50万 is no research institute
                if m.weight > options.get(m.field, -1):
                    options[m.field], values[m.field] = m.weight, m.value
            if not options:
                continue
            key = next((k for k in self.choice_priority if k in options), next(iter(options)))
            keys = [key, *(k for k in _TOGETHER.get(key, ()) if k in options)]   # 软件公司: an industry and a 公司
            for key in keys:
                fact = self._choice(text, terms, i, key, values[key], options[key], registered, branch, anchored)
                if fact is not None:
                    reading.facts.append(fact)
        if "industry" in self.schema.fields and not unknown_clause:
            self._products(text, lowered, terms, reading)

    def _choice(self, text: str, terms: list[Term], i: int, key: str, value: str, weight: int, registered: bool,
                branch: bool, anchored: bool) -> Fact | None:
        """One choice word's fact, weighed: a registration word makes a place the registered one, a branch
        word makes it no fact, a line-of-business word makes an industry more likely."""
        if key == "county" and branch and not registered:
            return None
        if _scope(terms, i, forward=False) == "negated":
            others = [c for c in self.schema.fields[key].choices if c != value]
            if len(others) != 1 or _denier(terms, i) not in self.lexicon.words["complement_negations"]:
                return None                           # 没去复审 is no 首次认定
            value, weight = others[0], VALUE_WEIGHT   # 不是小规模 → 一般纳税人
        if key == "industry" and value not in self.goods_industries and text.startswith(self.equipment, terms[i].end):
            value = self.goods_industry                                # 仓储设备, 餐饮设备: goods made for the trade
        if key == "industry" and value == self.goods_industry:
            if self._tool(text, terms[i]):
                return None                                            # 开拖拉机犁地: a tool, no factory
            value = self._done_with(text, terms[i].start) or value     # 卖电动车 is no factory
        if key == "industry" and value in self.goods_industries:
            after = self._done_after(text, terms[i].end)                # 五金制造 is no shop
            value, weight = (after, max(weight, ACTIVITY_WEIGHT + len(terms[i].text) + 1)) if after else (value, weight)
        weight += 50 if (key == "county" and registered) else 0
        weight += 5 if (key == "industry" and anchored and weight > WEAK_WEIGHT) else 0
        how = "weak" if weight <= WEAK_WEIGHT else "stated" if weight >= VALUE_WEIGHT or key != "industry" else "inferred"
        return Fact(key, value, _phrase(text, terms, i), weight=weight, how=how)


    def _tool(self, text: str, term: Term) -> bool:
        """Goods right after a verb of using them (开拖拉机, 用无人机: activities.yaml tool_verbs) are the tools of
        the trade; a factory or a shop after 开 (开服装厂) is not."""
        head = text[max(0, term.start - 3):term.start]
        return head.endswith(self.tool_verbs) and not term.text.endswith(self.premises)

    def _done_with(self, text: str, start: int) -> str:
        """The industry of a verb right before a product (activities.yaml verb_before_goods), or ''."""
        head = text[max(0, start - 4):start].rstrip("个些点了的")
        return next((industry for verb, industry in self.verb_industry if head.endswith(verb)), "")

    def _done_after(self, text: str, end: int) -> str:
        """The industry of a verb right after goods (activities.yaml verb_after_goods: 五金制造, 家电维修), or ''."""
        tail = text[end:end + 3]
        return next((industry for verb, industry in self.verb_after if tail.startswith(verb)), "")

    def _products(self, text: str, lowered: str, terms: list[Term], reading: Reading) -> None:
        """做编织袋的 / 生产电缆 → 制造业, 卖家电的 → 零售业: a verb and a product name an industry (weight 3–4)."""
        if any(f.field == "industry" and f.weight > 6 for f in reading.facts):
            return
        patterns = ((self.food_pattern, "餐饮业", 6), (self.wholesale_pattern, "批发业", 5), (self.grow_pattern, "农林牧渔业", 4),
                    (self.farm_pattern, "农林牧渔业", 4), (self.sell_pattern, "零售业", 4), (self.make_pattern, "制造业", 3),
                    (self.shop_pattern, "零售业", 3))
        for pattern, industry, weight in patterns:
            if pattern is None or industry not in self.schema.fields["industry"].choices:
                continue
            m = next((m for m in pattern.finditer(lowered) if not _inside_keyword(terms, m.start(), self.verbs)
                      and (pattern is not self.sell_pattern or _names_goods(lowered, m))), None)
            if m and not _negated_at(terms, m.start()):
                reading.facts.append(Fact("industry", industry, text[m.start():m.end()], weight=weight, how="inferred"))
                return


def _dated(text: str, t: Term) -> bool:
    """"九月报上去了": a word that begins with a unit of time right after a numeral (九月 + 报) is a date,
    not the choice it spells (月报 = 按月)."""
    return t.text[0] in "年月季" and t.start > 0 and text[t.start - 1] in _NUMERAL_CHARS


def _doing_outsourced(terms: list[Term], i: int) -> bool:
    """做软件外包, 接外包: the enterprise does outsourced work for others (a bare 外包 right after 做/接 or a
    phrase that starts with them), which is what it does, not work it gives away (保安保洁外包了)."""
    if terms[i].text != "外包" or i == 0:
        return False
    before = terms[i - 1]
    return before.end == terms[i].start and before.text.startswith(("做", "接", "承接"))


def _mode(terms: list[Term]) -> str:
    """future / past when the clause speaks of what may come or what was (明年打算转成公司, 原来是小规模);
    outsourced when it speaks of work given to someone else (保安保洁是外包给物业公司的)."""
    if any(t.has("outsourced") and not _doing_outsourced(terms, i) for i, t in enumerate(terms)):
        return "outsourced"
    if any(t.has("future") for t in terms):
        return "future"
    if any(t.has("past") for t in terms):
        return "past"
    return ""


def _full_year(text: str) -> bool:
    """A year written in full or as 22年 (not 今年/去年): recognition then gives the year, not the status."""
    return re.search(r"(?:19|20)\d{2}|[〇零一二]{2}[〇零一二三四五六七八九]{2}年|(?<![0-9])\d{2}年", text) is not None


def _product_pattern(verbs: list[str] | None, products: list[str] | None, gap: int = 8) -> re.Pattern[str] | None:
    """A verb followed within `gap` characters by a word ending in a product suffix (or by anything)."""
    if not verbs:
        return None
    verb = "|".join(sorted(map(re.escape, verbs), key=len, reverse=True))
    if products is None:
        return re.compile(rf"(?:{verb})[\u4e00-\u9fffa-z0-9]{{1,6}}")
    made = "|".join(sorted(map(re.escape, products), key=len, reverse=True))
    return re.compile(rf"(?:{verb})[\u4e00-\u9fffa-z0-9]{{0,{gap}}}?(?:{made})") if made else None


def _has_content(text: str, terms: list[Term]) -> bool:
    """Whether a letter, digit or Chinese character is left once filler and language words are removed."""
    covered = [False] * len(text)
    for t in terms:
        if not any(m.kind in ("keyword", "choice", "false", "set") for m in t.meanings):
            covered[t.start:t.end] = [True] * (t.end - t.start)
    return any(not c and ch.isalnum() for ch, c in zip(text, covered))


def _has_numeral(text: str) -> bool:
    return any(ch in "〇零一二两三四五六七八九十百千万亿" or ch.isdigit() for ch in text)


_COPULAS = ("是", "为", ":", "：")
_NAMED_MONTH = re.compile(r"(?<![0-9个几半两一二三四五六七八九十])(?:1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])月份?(?![底初末中])")


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


_NAMING = {"叫", "名叫", "叫做", "名字叫", "名称是", "名字里有"}


def _other_party(text: str, terms: list[Term], i: int, served: dict[str, list[str]]) -> bool:
    """Whether term i names a customer or contractor: after 给/卖给/外包给 … with no verb in between; after a
    naming word (叫, 名叫, 叫做) the words of a name, though a name's legal form (…有限公司) is ours. After a
    party served (给人家搬家, 给村里打药, 给我定的是小规模: words.yaml served_parties) it is what we do or are."""
    for j in range(i - 1, -1, -1):
        t = terms[j]
        if t.has("other_party_prefix"):
            if t.text in _NAMING and any(m.field == "entity_type" for m in terms[i].of("choice")):
                return False
            if t.text in served["after"] and any(w in text[t.end:terms[i].start] for w in served["parties"]):
                return False
            return terms[i].start - t.end <= 8
        if t.has("keyword") or t.has("industry_anchors") or t.has("negations"):
            return False
    return False


def _names_goods(text: str, m: re.Match[str]) -> bool:
    """Whether the words after the verb name goods (卖家电), not an amount (卖个七八万) or a direction (卖给)."""
    rest = m.group()
    return not any(ch in _NUMERAL_CHARS for ch in rest[1:]) and not re.search(r"^(?:\w)(?:[个了的到出掉])", rest)


def _inside_keyword(terms: list[Term], pos: int, verbs: set[str]) -> bool:
    """Whether the verb at `pos` is part of a longer keyword (销售额, 销售收入) or neutral phrase (经营范围), not a
    verb of its own."""
    return any(t.start <= pos < t.end and (t.has("keyword") or t.has("neutral")) and t.text not in verbs for t in terms)


def _affirmed(terms: list[Term], i: int) -> bool:
    """"研发也有投入", "也搞点研发": a some-word right before or after the keyword."""
    near = [t for t in terms if t is not terms[i] and (0 <= terms[i].start - t.end <= 1 or 0 <= t.start - terms[i].end <= 1)]
    return any(t.has("some_words") for t in near)


def _negated_at(terms: list[Term], pos: int) -> bool:
    before = [t for t in terms if t.end <= pos]
    for t in reversed(before):
        if t.has("negations"):
            return pos - t.end <= 2
        if t.has("negation_breaks") or t.has("keyword") or t.has("choice"):
            return False
    return False


def _denier(terms: list[Term], i: int) -> str:
    """The negation word that reaches term i from before it (不是, 没), as _scope finds it."""
    for j in range(i - 1, -1, -1):
        t = terms[j]
        if t.has("negations"):
            return t.text
        if t.has("unknown") or t.has("negation_breaks") or t.has("keyword") or t.has("choice"):
            break
    return ""


def _scope(terms: list[Term], i: int, forward: bool = True) -> str:
    """'negated' / 'unknown' when a negation or an unknown-word reaches term i, else ''.

    Backwards, the nearest negation (没有, 不是, 哪有) or unknown-word wins unless a break word (是, 有, 但)
    comes first; forwards, a negation soon after the word that ends the clause ("专利没有", "研发那肯定没有")
    counts.
    """
    for j in range(i - 1, -1, -1):
        t = terms[j]
        if t.has("unknown"):
            return "unknown"
        if t.has("negations"):
            return "negated"
        if t.has("negation_breaks") or t.has("keyword") or t.has("choice"):
            break
    rest = terms[i + 1:] if forward else []
    for k, nxt in enumerate(rest):
        if nxt.has("keyword") or nxt.has("choice") or nxt.start - terms[i].end > 6:
            break
        if any(x.has("keyword") or x.has("choice") for x in rest[k + 1:]):
            break
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
