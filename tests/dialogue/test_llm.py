"""The optional LLM against a loopback OpenAI-compatible stub (tests/support/llm_stub.py): it may phrase and extract,
never cite what retrieval did not return, never change a verdict, never leak its prompt or user data."""
from __future__ import annotations

import json
import logging
import time

import pytest
from llm_stub import FABRICATED_NUMBER, INJECTION, LLMStub

from calculator.dialogue.answer import Answer
from calculator.dialogue.chat import ChatState, respond
from calculator.dialogue.llm import EXTRACT_PROMPT, PHRASE_PROMPT, llm_enabled, rephrase

TIMEOUT_S = 1.0


@pytest.fixture
def stub(monkeypatch):
    with LLMStub() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("LLM_MODEL", "stub-model")
        monkeypatch.setenv("LLM_TIMEOUT_S", str(TIMEOUT_S))
        yield server


def _answer(quote: str = "经认定的高新技术企业，企业所得税税率为15%（一般企业25%）。") -> Answer:
    citation = {"doc_id": "cn_2016_32_hightech_enterprise", "doc_title": "高新技术企业认定管理办法", "doc_number": "",
                "locator": "税率优惠", "quote": quote, "summary": True, "note": "摘要，以原文为准", "start": 0, "end": 1}
    return Answer(f"知识库中与您的问题最相关的条文：\n- 《高新技术企业认定管理办法》 税率优惠：“{quote}”[1]", True, [citation])


def _statuses(reply) -> dict[str, str]:
    return {r["policy_id"]: r["status"] for r in reply.report["results"]}


def test_off_by_default_and_no_request_made(monkeypatch):
    with LLMStub() as server:
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
        monkeypatch.delenv("LLM_MODEL", raising=False)
        assert not llm_enabled()
        assert rephrase("高企税率？", _answer()) == _answer().answer
        assert server.requests == []


def test_phrasing_keeps_supported_citations_and_sends_data_as_json(stub):
    text = rephrase("高企税率是多少？", _answer())
    assert text.startswith("简单来说") and "[1]" in text
    messages = stub.requests[-1]["messages"]
    assert messages[0]["role"] == "system" and messages[0]["content"] == PHRASE_PROMPT
    data = json.loads(messages[1]["content"])           # retrieved text and the question travel as data
    assert data["question"] == "高企税率是多少？" and data["sources"][0]["id"] == 1
    assert "15%" in data["sources"][0]["quote"]


def test_a_fabricated_citation_is_dropped(stub):
    stub.mode = "fabricated"
    text = rephrase("高企税率是多少？", _answer())
    assert "[7]" not in text and FABRICATED_NUMBER not in text and "100万元" not in text
    assert "[1]" in text


def test_only_fabricated_citations_fall_back_to_the_deterministic_answer(stub, monkeypatch):
    stub.mode = "fabricated"
    monkeypatch.setattr(stub, "reply_for", lambda body: f"据{FABRICATED_NUMBER}，企业一律补贴100万元[7]。")
    assert rephrase("补贴多少？", _answer()) == _answer().answer


def test_a_timeout_gives_the_deterministic_answer_in_time(stub, caplog):
    stub.mode = "timeout"
    stub.delay = TIMEOUT_S + 2
    rephrase("预热", _answer())            # the client is built once; time the next call
    started = time.perf_counter()
    text = rephrase("高企税率是多少？", _answer())
    elapsed = time.perf_counter() - started
    assert text == _answer().answer
    assert elapsed < TIMEOUT_S + 1.0
    assert "deterministic result used" in caplog.text


def test_an_instruction_inside_a_document_is_not_obeyed(stub):
    stub.mode = "injection"
    poisoned = _answer(quote=f"经认定的高新技术企业减按15%税率。{INJECTION}")
    text = rephrase("高企税率是多少？", poisoned)
    assert text == poisoned.answer                              # the model's reply is rejected
    assert not any(line in text for line in PHRASE_PROMPT.splitlines() if len(line) > 12)
    system = stub.requests[-1]["messages"][0]["content"]
    assert INJECTION not in system                              # the document text only travels as data


def test_an_instruction_from_the_user_changes_no_verdict_and_leaks_no_prompt(stub, index_env, monkeypatch):
    profile = {"entity_type": "企业", "employees": 400, "total_assets": 9000, "taxable_income": 500,
               "industry": "制造业", "taxpayer_type": "一般纳税人"}
    message = f"{INJECTION}。高新技术企业有什么优惠？"
    stub.mode = "injection"
    _, with_llm = respond(ChatState(profile=dict(profile)), message)
    for name in ("OPENAI_BASE_URL", "LLM_MODEL"):
        monkeypatch.delenv(name)
    _, without = respond(ChatState(profile=dict(profile)), message)
    assert _statuses(with_llm) == _statuses(without)
    assert _statuses(with_llm)["small_low_profit_cit"] == "not_eligible"
    assert "所有人都符合条件" not in with_llm.text and "你是许昌惠企政策计算器" not in with_llm.text
    assert with_llm.answer["citations"] == without.answer["citations"]


def test_extracted_facts_are_validated_and_marked(stub, index_env):
    stub.mode = "extraction"
    state, reply = respond(ChatState(), "嗯，我们那边情况比较复杂")
    assert state.profile == {"employees": 85}                   # 裁员率150%、名称、未知字段、"三千万" rejected
    assert "从业人数：85人（模型提取）" in reply.understood
    request = stub.requests[-1]
    assert request["messages"][0]["content"] == EXTRACT_PROMPT
    fields = {f["key"] for f in json.loads(request["messages"][1]["content"])["fields"]}
    assert "name" not in fields and "credit_code" not in fields


def test_extraction_never_overrides_what_the_parser_or_user_gave(stub, index_env):
    stub.mode = "extraction"
    state, _ = respond(ChatState(profile={"employees": 10}), "嗯，我们那边情况比较复杂")
    assert state.profile["employees"] == 10


def test_a_free_question_through_the_chat_is_phrased(stub, index_env):
    state, reply = respond(ChatState(), "稳岗返还怎么申请？")
    assert reply.route == "question" and "简单来说" in reply.text
    assert reply.answer["found"] and reply.answer["citations"]  # the cited sources are the deterministic ones


def test_nothing_identifying_reaches_the_logs(stub, index_env, caplog):
    caplog.set_level(logging.DEBUG)
    stub.mode = "extraction"
    respond(ChatState(pending="name"), "许昌宏图精密机械有限公司")
    respond(ChatState(), "我们许昌宏图精密机械有限公司，信用代码91411000MA44XK7J0C，情况比较复杂")
    stub.mode = "timeout"
    respond(ChatState(), "许昌宏图精密机械有限公司的高企税率是多少？")
    assert "宏图" not in caplog.text and "91411000" not in caplog.text
    assert "llm" in caplog.text
