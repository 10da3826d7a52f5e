"""Subscriptions (精准推送): a saved profile is told when the catalog changes in its favour.

An enterprise (or a clerk on its behalf) saves a profile and gets a token. What it was told last is kept
per policy as (status, content fingerprint). When the catalog changes, `due()` (what `notify` sends) / `check(token)`
re-match the profile and report items that now match (eligible or need_info) and are new, changed in
content, or changed in status since the last notice — each with why (conditions met, facts missing) —
then record them as told. Saving takes the current matches as the baseline: the enterprise has just
seen them.

Storage is SQLite (embedded, one file, `SUBSCRIPTIONS_DB`, default `DATA_DIR/subscriptions.sqlite3`).
Profiles may hold 企业名称 and 统一社会信用代码: they are stored because the user asked, returned only
to the holder of the token, never logged, and removed by `delete(token)`. The token is a bearer secret,
so the database keeps only its sha256 and reports (`notify`) name subscriptions by a plain number.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.core.vocabulary import CURRENT, ELIGIBLE, MET, NEED_INFO, STATUS_LABEL
from calculator.facts.profile import validate_profile
from calculator.policy.catalog import Catalog, load_catalog
from calculator.policy.fingerprint import policy_fingerprint
from calculator.policy.match import PolicyResult, match_profile

NEW, CHANGED, STATUS = "new", "changed", "status"
CHANGE_LABEL = {NEW: "新政策", CHANGED: "政策内容有更新", STATUS: "符合情况有变化"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    created TEXT NOT NULL,
    last_notified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS told (
    subscription INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL,
    status TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (subscription, policy_id)
);
CREATE TABLE IF NOT EXISTS reminded (
    subscription INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL,
    ends TEXT NOT NULL,
    PRIMARY KEY (subscription, policy_id, ends)
);
CREATE TABLE IF NOT EXISTS sent (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription INTEGER NOT NULL,
    channel TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    items INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    detail TEXT NOT NULL
);
"""
# Columns added after the first release: a database from then is upgraded in place when opened.
_ADDED_COLUMNS = {"email": "TEXT NOT NULL DEFAULT ''", "webhook": "TEXT NOT NULL DEFAULT ''",
                  "unsubscribe_code": "TEXT NOT NULL DEFAULT ''", "feed_code": "TEXT NOT NULL DEFAULT ''"}


def database_path() -> Path:
    """`SUBSCRIPTIONS_DB`, else `DATA_DIR/subscriptions.sqlite3`."""
    settings = get_settings()
    return settings.subscriptions_db or settings.data_dir / "subscriptions.sqlite3"


def _connect() -> sqlite3.Connection:
    path = database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=10)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA journal_mode = WAL")  # the app reads while `notify` writes
    connection.executescript(_SCHEMA)
    have = {row[1] for row in connection.execute("PRAGMA table_info(subscriptions)")}
    for column, kind in _ADDED_COLUMNS.items():
        if column not in have:
            connection.execute(f"ALTER TABLE subscriptions ADD COLUMN {column} {kind}")
    return connection


@dataclass(frozen=True)
class Notice:
    """One item worth telling a subscriber about, and why it matches."""

    policy_id: str
    title: str
    status: str
    change: str
    met: list[str] = field(default_factory=list)       # condition texts the profile meets
    missing: list[str] = field(default_factory=list)   # labels of facts still needed (need_info)
    benefit: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"policy_id": self.policy_id, "title": self.title, "status": self.status,
                "status_label": STATUS_LABEL[self.status], "change": self.change,
                "change_label": CHANGE_LABEL[self.change], "met": self.met, "missing": self.missing,
                "benefit": self.benefit}


def _met_texts(result: PolicyResult) -> list[str]:
    return [leaf.text for leaf in result.trace.leaves() if leaf.outcome == MET and leaf.text]


def _matching(profile: dict[str, Any], catalog: Catalog, today: date) -> dict[str, tuple[PolicyResult, str]]:
    """policy_id → (result, fingerprint) for current items the profile is eligible for or could be."""
    report = match_profile(profile, catalog=catalog, today=today)
    return {r.policy.id: (r, policy_fingerprint(r.policy)) for r in report.results
            if r.status in (ELIGIBLE, NEED_INFO) and r.validity == CURRENT}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _remember(db: sqlite3.Connection, subscription: int, told: list[tuple[str, str, str]]) -> None:
    """Record (policy_id, status, fingerprint) as told to `subscription`."""
    db.executemany("INSERT OR REPLACE INTO told (subscription, policy_id, status, fingerprint) VALUES (?, ?, ?, ?)",
                   [(subscription, *row) for row in told])
    db.execute("UPDATE subscriptions SET last_notified = ? WHERE id = ?", (_now(), subscription))


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,24}$")


def _contact(email: str, webhook: str) -> tuple[str, str]:
    """Where reminders go: an e-mail address and/or an http(s) webhook of the city's messaging platform."""
    email, webhook = (email or "").strip(), (webhook or "").strip()
    if email and not _EMAIL.match(email):
        raise UserError("电子邮箱格式不正确", "the e-mail address is not valid")
    if webhook and (not webhook.startswith(("http://", "https://")) or len(webhook) > 500 or any(c.isspace() for c in webhook)):
        raise UserError("推送地址应为 http(s):// 开头的网址", "the webhook must be an http(s) URL")
    return email, webhook


def subscribe(profile: Any, today: date | None = None, catalog: Catalog | None = None,
              email: str = "", webhook: str = "") -> str:
    """Save a profile (validated) and return its token; what matches now is the baseline. With an e-mail
    address or a webhook, `notify` sends what is due there (each message carries an unsubscribe link)."""
    catalog = catalog or load_catalog()
    checked = validate_profile(profile, catalog.schema)
    email, webhook = _contact(email, webhook)
    stored = checked.model_dump(mode="json", exclude_none=True)
    matches = _matching(stored, catalog, today or get_settings().today)
    token = secrets.token_urlsafe(16)
    with closing(_connect()) as db, db:
        cursor = db.execute(
            "INSERT INTO subscriptions (token_hash, profile, created, last_notified, email, webhook, unsubscribe_code,"
            " feed_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (_hash(token), json.dumps(stored, ensure_ascii=False), _now(), _now(), email, webhook,
             secrets.token_urlsafe(16), secrets.token_urlsafe(16)))
        _remember(db, int(cursor.lastrowid or 0), [(pid, r.status, fp) for pid, (r, fp) in matches.items()])
    return token


@dataclass(frozen=True)
class Links:
    """What a subscriber may open without the token: the calendar feed, and unsubscribing."""

    feed: str
    unsubscribe: str


def links_of(token: str) -> Links:
    """The subscription's calendar-feed and unsubscribe links (shown to its holder after saving)."""
    with closing(_connect()) as db:
        subscription, _ = _lookup(db, token)
        feed, unsubscribe = db.execute("SELECT feed_code, unsubscribe_code FROM subscriptions WHERE id = ?",
                                       (subscription,)).fetchone()
    return _links(feed, unsubscribe)


def _links(feed_code: str, unsubscribe_code: str) -> Links:
    base = get_settings().public_url
    return Links(f"{base}/reminders/calendar/{feed_code}.ics", f"{base}/reminders/unsubscribe?code={unsubscribe_code}")


def unsubscribe(code: str) -> bool:
    """Remove the subscription an unsubscribe link names (the link in every reminder); False if none."""
    code = (code or "").strip()
    if not code or len(code) > 64:
        return False
    with closing(_connect()) as db, db:
        return db.execute("DELETE FROM subscriptions WHERE unsubscribe_code = ?", (code,)).rowcount > 0


def _feed_row(db: sqlite3.Connection, code: str) -> tuple[int, dict[str, Any]] | None:
    code = (code or "").strip()
    if not code or len(code) > 64:
        return None
    row = db.execute("SELECT id, profile FROM subscriptions WHERE feed_code = ?", (code,)).fetchone()
    return (int(row[0]), json.loads(row[1])) if row else None


def feed_results(code: str, today: date | None = None, catalog: Catalog | None = None) -> list[PolicyResult] | None:
    """The current items matching the subscription a calendar-feed link names (None: no such feed)."""
    with closing(_connect()) as db:
        found = _feed_row(db, code)
    if found is None:
        return None
    catalog = catalog or load_catalog()
    return [result for result, _ in _matching(found[1], catalog, today or get_settings().today).values()]


def _lookup(db: sqlite3.Connection, token: str) -> tuple[int, dict[str, Any]]:
    row = db.execute("SELECT id, profile FROM subscriptions WHERE token_hash = ?", (_hash(token),)).fetchone()
    if row is None:
        raise UserError("订阅不存在或已删除", "no such subscription (unknown or deleted token)")
    return int(row[0]), json.loads(row[1])


def profile_of(token: str) -> dict[str, Any]:
    """The saved profile (only for the holder of the token)."""
    with closing(_connect()) as db:
        return _lookup(db, token)[1]


def _check(db: sqlite3.Connection, subscription: int, profile: dict[str, Any], catalog: Catalog, today: date,
           mark: bool) -> list[Notice]:
    told = {pid: (status, fp) for pid, status, fp in db.execute(
        "SELECT policy_id, status, fingerprint FROM told WHERE subscription = ?", (subscription,))}
    notices, updates = _changes(_matching(profile, catalog, today), told)
    if mark and updates:
        _remember(db, subscription, updates)
    return notices


def check(token: str, mark: bool = True, today: date | None = None, catalog: Catalog | None = None) -> list[Notice]:
    """What is new for one subscriber since the last notice (the app's next visit); `mark` records it."""
    catalog = catalog or load_catalog()
    with closing(_connect()) as db, db:
        subscription, profile = _lookup(db, token)
        return _check(db, subscription, profile, catalog, today or get_settings().today, mark)


def delete(token: str) -> bool:
    """Remove the profile and its history; False when there was nothing to remove."""
    with closing(_connect()) as db, db:
        return db.execute("DELETE FROM subscriptions WHERE token_hash = ?", (_hash(token),)).rowcount > 0


def count() -> int:
    """How many subscriptions are saved."""
    with closing(_connect()) as db:
        return int(db.execute("SELECT COUNT(*) FROM subscriptions").fetchone()[0])


# ---------------------------------------------------------------- what is due, for reminders that arrive

@dataclass(frozen=True)
class Expiring:
    """A matching item whose validity ends soon: a deadline the subscriber should not miss."""

    policy_id: str
    title: str
    ends: date
    days_left: int


@dataclass
class Due:
    """What one subscription should be told now, and where (its own address and webhook, if given)."""

    subscription: int
    email: str
    webhook: str
    links: Links
    notices: list[Notice]
    expiring: list[Expiring]
    told: list[tuple[str, str, str]] = field(default_factory=list, repr=False)

    @property
    def items(self) -> int:
        return len(self.notices) + len(self.expiring)


def due(today: date | None = None, within: int | None = None, catalog: Catalog | None = None) -> list[Due]:
    """Every subscription with something to tell: new or changed matches, and matching items whose validity
    ends within `within` days (default REMINDER_DAYS) that were not reminded of yet. Nothing is marked."""
    settings = get_settings()
    catalog = catalog or load_catalog()
    today = today or settings.today
    within = settings.reminder_days if within is None else within
    out: list[Due] = []
    with closing(_connect()) as db:
        rows = db.execute("SELECT id, profile, email, webhook, feed_code, unsubscribe_code FROM subscriptions ORDER BY id"
                          ).fetchall()
        for subscription, profile, email, webhook, feed, unsub in rows:
            matching = _matching(json.loads(profile), catalog, today)
            told = {pid: (status, fp) for pid, status, fp in db.execute(
                "SELECT policy_id, status, fingerprint FROM told WHERE subscription = ?", (subscription,))}
            reminded = {(pid, ends) for pid, ends in db.execute(
                "SELECT policy_id, ends FROM reminded WHERE subscription = ?", (subscription,))}
            notices, updates = _changes(matching, told)
            expiring = [Expiring(pid, r.policy.title, r.policy.valid_until, (r.policy.valid_until - today).days)
                        for pid, (r, _) in matching.items()
                        if r.policy.valid_until is not None and 0 <= (r.policy.valid_until - today).days <= within
                        and (pid, r.policy.valid_until.isoformat()) not in reminded]
            if notices or expiring:
                out.append(Due(subscription, email, webhook, _links(feed, unsub), notices, expiring, updates))
    return out


def _changes(matching: dict[str, tuple[PolicyResult, str]], told: dict[str, tuple[str, str]]
             ) -> tuple[list[Notice], list[tuple[str, str, str]]]:
    """The notices (new, changed in content, changed in status) and the rows that record them as told."""
    notices, updates = [], []
    for pid, (result, fp) in matching.items():
        before = told.get(pid)
        if before is None:
            change = NEW
        elif before[1] != fp:
            change = CHANGED
        elif before[0] != result.status:
            change = STATUS
        else:
            continue
        notices.append(Notice(pid, result.policy.title, result.status, change, _met_texts(result),
                              result.missing_labels, result.policy.item.benefit))
        updates.append((pid, result.status, fp))
    return notices, updates


def mark_delivered(item: Due) -> None:
    """Record what `item` told as told, so the next run sends nothing twice."""
    with closing(_connect()) as db, db:
        if item.told:
            _remember(db, item.subscription, item.told)
        db.executemany("INSERT OR IGNORE INTO reminded (subscription, policy_id, ends) VALUES (?, ?, ?)",
                       [(item.subscription, e.policy_id, e.ends.isoformat()) for e in item.expiring])


def record_send(subscription: int, channel: str, items: int, ok: bool, detail: str) -> None:
    """One delivery attempt, for the admin page (never an address: the subscription is a number)."""
    with closing(_connect()) as db, db:
        db.execute("INSERT INTO sent (subscription, channel, sent_at, items, ok, detail) VALUES (?, ?, ?, ?, ?, ?)",
                   (subscription, channel, _now(), items, int(ok), detail[:200]))


def sent_log(limit: int = 50) -> list[dict[str, Any]]:
    """The latest delivery attempts, newest first."""
    with closing(_connect()) as db:
        rows = db.execute("SELECT subscription, channel, sent_at, items, ok, detail FROM sent ORDER BY id DESC LIMIT ?",
                          (limit,)).fetchall()
    return [{"subscription": s, "channel": c, "sent_at": t, "items": n, "ok": bool(ok), "detail": d}
            for s, c, t, n, ok, d in rows]
