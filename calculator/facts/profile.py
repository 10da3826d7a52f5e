"""The enterprise profile: a pydantic model generated from a `FactSchema` (profile_fields.yaml).

Every field is optional because "unknown" is a valid answer: the engine turns it into an `unknown`
condition and the chat into its next question. Derived facts (企业规模, 研发费用占比 …) are computed
here, each with how it was computed and the clause it rests on, so a verdict can show its working.
The model class remembers its schema (`Model.fact_schema`), so a validated profile carries the law's
vocabulary with it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    create_model,
    field_validator,
)

from calculator.core.errors import UserError
from calculator.corpus.citation import ClauseRef
from calculator.corpus.tables import OUTSIDE_XUCHANG
from calculator.facts import interval as iv
from calculator.facts.codes import credit_code_ok
from calculator.facts.interval import Interval, as_interval, collapse
from calculator.facts.schema import NUMERIC, FactSchema, FieldSpec, default_schema, format_number

# ---------------------------------------------------------------- validation helpers

TRUE_WORDS = {"是", "有", "对", "已", "参加", "已参加", "yes", "y", "true", "1"}
FALSE_WORDS = {"否", "无", "没有", "不是", "未", "没", "不", "no", "n", "false", "0"}
_DATE = re.compile(r"^\s*(\d{4})(?:\s*[-/.年]\s*(\d{1,2}))?(?:\s*[-/.月]\s*(\d{1,2}))?\s*[月日]?\s*$")


def _coerce_bool(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
    return value


def _coerce_date(value: Any) -> Any:
    """Accept ISO dates and the partial dates people give ('2019', '2019-05', '2019年5月'): first day."""
    if isinstance(value, int) and 1000 <= value <= 9999:
        return date(value, 1, 1)
    if isinstance(value, str):
        m = _DATE.match(value)
        if m:
            y, mo, d = (int(g) if g else 1 for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                return value
    return value


INTERVAL_SCHEMA = {
    "type": "object", "title": "区间 / interval",
    "description": "a vague amount: every value from min to max (null = unbounded); *_open excludes that end",
    "properties": {"min": {"type": ["number", "null"]}, "max": {"type": ["number", "null"]},
                   "min_open": {"type": "boolean"}, "max_open": {"type": "boolean"}},
    "additionalProperties": False,
}


def _interval_validator(spec: FieldSpec) -> Any:
    """An interval for a numeric field: `{min, max, min_open, max_open}`; a given end lies within the field's
    own bounds, a null end is unbounded ("不到300万" is (null, 300): the field's bound still holds)."""
    def check(value: Any) -> Interval:
        interval = value if isinstance(value, Interval) else Interval.from_json(value)
        low_ok = spec.minimum is None or interval.low is None or spec.minimum <= interval.low
        high_ok = spec.maximum is None or interval.high is None or interval.high <= spec.maximum
        low_ok = low_ok and (spec.maximum is None or interval.low is None or interval.low <= spec.maximum)
        high_ok = high_ok and (spec.minimum is None or interval.high is None or spec.minimum <= interval.high)
        if not (low_ok and high_ok):
            raise ValueError(f"区间应在 {format_number(spec.minimum)}～{format_number(spec.maximum)}{spec.unit} 之间 / "
                             f"the interval must lie within {spec.minimum}..{spec.maximum} {spec.unit}")
        return interval
    return check


def _numeric(spec: FieldSpec) -> Any:
    """A number within the field's bounds, or an interval within them (a vague amount)."""
    number: Any = Annotated[int if spec.type == "int" else float,
                            Field(ge=spec.minimum, le=spec.maximum)]
    interval = Annotated[Interval, PlainValidator(_interval_validator(spec)),
                         PlainSerializer(lambda i: i.to_json(), return_type=dict), WithJsonSchema(INTERVAL_SCHEMA)]
    return number | interval | None


def _annotation(spec: FieldSpec) -> Any:
    """The pydantic type for one spec; None (unknown) is always allowed."""
    if spec.type == "str":
        return str | None
    if spec.type in NUMERIC:
        return _numeric(spec)
    if spec.type == "bool":
        return bool | None
    if spec.type == "date":
        return date | None
    if spec.type == "choice":
        return Literal[spec.choices] | None
    raise ValueError(f"profile_fields.yaml: {spec.key} has unknown type {spec.type!r}")


def _field(spec: FieldSpec) -> Any:
    extra: dict[str, Any] = {"x-group": spec.group}
    if spec.unit:
        extra["x-unit"] = spec.unit
    if spec.sensitive:
        extra["x-sensitive"] = True
    bounds: dict[str, Any] = {}  # numeric bounds sit in each branch of the number-or-interval union (_numeric)
    if spec.max_length:
        bounds["max_length"] = spec.max_length
    if spec.earliest is not None:
        bounds["ge"] = spec.earliest
    if spec.latest is not None:
        bounds["le"] = spec.latest
    return Field(default=None, title=spec.label, description=spec.question, json_schema_extra=extra, **bounds)


class ProfileBase(BaseModel):
    """Base of every generated profile model; `fact_schema` is the schema the model was generated from."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=True)
    fact_schema: ClassVar[FactSchema]


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would read true as 1 (人, 万元): a client's mistake, not a count
        raise ValueError("应为数字，不能是 是/否 / must be a number, not true/false")
    return value


def _credit_code(value: Any) -> Any:
    if value is None or value == "":
        return None
    code = value.upper()
    if not credit_code_ok(code):
        raise ValueError("校验位不正确或含非法字符 / wrong check character or invalid characters")
    return code


def _validators(schema: FactSchema) -> dict[str, Any]:
    """Field validators for the schema's bool, numeric, date and credit-code fields."""
    before = {
        "bool": ([k for k, s in schema.fields.items() if s.type == "bool"], _coerce_bool),
        "numbers": ([k for k, s in schema.fields.items() if s.type in NUMERIC], _reject_bool),
        "dates": ([k for k, s in schema.fields.items() if s.type == "date"], _coerce_date),
    }
    out: dict[str, Any] = {}
    for name, (keys, function) in before.items():
        if keys:
            out[f"_{name}"] = field_validator(*keys, mode="before")(classmethod(lambda cls, v, f=function: f(v)))
    codes = [k for k, s in schema.fields.items() if s.validator == "credit_code"]
    if codes:
        out["_credit"] = field_validator(*codes, mode="after")(classmethod(lambda cls, v: _credit_code(v)))
    return out


@lru_cache(maxsize=8)
def profile_model(schema: FactSchema) -> type[ProfileBase]:
    """The pydantic model of a schema, generated once per schema."""
    base = type("ProfileWithSchema", (ProfileBase,), {"fact_schema": schema, "__module__": __name__})
    model = create_model(  # type: ignore[call-overload]
        "Profile",
        __base__=base,
        __doc__="企业画像：每一项都可以不知道（null）。Money in 万元, people in 人, rates in %.",
        __validators__=_validators(schema),
        **{key: (_annotation(spec), _field(spec)) for key, spec in schema.fields.items()},
    )
    return cast(type[ProfileBase], model)


MAX_SHOWN_INPUT = 60  # a message quotes the value it got, but not a megabyte of it


def _shown(value: Any, quote: bool = True) -> str:
    """A value for a one-line message: repr (so a newline stays "\\n"), cut at MAX_SHOWN_INPUT."""
    text = value if not quote and isinstance(value, str) and value.isprintable() else repr(value)
    return text if len(text) <= MAX_SHOWN_INPUT else text[:MAX_SHOWN_INPUT] + "…"


def _one_per_branch(errors: list[Any]) -> list[Any]:
    """A numeric field is a number or an interval, so pydantic reports one error per branch: keep the one
    for what was given (a mapping → the interval's, anything else → the number's)."""
    kept: list[Any] = []
    for err in errors:
        loc: tuple[Any, ...] = tuple(err.get("loc") or ())
        branch = str(loc[1]) if len(loc) > 1 else ""
        if branch.startswith(("constrained-", "int", "float")) and isinstance(err.get("input"), dict):
            continue
        if branch.startswith("function-plain") and not isinstance(err.get("input"), dict):
            continue
        kept.append(err)
    return kept


def _describe_error(err: Any, schema: FactSchema) -> tuple[str, str]:
    """One pydantic error as (Chinese, English) fragments naming the field by its label."""
    key = str(err["loc"][0]) if err.get("loc") else "?"
    spec = schema.fields.get(key)
    got = err.get("input")
    got = got.isoformat() if isinstance(got, date) else got
    got_text = f"（收到 {_shown(got)}）" if got is not None and not isinstance(got, dict) else ""
    if err["type"] == "extra_forbidden":
        return f"未知字段“{_shown(key, quote=False)}”", f"unknown field {_shown(key)}"
    label = spec.label if spec else key
    kind = err["type"]
    if kind in {"greater_than_equal", "less_than_equal"} and spec and spec.type == "date":
        span = f"{spec.earliest or ''}～{spec.latest or ''}"
        return f"{label}应在 {span} 之间{got_text}", f"{key} must be between {spec.earliest} and {spec.latest}"
    if kind == "string_too_long" and spec:
        return f"{label}最多 {spec.max_length} 个字", f"{key} must be at most {spec.max_length} characters"
    if kind == "string_type" and spec:
        return f"{label}应为文字{got_text}", f"{key} must be text"
    if kind in {"greater_than_equal", "less_than_equal"} and spec:
        return (f"{label}应在 {format_number(spec.minimum)}～{format_number(spec.maximum)}{spec.unit} 之间{got_text}",
                f"{key} must be between {spec.minimum} and {spec.maximum} {spec.unit}")
    if kind.startswith(("int_", "float_")) and spec:
        what = "整数" if spec.type == "int" else "数字"
        return f"{label}应为{what}{('（单位：' + spec.unit + '）') if spec.unit else ''}{got_text}", f"{key} must be a number"
    if kind == "literal_error" and spec:
        return f"{label}只能是：{'、'.join(spec.choices)}{got_text}", f"{key} must be one of the listed choices"
    if kind.startswith("bool") and spec:
        return f"{label}应为 是/否{got_text}", f"{key} must be yes/no"
    if kind.startswith("date") and spec:
        return f"{label}应为日期，如 2019-05-01{got_text}", f"{key} must be a date like 2019-05-01"
    message = str(err.get("msg", "")).removeprefix("Value error, ")
    return f"{label}：{message.split(' / ')[0]}{got_text}", f"{key}: {message.split(' / ')[-1]}"


def _expand_sets(data: dict[str, Any], schema: FactSchema) -> dict[str, Any]:
    """`certifications: [高新技术企业]` → cert_hightech true and the set's other members false.

    A list names the whole set, so members it leaves out are known to be absent; an explicit member
    key in the same mapping wins.
    """
    for set_name, members in schema.sets.items():
        if set_name not in data:
            continue
        listed = data.pop(set_name)
        if isinstance(listed, str):
            listed = [listed]
        if not isinstance(listed, list):
            raise UserError(f"{set_name} 应为列表", f"{set_name} must be a list")
        labels = {schema.fields[m].label: m for m in members}
        unknown = [x for x in listed if not isinstance(x, str) or (x not in labels and x not in members)]
        if unknown:
            raise UserError(f"画像有误：未知资质 {_shown(unknown)}，可选：{'、'.join(labels)}",
                            f"invalid profile: unknown {set_name} {_shown(unknown)}")
        chosen = {labels.get(x, x) for x in listed}
        for member in members:
            data.setdefault(member, member in chosen)
    return data


MAX_LISTED_ERRORS = 10


def validate_profile(data: Any, schema: FactSchema | None = None) -> ProfileBase:
    """Validate a mapping (English keys or Chinese labels) into a profile of `schema` (default: the
    configured knowledge folder's), or raise one bilingual UserError. A profile passes through unchanged
    when it already belongs to that schema."""
    if isinstance(data, ProfileBase):
        if schema is None or type(data).fact_schema is schema:
            return data
        data = data.model_dump(exclude_none=True)
    schema = schema or default_schema()
    if isinstance(data, BaseModel):
        data = data.model_dump(exclude_none=True)
    if not isinstance(data, dict):
        raise UserError("企业画像应为 JSON 对象", "the profile must be a JSON object")
    data = _expand_sets({schema.by_label.get(str(k), str(k)): v for k, v in data.items()}, schema)  # a key 1 is field “1”
    try:
        return profile_model(schema)(**data)
    except ValidationError as exc:
        errors = _one_per_branch(exc.errors())
        parts = [_describe_error(e, schema) for e in errors[:MAX_LISTED_ERRORS]]
        more = len(errors) - len(parts)  # a file of 100,000 wrong keys gets one readable line, not megabytes
        raise UserError("画像有误：" + "；".join(p[0] for p in parts) + (f"；等共 {len(errors)} 处" if more else ""),
                        "invalid profile: " + "; ".join(p[1] for p in parts) + (f"; {more} more" if more else "")) from None


def profile_schema(schema: FactSchema | None = None) -> dict[str, Any]:
    """JSON Schema of the profile, with Chinese titles, units (x-unit) and form groups (x-group)."""
    schema = schema or default_schema()
    out = profile_model(schema).model_json_schema()
    out["title"] = "企业画像 / Enterprise profile"
    out["x-derived"] = {k: {"title": s.label, "unit": s.unit, "from": list(s.inputs)} for k, s in schema.derived.items()}
    return out


# ---------------------------------------------------------------- derived facts

@dataclass
class Derived:
    """A computed fact with its working: shown beside verdicts, cited like a condition."""

    key: str
    value: Any
    explanation: str
    cite: ClauseRef | None = None
    possible: list[str] = field(default_factory=list)
    label: str = ""
    needs: tuple[str, ...] = ()   # when unknown: the facts that would decide it (asked instead of the fact itself)


def _tier_reached(values: dict[str, float | None], bounds: dict[str, float]) -> bool | None:
    """Kleene AND of value ≥ bound over the tier's metrics: None when an unknown value could decide it."""
    outcome: bool | None = True
    for metric, bound in bounds.items():
        v = values.get(metric)
        reached = None if v is None else (v.compare(">=", bound) if isinstance(v, Interval) else v >= bound)
        if reached is False:
            return False
        if reached is None:
            outcome = None
    return outcome


_METRIC_LABEL = {"employees": "从业人数", "revenue": "营业收入", "total_assets": "资产总额"}
_TIERS = (("大型", "large"), ("中型", "medium"), ("小型", "small"))


def size_class(industry: str | None, values: dict[str, float | None], schema: FactSchema | None = None) -> Derived:
    """企业规模 by the 划型标准: the first tier whose lower bounds are all reached, top-down; else 微型.

    With some metrics unknown the class may still be decided (a 12-person factory is 微型 whatever its
    revenue); otherwise `possible` lists the classes still open and the value is None.
    """
    schema = schema or default_schema()
    standards = schema.tables.size_standards
    label = schema.label("size_class")
    source = standards["source"]
    if industry is None:
        return Derived("size_class", None, "需要先知道所属行业", None, ["大型", "中型", "小型", "微型"], label)

    def bounds_text(bounds: dict[str, float]) -> str:
        return "且".join(f"{_METRIC_LABEL[m]}≥{schema.format_value(m, b)}" for m, b in bounds.items())

    group = schema.tables.industries[industry]["size_group"]
    row = standards["groups"][group]
    cite = ClauseRef(source["doc"], f"{source['locator']} › {group}", row["quote"])
    possible: list[str] = []
    reasons: list[str] = []
    for name, tier in _TIERS:
        reached = _tier_reached(values, row[tier])
        if reached is True:
            possible.append(name)
            reasons.append(f"{bounds_text(row[tier])} → {name}")
            break
        if reached is None:
            possible.append(name)
        else:
            reasons.append(f"未达{name}（{bounds_text(row[tier])}）")
    else:
        possible.append("微型")
    shown = "，".join(f"{_METRIC_LABEL[m]}{schema.format_value(m, values.get(m))}" for m in row["small"])
    if len(possible) == 1:
        return Derived("size_class", possible[0], f"{group}：{shown}；{'；'.join(reasons)}", cite, possible, label)
    return Derived("size_class", None, f"{group}：{shown}；可能为{'/'.join(possible)}，需补充数据", cite, possible, label)


def years_between(start: date, end: date) -> float:
    """Full years from start to end plus the fraction of the current year (so '满一年' means ≥ 1.0)."""
    full = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    try:
        anniversary = start.replace(year=start.year + full)
    except ValueError:  # 29 February
        anniversary = date(start.year + full, 3, 1)
    return round(full + (end - anniversary).days / 366, 3)


def derive(profile: ProfileBase | Mapping[str, Any], today: date) -> dict[str, Derived]:
    """Compute every derived fact; a fact whose inputs are unknown is None with the reason."""
    p = validate_profile(profile)
    schema = type(p).fact_schema

    def fact(key: str, value: Any, explanation: str, cite: ClauseRef | None = None) -> Derived:
        return Derived(key, value, explanation, cite, [], schema.label(key))

    out: dict[str, Derived] = {}
    composed = _compose(p, schema)   # 从业人数 from its parts, the year's mean of quarters …, before any use
    out.update(composed)

    def given(key: str) -> Any:      # a composed value counts as given
        return composed[key].value if key in composed else getattr(p, key, None)

    name = given("industry")
    industry = schema.tables.industries.get(name) if name else None
    metrics = {m: given(m) for m in _METRIC_LABEL}
    size = size_class(name, metrics, schema)
    out["size_class"] = size
    sme = None if not size.possible or (len(size.possible) > 1 and "大型" in size.possible) else "大型" not in size.possible
    out["is_sme"] = fact("is_sme", sme, "企业规模为中型、小型或微型" if sme else (
        "企业规模为大型" if sme is False else "企业规模未定"), size.cite)
    out["size_group"] = fact("size_group", industry["size_group"] if industry else None,
                             f"按所属行业“{name}”归入划型标准行业" if industry else "所属行业未知")
    out["industry_section"] = fact(
        "industry_section", f"{industry['section']} {industry['section_name']}".strip() if industry else None,
        "GB/T 4754-2017 国民经济行业分类门类" if industry else "所属行业未知")
    out["rd_ratio"] = _share(schema, "rd_ratio", given("rd_expense"), given("revenue"), "rd_expense", "revenue",
                             "需要研发费用和营业收入")
    out["disabled_staff_share"] = _share(schema, "disabled_staff_share", given("disabled_employees"),
                                         given("employees_contract") if given("employees_contract") is not None
                                         else given("employees"), "disabled_employees", "employees",
                                         "需要安置残疾人人数和在职职工人数")
    founded = given("founded")
    if founded is not None:
        years = max(0.0, years_between(founded, today))
        out["years_established"] = fact("years_established", years,
                                        f"{founded.isoformat()} 成立，至 {today.isoformat()} 约 {years:.1f} 年")
    else:
        out["years_established"] = fact("years_established", None, "成立日期未知")
    county = given("county")
    in_xc = None if county is None else county != OUTSIDE_XUCHANG
    out["in_xuchang"] = fact("in_xuchang", in_xc, f"所在区县：{county}" if county else "所在区县未知")
    return {key: value for key, value in out.items() if key in schema.derived or key in composed}


def _share(schema: FactSchema, key: str, part: Any, whole: Any, part_key: str, whole_key: str, missing: str) -> Derived:
    """part ÷ whole in %, interval-aware (a vague part or whole gives a range); None without both."""
    label = schema.label(key)
    if part is None or whole is None or (not isinstance(whole, Interval) and not whole):
        return Derived(key, None, missing, None, [], label)
    if isinstance(part, Interval) or isinstance(whole, Interval):
        ratio = iv.div(as_interval(part), as_interval(whole))
        value: Any = None if ratio is None else collapse(iv.rounded(iv.mul(ratio, Interval.point(100)), 2))
    else:
        value = round(part / whole * 100, 2)
    shown = "无法计算" if value is None else schema.format_value(key, value)
    return Derived(key, value, f"{schema.label(part_key)}{schema.format_value(part_key, part)} ÷ "
                               f"{schema.label(whole_key)}{schema.format_value(whole_key, whole)} = {shown}", None, [], label)


def _compose(p: ProfileBase, schema: FactSchema) -> dict[str, Derived]:
    """Facts composed by their legal definition from their parts, where the fact itself was not stated."""
    out: dict[str, Derived] = {}
    for key, spec in schema.fields.items():
        if not spec.compose or getattr(p, key, None) is not None:
            continue
        for composition in spec.compose:
            parts = [getattr(p, name, None) for name in composition.inputs]
            if any(part is None for part in parts):
                continue
            value = _combine(composition.kind, parts, composition.factor)
            shown = " + ".join(f"{schema.label(n)}{schema.format_value(n, v)}" for n, v in zip(composition.inputs, parts))
            if composition.kind == "mean":
                shown = f"（{shown}）÷ {len(parts)}"
            elif composition.kind == "times":
                shown = f"{shown} × {format_number(composition.factor)}"
            out[key] = Derived(key, value, f"{spec.label} {schema.format_value(key, value)} = {shown}（{composition.text}）",
                               composition.cite, [], spec.label)
            break
    return out


def _combine(kind: str, parts: list[Any], factor: float) -> Any:
    if not any(isinstance(part, Interval) for part in parts):
        total = float(sum(parts))
        value = total / len(parts) if kind == "mean" else total * factor if kind == "times" else total
        return int(value) if float(value).is_integer() else round(value, 4)
    result = as_interval(parts[0])
    for part in parts[1:]:
        result = iv.add(result, as_interval(part))
    if kind == "mean":
        result = iv.mul(result, Interval.point(1 / len(parts)))
    elif kind == "times":
        result = iv.mul(result, Interval.point(factor))
    return collapse(result)


def facts(profile: ProfileBase | Mapping[str, Any], today: date) -> dict[str, Any]:
    """Raw and derived facts by key, None meaning unknown: what the rules engine evaluates."""
    p = validate_profile(profile)
    values = {key: getattr(p, key) for key in type(p).fact_schema.fields}
    values.update({key: d.value for key, d in derive(p, today).items()})
    return values
