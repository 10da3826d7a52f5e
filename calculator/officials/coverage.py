"""Coverage gaps for officials: which enterprise groups does no current policy reach?

Segments are generated from the profile model itself (regions.yaml × the 划型 groups of
sme_size_standards.yaml × size class × the `certifications` set × taxpayer type), so a new region,
industry group or certification in the data shows up here without code. Each segment becomes a
representative profile: size metrics inside the class's band for its group, every other fact unknown.
The engine's compiled condition trees then give, per current policy, met (eligible), unknown (the segment
*could* qualify: need_info) or not met. Unknown is deliberately counted apart: a segment reached only by
"could be" is a softer gap than one no policy mentions at all.

Thousands of segments × the catalog take well under a second (compiled closures, no traces), and the
report is cached per catalog fingerprint and day, so the officials' tab can recompute on every visit.
"""
from __future__ import annotations

import csv
import io
import itertools
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from calculator.core.config import get_settings
from calculator.core.vocabulary import CURRENT, LEVEL_LABEL
from calculator.facts.profile import facts, validate_profile
from calculator.facts.schema import FactSchema, default_schema
from calculator.policy.catalog import Catalog, load_catalog
from calculator.policy.fingerprint import catalog_fingerprint
from calculator.policy.match import law_of_the_day

NO_CERT = "无"
CERT_SET = "certifications"
DIMENSION_KEYS = ("county", "size_group", "size_class", "certification", "taxpayer_type")  # table order


def dimension_labels(schema: FactSchema | None = None) -> dict[str, str]:
    """Segment attribute → Chinese column label, from the schema's labels."""
    schema = schema or default_schema()
    return {key: "资质" if key == "certification" else schema.label(key) for key in DIMENSION_KEYS}
_TIER = {"中型": "medium", "小型": "small"}
_NEXT_UP = {"中型": "large", "小型": "medium"}
_CACHE_SIZE = 4


# ---------------------------------------------------------------- segments

@dataclass(frozen=True)
class Segment:
    """One enterprise group: a value on each dimension."""

    county: str
    size_group: str
    size_class: str
    certification: str
    taxpayer_type: str

    @property
    def key(self) -> str:
        return "|".join(self.values())

    @property
    def label(self) -> str:
        return "·".join(shown(name, value) for name, value in zip(DIMENSION_KEYS, self.values()))

    def values(self) -> tuple[str, ...]:
        return tuple(getattr(self, name) for name in DIMENSION_KEYS)


def shown(dimension: str, value: str) -> str:
    """A dimension value as a reader should see it ("无" alone is unclear for certifications)."""
    return "无任何资质" if dimension == "certification" and value == NO_CERT else value


def group_industries(group: str, schema: FactSchema | None = None) -> list[str]:
    """The industries (industries.yaml) that the 划型标准 puts in `group`."""
    schema = schema or default_schema()
    return [name for name, spec in schema.tables.industries.items() if spec["size_group"] == group]


def dimension_values(schema: FactSchema | None = None) -> dict[str, tuple[str, ...]]:
    """Each dimension's values, read from the profile data (a group no industry maps to is left out:
    no enterprise can be in it)."""
    schema = schema or default_schema()
    fields, groups = schema.fields, schema.tables.size_standards["groups"]
    return {
        "county": fields["county"].choices,
        "size_group": tuple(g for g in groups if group_industries(g, schema)),
        "size_class": schema.derived["size_class"].choices,
        "certification": (NO_CERT, *schema.labels(schema.sets[CERT_SET])),
        "taxpayer_type": fields["taxpayer_type"].choices,
    }


def segments(schema: FactSchema | None = None) -> list[Segment]:
    """Every combination of the dimension values."""
    return [Segment(*combo) for combo in itertools.product(*dimension_values(schema).values())]


def band_metrics(group: str, size_class: str, schema: FactSchema | None = None) -> dict[str, float | int]:
    """Size metrics well inside `size_class`'s band for `group` (geometric middle of the band; twice the
    大型 threshold; half the 小型 one), so the engine's own 划型 puts the profile in that class."""
    schema = schema or default_schema()
    row = schema.tables.size_standards["groups"][group]
    out: dict[str, float | int] = {}
    for metric, small in row["small"].items():
        if size_class == "大型":
            value = row["large"][metric] * 2
        elif size_class == "微型":
            value = small / 2
        else:
            value = math.sqrt(row[_TIER[size_class]][metric] * row[_NEXT_UP[size_class]][metric])
        out[metric] = int(round(value)) if schema.fields[metric].type == "int" else round(value, 1)
    return out


def representative_profile(segment: Segment, schema: FactSchema | None = None) -> dict[str, Any]:
    """The profile a segment stands for. `industry` is the group's first industry only so the 划型 can be
    computed; `segment_facts` treats which industry within a multi-industry group as unknown."""
    certs = [] if segment.certification == NO_CERT else [segment.certification]
    return {"county": segment.county, "industry": group_industries(segment.size_group, schema)[0],
            **band_metrics(segment.size_group, segment.size_class, schema),
            CERT_SET: certs, "taxpayer_type": segment.taxpayer_type}


def segment_facts(segment: Segment, today: date, schema: FactSchema | None = None) -> dict[str, Any]:
    """Raw and derived facts of the representative profile, as the engine evaluates them."""
    schema = schema or default_schema()
    values = facts(validate_profile(representative_profile(segment, schema), schema), today)
    if values["size_class"] != segment.size_class:  # the band placement and the 划型 disagree: a data bug
        raise ValueError(f"{segment.label}: representative profile is {values['size_class']}")
    industries = group_industries(segment.size_group, schema)
    if len(industries) > 1:  # 工业 is 采矿/制造/烟草/电力…: which one is not part of the segment
        values["industry"] = None
        if len({schema.tables.industries[i]["section"] for i in industries}) > 1:
            values["industry_section"] = None
    return values


# ---------------------------------------------------------------- the report

@dataclass(frozen=True)
class PolicyInfo:
    policy_id: str
    title: str
    level: str
    department: str
    mode: str


@dataclass(frozen=True)
class SegmentCoverage:
    segment: Segment
    eligible: tuple[str, ...]   # policy ids the segment qualifies for
    need_info: tuple[str, ...]  # policy ids it could qualify for (facts unknown)

    @property
    def reached(self) -> bool:
        return bool(self.eligible or self.need_info)


def _mean(values: Iterable[float]) -> float:
    data = list(values)
    return round(sum(data) / len(data), 2) if data else 0.0


def _share(flags: Iterable[bool]) -> float:
    data = list(flags)
    return round(sum(data) / len(data), 3) if data else 0.0


@dataclass
class CoverageReport:
    today: date
    fingerprint: str
    policies: list[PolicyInfo]           # current items (the counts are over these)
    not_current: list[dict[str, str]]    # expired / not yet in force: listed, not counted
    segments: list[SegmentCoverage]
    seconds: float
    schema: FactSchema

    @property
    def dimensions(self) -> dict[str, str]:
        """Segment attribute → Chinese column label."""
        return dimension_labels(self.schema)

    # -- the questions officials ask

    def gaps(self) -> list[SegmentCoverage]:
        """Segments no current policy reaches, not even as 'could be'."""
        return [s for s in self.segments if not s.reached]

    def zero_eligible(self) -> list[SegmentCoverage]:
        """Segments for which no current policy is certain (some may still be need_info)."""
        return [s for s in self.segments if not s.eligible]

    def reach(self) -> dict[str, dict[str, int]]:
        """policy_id → number of segments eligible / need_info."""
        eligible = Counter(p for s in self.segments for p in s.eligible)
        need_info = Counter(p for s in self.segments for p in s.need_info)
        return {p.policy_id: {"eligible": eligible[p.policy_id], "need_info": need_info[p.policy_id]}
                for p in self.policies}

    def unreached_policies(self) -> list[dict[str, Any]]:
        """Current items that reach no segment, or reach some only as need_info (`never_eligible`)."""
        reach = self.reach()
        return [{**_info(p), "never_eligible": True, "unreached": reach[p.policy_id]["need_info"] == 0}
                for p in self.policies if reach[p.policy_id]["eligible"] == 0]

    def overlaps(self, top: int = 15) -> list[dict[str, Any]]:
        """Policy pairs most often eligible together (candidates for one combined application)."""
        pairs = Counter(pair for s in self.segments for pair in itertools.combinations(sorted(s.eligible), 2))
        titles = {p.policy_id: p.title for p in self.policies}
        total = len(self.segments) or 1
        return [{"a": a, "b": b, "title_a": titles[a], "title_b": titles[b], "segments": n,
                 "share": round(n / total, 3)} for (a, b), n in pairs.most_common(top)]

    def _totals(self, key: str, names: Iterable[str], label: dict[str, str] | None = None) -> list[dict[str, Any]]:
        out = []
        for name in names:
            ids = {p.policy_id for p in self.policies if getattr(p, key) == name}
            eligible = [sum(p in ids for p in s.eligible) for s in self.segments]
            need = [sum(p in ids for p in s.need_info) for s in self.segments]
            out.append({key: name, "label": (label or {}).get(name, name), "policies": len(ids),
                        "mean_eligible": _mean(eligible), "mean_need_info": _mean(need),
                        "segments_eligible": sum(e > 0 for e in eligible),
                        "segments_reached": sum(e + n > 0 for e, n in zip(eligible, need))})
        return out

    def by_level(self) -> list[dict[str, Any]]:
        return self._totals("level", LEVEL_LABEL, LEVEL_LABEL)

    def by_department(self) -> list[dict[str, Any]]:
        return self._totals("department", dict.fromkeys(p.department for p in self.policies))

    def by_dimension(self) -> dict[str, list[dict[str, Any]]]:
        """Per value of each dimension: mean eligible and the share of its segments with none eligible."""
        out: dict[str, list[dict[str, Any]]] = {}
        for name, values in dimension_values(self.schema).items():
            rows = []
            for value in values:
                members = [s for s in self.segments if getattr(s.segment, name) == value]
                rows.append({"value": value, "segments": len(members),
                             "mean_eligible": _mean(len(s.eligible) for s in members),
                             "mean_need_info": _mean(len(s.need_info) for s in members),
                             "zero_eligible": _share(not s.eligible for s in members),
                             "gaps": _share(not s.reached for s in members)})
            out[name] = rows
        return out

    def contrasts(self, margin: float = 0.01) -> list[dict[str, Any]]:
        """Dimensions whose values differ in how often their segments have nothing certain: per such
        dimension, the values grouped by that share, highest first (who is left out, and who is not)."""
        out = []
        for name, rows in self.by_dimension().items():
            shares = [r["zero_eligible"] for r in rows]
            if max(shares) - min(shares) <= margin:
                continue
            buckets: dict[float, list[str]] = {}
            for row in rows:
                buckets.setdefault(row["zero_eligible"], []).append(shown(name, row["value"]))
            out.append({"dimension": name, "label": self.dimensions[name],
                        "buckets": [{"zero_eligible": share, "values": values}
                                    for share, values in sorted(buckets.items(), reverse=True)]})
        return out

    def grid(self) -> dict[str, Any]:
        """划型行业 × 企业规模 cells for the heatmap."""
        values = dimension_values(self.schema)
        cells: dict[tuple[str, str], list[SegmentCoverage]] = {}
        for s in self.segments:
            cells.setdefault((s.segment.size_group, s.segment.size_class), []).append(s)

        def matrix(stat: Any) -> list[list[float]]:
            return [[stat(cells.get((g, c), [])) for c in values["size_class"]] for g in values["size_group"]]

        return {
            "rows": list(values["size_group"]), "columns": list(values["size_class"]),
            "mean_eligible": matrix(lambda m: _mean(len(s.eligible) for s in m)),
            "mean_need_info": matrix(lambda m: _mean(len(s.need_info) for s in m)),
            "zero_eligible": matrix(lambda m: _share(not s.eligible for s in m)),
            "gaps": matrix(lambda m: _share(not s.reached for s in m)),
        }

    # -- outputs

    def rows(self, segments: Iterable[SegmentCoverage] | None = None) -> list[dict[str, Any]]:
        """One flat row per segment (default all; e.g. `rows(report.gaps())`), least covered first."""
        titles = {p.policy_id: p.title for p in self.policies}
        chosen = self.segments if segments is None else segments
        ordered = sorted(chosen, key=lambda s: (len(s.eligible), len(s.need_info)))
        return [{**dict(zip(self.dimensions.values(), s.segment.values())),
                 "符合": len(s.eligible), "可能符合": len(s.need_info),
                 "缺口": "无政策覆盖" if not s.reached else ("无确定符合" if not s.eligible else ""),
                 "符合的政策": "；".join(titles[p] for p in s.eligible)} for s in ordered]

    def to_csv(self) -> bytes:
        """The gap table as CSV, UTF-8 with BOM so Excel shows the Chinese."""
        rows = self.rows()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else list(self.dimensions.values()))
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")

    def summary(self) -> dict[str, Any]:
        unreached = self.unreached_policies()
        return {"segments": len(self.segments), "policies_current": len(self.policies),
                "policies_not_current": len(self.not_current), "gaps": len(self.gaps()),
                "zero_eligible": len(self.zero_eligible()),
                "policies_unreached": sum(p["unreached"] for p in unreached),
                "policies_never_eligible": len(unreached),
                "mean_eligible": _mean(len(s.eligible) for s in self.segments),
                "mean_need_info": _mean(len(s.need_info) for s in self.segments)}

    def to_json(self, need_info_ids: bool = False) -> dict[str, Any]:
        """Everything above; per segment the eligible ids and the need_info count (with
        `need_info_ids` also those ids: about 5 MB on the real catalog instead of 1 MB)."""
        reach = self.reach()
        return {
            "today": self.today.isoformat(), "fingerprint": self.fingerprint, "seconds": round(self.seconds, 3),
            "summary": self.summary(),
            "dimensions": {name: {"label": self.dimensions[name], "values": list(values)}
                           for name, values in dimension_values(self.schema).items()},
            "policies": [{**_info(p), "segments_eligible": reach[p.policy_id]["eligible"],
                          "segments_need_info": reach[p.policy_id]["need_info"]} for p in self.policies],
            "not_current": self.not_current,
            "unreached_policies": self.unreached_policies(),
            "overlaps": self.overlaps(),
            "by_level": self.by_level(),
            "by_department": self.by_department(),
            "by_dimension": self.by_dimension(),
            "contrasts": self.contrasts(),
            "grid": self.grid(),
            "segments": [{**dict(zip(DIMENSION_KEYS, s.segment.values())), "eligible": list(s.eligible),
                          "need_info_count": len(s.need_info),
                          **({"need_info": list(s.need_info)} if need_info_ids else {})} for s in self.segments],
        }


def describe_contrast(contrast: dict[str, Any], listed: int = 3) -> str:
    """'增值税纳税人类型：一般纳税人 78%，小规模纳税人 0%' (long lists shortened to '甲、乙等 5 个')."""
    parts = []
    for bucket in contrast["buckets"]:
        values = bucket["values"]
        names = "、".join(values) if len(values) <= listed else f"{'、'.join(values[:2])}等 {len(values)} 个"
        parts.append(f"{names} {bucket['zero_eligible'] * 100:.0f}%")
    return f"{contrast['label']}：{'，'.join(parts)}"


def _info(policy: PolicyInfo) -> dict[str, Any]:
    return {"policy_id": policy.policy_id, "title": policy.title, "level": policy.level,
            "level_label": LEVEL_LABEL.get(policy.level, policy.level), "department": policy.department,
            "mode": policy.mode}


# ---------------------------------------------------------------- computing it

_cache: OrderedDict[tuple[str, date, int], CoverageReport] = OrderedDict()


def coverage_report(catalog: Catalog | None = None, today: date | None = None) -> CoverageReport:
    """Every segment against every current policy (cached per catalog fingerprint and day)."""
    catalog = catalog or load_catalog()
    today = today or get_settings().today
    key = (catalog_fingerprint(catalog), today, id(catalog.schema))  # a table edit makes a new schema
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    report = _compute(catalog, today, key[0])
    _cache[key] = report
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return report


@lru_cache(maxsize=2)
def _all_segment_facts(today: date, schema: FactSchema) -> tuple[tuple[Segment, dict[str, Any]], ...]:
    """Segment facts do not depend on the catalog's items: built once per day and schema, so a catalog
    edit only re-runs the compiled tests. Unknown facts are dropped (the engine reads `facts.get`),
    which keeps ~8k segments to a few MB."""
    return tuple((s, {k: v for k, v in segment_facts(s, today, schema).items() if v is not None})
                 for s in segments(schema))


def _compute(catalog: Catalog, today: date, fingerprint: str) -> CoverageReport:
    started = time.perf_counter()
    current = [p for p in catalog.policies if p.status_on(today) == CURRENT]
    tests = [(p.id, p.test) for p in current]
    results = []
    for segment, own in _all_segment_facts(today, catalog.schema):
        values = dict(own)
        law_of_the_day(values, catalog, today)   # the parameters and law-derived facts of the day, as the matcher
        eligible, need_info = [], []
        for policy_id, test in tests:
            verdict = test(values)
            if verdict is True:
                eligible.append(policy_id)
            elif verdict is not False:
                need_info.append(policy_id)
        results.append(SegmentCoverage(segment, tuple(eligible), tuple(need_info)))
    policies = [PolicyInfo(p.id, p.title, p.item.level, p.item.department, p.item.mode) for p in current]
    not_current = [{"policy_id": p.id, "title": p.title, "status": p.status_on(today)}
                   for p in catalog.policies if p.status_on(today) != CURRENT]
    return CoverageReport(today, fingerprint, policies, not_current, results, time.perf_counter() - started,
                          catalog.schema)
