"""Chinese and Arabic numerals to values: 一千二百万, 1.2亿, 两万五, 廿三, 二〇一九, and ranges 七八万.

Written here rather than taken from a package because colloquial forms matter more than formal ones:
"一千二" is 1200 (the trailing digit counts in the next lower unit), "七八万" is a range 70000–80000,
"二〇一九" reads digit by digit, and "几十" is too vague to use.
"""
from __future__ import annotations

from dataclasses import dataclass

CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
TENS = {"廿": 2, "卅": 3}  # 廿 = 二十, 卅 = 三十


@dataclass(frozen=True)
class Tok:
    kind: str            # "d" digit/number, "u" 十百千, "b" 万亿, "?" 几
    value: float = 0.0
    single: bool = False  # one Chinese digit (or one Arabic digit): may form 七八 ranges or 一千二 abbreviations
    zero: bool = False    # 零/〇


@dataclass(frozen=True)
class Numeral:
    """A parsed numeral: low == high unless it was a range; `scale` is its trailing unit (万 in 8万)."""

    low: float
    high: float
    scale: float
    has_units: bool

    @property
    def is_range(self) -> bool:
        return self.low != self.high


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
    """七八万 → (七万, 八万): two single Chinese digits in a row, the second one more, not inside 二〇一九."""
    for k in range(len(toks) - 1):
        a, b = toks[k], toks[k + 1]
        if not (a.kind == b.kind == "d" and a.single and b.single and b.value == a.value + 1):
            continue
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


def parse_numeral(text: str) -> Numeral | None:
    """The value of a numeral string, or None when it is malformed or vague (几十)."""
    toks = _tokens(text)
    if not toks or any(t.kind == "?" for t in toks):
        return None
    has_units = any(t.kind in "ub" for t in toks)
    split = _split_range(toks)
    if split:
        low, high = _value(split[0]), _value(split[1])
        if low is None or high is None:
            return None
        return Numeral(low, high, _scale(toks), has_units)
    value = _value(toks)
    if value is None:
        return None
    return Numeral(value, value, _scale(toks), has_units)
