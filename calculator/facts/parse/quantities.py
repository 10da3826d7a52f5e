"""Quantities in a clause: a numeral with its unit, hedge, bound, range and sign.

"不到300人" → 300 people, strict upper bound; "每月卖个七八万" → 75000 (a range, approximate); "2019年" →
a calendar year; "第二十八条", "3C", "5G" and phone numbers → not quantities at all. Which profile fact a
quantity belongs to is decided later (facts.py), from the keywords around it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from calculator.facts.parse.lexicon import word_lists
from calculator.facts.parse.numerals import BIG_UNITS, SMALL_UNITS, Numeral, parse_numeral

_DIGITS = "0-9〇零一二两三四五六七八九"
_NUMERAL = re.compile(
    rf"(?:[0-9]+(?:,[0-9]{{3}})*(?:\.[0-9]+)?|[〇零一二两三四五六七八九十廿卅几]|半(?=年|个月))"
    rf"(?:[0-9]+(?:,[0-9]{{3}})*(?:\.[0-9]+)?|[〇零一二两三四五六七八九十百千万亿廿卅几]|点(?=[{_DIGITS}])|个(?=[亿万]))*"
)
_FULL_DATE = re.compile(r"((?:19|20)\d{2})(?:年|-|/|\.)(\d{1,2})(?:月|-|/|\.)(\d{1,2})(?:日|号)?")
_YEAR_MONTH = re.compile(r"((?:19|20)\d{2})(?:年(\d{1,2})月(?:份)?|[-/.](\d{1,2})(?![0-9.万亿千百元块%]))")
_PHONE = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})(?![0-9])")
_GAP = "是有为了达共在就"       # may stand between a hedge and its number: "大概是80万"
_SCALE_AFTER_SUFFIX = {**SMALL_UNITS, **BIG_UNITS}  # 300多万: the scale comes after 多
_AFTER_NUMERAL = re.compile(r"个?(?P<more>多|余|来)?个?(?P<scale>[十百千万亿](?!分))?")  # not 三个百分点


@dataclass
class Quantity:
    """A number found in a clause. `value` is absolute (money in 元, 8万 = 80000); dates carry `day`."""

    start: int
    end: int
    text: str
    value: float = 0.0
    kind: str = "bare"    # bare | scaled | money | people | percent | month | year | kva | kw | classifier | count | date
    approx: bool = False
    bound: str = ""       # "" | lt | le | gt | ge   (the true value is < ≤ > ≥ value)
    day: date | None = None
    yearlike: bool = False   # a bare 4-digit number that could be a year (2019)
    minor: bool = False      # one Chinese digit with no unit (一家, 一直): not worth reporting
    ignored: str = ""        # why this is no fact: ordinal, code, phone, vague, contact
    scale: float = 0.0       # the numeral's trailing unit (10000 in 8万); 0 when it has none


def _unit_table() -> list[tuple[str, str]]:
    units = word_lists()["units"]
    pairs = [(word, kind) for kind, words in units.items() for word in words]
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)


def _words(name: str) -> list[str]:
    return sorted(word_lists()[name], key=len, reverse=True)


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
        self.approx_prefix = _words("approx_prefix")
        self.approx_suffix = _words("approx_suffix")
        self.bound_prefix = [(w, b) for name, b in (("below_strict_prefix", "lt"), ("below_inclusive_prefix", "le"),
                                                    ("above_strict_prefix", "gt"), ("above_inclusive_prefix", "ge"))
                             for w in vocabulary[name]]
        self.bound_prefix.sort(key=lambda p: len(p[0]), reverse=True)
        self.bound_suffix = [(w, b) for name, b in (("below_inclusive_suffix", "le"), ("above_strict_suffix", "gt"),
                                                    ("above_inclusive_suffix", "ge"))
                             for w in vocabulary[name]]
        self.bound_suffix.sort(key=lambda p: len(p[0]), reverse=True)
        self.connectors = _words("range_connectors")
        self.percent_prefix = _words("percent_prefix")
        self.ordinal_prefix = _words("ordinal_prefix")
        self.minus_prefix = _words("minus_prefix")
        self.implicit_bounds: dict[str, str] = word_lists()["implicit_one"]
        words = "|".join(sorted(map(re.escape, self.implicit_bounds), key=len, reverse=True))
        self.implicit = re.compile(rf"(?P<word>{words})(?P<scale>百万|千万|[百千万亿])(?![0-9〇零一二两三四五六七八九十])")

    # ------------------------------------------------------------------ scanning

    def find(self, text: str, masked: list[tuple[int, int]]) -> list[Quantity]:
        """All quantities in `text`, skipping the masked spans (words such as 十四五 or 一般纳税人)."""
        chars = list(text)
        for a, b in masked:
            chars[a:b] = "\x00" * (b - a)
        found: list[Quantity] = []
        for pattern, maker in ((_PHONE, self._phone), (_FULL_DATE, self._full_date), (_YEAR_MONTH, self._year_month)):
            for m in pattern.finditer("".join(chars)):
                found.append(maker(m))
                chars[m.start():m.end()] = "\x00" * (m.end() - m.start())
        scan = "".join(chars)
        for m in self.implicit.finditer(scan):
            found.append(self._implicit_one(scan, m))
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
        q = Quantity(m.start(), m.end(), m.group(), value=value, approx=True, bound=self.implicit_bounds[m.group("word")],
                     kind="scaled" if any(ch in BIG_UNITS for ch in m.group("scale")) else "bare")
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

    def _year_month(self, m: re.Match[str]) -> Quantity:
        y, mo = int(m.group(1)), int(m.group(2) or m.group(3))
        if not 1 <= mo <= 12:
            return Quantity(m.start(), m.end(), m.group(), ignored="code")
        return Quantity(m.start(), m.end(), m.group(), kind="date", day=date(y, mo, 1))

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
        if raw == "半":
            numeral: Numeral | None = Numeral(0.5, 0.5, 1.0, False)
        else:
            numeral = parse_numeral(raw)
        if numeral is None:
            q.ignored = "vague"
            return q
        q.value = (numeral.low + numeral.high) / 2
        q.approx = numeral.is_range
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
        if q.kind == "year" and 1900 <= q.value <= 2100 and q.value == int(q.value) and len(raw) == 4:
            q.kind, q.day = "date", date(int(q.value), 1, 1)
        if q.kind == "bare" and not arabic and len(raw) == 1 and raw in "〇零一二两三四五六七八九" and not q.bound and not q.approx:
            q.minor = True
        q.text = text[q.start:q.end]
        return q

    def _context_ignored(self, text: str, start: int, end: int, arabic: bool, q: Quantity) -> bool:
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if _prefix(text, start, self.ordinal_prefix):
            q.ignored = "ordinal"
        elif arabic and ((before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())):
            if not _startswith_any(text, end, self.code_units):
                q.ignored = "code"   # 3C, 5G, ISO9001
        elif arabic and len(q.text.replace(",", "").split(".")[0]) >= 9 and not self._unit_follows(text, end):
            q.ignored = "code"   # an ID, account or phone number without a unit
        return bool(q.ignored)

    def _read_after(self, text: str, q: Quantity) -> None:
        """Suffix hedges, bounds, the unit, and a scale after 多 (300多万)."""
        pos = q.end
        m = _AFTER_NUMERAL.match(text, pos)
        if m and m.group("scale") and (m.group("more") or m.group()[0] == "个"):
            q.value *= _SCALE_AFTER_SUFFIX[m.group("scale")]   # 300多万, 3个多亿
            q.kind = "scaled" if m.group("scale") in BIG_UNITS else q.kind
            if m.group("more"):
                self._mark_suffix(q, m.group("more"))
            pos = m.end()
        elif m and m.group("more") and _startswith_any(text, m.end("more"), self.unit_words):
            self._mark_suffix(q, m.group("more"))  # 三百多人, 两百来人
            pos = m.end("more")
        for unit, kind in self.units:
            if text.startswith(unit, pos):
                q.kind = kind
                pos += len(unit)
                if kind == "year" and text.startswith("半", pos):
                    q.value += 0.5
                    pos += 1
                break
        for _ in range(2):
            bound_word, bound = next(((w, b) for w, b in self.bound_suffix if text.startswith(w, pos)), ("", ""))
            hedge = _startswith_any(text, pos, self.approx_suffix)
            if bound_word and len(bound_word) >= len(hedge):
                q.bound, q.approx = bound, True
                pos += len(bound_word)
            elif hedge:
                q.approx = True
                pos += len(hedge)
            else:
                break
        q.end = pos

    def _mark_suffix(self, q: Quantity, word: str) -> None:
        q.approx = True
        if word in ("多", "余"):
            q.bound = "gt"

    def _read_before(self, text: str, q: Quantity) -> None:
        """Prefix hedges and bounds (大概, 不到, 不超过), 百分之, and a minus sign."""
        start = q.start
        word = _prefix(text, start, self.percent_prefix)
        if word:
            q.kind = "percent"
            start = text.rfind(word, 0, start)
        bound_word = _prefix(text, start, [w for w, _ in self.bound_prefix])
        if bound_word:
            q.bound = dict(self.bound_prefix)[bound_word]
            q.approx = True
            start = text.rfind(bound_word, 0, start)
        hedge = _prefix(text, start, self.approx_prefix)
        if hedge:
            q.approx = True
            start = text.rfind(hedge, 0, start)
        minus = _prefix(text, start, self.minus_prefix)
        if minus or (start and text[start - 1] in "-－" and not (start > 1 and text[start - 2].isdigit())):
            q.value = -q.value
            start = text.rfind(minus, 0, start) if minus else start - 1
        q.start = start

    def _join_ranges(self, text: str, numbers: list[Quantity]) -> list[Quantity]:
        """5到8万 → one quantity 6.5万 (approximate); a plain first number takes the second's scale and unit."""
        out: list[Quantity] = []
        i = 0
        while i < len(numbers):
            a = numbers[i]
            b = numbers[i + 1] if i + 1 < len(numbers) else None
            if (b and not a.ignored and not b.ignored and not a.bound and text[a.end:b.start] in self.connectors
                    and a.kind in ("bare", b.kind)):
                low = a.value
                if not a.scale and b.scale and low * b.scale <= b.value:
                    low *= b.scale
                out.append(Quantity(a.start, b.end, text[a.start:b.end], value=(low + b.value) / 2, kind=b.kind,
                                    approx=True, bound=b.bound, scale=b.scale))
                i += 2
                continue
            out.append(a)
            i += 1
        return out

    def _unit_follows(self, text: str, pos: int) -> bool:
        """Whether a unit word or a 万/亿 scale follows `pos` (then a long digit run is still a quantity)."""
        return pos < len(text) and (text[pos] in BIG_UNITS or _startswith_any(text, pos, self.unit_words) != "")


@lru_cache(maxsize=1)
def _finder() -> QuantityFinder:
    return QuantityFinder()


def find_quantities(text: str, masked: list[tuple[int, int]]) -> list[Quantity]:
    """Quantities in one clause (see QuantityFinder.find)."""
    return _finder().find(text, masked)
