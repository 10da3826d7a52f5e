"""The chat: interview the enterprise, match after every answer, answer free questions with citations.

Pure functions over a small JSON-serialisable ChatState (one per browser session, kept by the UI):
`new_session()`, `respond(state, message)`, `update_profile(state, updates)`. Nothing is shared
between sessions and the caller's state is never mutated, so two browsers cannot see each other.

Each message is routed deterministically. Clauses that ask something (question markers in
calculator/chat_words.yaml) go to calculator/answer.py; the others are profile answers read by the
shared parser with the pending question as context ("120", "不清楚", "不对，员工是120人"). A
question clause still describes the enterprise when it speaks of itself ("我们是小规模纳税人，能享受
什么？"), but "高新技术企业有什么优惠？" asks about 高企 and does not make the user one. Verdicts come
only from calculator/match.py; the optional LLM (calculator/llm.py) may rephrase answers and fill
fields the parser missed, never more.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from calculator.core.asked import instructs
from calculator.core.errors import ServiceUnavailable, UserError
from calculator.core.vocabulary import ELIGIBLE, NEED_INFO, NOT_ELIGIBLE, source_line
from calculator.core.wording import chat_words, message
from calculator.dialogue.answer import Answer, ask, refusal
from calculator.dialogue.interview import Question, next_question, topic_of
from calculator.dialogue.readings import (
    CONFIRM,
    answer_confirmation,
    composed_shown,
    confirmation,
    merge,
    readings_shown,
)
from calculator.facts.parse import ParseResult, parse_text
from calculator.facts.profile import validate_profile
from calculator.facts.schema import FactSchema
from calculator.policy.catalog import Catalog, load_catalog
from calculator.policy.match import MatchReport, match_profile
from calculator.search.relevance import normalise

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000       # the parser reads no more; longer messages are cut with a note
SHOWN_ELIGIBLE = 6             # results listed in the chat text (the panel shows all)
SHOWN_NEED_INFO = 3
_CLAUSE = re.compile(r"[^，,。！!？?；;\n]+[，,。！!？?；;\n]?")
_PUNCTUATION = re.compile(r"[\s，,。！!？?；;、~～…\.]+")


# ---------------------------------------------------------------- state and reply

@dataclass
class ChatState:
    """One session: the profile so far (field → JSON value), the question just asked, declined fields.

    `sources` keeps, per fact, the words it came from and how it was read (its key order is the order the
    facts were last stated: the parser's context); `confirmed` the uncertain readings already put to the
    user once; `confirming` the reading the last question asked to confirm (对/不对).
    """

    profile: dict[str, Any] = field(default_factory=dict)
    pending: str | None = None
    declined: list[str] = field(default_factory=list)
    turns: int = 0
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    confirmed: list[str] = field(default_factory=list)
    confirming: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"profile": dict(self.profile), "pending": self.pending, "declined": list(self.declined),
                "turns": self.turns, "sources": {k: dict(v) for k, v in self.sources.items()},
                "confirmed": list(self.confirmed), "confirming": self.confirming}

    @classmethod
    def from_dict(cls, data: Any, schema: FactSchema | None = None) -> "ChatState":
        """Rebuild from storage (a browser's copy); anything malformed is dropped rather than trusted."""
        schema = schema or load_catalog().schema
        data = data if isinstance(data, dict) else {}
        profile = data.get("profile") if isinstance(data.get("profile"), dict) else {}
        pending = data.get("pending")
        topics = set(schema.fields) | set(schema.sets)
        pending = pending if isinstance(pending, str) and pending in topics else None
        listed = data.get("declined") if isinstance(data.get("declined"), list) else []
        declined = [d for d in listed if isinstance(d, str) and d in topics]
        turns = data.get("turns") if isinstance(data.get("turns"), int) and not isinstance(data.get("turns"), bool) else 0
        kept = _valid_fields(profile, schema)[0]
        raw_sources = data.get("sources") if isinstance(data.get("sources"), dict) else {}
        sources = {k: {n: str(v[n]) for n in _SOURCE_KEYS if isinstance(v.get(n), str)}
                   for k, v in raw_sources.items() if k in kept and isinstance(v, dict)}
        listed_confirmed = data.get("confirmed") if isinstance(data.get("confirmed"), list) else []
        confirmed = [c for c in listed_confirmed if isinstance(c, str) and c in schema.fields]
        confirming = data.get("confirming") if data.get("confirming") in kept else None
        return cls(kept, pending, list(dict.fromkeys(declined)), max(0, turns), sources, list(dict.fromkeys(confirmed)),
                   confirming)


@dataclass
class Reply:
    """What the assistant says and shows after one turn (see docs/ARCHITECTURE.md § Chat API)."""

    text: str
    quick_replies: list[str] = field(default_factory=list)
    question: Question | None = None
    report: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None
    understood: list[str] = field(default_factory=list)
    not_understood: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    route: str = ""        # greeting | answer | question | both | smalltalk | refused | unclear | empty | form | resume
    readings: list[dict[str, Any]] = field(default_factory=list)   # each fact read: words, how (Understood.to_json)
    changes: list[str] = field(default_factory=list)                # "从业人数 从 2人 改为 4人"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["question"] = self.question.to_dict() if self.question else None
        return data


_SOURCE_KEYS = ("span", "how", "said", "weight")


def _as_state(state: ChatState | dict[str, Any] | None, schema: FactSchema) -> ChatState:
    """A private copy: the caller's object is never changed. A ChatState is ours (its profile was
    validated when it was built); a mapping comes from a browser and is checked field by field."""
    if isinstance(state, ChatState):
        return ChatState(dict(state.profile), state.pending, list(state.declined), state.turns,
                         {k: dict(v) for k, v in state.sources.items()}, list(state.confirmed), state.confirming)
    return ChatState.from_dict(state, schema)


def _valid_fields(data: dict[str, Any], schema: FactSchema) -> tuple[dict[str, Any], list[str]]:
    """The fields of `data` that validate (as JSON values) and one message per field that does not."""
    kept: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in data.items():
        if value is None or value == "":
            continue
        try:
            checked = validate_profile({key: value}, schema).model_dump(mode="json", exclude_none=True)
        except UserError as exc:
            errors.append(exc.zh.removeprefix("画像有误："))
            continue
        kept.update(checked)
    return kept, errors


# ---------------------------------------------------------------- reading a message

@dataclass(frozen=True)
class _Clause:
    text: str           # normalised
    marked: bool        # holds a question word (什么, 怎么, 吗 …)
    queried: bool       # ends in ？
    about_self: bool    # speaks of the enterprise itself (我们…)


def _clauses(text: str) -> list[_Clause]:
    words = chat_words()
    out = []
    for m in _CLAUSE.finditer(text):
        clause = m.group()
        norm = normalise(clause)
        out.append(_Clause(norm, any(normalise(w) in norm for w in words["question_markers"]),
                           clause.rstrip().endswith(("？", "?")),
                           any(normalise(w) in norm for w in words["self_reference"])))
    return out


def _questions_answered(parsed: ParseResult, clauses: list[_Clause]) -> ParseResult:
    """Fragments of question clauses leave "not understood": they are answered as questions. (What a
    question says of the enterprise the parser keeps; the certification it asks about it does not:
    "高新技术企业有什么优惠" does not make the user a 高企.)"""
    asking = [c.text for c in clauses if c.marked or c.queried]
    parsed.not_understood = [f for f in parsed.not_understood
                             if not any(normalise(f.rstrip("…")) in text for text in asking)]
    return parsed


def _asks(clauses: list[_Clause], parsed: ParseResult) -> bool:
    """Whether the message asks something: a question word, or a ？ after words the parser could not
    read as an answer ("120人？" is an unsure answer, "低压接电？" a question)."""
    spans = [normalise(u.span) for u in parsed.understood if u.span]
    return any(c.marked or (c.queried and not any(s and s in c.text for s in spans)) for c in clauses)


def _smalltalk(text: str) -> str | None:
    norm = _PUNCTUATION.sub("", text.lower())
    words = chat_words()
    if norm in {normalise(w) for w in words["greetings"]}:
        return message("greeted")
    if norm in {normalise(w) for w in words["thanks"]}:
        return message("thanked")
    return None


# ---------------------------------------------------------------- writing a reply

def _source(citation: dict[str, Any]) -> str:
    return source_line(citation["doc_title"], citation["doc_number"], citation["locator"], bool(citation.get("summary")))


def results_summary(report: dict[str, Any]) -> str:
    """The verdicts in a few lines: eligible with amounts and a clause, need_info with what is missing,
    not_eligible as a count with any near misses. The results panel shows every item in full."""
    results = report["results"]
    summary = report["summary"]
    lines = [f"**目前结果**：符合 {summary[ELIGIBLE]} 项，需补充信息 {summary[NEED_INFO]} 项，"
             f"不符合 {summary[NOT_ELIGIBLE]} 项。"]
    eligible = [r for r in results if r["status"] == ELIGIBLE]
    if eligible:
        lines.append("✅ 可以享受：")
        for r in eligible[:SHOWN_ELIGIBLE]:
            amount = f"：约 {r['amount']:g} {r['amount_unit']}" if r["amount"] is not None else ""
            basis = f"（依据：{_source(r['citations'][0])}）" if r["citations"] else ""
            lines.append(f"- **{r['title']}**{amount}{basis}")
        if len(eligible) > SHOWN_ELIGIBLE:
            lines.append(f"- 另有 {len(eligible) - SHOWN_ELIGIBLE} 项，见结果列表")
    need = [r for r in results if r["status"] == NEED_INFO]
    if need:
        lines.append("❓ 可能可以，还需补充：")
        lines += [f"- {r['title']}：还需 {'、'.join(r['missing_labels'])}" for r in need[:SHOWN_NEED_INFO]]
    near = [r for r in results if r["status"] == NOT_ELIGIBLE and r["near_miss"]]
    if near:
        lines.append("❌ 差一点符合：" + "；".join(f"{r['title']}（{r['near_miss']}）" for r in near[:3]))
    return "\n".join(lines)


def _question_line(question: Question | None, lead: str = "**下一个问题**：") -> str:
    if question is None:
        return message("all_asked")
    multiple = "（可多选）" if question.multiple and "多选" not in question.text else ""
    return f"{lead}{question.text}{multiple}"


def _understood_lines(parsed: ParseResult, declined_now: bool, extra: list[str], changes: list[str],
                      composed: list[str]) -> list[str]:
    lines = []
    shown = readings_shown(parsed) + extra
    if shown:
        lead = "已更正" if parsed.correction else "好的，记下了"
        lines.append(f"{lead}：{'；'.join(shown)}。")
    if changes:
        lines.append("已修改：" + "；".join(changes) + "。")
    lines += [f"按定义合计：{c}" for c in composed]
    if declined_now:
        lines.append(message("declined"))
    if parsed.not_understood:
        lines.append("没看懂：" + "、".join(f"“{f}”" for f in parsed.not_understood) + "（可以换个说法）")
    lines += [f"⚠ {e}（这一项没有保存）" for e in parsed.errors]
    return lines


# ---------------------------------------------------------------- turns

@dataclass
class _Turn:
    """What one turn computed, before it is worded."""

    state: ChatState
    report: MatchReport
    question: Question | None


def _advance(state: ChatState, catalog: Catalog, today: date | None) -> _Turn:
    """Judge and ask: the merged profile is validated once (by match_profile) and both steps use it. An
    uncertain reading that decides a verdict is asked first, once (readings.confirmation)."""
    report = match_profile(state.profile, catalog, today)
    question = confirmation(state, report, catalog)
    if question is not None:
        state.confirmed.append(question.field)
    else:
        question = next_question(report.profile, report, state.declined)
    state.confirming = question.field if question is not None and question.kind == CONFIRM else None
    state.pending = question.field if question is not None and question.kind != CONFIRM else None
    return _Turn(state, report, question)


def _reply(turn: _Turn, text: str, route: str, **parts: Any) -> Reply:
    question = turn.question
    return Reply(text=text.strip(), quick_replies=list(question.quick_replies) if question else [],
                 question=question, report=turn.report.to_json(), route=route, **parts)


def new_session(today: date | None = None) -> tuple[ChatState, Reply]:
    """A fresh session: greeting, what the tool does, and the first question."""
    turn = _advance(ChatState(), load_catalog(), today)
    text = f"{message('greeting')}\n\n{_question_line(turn.question, '**第一个问题**：')}"
    log.info("chat: new session")
    return turn.state, _reply(turn, text, "greeting")


def resume(state: ChatState | dict[str, Any] | None, today: date | None = None) -> tuple[ChatState, Reply]:
    """A stored session continued (the page was reloaded): its profile judged again today and the next
    question, with nothing new said (the stored history already holds the conversation)."""
    catalog = load_catalog()
    turn = _advance(_as_state(state, catalog.schema), catalog, today)
    return turn.state, _reply(turn, _question_line(turn.question), "resume")


def _ask_safely(text: str, profile: dict[str, Any], today: date | None, report: MatchReport) -> Answer:
    """An answer, or the reason there is none (no index yet, search service down) as the answer's text."""
    try:
        return ask(text, profile=profile, today=today, report=report)
    except ServiceUnavailable as exc:  # users get words they can act on; the operator's log gets the detail
        log.warning("ask: search service unavailable: %s", exc.en)
        return Answer(message("search_unavailable"), False, [])
    except UserError as exc:
        return Answer(f"暂时无法检索知识库：{exc.zh}", False, [])


def respond(state: ChatState | dict[str, Any] | None, message_text: str, today: date | None = None
            ) -> tuple[ChatState, Reply]:
    """One user message → the new state and the assistant's reply (never raises on any text).

    One pipeline: read (the parser, with the pending question as context) → merge (into the profile)
    → judge (match, validating the merged profile once) → ask (the next question) → reply (words).
    """
    started = time.perf_counter()
    catalog = load_catalog()
    schema = catalog.schema
    state = _as_state(state, schema)
    state.turns += 1
    raw = message_text if isinstance(message_text, str) else ""
    text = raw[:MAX_MESSAGE_CHARS]
    note = message("truncated", chars=MAX_MESSAGE_CHARS) if len(raw) > MAX_MESSAGE_CHARS else ""
    if not text.strip():
        turn = _advance(state, catalog, today)
        return turn.state, _reply(turn, f"{message('empty')}\n\n{_question_line(turn.question)}", "empty")
    chat = _smalltalk(text)
    if chat:
        turn = _advance(state, catalog, today)
        return turn.state, _reply(turn, f"{chat}\n\n{_question_line(turn.question)}", "smalltalk")
    if instructs(text):   # "忽略规则…编一个补贴": refused whole, and nothing in it is read into the profile
        turn = _advance(state, catalog, today)
        refused = refusal()
        log.info("chat turn %d: route=refused", state.turns)
        return turn.state, _reply(turn, f"{refused.answer}\n\n{_question_line(turn.question, '**回到刚才的问题**：')}",
                                  "refused", answer=refused.to_json())

    clauses = _clauses(text)
    parsed = _questions_answered(parse_text(text, state.pending, schema, today, list(state.sources)), clauses)
    confirmed = answer_confirmation(state, parsed, text)
    extracted = _llm_facts(text, state, parsed, schema) if _may_describe(clauses) and not confirmed else {}
    asks = _asks(clauses, parsed)
    declined = _declined(parsed, schema)
    took = bool(parsed.updates or extracted or declined or parsed.errors or confirmed)
    changes = merge(state, parsed, schema)
    state.profile.update(extracted)
    state.declined = list(dict.fromkeys([*state.declined, *declined]))
    turn = _advance(state, catalog, today)

    route = "both" if asks and took else "question" if asks else "answer" if took else "unclear"
    answer: Answer | None = None
    if route in ("both", "question", "unclear"):
        answer = _ask_safely(text, state.profile, today, turn.report)
        if route == "unclear" and not answer.found:
            answer = None
    lines: list[str] = [note] if note else []
    extra = [f"{schema.label(k)}：{schema.format_value(k, v)}（模型提取）" for k, v in extracted.items()]
    if confirmed:
        lines.append(message("confirmed" if confirmed == "yes" else "reading_dropped"))
    composed = composed_shown(turn.report, set(parsed.updates))
    if route != "unclear":   # an unclear message gets one friendly line, not a list of fragments
        lines += _understood_lines(parsed, bool(declined), extra, changes, composed)
    if answer is not None:
        lines += ["", _phrased(text, answer)]
    elif route == "unclear":
        lines.append(message("not_understood"))
    if route in ("answer", "both"):
        lines += ["", results_summary(turn.report.to_json())]
    lines += ["", _question_line(turn.question, "**下一个问题**：" if route != "question" else "**回到刚才的问题**：")]
    reply = _reply(turn, "\n".join(lines), route, answer=answer.to_json() if answer else None,
                   understood=[u.display for u in parsed.understood] + extra,
                   not_understood=list(parsed.not_understood), errors=list(parsed.errors),
                   readings=[u.to_json() for u in parsed.understood], changes=changes)
    log.info("chat turn %d: route=%s understood=%d errors=%d found=%s %.0f ms", state.turns, route,
             len(reply.understood), len(reply.errors), answer.found if answer else None,
             (time.perf_counter() - started) * 1000)
    return turn.state, reply


def _declined(parsed: ParseResult, schema: FactSchema) -> list[str]:
    """Fields (and the set they belong to) the user said they do not know: never asked again this session."""
    topics = [topic_of(schema, f) for f in parsed.unknown]
    return list(dict.fromkeys([*parsed.unknown, *topics]))


def update_profile(state: ChatState | dict[str, Any] | None, updates: dict[str, Any], today: date | None = None
                   ) -> tuple[ChatState, Reply]:
    """Edits from the profile panel or the staff form: valid fields are applied, invalid ones reported
    and left as they were; a value of None or "" clears the field."""
    catalog = load_catalog()
    schema = catalog.schema
    state = _as_state(state, schema)
    updates = {schema.by_label.get(k, k): v for k, v in updates.items()} if isinstance(updates, dict) else {}
    cleared = [k for k, v in updates.items() if (v is None or v == "") and k in schema.fields]
    expanded: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in updates.items():
        if key in cleared:
            continue
        if key in schema.sets:
            try:
                expanded.update(validate_profile({key: value}, schema).model_dump(mode="json", exclude_none=True))
            except UserError as exc:
                errors.append(exc.zh.removeprefix("画像有误："))
            continue
        expanded[key] = value
    valid, invalid = _valid_fields(expanded, schema)
    errors += invalid
    state.profile = {k: v for k, v in {**state.profile, **valid}.items() if k not in cleared}
    for key in [*valid, *cleared]:
        state.sources.pop(key, None)
        if key in valid:
            state.sources[key] = {"span": "（表单）", "how": "stated", "said": ""}
    turn = _advance(state, catalog, today)
    values = turn.report.profile
    changed = [f"{schema.label(k)}：{schema.format_value(k, getattr(values, k))}" for k in valid]
    lines = []
    if changed or cleared:
        lines.append("已更新：" + "；".join(changed + [f"{schema.label(k)}：已清除" for k in cleared]) + "。")
    lines += [f"⚠ {e}（这一项没有保存）" for e in errors]
    lines += ["", results_summary(turn.report.to_json()), "", _question_line(turn.question)]
    log.info("chat form update: %d fields, %d errors", len(valid) + len(cleared), len(errors))
    return turn.state, _reply(turn, "\n".join(lines), "form", understood=changed, errors=errors)


# ---------------------------------------------------------------- the optional LLM

def _may_describe(clauses: list[_Clause]) -> bool:
    """Whether any part of the message could describe the enterprise (not only questions about policy)."""
    return any(not c.marked or c.about_self for c in clauses)


def _llm_facts(text: str, state: ChatState, parsed: ParseResult, schema: FactSchema) -> dict[str, Any]:
    """Facts an LLM read where the parser missed something (validated; only fields still unknown)."""
    from calculator.dialogue.llm import extract_facts, llm_enabled

    if not llm_enabled() or not (parsed.not_understood or not (parsed.updates or parsed.unknown or parsed.errors)):
        return {}
    known = set(state.profile) | set(parsed.updates)
    facts = extract_facts(text, [k for k, spec in schema.fields.items() if k not in known and not spec.sensitive],
                          schema)
    return {k: v for k, v in facts.items() if k not in known}


def _phrased(question: str, answer: Answer) -> str:
    from calculator.dialogue.llm import llm_enabled, rephrase

    if not llm_enabled() or not answer.found:
        return answer.answer
    return rephrase(question, answer)


def warm_up() -> None:
    """Everything the first turn would otherwise load (model, index, catalog, tagger): call at app start."""
    from calculator.dialogue.answer import warm_up as answer_warm_up
    from calculator.dialogue.llm import warm_up as llm_warm_up

    started = time.perf_counter()
    answer_warm_up()
    llm_warm_up()
    new_session()
    respond(ChatState(), "我们是长葛的小规模纳税人，员工6人，高企有什么优惠？")
    log.info("chat warm-up %.1f s", time.perf_counter() - started)
