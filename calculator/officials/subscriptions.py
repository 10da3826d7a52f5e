"""Subscriptions (精准推送): a saved profile is told when the catalog changes in its favour.

An enterprise (or a clerk on its behalf) saves a profile and gets a token. What it was told last is kept
per policy as (status, content fingerprint). When the catalog changes, `notify_all` / `check(token)`
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
"""


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


def subscribe(profile: Any, today: date | None = None, catalog: Catalog | None = None) -> str:
    """Save a profile (validated) and return its token; what matches now is the baseline."""
    catalog = catalog or load_catalog()
    checked = validate_profile(profile, catalog.schema)
    stored = checked.model_dump(mode="json", exclude_none=True)
    matches = _matching(stored, catalog, today or get_settings().today)
    token = secrets.token_urlsafe(16)
    with closing(_connect()) as db, db:
        cursor = db.execute("INSERT INTO subscriptions (token_hash, profile, created, last_notified) VALUES (?, ?, ?, ?)",
                            (_hash(token), json.dumps(stored, ensure_ascii=False), _now(), _now()))
        _remember(db, int(cursor.lastrowid or 0), [(pid, r.status, fp) for pid, (r, fp) in matches.items()])
    return token


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
    notices, updates = [], []
    for pid, (result, fp) in _matching(profile, catalog, today).items():
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
    if mark and updates:
        _remember(db, subscription, updates)
    return notices


def check(token: str, mark: bool = True, today: date | None = None, catalog: Catalog | None = None) -> list[Notice]:
    """What is new for one subscriber since the last notice (the app's next visit); `mark` records it."""
    catalog = catalog or load_catalog()
    with closing(_connect()) as db, db:
        subscription, profile = _lookup(db, token)
        return _check(db, subscription, profile, catalog, today or get_settings().today, mark)


def notify_all(mark: bool = True, today: date | None = None, catalog: Catalog | None = None) -> dict[int, list[Notice]]:
    """Subscription number → notices, for every subscriber with something new (what `notify` reports).

    Numbers, not tokens: this output goes to operators and cron logs, and a token opens the profile."""
    catalog = catalog or load_catalog()
    today = today or get_settings().today
    out = {}
    with closing(_connect()) as db:
        rows = db.execute("SELECT id, profile FROM subscriptions ORDER BY id").fetchall()
        for subscription, profile in rows:
            with db:  # one transaction per subscriber: a failure leaves the others' records intact
                notices = _check(db, subscription, json.loads(profile), catalog, today, mark)
            if notices:
                out[subscription] = notices
    return out


def delete(token: str) -> bool:
    """Remove the profile and its history; False when there was nothing to remove."""
    with closing(_connect()) as db, db:
        return db.execute("DELETE FROM subscriptions WHERE token_hash = ?", (_hash(token),)).rowcount > 0


def count() -> int:
    """How many subscriptions are saved."""
    with closing(_connect()) as db:
        return int(db.execute("SELECT COUNT(*) FROM subscriptions").fetchone()[0])
