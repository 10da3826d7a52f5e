"""Normalising a message and cutting it into clauses.

A clause (between ，。；、 and words like 还有) is the unit in which a number looks for the keyword it
belongs to, and in which a 没有 negates: "员工85人，营收1200万" keeps 85 with 员工 and 1200 with 营收.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from calculator.facts.parse.lexicon import word_lists

_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}
# A space between two ASCII letters or digits separates two tokens ("2019 85"), between two Chinese characters
# two clauses ("小规模 季度28万"); elsewhere (员工 85人) it is layout.
_SPACE = re.compile(r"\s+")
_LETTER_SCALE = re.compile(r"(?<![0-9a-zA-Z.])([0-9]+(?:\.[0-9]+)?)([a-zA-Z])(?![0-9a-zA-Z])")  # 1200w → 1200万
_PUNCT = "，。；;！？!?\n、|｜…"


def normalize(text: str) -> str:
    """NFKC (full-width ８５ → 85, ％ → %), control characters and stray spaces removed (a space between
    Chinese words is a clause break), 1200w → 1200万,
    typing slips put right and dialect words read as standard ones (words.yaml typos: 高起 → 高企; pinyin:
    ge体户 → 个体户; dialect: 俺 → 我)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join("\n" if ch in "\r\n" else (" " if unicodedata.category(ch) in _CONTROL else ch) for ch in text)
    text = _typos().sub(lambda m: _replacements()[m.group().lower()], text)   # before spaces: "120 full-time"
    text = _SPACE.sub(_space, text)
    scales = word_lists()["letter_scales"]
    return _LETTER_SCALE.sub(lambda m: m.group(1) + scales.get(m.group(2).lower(), m.group(2)), text)


@lru_cache(maxsize=1)
def _replacements() -> dict[str, str]:
    """Typing slips, a character typed as its pinyin (ge体户 → 个体户) or a homophone (个题户), English keywords (staff → 员工) and 河南 dialect words (俺 → 我,
    嘞 → 的, 仨 → 三个), read as the standard words."""
    words = word_lists()
    pinyin: dict[str, str] = words["pinyin"]
    slips = {word[:i] + pinyin[ch] + word[i + 1:]: word for word in words["pinyin_words"]
             for i, ch in enumerate(word) if ch in pinyin}
    sounds: dict[str, list[str]] = words["homophones"]
    slips |= {word[:i] + alike + word[i + 1:]: word for word in [*words["pinyin_words"], *words["homophone_words"]]
              for i, ch in enumerate(word) for alike in sounds.get(ch, [])}
    return {**slips, **words["dialect"], **words["typos"], **words["english"]}


@lru_cache(maxsize=1)
def _typos() -> re.Pattern[str]:
    return re.compile("|".join(sorted(map(re.escape, _replacements()), key=len, reverse=True)), re.IGNORECASE)


def _space(match: re.Match[str]) -> str:
    if "\n" in match.group():
        return "\n"
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if before.isascii() and before.isalnum() and after.isascii() and after.isalnum():
        return " "
    if _cjk(before) and _cjk(after):
        return "，"          # 小规模纳税人 季度销售额28万 想问下…: phone typists separate clauses with a space
    return ""


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _is_thousands_comma(text: str, i: int) -> bool:
    """'1,200万' keeps its comma; '85,营收' splits."""
    return i > 0 and text[i - 1].isdigit() and re.match(r",\d{3}(?!\d)", text[i:]) is not None


@dataclass(frozen=True)
class Clause:
    """A clause and the punctuation that ended it ("" at a break word or the end of the text)."""

    text: str
    end: str = ""

    @property
    def ends_sentence(self) -> bool:
        return bool(self.end) and self.end in _SENTENCE_END

    @property
    def asks(self) -> bool:
        return bool(self.end) and self.end in "？?"


_SENTENCE_END = "。！？!?\n"


def split_clauses(text: str) -> list[Clause]:
    """Clauses split on punctuation, non-thousands commas, a bracket that says a part (（含…）, （其中…）) and
    the clause-break words of words.yaml (a break word starts the next clause: "另外还有没开票的收入" keeps its
    另外)."""
    breaks = sorted(word_lists()["clause_breaks"], key=len, reverse=True)
    parts = tuple(word_lists()["part_of"])
    clauses: list[Clause] = []
    start = 0
    i = 0
    bracket = False
    while i < len(text):
        ch = text[i]
        cut = 0
        if ch in _PUNCT or (ch == "," and not _is_thousands_comma(text, i)):
            cut = 1
        elif (ch == "(" and text.startswith(parts, i + 1)) or (ch == ")" and bracket):
            cut, bracket = 1, ch == "("      # 186人（含劳务派遣14人）: the bracket is a clause of its own
        elif i > start:
            for word in breaks:
                if text.startswith(word, i):
                    cut = -1
                    break
        if cut:
            if text[start:i].strip():
                clauses.append(Clause(text[start:i], ch if cut == 1 else ""))
            start = i + max(cut, 0)
            i += max(cut, 1)
        else:
            i += 1
    if text[start:].strip():
        clauses.append(Clause(text[start:]))
    return clauses
