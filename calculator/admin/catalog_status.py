"""The catalog as the admin page sees it: its validation report, and the catalog to keep answering with.

`load_catalog` raises CatalogError (naming file and field) whenever a policy file is broken, and keeps
raising until it is fixed. A service must not go dark because one YAML file was saved half-edited, so
`serving_catalog` remembers the last catalog that loaded in this process and answers with it meanwhile;
`catalog_report` tells the admin what is broken and that the last good catalog is being served.
"""
from __future__ import annotations

import threading
from datetime import date
from typing import Any

from calculator.catalog import Catalog, CatalogError, load_catalog
from calculator.config import get_settings

_lock = threading.Lock()
_last_good: list[Catalog] = []  # at most one element: the newest catalog that loaded


def _load() -> Catalog:
    catalog = load_catalog()
    with _lock:
        _last_good[:] = [catalog]
    return catalog


def serving_catalog() -> Catalog:
    """The current catalog, or the last good one while a catalog file is broken (raises the
    CatalogError only when nothing has loaded yet in this process)."""
    try:
        return _load()
    except CatalogError:
        with _lock:
            if _last_good:
                return _last_good[0]
        raise


def catalog_report(today: date | None = None) -> dict[str, Any]:
    """`{ok: true, ...Catalog.report(today)}`, or `{ok: false, message, problems, serving}`."""
    today = today or get_settings().today
    try:
        catalog = _load()
    except CatalogError as exc:
        with _lock:
            serving = _last_good[0] if _last_good else None
        return {"ok": False, "today": today.isoformat(), "message": f"{exc.zh} / {exc.en}",
                "problems": [{"file": p.file, "path": p.path, "zh": p.zh, "en": p.en} for p in exc.problems],
                "serving": "last_good" if serving is not None else "none",
                "serving_count": len(serving.policies) if serving is not None else 0}
    return {"ok": True, **catalog.report(today)}
