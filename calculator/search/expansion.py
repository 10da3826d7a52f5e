"""Query expansion as data: the words people say → the words the documents use, gathered from the knowledge folder.

Three sources, all files in knowledge/data/ (no word list lives in code):

* `synonyms.yaml`: hand-kept `equivalent` groups (高企 ↔ 高新技术企业, 个税 ↔ 个人所得税) and one-way
  `colloquial` words (亏了 → 亏损, 管吃管住 → 食宿), general everyday Chinese, never one question's words;
* `industries.yaml`: every alias an enterprise uses for its industry (饭店, 奶茶, 做软件) → the industry and
  its GB/T 4754 门类 as the documents name them (餐饮业, 住宿和餐饮业);
* `profile_fields.yaml`: the parser's keywords of a numeric or yes/no fact (营收, 流水, 裁人, 国企) → the
  fact's label, stripped of its period (上年度营业收入 → 营业收入), when the label is a term short enough
  to be the documents' word for it.

`expansions` returns phrase → terms; calculator/search/lexical.py adds every phrase and term to jieba's
dictionary (so they stay whole words) and gives the expanded terms a lower weight than the user's own.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

SOURCE_FILES = ("synonyms.yaml", "industries.yaml", "profile_fields.yaml")   # changed → passages re-tokenised
MIN_ALIAS_CHARS = 2          # one character (厂, 做, 在) would fire inside unrelated words
MAX_LABEL_CHARS = 8          # a longer label is a description (拟以住宅作为经营场所登记), not a term
_FIELD_TYPES = ("bool", "int", "number")     # facts with a label that documents use; names and choices are not
_PERIOD = re.compile(r"^(上年度|上一年度|当年|年度|拟)")


def _norm(word: object) -> str:
    return unicodedata.normalize("NFKC", str(word)).lower().strip()


def _read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return data if isinstance(data, dict) else {}


def _hand_kept(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    pairs: list[tuple[str, list[str]]] = []
    for group in data.get("equivalent") or []:
        members = [_norm(m) for m in group]
        pairs += [(member, [m for m in members if m != member]) for member in members]
    pairs += [(_norm(phrase), [_norm(t) for t in targets]) for phrase, targets in (data.get("colloquial") or {}).items()]
    return pairs


def _industries(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    pairs = []
    for name, spec in (data.get("industries") or {}).items():
        section = str(spec.get("section_name", "")).replace("、", "")
        targets = [_norm(t) for t in (name, section) if t]
        pairs += [(_norm(alias), targets) for alias in spec.get("aliases") or () if len(_norm(alias)) >= MIN_ALIAS_CHARS]
    return pairs


def _fields(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    pairs = []
    for spec in (data.get("fields") or {}).values():
        label = _PERIOD.sub("", _norm(spec.get("label", "")))
        if spec.get("type") not in _FIELD_TYPES or spec.get("component") or not 2 <= len(label) <= MAX_LABEL_CHARS:
            continue
        pairs += [(_norm(word), [label]) for word in spec.get("keywords") or () if len(_norm(word)) >= MIN_ALIAS_CHARS]
    return pairs


def expansions(data_dir: Path) -> dict[str, tuple[str, ...]]:
    """phrase → the terms a question using it should also find (each at most once, never the phrase itself)."""
    gathered: dict[str, list[str]] = {}
    sources = (_hand_kept(_read(data_dir / "synonyms.yaml")), _industries(_read(data_dir / "industries.yaml")),
               _fields(_read(data_dir / "profile_fields.yaml")))
    for pairs in sources:
        for phrase, terms in pairs:
            gathered.setdefault(phrase, []).extend(terms)
    return {phrase: tuple(dict.fromkeys(t for t in terms if t and t != phrase)) for phrase, terms in gathered.items()}
