"""Register extracts in: every format and encoding, columns by key or label, nothing dropped without a count."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from batch_parity import code

from calculator.core.errors import UserError
from calculator.facts.profile import validate_profile
from calculator.policy.catalog import Catalog, load_catalog
from calculator.registry.engine import DuckDBEngine
from calculator.registry.register import Register, load_register


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _csv(path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _load(paths: list[Path], catalog: Catalog, work: Path) -> Register:
    return load_register([str(p) for p in paths], DuckDBEngine(work), catalog.schema, work)


def _rows(register: Register, *columns: str) -> dict[str, tuple[Any, ...]]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return {r[0]: r[1:] for r in register.engine.fetch(f'SELECT credit_code, {quoted} FROM "register"')}


def _issues(register: Register) -> list[list[str]]:
    return list(csv.reader(register.issues_csv.decode("utf-8-sig").splitlines()))[1:]


def test_columns_by_key_or_label_and_unknown_columns_reported(catalog: Catalog, tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", ["统一社会信用代码", "企业名称", "从业人数", "revenue", "所在区县", "备注", "联系电话"],
                [[code(1), "许昌一号有限公司", "85", "1200.5", "建安区", "x", "123"]])
    register = _load([path], catalog, tmp_path)
    assert register.summary.sources[0].unknown_columns == ["备注", "联系电话"]
    assert _rows(register, "employees", "revenue", "county") == {code(1): (85.0, 1200.5, "建安区")}
    assert "total_assets" not in register.columns   # a missing column is simply unknown


def test_a_bad_value_is_unknown_for_its_row_and_reported_with_row_and_column(catalog: Catalog, tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", ["credit_code", "employees", "founded", "taxpayer_type", "cert_hightech", "revenue"], [
        [code(1), "约85人", "2019年5月", "小规模纳税人", "是", "1,200"],
        [code(2), "85.5", "2019-13-45", "小规模", "maybe", "-3"],
        [code(3), "-1", "2019/5/1", "一般纳税人", "否", ""],
    ])
    register = _load([path], catalog, tmp_path)
    rows = _rows(register, "employees", "founded", "taxpayer_type", "cert_hightech", "revenue")
    assert rows[code(1)] == (None, date(2019, 5, 1), "小规模纳税人", True, 1200.0)
    assert rows[code(2)] == (None, None, None, None, None)
    assert rows[code(3)] == (None, date(2019, 5, 1), "一般纳税人", False, None)
    assert {(r[1], r[2]) for r in _issues(register)} == {
        ("1", "从业人数"), ("2", "从业人数"), ("2", "成立日期"), ("2", "增值税纳税人类型"), ("2", "高新技术企业"),
        ("2", "上年度营业收入"), ("3", "从业人数")}
    summary = register.summary.sources[0]
    assert summary.rows == 3 and summary.used == 3 and summary.flagged == 3
    assert summary.bad_values["employees"] == 3 and summary.bad_values["founded"] == 1


def test_the_values_it_accepts_are_the_ones_validate_profile_accepts(catalog: Catalog, tmp_path: Path) -> None:
    cells = {"employees": "120", "founded": "2019年5月1日", "cert_hightech": "on", "unemployment_insured": "已参加",
             "taxable_income": "-35.5", "county": "禹州市", "hightech_cert_year": "2024"}
    path = _csv(tmp_path / "r.csv", ["credit_code", *cells], [[code(1), *cells.values()]])
    register = _load([path], catalog, tmp_path)
    got = dict(zip(cells, _rows(register, *cells)[code(1)]))
    profile = validate_profile(cells, catalog.schema)
    assert got == {k: (float(v) if isinstance(v := getattr(profile, k), int) and not isinstance(v, bool) else v) for k in cells}


def test_codes_missing_wrong_or_repeated_are_rejected_and_counted(catalog: Catalog, tmp_path: Path) -> None:
    wrong = code(2)[:-1] + ("0" if code(2)[-1] != "0" else "1")
    path = _csv(tmp_path / "r.csv", ["credit_code", "employees"], [
        [code(1), "10"], [" " + code(1).lower() + " ", "20"], [wrong, "30"], ["", "40"], [code(3), "50"]])
    register = _load([path], catalog, tmp_path)
    assert _rows(register, "employees") == {code(1): (10.0,), code(3): (50.0,)}   # the first row of a code counts
    s = register.summary.sources[0]
    assert (s.rows, s.used, s.duplicates, s.invalid_code, s.missing_code) == (5, 2, 1, 1, 1)
    assert register.summary.rejected == 3
    problems = {r[1]: r[3] for r in _issues(register)}
    assert "以第 1 行为准" in problems["2"] and "校验位" in problems["3"] and "缺少" in problems["4"]


def test_gbk_csv_xlsx_and_parquet_are_read(catalog: Catalog, tmp_path: Path) -> None:
    gbk = _csv(tmp_path / "gbk.csv", ["统一社会信用代码", "企业名称", "所属行业"], [[code(1), "许昌钧瓷有限公司", "制造业"]], "gbk")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "成立日期", "上年度营业收入"])
    sheet.append([code(2), date(2020, 3, 1), 2500])
    book.save(tmp_path / "r.xlsx")
    engine = DuckDBEngine(tmp_path)
    engine.con.execute(f"COPY (SELECT '{code(3)}' AS credit_code, 42::BIGINT AS employees, true AS cert_hightech) "
                       f"TO '{tmp_path / 'r.parquet'}'")
    for path, column, value in ((gbk, "name", "许昌钧瓷有限公司"), (tmp_path / "r.xlsx", "founded", date(2020, 3, 1)),
                                (tmp_path / "r.parquet", "employees", 42.0)):
        register = _load([path], catalog, tmp_path / path.suffix[1:])
        assert list(_rows(register, column).values()) == [(value,)]


def test_several_files_are_joined_on_the_code(catalog: Catalog, tmp_path: Path) -> None:
    """登记, 纳税, 参保 and 认定 extracts: one row per enterprise; the first file knowing a fact gives it."""
    registration = _csv(tmp_path / "登记.csv", ["统一社会信用代码", "所在区县", "所属行业"],
                        [[code(1), "建安区", "制造业"], [code(2), "魏都区", "零售业"]])
    tax = _csv(tmp_path / "纳税.csv", ["统一社会信用代码", "上年度营业收入", "所属行业"],
               [[code(1), "3000", "批发业"], [code(3), "80", ""]])
    insurance = _csv(tmp_path / "参保.csv", ["统一社会信用代码", "从业人数"], [[code(1), "85"], [code(2), "7"]])
    recognition = _csv(tmp_path / "认定.csv", ["统一社会信用代码", "高新技术企业"], [[code(1), "是"]])
    register = _load([registration, tax, insurance, recognition], catalog, tmp_path)
    rows = _rows(register, "county", "industry", "revenue", "employees", "cert_hightech")
    assert rows == {code(1): ("建安区", "制造业", 3000.0, 85.0, True), code(2): ("魏都区", "零售业", None, 7.0, None),
                    code(3): (None, None, 80.0, None, None)}
    assert register.summary.enterprises == 3 and register.summary.in_every_source == 1
    assert register.summary.conflicts == {"industry": 1}
    assert any("不一致" in line for line in register.summary.lines(catalog.schema))


def test_vague_values_come_as_min_max_pairs(catalog: Catalog, tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", ["credit_code", "从业人数_min", "从业人数_max", "employees_max_open", "revenue", "revenue_min",
                                     "revenue_max"], [
        [code(1), "280", "320", "true", "", "100", "200"],
        [code(2), "50", "50", "", "900", "", ""],
        [code(3), "400", "300", "", "", "", "200"],
    ])
    register = _load([path], catalog, tmp_path)
    rows = _rows(register, "employees__lo", "employees__hi", "employees__hi_open", "revenue__lo", "revenue__hi")
    assert rows[code(1)] == (280.0, 320.0, True, 100.0, 200.0)
    assert rows[code(2)] == (50.0, 50.0, False, 900.0, 900.0)       # equal ends: a number
    assert rows[code(3)] == (None, None, None, None, None)           # min > max, and no min (revenue ≥ 0): bad
    assert {r[2] for r in _issues(register)} == {"从业人数", "上年度营业收入"}


def test_a_register_without_any_usable_code_is_one_clear_error(catalog: Catalog, tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", ["credit_code", "employees"], [["12345", "10"]])
    with pytest.raises(UserError, match="没有可用的企业"):
        _load([path], catalog, tmp_path)
    with pytest.raises(UserError, match="统一社会信用代码"):
        _load([_csv(tmp_path / "nocode.csv", ["employees"], [["10"]])], catalog, tmp_path)
    with pytest.raises(UserError, match="找不到"):
        _load([tmp_path / "absent.csv"], catalog, tmp_path)
