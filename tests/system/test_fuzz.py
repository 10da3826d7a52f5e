"""A fuzz corpus of enterprise descriptions assembled from phrase pieces (issue 11 §5): nothing a user types
ends in an internal error, through every command that takes text (match --text, ask, export --text), the chat
(respond, update_profile), the HTTP API's match with a description, and their JSON.

The pieces are the kinds of phrasing the parser reads (vague amounts, parts, dates, certifications, entity
types, activities, hypotheticals, corrections, questions) mixed with noise, in any order and with any joiner,
so the generated texts are both realistic and odd: a word cut by the next piece, two corrections, a
question inside a supposition. Only the contract is checked: exit code 0 or 2, no "内部错误", valid JSON.
"""
from __future__ import annotations

import contextlib
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calculator.__main__ import main
from calculator.dialogue.chat import ChatState, respond, update_profile
from calculator.facts.schema import default_schema

TODAY = date(2026, 12, 1)
PIECES = [
    # who and where
    "我们是建安区的", "长葛做汽车配件的公司", "禹州神垕", "许昌县那边", "高新区", "注册在郑州", "工厂在禹州", "母公司在上海",
    "个体户", "个人独资企业", "合伙企业", "有限公司", "农民专业合作社", "民办非企业", "营业执照上写的是个体工商户", "不是个体户",
    # what they do
    "做钢结构加工", "钢结构安装", "假发出口工厂", "蔬菜种植合作社", "设计工作室", "APP开发", "母婴用品店", "卖电动车",
    "开面馆的", "小超市哪有研发", "给超市存冷冻品", "保安保洁是外包的", "卷烟厂", "做检测的",
    # amounts, vague and exact
    "去年利润三百来万", "营收一百多万", "每月四五万", "十万出头", "员工十几个人", "八十来号人", "两千来号人", "营收十几个亿",
    "资产百把万", "每个月都在10.1万到10.5万之间", "员工三百二十人", "利润３００．５万", "资产0.5亿", "月入8k", "柒万伍仟元",
    "亏了二三十万", "还没盈利", "不到300人", "5000万以内", "300人以上", "一个半亿", "三百零一万", "撑死了二十万",
    # parts and people
    "正式职工二百八十个", "另外四十个劳务派遣工", "其中劳务派遣30人", "四个季度分别是295、300、305、298人", "一季度310",
    "三季度295", "就我和我老婆", "再雇了两个人", "两口子开的", "没雇人", "连我八个人", "东城这个店六个人", "还有个分店五个人",
    # sales periods
    "小规模", "一般纳税人", "一个季度二十九万", "按季报的", "一天营业额两三千", "没开票的两三万",
    # dates
    "2015年成立", "成立8年了", "今年3月刚注册", "去年12月注册的", "19年开的店", "二〇〇八年办的厂", "2025年度",
    # certifications
    "我们是高企", "想申请高企", "还没申请过高企", "2021年评上的高企", "2024年到期以后一直没重新申报", "重新认定", "首次认定",
    "高企资格还在有效期", "被取消资格了", "专精特新", "不是科小",
    # what is no fact
    "如果每月控制在10万以内", "要是明年招到三百五十人", "是不是就不用交增值税了", "能不能享受", "算不算小型微利企业",
    "想贷个二三十万进货", "注册资本五百万", "电话13812345678", "第二十八条", "5G", "不对", "说错了", "应该是", "不清楚",
    "有", "没有", "对", "嗯",
    # noise
    "", "？？", "😀", "<script>", "'; DROP TABLE x; --", "\x00", "一" * 30, "9" * 25, "万亿千百十", "以下以上左右来多出头",
]
JOINERS = st.sampled_from(["，", "。", "、", "", " ", "？", "；", "\n", ",", "！"])


@st.composite
def descriptions(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=10))
    out = ""
    for piece in pieces:
        out += piece + draw(JOINERS)
    if draw(st.booleans()):
        out = draw(st.text(max_size=8)) + out + draw(st.text(max_size=8))
    return out


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:       # argparse's own exit on a bad argument
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def _contract(code: int, out: str, err: str, as_json: bool) -> Any:
    assert code in (0, 2), (code, err)
    assert "内部错误" not in err and "Traceback" not in err and "internal error" not in err
    if as_json and code == 0:
        return json.loads(out)
    return None


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])


@pytest.fixture
def fuzz_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALCULATOR_TODAY", TODAY.isoformat())
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@FUZZ
@given(text=descriptions())
def test_match_text_never_ends_in_an_internal_error(fuzz_env: Path, text: str) -> None:
    data = _contract(*_cli("match", "--text", text, "--json"), as_json=True)
    if data is not None:
        assert isinstance(data["understood"], list) and isinstance(data["results"], list)
        json.dumps(data, ensure_ascii=False)
    _contract(*_cli("match", "--text", text), as_json=False)


@pytest.fixture(scope="module")
def api_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The API in process (its routes, guard and error answers), with a rate no fuzz run reaches."""
    from fastapi.testclient import TestClient

    from calculator.api.routes import create_api

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("API_RATE_PER_MINUTE", "1000000")
        patch.setenv("CALCULATOR_TODAY", TODAY.isoformat())
        patch.setenv("DATA_DIR", str(tmp_path_factory.mktemp("api")))
        yield TestClient(create_api(), raise_server_exceptions=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(text=descriptions())
def test_the_api_matches_any_description(api_client: Any, text: str) -> None:
    """POST /api/v1/match with text: the CLI's contract with what was understood, or one bilingual 4xx line."""
    from calculator.api import models

    response = api_client.post("/api/v1/match", json={"text": text, "today": TODAY.isoformat()})
    assert response.status_code in (200, 422), response.text
    data = response.json()
    if response.status_code == 422:
        assert set(data["error"]) == {"zh", "en"}
        return
    models.MatchResponse.model_validate(data)
    assert isinstance(data["understood"], list) and isinstance(data["not_understood"], list)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(text=descriptions(), fmt=st.sampled_from(["csv", "xlsx", "docx"]))
def test_export_text_never_ends_in_an_internal_error(fuzz_env: Path, text: str, fmt: str) -> None:
    _contract(*_cli("export", "--text", text, "--format", fmt, "--out", str(fuzz_env / "out")), as_json=False)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(text=descriptions())
def test_export_pdf_of_any_text(fuzz_env: Path, text: str) -> None:
    _contract(*_cli("export", "--text", text, "--format", "pdf", "--out", str(fuzz_env / "out")), as_json=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(text=descriptions())
def test_ask_never_ends_in_an_internal_error(index_env: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("CALCULATOR_TODAY", TODAY.isoformat())
    data = _contract(*_cli("ask", text, "--json"), as_json=True)
    if data is not None:
        assert set(data) >= {"answer", "found", "citations"}


@FUZZ
@given(turns=st.lists(descriptions(), min_size=1, max_size=5), pending=st.none() | st.sampled_from(
    [*default_schema().fields, *default_schema().sets]))
def test_the_chat_reads_any_turns(fuzz_env: Path, turns: list[str], pending: str | None) -> None:
    state = ChatState(pending=pending)
    for turn in turns:
        state, reply = respond(state, turn, TODAY)
        json.dumps(reply.to_dict(), ensure_ascii=False)
        assert ChatState.from_dict(json.loads(json.dumps(state.to_dict()))).profile == state.profile


_VALUES = st.none() | st.booleans() | st.integers(-10**6, 10**9) | st.floats(allow_nan=True) | st.text(max_size=20) | \
    st.sampled_from([{"min": 300, "max": 400, "max_open": True}, {"min": None, "max": 10}, {"min": 5, "max": 1}, [1, 2]])


@FUZZ
@given(updates=st.dictionaries(st.sampled_from([*default_schema().fields, *default_schema().sets, "nonsense", "从业人数"]),
                               _VALUES, max_size=6), first=descriptions())
def test_the_form_takes_any_updates(fuzz_env: Path, updates: dict[str, Any], first: str) -> None:
    state, _ = respond(ChatState(), first, TODAY)
    state, reply = update_profile(state, updates, TODAY)
    json.dumps(reply.to_dict(), ensure_ascii=False)
    state, reply = respond(state, first, TODAY)
    json.dumps(reply.to_dict(), ensure_ascii=False)
