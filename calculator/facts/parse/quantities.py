"""Quantities in a clause: a numeral with its unit, hedge, bound, range and sign, as a point or an interval.

"不到300人" → people in (null, 300); "每月卖个七八万" → [70000, 80000]; "三百来万" → [3000000, 4000000);
"大概80万" → the point 800000, approximate; "2019年" and "去年12月" → calendar dates; "第二十八条", "3C",
"5G" and phone numbers → not quantities at all. How the words bound a number is data (words.yaml
number_prefix / number_suffix). Which profile fact a quantity belongs to is decided later (facts.py),
from the keywords around it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from calculator.facts.parse.lexicon import word_lists
from calculator.facts.parse.numerals import BIG_UNITS, CN_DIGITS, CN_NUMERAL_CHARS, SMALL_UNITS, Numeral, parse_numeral

_DIGITS = "0-9〇零一二两三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖"
_CN_START = "".join(CN_DIGITS) + "十拾廿卅几"
_NUMERAL = re.compile(
    rf"(?:[0-9]+(?:,[0-9]{{3}})*(?:\.[0-9]+)?|[{_CN_START}]|半(?=年|个月))"
    rf"(?:[0-9]+(?:,[0-9]{{3}})*(?:\.[0-9]+)?|[{CN_NUMERAL_CHARS}廿卅几]|点(?=[{_DIGITS}])|个(?=[亿万]))*"
)
_FULL_DATE = re.compile(r"((?:19|20)\d{2})(?:年|-|/|\.)(\d{1,2})(?:月|-|/|\.)(\d{1,2})(?:日|号)?")
_YEAR_MONTH = re.compile(r"((?:19|20)\d{2})(?:年(\d{1,2})月(?:份)?|[-/.](\d{1,2})(?![0-9.万亿千百元块%]))")
_SHORT_YEAR_MONTH = re.compile(r"(?<![0-9])(\d{2})年(\d{1,2})月(?:份)?")   # 24年12月份: a year said by its last two digits
_PHONE = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})(?![0-9])")
_MONTH = re.compile(r"(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])月(?:份)?")
_GAP = "是有为了达共在就个"      # may stand between a hedge and its number: "大概是80万", "大概卖个80万"
_SCALE_AFTER_SUFFIX = {**SMALL_UNITS, **BIG_UNITS}  # 300多万: the scale comes after 多
_AFTER_NUMERAL = re.compile(r"个?(?P<more>多(?!少)|余|来(?!自|的时候))?个?(?P<scale>[十百千万亿](?!分))?")
_FORMAL = set("壹贰貳叁參肆伍陆陸柒捌玖拾佰仟萬億")
_HALF = re.compile(r"个?半([万亿])")
# 占六成, 七成以上: tenths are a percentage (not 成本, 成立, 成功 …)
_TENTHS = re.compile(r"(?<![0-9零一二两三四五六七八九十百千万])(?P<digit>[一二两三四五六七八九]|[1-9])成(?![本立功交员品果绩为长都熟型])")
_INTERVAL_READINGS = {"lai", "duo", "chutou", "order", "below", "at_most", "above", "at_least", "range", "few"}


@dataclass
class Quantity:
    """A number found in a clause, in absolute units (money in 元: 8万 = 80000); dates carry `day`.

    `value` is the number said (the low end of a range); `low`/`high` (None: unbounded) and their
    openness hold the interval the words give, equal to `value` for a plain number. `reading` says how
    the words bound it (see words.yaml): "" | about | lai | duo | chutou | order | few | range | below
    | at_most | above | at_least.
    """

    start: int
    end: int
    text: str
    value: float = 0.0
    kind: str = "bare"    # bare | scaled | money | people | percent | month | year | kva | kw | classifier | count | date
    approx: bool = False
    low: float | None = 0.0
    high: float | None = 0.0
    low_open: bool = False
    high_open: bool = False
    reading: str = ""
    place: float = 1.0       # the value of the last digit (三百 → 100), for 来/多/出头
    day: date | None = None
    yearlike: bool = False   # a bare 4-digit number that could be a year (2019)
    minor: bool = False      # one Chinese digit with no unit (一家, 一直): not worth reporting
    ignored: str = ""        # why this is no fact: ordinal, code, phone, vague, contact
    scale: float = 0.0       # the numeral's trailing unit (10000 in 8万); 0 when it has none

    @property
    def is_interval(self) -> bool:
        return self.reading in _INTERVAL_READINGS

    def set_point(self, value: float) -> None:
        self.value = self.low = self.high = value
        self.low_open = self.high_open = False

    def times(self, factor: float) -> None:
        """Scale the number and its interval (300多 × 万)."""
        self.value *= factor
        self.place *= factor
        self.low = None if self.low is None else self.low * factor
        self.high = None if self.high is None else self.high * factor

    def negate(self) -> None:
        """A loss: 亏了十来万 is (−20万, −10万]."""
        self.value = -self.value
        self.low, self.high = (None if self.high is None else -self.high), (None if self.low is None else -self.low)
        self.low_open, self.high_open = self.high_open, self.low_open

    def widen(self, reading: str) -> None:
        """Apply a reading of words.yaml to the number said."""
        v, place = self.value, self.place
        self.approx = True
        if reading == "about" and not self.reading:
            self.reading = "about"     # a point said roughly: its width is set with the field's unit (to_fact)
        if reading == "about" or (self.is_interval and reading in ("lai", "duo", "chutou")):
            return          # 大概三百来万: the vaguer words already set the interval
        self.reading = reading
        if reading == "lai":
            self.low, self.high, self.low_open, self.high_open = v, v + place, False, True
        elif reading == "duo":
            self.low, self.high, self.low_open, self.high_open = v, v + place, True, True
        elif reading == "chutou":
            self.low, self.high, self.low_open, self.high_open = v, v + place / 10, True, False
        elif reading == "order":
            self.low, self.high, self.low_open, self.high_open = v, v * 10, False, True
        elif reading in ("below", "at_most"):
            top = v if self.high is None else self.high
            self.low, self.high, self.low_open, self.high_open = None, top, False, reading == "below"
        elif reading in ("above", "at_least"):
            bottom = v if self.low is None else self.low
            self.low, self.high, self.low_open, self.high_open = bottom, None, reading == "above", False


def _unit_table() -> list[tuple[str, str]]:
    units = word_lists()["units"]
    pairs = [(word, kind) for kind, words in units.items() for word in words]
    people = word_lists()["person_nouns"]
    pairs += [(f"{c}{noun}", "people") for noun in people for c in ("", "个", "名", "位", "号")]
    return sorted(set(pairs), key=lambda p: len(p[0]), reverse=True)


def _words(name: str) -> list[str]:
    return sorted(word_lists()[name], key=len, reverse=True)


def _readings(name: str) -> list[tuple[str, str]]:
    """(word, reading) pairs of number_prefix / number_suffix, longest word first."""
    table: dict[str, list[str]] = word_lists()[name]
    return sorted(((w, r) for r, words in table.items() for w in words), key=lambda p: len(p[0]), reverse=True)


def _startswith_any(text: str, pos: int, words: list[str]) -> str:
    for word in words:
        if text.startswith(word, pos):
            return word
    return ""


def _prefix(text: str, start: int, words: list[str]) -> str:
    """A word from `words` right before `start`, allowing up to two gap characters (大概是80万)."""
    head = text[:start]
    for _ in range(3):
        for word in words:
            if head.endswith(word):
                return word
        if not head or head[-1] not in _GAP:
            return ""
        head = head[:-1]
    return ""


class QuantityFinder:
    """Finds quantities; built once from words.yaml."""

    def __init__(self) -> None:
        vocabulary = word_lists()
        self.units = _unit_table()
        self.unit_words = [w for w, _ in self.units]
        self.code_units = [w for w, k in self.units if k in ("kva", "kw", "money")]
        self.numeral_unit_words = [w for w, _ in self.units if w[0] in "千百万亿十"]  # 千伏安 is a unit, not 千
        self.prefix_readings = _readings("number_prefix")
        self.prefix_words = [w for w, _ in self.prefix_readings]
        self.suffix_readings = _readings("number_suffix")
        self.connectors = _words("range_connectors")
        self.percent_prefix = _words("percent_prefix")
        self.currency_prefix = _words("currency_prefix")
        self.ordinal_prefix = _words("ordinal_prefix")
        self.minus_prefix = _words("minus_prefix")
        self.implicit_readings: dict[str, str] = vocabulary["implicit_one"]
        words = "|".join(sorted(map(re.escape, self.implicit_readings), key=len, reverse=True))
        self.implicit = re.compile(rf"(?P<word>{words})(?P<scale>百万|千万|[百千万亿])(?![0-9{CN_NUMERAL_CHARS}])")
        ba = "".join(vocabulary["ba_scales"])
        self.ba = re.compile(rf"(?<![0-9{CN_NUMERAL_CHARS}])(?P<unit>[{ba}])[把来](?P<scale>[万亿])?")
        self.some_of: dict[str, dict[str, float | bool]] = vocabulary["some_of_unit"]
        some = "|".join(sorted(map(re.escape, self.some_of), key=len, reverse=True))
        self.some = re.compile(rf"(?<![0-9{CN_NUMERAL_CHARS}])(?P<word>{some})(?P<unit>[十百千万])(?P<scale>[万亿])?")
        halves = "|".join(sorted(map(re.escape, (w for w in self.some_of if len(w) > 1)), key=len, reverse=True))
        self.some_after = re.compile(rf"(?<![0-9{CN_NUMERAL_CHARS}])(?P<base>[{_CN_START}]*[十百千万])(?P<word>{halves})"
                                     rf"(?P<unit>[十百千])?(?P<scale>[万亿])?")
        under = "|".join(map(re.escape, vocabulary["just_under"]))
        self.just_under = re.compile(
            rf"(?<![0-9{CN_NUMERAL_CHARS}])(?:{under})(?P<digit>[一二两三四五六七八九])(?P<unit>[十百千万])(?P<scale>[万亿])?")
        hundred = "|".join(sorted(map(re.escape, vocabulary["about_a_hundred"]), key=len, reverse=True))
        self.hundred = re.compile(rf"(?<![0-9{CN_NUMERAL_CHARS}])(?:{hundred})(?P<scale>[万亿])?")
        self.not_after: dict[str, list[str]] = vocabulary["prefix_not_after"]
        years = "|".join(sorted(map(re.escape, vocabulary["relative_years"]), key=len, reverse=True))
        self.relative = re.compile(rf"(?P<word>{years})(?P<month>{_MONTH.pattern})")
        self.relative_back: dict[str, int] = vocabulary["relative_years"]

    # ------------------------------------------------------------------ scanning

    def find(self, text: str, masked: list[tuple[int, int]], today: date) -> list[Quantity]:
        """All quantities in `text`, skipping the masked spans (words such as 十四五 or 一般纳税人)."""
        chars = list(text)
        for a, b in masked:
            chars[a:b] = "\x00" * (b - a)
        found: list[Quantity] = []
        for pattern, maker in ((_PHONE, self._phone), (_FULL_DATE, self._full_date), (_YEAR_MONTH, self._year_month)):
            for m in pattern.finditer("".join(chars)):
                found.append(maker(m))
                chars[m.start():m.end()] = "\x00" * (m.end() - m.start())
        for m in _SHORT_YEAR_MONTH.finditer("".join(chars)):
            year = 2000 + int(m.group(1))
            found.append(self._year_month(m, year if year <= today.year else year - 100))
            chars[m.start():m.end()] = "\x00" * (m.end() - m.start())
        for m in self.relative.finditer("".join(chars)):
            found.append(self._relative_month(m, today))
            chars[m.start():m.end()] = "\x00" * (m.end() - m.start())
        scan = "".join(chars)
        for pattern, make in ((_TENTHS, self._tenths), (self.some_after, self._some_after), (self.some, self._some),
                              (self.just_under, self._just_under), (self.hundred, self._hundred),
                              (self.implicit, self._implicit_one), (self.ba, self._ba)):
            for m in pattern.finditer(scan):
                vague = make(scan, m)
                if vague is None:
                    continue
                found.append(vague)
                chars[m.start():m.end()] = "\x00" * (m.end() - m.start())
            scan = "".join(chars)
        numbers = [self._number(scan, m) for m in _NUMERAL.finditer(scan)]
        found += self._join_ranges(scan, [q for q in numbers if q is not None])
        return sorted(found, key=lambda q: q.start)

    def _implicit_one(self, text: str, m: re.Match[str]) -> Quantity:
        """营收过亿 → more than 1亿; 员工上千人 → at least 1000 people; 近千人 → fewer than 1000."""
        value = 1.0
        for ch in m.group("scale"):
            value *= _SCALE_AFTER_SUFFIX[ch]
        q = Quantity(m.start(), m.end(), m.group(), kind="scaled" if any(ch in BIG_UNITS for ch in m.group("scale")) else "bare")
        q.set_point(value)
        q.widen(self.implicit_readings[m.group("word")])
        self._read_after(text, q)
        q.text = text[q.start:q.end]
        return q

    def _ba(self, text: str, m: re.Match[str]) -> Quantity:
        """百把万, 百来万 → [100万, 200万); 万把块 → [1万, 2万)."""
        unit = _SCALE_AFTER_SUFFIX[m.group("unit")]
        q = Quantity(m.start(), m.end(), m.group(), kind="scaled" if m.group("unit") in BIG_UNITS else "bare")
        q.set_point(unit)
        q.place = unit
        q.widen("lai")
        if m.group("scale"):
            q.times(_SCALE_AFTER_SUFFIX[m.group("scale")])
            q.kind = "scaled"
        self._read_after(text, q)
        q.text = text[q.start:q.end]
        return q

    def _scaled(self, text: str, m: re.Match[str], value: float, low: float, high: float,
                low_open: bool, high_open: bool) -> Quantity:
        """A vague amount read by a pattern: [low, high] of the unit, times the scale after it (万, 亿)."""
        big = m.groupdict().get("unit") in BIG_UNITS
        q = Quantity(m.start(), m.end(), m.group(), kind="scaled" if big or m.group("scale") else "bare", approx=True,
                     reading="range")
        q.set_point(value)
        q.low, q.high, q.low_open, q.high_open = low, high, low_open, high_open
        if m.group("scale"):
            q.times(_SCALE_AFTER_SUFFIX[m.group("scale")])
        self._read_after(text, q)
        q.text = text[q.start:q.end]
        return q

    def _some(self, text: str, m: re.Match[str]) -> Quantity:
        """几十万 → [20万, 100万); 大几十万 → [50万, 100万); 几百人 → [200, 1000) (words.yaml some_of_unit)."""
        unit = _SCALE_AFTER_SUFFIX[m.group("unit")]
        r = self.some_of[m.group("word")]
        low, high = float(r["low"]) * unit, float(r["high"]) * unit
        return self._scaled(text, m, low, low, high, bool(r["low_open"]), bool(r["high_open"]))

    def _some_after(self, text: str, m: re.Match[str]) -> Quantity | None:
        """一百大几十人 → [150, 200); 一千大几百 → [1500, 2000); 十大几 → [15, 20): the half of the place below the
        number, added to it."""
        base = parse_numeral(m.group("base"))
        if base is None or base.is_range:
            return None
        unit = _SCALE_AFTER_SUFFIX[m.group("unit")] if m.group("unit") else base.place / 10
        if unit >= base.place:
            return None
        r = self.some_of[m.group("word")]
        low, high = base.low + float(r["low"]) * unit, base.low + float(r["high"]) * unit
        return self._scaled(text, m, low, low, high, bool(r["low_open"]), bool(r["high_open"]))

    def _just_under(self, text: str, m: re.Match[str]) -> Quantity:
        """小一百万 → (null, 100万): a little under the round number, like 接近."""
        numeral = parse_numeral(m.group("digit") + m.group("unit"))
        top = numeral.low if numeral else 0.0
        q = self._scaled(text, m, top, top, top, False, False)
        q.widen("below")
        return q

    def _hundred(self, text: str, m: re.Match[str]) -> Quantity:
        """百十来个人 → [100, 120): about a hundred."""
        return self._scaled(text, m, 100.0, 100.0, 120.0, False, True)

    def _tenths(self, text: str, m: re.Match[str]) -> Quantity:
        """研发人员占六成 → 60 %."""
        numeral = parse_numeral(m.group("digit"))
        q = Quantity(m.start(), m.end(), m.group(), kind="percent")
        q.set_point((numeral.low if numeral else 0.0) * 10)
        q.place = 10
        self._read_after(text, q)
        q.text = text[q.start:q.end]
        return q

    def _phone(self, m: re.Match[str]) -> Quantity:
        return Quantity(m.start(), m.end(), m.group(), ignored="phone")

    def _full_date(self, m: re.Match[str]) -> Quantity:
        y, mo, d = (int(g) for g in m.groups())
        try:
            return Quantity(m.start(), m.end(), m.group(), kind="date", day=date(y, mo, d))
        except ValueError:
            return Quantity(m.start(), m.end(), m.group(), ignored="code")

    def _year_month(self, m: re.Match[str], year: int = 0) -> Quantity:
        """2019年6月, 2019-06; 24年12月 with the year worked out by the caller."""
        y, mo = year or int(m.group(1)), int(m.group(2) or m.group(3)) if not year else int(m.group(2))
        if not 1 <= mo <= 12:
            return Quantity(m.start(), m.end(), m.group(), ignored="code")
        return Quantity(m.start(), m.end(), m.group(), kind="date", day=date(y, mo, 1))

    def _relative_month(self, m: re.Match[str], today: date) -> Quantity:
        """去年12月, 今年3月 → the first day of that month, counted from the day asked."""
        raw = m.group("month").rstrip("份").rstrip("月")
        numeral = parse_numeral(raw)
        month = int(numeral.low) if numeral else 0
        if not 1 <= month <= 12:
            return Quantity(m.start(), m.end(), m.group(), ignored="code")
        year = today.year - self.relative_back[m.group("word")]
        return Quantity(m.start(), m.end(), m.group(), kind="date", day=date(year, month, 1))

    def _number(self, text: str, m: re.Match[str]) -> Quantity | None:
        start = m.start()
        raw = m.group()
        for k in range(1, len(raw)):  # 630千伏安: the 千 belongs to the unit
            if _startswith_any(text, start + k, self.numeral_unit_words):
                raw = raw[:k]
                break
        raw = raw.rstrip("个点")
        if not raw:
            return None
        q = Quantity(start, start + len(raw), raw)
        if len(raw) == 1 and raw in _FORMAL and not self._unit_follows(text, start + 1):
            return None          # 退伍, 收拾, 陆续: a lone 大写 character is a word, not a number (员工拾人 is 10)
        numeral = Numeral(0.5, 0.5, 1.0, False, 0.1) if raw == "半" else parse_numeral(raw)
        if numeral is None:
            q.ignored = "vague"
            return q
        q.set_point(numeral.low)
        q.place = numeral.place
        if numeral.is_range:
            q.high, q.low_open, q.high_open = numeral.high, numeral.open, numeral.open
            q.reading, q.approx = ("few" if numeral.open else "range"), True
        q.scale = numeral.scale if numeral.has_units else 0.0
        arabic = raw[0].isascii()
        if self._context_ignored(text, start, q.end, arabic, q):
            return q
        if any(ch in raw for ch in BIG_UNITS):
            q.kind = "scaled"   # 1200万, 1万2: money unless a unit says otherwise
        self._read_after(text, q)
        self._read_before(text, q)
        if q.kind == "bare" and arabic and "." not in raw and len(raw) == 4 and 1900 <= q.value <= 2100:
            q.yearlike = True
        if q.kind == "year" and 1900 <= q.value <= 2100 and q.value == int(q.value) and not q.is_interval and (
                len(raw) == 4 or not arabic):   # 2019年, 二〇一九年, 两千零二十年
            q.kind, q.day = "date", date(int(q.value), 1, 1)
        if (q.kind == "bare" and not arabic and len(raw) == 1 and raw in "〇零一二两三四五六七八九"
                and not q.reading and not q.approx):
            q.minor = True
        q.text = text[q.start:q.end]
        return q

    def _context_ignored(self, text: str, start: int, end: int, arabic: bool, q: Quantity) -> bool:
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if _prefix(text, start, self.ordinal_prefix):
            q.ignored = "ordinal"
        elif arabic and ((before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())
                         or _in_model_code(text, start, end)):
            if not _startswith_any(text, end, self.code_units):
                q.ignored = "code"   # 3C, 5G, ISO9001, SCB13-1250
        elif arabic and len(q.text.replace(",", "").split(".")[0]) >= 9 and not self._unit_follows(text, end):
            q.ignored = "code"   # an ID, account or phone number without a unit
        return bool(q.ignored)

    def _read_after(self, text: str, q: Quantity) -> None:
        """多/来 and a scale after them (300多万, 三个多亿), the unit, then hedges and bounds (左右, 以内, 出头)."""
        pos = q.end
        half = _HALF.match(text, pos)
        if half:      # 一个半亿 = 1.5亿
            q.set_point(q.value + 0.5)
            q.times(_SCALE_AFTER_SUFFIX[half.group(1)])
            q.kind, pos = "scaled", half.end()
        m = _AFTER_NUMERAL.match(text, pos)
        more = m.group("more") if m else None
        if m and m.group("scale") and (more or m.group()[0] == "个"):
            if more:
                q.widen("duo" if more in ("多", "余") else "lai")
            q.times(_SCALE_AFTER_SUFFIX[m.group("scale")])   # 300多万, 3个多亿
            q.kind = "scaled" if m.group("scale") in BIG_UNITS else q.kind
            pos = m.end()
        elif m and more:
            q.widen("duo" if more in ("多", "余") else "lai")   # 三百多人, 两百来人, 六百多
            pos = m.end("more")
        pos, unit = self._unit(text, q, pos)
        for _ in range(2):
            word = next(((w, r) for w, r in self.suffix_readings if text.startswith(w, pos)
                         and (not w.isascii() or self._ends_sign(text, pos + len(w)))), None)
            if word is None:
                break
            q.widen(word[1])
            pos += len(word[0])
        if not unit:           # 二十好几个人: the unit after the hedge
            pos, _ = self._unit(text, q, pos)
        q.end = pos

    def _ends_sign(self, text: str, pos: int) -> bool:
        """A sign after a number (100+) bounds it when the number ends there or its unit follows; before
        another word or number it joins them (正式工280+派遣40)."""
        return pos >= len(text) or not text[pos].isalnum() or _startswith_any(text, pos, self.unit_words) != ""

    def _unit(self, text: str, q: Quantity, pos: int) -> tuple[int, bool]:
        """The unit word at `pos` (人, 万元, 个月 …) sets the quantity's kind; returns the new position."""
        for unit, kind in self.units:
            if text.startswith(unit, pos):
                q.kind = kind
                pos += len(unit)
                if kind == "year" and text.startswith("半", pos):
                    q.set_point(q.value + 0.5)
                    pos += 1
                elif kind in ("year", "month") and text.startswith("多", pos):
                    q.widen("duo")   # 五年多, 三个月多
                    pos += 1
                return pos, True
        return pos, False

    def _read_before(self, text: str, q: Quantity) -> None:
        """Prefix hedges and bounds (大概, 不到, 不超过), 百分之, a currency sign (¥) and a minus sign."""
        start = q.start
        word = _prefix(text, start, self.percent_prefix)
        if word:
            q.kind = "percent"
            start = text.rfind(word, 0, start)
        sign = _prefix(text, start, self.currency_prefix)
        if sign and q.kind in ("bare", "scaled"):
            q.kind = "money"     # ¥96,000: 元 (¥9.6万 stays 万)
            start = text.rfind(sign, 0, start)
        for _ in range(2):   # 大概不到300, 不到大概300
            bound_word = _prefix(text, start, self.prefix_words)
            if not bound_word:
                break
            at = text.rfind(bound_word, 0, start)
            if at > 0 and text[at - 1] in self.not_after.get(bound_word, ()):
                break            # 最近两年 is no "fewer than two years"
            q.widen(dict(self.prefix_readings)[bound_word])
            start = text.rfind(bound_word, 0, start)
        minus = _prefix(text, start, self.minus_prefix)
        if minus or (start and text[start - 1] in "-－" and not (start > 1 and text[start - 2].isdigit())):
            q.negate()
            start = text.rfind(minus, 0, start) if minus else start - 1
        q.start = start

    def _join_ranges(self, text: str, numbers: list[Quantity]) -> list[Quantity]:
        """5到8万 → [5万, 8万]; a plain first number takes the second's scale and unit."""
        out: list[Quantity] = []
        i = 0
        while i < len(numbers):
            a = numbers[i]
            b = numbers[i + 1] if i + 1 < len(numbers) else None
            if (b and not a.ignored and not b.ignored and not a.reading and text[a.end:b.start] in self.connectors
                    and a.kind in ("bare", b.kind) and b.low is not None and b.high is not None):
                low = a.value
                if not a.scale and b.scale and low * b.scale <= b.value:
                    low *= b.scale
                if low <= b.high:
                    q = Quantity(a.start, b.end, text[a.start:b.end], kind=b.kind, approx=True, scale=b.scale,
                                 place=b.place, reading="range")
                    q.value, q.low, q.high, q.high_open = low, low, b.high, b.high_open
                    self._read_after_range(text, q)
                    out.append(q)
                    i += 2
                    continue
            out.append(a)
            i += 1
        return out

    def _read_after_range(self, text: str, q: Quantity) -> None:
        """之间 after a range ("10.1万到10.5万之间") belongs to it."""
        for word in ("之间", "中间"):
            if text.startswith(word, q.end):
                q.end += len(word)
                q.text = text[q.start:q.end]

    def _unit_follows(self, text: str, pos: int) -> bool:
        """Whether a unit word or a 万/亿 scale follows `pos` (then a long digit run is still a quantity)."""
        return pos < len(text) and (text[pos] in BIG_UNITS or _startswith_any(text, pos, self.unit_words) != "")


_CODE_CHARS = re.compile(r"[0-9a-z\-/.]*")


def _in_model_code(text: str, start: int, end: int) -> bool:
    """Whether the number at [start, end) is joined by a hyphen to a token with letters: KYN28-12 and SCB13-1250
    are model designations, not 12 or 1250 of anything."""
    head = text[:start]
    token = head[len(head.rstrip("0123456789abcdefghijklmnopqrstuvwxyz-/.")):] + text[start:end]
    after = _CODE_CHARS.match(text, end)
    token += after.group() if after else ""
    return "-" in token and any(ch.isascii() and ch.isalpha() for ch in token)


@lru_cache(maxsize=1)
def _finder() -> QuantityFinder:
    return QuantityFinder()


def find_quantities(text: str, masked: list[tuple[int, int]], today: date) -> list[Quantity]:
    """Quantities in one clause (see QuantityFinder.find); relative dates count from `today`."""
    return _finder().find(text, masked, today)
