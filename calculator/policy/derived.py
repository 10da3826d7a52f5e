"""Facts the law derives on the day asked: a certificate still valid, the enterprise's marginal tax rate.

They depend on the catalog (named definitions such as 小型微利企业) and on dated parameters, so they are
computed by the matcher after the profile's own derived facts, from rules written in `_definitions.yaml`
under `derived:` (the fact itself, its label, type and unit, is declared in profile_fields.yaml like any
other derived fact). Two kinds of rule:

- `formula`: a safe amount formula over facts, parameters and definitions (`cit_marginal_rate`: 0 in a
  loss year, 5% for a 小型微利企业, 15% for a current 高企, else 25%); a definition still undecided gives
  the range between its branches, so an amount computed from it is a range, never the highest figure.
- `valid_while`: a title held now — said so (`held`), or counted from the year it was granted
  (`since_year`) for a number of years (`years`, a parameter); in the year it lapses the answer is
  unknown (re-recognition may be under way), before or after it is false. Intent (想申请) is never a title.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from calculator.core.errors import LocatedError
from calculator.corpus.citation import ClauseRef
from calculator.facts.interval import Interval
from calculator.facts.profile import Derived
from calculator.facts.schema import FactSchema
from calculator.policy.formula import Formula

if TYPE_CHECKING:
    from calculator.policy.rules.tree import Definition

_KEYS = {"text", "cite", "formula", "valid_while"}


@dataclass(eq=False)
class DerivedRule:
    """How one law-derived fact is computed, with the clause it rests on."""

    name: str
    text: str
    cite: ClauseRef
    formula: Formula | None = None
    held: str = ""          # valid_while: the yes/no fact "holds it now"
    since_year: str = ""    # valid_while: the year it was granted
    years: str = ""         # valid_while: the parameter giving how many years it is valid

    def compute(self, facts: Mapping[str, Any], today: date, definitions: Mapping[str, Definition],
                schema: FactSchema, words: Callable[[tuple[str, ...]], list[str]] | None = None) -> Derived:
        """The fact on `today`; `words` names facts and parameters for people (default: the schema's labels)."""
        label = schema.label(self.name)
        if self.formula is not None:
            return self._from_formula(facts, definitions, label, schema, words or schema.labels)
        return self._validity(facts, today, label)

    def _from_formula(self, facts: Mapping[str, Any], definitions: Mapping[str, Definition], label: str,
                      schema: FactSchema, words: Callable[[tuple[str, ...]], list[str]]) -> Derived:
        assert self.formula is not None
        known = dict(facts)
        for name in self.formula.names:
            if name in definitions:
                verdict = definitions[name].node.test(facts)
                known[name] = verdict if isinstance(verdict, bool) else None
        result = self.formula.evaluate(known)
        basis = self._basis(known, schema)
        if result.value is not None:
            return Derived(self.name, result.value, f"{self.text}：{schema.format_value(self.name, result.value)}{basis}",
                           self.cite, [], label)
        if result.is_range:
            value = Interval(result.low, result.high)
            return Derived(self.name, value, f"{self.text}：{schema.format_value(self.name, value)}（尚不能确定，按可能的范围）"
                                             f"{basis}", self.cite, [], label)
        return Derived(self.name, None, f"{self.text}：需要{'、'.join(words(result.missing)) or '更多信息'}", self.cite, [],
                       label, result.missing)

    def _basis(self, known: Mapping[str, Any], schema: FactSchema) -> str:
        """What the formula's result rests on: its facts and yes/no conditions as they stand
        ("（年应纳税所得额 200万元；小型微利企业：是；高新技术企业证书在有效期内：否）")."""
        assert self.formula is not None
        parts = []
        for name in self.formula.names:
            if "." in name:
                continue
            value = known.get(name)
            label = schema.label(name)   # a definition (小型微利企业) is its own name
            if value is None or isinstance(value, bool):
                parts.append(f"{label}：{'未定' if value is None else '是' if value else '否'}")
            else:
                parts.append(f"{label} {schema.format_value(name, value)}")
        return f"（{'；'.join(parts)}）" if parts else ""

    def _validity(self, facts: Mapping[str, Any], today: date, label: str) -> Derived:
        held, year, years = facts.get(self.held), facts.get(self.since_year), facts.get(self.years)
        if held is False:
            return Derived(self.name, False, "企业表示目前不持有（只是想申请、正在申请或已过期的不算）", self.cite, [], label)
        if isinstance(year, (int, float)) and years is not None and years.value is not None:
            first, span = int(year), int(years.value)
            last = first + span - 1
            window = f"{first}年发证，有效期{span}年（{first}—{last}年）"
            if first <= today.year <= last:
                return Derived(self.name, True, f"{window}，{today.year}年在有效期内", self.cite, [], label)
            if today.year == last + 1:
                return Derived(self.name, None, f"{window}，{today.year}年已到期，是否已重新认定需确认", self.cite, [], label)
            state = "尚未取得" if today.year < first else "已过期"
            return Derived(self.name, False, f"{window}，{today.year}年{state}", self.cite, [], label)
        if held is True:
            return Derived(self.name, True, "企业表示目前持有有效期内的证书", self.cite, [], label)
        return Derived(self.name, None, "证书情况未知", self.cite, [], label)


def parse_rules(raw: Any, schema: FactSchema, kinds: Mapping[str, str], parameter_names: set[str]) -> dict[str, DerivedRule]:
    """`derived:` of _definitions.yaml → rules; each must name a derived fact declared in the schema."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LocatedError("derived 应为映射（事实名 → 规则）", "derived maps fact names to rules", "derived")
    rules: dict[str, DerivedRule] = {}
    for name, spec in raw.items():
        where = f"derived.{name}"
        if name not in schema.derived:
            raise LocatedError(f"“{name}”须先在 profile_fields.yaml 的 derived 中声明", f"{name!r} is not a declared derived fact", where)
        if not isinstance(spec, dict) or set(spec) - _KEYS or not spec.get("text") or not spec.get("cite"):
            raise LocatedError("规则须有 text、cite，以及 formula 或 valid_while 之一",
                               "a rule needs text, cite and one of formula / valid_while", where)
        cite = ClauseRef.from_yaml(spec["cite"], f"{where}.cite")
        if ("formula" in spec) == ("valid_while" in spec):
            raise LocatedError("规则须且只能有 formula 或 valid_while 之一", "a rule has exactly one of formula / valid_while", where)
        if "formula" in spec:
            try:
                formula = Formula(str(spec["formula"]), kinds)
            except LocatedError as exc:
                raise exc.within(f"{where}.formula") from None
            rules[name] = DerivedRule(name, str(spec["text"]), cite, formula)
            continue
        valid = spec["valid_while"]
        if not isinstance(valid, dict) or set(valid) != {"held", "since_year", "years"}:
            raise LocatedError("valid_while 须有 held、since_year、years", "valid_while needs held, since_year and years",
                               f"{where}.valid_while")
        if valid["years"] not in parameter_names:
            raise LocatedError(f"未知参数“{valid['years']}”", f"unknown parameter {valid['years']!r}", f"{where}.valid_while.years")
        for key in ("held", "since_year"):
            if valid[key] not in schema.fields:
                raise LocatedError(f"未知字段“{valid[key]}”", f"unknown field {valid[key]!r}", f"{where}.valid_while.{key}")
        rules[name] = DerivedRule(name, str(spec["text"]), cite, None, valid["held"], valid["since_year"], valid["years"])
    return rules
