"""The fact schema belongs to a knowledge folder: a second folder in the same process gives its own answers.

KNOWLEDGE_DIR moves the profile fields and the reference tables with the policies and documents (before
this round the tables were always read from the repository); the default folder's answers never change.
"""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from paths import KNOWLEDGE

from calculator.core.errors import UserError
from calculator.facts.profile import derive, validate_profile
from calculator.facts.schema import default_schema, load_schema
from calculator.policy.catalog import load_catalog
from calculator.policy.match import match_profile

TODAY = date(2026, 12, 1)
SHOP = {"industry": "零售业", "employees": 8, "revenue": 150}           # 微型 by 人员 < 10 in the real table


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name}: {old!r} not found"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def second(tmp_path: Path) -> Path:
    """A copy of knowledge/ where has_ip_rights is called owns_ip and the 零售业 small tier starts at 5 people."""
    folder = tmp_path / "knowledge"
    for part in ("data", "policies", "parameters", "docs"):
        shutil.copytree(KNOWLEDGE / part, folder / part)
    _replace(folder / "data" / "profile_fields.yaml", "  has_ip_rights:\n", "  owns_ip:\n")
    _replace(folder / "policies" / "ip_pledge_financing.yaml", "field: has_ip_rights", "field: owns_ip")
    sizes = folder / "data" / "sme_size_standards.yaml"
    text = sizes.read_text(encoding="utf-8")
    retail = text.index("  零售业:")
    small = text.index("small: {employees: 10", retail)
    sizes.write_text(text[:small] + "small: {employees: 5" + text[small + len("small: {employees: 10"):], encoding="utf-8")
    return folder


def _size(schema_folder: Path | None) -> str | None:
    schema = load_schema(schema_folder) if schema_folder else default_schema()
    return derive(validate_profile(SHOP, schema), TODAY)["size_class"].value


def test_a_second_knowledge_folder_gives_its_own_answers(second: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _size(None) == "微型"
    own = load_schema(second / "data")
    assert "owns_ip" in own.fields and "has_ip_rights" not in own.fields
    assert _size(second / "data") == "小型"                               # its own 划型 table
    with pytest.raises(UserError, match="has_ip_rights"):
        validate_profile({"has_ip_rights": True}, own)                    # not a fact of that folder

    monkeypatch.setenv("KNOWLEDGE_DIR", str(second))                      # the setting moves everything
    catalog = load_catalog()
    assert catalog.schema.folder == (second / "data").resolve()
    ip_pledge = {"county": "建安区", "industry": "制造业", "employees": 85, "revenue": 3000, "total_assets": 2500,
                 "owns_ip": True, "needs_financing": True}
    result = match_profile(ip_pledge, catalog, TODAY).result("ip_pledge_financing")
    assert result.status == "eligible"
    assert match_profile(SHOP, catalog, TODAY).derived["size_class"].value == "小型"


def test_the_default_folder_is_unchanged_after_another_was_loaded(second: Path) -> None:
    load_schema(second / "data")
    catalog = load_catalog()
    assert "has_ip_rights" in catalog.schema.fields and "owns_ip" not in catalog.schema.fields
    assert match_profile(SHOP, catalog, TODAY).derived["size_class"].value == "微型"
    assert _size(None) == "微型"


def test_a_year_reads_as_a_year() -> None:
    """"高新技术企业证书发证年份 从 2022年 改为 2025年", never "2,022年"; amounts keep their separators."""
    schema = default_schema()
    assert schema.format_value("hightech_cert_year", 2022) == "2022年"
    assert schema.format_value("revenue", 1500) == "1,500万元"
