"""Chinese free-text answers → profile facts, shared by the chat, the staff form and `match --text`.

    >>> parse_text("我们是长葛的小规模纳税人，每月卖个七八万").updates
    {'county': '长葛市', 'taxpayer_type': '小规模纳税人', 'monthly_sales': Interval(low=7.0, high=8.0, low_open=False, high_open=False)}
    >>> parse_text("员工一百二十多个").understood[0].display
    '从业人数：超过120人、不到130人（一百二十多个）'

Deterministic (no language model): words come from data (profile_fields.yaml keywords, industry and
region aliases, activities.yaml, words.yaml here), numbers from a numeral reader that knows colloquial
forms; a vague amount is an interval. The result says what was understood (with the words it came from
and how it was read), what could not be used, and which understood values are invalid; it never raises.

Modules: text (normalise, clauses) → lexicon (words) → numerals/quantities (numbers, intervals) → facts
(one clause) → compose (parts across clauses) → message (the whole message) → result (data).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from calculator.facts.parse.message import MAX_CHARS, parse_message
from calculator.facts.parse.result import ParseResult, Understood
from calculator.facts.schema import FactSchema, default_schema

__all__ = ["MAX_CHARS", "ParseResult", "Understood", "parse_text"]
log = logging.getLogger(__name__)


def parse_text(text: str, expected: str | None = None, schema: FactSchema | None = None,
               today: date | None = None, context: Sequence[str] = ()) -> ParseResult:
    """Facts from one message; `expected` is the field the chat just asked about (a bare "120" answers it).
    `schema` names the facts there are (default: the configured knowledge folder's); relative dates
    (去年, 成立8年) count from `today` (default: the settings' day); `context` lists the fields stated
    earlier in the chat, the last most recent, for what refers back ("三季度295" after "一季度310",
    "应该是二十三万" correcting the sum said before, "现在还有效" about the 高企 named before).

    Any input returns a ParseResult: the parser is tested against arbitrary text, and this guard only
    turns an unforeseen bug into "not understood" rather than a broken chat turn (logged without the
    text, which may identify the enterprise).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = "" if text is None else str(text)
    try:
        return parse_message(text, expected if isinstance(expected, str) else None, schema or default_schema(), today,
                             [c for c in context if isinstance(c, str)])
    except Exception:
        log.exception("parser failed on a %d-character message", len(text))
        result = ParseResult()
        result.add_fragment(text)
        return result
