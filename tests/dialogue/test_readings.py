"""What the chat does with what it read (issue 11 §4): facts change only on purpose, uncertain readings that
decide a verdict are confirmed once, hypotheticals are answered and never stored, parts recompose their total,
and the interview asks a 个体户 nothing that cannot change its verdicts."""
from __future__ import annotations

from datetime import date

from calculator.dialogue.chat import ChatState, Reply, respond
from calculator.dialogue.readings import CONFIRM

TODAY = date(2026, 12, 1)


def _chat(*turns: str, state: ChatState | None = None) -> tuple[ChatState, Reply, list[dict]]:
    state = state or ChatState()
    seen: list[dict] = []
    reply = None
    for turn in turns:
        state, reply = respond(state, turn, TODAY)
        seen.append(dict(state.profile))
    assert reply is not None
    return state, reply, seen


def _status(reply: Reply, policy_id: str) -> str:
    return next(r["status"] for r in reply.report["results"] if r["policy_id"] == policy_id)


def test_stray_words_never_replace_a_stated_fact(index_env):
    state, reply, seen = _chat("你好，我在魏都区开了个小超市，个体户", "小超市哪有研发，没有", "我们不搞检测，检测都是送到外面做")
    assert state.profile["industry"] == "零售业" and state.profile["rd_expense"] == 0
    assert all(p.get("industry") != "科学研究和技术服务业" for p in seen)


def test_a_hypothetical_is_answered_and_never_stored(index_env):
    state, reply, seen = _chat("小规模，一个月卖十万零一百块左右", "那我每个月控制在10万以内，是不是就不用交增值税了？")
    assert state.profile["monthly_sales"] == 10.01 and all(p.get("monthly_sales") != 10 for p in seen)
    assert reply.route in ("question", "both")
    state, reply, seen = _chat("公司在建安区，员工二百八", "要是明年再招五十个，是不是就不算小微了？", state=state)
    assert state.profile["employees"] == 280


def test_people_described_as_people_are_counted_and_the_change_is_named(index_env):
    state, reply, seen = _chat("个体户，在长葛开修车铺", "就我和我老婆，再雇了两个人")
    assert state.profile["employees"] == 4 and all(p.get("employees") != 2 for p in seen)
    reading = next(r for r in reply.readings if r["field"] == "employees")
    assert reading["how"] == "composed" and "我老婆" in reading["said"] and "再雇了两个人" in reading["span"]
    state, reply, _ = _chat("不对，一共五个人", state=state)
    assert state.profile["employees"] == 5
    assert "从业人数 从 4人 改为 5人" in reply.changes and "从 4人 改为 5人" in reply.text


def test_a_yes_with_detail_is_understood(index_env):
    state, reply, seen = _chat("襄城县做编织袋的小厂，有限公司，二十几个工人", "有，想贷个五十万买设备",
                               state=ChatState(pending="needs_financing"))
    assert state.profile["needs_financing"] is True
    assert all("total_assets" not in p and "revenue" not in p for p in seen)
    assert "没看懂" not in reply.text


def test_a_straddling_interval_is_asked_for_exactly_once_with_the_reason(index_env):
    state, reply, _ = _chat("建安区的有限公司，做钢结构加工，去年利润三百来万，员工一百二十多个，总资产不到三千万")
    assert _status(reply, "small_low_profit_cit") == "need_info"
    assert reply.question.field == "taxable_income" and state.pending == "taxable_income"
    assert "三百来万可能超过300万元的上限，请提供准确的年应纳税所得额" in reply.question.text
    state, reply, _ = _chat("280万", state=state)
    assert _status(reply, "small_low_profit_cit") == "eligible"
    assert any(c.startswith("年应纳税所得额 从 300万元以上、不到400万元 改为 280万元") for c in reply.changes)
    assert reply.question.field != "taxable_income" and state.sources["taxable_income"]["how"] == "answer"


def test_a_composed_sum_that_decides_a_verdict_is_confirmed_with_yes_or_no(index_env):
    state, reply, _ = _chat("正式职工二百八十个，另外四十个劳务派遣工，利润一百万，资产两千万，有限公司")
    assert _status(reply, "small_low_profit_cit") == "not_eligible"
    assert "从业人数 320人 = 劳动关系职工人数280人 + 劳务派遣用工人数40人" in reply.text
    state, reply, _ = _chat("员工就280", state=state)   # a new statement of the total: 280 is 从业人数 now
    assert state.profile["employees"] == 280


def test_an_inferred_industry_is_confirmed_when_it_decides_and_no_drops_it(index_env):
    state, reply, _ = _chat("我们公司搞贸易，研发费用五十万")
    assert state.profile["industry"] == "批发业" and _status(reply, "rd_super_deduction") == "not_eligible"
    assert reply.question.kind == CONFIRM and reply.question.field == "industry"
    assert reply.question.text == "我把所属行业理解为批发业（贸易），对吗？" and reply.quick_replies == ["对", "不对"]
    state, reply, _ = _chat("不对", state=state)
    assert "industry" not in state.profile and state.pending == "industry"
    assert _status(reply, "rd_super_deduction") == "need_info"
    state, reply, _ = _chat("我们公司搞贸易，研发费用五十万")
    state, reply, _ = _chat("对", state=state)
    assert state.profile["industry"] == "批发业" and "industry" in state.confirmed
    assert reply.question is None or reply.question.field != "industry"


def test_a_headcount_becomes_the_staff_once_dispatched_workers_are_said(index_env):
    state, reply, _ = _chat("长葛做汽车配件的公司，员工一百五十个", "还有二十个劳务派遣的")
    assert state.profile["employees_contract"] == 150 and state.profile["employees_dispatched"] == 20
    assert "employees" not in state.profile
    assert "从业人数 170人" in reply.text
    state, reply, _ = _chat("从业人数按季度算，一季度310，二季度300", "三季度295，四季度290")
    assert [state.profile[f"employees_q{i}"] for i in range(1, 5)] == [310, 300, 295, 290]
    assert "employees" not in state.profile and "298.75" in reply.text


def test_a_sole_trader_is_not_asked_what_cannot_change_its_verdicts(index_env):
    answers = {"taxpayer_type": "小规模", "monthly_sales": "一个月五万左右", "founded": "2019年"}
    state, reply, _ = _chat("我在禹州开面馆，个体户，小规模，一个月流水五万来块钱，就我和我老婆，再雇了两个人")
    asked = []
    for _ in range(30):
        if reply.question is None:
            break
        asked.append(reply.question.field)
        state, reply = respond(state, answers.get(reply.question.field, "不清楚"), TODAY)
    assert not {"certifications", "gov_procurement", "power_capacity_kva", "eia_needed", "rd_expense",
                "taxable_income", "total_assets"} & set(asked)
    assert len(asked) <= 10, asked
    assert _status(reply, "individual_business_iit_half") == "eligible"


def test_a_certificate_that_lapsed_is_not_held_and_the_question_does_not_make_one(index_env):
    state, reply, seen = _chat("我们是高新区的软件公司，八十多人", "高企是2021年评的，2024年到期以后没再申报", "想问下还能不能享受15%")
    assert state.profile["cert_hightech"] is False and state.profile["hightech_cert_year"] == 2021
    assert all(p.get("cert_hightech") is not True for p in seen)


def test_a_later_turn_refines_corrects_or_adds_a_site_without_losing_what_was_said(index_env):
    """其中 in a later turn keeps the total; 准确点说/具体是 refine the fact said last, whatever is pending; a
    上年度 figure said of 今年 is no new value; a place with 有个工厂 is a site, not the registration."""
    state, _, _ = _chat("高新区的软件公司，员工八十来人", "其中十个是派遣的")
    assert state.profile["employees"] == {"min": 80, "max": 90, "min_open": False, "max_open": True}
    assert state.profile["employees_dispatched"] == 10 and "employees_contract" not in state.profile
    state, reply, _ = _chat("襄城县开饭店的，个体户", "一个月流水十来万", "准确点说是九万八")
    assert state.profile["monthly_sales"] == 9.8 and state.profile.get("employees") != 98000
    assert "月销售额（增值税） 从 10万元以上、不到20万元 改为 9.8万元" in reply.changes
    state, _, _ = _chat("公司在襄城，去年利润八十万", "今年估计能挣一百万")
    assert state.profile["taxable_income"] == 80
    state, _, _ = _chat("许昌市外的，注册在郑州", "在禹州有个工厂")
    assert state.profile["county"] == "许昌市外"
