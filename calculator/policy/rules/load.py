"""Condition YAML → compiled nodes, checked on the way: keys, known fields, ops by type, value types.

`DefinitionTable` carries what a condition may name: the fact schema (fields and their types) and the
named definitions of _definitions.yaml, parsed on first use so they may reference each other in any
order. Every problem is a LocatedError whose `path` points into the YAML (conditions.all[1].op).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from calculator.core.errors import LocatedError
from calculator.corpus.citation import ClauseRef
from calculator.facts.schema import FactSchema, FieldSpec, default_schema
from calculator.policy.parameters import Parameter, Parameters
from calculator.policy.rules.check import check_satisfiable
from calculator.policy.rules.tree import OPS, OPS_BY_TYPE, ORDERING, Definition, Group, Leaf, Node, Not, Ref

ConditionError = LocatedError  # the name condition code and tests use for a located condition problem

_LEAF_KEYS = {"id", "text", "field", "op", "value", "cite", "presume"}
_GROUP_KEYS = {"id", "text", "cite"}


class DefinitionTable:
    """Named definitions over a schema, parsed on first use (cycles are errors)."""

    def __init__(self, raw: Mapping[str, Any], path: str = "definitions", schema: FactSchema | None = None,
                 parameters: Parameters | None = None) -> None:
        self.schema = schema or default_schema()
        self.parameters = parameters if parameters is not None else Parameters({})
        self._raw = raw
        self._path = path
        self._parsed: dict[str, Definition] = {}
        self._resolving: list[str] = []

    def get(self, name: str, where: str) -> Definition:
        if name in self._parsed:
            return self._parsed[name]
        if name not in self._raw:
            known = "、".join(self._raw) or "（无）"
            raise LocatedError(f"未定义的命名条件“{name}”（已定义：{known}）", f"unknown definition {name!r}", where)
        if name in self._resolving:
            cycle = " → ".join([*self._resolving, name])
            raise LocatedError(f"命名条件循环引用：{cycle}", f"definitions refer to each other in a cycle: {cycle}", where)
        self._resolving.append(name)
        try:
            path = f"{self._path}.{name}"
            raw = self._raw[name]
            node = parse_condition(raw, self, path)
            if not isinstance(raw, Mapping) or not raw.get("text") or node.cite is None:
                raise LocatedError("命名条件须有 text 和 cite", "a definition needs text and cite", path)
            definition = Definition(name, node)
        finally:
            self._resolving.pop()
        self._parsed[name] = definition
        return definition

    def all(self) -> dict[str, Definition]:
        """Every definition, parsed (raises the first LocatedError)."""
        return {name: self.get(name, f"{self._path}.{name}") for name in self._raw}


def parse_condition(raw: Any, definitions: DefinitionTable, path: str = "conditions") -> Node:
    """YAML mapping → compiled node, checking keys, fields, ops and value types; errors name the path."""
    if not isinstance(raw, Mapping):
        raise LocatedError("条件应为映射（all/any/not/ref 或叶子）", "a condition must be a mapping", path)
    kinds = [k for k in ("all", "any", "not", "ref", "field") if k in raw]
    if len(kinds) != 1:
        raise LocatedError("条件须且只能是 all、any、not、ref 或含 field/op/value 的叶子之一",
                           "a condition is exactly one of all / any / not / ref / a leaf with field, op, value", path)
    kind = kinds[0]
    schema = definitions.schema
    if kind == "ref":
        _no_extra(raw, {"ref"}, path)
        return Ref(definitions.get(str(raw["ref"]), f"{path}.ref"), path)
    if kind == "field":
        return _parse_leaf(raw, path, schema, definitions.parameters)
    _no_extra(raw, _GROUP_KEYS | {kind}, path)
    cite = parse_cite(raw["cite"], f"{path}.cite") if "cite" in raw else None
    if kind == "not":
        child = parse_condition(raw["not"], definitions, f"{path}.not")
        return Not(child, str(raw.get("text") or f"不属于：{child.text}"), path, schema, cite, str(raw.get("id", "")))
    items = raw[kind]
    if not isinstance(items, list) or not items:
        raise LocatedError(f"{kind} 应为非空列表", f"{kind} must be a non-empty list", f"{path}.{kind}")
    children = [parse_condition(item, definitions, f"{path}.{kind}[{i}]") for i, item in enumerate(items)]
    default_text = "同时满足以下条件" if kind == "all" else "满足以下条件之一"
    group = Group(kind, children, str(raw.get("text") or default_text), path, schema, cite, str(raw.get("id", "")))
    if kind == "all":
        check_satisfiable(group)
    return group


def _no_extra(raw: Mapping[str, Any], allowed: set[str], path: str) -> None:
    extra = sorted(set(raw) - allowed)
    if extra:
        raise LocatedError(f"未知键 {extra}（允许：{sorted(allowed)}）",
                           f"unknown keys {extra} (allowed: {sorted(allowed)})", f"{path}.{extra[0]}")


def parse_cite(raw: Any, path: str) -> ClauseRef:
    """A `{doc, locator, quote}` mapping as a ClauseRef (the quote itself is verified by the catalog)."""
    return ClauseRef.from_yaml(raw, path)


def _parse_leaf(raw: Mapping[str, Any], path: str, schema: FactSchema, parameters: Parameters) -> Leaf:
    _no_extra(raw, _LEAF_KEYS, path)
    for key in ("id", "text", "op", "cite"):
        if key not in raw or raw[key] in (None, ""):
            raise LocatedError(f"叶子条件缺少 {key}", f"a leaf needs {key}", f"{path}.{key}")
    if "value" not in raw:
        raise LocatedError("叶子条件缺少 value", "a leaf needs value", f"{path}.value")
    name = str(raw["field"])
    spec = schema.all_facts.get(name)
    if spec is None:
        raise LocatedError(f"未知字段“{name}”（须在 {schema.folder.name}/profile_fields.yaml 中）",
                           f"unknown field {name!r} (not in {schema.folder.name}/profile_fields.yaml)", f"{path}.field")
    op = str(raw["op"])
    if op not in OPS:
        raise LocatedError(f"未知运算符“{op}”（可用：{' '.join(OPS)}）", f"unknown op {op!r}", f"{path}.op")
    if op not in OPS_BY_TYPE[spec.type]:
        raise LocatedError(f"{spec.label}（{spec.type}）不能用运算符 {op}",
                           f"op {op!r} does not apply to {name} ({spec.type})", f"{path}.op")
    presume = raw.get("presume", False)
    if not isinstance(presume, bool):
        raise LocatedError("presume 应为 true/false", "presume must be true or false", f"{path}.presume")
    cite = parse_cite(raw["cite"], f"{path}.cite")
    if isinstance(raw["value"], Mapping):
        parameter = _parameter_of(raw["value"], spec, op, parameters, f"{path}.value")
        return Leaf(str(raw["id"]), str(raw["text"]), name, op, None, cite, path, schema, presume,
                    parameter.name, parameter)
    if "{value}" in str(raw["text"]):
        raise LocatedError("只有比较参数的条件才能在 text 中写 {value}", "{value} in a text needs a parameter value",
                           f"{path}.text")
    value = _checked_value(spec, op, raw["value"], f"{path}.value")
    return Leaf(str(raw["id"]), str(raw["text"]), name, op, value, cite, path, schema, presume)


def _parameter_of(raw: Mapping[str, Any], spec: FieldSpec, op: str, parameters: Parameters, path: str) -> Parameter:
    """`value: {param: vat.small_scale_exemption_limit}`: a known parameter in the field's unit, compared
    by an op it can take (a parameter with a boundary sets an ordering op's strictness on its day)."""
    if set(raw) != {"param"}:
        raise LocatedError("参数值应写为 {param: 名称}", "a parameter value is written {param: name}", path)
    name = str(raw["param"])
    if name not in parameters:
        raise LocatedError(f"未知参数“{name}”（须在 knowledge/parameters/ 中）",
                           f"unknown parameter {name!r} (not in knowledge/parameters/)", f"{path}.param")
    parameter = parameters[name]
    if not spec.numeric or op not in (*ORDERING, "==", "!="):
        raise LocatedError(f"{spec.label}不能与参数比较（只有数值字段的比较运算可以）",
                           f"{spec.key} cannot be compared with a parameter (numeric comparisons only)", path)
    if parameter.has_boundary and op not in ORDERING:
        raise LocatedError(f"参数 {name} 有 boundary，只能用于 < <= > >=", f"parameter {name} has a boundary: use an ordering op",
                           path)
    if parameter.unit != spec.unit:
        raise LocatedError(f"参数 {name} 的单位“{parameter.unit}”与{spec.label}的单位“{spec.unit}”不同",
                           f"parameter {name} is in {parameter.unit!r}, {spec.key} in {spec.unit!r}", f"{path}.param")
    return parameter


def _checked_value(spec: FieldSpec, op: str, value: Any, path: str) -> Any:
    """The threshold in the field's own type: numbers for numeric facts, a listed choice for choices …"""
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise LocatedError(f"{op} 的 value 应为非空列表", f"{op} needs a non-empty list", path)
        return tuple(_checked_scalar(spec, v, f"{path}[{i}]") for i, v in enumerate(value))
    if op == "contains":
        if not isinstance(value, str) or not value:
            raise LocatedError("contains 的 value 应为文字", "contains needs a text value", path)
        return value
    return _checked_scalar(spec, value, path)


def _checked_scalar(spec: FieldSpec, value: Any, path: str) -> Any:
    label = spec.label
    if spec.numeric:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LocatedError(f"{label}是数值，value 应为数字（收到 {value!r}）",
                               f"{spec.key} is numeric: value must be a number, got {value!r}", path)
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            raise LocatedError(f"{label}的阈值 {value} 超出取值范围 {spec.minimum}～{spec.maximum}",
                               f"threshold {value} is outside {spec.key}'s range {spec.minimum}..{spec.maximum}", path)
        return value
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise LocatedError(f"{label}是是/否项，value 应为 true/false（收到 {value!r}）",
                               f"{spec.key} is yes/no: value must be true or false, got {value!r}", path)
        return value
    if spec.type == "date":
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                pass
        if not isinstance(value, date):
            raise LocatedError(f"{label}是日期，value 应为 YYYY-MM-DD（收到 {value!r}）",
                               f"{spec.key} is a date: value must be YYYY-MM-DD, got {value!r}", path)
        return value
    if not isinstance(value, str):
        raise LocatedError(f"{label}的 value 应为文字（收到 {value!r}）", f"{spec.key} needs a text value, got {value!r}", path)
    if spec.type == "choice" and value not in spec.choices:
        raise LocatedError(f"“{value}”不是{label}的可选值（可选：{'、'.join(spec.choices)}）",
                           f"{value!r} is not one of {spec.key}'s choices", path)
    return value
