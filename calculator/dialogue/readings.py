"""What the chat does with what it read: a known fact changes only on purpose, and an uncertain reading
that decides a verdict is put to the user once.

- **Merge.** A new value for a known fact replaces it only when it is a statement about that fact (or a
  correction), and the reply names the change ("从业人数 从 2人 改为 4人"); a word that only suggests a
  value (an industry inferred from 研发 or 检测) never replaces one stated. A part of a composed fact
  (劳务派遣, a quarter) recomposes it: a headcount said as 员工 becomes the 劳动关系职工 once 劳务派遣 is said.
- **Confirm.** An interval that straddles a threshold ("三百来万" against 300万) is asked for exactly, with
  the reason ("三百来万可能超过300万元的上限，请提供准确的年应纳税所得额"); a sum of parts or an inferred
  industry that decides a verdict is confirmed with 对/不对.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from calculator.core.errors import UserError
from calculator.core.vocabulary import NEED_INFO, UNKNOWN
from calculator.core.wording import chat_words
from calculator.dialogue.interview import Question, question_for
from calculator.facts import interval as iv
from calculator.facts.interval import Interval, as_interval, collapse, json_value
from calculator.facts.parse.lexicon import ACTIVITY_WEIGHT
from calculator.facts.parse.result import HOW_WORDS, UNCERTAIN, ParseResult, Understood
from calculator.facts.profile import validate_profile
from calculator.facts.schema import FactSchema
from calculator.policy.match import MatchReport, match_profile
from calculator.policy.rules.tree import Leaf

if TYPE_CHECKING:
    from calculator.dialogue.chat import ChatState
    from calculator.policy.catalog import Catalog

CONFIRM = "confirm"   # Question.kind of a 对/不对 confirmation


def shown(schema: FactSchema, key: str, value: Any) -> str:
    """A stored (JSON) value in words, with its unit."""
    try:
        return schema.format_value(key, getattr(validate_profile({key: value}, schema), key))
    except UserError:
        return str(value)


# ---------------------------------------------------------------- merging

def merge(state: ChatState, parsed: ParseResult, schema: FactSchema) -> list[str]:
    """Apply the facts read to the state (see the module docstring); returns the changes in words. An answer
    to the question just asked is the user's own statement of that fact ("机械加工" for 所属行业)."""
    changes: list[str] = []
    asked = state.pending
    for u in parsed.understood:
        key = u.field
        new = json_value(parsed.updates[key])
        old = state.profile.get(key)
        source = state.sources.get(key, {})
        if old is not None and u.how == "added":           # 还雇了五个设计师: on top of the two partners
            new = json_value(_sum(old, new, schema, key))
        if old is not None and old != new:
            if not _replaces(u, source, parsed.correction):
                continue                       # a word that only suggests a value never replaces a stated one
            changes.append(f"{u.label} 从 {shown(schema, key, old)} 改为 {shown(schema, key, new)}")
        state.profile[key] = new
        state.sources.pop(key, None)
        how = "stated" if key == asked and u.how in ("inferred", "weak") else u.how
        state.sources[key] = {"span": u.span, "how": how, "said": u.said, "weight": str(u.weight)}
        if key in state.confirmed and old != new:
            state.confirmed.remove(key)
    changes += _recompose(state, {u.field for u in parsed.understood if u.how != "within"}, schema)
    return changes


def _replaces(u: Understood, source: dict[str, str], correction: bool) -> bool:
    """Whether a new reading may replace the known value: a weak word never; an inferred one only a weaker
    inference (an activity over a verb and product), unless the message corrects."""
    if u.how == "weak":
        return False
    if u.how != "inferred" or correction:
        return True
    old_how = source.get("how")
    return old_how == "weak" or (old_how == "inferred" and u.weight >= int(source.get("weight") or 0))


def _sum(old: Any, new: Any, schema: FactSchema, key: str) -> Any:
    total = iv.add(as_interval(_value(schema, key, old)), as_interval(_value(schema, key, new)))
    return collapse(total)


def _value(schema: FactSchema, key: str, value: Any) -> Any:
    return getattr(validate_profile({key: value}, schema), key)


def _recompose(state: ChatState, said: set[str], schema: FactSchema) -> list[str]:
    """A part newly said recomposes its total: a total the parser composed goes; a headcount said as 员工
    becomes the first part (劳动关系职工) when the second (劳务派遣) is said and the first is not known. A part
    said to be within the total (其中十个是派遣的: how `within`) leaves the total as it was said."""
    changes: list[str] = []
    for total, spec in schema.fields.items():
        for composition in spec.compose:
            parts = composition.inputs
            if not said & set(parts) or total in said or total not in state.profile:
                continue
            source = state.sources.get(total, {})
            if source.get("how") == "composed":
                _drop(state, total)
            elif composition.kind == "sum" and parts[0] not in state.profile and said & set(parts[1:]) \
                    and not _names_total(source.get("span", ""), schema, total):
                state.profile[parts[0]] = state.profile[total]
                state.sources[parts[0]] = dict(source)
                _drop(state, total)
                changes.append(f"{spec.label} 改为按 {composition.text} 计算（{schema.label(parts[0])}"
                               f" {shown(schema, parts[0], state.profile[parts[0]])}）")
    return changes


def _names_total(span: str, schema: FactSchema, key: str) -> bool:
    """Whether the words said the legal total itself (从业人数), not a headcount of staff (员工)."""
    return schema.label(key) in span or any(w in span for w in chat_words()["total_words"])


def _drop(state: ChatState, key: str) -> None:
    state.profile.pop(key, None)
    state.sources.pop(key, None)


def readings_shown(parsed: ParseResult) -> list[str]:
    """Each fact read with the words it came from and how it was read: "从业人数：4人 ← “就我和我老婆…”（合计）"."""
    lines = []
    for u in parsed.understood:
        if u.span == "（未提及）":
            continue
        how = HOW_WORDS.get(u.how, "")
        derived = f"（{how}）" if how and u.how in UNCERTAIN and u.how != "interval" else ""
        words = f" ← “{u.span}”" if u.span and u.span not in u.display else ""
        lines.append(f"{u.display}{words}{derived}")
    return lines


def composed_shown(report: MatchReport, said: set[str]) -> list[str]:
    """Facts the engine composed from parts said this turn, with the clause: "从业人数 320人 = 职工280 + 劳务派遣40（…）"."""
    schema = report.catalog.schema
    lines = []
    for key, derived in report.derived.items():
        spec = schema.fields.get(key)
        if spec is not None and derived.value is not None and \
                any(c.kind in ("sum", "mean") and said & set(c.inputs) for c in spec.compose):
            cite = f"；依据：{derived.cite.locator}" if derived.cite else ""
            lines.append(f"{derived.explanation}{cite}")
    return lines


# ---------------------------------------------------------------- confirming

@dataclass(frozen=True)
class _Straddle:
    field: str
    op: str
    bound: Any


def confirmation(state: ChatState, report: MatchReport, catalog: Catalog) -> Question | None:
    """The one question that settles an uncertain reading deciding a verdict, or None (each asked once)."""
    schema = catalog.schema
    for straddle in _straddles(report):
        key = straddle.field
        if key in state.confirmed or key in state.declined or key not in state.profile:
            continue
        source = state.sources.get(key, {})
        said = source.get("said") or shown(schema, key, state.profile[key])
        direction, limit = ("超过", "上限") if straddle.op in ("<", "<=") else ("不到", "下限")
        text = chat_words()["messages"]["confirm_interval"].format(
            said=said, direction=direction, bound=schema.format_value(key, straddle.bound), limit=limit,
            label=schema.label(key))
        question = question_for(schema, key)
        return Question(key, question.label, text, question.kind, question.choices, question.quick_replies,
                        question.unit, decides=1)
    for key, source in state.sources.items():
        if not _doubtful(key, source) or key in state.confirmed or key not in state.profile:
            continue
        if _decides(state.profile, key, report, catalog):
            text = chat_words()["messages"]["confirm_reading"].format(
                label=schema.label(key), value=shown(schema, key, state.profile[key]),
                words=source.get("said") or source.get("span", ""))
            yes, no = chat_words()["confirm_replies"]
            return Question(key, schema.label(key), text, CONFIRM, [yes, no], [yes, no], decides=1)
    return None


def _doubtful(key: str, source: dict[str, str]) -> bool:
    """A sum of parts, or an industry inferred from a word that is no activity of activities.yaml (a weak word,
    an alias, a verb and a product): an activity phrase (钢结构加工 → 制造业) is marked inferred but not asked about,
    and a generic word for another choice (企业) is no reading to confirm."""
    how = source.get("how")
    return how == "composed" or (key == "industry" and how in ("weak", "inferred")
                                 and int(source.get("weight") or 0) < ACTIVITY_WEIGHT)


def _straddles(report: MatchReport) -> list[_Straddle]:
    """Interval facts an open verdict waits on: the leaf they straddle, from the traces."""
    out: list[_Straddle] = []
    for result in report.results:
        if result.status != NEED_INFO:
            continue
        for leaf in result.trace.leaves():
            node = leaf.node
            if leaf.outcome == UNKNOWN and isinstance(leaf.value, Interval) and isinstance(node, Leaf) and node.numeric:
                op, bound = node.threshold_on(leaf.threshold)
                if bound is not None and all(s.field != node.field for s in out):
                    out.append(_Straddle(node.field, op, bound))
    return out


def _decides(profile: dict[str, Any], key: str, report: MatchReport, catalog: Catalog) -> bool:
    """Whether the verdicts would differ without this fact (then the reading decides one)."""
    without = match_profile({k: v for k, v in profile.items() if k != key}, catalog, report.today)
    before = {r.policy.item.id: r.status for r in report.results}
    return any(before.get(r.policy.item.id) != r.status for r in without.results)


def answer_confirmation(state: ChatState, parsed: ParseResult, text: str) -> str | None:
    """A 对/不对 to the confirmation just asked: 对 keeps the reading (confirmed), 不对 drops it so that it is
    asked plainly; None when the message is no such answer."""
    key = state.confirming
    state.confirming = None
    if key is None or parsed.updates:
        return None
    words = chat_words()
    answer = "".join(ch for ch in text if ch.isalnum())
    if answer in words["confirm_yes"]:
        state.confirmed.append(key)
        source = state.sources.get(key)
        if source is not None:
            source["how"] = "stated"
        return "yes"
    if answer in words["confirm_no"]:
        _drop(state, key)
        state.confirmed.append(key)
        return "no"
    return None
