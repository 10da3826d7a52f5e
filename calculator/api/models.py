"""The HTTP API's request and response models: the CLI's JSON contracts, described for the OpenAPI document.

Requests are validated by these models (unknown keys are errors). A profile is the model generated from
the knowledge folder's fact schema (`facts.profile.profile_model`), and is read by `validate_profile`, so
Chinese labels and a certification list work as in `match --profile` and a wrong value gets the same
message naming the field. Responses are the library's own JSON (what `match|ask|search --json` print),
sent as they are; the models below name their contract keys for integrators, allow the added keys, and
tests/api/test_api.py checks every response against them so the document cannot drift from the code.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from calculator.facts.profile import ProfileBase, profile_model, validate_profile
from calculator.facts.schema import FactSchema

MAX_TEXT_CHARS = 4000       # a description or a question; the parser and the answer read less
MAX_QUERY_CHARS = 2000      # what search reads (search/lexical.MAX_QUERY_CHARS)
MAX_K = 20


class _Open(BaseModel):
    """A response object: the contract keys are listed, the library may add more."""

    model_config = ConfigDict(extra="allow")


class ErrorText(BaseModel):
    zh: str = Field(description="中文说明")
    en: str = Field(description="English")


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: one line in Chinese and in English."""

    error: ErrorText


class Citation(_Open):
    doc_id: str
    doc_title: str
    doc_number: str = Field(description="文号, empty when the document has none")
    locator: str = Field(description="the clause: 第三条, 第二章 › 第十条")
    quote: str = Field(description="verbatim text of the document")
    summary: bool = Field(False, description="the document is the project's summary: 摘要，以原文为准")


class Condition(_Open):
    text: str
    outcome: Literal["met", "not_met", "unknown"]
    detail: str
    citation: Citation | None = None
    children: list[Condition] = []


class PolicyResult(_Open):
    policy_id: str
    title: str
    status: Literal["eligible", "need_info", "not_eligible"]
    benefit: str
    amount: float | None = Field(description="estimate in amount_unit; null when it cannot be estimated")
    mode: str = Field(description="免申即享 | 即申即享 | 需申报")
    valid_until: date | None
    missing: list[str] = Field(description="profile fields that would settle an unknown verdict")
    conditions: list[Condition]
    citations: list[Citation]


class Reading(_Open):
    """One fact read from a description (or composed from facts read by their legal definition)."""

    field: str = Field(description="profile key")
    label: str
    value: Any = Field(description="a number, text, date, true/false, or an interval {min, max, min_open, max_open}")
    display: str = Field(description="the reading in words, e.g. 从业人数：320人")
    span: str = Field(description="the words of the description it came from")
    how: str = Field(description="stated | interval | composed | inferred | weak | converted | answer | default | added | within")
    uncertain: bool = Field(description="an interval, a sum of parts or an inferred industry: worth a check")


class MatchResponse(_Open):
    """`python -m calculator match --json`; with text also `understood` (every fact read, with its words and
    how it was read) and `not_understood` (fragments that carried something the parser could not use)."""

    profile: dict[str, Any] = Field(description="the profile as validated (keys of /api/v1/openapi.json Profile)")
    today: date
    derived: dict[str, Any]
    summary: dict[str, int]
    totals: dict[str, Any]
    results: list[PolicyResult]
    understood: list[Reading] | None = Field(None, description="with text: the facts read and composed")
    not_understood: list[str] | None = Field(None, description="with text: the fragments not used")


class AskResponse(_Open):
    """`python -m calculator ask --json`."""

    answer: str = Field(description="Markdown; [n] marks point into citations")
    found: bool = Field(description="the answer cites something")
    citations: list[Citation]
    coverage: Literal["full", "partial", "none"] = Field(
        description="full: answered; partial: the programme is named but what was asked is not held; none: not found")
    policies: list[str] = Field(description="catalog items the answer speaks of")
    dense: str = Field(description='"used", or why dense search was skipped')


class SearchHit(_Open):
    """One element of `python -m calculator search --json`."""

    doc_id: str
    doc_title: str
    doc_number: str
    locator: str
    text: str
    score: float
    dense: str = Field(description='"used", or why dense search was skipped')


class Validity(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    valid_from: date | None = Field(alias="from")
    until: date | None
    status: Literal["current", "expired", "not_yet"]
    label: str


class PolicyEntry(_Open):
    policy_id: str
    title: str
    level: Literal["national", "henan", "xuchang"]
    issuer: str
    department: str
    mode: str
    benefit: str
    validity: Validity
    citations: list[Citation]
    caveats: list[str]


class PolicyList(BaseModel):
    today: date
    count: int
    policies: list[PolicyEntry]


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: no index yet (matching works, questions do not)")
    today: date
    catalog: dict[str, Any]
    index: dict[str, Any]
    versions: dict[str, str]


def _profile_field(schema: FactSchema) -> Any:
    """A validator that reads a profile as `match --profile` does (labels, certification lists, one message)."""
    def read(cls: type[BaseModel], value: Any) -> ProfileBase | None:
        return None if value is None else validate_profile(value, schema)
    return field_validator("profile", mode="before")(classmethod(read))


def _one_source(model: Any) -> Any:
    if model.text is None and model.profile is None:
        raise ValueError("需要 text（企业自述）或 profile（企业画像） / text or profile is required")
    if model.text is not None and model.profile is not None:
        raise ValueError("text 和 profile 只能给一个 / give text or profile, not both")
    if model.text is not None and not model.text.strip():
        raise ValueError("text 为空 / text is empty")
    return model


def _model(name: str, doc: str, validators: dict[str, Any], fields: dict[str, Any]) -> type[BaseModel]:
    model: type[BaseModel] = create_model(
        name, __config__=ConfigDict(extra="forbid"), __doc__=doc, __validators__=validators, **fields)
    return model


def request_models(schema: FactSchema) -> tuple[type[BaseModel], type[BaseModel]]:
    """(MatchRequest, AskRequest) for one fact schema: the profile is that schema's generated model."""
    profile: Any = profile_model(schema) | None
    today: Any = (date | None, Field(None, description="the day verdicts apply to, YYYY-MM-DD (default: the service's today)"))
    match = _model("MatchRequest", "One of text (a description in Chinese) or profile.",
                   {"_profile": _profile_field(schema), "_one": model_validator(mode="after")(_one_source)},
                   {"text": (str | None, Field(None, max_length=MAX_TEXT_CHARS,
                                               description="企业自述，如“我们是建安区的制造企业，员工85人”")),
                    "profile": (profile, Field(None, description="企业画像 (the keys of Profile, or their Chinese labels)")),
                    "today": today})
    ask = _model("AskRequest", "A free question; a profile adds the enterprise's status to the items it names.",
                 {"_profile": _profile_field(schema)},
                 {"question": (str, Field(min_length=1, max_length=MAX_TEXT_CHARS, description="问题，如“稳岗返还怎么申请？”")),
                  "profile": (profile, None), "today": today})
    return match, ask
