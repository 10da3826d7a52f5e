"""The fact schema: every fact an enterprise can state or the engine derives, as declared in data.

`<KNOWLEDGE_DIR>/data/profile_fields.yaml` declares the fields (label, type, unit, bounds, question,
parser keywords), the derived facts and the sets; the reference tables supply choices. A `FactSchema`
is loaded per knowledge folder and handed to whatever needs it (the profile model, the condition
parser, the catalog, the text parser, the interview), so a second knowledge folder in one process
gives its own answers and nothing reads the repository's folder behind the settings' back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from calculator.corpus.citation import ClauseRef
from calculator.corpus.tables import ReferenceTables, load_tables, read_yaml
from calculator.facts.interval import Interval

NUMERIC = frozenset({"int", "number"})
FIELDS_FILE = "profile_fields.yaml"
HOLDERS_FILE = "fact_holders.yaml"
SELF_REPORTED = "企业自报"   # a fact no department's records hold: only the enterprise can state it


@dataclass(frozen=True)
class Composition:
    """How a fact is composed from its parts by its legal definition when only the parts are known:
    `sum` (职工 + 劳务派遣), `mean` (four quarterly values) or `times` (a typical month × 3 = a quarter)."""

    kind: str                     # sum | mean | times
    inputs: tuple[str, ...]
    text: str
    cite: ClauseRef
    factor: float = 1.0


@dataclass(frozen=True)
class FieldSpec:
    """One profile fact as declared in profile_fields.yaml."""

    key: str
    label: str
    type: str
    group: str = ""
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    earliest: date | None = None    # bounds of a date field (min/max in the YAML), e.g. 成立日期 ≥ 1949-10-01
    latest: date | None = None
    choices: tuple[str, ...] = ()
    question: str = ""
    quick: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    validator: str = ""
    sensitive: bool = False
    derived: bool = False
    inputs: tuple[str, ...] = ()
    set: str = ""
    component: bool = False       # read from text to compose another fact; neither asked nor a form input
    compose: tuple[Composition, ...] = ()
    holder: str = ""              # the department whose records hold it (fact_holders.yaml); "" = 企业自报

    @property
    def quick_replies(self) -> tuple[str, ...]:
        """Buttons the chat offers for this question."""
        if self.quick:
            return self.quick
        if self.type == "bool":
            return ("是", "否", "不清楚")
        return self.choices

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC


def _choices(raw: dict[str, Any], tables: ReferenceTables) -> tuple[str, ...]:
    source = raw.get("choices_from")
    if source:
        by_file = {tables.file(name).name: getattr(tables, name) for name in ("industries", "regions")}
        if source not in by_file:
            raise ValueError(f"{FIELDS_FILE}: choices_from {source!r} is not a reference table")
        return tuple(by_file[source])
    return tuple(raw.get("choices", ()))


def _spec(key: str, raw: dict[str, Any], derived: bool, tables: ReferenceTables) -> FieldSpec:
    kind = raw.get("type")
    return FieldSpec(
        key=key,
        label=raw["label"],
        type=raw["type"],
        group=raw.get("group", ""),
        unit=raw.get("unit", ""),
        minimum=raw.get("min") if kind in NUMERIC else None,
        maximum=raw.get("max") if kind in NUMERIC else None,
        max_length=raw.get("max_length"),
        earliest=date.fromisoformat(str(raw["min"])) if kind == "date" and raw.get("min") else None,
        latest=date.fromisoformat(str(raw["max"])) if kind == "date" and raw.get("max") else None,
        choices=_choices(raw, tables),
        question=raw.get("question", ""),
        quick=tuple(raw.get("quick", ())),
        keywords=tuple(raw.get("keywords", ())),
        validator=raw.get("validator", ""),
        sensitive=bool(raw.get("sensitive", False)),
        derived=derived,
        inputs=tuple(raw.get("from", ())),
        set=raw.get("set", ""),
        component=bool(raw.get("component", False)),
        compose=tuple(_composition(key, c) for c in raw.get("compose", ())),
        holder=raw.get("holder", ""),
    )


def _composition(key: str, raw: Any) -> Composition:
    kinds = [k for k in ("sum", "mean", "times") if k in raw] if isinstance(raw, dict) else []
    if len(kinds) != 1 or not raw.get("text") or not raw.get("cite"):
        raise ValueError(f"{FIELDS_FILE}: {key}.compose: each entry is one of sum / mean / times with text and cite")
    kind = kinds[0]
    inputs = (raw[kind],) if kind == "times" else tuple(raw[kind])
    cite = ClauseRef.from_yaml(raw["cite"], f"{key}.compose.cite")
    return Composition(kind, tuple(str(i) for i in inputs), str(raw["text"]), cite, float(raw.get("by", 1)))


@dataclass(frozen=True, eq=False)
class FactSchema:
    """Fields, derived facts, sets, form groups and reference tables of one knowledge folder."""

    folder: Path
    fields: dict[str, FieldSpec]
    derived: dict[str, FieldSpec]
    groups: tuple[str, ...]
    tables: ReferenceTables
    sets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"FactSchema({self.folder}, {len(self.fields)} fields, {len(self.derived)} derived)"

    @cached_property
    def all_facts(self) -> dict[str, FieldSpec]:
        """Raw and derived facts by key: what a condition or a formula may name."""
        return {**self.fields, **self.derived}

    @cached_property
    def by_label(self) -> dict[str, str]:
        """Field key by its Chinese label (profiles may be written with labels)."""
        return {spec.label: key for key, spec in self.fields.items()}

    def holders(self, key: str) -> tuple[str, ...]:
        """The departments whose records would settle a fact: its holder, or its inputs' for a derived fact."""
        seen: dict[str, None] = {}
        stack, visited = [key], set()
        while stack:
            name = stack.pop()
            if name in visited:
                continue
            visited.add(name)
            spec = self.all_facts.get(name)
            if spec is None:
                continue
            if spec.derived and spec.inputs:
                stack.extend(reversed(spec.inputs))
            else:
                seen[spec.holder or SELF_REPORTED] = None
        return tuple(seen) or (SELF_REPORTED,)

    def label(self, key: str) -> str:
        """A fact's Chinese label (the key itself for a name the schema does not know)."""
        spec = self.all_facts.get(key)
        return spec.label if spec else key

    def labels(self, keys: tuple[str, ...] | list[str]) -> list[str]:
        return [self.label(k) for k in keys]

    def format_value(self, key: str, value: Any) -> str:
        """A fact's value in words with its unit: '85人', '1,500万元', '3.2%', '是'."""
        if value is None:
            return "未知"
        if isinstance(value, bool):
            return "是" if value else "否"
        spec = self.all_facts.get(key)
        unit = spec.unit if spec else ""
        if unit == RATIO:   # a rate stored as a fraction (the marginal tax rate 0.05) reads as 5%
            value = _percent(value)
            unit = "%"
        if isinstance(value, (int, float)):
            if unit == "年" and float(value).is_integer():   # a year (2023年) or years, never "2,023年"
                return f"{int(value)}{unit}"
            return f"{format_number(value)}{unit}"
        if isinstance(value, Interval):
            return format_interval(value, unit)
        if isinstance(value, date):
            return value.isoformat()
        return str(value)


RATIO = "比例"   # the unit of a rate kept as a fraction (0.05), shown as a percentage


def _percent(value: Any) -> Any:
    if isinstance(value, Interval):
        return Interval(None if value.low is None else round(value.low * 100, 4),
                        None if value.high is None else round(value.high * 100, 4), value.low_open, value.high_open)
    return round(value * 100, 4) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def format_interval(value: Interval, unit: str = "") -> str:
    """A vague amount in words: '4～5万元', '300万元以上、不到400万元', '超过100万元、不到200万元'."""
    low, high = value.low, value.high
    if low is not None and high is not None and not value.low_open and not value.high_open:
        return f"{format_number(low)}～{format_number(high)}{unit}"
    parts = []
    if low is not None:
        parts.append(f"超过{format_number(low)}{unit}" if value.low_open else f"{format_number(low)}{unit}以上")
    if high is not None:
        parts.append(f"不到{format_number(high)}{unit}" if value.high_open else f"不超过{format_number(high)}{unit}")
    return "、".join(parts) or "未知"


def format_number(value: float | int | None) -> str:
    """1500 → '1,500', 7.5 → '7.5', None → '?'."""
    if value is None:
        return "?"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def load_schema(folder: Path | None = None) -> FactSchema:
    """The schema of a data folder (default `<KNOWLEDGE_DIR>/data`); cached until one of its files changes."""
    if folder is None:
        from calculator.core.config import get_settings  # only the default consults the settings

        folder = get_settings().tables_dir
    folder = folder.resolve()
    stamp = tuple(p.stat().st_mtime_ns for p in sorted(folder.glob("*.yaml")))
    return _load(folder, stamp)


def _holders(folder: Path, fields: dict[str, Any]) -> dict[str, str]:
    """field key → department, from fact_holders.yaml (optional; a field listed twice or unknown is an error)."""
    path = folder / HOLDERS_FILE
    if not path.exists():
        return {}
    raw = read_yaml(path) or {}
    departments = tuple(raw.get("departments", ()))
    out: dict[str, str] = {}
    for department, keys in (raw.get("holders") or {}).items():
        if department not in departments:
            raise ValueError(f"{HOLDERS_FILE}: {department!r} is not one of the departments {departments}")
        for key in keys:
            if key not in fields or key in out:
                raise ValueError(f"{HOLDERS_FILE}: {key!r} is {'listed twice' if key in out else 'not a profile field'}")
            out[key] = department
    return out


@lru_cache(maxsize=8)
def _load(folder: Path, _stamp: tuple[int, ...]) -> FactSchema:
    raw = read_yaml(folder / FIELDS_FILE)
    tables = load_tables(folder)
    holders = _holders(folder, raw["fields"])
    fields = {k: _spec(k, {**v, "holder": holders.get(k, "")}, False, tables) for k, v in raw["fields"].items()}
    derived = {k: _spec(k, v, True, tables) for k, v in raw.get("derived", {}).items()}
    sets: dict[str, list[str]] = {}
    for key, spec in fields.items():
        if spec.set:
            sets.setdefault(spec.set, []).append(key)
        for composition in spec.compose:
            unknown = [i for i in composition.inputs if i not in fields or not fields[i].numeric]
            if unknown or not spec.numeric:
                raise ValueError(f"{FIELDS_FILE}: {key}.compose names {unknown or key}, which is not a numeric field")
    return FactSchema(folder, fields, derived, tuple(raw.get("groups", ())), tables,
                      {name: tuple(members) for name, members in sets.items()})


def default_schema() -> FactSchema:
    """The schema of the configured knowledge folder (KNOWLEDGE_DIR)."""
    return load_schema()
