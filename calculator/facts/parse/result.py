"""What the parser returns, and the last step that checks every value against the Profile model."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from calculator.core.errors import UserError
from calculator.facts.parse.facts import Fact
from calculator.facts.profile import validate_profile
from calculator.facts.schema import FactSchema

FRAGMENT_CHARS = 30   # a reported fragment is cut to this many characters
MAX_FRAGMENTS = 10


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


def display(schema: FactSchema, key: str, value: Any, approx: bool, note: str) -> str:
    label = schema.label(key)
    shown = schema.format_value(key, value)
    if note:
        return f"{label}：{shown}（{note}）"
    return f"{label}：{'约' if approx else ''}{shown}"


def check(fact: Fact, schema: FactSchema) -> tuple[Any, str]:
    """(valid value, "") or (None, one Chinese line naming the field and its bounds)."""
    try:
        profile = validate_profile({fact.field: fact.value}, schema)
    except UserError as exc:
        return None, exc.zh.removeprefix("画像有误：")
    return getattr(profile, fact.field), ""


def finish(result: ParseResult, facts: list[Fact], schema: FactSchema) -> ParseResult:
    """Validate each fact (the last one for a field wins) into updates, understood and errors."""
    last: dict[str, Fact] = {}
    for fact in facts:
        last.pop(fact.field, None)
        last[fact.field] = fact
    for fact in last.values():
        value, error = check(fact, schema)
        if error:
            result.errors.append(error)
            continue
        result.updates[fact.field] = value
        result.understood.append(Understood(fact.field, schema.label(fact.field), value,
                                            display(schema, fact.field, value, fact.approx, fact.note), fact.span,
                                            fact.approx))
    result.unknown = [k for k in dict.fromkeys(result.unknown) if k not in result.updates]
    return result
