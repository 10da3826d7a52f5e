"""Reminders that arrive: a real SMTP server (aiosmtpd) and a webhook receiver on 127.0.0.1, idempotent
sends, unsubscribe from the message itself, a calendar feed phones can read, nothing identifying logged."""
from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import logging
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from paths import ROOT
from starlette.testclient import TestClient

from calculator.core.errors import UserError
from calculator.officials import reminders, subscriptions

TODAY = date(2026, 11, 23)
FACTORY = {"name": "许昌某某机械有限公司", "credit_code": "91411000MA44KD7R1T", "county": "魏都区",
           "industry": "制造业", "employees": 85, "revenue": 3000, "taxpayer_type": "一般纳税人"}
NEW_ITEM = (ROOT / "tests" / "data" / "reminder_item.yaml").read_text(encoding="utf-8")
SECRET = "test-webhook-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_FROM", "reminders@xuchang.example")
    yield inbox
    controller.stop()


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((dict(self.headers), body))
        self.send_response(_Hook.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    _Hook.received, _Hook.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy, ignore=shutil.ignore_patterns("uploads"))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(copy))
    monkeypatch.setenv("SUBSCRIPTIONS_DB", str(tmp_path / "subs.sqlite3"))
    monkeypatch.setenv("CALCULATOR_TODAY", TODAY.isoformat())
    monkeypatch.setenv("PUBLIC_URL", "https://zc.xuchang.example")
    return copy


def _add_item(knowledge: Path) -> None:
    (knowledge / "policies" / "xuchang_manufacturing_test_award.yaml").write_text(NEW_ITEM, encoding="utf-8")


def test_email_and_webhook_arrive_once_with_an_unsubscribe_link(knowledge: Path, smtp: _Inbox, webhook: str,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = subscriptions.subscribe(FACTORY, today=TODAY, email="boss@factory.example", webhook=webhook)
    assert reminders.deliver(today=TODAY, within=0) == []          # what matches at saving time is the baseline
    _add_item(knowledge)
    (done,) = reminders.deliver(today=TODAY, within=0)
    assert done.sent == ("email", "webhook") and done.marked
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["boss@factory.example"]
    text = _body(mail)
    links = subscriptions.links_of(token)
    assert links.unsubscribe.startswith("https://zc.xuchang.example/reminders/unsubscribe?code=")
    assert links.unsubscribe in text and links.feed in text and "许昌市制造业企业测试奖补" in text
    (headers, body) = _Hook.received[0]
    stamp, digest = dict(part.split("=", 1) for part in headers["X-Calculator-Signature"].split(","))["t"], \
        dict(part.split("=", 1) for part in headers["X-Calculator-Signature"].split(","))["sha256"]
    assert hmac.compare_digest(digest, hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest())
    payload = json.loads(body)
    assert [n["policy_id"] for n in payload["notices"]] == ["xuchang_manufacturing_test_award"]
    assert payload["links"]["unsubscribe"] == links.unsubscribe
    assert reminders.deliver(today=TODAY, within=0) == []           # idempotent: nothing is sent twice
    assert len(smtp.messages) == 1 and len(_Hook.received) == 1
    log = subscriptions.sent_log()
    assert [(r["channel"], r["ok"]) for r in log] == [("webhook", True), ("email", True)]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("calculator"))  # not the test SMTP's
    assert "reminders:" in ours
    for secret in (FACTORY["name"], FACTORY["credit_code"], token, "boss@factory.example", webhook):
        assert secret not in ours and secret not in json.dumps(log, ensure_ascii=False)


def test_a_failed_channel_is_retried_and_the_rest_is_not_resent(knowledge: Path, webhook: str) -> None:
    subscriptions.subscribe(FACTORY, today=TODAY, webhook=webhook)
    _add_item(knowledge)
    _Hook.status = 500
    (failed,) = reminders.deliver(today=TODAY, within=0)
    assert failed.failed == ("webhook",) and not failed.marked
    _Hook.status = 200
    (retried,) = reminders.deliver(today=TODAY, within=0)
    assert retried.sent == ("webhook",) and retried.marked
    assert reminders.deliver(today=TODAY, within=0) == []


def test_validity_ends_are_reminded_once_within_the_window(knowledge: Path, smtp: _Inbox) -> None:
    subscriptions.subscribe({"taxpayer_type": "小规模纳税人", "monthly_sales": 5}, today=TODAY, email="a@b.example")
    ends = [r for r in subscriptions.feed_results(_feed_code(), today=TODAY) or [] if r.policy.valid_until]
    assert ends, "a matching item with a validity end is needed"
    first = min(r.policy.valid_until for r in ends)
    days = (first - TODAY).days
    assert reminders.deliver(today=TODAY, within=days - 1) == []     # not yet within the window
    (due,) = reminders.deliver(today=TODAY, within=days)
    assert due.due.expiring and due.due.expiring[0].days_left == days
    assert "即将到期" in _body(smtp.messages[-1])
    assert reminders.deliver(today=TODAY, within=days) == []          # reminded once per end date


def _body(envelope: Any) -> str:
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    return str(message.get_body().get_content())  # type: ignore[union-attr]


def _feed_code() -> str:
    import os
    import sqlite3

    return str(sqlite3.connect(os.environ["SUBSCRIPTIONS_DB"]).execute("SELECT feed_code FROM subscriptions").fetchone()[0])


def test_the_calendar_feed_and_unsubscribe_links_work_over_http(knowledge: Path) -> None:
    from calculator.ui.server import create_server

    token = subscriptions.subscribe({"taxpayer_type": "小规模纳税人", "monthly_sales": 5}, today=TODAY)
    links = subscriptions.links_of(token)
    client = TestClient(create_server())
    feed = client.get(links.feed.removeprefix("https://zc.xuchang.example"))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    lines = feed.text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and any(line.startswith("DTSTART;VALUE=DATE:") for line in lines)
    assert all(len(line.encode()) <= 75 for line in lines)
    assert client.get("/reminders/calendar/nothing.ics").status_code == 404
    gone = client.get(links.unsubscribe.removeprefix("https://zc.xuchang.example"))
    assert gone.status_code == 200 and "已退订" in gone.text
    assert subscriptions.count() == 0
    assert client.get(links.unsubscribe.removeprefix("https://zc.xuchang.example")).status_code == 404


def test_bad_contacts_are_refused_clearly(knowledge: Path) -> None:
    with pytest.raises(UserError, match="邮箱"):
        subscriptions.subscribe(FACTORY, email="not an address")
    with pytest.raises(UserError, match="http"):
        subscriptions.subscribe(FACTORY, webhook="ftp://example/hook")
