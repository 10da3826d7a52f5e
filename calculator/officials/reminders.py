"""Reminders that arrive (许证闹钟 / 精准推送): e-mail, a signed webhook, and a calendar feed.

`deliver()` is what `python -m calculator notify` runs: for every subscription with something due (new or
changed matches, validity ends within REMINDER_DAYS) it sends one message to each channel the subscriber
gave, records every attempt (the admin page shows them), and marks the items as told only once a channel
succeeded, so a run never sends anything twice and a failed run is retried by the next. A subscription
without a channel is reported to the operator as before and marked as told.

Every message carries an unsubscribe link and the calendar-feed link. Messages hold what the subscriber
gave and the policy items, nothing more; logs name subscriptions by number only. The webhook body is JSON
signed with HMAC-SHA256 over `<timestamp>.<body>` (header `X-Calculator-Signature: t=<ts>,sha256=<hex>`,
the way Stripe and GitHub sign theirs), so the city's messaging platform can check it came from here.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from calculator.core.config import Settings, get_settings
from calculator.core.vocabulary import STATUS_LABEL
from calculator.officials import subscriptions
from calculator.officials.subscriptions import CHANGE_LABEL, Due

if TYPE_CHECKING:
    from calculator.policy.catalog import Catalog
    from calculator.policy.match import PolicyResult

log = logging.getLogger(__name__)
TIMEOUT_S = 10
SIGNATURE_HEADER = "X-Calculator-Signature"
TITLE = "许昌惠企政策计算器 · 政策提醒"


@dataclass(frozen=True)
class Delivery:
    """What happened to one subscription in one run."""

    due: Due
    sent: tuple[str, ...]      # channels that succeeded
    failed: tuple[str, ...]    # channels that failed (retried next run)
    marked: bool

    def to_json(self) -> dict[str, Any]:
        """For operators: by subscription number, never an address."""
        return {"subscription": self.due.subscription, "notices": [n.to_json() for n in self.due.notices],
                "expiring": [{"policy_id": e.policy_id, "title": e.title, "ends": e.ends.isoformat(),
                              "days_left": e.days_left} for e in self.due.expiring],
                "sent": list(self.sent), "failed": list(self.failed), "marked": self.marked}


def message_text(item: Due) -> str:
    """The reminder in plain Chinese: what changed and why, what ends soon, and the two links."""
    lines = [TITLE, ""]
    if item.notices:
        lines.append("与贵企业相关的政策有新变化：")
        for notice in item.notices:
            lines.append(f"· [{CHANGE_LABEL[notice.change]}] {notice.title}（{STATUS_LABEL[notice.status]}）")
            if notice.benefit:
                lines.append(f"  优惠：{notice.benefit}")
            if notice.missing:
                lines.append(f"  还需了解：{'、'.join(notice.missing)}")
        lines.append("")
    if item.expiring:
        lines.append("以下政策即将到期，请及时办理：")
        lines += [f"· {e.title}：{e.ends.isoformat()} 到期（还剩 {e.days_left} 天）" for e in item.expiring]
        lines.append("")
    lines += ["本提醒依据政策规则自动生成，仅供参考，以主管部门认定为准。",
              f"订阅日历（到期日提醒）：{item.links.feed}", f"退订：{item.links.unsubscribe}"]
    return "\n".join(lines)


def payload(item: Due, today: date) -> dict[str, Any]:
    """The webhook's JSON body (the same content as the e-mail, as data)."""
    return {"title": TITLE, "today": today.isoformat(), "subscription": item.subscription,
            "notices": [n.to_json() for n in item.notices],
            "expiring": [{"policy_id": e.policy_id, "title": e.title, "ends": e.ends.isoformat(), "days_left": e.days_left}
                         for e in item.expiring],
            "links": {"calendar": item.links.feed, "unsubscribe": item.links.unsubscribe},
            "text": message_text(item)}


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """`t=<timestamp>,sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={digest}"


def send_email(settings: Settings, to: str, text: str) -> None:
    """One plain-text e-mail through SMTP_HOST (STARTTLS or SSL as SMTP_SECURITY says, login if SMTP_USER)."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = TITLE, settings.smtp_from, to
    message.set_content(text)
    if settings.smtp_security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
        client.send_message(message)


def send_webhook(settings: Settings, url: str, body: dict[str, Any]) -> None:
    """POST the JSON body, signed with WEBHOOK_SECRET when one is set; any non-2xx answer is a failure."""
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if settings.webhook_secret:
        headers[SIGNATURE_HEADER] = sign(data, settings.webhook_secret, int(time.time()))
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def deliver(today: date | None = None, within: int | None = None, catalog: Catalog | None = None,
            dry_run: bool = False) -> list[Delivery]:
    """Send what is due to every subscriber's channels; idempotent (see the module docstring)."""
    settings = get_settings()
    today = today or settings.today
    out = []
    for item in subscriptions.due(today, within, catalog):
        channels = [("email", item.email)] if item.email and settings.smtp_host else []
        channels += [("webhook", item.webhook)] if item.webhook else []
        sent, failed = [], []
        for channel, target in channels if not dry_run else []:
            try:
                if channel == "email":
                    send_email(settings, target, message_text(item))
                else:
                    send_webhook(settings, target, payload(item, today))
            except (OSError, smtplib.SMTPException) as exc:
                failed.append(channel)
                subscriptions.record_send(item.subscription, channel, item.items, False, type(exc).__name__)
                log.warning("reminder for subscription #%d by %s failed: %s", item.subscription, channel,
                            type(exc).__name__)
                continue
            sent.append(channel)
            subscriptions.record_send(item.subscription, channel, item.items, True, "")
        marked = not dry_run and (bool(sent) or not channels)
        if marked:
            subscriptions.mark_delivered(item)
        out.append(Delivery(item, tuple(sent), tuple(failed), marked))
    log.info("reminders: %d due, %d sent, %d failed", len(out), sum(bool(d.sent) for d in out),
             sum(bool(d.failed) for d in out))
    return out


# ---------------------------------------------------------------- the calendar feed (RFC 5545)

def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> Iterable[str]:
    """RFC 5545 folds content lines at 75 octets (a continuation line starts with one space)."""
    data = line.encode()
    while len(data) > 75:
        cut = 75
        while cut and (data[cut] & 0xC0) == 0x80:   # never split a UTF-8 character
            cut -= 1
        yield data[:cut].decode()
        data = b" " + data[cut:]
    yield data.decode()


def calendar_feed(results: Iterable[PolicyResult], stamp: datetime | None = None) -> str:
    """An .ics of the matching items' validity ends (all-day events), which phones can subscribe to."""
    stamp = stamp or datetime.now()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//xuchang-policy-calculator//reminders//ZH",
             "CALSCALE:GREGORIAN", f"X-WR-CALNAME:{_escape('惠企政策到期提醒')}"]
    for result in results:
        ends = result.policy.valid_until
        if ends is None:
            continue
        uid = hashlib.sha256(f"{result.policy.id}|{ends}".encode()).hexdigest()[:24]
        lines += ["BEGIN:VEVENT", f"UID:{uid}@xuchang-policy-calculator", f"DTSTAMP:{stamp:%Y%m%dT%H%M%S}",
                  f"DTSTART;VALUE=DATE:{ends:%Y%m%d}", f"SUMMARY:{_escape(result.policy.title + ' 到期')}",
                  f"DESCRIPTION:{_escape(result.policy.item.benefit)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(folded for line in lines for folded in _fold(line)) + "\r\n"
