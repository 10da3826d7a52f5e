"""The staff form as data: which input each profile field gets, and form values ↔ profile mapping.

Generated from the fact schema (a new field in profile_fields.yaml appears in the form with no code).
Pure: no Gradio here, so the mapping is tested directly. Unknown is a first-class answer: an empty
number, an unset dropdown, "未知" on a yes/no and an empty certification box all mean "not asked".
Numbers are text boxes, not gr.Number: in Gradio 6.31 an empty gr.Number shows and submits 0, which
would turn "not asked" into a false fact (0 employees).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from calculator.core.errors import UserError
from calculator.facts.schema import FactSchema, FieldSpec, default_schema, format_number

YES, NO, UNKNOWN = "是", "否", "未知"
BOOL_CHOICES = [YES, NO, UNKNOWN]
NONE_OF_THE_ABOVE = "以上都没有"
SET_LABELS = {"certifications": "已取得的资质（可多选）"}


@dataclass(frozen=True)
class FormInput:
    """One input of the staff form: a single field, or a whole set (certifications) as one multi-choice."""

    key: str                       # field key, or the set's name
    kind: str                      # text | number | choice | bool | date | set
    label: str
    group: str
    choices: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # for a set: its bool fields
    unit: str = ""
    hint: str = ""

    @property
    def empty(self) -> Any:
        """The value that means "unknown" for this input (what "下一位" resets to)."""
        return {"bool": UNKNOWN, "set": [], "choice": None}.get(self.kind, "")


def _kind(spec: FieldSpec) -> str:
    return {"str": "text", "int": "number", "number": "number", "choice": "choice", "bool": "bool",
            "date": "date"}[spec.type]


def _hint(spec: FieldSpec) -> str:
    if spec.type == "date":
        return "如 2019-05-01，或只填年份 2019"
    if spec.type in {"int", "number"}:
        return "填数字，不知道可不填"
    return "可不填"


def _number_text(item: FormInput, text: str) -> str:
    """'1,500万元' → '1500': separators and the field's own unit are what people type; the rest is validated."""
    text = text.strip().replace(",", "").replace("，", "").replace(" ", "")
    if item.unit and text.endswith(item.unit):
        text = text[: -len(item.unit)]
    return text


def form_inputs(schema: FactSchema | None = None) -> list[FormInput]:
    """Every input in form order (the schema's groups, then the YAML's order); a set sits where its first
    member is."""
    schema = schema or default_schema()
    inputs: list[FormInput] = []
    placed: set[str] = set()
    for group in schema.groups:
        for key, spec in schema.fields.items():
            if spec.group != group or spec.component:   # parts that compose a fact are read from text, not typed
                continue
            if spec.set:
                if spec.set in placed:
                    continue
                placed.add(spec.set)
                members = tuple(schema.sets[spec.set])
                labels = tuple(schema.labels(members)) + (NONE_OF_THE_ABOVE,)
                inputs.append(FormInput(spec.set, "set", SET_LABELS.get(spec.set, spec.set), group, labels, members))
                continue
            label = f"{spec.label}（{spec.unit}）" if spec.unit else spec.label
            inputs.append(FormInput(key, _kind(spec), label, group, spec.choices, unit=spec.unit, hint=_hint(spec)))
    return inputs


def _set_values(item: FormInput, chosen: list[str] | None) -> dict[str, bool | None]:
    chosen = list(chosen or [])
    if not chosen:
        return {m: None for m in item.members}
    if NONE_OF_THE_ABOVE in chosen and len(chosen) > 1:
        raise UserError(f"{item.label}：“{NONE_OF_THE_ABOVE}”不能与其他选项同时勾选",
                        f"{item.key}: 'none of the above' cannot be combined with other choices")
    labels = dict(zip(item.members, item.choices))  # a set's choices are its members' labels, then 以上都没有
    return {m: labels[m] in chosen for m in item.members}


def values_to_profile(inputs: list[FormInput], values: list[Any]) -> dict[str, Any]:
    """Form values (in `inputs` order) → a profile mapping with only the known facts (for validate_profile)."""
    profile: dict[str, Any] = {}
    for item, value in zip(inputs, values, strict=True):
        if item.kind == "set":
            profile.update({k: v for k, v in _set_values(item, value).items() if v is not None})
        elif item.kind == "bool":
            if value in (YES, NO):
                profile[item.key] = value == YES
        elif isinstance(value, str):
            text = _number_text(item, value) if item.kind == "number" else value.strip()
            if text:
                profile[item.key] = text
        elif value is not None:
            profile[item.key] = value
    return profile


def profile_to_values(inputs: list[FormInput], profile: dict[str, Any]) -> list[Any]:
    """A profile mapping → form values (to fill the form from a saved or chatted profile)."""
    values: list[Any] = []
    for item in inputs:
        if item.kind == "set":
            known = [profile.get(m) for m in item.members]
            if all(v is None for v in known):
                values.append([])
            elif not any(known):
                values.append([NONE_OF_THE_ABOVE])
            else:
                values.append([label for label, v in zip(item.choices, known) if v])
        elif item.kind == "bool":
            value = profile.get(item.key)
            values.append(UNKNOWN if value is None else (YES if value else NO))
        elif item.kind == "date":
            value = profile.get(item.key)
            values.append(value.isoformat() if isinstance(value, date) else (value or ""))
        elif item.kind == "number":
            value = profile.get(item.key)
            values.append("" if value is None else format_number(value).replace(",", ""))
        elif item.kind == "text":
            values.append(profile.get(item.key) or "")
        else:
            values.append(profile.get(item.key))
    return values


# ---------------------------------------------------------------- the chat's editable profile table

PROFILE_HEADERS = ["项目", "内容"]


def profile_rows(profile: dict[str, Any], schema: FactSchema | None = None) -> list[list[str]]:
    """Known facts as [label, value in words] rows, in the form's order (what the chat understood)."""
    schema = schema or default_schema()
    return [[spec.label, schema.format_value(key, profile[key])] for key, spec in schema.fields.items()
            if profile.get(key) is not None]


def _cell_value(spec: FieldSpec, text: str) -> Any:
    """A table cell as typed → the field's value in profile units (validation happens in the library)."""
    key = spec.key
    text = text.strip()
    if text in ("", UNKNOWN, "不清楚", "不知道"):
        return None
    if spec.type in {"int", "number"}:
        return _number_text(FormInput(key, "number", spec.label, spec.group, unit=spec.unit), text)
    return text


def rows_to_updates(rows: list[list[Any]], profile: dict[str, Any],
                    schema: FactSchema | None = None) -> dict[str, Any]:
    """The facts a user changed in the table: {field: new value or None (now unknown)}.

    Rows are matched by label, so a reordered or partly edited table still maps correctly; rows with
    an unknown label (a row the user added) are ignored, and unchanged cells produce no update.
    """
    schema = schema or default_schema()
    by_label = schema.by_label
    updates: dict[str, Any] = {}
    for row in rows:
        if len(row) < 2 or str(row[0]).strip() not in by_label:
            continue
        key = by_label[str(row[0]).strip()]
        text = "" if row[1] is None else str(row[1])
        if text.strip() == schema.format_value(key, profile.get(key)):
            continue
        updates[key] = _cell_value(schema.fields[key], text)
    return updates
