"""Profile × catalog → a verdict per policy: eligible | need_info | not_eligible, with the working.

Verdicts come from the compiled condition trees only. The fast path asks each tree for its verdict
(and, when undecided, the facts still missing); the explained trace, near-miss note and words are
built lazily for the results someone reads or serialises. Expired and not-yet-in-force items are
never offered as current: they are not_eligible with a first condition saying why.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from calculator.core.config import get_settings
from calculator.core.vocabulary import CURRENT, ELIGIBLE, EXPIRED, NEED_INFO, NOT_ELIGIBLE, STATUS_LABEL
from calculator.facts.interval import json_value
from calculator.facts.profile import Derived, derive, validate_profile
from calculator.facts.schema import format_number
from calculator.policy.formula import FormulaResult
from calculator.policy.money import totals, working, zero_reason
from calculator.policy.rules.tree import MET, NOT_MET, Group, Ref, Trace, leaf_of, near_miss

if TYPE_CHECKING:  # a report reads the catalog it is handed
    from calculator.facts.profile import ProfileBase
    from calculator.policy.catalog import Catalog, Policy


class PolicyResult:
    """One policy's verdict for one profile; the trace and its words are computed on first use."""

    __slots__ = ("policy", "status", "missing", "validity", "_facts", "_derived", "_trace", "_amount")

    def __init__(self, policy: Policy, status: str, missing: tuple[str, ...], validity: str,
                 facts: dict[str, Any], derived: Mapping[str, Derived] | None = None) -> None:
        self.policy, self.status, self.missing, self.validity = policy, status, missing, validity
        self._facts = facts
        self._derived = derived or {}   # the profile's and the law's derived facts, with their working
        self._trace: Trace | None = None
        self._amount: FormulaResult | None | bool = False  # False: not computed yet

    @property
    def amount(self) -> FormulaResult | None:
        """The estimate from the item's formula; none for items the enterprise does not qualify for."""
        if self._amount is False:
            formula = self.policy.amount
            self._amount = None if formula is None or self.status == NOT_ELIGIBLE else formula.evaluate(self._facts)
        return self._amount  # type: ignore[return-value]

    @property
    def trace(self) -> Trace:
        if self._trace is None:
            self._trace = self.policy.conditions.trace(self._facts)
        return self._trace

    @property
    def conditions(self) -> tuple[Trace, ...]:
        """The top-level conditions as the text lists them (the children of a root `all`)."""
        root = self.trace
        return root.children if isinstance(root.node, Group) and root.node.kind == "all" else (root,)

    @property
    def near_miss(self) -> str | None:
        """'只差：研发费用占营业收入比例 3.2% < 4%' when one numeric condition narrowly blocks a current item."""
        if self.status != NOT_ELIGIBLE or self.validity != CURRENT:
            return None
        blocker = near_miss(self.trace, self.policy.near_miss_margin)
        leaf = leaf_of(blocker) if blocker else None
        return f"只差：{leaf.relation(blocker.value, NOT_MET, blocker.threshold)}" if leaf and blocker else None

    @property
    def assumptions(self) -> list[str]:
        """Conditions taken as met because the text presumes them (e.g. 非限制和禁止行业), in words."""
        return [leaf.detail for leaf in self.trace.leaves() if leaf.presumed]

    @property
    def missing_labels(self) -> list[str]:
        return self.policy.labels(self.missing)

    @property
    def amount_needs(self) -> list[str]:
        """What the estimate still needs, in words: a law-derived fact (the marginal rate) that is unknown is
        replaced by the facts that would decide it (年应纳税所得额), which the user can answer."""
        if self.amount is None:
            return []
        names: list[str] = []
        for name in self.amount.missing:
            fact = self._derived.get(name)
            names += list(fact.needs) if fact is not None and fact.needs else [name]
        return self.policy.labels(list(dict.fromkeys(names)))

    @property
    def amount_value(self) -> float | None:
        return None if self.amount is None or self.amount.value is None else round(self.amount.value, 2)

    @property
    def amount_range(self) -> tuple[float, float] | None:
        """(low, high) when the estimate is a range (a vague fact, or a rate not yet decided)."""
        amount = self.amount
        if amount is None or not amount.is_range or amount.low is None or amount.high is None:
            return None
        return round(amount.low, 2), round(amount.high, 2)

    @property
    def amount_text(self) -> str:
        spec = self.policy.item.amount
        if spec is None or self.amount is None:
            return ""
        if self.amount_value is not None:
            if self.amount_value == 0:
                return f"当年金额为0：{self.zero_reason}（估算：{spec.note}）"
            return f"约 {format_number(self.amount_value)} {spec.unit}（估算：{spec.note}）"
        if self.amount_range is not None:
            low, high = self.amount_range
            return f"约 {format_number(low)}～{format_number(high)} {spec.unit}（估算，尚不能确定：{spec.note}）"
        if self.amount.missing:
            return f"补充{'、'.join(self.amount_needs)}后可估算金额"
        return ""

    @property
    def zero_reason(self) -> str:
        """Why the estimate is 0 (a loss year, a fact that is 0): said instead of "约0万元"."""
        formula = self.policy.amount
        return zero_reason(formula, self._facts, self.policy.conditions.schema) if formula is not None else ""

    @property
    def amount_working(self) -> dict[str, Any] | None:
        """The formula with the parameters (and their dates) and facts it used: how the figure came about."""
        if self.policy.amount is None or self.amount is None:
            return None
        return working(self.policy.amount, self._facts, self.policy.conditions.schema, self._derived,
                       self.policy.parameters)

    @property
    def validity_condition(self) -> dict[str, str] | None:
        """The synthetic first condition of an item outside its validity window."""
        validity = self.policy.item.validity
        if self.validity == CURRENT:
            return None
        if self.validity == EXPIRED:
            detail = f"已于{validity.until.isoformat()}到期"  # type: ignore[union-attr]
        else:
            detail = f"自{validity.valid_from.isoformat()}起施行，尚未生效"  # type: ignore[union-attr]
        return {"id": "validity", "text": "政策在有效期内", "outcome": NOT_MET, "detail": detail}

    def to_json(self, catalog: Catalog) -> dict[str, Any]:
        item = self.policy.item
        spec = item.amount
        conditions = [_condition_json(t, catalog) for t in self.conditions]
        if self.validity_condition:
            conditions.insert(0, self.validity_condition)
        return {
            "policy_id": item.id,
            "title": item.title,
            "status": self.status,
            "status_label": STATUS_LABEL[self.status],
            "benefit": item.benefit,
            "amount": self.amount_value,
            "amount_unit": spec.unit if spec else None,
            "amount_note": spec.note if spec else None,
            "amount_text": self.amount_text,
            "amount_kind": spec.kind if spec else None,
            "amount_range": list(self.amount_range) if self.amount_range else None,
            "amount_working": self.amount_working,
            "alternatives": list(item.alternatives),
            "mode": item.mode,
            "valid_until": item.validity.until.isoformat() if item.validity.until else None,
            "missing": list(self.missing),
            "missing_labels": self.missing_labels,
            "conditions": conditions,
            "citations": [c.to_json() for c in self.policy.citations],
            "issuer": item.issuer,
            "level": item.level,
            "department": item.department,
            "apply": item.apply.model_dump(),
            "validity": {"from": item.validity.valid_from.isoformat() if item.validity.valid_from else None,
                         "until": item.validity.until.isoformat() if item.validity.until else None,
                         "status": self.validity},
            "expired": self.validity == EXPIRED,
            "caveat": "；".join(self.policy.caveats),
            "doubt": list(item.doubt),
            "near_miss": self.near_miss,
            "assumptions": self.assumptions,
            "tags": list(item.tags),
        }


def _condition_json(trace: Trace, catalog: Catalog) -> dict[str, Any]:
    out: dict[str, Any] = {"text": trace.text, "outcome": trace.outcome, "detail": trace.detail}
    leaf = leaf_of(trace)
    if isinstance(trace.node, Ref):
        out["ref"] = trace.node.definition.name
    if leaf is not None:
        out["id"], out["field"] = leaf.id, leaf.field
    elif node_id := getattr(trace.node, "id", ""):
        out["id"] = node_id
    if trace.missing:
        out["missing"] = list(trace.missing)
    if trace.presumed:
        out["presumed"] = True
    out["citation"] = catalog.citation(trace.cite).to_json() if trace.cite else None
    if trace.children:
        out["children"] = [_condition_json(child, catalog) for child in trace.children]
    return out


def _judge(policy: Policy, facts: dict[str, Any], today: date, derived: Mapping[str, Derived]) -> PolicyResult:
    validity = policy.status_on(today)
    verdict = policy.test(facts) if validity == CURRENT else False
    if verdict is False:
        return PolicyResult(policy, NOT_ELIGIBLE, (), validity, facts, derived)
    if verdict is True:
        return PolicyResult(policy, ELIGIBLE, (), validity, facts, derived)
    missing = verdict if len(verdict) == 1 else tuple(dict.fromkeys(verdict))
    return PolicyResult(policy, NEED_INFO, missing, validity, facts, derived)


def _ordered(results: list[PolicyResult]) -> list[PolicyResult]:
    """Eligible (larger amounts first), need_info (fewest missing answers first), not_eligible (current first).

    Stable sorts within each verdict keep the catalog's order for ties.
    """
    by_status: dict[str, list[PolicyResult]] = {ELIGIBLE: [], NEED_INFO: [], NOT_ELIGIBLE: []}
    for result in results:
        by_status[result.status].append(result)
    by_status[ELIGIBLE].sort(key=lambda r: (r.amount_value is None, -(r.amount_value or 0.0)))
    by_status[NEED_INFO].sort(key=lambda r: len(r.missing))
    by_status[NOT_ELIGIBLE].sort(key=lambda r: r.validity != CURRENT)
    return [*by_status[ELIGIBLE], *by_status[NEED_INFO], *by_status[NOT_ELIGIBLE]]


class MatchReport:
    """All verdicts for one profile on one day, with the derived facts they rest on."""

    def __init__(self, profile: ProfileBase, today: date, derived: dict[str, Derived], facts: dict[str, Any],
                 results: list[PolicyResult], catalog: Catalog) -> None:
        self.profile, self.today, self.derived, self.facts = profile, today, derived, facts
        self.results, self.catalog = results, catalog

    def result(self, policy_id: str) -> PolicyResult:
        return next(r for r in self.results if r.policy.id == policy_id)

    def with_status(self, status: str) -> list[PolicyResult]:
        return [r for r in self.results if r.status == status]

    def derived_json(self) -> dict[str, Any]:
        """Derived facts with their working and clause; named definitions (小型微利企业) as yes/no/unknown."""
        out: dict[str, Any] = {}
        for key, fact in self.derived.items():
            out[key] = {"label": fact.label, "value": json_value(fact.value),
                        "display": self.catalog.schema.format_value(key, fact.value),
                        "explanation": fact.explanation,
                        "citation": self.catalog.citation(fact.cite).to_json() if fact.cite else None}
            if fact.possible and fact.value is None:
                out[key]["possible"] = list(fact.possible)
        for name, definition in self.catalog.definitions.items():
            trace = definition.node.trace(self.facts)
            value = {MET: True, NOT_MET: False}.get(trace.outcome)
            out[name] = {"label": name, "value": value, "display": "未知" if value is None else "是" if value else "否",
                         "explanation": trace.detail, "definition": True,
                         "citation": self.catalog.citation(trace.cite).to_json() if trace.cite else None,
                         "conditions": [_condition_json(c, self.catalog) for c in trace.children] or
                                       [_condition_json(trace, self.catalog)]}
        return out

    def to_json(self) -> dict[str, Any]:
        """The `match --json` contract of DESIGN.md, plus derived facts, today, the catalog's fingerprint
        (printed on every exported sheet) and a status count."""
        from calculator.policy.fingerprint import catalog_fingerprint

        return {
            "profile": self.profile.model_dump(mode="json", exclude_none=True),
            "today": self.today.isoformat(),
            "catalog_fingerprint": catalog_fingerprint(self.catalog),   # which rules and law were applied
            "derived": self.derived_json(),
            "summary": {status: len(self.with_status(status)) for status in STATUS_LABEL},
            "totals": totals(self.results),
            "results": [r.to_json(self.catalog) for r in self.results],
        }


def law_of_the_day(facts: dict[str, Any], catalog: Catalog, today: date) -> dict[str, Derived]:
    """Put the law of `today` into `facts`: the parameters in force (read like facts by conditions and
    formulas) and the facts the law derives on that day (高企 still valid, the marginal rate), which are
    returned with their working. The matcher and the officials' coverage judge on the same facts."""
    facts.update(catalog.parameters.on(today))
    derived = {}
    for name, rule in catalog.derived_rules.items():
        derived[name] = rule.compute(facts, today, catalog.definitions, catalog.schema, catalog.labels)
        facts[name] = derived[name].value
    return derived


def match_profile(profile: Any, catalog: Catalog | None = None, today: date | None = None) -> MatchReport:
    """Judge every catalog item for `profile` (a Profile or a mapping, validated) as of `today`."""
    if catalog is None:
        from calculator.policy.catalog import load_catalog  # the configured catalog, when none is handed in

        catalog = load_catalog()
    checked = validate_profile(profile, catalog.schema)
    today = today or get_settings().today
    derived = derive(checked, today)
    facts = {key: getattr(checked, key) for key in catalog.schema.fields}
    facts.update((key, fact.value) for key, fact in derived.items())
    derived.update(law_of_the_day(facts, catalog, today))
    results = [_judge(policy, facts, today, derived) for policy in catalog.policies]
    return MatchReport(checked, today, derived, facts, _ordered(results), catalog)
