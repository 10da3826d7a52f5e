"""Dated parameters: every threshold, rate and cap of the law, each value with its dates and its clause.

`knowledge/parameters/<domain>.yaml` holds parameters named `<domain>.<key>`; a value holds from its
date until the next one, carries a verbatim citation (checked at load like every quote), a boundary for
thresholds (含本数 = inclusive, 未达到 / 超过 = exclusive) and `verified: false` when it rests on a summary
or a report. `value: null` says "from this day no verified value" and needs a reason. The law of a day is
`Parameters.on(day)`: the values in force, which the matcher puts beside the facts, so a condition or a
formula reads a parameter like a fact and a day with no value gives unknown (naming the parameter),
never a silent default. OpenFisca and PolicyEngine date their parameters the same way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from calculator.core.errors import LocatedError
from calculator.corpus.citation import ClauseRef

NAME = re.compile(r"^[a-z0-9_]+$")
_ASIDE = re.compile(r"（[^（）]*）|\([^()]*\)")
_CLAUSE_END = re.compile(r"[；;]")
_IDENTIFIER = re.compile(r"[A-Za-z]\w*[_.][A-Za-z_.]+")   # hightech_valid, cit.rate: internal names people must not read
BOUNDARIES = ("inclusive", "exclusive")
_VALUE_KEYS = {"value", "boundary", "cite", "reason", "verified"}
_PARAMETER_KEYS = {"description", "unit", "values"}


@dataclass(frozen=True)
class Value:
    """One dated value of a parameter, as the law states it from `start` (until the next value starts)."""

    name: str
    start: date
    until: date | None          # the day before the next value starts; None: no later value known
    value: float | None         # None: no verified value from `start` (see `reason`)
    boundary: str | None        # inclusive | exclusive, for thresholds; None for rates and amounts
    cite: ClauseRef | None
    reason: str
    verified: bool
    unit: str
    description: str

    @property
    def known(self) -> bool:
        return self.value is not None

    def dates(self) -> str:
        """'2026-01-01起' or '2023-01-01至2025-12-31'."""
        return f"{self.start.isoformat()}至{self.until.isoformat()}" if self.until else f"{self.start.isoformat()}起"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "boundary": self.boundary,
                "from": self.start.isoformat(), "until": self.until.isoformat() if self.until else None,
                "verified": self.verified, "reason": self.reason, "description": self.description,
                "cite": {"doc": self.cite.doc, "locator": self.cite.locator, "quote": self.cite.quote} if self.cite else None}


@dataclass(frozen=True, eq=False)
class Parameter:
    """A named parameter and its dated values, oldest first."""

    name: str
    description: str
    unit: str
    values: tuple[Value, ...]
    file: str

    def on(self, day: date) -> Value | None:
        """The value in force on `day`; None before the first value (then nothing is known either)."""
        found = None
        for value in self.values:
            if value.start <= day:
                found = value
        return found

    @cached_property
    def short(self) -> str:
        """The description without its asides: what the parameter is, in a few words (小型微利企业从业人数上限)."""
        text = self.description
        while (plain := _ASIDE.sub("", text)) != text:
            text = plain
        return _CLAUSE_END.split(text)[0].strip() or self.description

    @cached_property
    def label(self) -> str:
        """How a missing value is named to people ("小型微利企业年度应纳税所得额上限（现行标准未核实）"), never
        the dotted name."""
        return f"{self.short}（现行标准未核实）"

    @cached_property
    def has_boundary(self) -> bool:
        return any(v.boundary for v in self.values)

    @cached_property
    def constant(self) -> float | None:
        """The value when every known value is the same number (e.g. 300万元 across all dates), else None."""
        known = {v.value for v in self.values if v.value is not None}
        return known.pop() if len(known) == 1 else None

    def cites(self) -> list[ClauseRef]:
        return [v.cite for v in self.values if v.cite is not None]


class Parameters:
    """All parameters of a knowledge folder, by dotted name; `on(day)` is the law of that day."""

    def __init__(self, parameters: dict[str, Parameter]) -> None:
        self._all = parameters
        self._days: dict[date, dict[str, Value]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._all

    def __getitem__(self, name: str) -> Parameter:
        return self._all[name]

    def __iter__(self) -> Any:
        return iter(self._all.values())

    def __len__(self) -> int:
        return len(self._all)

    def names(self) -> list[str]:
        return list(self._all)

    def label(self, name: str) -> str | None:
        """The words for a parameter's name (None for a name that is not a parameter)."""
        found = self._all.get(name)
        return found.label if found is not None else None

    def on(self, day: date) -> dict[str, Value]:
        """name → the value in force on `day` (parameters with no value yet are absent); cached per day."""
        cached = self._days.get(day)
        if cached is None:
            cached = {name: v for name, p in self._all.items() if (v := p.on(day)) is not None}
            if len(self._days) > 64:
                self._days.clear()
            self._days[day] = cached
        return cached


def load_parameters(folder: Path, shown: Any = str) -> tuple[Parameters, list[LocatedError]]:
    """Read every `<domain>.yaml` in `folder`; problems are collected (file, path, both languages), not raised.

    `shown(path)` is how a file is named in messages (relative to the project). Quotes are verified by the
    catalog, which holds the documents.
    """
    problems: list[LocatedError] = []
    found: dict[str, Parameter] = {}
    if not folder.is_dir():
        return Parameters(found), problems
    for path in sorted(folder.glob("*.yaml")):
        file = shown(path)
        if not NAME.match(path.stem):
            problems.append(LocatedError(f"参数文件名“{path.stem}”只能含小写字母、数字和下划线",
                                         f"parameter file name {path.stem!r} must be [a-z0-9_]+", "", file))
            continue
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(LocatedError("参数文件无法读取或不是有效的 YAML", f"cannot read the parameter file: {exc}", "", file))
            continue
        if not isinstance(raw, dict):
            problems.append(LocatedError("参数文件应为 YAML 映射", "a parameter file must be a YAML mapping", "", file))
            continue
        for key, spec in raw.items():
            try:
                found[f"{path.stem}.{key}"] = _parameter(path.stem, str(key), spec, file)
            except LocatedError as exc:
                problems.append(exc.within(file=file))
    return Parameters(found), problems


def _parameter(domain: str, key: str, spec: Any, file: str) -> Parameter:
    name = f"{domain}.{key}"
    if not NAME.match(key):
        raise LocatedError(f"参数名“{key}”只能含小写字母、数字和下划线", f"parameter name {key!r} must be [a-z0-9_]+", key)
    if not isinstance(spec, dict):
        raise LocatedError("参数应为映射（description, unit, values）", "a parameter is a mapping", key)
    extra = sorted(set(spec) - _PARAMETER_KEYS)
    if extra:
        raise LocatedError(f"参数含未知键 {extra}", f"unknown parameter keys {extra}", f"{key}.{extra[0]}")
    description, unit = str(spec.get("description") or "").strip(), str(spec.get("unit") or "").strip()
    if not description:
        raise LocatedError("参数缺少 description", "a parameter needs a description", f"{key}.description")
    _for_people(description, f"{key}.description")
    raw_values = spec.get("values")
    if not isinstance(raw_values, dict) or not raw_values:
        raise LocatedError("参数的 values 应为非空映射（日期 → 取值）", "values must map dates to values", f"{key}.values")
    starts: list[tuple[date, Any, str]] = []
    for when, entry in raw_values.items():
        where = f"{key}.values.{when}"
        try:
            start = when if isinstance(when, date) else date.fromisoformat(str(when))
        except ValueError:
            raise LocatedError(f"日期“{when}”应为 YYYY-MM-DD", f"date {when!r} must be YYYY-MM-DD", where) from None
        starts.append((start, entry, where))
    starts.sort(key=lambda item: item[0])
    values = []
    for i, (start, entry, where) in enumerate(starts):
        until = date.fromordinal(starts[i + 1][0].toordinal() - 1) if i + 1 < len(starts) else None
        values.append(_value(name, start, until, entry, where, unit, description))
    return Parameter(name, description, unit, tuple(values), file)


def _for_people(text: str, where: str) -> None:
    """Descriptions and reasons are shown to people: no internal names (field or parameter ids)."""
    found = _IDENTIFIER.search(text)
    if found:
        raise LocatedError(f"面向用户的文字不能含内部名称“{found.group()}”", f"text shown to people names {found.group()!r}", where)


def _value(name: str, start: date, until: date | None, entry: Any, where: str, unit: str, description: str) -> Value:
    if not isinstance(entry, dict):
        raise LocatedError("每个取值应为映射（value, cite …）", "each dated value is a mapping (value, cite …)", where)
    extra = sorted(set(entry) - _VALUE_KEYS)
    if extra:
        raise LocatedError(f"取值含未知键 {extra}", f"unknown keys {extra} in a dated value", f"{where}.{extra[0]}")
    if "value" not in entry:
        raise LocatedError("缺少 value（没有已核实的数值时写 value: null 并说明 reason）",
                           "value is missing (write value: null with a reason when none is verified)", f"{where}.value")
    value = entry["value"]
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise LocatedError(f"value 应为数字或 null（收到 {value!r}）", f"value must be a number or null, got {value!r}", f"{where}.value")
    reason = str(entry.get("reason") or "").strip()
    _for_people(reason, f"{where}.reason")
    boundary = entry.get("boundary")
    if boundary is not None and boundary not in BOUNDARIES:
        raise LocatedError("boundary 只能是 inclusive（含本数）或 exclusive（不含本数）",
                           "boundary is inclusive or exclusive", f"{where}.boundary")
    verified = entry.get("verified", True)
    if not isinstance(verified, bool):
        raise LocatedError("verified 应为 true/false", "verified must be true or false", f"{where}.verified")
    cite = ClauseRef.from_yaml(entry["cite"], f"{where}.cite") if entry.get("cite") is not None else None
    if value is None and not reason:
        raise LocatedError("value 为 null 时须写明 reason（为什么没有已核实的数值）",
                           "a null value needs a reason", f"{where}.reason")
    if value is not None and cite is None:
        raise LocatedError("每个取值都须有 cite（文档、条款、原文）", "every value needs a cite", f"{where}.cite")
    return Value(name, start, until, None if value is None else float(value), boundary, cite, reason, verified,
                 unit, description)
