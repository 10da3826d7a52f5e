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
    "not_numbers", "contact_words", "negations", "negation_breaks", "yes", "no", "none_of_set", "unknown",
    "corrections", "filler", "loss_words", "no_profit_words", "quarter_words", "daily_words", "series_words",
    "part_of", "uninvoiced_words", "number_owners", "hire_words", "no_hire_words", "includes_self",
    "additive_words", "hypothetical", "reality", "future", "past",
    "other_party_prefix", "registration_words", "secondary_place_words", "industry_anchors", "clause_breaks",
    "outsourced", "question_words", "some_words", "total_words", "contrast_words", "role_words", "own_sale_words",
    "moved_words", "span_words", "each_place_words", "plain_words",
)
# Tables of words.yaml whose words are scanned under the table's name (a reading each: number_prefix → about …).
WORD_TABLES = ("number_prefix", "number_suffix", "certificate_cues")

# Weights of choice words: the value itself ("制造业") is stated; for the industry an activity phrase
# (activities.yaml) outweighs an alias (industries.yaml), which outweighs a weak word (研发, 检测).
VALUE_WEIGHT = 100
ACTIVITY_WEIGHT = 10
WEAK_WEIGHT = 1


@dataclass(frozen=True)
class Meaning:
    """One reading of a word: a field keyword, a choice value, a 'no' for a bool, a set name or a word category."""

    kind: str          # "keyword" | "choice" | "false" | "set" | "relative_year" | "relative_month" | "household" | "quarter_name"
    #                    | "neutral" | a WORD_CATEGORIES or WORD_TABLES name
    field: str = ""    # profile field (or set name for kind "set")
    value: str = ""    # the choice value; years or months back (relative_year/month); people (household); the quarter; the reading
    weight: int = 0    # for choices: how strongly the word names the value (VALUE_WEIGHT, ACTIVITY_WEIGHT, …)


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
            generic = words["generic_choices"].get(key)
            for choice in spec.choices:   # an industry named outright is stated; other choices weigh by length
                if choice in words["answer_only_choices"]:
                    continue              # 还有其他啥优惠 names no 其他
                weight = WEAK_WEIGHT if choice == generic else VALUE_WEIGHT + len(choice) if key == "industry" else len(choice)
                self._add(choice, Meaning("choice", key, choice, weight))
        for region, aliases in schema.tables.regions.items():
            for word in aliases or ():
                self._add(word, Meaning("choice", "county", region, len(word)))
        for industry, row in schema.tables.industries.items():
            for word in row.get("aliases") or ():
                if word not in words["answer_only_choices"]:
                    self._add(word, Meaning("choice", "industry", industry, len(word)))
        self._add_activities(schema)
        for key, table in words["choice_aliases"].items():
            generic = words["generic_choices"].get(key)
            for value, aliases in table.items():
                for word in aliases:
                    self._add(word, Meaning("choice", key, value, WEAK_WEIGHT if value == generic else len(word)))
        self._add_suffix_choices(words["choice_aliases"].get("entity_type", {}), "entity_type")
        for key, aliases in words["bool_false_words"].items():
            for word in aliases:
                self._add(word, Meaning("false", key))
        for set_name, aliases in words["set_words"].items():
            for word in aliases:
                self._add(word, Meaning("set", set_name))
        for word, back in words["relative_years"].items():
            self._add(word, Meaning("relative_year", value=str(back)))
        for word, back in words["relative_months"].items():
            self._add(word, Meaning("relative_month", value=str(back)))
        for word, people in words["household_people"].items():
            self._add(word, Meaning("household", value=str(people)))
        for word, quarter in words["quarter_names"].items():
            self._add(word, Meaning("quarter_name", value=str(quarter)))
        for category in WORD_CATEGORIES:
            for word in words[category]:
                self._add(word, Meaning(category))
        for table in WORD_TABLES:
            for reading, listed in words[table].items():
                for word in listed:
                    self._add(word, Meaning(table, value=reading))
        self._lengths: dict[str, tuple[int, ...]] = {}
        for word in self._table:
            self._lengths.setdefault(word[0], ())
            self._lengths[word[0]] = tuple(sorted({*self._lengths[word[0]], len(word)}, reverse=True))

    def _add_activities(self, schema: FactSchema) -> None:
        """activities.yaml: phrases that name an industry by what is done there, weak words, neutral places."""
        table = schema.tables.activities
        industries = schema.tables.industries
        for row in table.get("activities") or ():
            if row.get("industry") in industries:
                for word in row.get("words") or ():
                    self._add(word, Meaning("choice", "industry", row["industry"], ACTIVITY_WEIGHT + len(str(word))))
        for word in table.get("weak") or ():
            for meaning in self._table.get(_ascii_lower(str(word)), []):
                if meaning.kind == "choice" and meaning.field == "industry":
                    self._table[_ascii_lower(str(word))] = [
                        m if m is not meaning else Meaning("choice", "industry", m.value, WEAK_WEIGHT)
                        for m in self._table[_ascii_lower(str(word))]]
        for word in table.get("neutral") or ():
            self._add(word, Meaning("neutral"))
        self._add_inner_keywords(schema, [str(w) for row in table.get("activities") or () for w in row.get("words") or ()])

    def _add_inner_keywords(self, schema: FactSchema, phrases: list[str]) -> None:
        """An activity phrase that holds the keyword of a fact words.yaml said_inside_activities names says that
        fact too: 自己养的猪 is 农林牧渔业 and 自己养的 (own produce), 饲料厂 makes 饲料; the longest match would
        otherwise hide the shorter word. Only for facts about the enterprise's own doing (an 环评公司 needs no 环评 of its own)."""
        inside: dict[str, list[str] | None] = self.words["said_inside_activities"]
        keywords = [(str(w), key) for key, only in inside.items() if key in schema.fields
                    for w in schema.fields[key].keywords if len(str(w)) >= 2 and (only is None or w in only)]
        for phrase in phrases:
            for word, key in keywords:
                if word in phrase and word != phrase:
                    self._add(phrase, Meaning("keyword", key))

    def _add_suffix_choices(self, aliases: dict[str, list[str]], key: str) -> None:
        """A word that ends in a choice alias names that choice too: 软件公司 is a 公司, 蔬菜合作社 a 合作社."""
        endings = sorted(((str(w), v) for v, words in aliases.items() for w in words if len(str(w)) >= 2),
                         key=lambda p: len(p[0]), reverse=True)
        for word, meanings in list(self._table.items()):
            if any(m.field == key for m in meanings) or not any(m.kind == "choice" for m in meanings):
                continue
            value = next((v for ending, v in endings if word.endswith(ending) and word != ending), None)
            if value is not None:
                meanings.append(Meaning("choice", key, value, 2))

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
            found = self._words_at(text, i)
            if not found:
                i += 1
                continue
            word, meanings = found[0]
            if not _content(meanings):
                cut = self._content_across(text, i, len(word))
                if cut:           # "是个体工商户": the filler 是个 gives way to 个体工商户, "不缺钱" keeps its 不
                    found = [(w, m) for w, m in found if i + len(w) <= cut]
                    if not found:
                        i += 1
                        continue
                    word, meanings = found[0]
            if not _content(meanings) and not any(m.kind == "negations" for m in meanings):
                # "注册的" is also the keyword 注册, "现金收入" the keyword 收入; "没评上" stays a denial only
                meanings = [*meanings, *(m for _, shorter in found[1:] for m in shorter if m.kind == "keyword"),
                            *self._keyword_ending(text, i, len(word))]
            terms.append(Term(i, i + len(word), word, tuple(dict.fromkeys(meanings))))
            i += len(word)
        return terms

    def _keyword_ending(self, text: str, start: int, length: int) -> list[Meaning]:
        """Keyword meanings of a word that ends where the word at `start` ends (现金收入 → 收入)."""
        end = start + length
        for k in range(start + 1, end):
            word = text[k:end]
            if word in self._table:
                return [m for m in self._table[word] if m.kind == "keyword"]
        return []

    def _words_at(self, text: str, i: int) -> list[tuple[str, list[Meaning]]]:
        """The words starting at i, longest first."""
        out = []
        for length in self._lengths.get(text[i], ()):
            word = text[i:i + length]
            if len(word) == length and word in self._table and not _inside_ascii_word(text, i, i + length):
                out.append((word, self._table[word]))
        return out

    def _content_across(self, text: str, start: int, length: int) -> int:
        """Where a word naming a fact, or an asking word, starts inside [start, start + length) and ends after
        it (0: none): "我是不是小规模" keeps 是不是, so its 不是 denies nothing."""
        return next((k for k in range(start + 1, start + length) for w, m in self._words_at(text, k)
                     if (_content(m) or any(x.kind == "question_words" for x in m)) and k + len(w) > start + length), 0)

    def is_word(self, text: str, category: str) -> bool:
        """Whether `text` is exactly one word of a category (a whole short answer such as "没有")."""
        return any(m.kind == category for m in self._table.get(_ascii_lower(text), ()))


_CONTENT = ("keyword", "choice", "false", "set")


def _content(meanings: list[Meaning]) -> bool:
    return any(m.kind in _CONTENT for m in meanings)


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
