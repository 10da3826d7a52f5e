"""Which question to ask next: the unknown fact that decides the most open (need_info) policies.

Three-valued matching makes this cheap and honest: a need_info result names the facts still missing,
so counting them over the open results ranks the questions by how many verdicts an answer can settle
(each result shared among the facts it waits on, see `topic_scores`).
Derived facts (企业规模, 研发费用占比 …) are asked through their inputs; the five certification bools
are asked as one multiple choice; a fact the user declined (不清楚) is never asked again.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from calculator.core.vocabulary import NEED_INFO
from calculator.core.wording import chat_words

if TYPE_CHECKING:  # the interview reads the report and profile it is handed
    from calculator.facts.profile import ProfileBase
    from calculator.facts.schema import FactSchema, FieldSpec
    from calculator.policy.match import MatchReport

MAX_QUICK_REPLIES = 12


@dataclass(frozen=True)
class Question:
    """The next thing to ask: a profile field, or a set of fields asked together (certifications)."""

    field: str                 # profile key, or a set name such as "certifications"
    label: str
    text: str
    kind: str                  # choice | bool | int | number | date | str | set
    choices: list[str]         # every allowed answer for choice/bool/set questions, else empty
    quick_replies: list[str]   # buttons: a short list of answers, always ending with 不清楚
    unit: str = ""
    multiple: bool = False     # a set: several choices may be picked together
    decides: int = 0           # open policies this answer can settle

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def raw_inputs(schema: FactSchema, key: str) -> list[str]:
    """The answerable fields behind a fact: itself, or a derived fact's inputs (recursively)."""
    if key in schema.fields:
        return [key]
    if key in schema.derived:
        return [raw for source in schema.derived[key].inputs for raw in raw_inputs(schema, source)]
    return []


def topic_of(schema: FactSchema, key: str) -> str:
    """What is asked for a field: the field itself, or the set it belongs to."""
    spec = schema.fields.get(key)
    return spec.set if spec is not None and spec.set else key


def open_topics(report: MatchReport, known: set[str]) -> list[set[str]]:
    """For each need_info result, the question topics its verdict still waits on."""
    schema = report.catalog.schema
    waiting = []
    for result in report.results:
        if result.status == NEED_INFO:
            topics = {topic_of(schema, raw) for key in result.missing for raw in raw_inputs(schema, key)
                      if raw not in known}
            if topics:
                waiting.append(topics)
    return waiting


def topic_scores(waiting: list[set[str]], skip: set[str]) -> dict[str, tuple[float, int]]:
    """topic → (share of open verdicts it settles, number of open verdicts it is part of).

    A result waiting on k topics counts 1/k for each: the last missing answer settles a verdict, one of
    nine only starts to. So the interview finishes what is nearly decided (小型微利: 应纳税所得额) before
    it opens long checklists (高企认定's nine facts), and the user sees verdicts after a few answers.
    """
    scores: dict[str, tuple[float, int]] = {}
    for topics in waiting:
        open_ones = topics - skip
        for topic in open_ones:
            share, count = scores.get(topic, (0.0, 0))
            scores[topic] = (share + 1 / len(topics), count + 1)
    return scores


def _kind(schema: FactSchema, topic: str) -> str:
    return "set" if topic in schema.sets else schema.fields[topic].type


def _cheapness(schema: FactSchema, topic: str) -> int:
    order: list[str] = chat_words()["cheap_order"]
    kind = _kind(schema, topic)
    return order.index(kind) if kind in order else len(order)


def _field_order(schema: FactSchema, topic: str) -> int:
    keys = list(schema.fields)
    return keys.index(schema.sets[topic][0] if topic in schema.sets else topic)


def _quick(options: Iterable[str], override: list[str] | None) -> list[str]:
    shown = list(override or options)[:MAX_QUICK_REPLIES]
    return [*shown, chat_words()["unknown_reply"]]


def question_for(schema: FactSchema, topic: str, decides: int = 0, known: Iterable[str] = ()) -> Question:
    """The Question for a field key or a set name; a set offers only its members not `known` yet ("不是高企"
    said of one certificate leaves the others to ask)."""
    words = chat_words()
    if topic in schema.sets:
        spec = words["sets"][topic]
        said = set(known)
        members = schema.labels([m for m in schema.sets[topic] if m not in said])
        choices = [*members, spec["none"]]
        text = spec["question"] if len(members) == len(schema.sets[topic]) else spec["question_rest"]
        return Question(topic, spec["label"], text, "set", choices, _quick(choices, None),
                        multiple=True, decides=decides)
    field: FieldSpec = schema.fields[topic]
    choices = list(field.quick_replies) if field.type in ("choice", "bool") else []
    override = words["quick_replies"].get(topic)
    quick = _quick([c for c in choices if c != words["unknown_reply"]], override)
    return Question(topic, field.label, field.question or f"{field.label}是多少？", field.type,
                    list(field.choices) if field.type == "choice" else choices, quick, field.unit, decides=decides)


def not_asked(profile: ProfileBase | Mapping[str, Any]) -> set[str]:
    """Topics the known facts place outside this enterprise (chat_words.yaml not_asked_when: a known value in
    `when`, or a known value outside `unless`)."""
    data = _data(profile)
    out: set[str] = set()
    for rule in chat_words()["not_asked_when"]:
        if all(data.get(key) in values for key, values in (rule.get("when") or {}).items()) and all(
                data.get(key) is not None and data.get(key) not in values for key, values in (rule.get("unless") or {}).items()):
            out |= set(rule["topics"])
    return out


def _waiting(profile: ProfileBase | Mapping[str, Any]) -> set[str]:
    """Topics asked only once the fact they qualify is known to hold (chat_words.yaml asked_after): the
    contracts of disabled staff after a number of them above 0, the IP to pledge after a wish to borrow."""
    data = _data(profile)
    return {topic for topic, first in chat_words()["asked_after"].items() if not data.get(first)}


def _data(profile: ProfileBase | Mapping[str, Any]) -> dict[str, Any]:
    return profile.model_dump(exclude_none=True) if hasattr(profile, "model_dump") else dict(profile or {})


def _known(profile: ProfileBase | Mapping[str, Any]) -> set[str]:
    return {key for key, value in _data(profile).items() if value is not None}


def next_question(profile: ProfileBase | Mapping[str, Any], report: MatchReport, declined: Iterable[str] = ()) -> Question | None:
    """The unknown fact of `profile` (a mapping or Profile) that settles the most of `report`'s open
    policies; None when nothing is open.

    The facts nearly every enterprise knows and most policies turn on (`core_facts` in chat_words.yaml:
    行业, 人数, 营收, 纳税人类型, 应纳税所得额 …) come first while any open verdict waits on them; then by
    `topic_scores`; ties go to the cheaper question (a button before a number), then to the field order.
    A declined field (or set) is skipped, and so is the set a declined member belongs to, and so is what the
    known facts place outside this enterprise (a 个体工商户 is not asked about 高企: `not_asked`), and so is
    what only qualifies a fact not known to hold (`asked_after`: 残疾人职工's contracts before their number).
    """
    schema = report.catalog.schema
    skip = {topic_of(schema, d) for d in declined} | set(declined)
    skip |= {key for key, spec in schema.fields.items() if spec.sensitive}
    skip |= not_asked(profile)
    skip |= _waiting(profile)
    scores = topic_scores(open_topics(report, _known(profile)), skip)
    if not scores:
        return None
    core = chat_words()["core_facts"]
    topic = min(scores, key=lambda t: (t not in core, -round(scores[t][0], 6), -scores[t][1],
                                       _cheapness(schema, t), _field_order(schema, t)))
    return question_for(schema, topic, scores[topic][1], _known(profile))
