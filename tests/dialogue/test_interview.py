"""The interview: which question comes next, and how few answers real enterprises need to see their results.

Personas (tests/data/chat_personas.yaml) answer only the question asked, in their own words, through the
real chat; the number of answers each needs to reach its expected eligible items is printed (pytest -s).
"""
from __future__ import annotations

import pytest
import yaml
from paths import DATA

from calculator.dialogue.interview import Question, next_question, question_for, raw_inputs
from calculator.facts.schema import default_schema
from calculator.policy.match import match_profile

FIELDS, SETS = default_schema().fields, default_schema().sets

PERSONAS = yaml.safe_load((DATA / "chat_personas.yaml").read_text(encoding="utf-8"))["personas"]


def _ask(profile: dict, declined: list[str] = ()) -> Question | None:
    return next_question(profile, match_profile(profile), declined)


def test_an_empty_profile_starts_with_a_fact_most_policies_turn_on():
    question = _ask({})
    assert question.field in ("industry", "entity_type", "employees", "revenue", "taxpayer_type")
    assert question.decides >= 3
    assert question.quick_replies[-1] == "不清楚"


def test_certifications_are_one_multiple_choice_question():
    question = question_for(default_schema(), "certifications")
    assert question.multiple and question.kind == "set"
    assert question.choices[:5] == [FIELDS[m].label for m in SETS["certifications"]]
    assert "都没有" in question.choices
    asked = set()
    profile: dict = {"industry": "软件和信息技术服务业", "entity_type": "企业", "taxpayer_type": "一般纳税人"}
    declined: list[str] = []
    for _ in range(40):
        q = _ask(profile, declined)
        if q is None:
            break
        asked.add(q.field)
        declined.append(q.field)
    assert "certifications" in asked and not asked & set(SETS["certifications"])


def test_a_declined_field_or_set_is_never_asked_again():
    declined: list[str] = []
    seen: list[str] = []
    for _ in range(200):   # more than the fields the catalog can ask about
        q = _ask({}, declined)
        if q is None:
            break
        assert q.field not in seen
        seen.append(q.field)
        declined.append(q.field)
    assert _ask({}, declined) is None          # everything declined: nothing left to ask
    assert len(seen) > 10


def test_known_fields_are_not_asked_and_derived_facts_are_asked_through_their_inputs():
    assert set(raw_inputs(default_schema(), "is_sme")) == {"industry", "employees", "revenue", "total_assets"}
    profile = {"industry": "制造业", "employees": 85, "revenue": 3000.0}
    declined: list[str] = []
    for _ in range(60):
        q = _ask(profile, declined)
        if q is None:
            break
        assert q.field not in profile and q.field in {*FIELDS, *SETS}
        declined.append(q.field)
    assert "total_assets" in declined       # 企业规模 and 小型微利 still need it


def _run_persona(persona: dict, opening: str | None = None):
    from calculator.dialogue.chat import new_session, respond

    state, reply = new_session()
    answers = 0
    if opening:
        state, reply = respond(state, opening)
        answers = 1
    for _ in range(40):
        statuses = {r["policy_id"]: r["status"] for r in reply.report["results"]}
        if all(statuses[p] == "eligible" for p in persona["eligible"]):
            return answers, reply
        question = reply.question
        if question is None:
            break
        state, reply = respond(state, persona["answers"].get(question.field, "不清楚"))
        answers += 1
    return None, reply


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_persona_reaches_its_results_in_a_handful_of_answers(name, index_env):
    persona = PERSONAS[name]
    answers, reply = _run_persona(persona)
    print(f"\n{name} ({persona['about']}): {answers} answers to {persona['eligible']}")
    assert answers is not None and answers <= persona["max_answers"]
    results = {r["policy_id"]: r for r in reply.report["results"]}
    for policy in persona["eligible"]:
        assert results[policy]["citations"], policy               # a cited list, not bare titles
        assert results[policy]["title"] in reply.text            # and the chat says so
    for policy in persona.get("not_eligible", []):
        assert results[policy]["status"] == "not_eligible"


def test_an_opening_description_reaches_small_low_profit_in_at_most_seven_answers(index_env):
    """The greeting invites one sentence about the enterprise; then the interview fills the gaps.

    Seven, not six, since the law of 2026-12-01: 主体类型 now decides every 企业所得税 item (个人独资企业、合伙企业
    不适用 企业所得税法, 第一条第二款) and the 个体工商户 items, so it is asked early (opening, 资质, 主体类型,
    纳税人类型, 研发费用, 资产总额, 应纳税所得额)."""
    persona = {"eligible": ["small_low_profit_cit"], "answers": PERSONAS["jianan_manufacturer"]["answers"]}
    answers, reply = _run_persona(persona, opening="我们是建安区做机械加工的，85个人，去年营收三千万")
    print(f"\nopening + questions: {answers} answers to 小型微利企业所得税优惠")
    assert answers is not None and answers <= 7
    result = next(r for r in reply.report["results"] if r["policy_id"] == "small_low_profit_cit")
    assert result["status"] == "eligible" and result["amount"] == pytest.approx(40.0)
    assert any(c["doc_id"] == "cn_2023_12_small_micro_tax_fee_official" for c in result["citations"])
