"""What a free question asks for (an amount, a time, a procedure, conditions, a list), and whether a text holds it.

Retrieval finds passages about the question's topic; whether one of them answers it is a second question.
"许昌英才计划给多少安家补贴" finds the plan named in a news report that gives no amount: quoting it as the
answer would mislead. So the answer module checks the text it would show against what was asked, and
says `coverage: partial` (the programme is named, the figure is not held) or `none` instead of `full`.
The words are data (core/chat_words.yaml `asked`): question forms, what a text must hold for each aspect,
the endings that make a word a programme's name, and the forms of an instruction to the assistant.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from calculator.core.wording import chat_words

_YEAR = re.compile(r"(20[0-9]{2})\s*年")
_THIS_YEAR = re.compile(r"今年|本年度|当年")
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,20})[”\"」』]")


@dataclass(frozen=True)
class Aspect:
    name: str
    label: str                 # how the answer names what is missing: 具体金额、比例或标准
    asks: re.Pattern[str]
    holds: re.Pattern[str]


@dataclass(frozen=True)
class Asked:
    """What one question asks: aspects in data order, a year it names, quoted names, and whether it instructs."""

    aspects: tuple[Aspect, ...]
    year: int | None
    names: tuple[str, ...]
    instruction: bool

    def held_by(self, text: str) -> bool:
        """Does `text` hold what one of the asked aspects needs (always, when the question asks none)?"""
        return not self.aspects or any(a.holds.search(text) for a in self.aspects)

    @property
    def missing_label(self) -> str:
        return "、".join(a.label for a in self.aspects[:2]) or "能回答这个问题的具体内容"


def _union(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@lru_cache(maxsize=1)
def _words() -> tuple[tuple[Aspect, ...], re.Pattern[str], re.Pattern[str]]:
    data: dict[str, Any] = chat_words()["asked"]
    aspects = tuple(Aspect(name, spec["label"], _union(spec["asks"]), _union(spec["holds"]))
                    for name, spec in data["aspects"].items())
    endings = re.compile("(?:" + "|".join(map(re.escape, data["programme_endings"])) + ")$")
    return aspects, endings, _union(data["instructions"])


def read_question(question: str, today: date) -> Asked:
    """The aspects `question` asks for, the year it is about (今年 = `today`'s), its quoted names."""
    aspects, _, instructions = _words()
    year = _YEAR.search(question)
    named_year = int(year.group(1)) if year else (today.year if _THIS_YEAR.search(question) else None)
    return Asked(tuple(a for a in aspects if a.asks.search(question)), named_year,
                 tuple(dict.fromkeys(_QUOTED.findall(question))), bool(instructions.search(question)))


def instructs(text: str) -> bool:
    """Does `text` tell the assistant what to be or say (ignore the rules, invent a subsidy, reveal its prompt)?"""
    return bool(_words()[2].search(text))


def is_programme(word: str) -> bool:
    """许昌英才计划, 人才公寓, 运行补贴: a word ending as a programme's name does."""
    return bool(_words()[1].search(word))
