"""The policy catalog: knowledge/policies/*.yaml loaded, checked and compiled once per change.

Integrity is checked at load, not at answer time: the schema (unknown keys rejected), known fields
with type-compatible values, thresholds that can be met together, safe amount formulas, and every
quote found verbatim in its document (leaves, definitions, citations and the 划型 table). A broken
item fails loudly with the file and the field path, because a verdict resting on a misquoted clause
would be worse than no verdict. The loaded catalog is cached per process, keyed by file mtimes, and a
running process keeps serving its last good catalog while a file is broken (`catalog_problem()` says why).
"""
from __future__ import annotations

import gc
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from calculator.core.config import PROJECT_ROOT, get_settings
from calculator.core.errors import LocatedError, UserError
from calculator.core.vocabulary import VALIDITY_LABEL, validity_state
from calculator.corpus.citation import Citation, ClauseRef, resolve
from calculator.facts.schema import NUMERIC, FactSchema, load_schema
from calculator.policy.derived import DerivedRule, parse_rules
from calculator.policy.formula import BOOL, DEFINITION, NUMBER, TEXT, Formula
from calculator.policy.parameters import Parameters, load_parameters
from calculator.policy.rules.load import DefinitionTable, parse_condition
from calculator.policy.rules.tree import Definition, Leaf, Node

DEFINITIONS_FILE = "_definitions.yaml"
_SUMMARY_PREFIX = re.compile(r"^要点摘要[：:]\s*")
_FOLDED_BREAK = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_FORMULA_KINDS = {**{t: NUMBER for t in NUMERIC}, "bool": BOOL, "choice": TEXT, "str": TEXT}

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- errors

class CatalogError(UserError):
    """The catalog cannot be trusted; `problems` lists every failure, the message names the first."""

    def __init__(self, problems: list[LocatedError]) -> None:
        self.problems = problems
        more = len(problems) - 1
        super().__init__(problems[0].line_zh() + (f"（另有 {more} 处错误）" if more else ""),
                         problems[0].en + (f" (+{more} more)" if more else ""))

    def __str__(self) -> str:
        more = len(self.problems) - 1
        return self.problems[0].line() + (f" (+{more} more; run `python -m calculator catalog`)" if more else "")


# ---------------------------------------------------------------- the item schema

def unfold(text: str) -> str:
    """Undo YAML line folding in Chinese text: `>-` turns a line break into a space, Chinese uses none."""
    return _FOLDED_BREAK.sub("", text.strip())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _unfold(cls, value: Any) -> Any:
        return unfold(value) if isinstance(value, str) else value


Text = Field(min_length=1)


AmountKind = Literal["saving", "grant", "limit", "deferral"]


class Amount(_Strict):
    formula: str = Text
    unit: str = Text
    note: str = Text  # says what the estimate assumes: an amount is never presented as exact
    # saving: tax saved (counted); grant: money received (counted); limit: a ceiling such as a loan limit
    # (shown, never counted); deferral: tax paid later rather than saved (shown, never counted)
    kind: AmountKind = "saving"


class Apply(_Strict):
    how: str = Text
    materials: list[str] = []
    deadline: str = ""
    where: str = ""


class Validity(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    valid_from: date | None = Field(None, alias="from")
    until: date | None = None


Doubt = Literal["validity", "partial_text", "amount", "local_rules"]


class PolicyItem(_Strict):
    """One policy item as written in YAML (see docs/ARCHITECTURE.md § Policy catalog)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Text
    issuer: str = Text
    level: Literal["national", "henan", "xuchang"]
    department: str = Text
    benefit: str = Text
    amount: Amount | None = None
    mode: Literal["免申即享", "即申即享", "需申报"]
    apply: Apply
    validity: Validity
    caveat: str = ""
    doubt: list[Doubt] = []  # what is uncertain: validity, partial_text, amount, local_rules (needs a caveat)
    near_miss_margin: float | None = Field(None, ge=0, le=1)
    tags: list[str] = []
    alternatives: list[str] = []  # items an enterprise chooses between (小型微利 or 高企15%): never summed
    conditions: dict[str, Any]
    citations: list[dict[str, Any]] = Field(min_length=1)


class DefinitionsFile(_Strict):
    near_miss_margin: float = Field(0.2, ge=0, le=1)
    definitions: dict[str, Any] = {}
    derived: dict[str, Any] = {}   # facts the law derives on the day asked (policy/derived.py)


# ---------------------------------------------------------------- loaded objects

@dataclass(eq=False)
class Policy:
    """A validated item with its compiled conditions, verified citations and the caveats it carries."""

    item: PolicyItem
    conditions: Node
    citations: tuple[Citation, ...]
    caveats: tuple[str, ...]
    amount: Formula | None
    near_miss_margin: float
    source: str
    parameters: Parameters = field(default_factory=lambda: Parameters({}), repr=False)

    def __post_init__(self) -> None:
        # Plain attributes for the per-match hot path (no model attribute chains).
        self.test = self.conditions.test
        self.valid_from = self.item.validity.valid_from
        self.valid_until = self.item.validity.until

    def __repr__(self) -> str:
        return f"Policy({self.id!r})"

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def title(self) -> str:
        return self.item.title

    def status_on(self, today: date) -> str:
        """current | expired | not_yet: an expired item is never offered as current."""
        return validity_state(self.valid_from, self.valid_until, today)

    def labels(self, names: tuple[str, ...] | list[str]) -> list[str]:
        """Facts and parameters in words (a parameter with no value is named by what it is, not its id)."""
        return labels(names, self.conditions.schema, self.parameters)


def labels(names: tuple[str, ...] | list[str], schema: FactSchema, parameters: Parameters) -> list[str]:
    return [parameters.label(name) or schema.label(name) for name in names]


@dataclass(eq=False)
class Catalog:
    policies: list[Policy]
    definitions: dict[str, Definition]
    docs: Mapping[str, Any]
    citations: dict[ClauseRef, Citation]
    near_miss_margin: float
    schema: FactSchema
    parameters: Parameters = field(default_factory=lambda: Parameters({}))
    derived_rules: dict[str, DerivedRule] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Catalog({len(self.policies)} policies, {len(self.definitions)} definitions)"

    def get(self, policy_id: str) -> Policy:
        for policy in self.policies:
            if policy.id == policy_id:
                return policy
        raise KeyError(policy_id)

    def labels(self, names: tuple[str, ...] | list[str]) -> list[str]:
        return labels(names, self.schema, self.parameters)

    def citation(self, ref: ClauseRef) -> Citation:
        """The verified citation for a clause reference (checked at load; resolved now if new)."""
        found = self.citations.get(ref)
        if found is None:
            found = self.citations[ref] = resolve(ref, self.docs)
        return found

    def listing(self, today: date) -> list[dict[str, Any]]:
        """Every item as other systems read it (`GET /api/v1/policies`): validity on `today`, mode, clauses."""
        out = []
        for p in self.policies:
            state = p.status_on(today)
            validity = {"from": _iso(p.item.validity.valid_from), "until": _iso(p.item.validity.until),
                        "status": state, "label": VALIDITY_LABEL[state]}
            out.append({"policy_id": p.id, "title": p.title, "level": p.item.level, "issuer": p.item.issuer,
                        "department": p.item.department, "mode": p.item.mode, "benefit": p.item.benefit,
                        "validity": validity, "apply": p.item.apply.model_dump(),
                        "citations": [c.to_json() for c in p.citations], "caveats": list(p.caveats),
                        "doubt": list(p.item.doubt), "tags": list(p.item.tags)})
        return out

    def report(self, today: date) -> dict[str, Any]:
        """What `python -m calculator catalog` shows: items, spread, validity on `today`, caveats."""
        items = [{
            "policy_id": p.id, "title": p.title, "level": p.item.level, "mode": p.item.mode,
            "status": p.status_on(today), "valid_from": _iso(p.item.validity.valid_from),
            "valid_until": _iso(p.item.validity.until), "caveats": list(p.caveats), "doubt": list(p.item.doubt),
            "conditions": sum(isinstance(n, Leaf) for n in p.conditions.walk()), "file": p.source,
        } for p in self.policies]
        law = self.parameters.on(today)
        return {
            "today": today.isoformat(),
            "items": items,
            "count": len(items),
            "by_level": dict(Counter(i["level"] for i in items)),
            "by_mode": dict(Counter(i["mode"] for i in items)),
            "by_status": dict(Counter(i["status"] for i in items)),
            "with_caveat": sum(bool(i["caveats"]) for i in items),
            "definitions": list(self.definitions),
            "quotes_verified": len(self.citations),
            "documents_cited": sorted({c.doc_id for c in self.citations.values()}),
            "parameters": len(self.parameters),
            "parameters_unverified": sorted(n for n, v in law.items() if v.value is not None and not v.verified),
            "parameters_without_value": sorted(p.name for p in self.parameters if law.get(p.name) is None
                                               or law[p.name].value is None),
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# ---------------------------------------------------------------- loading

def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_problems(file: str, exc: ValidationError) -> list[LocatedError]:
    problems = []
    for err in exc.errors():
        path, kind = _dotted(err["loc"]), err["type"]
        if kind == "extra_forbidden":
            zh, en = "未知键（格式见 docs/ARCHITECTURE.md）", "unknown key (see docs/ARCHITECTURE.md)"
        elif kind == "missing":
            zh, en = "缺少必填项", "required key is missing"
        else:
            zh = en = err["msg"]
        problems.append(LocatedError(zh, en, path, file))
    return problems


class _Loader:
    """Builds a Catalog, collecting every problem so one run reports them all."""

    def __init__(self, docs: Mapping[str, Any], schema: FactSchema, parameters_dir: Path | None = None) -> None:
        self.docs = docs
        self.schema = schema
        self.problems: list[LocatedError] = []
        self.citations: dict[ClauseRef, Citation] = {}
        self.parameters, problems = load_parameters(parameters_dir, _shown_path) if parameters_dir else (Parameters({}), [])
        self.problems += problems
        self.table = DefinitionTable({}, schema=schema, parameters=self.parameters)
        self.derived_rules: dict[str, DerivedRule] = {}

    def verify_parameters(self) -> None:
        """Every dated value's quote is checked against its document, like any other citation."""
        for parameter in self.parameters:
            for value in parameter.values:
                if value.cite is not None:
                    self.verify(parameter.file, f"{parameter.name.split('.', 1)[1]}.values.{value.start}.cite", value.cite)

    def kinds(self, definitions: Mapping[str, Any] | None = None) -> dict[str, str]:
        """What a formula may name: facts (by type), parameters (numbers), definitions and derived yes/no facts
        (true / false / undecided: an undecided one takes both branches)."""
        kinds = {key: _FORMULA_KINDS[spec.type] for key, spec in self.schema.all_facts.items() if spec.type in _FORMULA_KINDS}
        kinds.update({key: DEFINITION for key, spec in self.schema.derived.items() if spec.type == "bool"})
        kinds.update({name: NUMBER for name in self.parameters.names()})
        kinds.update({name: DEFINITION for name in (definitions or {}) if name.isidentifier()})
        return kinds

    def problem(self, file: str, path: str, zh: str, en: str) -> None:
        self.problems.append(LocatedError(zh, en, path, file))

    def located(self, file: str, error: LocatedError, path: str = "") -> None:
        self.problems.append(error.within(path, file))

    def verify(self, file: str, path: str, ref: ClauseRef) -> Citation | None:
        try:
            citation = self.citations.get(ref) or resolve(ref, self.docs)
        except LocatedError as exc:
            self.located(file, exc, path)
            return None
        self.citations[ref] = citation
        return citation

    def caveats_of(self, file: str, own: str, refs: list[ClauseRef]) -> tuple[str, ...]:
        """The caveat every verdict on the item carries.

        The item's own caveat is the one shown: its author writes it with the cited documents' caveats
        (front-matter `caveat`) in view, for this item (showing both printed the same doubt twice). So an
        item citing a document that carries a caveat must state one; an item whose documents carry none
        may have none.
        """
        doubtful = [d for d in dict.fromkeys(ref.doc for ref in refs) if getattr(self.docs.get(d), "caveat", "")]
        if doubtful and not own:
            self.problem(file, "caveat", f"引用了带提示（caveat）的文档 {'、'.join(doubtful)}，条目须写明自己的 caveat",
                         f"cites {', '.join(doubtful)}, whose front-matter carries a caveat: the item must state its own")
        return (own,) if own else ()

    def schema_citations(self) -> None:
        """The 划型 thresholds and the legal compositions of facts (从业人数 = 职工 + 劳务派遣) are cited in
        verdicts: their quotes are checked like any other."""
        tables = self.schema.tables
        file = _shown_path(tables.file("size_standards"))
        source = tables.size_standards["source"]
        for group, row in tables.size_standards["groups"].items():
            ref = ClauseRef(source["doc"], f"{source['locator']} › {group}", row["quote"])
            self.verify(file, f"groups.{group}", ref)
        fields_file = _shown_path(self.schema.folder / "profile_fields.yaml")
        for key, spec in self.schema.fields.items():
            for i, composition in enumerate(spec.compose):
                self.verify(fields_file, f"fields.{key}.compose[{i}].cite", composition.cite)

    def definitions(self, raw: Any, file: str) -> tuple[dict[str, Definition], float]:
        try:
            spec = DefinitionsFile.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            self.problems.extend(_schema_problems(file, exc))
            return {}, DefinitionsFile().near_miss_margin
        table = DefinitionTable(spec.definitions, schema=self.schema, parameters=self.parameters)
        parsed: dict[str, Definition] = {}
        for name in spec.definitions:
            try:
                parsed[name] = table.get(name, f"definitions.{name}")
            except LocatedError as exc:
                self.located(file, exc)
        for definition in parsed.values():
            for node in definition.node.walk():
                if node.cite is not None:
                    self.verify(file, f"{node.path}.cite", node.cite)
        self.table = table
        try:
            self.derived_rules = parse_rules(spec.derived, self.schema, self.kinds(parsed), set(self.parameters.names()))
        except LocatedError as exc:
            self.located(file, exc)
        for rule in self.derived_rules.values():
            self.verify(file, f"derived.{rule.name}.cite", rule.cite)
        return parsed, spec.near_miss_margin

    def read(self, path: Path, file: str) -> Any:
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(file, "", f"无法读取（{exc}）", f"cannot read the file ({exc})")
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" at line {where.line + 1}" if where else ""
            self.problem(file, "", f"YAML 格式错误{line}", f"invalid YAML{line}: {getattr(exc, 'problem', exc)}")
        return None

    def policy(self, raw: Any, file: str, stem: str, default_margin: float) -> Policy | None:
        before = len(self.problems)
        if not isinstance(raw, dict):
            self.problem(file, "", "政策条目应为 YAML 映射", "a policy item must be a YAML mapping")
            return None
        try:
            item = PolicyItem.model_validate(raw)
        except ValidationError as exc:
            self.problems.extend(_schema_problems(file, exc))
            return None
        if item.id != stem:
            self.problem(file, "id", f"id“{item.id}”应与文件名“{stem}”一致",
                         f"id {item.id!r} must equal the file name {stem!r}")
        if item.doubt and not item.caveat.strip():
            self.problem(file, "caveat", "标注了 doubt 的条目须写明 caveat", "an item with doubt flags needs a caveat")
        try:
            conditions = parse_condition(item.conditions, self.table)
        except LocatedError as exc:
            self.located(file, exc)
            return None
        leaf_ids = Counter(n.id for n in conditions.walk() if isinstance(n, Leaf))
        for leaf_id, count in leaf_ids.items():
            if count > 1:
                self.problem(file, "conditions", f"条件 id“{leaf_id}”重复", f"condition id {leaf_id!r} is used twice")
        amount = self._formula(file, item)
        refs: list[ClauseRef] = []
        for node in conditions.walk():
            if node.cite is not None:
                refs.append(node.cite)
                self.verify(file, f"{node.path}.cite", node.cite)
        citations = []
        for i, raw_ref in enumerate(item.citations):
            try:
                ref = ClauseRef.from_yaml(raw_ref, f"citations[{i}]")
            except LocatedError as exc:
                self.located(file, exc)
                continue
            refs.append(ref)
            citation = self.verify(file, f"citations[{i}]", ref)
            if citation is not None:
                citations.append(citation)
        refs += [n.cite for n in conditions.walk(into_refs=True) if n.cite is not None]
        caveats = self.caveats_of(file, item.caveat, list(dict.fromkeys(refs)))
        if len(self.problems) > before:
            return None
        margin = item.near_miss_margin if item.near_miss_margin is not None else default_margin
        return Policy(item, conditions, tuple(citations), caveats, amount, margin, file, self.parameters)

    def _formula(self, file: str, item: PolicyItem) -> Formula | None:
        if item.amount is None:
            return None
        try:
            return Formula(item.amount.formula, self.kinds())
        except LocatedError as exc:
            self.located(file, exc)
            return None


def parameters_dir(policies_dir: Path) -> Path:
    """The parameters beside the policies (a knowledge folder's `parameters/`), else the configured ones."""
    beside = policies_dir.parent / "parameters"
    return beside if beside.is_dir() else get_settings().knowledge_dir / "parameters"


def _build(policies_dir: Path, docs: Mapping[str, Any], schema: FactSchema) -> Catalog:
    if not policies_dir.is_dir():
        raise UserError(f"政策目录不存在：{policies_dir}", f"policy folder not found: {policies_dir}")
    loader = _Loader(docs, schema, parameters_dir(policies_dir))
    definitions_path = policies_dir / DEFINITIONS_FILE
    definitions_file = _shown_path(definitions_path)
    definitions_raw = loader.read(definitions_path, definitions_file) if definitions_path.exists() else {}
    items = []
    for path in sorted(policies_dir.glob("*.yaml")):
        if not path.name.startswith("_"):
            file = _shown_path(path)
            before = len(loader.problems)
            raw = loader.read(path, file)
            if len(loader.problems) == before:
                items.append((raw, file, path.stem))
    return _assemble(loader, definitions_raw, definitions_file, items)


def _assemble(loader: _Loader, definitions_raw: Any, definitions_file: str,
              items: list[tuple[Any, str, str]]) -> Catalog:
    loader.schema_citations()
    loader.verify_parameters()
    definitions, margin = loader.definitions(definitions_raw, definitions_file)
    policies = [p for raw, file, stem in items if (p := loader.policy(raw, file, stem, margin)) is not None]
    _check_alternatives(loader, policies, {stem for _, _, stem in items})
    if loader.problems:
        raise CatalogError(loader.problems)
    catalog = Catalog(policies, definitions, loader.docs, loader.citations, margin, loader.schema,
                      loader.parameters, loader.derived_rules)
    gc.freeze()  # the catalog lives as long as the process: keep the cyclic collector from rescanning it
    return catalog


def _check_alternatives(loader: _Loader, policies: list[Policy], read: set[str]) -> None:
    """`alternatives` name real items, never the item itself, and go both ways (A lists B iff B lists A).

    `read` are the ids of every item file: one that failed to load has its own problem already, so an
    alternative naming it is not reported a second time."""
    by_id = {p.id: p for p in policies}
    for policy in policies:
        for other in policy.item.alternatives:
            if other in read and other not in by_id:
                continue
            if other == policy.id or other not in by_id:
                loader.problem(policy.source, "alternatives", f"二选一条目“{other}”不存在或是本条目自身",
                               f"alternative {other!r} is not another item of the catalog")
            elif policy.id not in by_id[other].item.alternatives:
                loader.problem(policy.source, "alternatives", f"“{other}”也须把本条目列为 alternatives（二选一是相互的）",
                               f"{other!r} must list {policy.id!r} among its alternatives too")


def catalog_from_data(items: list[dict[str, Any]], definitions: Any, docs: Mapping[str, Any],
                      schema: FactSchema | None = None, parameters_dir: Path | None = None) -> Catalog:
    """A catalog from in-memory items (synthetic catalogs for benchmarks), checked exactly like files."""
    entries = [(raw, f"<item {raw.get('id', i)}>", str(raw.get("id", ""))) for i, raw in enumerate(items)]
    loader = _Loader(docs, schema or load_schema(), parameters_dir or get_settings().knowledge_dir / "parameters")
    return _assemble(loader, definitions, f"<{DEFINITIONS_FILE}>", entries)


_cache: dict[str, Any] = {"key": None, "catalog": None, "failed_key": None, "error": None}


def _stamp(*folders: Path) -> tuple[tuple[str, int, int], ...]:
    files = []
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                stat = path.stat()
                files.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(files)


def load_catalog(policies_dir: Path | str | None = None, docs: Mapping[str, Any] | None = None,
                 *, strict: bool = False) -> Catalog:
    """Load, verify and compile the catalog; cached until a policy, parameter or document file changes.

    A broken file raises CatalogError naming file and field — unless a good catalog from the same
    folder was loaded earlier in this process and `strict` is False: then that last good catalog keeps
    serving (a running app must not go down because an editor saved a half-written YAML) and the
    problem is available from `catalog_problem()`. The broken files are not re-parsed until they change.
    Pass `docs` to check against a given corpus (no caching).
    """
    settings = get_settings()
    folder = Path(policies_dir) if policies_dir else settings.policies_dir
    schema = load_schema()
    if docs is not None:
        return _build(folder, docs, schema)
    from calculator.corpus.documents import load_corpus

    key = (str(folder), _stamp(folder, parameters_dir(folder), settings.docs_dir), str(schema.folder), id(schema))
    if _cache["key"] == key:
        return _cache["catalog"]
    if _cache["failed_key"] != key:
        try:
            catalog = _build(folder, load_corpus(settings.docs_dir), schema)
        except CatalogError as exc:
            _cache["failed_key"], _cache["error"] = key, exc
            log.warning("catalog failed to load, %s: %s", "serving the last good one"
                        if _serves_last_good(folder) else "nothing to serve", exc.en)
        else:
            _cache.update(key=key, catalog=catalog, failed_key=None, error=None)
            return catalog
    if strict or not _serves_last_good(folder):
        raise _cache["error"]
    return _cache["catalog"]


def _serves_last_good(folder: Path) -> bool:
    return _cache["catalog"] is not None and _cache["key"] is not None and _cache["key"][0] == str(folder)


def catalog_problem() -> CatalogError | None:
    """The error of the newest failed load while the last good catalog is serving; None when all is well."""
    return _cache["error"] if _cache["failed_key"] is not None else None
