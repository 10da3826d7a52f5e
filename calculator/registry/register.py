"""Register extracts → one validated row per enterprise, keyed by 统一社会信用代码, as the engine's table `register`.

Each value is read as `validate_profile` reads it (numbers within the field's bounds, whole numbers for
counts, 是/否 words, partial dates such as 2019年5月, listed choices, the GB 32100 check character), but a
bad value makes only that fact unknown for that row, and is reported with its file, row and column.
Rows without a valid code are rejected, and so are repeats of a code within one file (the first row
counts); several files (登记, 纳税, 参保, 认定) are joined on the code, the first file that knows a fact
giving it, and disagreements are counted. Nothing is dropped without being counted in `RegisterSummary`.

Normalized columns: a fact's key; a fact given as an interval anywhere gets `<key>__lo`, `__hi`,
`__lo_open`, `__hi_open` (±Infinity for an unbounded end), which the compiler reads as intervals.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from calculator.core.errors import UserError
from calculator.facts.codes import CHECK_ALPHABET, CHECK_WEIGHTS
from calculator.facts.profile import FALSE_WORDS, TRUE_WORDS
from calculator.facts.schema import FactSchema, FieldSpec, format_number
from calculator.registry import sql
from calculator.registry.engine import Engine
from calculator.registry.facts import interval_columns
from calculator.registry.plan import Plan
from calculator.registry.sources import CODE, Source, map_columns, prepare
from calculator.registry.sql import INF

TABLE = "register"
BAD = "_bad_"   # a normalized column per fact: its cell held a value that could not be used
# pydantic's own yes/no words besides the profile's (validate_profile accepts both)
_TRUE = sorted(TRUE_WORDS | {"on", "t"})
_FALSE = sorted(FALSE_WORDS | {"off", "f"})
# profile._coerce_date: 2019, 2019-05, 2019/5/1, 2019年5月1日 (first day where a part is missing)
_DATE = "^ *([0-9]{4})(?: *[-/.年] *([0-9]{1,2}))?(?: *[-/.月] *([0-9]{1,2}))? *[月日]? *$"
_CODE = "^[0-9A-HJ-NPQRTUWXY]{18}$"
_NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "INT", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "DECIMAL", "UBIGINT",
                  "UINTEGER", "USMALLINT", "UTINYINT", "LONG", "SHORT", "BYTE")
MISSING_CODE, INVALID_CODE, DUPLICATE_CODE = "missing_code", "invalid_code", "duplicate_code"
PROBLEM_WORDS = {MISSING_CODE: "缺少统一社会信用代码（该行未使用）", INVALID_CODE: "统一社会信用代码校验位不正确或含非法字符（该行未使用）",
                 DUPLICATE_CODE: "统一社会信用代码重复（该行未使用，以第 {first} 行为准）"}


@dataclass
class SourceSummary:
    label: str
    rows: int = 0
    used: int = 0
    missing_code: int = 0
    invalid_code: int = 0
    duplicates: int = 0
    flagged: int = 0           # rows used with at least one bad value (that fact unknown for the row)
    bad_values: dict[str, int] = field(default_factory=dict)    # field key → cells
    columns: list[str] = field(default_factory=list)            # fields it gives
    unknown_columns: list[str] = field(default_factory=list)


@dataclass
class RegisterSummary:
    sources: list[SourceSummary]
    enterprises: int = 0
    in_every_source: int = 0
    conflicts: dict[str, int] = field(default_factory=dict)    # field key → enterprises whose files disagree
    issues: int = 0

    @property
    def rows_read(self) -> int:
        return sum(s.rows for s in self.sources)

    @property
    def rejected(self) -> int:
        return sum(s.missing_code + s.invalid_code + s.duplicates for s in self.sources)

    @property
    def flagged(self) -> int:
        return sum(s.flagged for s in self.sources)

    def to_json(self) -> dict[str, Any]:
        return {"rows_read": self.rows_read, "enterprises": self.enterprises, "rejected": self.rejected,
                "flagged": self.flagged, "in_every_source": self.in_every_source, "conflicts": self.conflicts,
                "issues": self.issues, "sources": [s.__dict__ for s in self.sources]}

    def lines(self, schema: FactSchema) -> list[str]:
        """The summary in words (counts only: names and codes never appear)."""
        out = [f"读取 {self.rows_read:,} 行，得到 {self.enterprises:,} 户企业；未使用 {self.rejected:,} 行，"
               f"含无效值的 {self.flagged:,} 行（无效值按未知处理）"]
        for s in self.sources:
            parts = [f"{s.label}：{s.rows:,} 行，使用 {s.used:,}"]
            if s.missing_code or s.invalid_code or s.duplicates:
                parts.append(f"缺代码 {s.missing_code:,}、代码无效 {s.invalid_code:,}、重复 {s.duplicates:,}")
            if s.bad_values:
                top = sorted(s.bad_values.items(), key=lambda kv: -kv[1])[:5]
                parts.append("无效值 " + "、".join(f"{schema.label(k)} {n:,}" for k, n in top))
            if s.unknown_columns:
                parts.append(f"未识别的列 {len(s.unknown_columns)} 个：{'、'.join(s.unknown_columns[:8])}")
            out.append("  " + "；".join(parts))
        if len(self.sources) > 1:
            out.append(f"  按信用代码合并：{self.in_every_source:,} 户出现在全部 {len(self.sources)} 个文件中")
        if self.conflicts:
            out.append("  文件之间不一致（取第一个文件的值）：" + "、".join(f"{schema.label(k)} {n:,} 户"
                                                           for k, n in sorted(self.conflicts.items())))
        return out


@dataclass
class Register:
    engine: Engine
    schema: FactSchema
    columns: list[str]
    summary: RegisterSummary
    issues_csv: bytes
    table: str = TABLE

    @property
    def source(self) -> exp.Expr:
        return exp.to_table(self.table, quoted=True)


# ---------------------------------------------------------------- value parsing (validate_profile's rules)

def _text(raw: exp.Expr, kind: str) -> exp.Expr:
    value = raw if kind.startswith(("VARCHAR", "STRING")) else exp.cast(raw, "VARCHAR")
    return exp.Nullif(this=exp.Trim(this=value), expression=sql.text(""))


def _numeric_type(kind: str) -> bool:
    return kind.upper().startswith(_NUMERIC_TYPES)


def _number(raw: exp.Expr, kind: str) -> exp.Expr:
    if _numeric_type(kind):
        return exp.cast(raw, "DOUBLE")
    plain = exp.Anonymous(this="REPLACE", expressions=[_text(raw, kind), sql.text(","), sql.text("")])
    return exp.TryCast(this=plain, to=exp.DataType.build("DOUBLE"))


def _within(value: exp.Expr, spec: FieldSpec) -> sql.Tri:
    parts: list[sql.Tri] = [sql.compare(value, ">", -INF), sql.compare(value, "<", INF)]
    if spec.minimum is not None:
        parts.append(sql.compare(value, ">=", float(spec.minimum)))
    if spec.maximum is not None:
        parts.append(sql.compare(value, "<=", float(spec.maximum)))
    if spec.type == "int":
        parts.append(sql.compare(exp.Floor(this=value), "==", value))
    return sql.and_(*parts)


def _flag(raw: exp.Expr, kind: str) -> exp.Expr:
    if kind.upper().startswith("BOOL"):
        return raw
    word = exp.Lower(this=_text(raw, kind))
    return sql.case([(sql.isin(word, [sql.text(w) for w in _TRUE]), True),  # type: ignore[return-value]
                     (sql.isin(word, [sql.text(w) for w in _FALSE]), False)], None)


def _date(raw: exp.Expr, kind: str, spec: FieldSpec) -> exp.Expr:
    if kind.upper().startswith(("DATE", "TIMESTAMP")):
        value: exp.Expr = exp.cast(raw, "DATE")
    else:
        text = _text(raw, kind)

        def group(i: int, default: str) -> exp.Expr:
            found = exp.RegexpExtract(this=text, expression=sql.text(_DATE), group=exp.Literal.number(i))
            padded = exp.Coalesce(this=exp.Nullif(this=found, expression=sql.text("")), expressions=[sql.text(default)])
            return exp.Pad(this=padded, expression=exp.Literal.number(2 if i > 1 else 4),
                           fill_pattern=sql.text("0"), is_left=True)
        iso = exp.DPipe(this=exp.DPipe(this=exp.DPipe(this=exp.DPipe(this=group(1, ""), expression=sql.text("-")),
                                                     expression=group(2, "1")), expression=sql.text("-")),
                        expression=group(3, "1"))
        value = exp.TryCast(this=iso, to=exp.DataType.build("DATE"))
        value = sql.case([(exp.RegexpLike(this=text, expression=sql.text(_DATE)), value)], None)  # type: ignore[assignment]
    checks = []
    if spec.earliest is not None:
        checks.append(sql.compare(value, ">=", sql.day(spec.earliest)))
    if spec.latest is not None:
        checks.append(sql.compare(value, "<=", sql.day(spec.latest)))
    return sql.case([(sql.and_(*checks), value)], None) if checks else value  # type: ignore[return-value]


def _choice(raw: exp.Expr, kind: str, spec: FieldSpec) -> exp.Expr:
    text = _text(raw, kind)
    return sql.case([(sql.isin(text, [sql.text(c) for c in spec.choices]), text)], None)  # type: ignore[return-value]


def _string(raw: exp.Expr, kind: str, spec: FieldSpec) -> exp.Expr:
    text = _text(raw, kind)
    if spec.max_length:
        return sql.case([(sql.compare(exp.Length(this=text), "<=", float(spec.max_length)), text)], None)  # type: ignore[return-value]
    return text


def code_check(code: exp.Expr) -> sql.Tri:
    """Whether a code (in capitals) has GB 32100's 18 characters and the right check character."""
    alphabet = sql.text(CHECK_ALPHABET)
    total: exp.Expr = exp.Literal.number(0)
    for i, weight in enumerate(CHECK_WEIGHTS):
        index = exp.Sub(this=exp.StrPosition(this=alphabet, substr=exp.Substring(
            this=code, start=exp.Literal.number(i + 1), length=exp.Literal.number(1))), expression=exp.Literal.number(1))
        total = exp.Add(this=total, expression=exp.Mul(this=sql.paren(index), expression=exp.Literal.number(weight)))
    check = exp.Mod(this=exp.Paren(this=exp.Sub(this=exp.Literal.number(31), expression=exp.Mod(
        this=exp.Paren(this=total), expression=exp.Literal.number(31)))), expression=exp.Literal.number(31))
    expected = exp.Substring(this=alphabet, start=exp.Add(this=check, expression=exp.Literal.number(1)),
                             length=exp.Literal.number(1))
    actual = exp.Substring(this=code, start=exp.Literal.number(18), length=exp.Literal.number(1))
    return sql.and_(exp.RegexpLike(this=code, expression=sql.text(_CODE)), sql.compare(expected, "==", actual))


def _scalar(spec: FieldSpec, raw: exp.Expr, kind: str) -> exp.Expr:
    if spec.type == "bool":
        return _flag(raw, kind)
    if spec.type == "date":
        return _date(raw, kind, spec)
    if spec.type == "choice":
        return _choice(raw, kind, spec)
    return _string(raw, kind, spec)


def _present(raw: exp.Expr, kind: str) -> sql.Tri:
    """The cell holds something (an empty or blank text cell is simply unknown)."""
    return sql.is_not_null(raw if not kind.upper().startswith(("VARCHAR", "STRING")) else _text(raw, kind))


# ---------------------------------------------------------------- one source

def _normalized(source: Source, schema: FactSchema, interval_fields: set[str]) -> tuple[exp.Select, list[str]]:
    """SELECT _row, credit_code, _code_ok, the typed facts and `_bad_<key>` (the cell held a bad value).

    Parsed cells are columns of a first projection layer, so the checks that read them twice stay small."""
    plan = Plan(["_row", *source.columns])
    by_field: dict[str, dict[str, tuple[exp.Expr, str]]] = {}
    for header, (key, part) in source.columns.items():
        by_field.setdefault(key, {})[part] = (sql.column(header), source.types[header])
    raw_code, code_kind = by_field.pop(CODE)["value"]
    code = plan.column(exp.Upper(this=_text(raw_code, code_kind)), "k")
    ok = code_check(code)
    outputs: list[tuple[str, Any]] = [("_row", sql.column("_row")), (CODE, code), ("_code_ok", sql.and_(sql.is_not_null(code), ok))]
    bad: list[tuple[str, sql.Tri]] = []
    for key, parts in by_field.items():
        spec = schema.fields[key]
        if spec.numeric:
            outputs += _numeric_outputs(spec, parts, key in interval_fields, bad, plan)
            continue
        raw, kind = parts["value"]
        present = plan.column(_present(raw, kind), "p")
        value = plan.column(_scalar(spec, raw, kind), "v")
        outputs.append((key, value))
        bad.append((key, sql.and_(present, sql.is_null(value))))
    outputs += [(BAD + key, sql.as_sql(when)) for key, when in bad]
    select = plan.query(exp.to_table(source.view, quoted=True), outputs)
    return select, [n for n, _ in outputs if not n.startswith("_") and n != CODE]


def _numeric_outputs(spec: FieldSpec, parts: dict[str, tuple[exp.Expr, str]], as_interval: bool,
                     bad: list[tuple[str, sql.Tri]], plan: Plan) -> list[tuple[str, Any]]:
    key = spec.key
    point: Any = None
    point_bad: sql.Tri = False
    if "value" in parts:
        raw, kind = parts["value"]
        x = plan.column(_number(raw, kind), "x")
        point = plan.column(sql.case([(_within(x, spec), x)], None), "x")
        point_bad = sql.and_(plan.column(_present(raw, kind), "p"), sql.is_null(point))
    if not as_interval:
        bad.append((key, point_bad))
        return [(key, point)]
    lo_col, hi_col, lo_open_col, hi_open_col = interval_columns(key)
    ends: dict[str, Any] = {}
    given: list[sql.Tri] = []
    parse_bad: list[sql.Tri] = []
    for part in ("min", "max"):
        ends[part] = None
        if part in parts:
            raw, kind = parts[part]
            number = plan.column(_number(raw, kind), "x")
            ends[part] = plan.column(sql.case([(sql.and_(sql.compare(number, ">", -INF), sql.compare(number, "<", INF)), number)],
                                              None), "x")
            present = plan.column(_present(raw, kind), "p")
            given.append(present)
            parse_bad.append(sql.and_(present, sql.is_null(ends[part])))
    opens: dict[str, sql.Tri] = {}
    for part in ("min_open", "max_open"):
        end = ends[part.split("_")[0]]
        opens[part] = False
        if part in parts and end is not None:
            raw, kind = parts[part]
            flag = plan.column(_flag(raw, kind), "o")
            parse_bad.append(sql.and_(plan.column(_present(raw, kind), "p"), sql.is_null(flag)))
            opens[part] = plan.column(sql.and_(sql.is_not_null(end), exp.Coalesce(this=sql.as_sql(flag), expressions=[exp.false()])), "o")
    lo, hi = ends["min"], ends["max"]
    lo_ok: sql.Tri = True if spec.minimum is None else (
        sql.and_(sql.is_not_null(lo), sql.compare(lo, ">=", float(spec.minimum))) if lo is not None else False)
    hi_ok: sql.Tri = True if spec.maximum is None else (
        sql.and_(sql.is_not_null(hi), sql.compare(hi, "<=", float(spec.maximum))) if hi is not None else False)
    ordered: sql.Tri = True
    if lo is not None and hi is not None:
        ordered = sql.or_(sql.is_null(lo), sql.is_null(hi), sql.compare(lo, "<", hi),
                          sql.and_(sql.compare(lo, "==", hi), sql.not_(opens["min_open"]), sql.not_(opens["max_open"])))
    anything = sql.or_(*given) if given else False
    valid = plan.column(sql.and_(anything, lo_ok, hi_ok, ordered, sql.not_(sql.or_(*parse_bad)) if parse_bad else True), "i")
    use_point = plan.column(sql.is_not_null(point), "i") if point is not None else False
    low = sql.case([(use_point, point), (valid, exp.Coalesce(this=sql.as_sql(lo), expressions=[sql.number(-INF)]))], None)
    high = sql.case([(use_point, point), (valid, exp.Coalesce(this=sql.as_sql(hi), expressions=[sql.number(INF)]))], None)
    low_open = sql.case([(use_point, False), (valid, opens["min_open"])], None)
    high_open = sql.case([(use_point, False), (valid, opens["max_open"])], None)
    interval_bad = sql.and_(sql.not_(use_point), anything, sql.not_(valid))
    bad.append((key, sql.or_(point_bad, interval_bad)))
    return [(lo_col, low), (hi_col, high), (lo_open_col, low_open), (hi_open_col, high_open)]


# ---------------------------------------------------------------- the whole register

def load_register(paths: list[str], engine: Engine, schema: FactSchema, work: Path) -> Register:
    """Read, validate and join the extracts into the engine's `register` table."""
    if not paths:
        raise UserError("没有给出登记表文件", "no register file given")
    sources: list[Source] = []
    for i, path in enumerate(paths):
        source = prepare(path, work, i)
        source.view = f"_raw{i}"
        engine.read(source.view, source.path, source.kind)
        map_columns(source, engine.columns(source.view), schema)
        sources.append(source)
    interval_fields = {key for s in sources for key, part in s.columns.values() if part in ("min", "max")}
    summaries: list[SourceSummary] = []
    issue_rows: list[tuple[str, int, str, str]] = []
    field_columns: list[list[str]] = []
    for i, source in enumerate(sources):
        query, given = _normalized(source, schema, interval_fields)
        engine.table(f"_norm{i}", _with_first_row(query))
        checked, issues = _check(engine, i, source, schema)
        checked.columns = sorted({key for key, _ in source.columns.values() if key != CODE})
        summaries.append(checked)
        issue_rows += issues
        field_columns.append(given)
    summary = RegisterSummary(summaries)
    columns = _join(engine, field_columns, summary)
    summary.issues = len(issue_rows)
    if summary.enterprises == 0:
        raise UserError("登记表中没有可用的企业（每行都缺少有效的统一社会信用代码）",
                        "the register has no usable row (no row has a valid credit code)")
    return Register(engine, schema, columns, summary, _issues_csv(issue_rows, schema))


def _with_first_row(query: exp.Select) -> exp.Select:
    """Add `_first`: the first row of the file with the same code (repeats are not used)."""
    inner = exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("_n")))
    first = exp.Window(this=exp.Min(this=sql.column("_row")), partition_by=[sql.column(CODE)])
    return exp.select(exp.Star(), first.as_("_first", quoted=True, copy=False), copy=False).from_(inner, copy=False)


def _check(engine: Engine, index: int, source: Source, schema: FactSchema) -> tuple[SourceSummary, list[tuple[str, int, str, str]]]:
    table = exp.to_table(f"_norm{index}", quoted=True)
    flags = [name for name, _ in engine.columns(f"_norm{index}") if name.startswith(BAD)]
    code, ok, row, first = (sql.column(n) for n in (CODE, "_code_ok", "_row", "_first"))
    any_bad = sql.or_(*(sql.column(f) for f in flags)) if flags else False
    repeated = sql.and_(ok, sql.compare(row, "!=", first))

    def count(condition: sql.Tri) -> exp.Expr:
        return exp.Sum(this=sql.as_sql(sql.case([(condition, 1.0)], 0.0)))
    counts = engine.fetch(exp.select(exp.Count(this=exp.Star()), count(sql.is_null(code)),
                                     count(sql.and_(sql.is_not_null(code), sql.not_(ok))), count(repeated),
                                     count(sql.and_(ok, sql.compare(row, "==", first), any_bad))).from_(table))[0]
    rows, missing, invalid, duplicates, flagged = (int(c or 0) for c in counts)
    summary = SourceSummary(source.label, rows, rows - missing - invalid - duplicates, missing, invalid, duplicates,
                            flagged, unknown_columns=list(source.unknown))
    problem = sql.case([(sql.is_null(code), MISSING_CODE), (sql.not_(ok), INVALID_CODE), (repeated, DUPLICATE_CODE)], "")
    query = exp.select(row, sql.as_sql(problem), first, *(sql.column(f) for f in flags)).from_(table).where(
        sql.as_sql(sql.or_(sql.is_null(code), sql.not_(ok), repeated, any_bad))).order_by(row)
    problems = engine.fetch(query)
    issues: list[tuple[str, int, str, str]] = []
    bad_counts: Counter[str] = Counter()
    keys = [f[len(BAD):] for f in flags]
    for row, code_problem, first, *marks in problems:
        if code_problem:
            issues.append((source.label, int(row), schema.label(CODE), PROBLEM_WORDS[code_problem].format(first=first)))
            if code_problem != DUPLICATE_CODE:
                continue
        for key, mark in zip(keys, marks):
            if mark:
                bad_counts[key] += 1
                issues.append((source.label, int(row), schema.label(key), _expected(schema.fields[key])))
    summary.bad_values = dict(bad_counts)
    return summary, issues


def _quote(engine: Engine, name: str) -> str:
    return exp.to_table(name, quoted=True).sql(engine.dialect)


def _expected(spec: FieldSpec) -> str:
    """What a cell of this fact must hold, in words (the reason a value was not used)."""
    if spec.numeric:
        what = "整数" if spec.type == "int" else "数字"
        bounds = f"，{format_number(spec.minimum)}～{format_number(spec.maximum)}" if spec.minimum is not None or spec.maximum is not None else ""
        return f"无效值，按未知处理：应为{what}（{spec.unit or '无单位'}{bounds}）"
    if spec.type == "bool":
        return "无效值，按未知处理：应为 是/否"
    if spec.type == "date":
        return f"无效值，按未知处理：应为日期，如 2019-05-01（{spec.earliest}～{spec.latest}）"
    if spec.type == "choice":
        shown = "、".join(spec.choices[:12]) + ("…" if len(spec.choices) > 12 else "")
        return f"无效值，按未知处理：应为以下之一：{shown}"
    return f"无效值，按未知处理：文字最多 {spec.max_length} 个字"


def _join(engine: Engine, field_columns: list[list[str]], summary: RegisterSummary) -> list[str]:
    """The sources' used rows joined on the code into `register`; the first source knowing a fact gives it."""
    used = [exp.select(exp.Star()).from_(exp.to_table(f"_norm{i}", quoted=True)).where(
        "_code_ok AND _row = _first") for i in range(len(field_columns))]
    names = [f"s{i}" for i in range(len(used))]
    relation: exp.Select = exp.select()
    outputs: list[exp.Expr] = []
    all_columns: list[str] = list(dict.fromkeys(c for cols in field_columns for c in cols))
    holders = {c: [names[i] for i, cols in enumerate(field_columns) if c in cols] for c in all_columns}
    if len(used) == 1:
        outputs = [sql.column(CODE), *(sql.column(c) for c in all_columns)]
        relation = exp.select(*outputs).from_(exp.Subquery(this=used[0], alias=exp.TableAlias(this=exp.to_identifier("s0"))))
    else:
        keys = [exp.column(CODE, table=n, quoted=True) for n in names]
        outputs = [exp.Coalesce(this=keys[0], expressions=keys[1:]).as_(CODE, quoted=True)]
        for c in all_columns:
            owners = holders[c]
            lead = _lead_column(c)
            if len(owners) == 1:
                outputs.append(exp.column(c, table=owners[0], quoted=True).as_(c, quoted=True))
                continue
            branches = [(sql.is_not_null(exp.column(lead, table=o, quoted=True)), exp.column(c, table=o, quoted=True))
                        for o in owners]
            outputs.append(sql.as_sql(sql.case(branches, None)).as_(c, quoted=True))
        relation = exp.select(*outputs).from_(exp.Subquery(this=used[0], alias=exp.TableAlias(this=exp.to_identifier("s0"))))
        for i in range(1, len(used)):
            previous = exp.Coalesce(this=keys[0], expressions=keys[1:i]) if i > 1 else keys[0]
            relation = relation.join(exp.Subquery(this=used[i], alias=exp.TableAlias(this=exp.to_identifier(names[i]))),
                                     on=exp.EQ(this=previous, expression=keys[i]), join_type="FULL OUTER")
    if len(used) == 1:
        engine.view(TABLE, relation)    # one file: the validated rows themselves, not a second copy
    else:
        engine.table(TABLE, relation)
    counts = engine.fetch(f"SELECT count(*) FROM {_quote(engine, TABLE)}")[0]
    summary.enterprises = int(counts[0])
    if len(used) > 1:
        _conflicts_and_coverage(engine, used, names, holders, summary)
    else:
        summary.in_every_source = summary.enterprises
    return [CODE, *all_columns]


def _lead_column(column: str) -> str:
    """The column that says whether a source knows the fact (an interval's low end)."""
    for suffix in ("__hi", "__lo_open", "__hi_open"):
        if column.endswith(suffix):
            return column[: -len(suffix)] + "__lo"
    return column


def _conflicts_and_coverage(engine: Engine, used: list[exp.Select], names: list[str], holders: dict[str, list[str]],
                            summary: RegisterSummary) -> None:
    keys = [exp.column(CODE, table=n, quoted=True) for n in names]
    checks: list[exp.Expr] = [exp.Sum(this=sql.as_sql(sql.case([(sql.and_(*(sql.is_not_null(k) for k in keys)), 1.0)], 0.0)))]
    compared = [c for c, owners in holders.items() if len(owners) > 1 and not c.endswith(("__hi", "__lo_open", "__hi_open"))]
    for c in compared:
        owners = holders[c]
        differ = sql.or_(*(sql.and_(sql.is_not_null(exp.column(c, table=a, quoted=True)),
                                    sql.is_not_null(exp.column(c, table=b, quoted=True)),
                                    sql.compare(exp.column(c, table=a, quoted=True), "!=", exp.column(c, table=b, quoted=True)))
                           for j, a in enumerate(owners) for b in owners[j + 1:]))
        checks.append(exp.Sum(this=sql.as_sql(sql.case([(differ, 1.0)], 0.0))))
    relation = exp.select(*checks).from_(exp.Subquery(this=used[0], alias=exp.TableAlias(this=exp.to_identifier("s0"))))
    for i in range(1, len(used)):
        previous = exp.Coalesce(this=keys[0], expressions=keys[1:i]) if i > 1 else keys[0]
        relation = relation.join(exp.Subquery(this=used[i], alias=exp.TableAlias(this=exp.to_identifier(names[i]))),
                                 on=exp.EQ(this=previous, expression=keys[i]), join_type="FULL OUTER")
    row = engine.fetch(relation)[0]
    summary.in_every_source = int(row[0] or 0)
    summary.conflicts = {c.removesuffix("__lo"): int(n) for c, n in zip(compared, row[1:]) if n}


def _issues_csv(rows: list[tuple[str, int, str, str]], schema: FactSchema) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["来源文件", "行号", "列", "问题"])
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
