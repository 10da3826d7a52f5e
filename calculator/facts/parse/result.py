"""What the parser returns: facts with the words they came from, what was not understood, and errors."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from calculator.facts.interval import json_value

FRAGMENT_CHARS = 30   # a reported fragment is cut to this many characters
MAX_FRAGMENTS = 10


# How a fact was read (Understood.how); the uncertain ones are confirmed by the chat when they decide a verdict.
HOW_WORDS = {
    "stated": "", "interval": "模糊数额，按区间", "composed": "合计", "inferred": "由经营内容推断", "weak": "由个别词推断",
    "converted": "换算", "answer": "回答上一问", "default": "按单位推断", "added": "在已知人数上增加",
    "within": "已含在前面说的总数内",
}
UNCERTAIN = frozenset({"interval", "composed", "inferred", "weak"})


@dataclass
class Fact:
    """A value for one profile field, in profile units, with the words it came from and how it was read."""

    field: str
    value: Any
    span: str
    approx: bool = False
    note: str = ""          # the words of a vague amount ("三百来万") or how it was worked out ("我 + 我老婆 + 雇2人")
    weight: int = 0         # for choices: how strongly the words name the value (lexicon weights)
    how: str = "stated"     # a key of HOW_WORDS
    bound: bool = False     # a one-sided bound (不到300人, 10万以下): in a question, a condition asked about


@dataclass(frozen=True)
class Understood:
    """One fact the parser took from the text, for the chat's "我理解的是：…" line and `understood` in JSON."""

    field: str
    label: str
    value: Any
    display: str     # "从业人数：85人", "年应纳税所得额：300万元以上、不到400万元（三百来万）"
    span: str        # the words it came from ("员工85人")
    approx: bool = False
    how: str = "stated"   # a key of HOW_WORDS
    said: str = ""        # the words of a vague amount or the working of a sum ("三百来万", "我 + 我老婆 + 雇2人")
    weight: int = 0       # for a choice: how strongly the words name it (an activity over an alias over a weak word)

    @property
    def uncertain(self) -> bool:
        """An interval, a sum of parts or an inferred industry: confirmed when it decides a verdict."""
        return self.how in UNCERTAIN

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "label": self.label, "value": json_value(self.value), "display": self.display,
                "span": self.span, "approx": self.approx, "how": self.how, "how_label": HOW_WORDS.get(self.how, ""),
                "said": self.said, "uncertain": self.uncertain}


@dataclass
class ParseResult:
    """Facts from one message. `updates` holds only valid values; the caller merges them into the profile."""

    updates: dict[str, Any] = field(default_factory=dict)
    understood: list[Understood] = field(default_factory=list)
    not_understood: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)   # fields the user said they do not know (不清楚)
    correction: bool = False                            # the text corrects an earlier answer (不对，…)

    def add_fragment(self, text: str) -> None:
        """Report a piece of text that carried something the parser could not use (bounded in size)."""
        text = text.strip()
        if len(text) > FRAGMENT_CHARS:
            text = text[:FRAGMENT_CHARS] + "…"
        if text and text not in self.not_understood and len(self.not_understood) < MAX_FRAGMENTS:
            self.not_understood.append(text)
