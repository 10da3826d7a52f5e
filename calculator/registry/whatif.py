"""政策测算: a draft item or a changed threshold judged over the register beside the law as it is.

A draft (`--draft DRAFT.yaml`) is loaded with the whole catalog through the same checks as any item
(schema, fields, thresholds, formula, every quote verbatim in its document); a threshold change
(`--set vat.small_scale_exemption_limit=12`, or a condition's id with a literal threshold,
`--set has_rd_expense=50`) changes that value on the day asked. Only the items the change reaches
are judged twice; the comparison says who newly qualifies and who no longer does, by county, industry
and 企业规模, what the estimated totals become, and draws the deciding fact around its threshold.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlglot import exp

from calculator.core.errors import UserError
from calculator.core.vocabulary import ELIGIBLE
from calculator.policy.rules.tree import Leaf, Node
from calculator.registry import sql
from calculator.registry.compiler import STATUS_CODE, CompiledCatalog, Overrides, compile_catalog
from calculator.registry.engine import Engine
from calculator.registry.numbers import Num

if TYPE_CHECKING:
    from calculator.policy.catalog import Catalog, Policy
    from calculator.registry.register import Register

BASE = "baseline"
DIMENSIONS = {"county": "所在区县", "industry": "所属行业", "size_class": "企业规模"}


@dataclass(frozen=True)
class Focus:
    """A deciding fact and its threshold before and after (None: the item is new)."""

    fact: str
    before: float | None
    after: float | None


@dataclass
class Change:
    policy_id: str
    title: str
    before: int = 0
    after: int = 0
    gained: int = 0
    lost: int = 0
    amount_before: float = 0.0
    amount_after: float = 0.0


@dataclass
class WhatIf:
    today: date
    description: str
    changes: list[Change]
    groups: list[dict[str, Any]]
    focus: list[Focus]
    files: list[str] = field(default_factory=list)

    @property
    def amount_change(self) -> float:
        return sum(c.amount_after - c.amount_before for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "description": self.description, "amount_change": round(self.amount_change, 2),
                "changes": [c.__dict__ for c in self.changes], "groups": self.groups,
                "focus": [f.__dict__ for f in self.focus], "files": self.files}


@dataclass
class Scenario:
    base: Catalog
    catalog: Catalog
    overrides: Overrides
    changed: list[str]
    focus: list[Focus]
    description: str
    draft_id: str = ""

    def focus_columns(self, compiled: CompiledCatalog) -> list[tuple[str, Any]]:
        """The deciding facts' values beside the verdicts, for the plot (points only)."""
        out: list[tuple[str, Any]] = []
        for f in self.focus:
            fact = compiled.facts.get(f.fact)
            if isinstance(fact, Num):
                value = fact.lo.plain()
                out.append((_focus(f.fact), sql.as_sql(sql.case([(sql.not_(fact.iv), value)], None))))
        return out

    def compare(self, engine: Engine, compiled: CompiledCatalog, register: Register, today: date, folder: Path) -> WhatIf:
        return compare(engine, self, compiled, register, today, folder)


def _focus(key: str) -> str:
    return f"_focus_{key}"


def scenario(catalog: Catalog, draft: Path | None, sets: list[str]) -> Scenario:
    """The catalog as a what-if would have it; with neither a draft nor a change, the catalog itself."""
    overrides = Overrides(*_parse_sets(catalog, sets))
    focus: list[Focus] = []
    changed: set[str] = set()
    parts: list[str] = []
    scenario_catalog, draft_id = catalog, ""
    if draft is not None:
        scenario_catalog, draft_id, focus = _with_draft(catalog, draft)
        changed.add(draft_id)
        parts.append(f"草案：{scenario_catalog.get(draft_id).title}")
    for name, value in overrides.parameters.items():
        changed |= {p.id for p in catalog.policies if _uses(catalog, p, parameter=name)}
        focus += [Focus(leaf.field, _day_value(catalog, name), value) for leaf in _leaves(catalog) if leaf.param == name][:1]
        parameter = catalog.parameters[name]
        parts.append(f"{parameter.description.split('（')[0]} 改为 {value:g}{parameter.unit}")
    for leaf_id, value in overrides.leaves.items():
        changed |= {p.id for p in catalog.policies if _uses(catalog, p, leaf=leaf_id)}
        focus += [Focus(leaf.field, float(leaf.value), value) for leaf in _leaves(catalog) if leaf.id == leaf_id][:1]
        text = next((leaf.text for leaf in _leaves(catalog) if leaf.id == leaf_id), "")
        parts.append(f"条件“{text.replace('{value}', '…')}”的阈值改为 {value:g}")
    if (draft is not None or sets) and not changed:
        raise UserError("这个改动不影响任何现行政策", "the change reaches no item of the catalog")
    return Scenario(catalog, scenario_catalog, overrides, sorted(changed), focus, "；".join(parts), draft_id)


def _parse_sets(catalog: Catalog, sets: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    parameters: dict[str, float] = {}
    leaves: dict[str, float] = {}
    leaf_ids = {leaf.id for leaf in _leaves(catalog) if leaf.numeric or leaf.spec.numeric}
    for item in sets:
        name, sep, raw = item.partition("=")
        name = name.strip()
        try:
            value = float(raw)
        except ValueError:
            raise UserError(f"--set 应为 名称=数值（收到 {item!r}）", f"--set needs NAME=NUMBER, got {item!r}") from None
        if not sep or not name:
            raise UserError(f"--set 应为 名称=数值（收到 {item!r}）", f"--set needs NAME=NUMBER, got {item!r}")
        if name in catalog.parameters:
            parameters[name] = value
        elif name in leaf_ids:
            leaves[name] = value
        else:
            raise UserError(f"--set 的“{name}”既不是参数，也不是数值条件的编号", f"--set {name!r} is neither a parameter nor a numeric condition id")
    return parameters, leaves


def _leaves(catalog: Catalog) -> list[Leaf]:
    seen: dict[int, Leaf] = {}
    for policy in catalog.policies:
        for node in policy.conditions.walk(into_refs=True):
            if isinstance(node, Leaf):
                seen.setdefault(id(node), node)
    return list(seen.values())


def _day_value(catalog: Catalog, name: str) -> float | None:
    values = catalog.parameters[name].values
    return next((v.value for v in reversed(values) if v.value is not None), None)


def _uses(catalog: Catalog, policy: Policy, parameter: str = "", leaf: str = "") -> bool:
    """Whether the item's conditions, amount or the law-derived facts it reads use the parameter or leaf."""
    def tree_uses(node: Node) -> bool:
        return any(isinstance(n, Leaf) and ((parameter and n.param == parameter) or (leaf and n.id == leaf))
                   for n in node.walk(into_refs=True))
    if tree_uses(policy.conditions):
        return True
    names = set(policy.amount.names) if policy.amount else set()
    names |= {n.field for n in policy.conditions.walk(into_refs=True) if isinstance(n, Leaf)}
    if parameter and parameter in names:
        return True
    for name in names & set(catalog.derived_rules):
        rule = catalog.derived_rules[name]
        used = set(rule.formula.names) if rule.formula else {rule.years}
        if parameter in used or any(tree_uses(catalog.definitions[d].node) for d in used if d in catalog.definitions):
            return True
    return False


def _with_draft(catalog: Catalog, path: Path) -> tuple[Catalog, str, list[Focus]]:
    """The catalog with the draft added (or replacing the item of its id), checked like the files."""
    from calculator.core.config import get_settings
    from calculator.policy.catalog import DEFINITIONS_FILE, catalog_from_data, parameters_dir

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"找不到草案文件：{path.name}", f"draft not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise UserError(f"草案不是有效的 YAML：{path.name}", f"the draft is not valid YAML: {path.name}") from None
    if not isinstance(raw, dict) or not raw.get("id"):
        raise UserError("草案应为一个政策条目（含 id）", "the draft must be one policy item with an id")
    folder = get_settings().policies_dir
    items = []
    for file in sorted(folder.glob("*.yaml")):
        if not file.name.startswith("_") and file.stem != raw["id"]:
            items.append(yaml.safe_load(file.read_text(encoding="utf-8")))
    items.append(raw)
    definitions = yaml.safe_load((folder / DEFINITIONS_FILE).read_text(encoding="utf-8")) if (folder / DEFINITIONS_FILE).exists() else {}
    checked = catalog_from_data(items, definitions, catalog.docs, catalog.schema, parameters_dir(folder))
    draft = checked.get(str(raw["id"]))
    focus: list[Focus] = []
    existing = {p.id: p for p in catalog.policies}.get(draft.id)
    before = {n.id: n for n in existing.conditions.walk(into_refs=True) if isinstance(n, Leaf)} if existing else {}
    for node in draft.conditions.walk(into_refs=True):
        if isinstance(node, Leaf) and node.spec.numeric and not node.param and isinstance(node.value, (int, float)):
            old = before.get(node.id)
            if old is None or old.value != node.value:
                focus.append(Focus(node.field, float(old.value) if old is not None else None, float(node.value)))
    return checked, draft.id, focus[:1]


# ---------------------------------------------------------------- the comparison

def compare(engine: Engine, plan: Scenario, compiled: CompiledCatalog, register: Register, today: date, folder: Path) -> WhatIf:
    folder.mkdir(parents=True, exist_ok=True)
    present = [pid for pid in plan.changed if pid in {p.id for p in plan.base.policies}]
    base = compile_catalog(plan.base, today, register.columns, present) if present else None
    if base is not None:
        engine.table(BASE, base.query(register.source, keep=("credit_code",)))
    wide = exp.to_table("judged", quoted=True).sql(engine.dialect)
    joined = f"SELECT s.*, {', '.join(_base_columns(base)) or 'NULL AS _none'} FROM {wide} s" + (
        f" LEFT JOIN {exp.to_table(BASE, quoted=True).sql(engine.dialect)} b ON s.credit_code = b.credit_code" if base else "")
    engine.view("_whatif", joined)
    changes: list[Change] = []
    groups: list[dict[str, Any]] = []
    titles = {p.id: p.title for p in plan.catalog.policies}
    for pid in plan.changed:
        after = f"{pid}__status"
        had = f"b_{pid}__status" if base and pid in present else "0"
        gained = f"SUM(CASE WHEN {after} = {STATUS_CODE[ELIGIBLE]} AND COALESCE({had}, 0) <> {STATUS_CODE[ELIGIBLE]} THEN 1 ELSE 0 END)"
        lost = f"SUM(CASE WHEN COALESCE({had}, 0) = {STATUS_CODE[ELIGIBLE]} AND {after} <> {STATUS_CODE[ELIGIBLE]} THEN 1 ELSE 0 END)"
        before_amount = (f"SUM(CAST(CASE WHEN {had} = {STATUS_CODE[ELIGIBLE]} THEN COALESCE(b_{pid}__low, b_{pid}__amount) END "
                         "AS DECIMAL(38, 6)))") if had != "0" else "0"
        row = engine.fetch(f"""SELECT SUM(CASE WHEN COALESCE({had}, 0) = {STATUS_CODE[ELIGIBLE]} THEN 1 ELSE 0 END),
                                      SUM(CASE WHEN {after} = {STATUS_CODE[ELIGIBLE]} THEN 1 ELSE 0 END), {gained}, {lost},
                                      {before_amount}, SUM(CAST(CASE WHEN {after} = {STATUS_CODE[ELIGIBLE]}
                                                                THEN COALESCE({pid}__low, {pid}__amount) END AS DECIMAL(38, 6)))
                               FROM _whatif""")[0]
        values = [v or 0 for v in row]
        changes.append(Change(pid, titles.get(pid, pid), int(values[0]), int(values[1]), int(values[2]), int(values[3]),
                              round(float(values[4]), 2), round(float(values[5]), 2)))
        for key, label in DIMENSIONS.items():
            for value, g, lo in engine.fetch(f"SELECT {key}, {gained}, {lost} FROM _whatif GROUP BY {key} ORDER BY 2 DESC, 3 DESC"):
                if g or lo:
                    groups.append({"policy_id": pid, "dimension": label, "value": value or "未知", "gained": int(g), "lost": int(lo)})
    result = WhatIf(today, plan.description, changes, groups, plan.focus)
    (folder / "summary.csv").write_bytes(_changes_csv(changes))
    (folder / "by_group.csv").write_bytes(_groups_csv(groups, titles))
    result.files += ["summary.csv", "by_group.csv"]
    png = _plot(engine, plan, compiled, folder / "threshold.png")
    if png:
        result.files.append("threshold.png")
    (folder / "whatif.json").write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    result.files.append("whatif.json")
    return result


def _base_columns(base: CompiledCatalog | None) -> list[str]:
    if base is None:
        return []
    return [f"b.{c.column(p)} AS b_{c.column(p)}" for c in base.policies for p in ("status", "low", "amount")]


def _changes_csv(changes: list[Change]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["政策编号", "政策名称", "现行符合户数", "测算后符合户数", "新增符合", "不再符合",
                     "现行估算金额（万元，下限）", "测算后估算金额（万元，下限）", "变化（万元）"])
    for c in changes:
        writer.writerow([c.policy_id, c.title, c.before, c.after, c.gained, c.lost, f"{c.amount_before:.2f}",
                         f"{c.amount_after:.2f}", f"{c.amount_after - c.amount_before:.2f}"])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _groups_csv(groups: list[dict[str, Any]], titles: dict[str, str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["政策编号", "政策名称", "维度", "分组", "新增符合", "不再符合"])
    for g in groups:
        writer.writerow([g["policy_id"], titles.get(g["policy_id"], ""), g["dimension"], g["value"], g["gained"], g["lost"]])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _plot(engine: Engine, plan: Scenario, compiled: CompiledCatalog, path: Path) -> bool:
    """The deciding fact's distribution around the old and new thresholds, with who gains and who loses."""
    focus = next((f for f in plan.focus if isinstance(compiled.facts.get(f.fact), Num)), None)
    if focus is None:
        return False
    marks = [v for v in (focus.before, focus.after) if v is not None]
    low, high = min(marks), max(marks)
    span = max(high - low, abs(high) * 0.5, 1.0)
    start, stop = low - span, high + span
    width = (stop - start) / 40
    pid = plan.changed[0]
    had = f"b_{pid}__status" if any(c.policy.id == pid for c in compiled.policies) and pid in {p.id for p in plan.base.policies} else "0"
    eligible = STATUS_CODE[ELIGIBLE]
    value = _focus(focus.fact)
    rows = engine.fetch(f"""SELECT FLOOR(({value} - {start!r}) / {width!r}) AS bin, count(*),
                                   SUM(CASE WHEN {pid}__status = {eligible} AND COALESCE({had}, 0) <> {eligible} THEN 1 ELSE 0 END),
                                   SUM(CASE WHEN COALESCE({had}, 0) = {eligible} AND {pid}__status <> {eligible} THEN 1 ELSE 0 END)
                            FROM _whatif WHERE {value} >= {start!r} AND {value} < {stop!r} GROUP BY 1 ORDER BY 1""")
    import matplotlib

    from calculator.officials.plots import cjk_font
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    schema = plan.catalog.schema
    with plt.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
        lefts = [start + int(b) * width for b, *_ in rows]
        ax.bar(lefts, [int(r[1]) for r in rows], width=width, align="edge", color="#c8d3e0", label="全部企业")
        ax.bar(lefts, [int(r[2] or 0) for r in rows], width=width, align="edge", color="#2e8b57", label="新增符合")
        ax.bar(lefts, [int(r[3] or 0) for r in rows], width=width, align="edge", color="#c0392b", label="不再符合")
        unit = schema.all_facts[focus.fact].unit if focus.fact in schema.all_facts else ""
        if focus.before is not None:
            ax.axvline(focus.before, color="#555", linestyle="--", label=f"现行阈值 {focus.before:g}{unit}")
        if focus.after is not None:
            ax.axvline(focus.after, color="#1f4e9c", linestyle="-", label=f"测算阈值 {focus.after:g}{unit}")
        ax.set_xlabel(f"{schema.label(focus.fact)}（{unit}）" if unit else schema.label(focus.fact))
        ax.set_ylabel("企业数")
        ax.set_title(f"政策测算：{plan.description}（{compiled.today.isoformat()}）", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return True

