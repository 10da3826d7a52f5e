"""What the parser returns: facts with the words they came from, what was not understood, and errors."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FRAGMENT_CHARS = 30   # a reported fragment is cut to this many characters
MAX_FRAGMENTS = 10


@dataclass
class Fact:
    """A value for one profile field, in profile units, with the words it came from."""

    field: str
    value: Any
    span: str
    approx: bool = False
    note: str = ""          # the original wording when the stored value stands for a bound ("不到300人")
    weight: int = 0         # for choices: the alias length (a longer, more specific alias wins)


@dataclass(frozen=True)
class Understood:
    """One fact the parser took from the text, for the chat's "我理解的是：…" line."""

    field: str
    label: str
    value: Any
    display: str     # "从业人数：85人", "月销售额（增值税）：约7.5万元", "从业人数：299人（不到300人）"
    span: str        # the words it came from ("员工85人")
    approx: bool = False


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
