"""How well the product reads what enterprises write: fact and verdict accuracy over an evaluation set.

A set is a YAML list of descriptions (`text`, `facts`, `verdicts`, optional `not_facts`) or of chats
(`turns`, `facts_after`, `verdicts_after`, optional `never`), each with a `split` (tune | heldout) that is
scored separately (tests/data/understanding/README.md). One definition of "right", shared by the CLI
(`python -m calculator eval understanding FILE`) and the test that holds the held-out scores:

- **A fact** is right when the value read equals the expected one: an interval by its ends and their
  openness, a number to 0.006, a date when it falls in the period the set gives ("2015", "2026-03" or
  `{min, max}`). Facts composed by their legal definition (从业人数 = 职工 + 劳务派遣) count where the set
  lists them. Fact accuracy is right / (expected + read but not expected); a `not_facts` or `never`
  field that was set is one more error.
- **A verdict** is the engine's status on the profile read, compared with the set's. The set follows the
  law of 2026-12-01, which the catalog may not encode yet; so verdicts are also judged on the expected
  facts, and `verdicts` scores only those where the engine, given the expected facts, agrees with the
  set (its rules already match). `parser_verdicts` compares the profile read with the expected facts
  under the same rules (the reading alone), over every verdict.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from calculator.core.errors import UserError
from calculator.facts.interval import Interval, json_value
from calculator.facts.profile import derive, validate_profile
from calculator.facts.schema import FactSchema
from calculator.policy.catalog import Catalog, load_catalog
from calculator.policy.match import match_profile

SET_DAY = date(2026, 12, 1)     # the day the sets' verdicts are judged on
SPLITS = ("tune", "heldout")
TOLERANCE = 0.006


# ---------------------------------------------------------------- comparing one fact

def _interval(value: Any) -> Interval | None:
    if isinstance(value, Interval):
        return value
    if isinstance(value, dict) and {"min", "max"} & set(value):
        low, high = value.get("min"), value.get("max")
        if isinstance(low, str) or isinstance(high, str):
            return None
        return Interval(low, high, bool(value.get("min_open")) and low is not None,
                        bool(value.get("max_open")) and high is not None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Interval.point(value)
    return None


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= TOLERANCE)


def _date_period(want: Any) -> tuple[date, date] | None:
    """The days an expected date stands for: "2015" is the whole year, {min, max} its ends."""
    if isinstance(want, dict):
        low, high = _date_period(want.get("min")), _date_period(want.get("max"))
        return (low[0], high[1]) if low and high else None
    text = str(want)
    parts = [int(p) for p in text.split("-") if p.isdigit()]
    if not parts:
        return None
    if len(parts) == 1:
        return date(parts[0], 1, 1), date(parts[0], 12, 31)
    if len(parts) == 2:
        nxt = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return date(parts[0], parts[1], 1), date.fromordinal(nxt.toordinal() - 1)
    return date(*parts[:3]), date(*parts[:3])


def same_fact(schema: FactSchema, key: str, got: Any, want: Any) -> bool:
    """Whether a value read for `key` is the expected one (see the module docstring)."""
    spec = schema.fields.get(key)
    if spec is not None and spec.type == "date":
        period = _date_period(want)
        day = got if isinstance(got, date) else _parse_day(got)
        return period is not None and day is not None and period[0] <= day <= period[1]
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    want_iv, got_iv = _interval(want), _interval(got)
    if want_iv is not None and got_iv is not None:
        return (_close(want_iv.low, got_iv.low) and _close(want_iv.high, got_iv.high)
                and want_iv.low_open == got_iv.low_open and want_iv.high_open == got_iv.high_open)
    return bool(got == want)


def _parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


# ---------------------------------------------------------------- profiles from expected facts

def expected_profile(schema: FactSchema, facts: dict[str, Any]) -> dict[str, Any]:
    """The set's facts as a profile: a composed fact whose parts are all given is left to the engine
    to compose (its value may be a fraction: 299.5 人), a date period becomes its last day."""
    profile = dict(facts)
    for key, spec in schema.fields.items():
        if key in profile and any(all(part in profile for part in c.inputs) for c in spec.compose):
            del profile[key]
    for key, value in list(profile.items()):
        if key in schema.fields and schema.fields[key].type == "date":
            period = _date_period(value)
            profile[key] = period[1].isoformat() if period and isinstance(value, dict) else str(value)
    return profile


def read_facts(schema: FactSchema, profile: dict[str, Any], today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """(facts stated in the profile, facts composed from them by their legal definition)."""
    valid = validate_profile(profile, schema)
    stated = {k: getattr(valid, k) for k in schema.fields if getattr(valid, k) is not None}
    composed = {k: d.value for k, d in derive(valid, today).items() if k in schema.fields and d.value is not None}
    return stated, composed


# ---------------------------------------------------------------- scoring

@dataclass
class Score:
    """Counts for one split."""

    entries: int = 0
    facts_expected: int = 0
    facts_right: int = 0
    facts_extra: int = 0
    forbidden: int = 0              # not_facts / never fields that were set
    verdicts: int = 0               # verdicts whose rules agree with the set on the expected facts
    verdicts_right: int = 0
    parser_verdicts: int = 0        # every verdict: profile read vs expected facts, same rules
    parser_verdicts_right: int = 0
    set_verdicts_right: int = 0     # every verdict: profile read vs the set (until the law lands)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        wrong = self.facts_expected - self.facts_right
        return {
            "entries": self.entries,
            "facts": {"expected": self.facts_expected, "right": self.facts_right, "extra": self.facts_extra,
                      "forbidden": self.forbidden,
                      "accuracy": ratio(self.facts_right, self.facts_right + wrong + self.facts_extra + self.forbidden),
                      "recall": ratio(self.facts_right, self.facts_expected)},
            "verdicts": {"scored": self.verdicts, "right": self.verdicts_right,
                         "accuracy": ratio(self.verdicts_right, self.verdicts)},
            "parser_verdicts": {"scored": self.parser_verdicts, "right": self.parser_verdicts_right,
                                "accuracy": ratio(self.parser_verdicts_right, self.parser_verdicts)},
            "set_verdicts": {"scored": self.parser_verdicts, "right": self.set_verdicts_right,
                             "accuracy": ratio(self.set_verdicts_right, self.parser_verdicts)},
        }


@dataclass
class Outcome:
    """What one entry scored: the profile it ended with and its verdicts."""

    facts: dict[str, Any]
    statuses: dict[str, str]
    forbidden: list[str] = field(default_factory=list)


def _statuses(catalog: Catalog, profile: dict[str, Any], today: date) -> dict[str, str]:
    return {r.policy.item.id: r.status for r in match_profile(profile, catalog, today).results}


def score_entry(score: Score, entry: dict[str, Any], outcome: Outcome, catalog: Catalog, today: date) -> None:
    """Add one entry's facts and verdicts to `score`."""
    schema = catalog.schema
    want_facts: dict[str, Any] = entry.get("facts", entry.get("facts_after")) or {}
    want_verdicts: dict[str, str] = entry.get("verdicts", entry.get("verdicts_after")) or {}
    stated, composed = read_facts(schema, outcome.facts, today)
    wrong = {k: json_value(stated.get(k, composed.get(k))) for k, v in want_facts.items()
             if not same_fact(schema, k, stated.get(k, composed.get(k)), v)}
    extra = {k: json_value(v) for k, v in stated.items() if k not in want_facts}
    score.entries += 1
    score.facts_expected += len(want_facts)
    score.facts_right += len(want_facts) - len(wrong)
    score.facts_extra += len(extra)
    score.forbidden += len(outcome.forbidden)
    on_expected = _statuses(catalog, expected_profile(schema, want_facts), today)
    verdict_misses = {}
    for pid, want in want_verdicts.items():
        got = outcome.statuses.get(pid)
        score.parser_verdicts += 1
        score.parser_verdicts_right += got == on_expected.get(pid)
        score.set_verdicts_right += got == want
        if on_expected.get(pid) == want:
            score.verdicts += 1
            score.verdicts_right += got == want
            if got != want:
                verdict_misses[pid] = {"got": got, "want": want}
    if wrong or extra or outcome.forbidden or verdict_misses:
        score.misses.append({"id": entry.get("id"), "wrong": wrong, "extra": extra, "forbidden": outcome.forbidden,
                             "verdicts": verdict_misses})


# ---------------------------------------------------------------- running the product on a set

def read_set(path: Path) -> list[dict[str, Any]]:
    """The entries of an evaluation set (descriptions or chats), each with its split."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"无法读取评测集 {path}", f"cannot read the evaluation set {path}: {exc}") from None
    if not isinstance(data, list) or not data or not all(
            isinstance(e, dict) and ("text" in e or "turns" in e) and e.get("split") in SPLITS for e in data):
        raise UserError(f"评测集格式不对：{path}（每项需要 text 或 turns，以及 split: tune | heldout）",
                        f"{path} is not an evaluation set (entries need text or turns and split: tune | heldout)")
    return data


def run_description(entry: dict[str, Any], catalog: Catalog, today: date) -> Outcome:
    """`match --text` on one description."""
    from calculator.facts.parse import parse_text

    parsed = parse_text(str(entry["text"]), schema=catalog.schema, today=today)
    profile = {k: json_value(v) for k, v in parsed.updates.items()}
    forbidden = [k for k in entry.get("not_facts") or () if k in profile]
    return Outcome(profile, _statuses(catalog, profile, today), forbidden)


def run_chat(entry: dict[str, Any], catalog: Catalog, today: date) -> Outcome:
    """The chat over the entry's turns, checking after each one that no `never` value was stored."""
    from calculator.dialogue.chat import ChatState, respond

    schema = catalog.schema
    state = ChatState()
    forbidden: list[str] = []
    never: dict[str, Any] = entry.get("never") or {}
    report: dict[str, Any] = {}
    for turn in entry["turns"]:
        state, reply = respond(state, str(turn), today)
        report = reply.report or {}
        stated, composed = read_facts(schema, state.profile, today)
        for key, value in never.items():
            if key not in forbidden and same_fact(schema, key, stated.get(key, composed.get(key)), value):
                forbidden.append(key)
    statuses = {r["policy_id"]: r["status"] for r in report.get("results", [])}
    return Outcome(dict(state.profile), statuses, forbidden)


def evaluate_set(entries: Iterable[dict[str, Any]], splits: Iterable[str] = SPLITS, today: date = SET_DAY,
                 catalog: Catalog | None = None) -> dict[str, Score]:
    """Scores per split over the entries of those splits (chats when an entry has `turns`)."""
    catalog = catalog or load_catalog()
    wanted = tuple(splits)
    scores = {split: Score() for split in wanted}
    for entry in entries:
        if entry["split"] not in wanted:
            continue
        runner = run_chat if "turns" in entry else run_description
        score_entry(scores[entry["split"]], entry, runner(entry, catalog, today), catalog, today)
    return scores
