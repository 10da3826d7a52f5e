"""Chinese and Arabic numerals to values: 一千二百万, 1.2亿, 两万五, 廿三, 二〇一九, 柒万伍仟, ranges 七八万, 十几.

Written here rather than taken from a package because colloquial forms matter more than formal ones
(jionlp and cn2an were measured on them, README "Reading what people write"): "一千二" is 1200 (the
trailing digit counts in the next lower unit), "七八万" is the range 70000–80000, "十几" is between 10 and
20, "二〇一九" reads digit by digit, and "几十" is too vague to use. Each numeral also knows the place of
its last digit (三百 → 100, 一百二十 → 10), from which 来, 多 and 出头 widen it into an interval.
"""
from __future__ import annotations

from dataclasses import dataclass

CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
             "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5, "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000, "拾": 10, "佰": 100, "仟": 1000}
BIG_UNITS = {"万": 10_000, "亿": 100_000_000, "萬": 10_000, "億": 100_000_000}
CN_NUMERAL_CHARS = "".join([*CN_DIGITS, *SMALL_UNITS, *BIG_UNITS])
TENS = {"廿": 2, "卅": 3}  # 廿 = 二十, 卅 = 三十


@dataclass(frozen=True)
class Tok:
    kind: str            # "d" digit/number, "u" 十百千, "b" 万亿, "?" 几
    value: float = 0.0
    single: bool = False  # one Chinese digit (or one Arabic digit): may form 七八 ranges or 一千二 abbreviations
    zero: bool = False    # 零/〇


@dataclass(frozen=True)
class Numeral:
    """A parsed numeral: low == high unless it was a range (七八万) or had a 几 (十几: `open`, both ends
    excluded); `scale` is its trailing unit (万 in 8万); `place` the value of its last digit (三百万 → 100万)."""

    low: float
    high: float
    scale: float
    has_units: bool
    place: float = 1.0
    open: bool = False

    @property
    def is_range(self) -> bool:
        return self.low != self.high


def last_place(value: float) -> float:
    """The value of the last nonzero digit: 300 → 100, 120 → 10, 2.5 → 0.1, 0 → 1."""
    if not value:
        return 1.0
    for power in range(12, -4, -1):
        unit = 10.0 ** power
        ratio = abs(value) / unit
        if ratio >= 1 - 1e-9 and abs(ratio - round(ratio)) < 1e-6:
            return unit
    return 0.001


def _tokens(text: str) -> list[Tok] | None:
    toks: list[Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() and ch.isascii():
            j = i
            while j < len(text) and (text[j].isdigit() and text[j].isascii() or text[j] in ".,"):
                j += 1
            raw = text[i:j].replace(",", "")
            try:
                toks.append(Tok("d", float(raw), single=len(raw) == 1))
            except ValueError:
                return None
            i = j
            continue
        if ch in CN_DIGITS:
            value: float = CN_DIGITS[ch]
            i += 1
            if text.startswith("点", i) and i + 1 < len(text) and text[i + 1] in CN_DIGITS:
                j = i + 1
                decimals = ""
                while j < len(text) and text[j] in CN_DIGITS:
                    decimals += str(CN_DIGITS[text[j]])
                    j += 1
                toks.append(Tok("d", float(f"{int(value)}.{decimals}")))
                i = j
                continue
            toks.append(Tok("d", value, single=True, zero=ch in "〇零"))
            continue
        if ch in TENS:
            toks += [Tok("d", TENS[ch]), Tok("u", 10)]
        elif ch in SMALL_UNITS:
            toks.append(Tok("u", SMALL_UNITS[ch]))
        elif ch in BIG_UNITS:
            toks.append(Tok("b", BIG_UNITS[ch]))
        elif ch == "几":
            toks.append(Tok("?"))
        elif ch != "个":  # 2个亿
            return None
        i += 1
    return toks


def _split_range(toks: list[Tok]) -> tuple[list[Tok], list[Tok]] | None:
    """七八万 → (七万, 八万): two single Chinese digits in a row, the second one more (or 三五, "three to five"),
    not inside 二〇一九."""
    for k in range(len(toks) - 1):
        a, b = toks[k], toks[k + 1]
        if not (a.kind == b.kind == "d" and a.single and b.single and (b.value == a.value + 1 or (a.value, b.value) == (3, 5))) \
                or a.zero:
            continue      # 三百零一 is 301, not 300 or 301
        before_ok = k == 0 or toks[k - 1].kind in "ub"
        after_ok = k + 2 == len(toks) or toks[k + 2].kind in "ub"
        if before_ok and after_ok:
            return toks[:k + 1] + toks[k + 2:], toks[:k] + toks[k + 1:]
    return None


def _value(toks: list[Tok]) -> float | None:
    """Value of a token list without ranges; None when malformed."""
    if all(t.kind == "d" and t.single for t in toks) and len(toks) > 1:
        return float("".join(str(int(t.value)) for t in toks))  # 二〇一九 → 2019
    total = 0.0
    section = 0.0
    number: float | None = None
    number_single = False
    last_unit = 0.0
    zero_seen = False
    for tok in toks:
        if tok.kind == "d":
            if tok.zero and (total or section or number is not None):
                zero_seen = True
                continue
            if number is not None:
                return None
            number, number_single = tok.value, tok.single
        elif tok.kind == "u":
            section += (1 if number is None else number) * tok.value
            number, last_unit = None, tok.value
        elif tok.kind == "b":
            section += number or 0
            if not section and not total:
                return None
            if tok.value > BIG_UNITS["万"]:
                total, section = (total + section) * tok.value, 0.0
            else:
                total, section = total + section * tok.value, 0.0
            number, last_unit = None, tok.value
        else:
            return None
    if number is not None:
        if last_unit >= 100 and number_single and not zero_seen:
            number *= last_unit / 10  # 一千二 = 1200, 两万五 = 25000
        section += number
    return total + section


def _scale(toks: list[Tok]) -> float:
    return toks[-1].value if toks and toks[-1].kind in "ub" else 1.0


def _place(toks: list[Tok], value: float) -> float:
    """The place of the last digit, counted in the numeral's last big unit (五万 → 1万, 三百 → 100)."""
    big = next((t.value for t in reversed(toks) if t.kind == "b"), 1.0)
    return last_place(value / big) * big


def _few(toks: list[Tok]) -> Numeral | None:
    """十几, 二十几, 一百几十, 十几万: 几 stands for a digit 1–9 in its place, so N几 is (N, N + 10 × place)."""
    k = next(i for i, t in enumerate(toks) if t.kind == "?")
    if sum(t.kind == "?" for t in toks) > 1 or k == 0 or toks[k - 1].kind != "u":
        return None      # 几十, 几百: too vague
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    if nxt is not None and nxt.kind == "u":
        unit, rest = nxt.value, toks[k + 2:]
    else:
        unit, rest = 1.0, toks[k + 1:]
    if any(t.kind != "b" for t in rest):
        return None
    base = _value(toks[:k])
    if base is None:
        return None
    scale = 1.0
    for t in rest:
        scale *= t.value
    return Numeral(base * scale, (base + 10 * unit) * scale, _scale(toks), True, unit * scale, open=True)


def parse_numeral(text: str) -> Numeral | None:
    """The value of a numeral string, or None when it is malformed or vague (几十)."""
    toks = _tokens(text)
    if not toks:
        return None
    if any(t.kind == "?" for t in toks):
        return _few(toks)
    has_units = any(t.kind in "ub" for t in toks)
    split = _split_range(toks)
    if split:
        low, high = _value(split[0]), _value(split[1])
        if low is None or high is None:
            return None
        return Numeral(low, high, _scale(toks), has_units, _place(split[0], low))
    value = _value(toks)
    if value is None:
        return None
    return Numeral(value, value, _scale(toks), has_units, _place(toks, value))
