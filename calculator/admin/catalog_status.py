"""The catalog as the admin page sees it: its validation report, and the catalog the service answers with.

`load_catalog` keeps serving the last good catalog while a policy file is broken (a service must not go
dark because one YAML file was saved half-edited); this report tells the admin what is broken, naming
file and field, and that the last good catalog is being served meanwhile.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from calculator.core.config import get_settings
from calculator.policy.catalog import Catalog, CatalogError, load_catalog


def catalog_report(today: date | None = None) -> dict[str, Any]:
    """`{ok: true, ...Catalog.report(today)}`, or `{ok: false, message, problems, serving, serving_count}`."""
    today = today or get_settings().today
    try:
        return {"ok": True, **load_catalog(strict=True).report(today)}
    except CatalogError as exc:
        try:
            serving: Catalog | None = load_catalog()
        except CatalogError:
            serving = None
        return {"ok": False, "today": today.isoformat(), "message": f"{exc.zh} / {exc.en}",
                "problems": [p.to_json() for p in exc.problems],
                "serving": "last_good" if serving is not None else "none",
                "serving_count": len(serving.policies) if serving is not None else 0}
