"""The parser's vocabulary, built once from data: which words name which fact, value or function.

Domain words come from the profile's own data files (field keywords and labels in
profile_fields.yaml, industry and region aliases), so a new fact or alias needs no code; how people
hedge, deny and pad comes from words.yaml beside this module. Every word becomes a `Term` with all
its meanings (建安 is a region; 研发 is a keyword of 研发费用 and an alias of the research industry),
and each extractor takes the meaning it needs. Text is scanned longest-word-first, so 高新区 (a
region) is never read as 高新 (a certification) and 研发人员 never as 研发.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from calculator.facts.schema import FactSchema


WORDS_FILE = Path(__file__).with_name("words.yaml")

# words.yaml lists that become scanned categories (the others are read as tables).
WORD_CATEGORIES = (
    "approx_prefix", "below_strict_prefix", "below_inclusive_prefix", "above_strict_prefix",
    "above_inclusive_prefix", "not_numbers", "contact_words", "negations", "negation_breaks", "yes", "no",
    "none_of_set", "unknown", "corrections", "filler", "loss_words", "quarter_words",
)


@dataclass(frozen=True)
class Meaning:
    """One reading of a word: a field keyword, a choice value, a 'no' for a bool, a set name or a word category."""

    kind: str          # "keyword" | "choice" | "false" | "set" | "relative_year" | a WORD_CATEGORIES name
    field: str = ""    # profile field (or set name for kind "set")
    value: str = ""    # the choice value for kind "choice"; years back for "relative_year"


@dataclass(frozen=True)
class Term:
    """A word found in a clause, with every meaning it can have."""

    start: int
    end: int
    text: str
    meanings: tuple[Meaning, ...]

    def has(self, kind: str) -> bool:
        return any(m.kind == kind for m in self.meanings)

    def of(self, kind: str) -> list[Meaning]:
        return [m for m in self.meanings if m.kind == kind]


def _ascii_lower(text: str) -> str:
    """Lower-case ASCII only, so offsets stay the same as in the original text."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


class Lexicon:
    """All words with their meanings, and a longest-match scanner over them."""

    def __init__(self, words: dict[str, Any], schema: FactSchema) -> None:
        self.words = words
        self.schema = schema
        self._table: dict[str, list[Meaning]] = {}
        for key, spec in schema.fields.items():
            for word in (spec.label, *spec.keywords):
                self._add(word, Meaning("keyword", key))
            for choice in spec.choices:
                self._add(choice, Meaning("choice", key, choice))
        for region, aliases in schema.tables.regions.items():
            for word in aliases or ():
                self._add(word, Meaning("choice", "county", region))
        for industry, row in schema.tables.industries.items():
            for word in row.get("aliases") or ():
                self._add(word, Meaning("choice", "industry", industry))
        for key, table in words["choice_aliases"].items():
            for value, aliases in table.items():
                for word in aliases:
                    self._add(word, Meaning("choice", key, value))
        for key, aliases in words["bool_false_words"].items():
            for word in aliases:
                self._add(word, Meaning("false", key))
        for set_name, aliases in words["set_words"].items():
            for word in aliases:
                self._add(word, Meaning("set", set_name))
        for word, back in words["relative_years"].items():
            self._add(word, Meaning("relative_year", value=str(back)))
        for category in WORD_CATEGORIES:
            for word in words[category]:
                self._add(word, Meaning(category))
        self._lengths: dict[str, tuple[int, ...]] = {}
        for word in self._table:
            self._lengths.setdefault(word[0], ())
            self._lengths[word[0]] = tuple(sorted({*self._lengths[word[0]], len(word)}, reverse=True))

    def _add(self, word: str, meaning: Meaning) -> None:
        word = _ascii_lower(str(word).strip())
        if word and meaning not in self._table.setdefault(word, []):
            self._table[word].append(meaning)

    def scan(self, text: str) -> list[Term]:
        """Non-overlapping words, leftmost first and longest at each position.

        An ASCII word (IT, KTV) matches only when no ASCII letter touches it, so "it" inside "quit"
        is not the software industry.
        """
        text = _ascii_lower(text)
        terms: list[Term] = []
        i, n = 0, len(text)
        while i < n:
            for length in self._lengths.get(text[i], ()):
                word = text[i:i + length]
                if len(word) == length and word in self._table and not _inside_ascii_word(text, i, i + length):
                    terms.append(Term(i, i + length, word, tuple(self._table[word])))
                    i += length
                    break
            else:
                i += 1
        return terms

    def is_word(self, text: str, category: str) -> bool:
        """Whether `text` is exactly one word of a category (a whole short answer such as "没有")."""
        return any(m.kind == category for m in self._table.get(_ascii_lower(text), ()))


def _inside_ascii_word(text: str, start: int, end: int) -> bool:
    if not text[start].isascii() or not text[start].isalpha():
        return False
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha())


def normalize_case(text: str) -> str:
    """The case folding the lexicon uses (ASCII only)."""
    return _ascii_lower(text)


@lru_cache(maxsize=1)
def word_lists() -> dict[str, Any]:
    """words.yaml: how people hedge, deny, pad and count (the same for every knowledge folder)."""
    with WORDS_FILE.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
        return loaded


@lru_cache(maxsize=8)
def lexicon(schema: FactSchema) -> Lexicon:
    """The lexicon of a schema (built once per schema: about a thousand words)."""
    return Lexicon(word_lists(), schema)
