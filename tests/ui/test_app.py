"""The app's handlers without a browser: the staff form, export, chat turns, knowledge search,
subscriptions, officials' views, the admin login, and that no handler ever raises at the page."""
from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import gradio as gr
import pytest
from pypdf import PdfReader

from calculator.facts.schema import default_schema
from calculator.ui import forms, staff
from calculator.ui.common import GENERIC_ERROR, citation_context, friendly

FIELDS, SETS = default_schema().fields, default_schema().sets

SKIP = gr.skip()


def _skipped(value: object) -> bool:
    return isinstance(value, dict) and value.get("__type__") == "update" and len(value) == 1


# ---------------------------------------------------------------- the staff form as data

def test_form_has_every_field_once_and_certifications_as_one_choice() -> None:
    inputs = forms.form_inputs()
    keys = [i.key for i in inputs]
    in_sets = {m for members in SETS.values() for m in members}
    typed = [k for k, spec in FIELDS.items() if k not in in_sets and not spec.component]  # parts are read from text
    assert sorted(keys) == sorted(typed + list(SETS))
    certs = next(i for i in inputs if i.kind == "set")
    assert certs.choices[-1] == forms.NONE_OF_THE_ABOVE and "高新技术企业" in certs.choices
    assert next(i for i in inputs if i.key == "employees").label == "从业人数（人）"


def _values(**given: object) -> list[object]:
    return [given.get(item.key, item.empty) for item in forms.form_inputs()]


def test_unknown_stays_unknown() -> None:
    assert forms.values_to_profile(forms.form_inputs(), _values()) == {}


def test_values_map_to_profile_units_and_back() -> None:
    inputs = forms.form_inputs()
    profile = forms.values_to_profile(inputs, _values(
        employees="1,200人", revenue=" 3000 ", state_owned="否", industry="制造业", founded="2019",
        certifications=["高新技术企业"]))
    assert profile == {"employees": "1200", "revenue": "3000", "state_owned": False, "industry": "制造业",
                       "founded": "2019", "cert_hightech": True, "cert_tech_sme": False, "cert_innovative_sme": False,
                       "cert_specialized_sme": False, "cert_little_giant": False}
    back = dict(zip([i.key for i in inputs], forms.profile_to_values(inputs, {**profile, "employees": 1200})))
    assert back["employees"] == "1200" and back["state_owned"] == "否" and back["certifications"] == ["高新技术企业"]
    none = forms.values_to_profile(inputs, _values(certifications=[forms.NONE_OF_THE_ABOVE]))
    assert set(none) == set(SETS["certifications"]) and not any(none.values())


def test_none_of_the_above_with_a_certification_is_refused() -> None:
    with pytest.raises(Exception, match="以上都没有"):
        forms.values_to_profile(forms.form_inputs(), _values(certifications=["高新技术企业", forms.NONE_OF_THE_ABOVE]))


def test_profile_table_edits_become_updates() -> None:
    profile = {"employees": 50, "revenue": 2000.0, "cert_hightech": True}
    rows = forms.profile_rows(profile)
    assert rows == [["从业人数", "50人"], ["上年度营业收入", "2,000万元"], ["高新技术企业", "是"]]
    assert forms.rows_to_updates(rows, profile) == {}
    edited = [["从业人数", "400人"], ["上年度营业收入", "未知"], ["高新技术企业", "是"], ["我加的行", "x"]]
    assert forms.rows_to_updates(edited, profile) == {"employees": "400", "revenue": None}


# ---------------------------------------------------------------- staff tab handlers

SMALL_FACTORY = {"county": "魏都区", "entity_type": "企业", "industry": "制造业", "employees": "50", "revenue": "2000",
                 "total_assets": "1500", "taxable_income": "200", "restricted_industry": "否"}


def test_compute_shows_results_and_keeps_the_report() -> None:
    message, html, report, download = staff.compute(*_values(**SMALL_FACTORY))
    assert message == "" and "小型微利企业所得税优惠" in html and "可以享受" in html
    assert report["profile"]["employees"] == 50
    assert next(r for r in report["results"] if r["policy_id"] == "small_low_profit_cit")["status"] == "eligible"
    assert download["visible"] is False


def test_a_zero_estimate_says_why_on_screen_and_on_paper() -> None:
    """Issue 14: never “约0万元” under 可以享受; a loss year says there is no tax to reduce."""
    values = _values(**{**SMALL_FACTORY, "taxable_income": "-100"})
    _, html, report, _ = staff.compute(*values)
    update, *_ = staff.export("csv", *values)
    sheet = Path(update["value"]).read_text(encoding="utf-8-sig")
    for text in (html, sheet):
        assert not re.search(r"约\s?0\s?万元", text) and "当年没有应纳税额" in text


def test_invalid_input_is_a_chinese_message_and_nothing_is_lost() -> None:
    message, html, report, download = staff.compute(*_values(**{**SMALL_FACTORY, "employees": "五十多"}))
    assert "从业人数" in message and "整数" in message and "Traceback" not in message
    assert _skipped(html) and _skipped(report) and _skipped(download)  # previous results and report stay
    message, *_ = staff.compute(*_values(**{**SMALL_FACTORY, "employees": "-3"}))
    assert "从业人数应在" in message


def test_export_every_format_and_a_readable_pdf(tmp_path: Path) -> None:
    values = _values(**SMALL_FACTORY)
    for fmt in ("pdf", "docx", "xlsx", "csv"):
        update, message, html, report = staff.export(fmt, *values)
        path = Path(update["value"])
        assert message == "" and update["visible"] and path.suffix == f".{fmt}" and path.stat().st_size > 0
        assert "魏都" not in path.name  # nothing identifying in file names
    pdf = Path(staff.export("pdf", *values)[0]["value"])
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "小型微利企业" in text


def test_export_is_the_form_as_it_is_now_not_the_last_result() -> None:
    """The clerk computed 甲公司 (85人), typed 乙公司 (400人) and exported without 计算: the sheet is 乙's."""
    first = {**SMALL_FACTORY, "name": "甲公司", "employees": "85"}
    _, _, report, _ = staff.compute(*_values(**first))
    assert report["profile"]["name"] == "甲公司"
    update, message, html, fresh = staff.export("csv", *_values(**{**first, "name": "乙公司", "employees": "400"}))
    text = Path(update["value"]).read_text(encoding="utf-8-sig")
    assert message == "" and "乙公司" in text and "甲公司" not in text
    assert fresh["profile"] == {**fresh["profile"], "name": "乙公司", "employees": 400}
    small = next(r for r in fresh["results"] if r["policy_id"] == "small_low_profit_cit")
    assert small["status"] == "not_eligible" and "小型微利企业所得税优惠" in html  # 400 > 300: the panel agrees


def test_export_with_an_empty_or_invalid_form_says_so_and_gives_no_sheet() -> None:
    update, message, html, report = staff.export("pdf", *_values())
    assert update["visible"] is False and update["value"] is None and "请先填写" in message
    assert _skipped(html) and _skipped(report)
    update, message, *_ = staff.export("pdf", *_values(**{**SMALL_FACTORY, "employees": "五十多"}))
    assert update["value"] is None and "从业人数" in message


def test_next_applicant_clears_everything() -> None:
    values = staff.next_applicant()
    n = len(forms.form_inputs())
    assert values[:n] == [item.empty for item in forms.form_inputs()]
    message, results, report, download = values[n:]
    assert message == "" and "点击“计算”" in results and report is None and download["value"] is None


# ---------------------------------------------------------------- errors never reach the page

def test_friendly_logs_no_user_data(caplog: pytest.LogCaptureFixture) -> None:
    @friendly(lambda message, *args: message)
    def boom(text: str) -> str:
        raise ValueError(f"bad value {text}")

    with caplog.at_level(logging.ERROR):
        assert boom("许昌某某机械有限公司 91410000MA00000000") == GENERIC_ERROR
    assert "boom" in caplog.text and "ValueError" in caplog.text
    assert "许昌某某" not in caplog.text and "9141" not in caplog.text


def test_citation_context_marks_the_quote() -> None:
    from calculator.policy.catalog import load_catalog

    doc = load_catalog().docs["cn_law_enterprise_income_tax"]
    start = doc.text.index("企业所得税的税率为25％")
    html = citation_context(["cn_law_enterprise_income_tax", str(start), str(start + 12), ""])
    assert "<mark>企业所得税的税率为25％</mark>" in html and "中华人民共和国企业所得税法" in html
    by_quote = citation_context(["cn_law_enterprise_income_tax", "", "", "企业所得税的税率为25％"])
    assert "<mark>" in by_quote
    assert "不在知识库" in citation_context(["no_such_doc", "1", "2", ""])
    assert "<mark>" not in citation_context([])


# ---------------------------------------------------------------- knowledge tab

def test_document_list_has_provenance() -> None:
    from calculator.ui.knowledge import document_rows

    rows = document_rows()
    assert len(rows) >= 20 and any("摘要，以原文为准" in r[3] for r in rows)
    assert any(r[1] == "财政部 税务总局公告2023年第12号" for r in rows)


@pytest.mark.slow
def test_search_shows_cited_passages(index_env: Path) -> None:
    from calculator.ui.knowledge import search_passages

    html = search_passages("稳岗返还 申请条件")
    assert html.count('class="pc-cite"') == 5 and "稳岗" in html and "查看原文上下文" in html
    assert html.count('class="pc-validity') == 5            # every hit says whether its text is in force
    assert "已到期（2025-12-31）" in html                   # the 2024–2025 稳岗返还 texts, on 2026-11-23
    assert "请输入" in search_passages("   ")


def test_on_a_tied_score_a_text_in_force_ranks_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.search import retrieve
    from calculator.ui import knowledge

    def hit(doc: str) -> dict[str, object]:
        return {"doc_id": doc, "doc_title": doc, "text": "同一段", "score": 0.5, "start": 0, "end": 3}

    class Found(list):  # what retrieve.search returns: a list with to_json()
        def to_json(self) -> list[dict[str, object]]:
            return list(self)

    monkeypatch.setattr(knowledge, "index_ready", lambda: True)
    monkeypatch.setattr(retrieve, "search", lambda query, k: Found(
        [hit("cn_unemployment_insurance_job_stability"), hit("cn_2023_12_small_micro_tax_fee_official")]))
    html = knowledge.search_passages("任意")
    assert html.index("有效期至 2027-12-31") < html.index("已到期（2025-12-31）")


def test_search_without_index_says_to_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.ui.knowledge import search_passages

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert "make ingest" in search_passages("稳岗返还")


# ---------------------------------------------------------------- subscriptions

def test_subscribe_check_and_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.ui import subscribe

    monkeypatch.setenv("SUBSCRIPTIONS_DB", str(tmp_path / "subs.sqlite3"))
    token, note = subscribe.save(subscribe.FROM_CHAT, None, None)
    assert token == "" and "还没有可保存的企业信息" in note
    _, _, report, _ = staff.compute(*_values(**SMALL_FACTORY))
    token, note = subscribe.save(subscribe.FROM_STAFF, None, report)
    assert len(token) >= 16 and "订阅码" in note
    assert "没有新的" in subscribe.whats_new(token)  # what matches now is the baseline
    assert "已删除" in subscribe.remove(token)
    assert "不存在" in subscribe.whats_new(token)
    assert "请输入" in subscribe.whats_new("")


# ---------------------------------------------------------------- officials

def test_policy_calendar_view() -> None:
    from calculator.ui.officials import show_calendar

    message, summary, table, csv = show_calendar("90")
    assert message == "" and "即将到期" in summary and table["value"] and table["headers"][0] == "状态"
    assert Path(csv["value"]).read_bytes().startswith(b"\xef\xbb\xbf")
    rows = table["value"]
    hints = " ".join(r[-1] for r in rows)
    assert not re.search(r"[A-Za-z]{4,}|_[a-z]", hints)   # no English note, no internal id (issue 14)
    for bad in ("0", "99999", "-5", "abc", "1.5"):          # a Chinese line; the last good view stays
        message, *rest = show_calendar(bad)
        assert "1～3650" in message and all(_skipped(v) for v in rest)
    assert show_calendar("")[1].startswith("截至")          # empty: the default 90 days


def test_law_watch_view_lists_the_coming_changes_in_chinese() -> None:
    from calculator.ui.officials import WATCH_COLUMNS, show_law_watch

    _, summary, table, csv = show_law_watch("420")          # CALCULATOR_TODAY 2026-11-23: the 2027-12-31 ends are in it
    assert "到期" in summary and table["headers"] == WATCH_COLUMNS
    rows = table["value"]
    assert any(r[2] == "到期" and r[0] == "2027-12-31" and "小型微利企业所得税优惠" in r[3] for r in rows)
    assert any(r[2] == "无已核实数值" and r[0] == "2028-01-01" for r in rows)
    assert not any("cit." in r[5] or "_" in r[5] for r in rows)   # items by their titles, not their ids
    assert Path(csv["value"]).read_bytes().startswith(b"\xef\xbb\xbf")
    message, *rest = show_law_watch("-5")
    assert "1～3650" in message and all(_skipped(v) for v in rest)


@pytest.mark.slow
def test_coverage_view() -> None:
    from calculator.ui.officials import TABLE_ROWS, show_coverage

    summary, heatmap, table, csv = show_coverage("无确定符合的群体")
    assert "类企业群体" in summary and Path(heatmap["value"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = table["value"]
    assert 0 < len(rows) <= TABLE_ROWS and all(row[table["headers"].index("符合")] == 0 for row in rows)
    assert Path(csv["value"]).stat().st_size > 0


def test_coverage_filters_pick_exactly_their_segments() -> None:
    """Every row a filter yields (not just the first page shown) belongs to it, and none is missed."""
    from calculator.officials.coverage import coverage_report
    from calculator.ui.officials import GAP_FILTERS, _gap_rows

    report = coverage_report()
    for label, which in GAP_FILTERS.items():
        rows = _gap_rows(report, which)
        if which == "zero_eligible":
            assert len(rows) == len(report.zero_eligible()) and all(r["符合"] == 0 for r in rows), label
        elif which == "gaps":
            assert len(rows) == len(report.gaps()) and all(r["符合"] == r["可能符合"] == 0 for r in rows), label
        else:
            assert len(rows) == len(report.segments), label
        assert [r["符合"] for r in rows] == sorted(r["符合"] for r in rows), label


# ---------------------------------------------------------------- admin area

class _Request:
    def __init__(self, username: str | None) -> None:
        self.username = username


def test_admin_handlers_refuse_without_login(monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.ui import admin

    monkeypatch.setenv("ADMIN_USER", "admin")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-test-password")
    assert "请先登录" in admin.catalog_check(_Request(None))
    assert "请先登录" in admin.upload(["/etc/passwd"], _Request(None))
    assert "校验通过" in admin.catalog_check(_Request("admin"))
    monkeypatch.delenv("ADMIN_PASSWORD")
    assert "请先登录" in admin.catalog_check(_Request("admin"))  # disabled admin: nobody is logged in


def test_admin_upload_refuses_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.ui import admin

    monkeypatch.setenv("ADMIN_USER", "admin")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-test-password")
    monkeypatch.setenv("UPLOADS_DIR", str(tmp_path / "uploads"))
    exe = tmp_path / "notice.txt"
    exe.write_bytes(b"MZ\x90\x00 not a text")
    good = tmp_path / "关于支持小微企业的通知.md"
    good.write_text("# 关于支持小微企业的通知\n\n第一条 为支持小微企业发展，制定本通知。\n", encoding="utf-8")
    html = admin.upload([str(exe), str(good)], _Request("admin"))
    assert "✗ notice.txt" in html and "✓ 关于支持小微企业的通知.md" in html
    assert (tmp_path / "uploads" / "关于支持小微企业的通知.md").exists()


def test_admin_page_needs_login_and_is_disabled_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from calculator.ui.server import create_server

    monkeypatch.setenv("ADMIN_USER", "admin")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-test-password")
    client = TestClient(create_server())
    assert client.get("/config").status_code == 200  # the public page needs no login
    assert client.get("/admin/config").status_code == 401
    assert client.get("/admin/gradio_api/info").status_code == 401
    assert client.post("/admin/login", data={"username": "admin", "password": "guess"}).status_code == 400
    assert client.post("/admin/login", data={"username": "admin", "password": "a-long-test-password"}).status_code == 200
    assert client.get("/admin/config").status_code == 200

    monkeypatch.delenv("ADMIN_PASSWORD")
    config = TestClient(create_server()).get("/admin/config").json()
    texts = [c.get("props", {}).get("value") for c in config["components"]]
    assert any(isinstance(t, str) and "知识库管理未启用" in t for t in texts)


# ---------------------------------------------------------------- the page itself

def test_build_app_has_the_tabs_unlaunched() -> None:
    from calculator.ui.server import build_app

    demo = build_app()
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {"tab-chat", "tab-staff", "tab-subscribe", "tab-officials", "tab-knowledge", "chatbot", "staff-calc",
            "profile-list", "profile-field", "profile-value", "profile-save", "chat-results"} <= ids
    assert not demo.is_running
    # the browser's copy of the chat has a fixed key and secret (settings), so a server restart can read it
    stored = [c["props"] for c in config["components"] if c.get("type") == "browserstate"]
    assert [(s["storage_key"], s["secret"]) for s in stored] == [("xuchang_calculator_chat_v1", "xuchang-calculator")]


# ---------------------------------------------------------------- chat tab handlers

def _chat(outputs: list) -> dict:
    """Name the outputs of the chat handlers (see calculator.ui.assistant `_view`)."""
    from calculator.ui.assistant import QUICK_SLOTS

    names = ["history", "chatbot", "box", "state", "report", "results", "profile", "answer", "notice", "multi",
             "multi_send"]
    assert len(outputs) == len(names) + QUICK_SLOTS
    named = dict(zip(names, outputs))
    if isinstance(named["profile"], str):   # the profile list's HTML as [label, value] rows
        named["profile"] = [[html.unescape(a), html.unescape(b)]
                            for a, b in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", named["profile"])]
    named["quick"] = [q.get("value") for q in outputs[len(names):] if q.get("visible")]
    return named


def test_chat_start_send_correct_and_edit() -> None:
    from calculator.ui import assistant

    view = _chat(assistant.start())
    assert "第一个问题" in view["history"][0]["content"] and view["quick"] and view["profile"] == []
    view = _chat(assistant.send("我们是魏都区的制造业企业，员工50人，去年营收2000万，资产1500万，应纳税所得额200万",
                                view["history"], view["state"], view["report"]))
    assert view["box"] == "" and view["history"][-2]["role"] == "user"
    assert ["从业人数", "50人"] in view["profile"] and "小型微利企业所得税优惠" in view["results"]
    verdict = {r["policy_id"]: r["status"] for r in view["report"]["results"]}
    assert verdict["small_low_profit_cit"] == "eligible"
    # 资质 is a multiple choice: check boxes and 确定, with 都没有 / 不清楚 as buttons.
    assert view["multi"]["visible"] and "高新技术企业" in view["multi"]["choices"]
    assert "都没有" in view["quick"] and "高新技术企业" not in view["quick"]
    picked = _chat(assistant.send_choices(["高新技术企业", "科技型中小企业"], view["history"], view["state"],
                                          view["report"]))
    assert ["高新技术企业", "是"] in picked["profile"] and ["科技型中小企业", "是"] in picked["profile"]
    assert ["专精特新中小企业", "否"] in picked["profile"] and not picked["multi"]["visible"]

    corrected = _chat(assistant.send("不对，员工是400人", view["history"], view["state"], view["report"]))
    assert ["从业人数", "400人"] in corrected["profile"]
    assert {r["policy_id"]: r["status"] for r in corrected["report"]["results"]}["small_low_profit_cit"] == "not_eligible"

    # The edit action: pick the item, type the value; the results recompute.
    assert "从业人数" in assistant.editable_labels() and "企业规模" not in assistant.editable_labels()  # derived
    edited = _chat(assistant.edit_profile("从业人数", "50", corrected["history"], corrected["state"],
                                          corrected["report"]))
    assert ["从业人数", "50人"] in edited["profile"] and "已更新" in edited["history"][-1]["content"]
    assert {r["policy_id"]: r["status"] for r in edited["report"]["results"]}["small_low_profit_cit"] == "eligible"
    same = assistant.edit_profile("从业人数", "50人", edited["history"], edited["state"], edited["report"])
    assert "没有变化" in same[0][-1]["content"] and all(_skipped(v) for v in same[2:])
    cleared = _chat(assistant.edit_profile("从业人数", "未知", edited["history"], edited["state"], edited["report"]))
    assert "从业人数" not in dict(cleared["profile"]) and "已清除" in cleared["history"][-1]["content"]
    bad = _chat(assistant.edit_profile("从业人数", "很多", edited["history"], edited["state"], edited["report"]))
    assert "没有保存" in bad["history"][-1]["content"] and ["从业人数", "50人"] in bad["profile"]
    nothing = assistant.edit_profile(None, "50", edited["history"], edited["state"], edited["report"])
    assert "请先选择" in nothing[0][-1]["content"]
    refused = _chat(assistant.edit_profile("从业人数", "-5", edited["history"], edited["state"], edited["report"]))
    assert ["从业人数", "50人"] in refused["profile"] and "没有保存" in refused["history"][-1]["content"]

    update, message = assistant.export(edited["report"], "csv")
    assert Path(update["value"]).read_bytes() and message == ""


def test_chat_sessions_are_separate_values() -> None:
    from calculator.ui import assistant

    a, b = _chat(assistant.start()), _chat(assistant.start())
    a = _chat(assistant.send("员工12人", a["history"], a["state"], a["report"]))
    b = _chat(assistant.send("员工230人", b["history"], b["state"], b["report"]))
    assert ["从业人数", "12人"] in a["profile"] and ["从业人数", "230人"] in b["profile"]
    assert a["state"]["profile"]["employees"] == 12 and b["state"]["profile"]["employees"] == 230


def test_chat_handles_empty_huge_and_failing_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.ui import assistant

    view = _chat(assistant.start())
    assert all(_skipped(v) for v in assistant.send("   ", view["history"], view["state"], view["report"]))
    huge = _chat(assistant.send("员工50人" + "啊" * 100_000, view["history"], view["state"], view["report"]))
    assert len(huge["history"][-2]["content"]) <= assistant.MAX_MESSAGE_CHARS

    def broken(*args: object) -> None:
        raise RuntimeError("secret company 许昌某某")

    monkeypatch.setattr(assistant.chat, "respond", broken)
    failed = assistant.send("员工50人", view["history"], view["state"], view["report"])
    assert failed[0][-1]["content"] == GENERIC_ERROR and failed[0][-2]["content"] == "员工50人"
    assert all(_skipped(v) for v in failed[3:])  # state, report, panels and buttons stay as they were


def test_api_client_without_page_load_gets_a_session() -> None:
    from calculator.ui import assistant

    view = _chat(assistant.send("员工50人", [], None, None))
    assert ["从业人数", "50人"] in view["profile"]


def test_without_an_index_the_chat_says_to_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.ui import assistant

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    view = _chat(assistant.start())
    assert view["notice"]["visible"] and "make ingest" in view["notice"]["value"]
    view = _chat(assistant.send("稳岗返还怎么申请？", view["history"], view["state"], view["report"]))
    assert "Traceback" not in view["history"][-1]["content"]
    view = _chat(assistant.send("员工50人", view["history"], view["state"], view["report"]))
    assert ["从业人数", "50人"] in view["profile"]  # matching still works


# ---------------------------------------------------------------- the conversation survives a reload

def test_a_reload_restores_the_conversation_and_restart_clears_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.ui import assistant

    view = _chat(assistant.start())
    view = _chat(assistant.send("我们是魏都区的制造业企业，员工50人", view["history"], view["state"], view["report"]))
    saved = assistant.saved_value(view["history"], view["state"])
    assert saved["state"]["profile"]["employees"] == 50 and saved["history"] == view["history"]
    back = _chat(assistant.restore(saved))          # the page reloaded: same messages, same profile, judged again
    assert back["history"] == view["history"] and ["从业人数", "50人"] in back["profile"]
    assert back["report"]["profile"]["employees"] == 50 and "小型微利企业所得税优惠" in back["results"]
    # what the browser sends back is not trusted: malformed, foreign or stale copies start afresh
    for bad in ({}, None, {"v": 1, "at": 0, "state": saved["state"], "history": saved["history"]},
                {**saved, "history": [{"role": "system", "content": "x"}]}, {**saved, "state": "x"}, {**saved, "v": 99}):
        fresh = _chat(assistant.restore(bad))
        assert len(fresh["history"]) == 1 and "第一个问题" in fresh["history"][0]["content"] and fresh["profile"] == []
    # 重新开始 (and 下一位) start a new conversation, which is what is then stored
    restarted = _chat(assistant.start())
    assert assistant.saved_value(restarted["history"], restarted["state"])["state"]["profile"] == {}
    monkeypatch.setenv("BROWSER_STATE_HOURS", "0")   # keeping nothing is a setting
    assert assistant.saved_value(view["history"], view["state"]) == {}


def test_citation_markers_in_a_chat_answer_are_links_to_their_clause(index_env: Path) -> None:
    from calculator.ui import assistant

    view = _chat(assistant.start())
    view = _chat(assistant.send("稳岗返还怎么申请？", view["history"], view["state"], view["report"]))
    said = view["history"][-1]["content"]
    links = re.findall(r"\[\\\[(\d+)\\\]\]\(#pc-cite\?doc=([a-z0-9_]+)&start=(\d+)&end=(\d+)\)", said)
    assert links and links[0][0] == "1"
    n, doc, start, end = links[0]
    context = citation_context([doc, start, end, ""])
    assert "<mark>" in context   # the link opens that clause in its document
