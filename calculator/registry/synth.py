"""A synthetic 许昌 enterprise register for tests, demos and benchmarks: plausible, reproducible, not real.

Every value is drawn from the distributions below (seeded), every code is a valid GB 32100 code made of
random characters, and every name is made from a word list: no row describes a real enterprise. The
columns are profile field keys, so a row without a bad value, saved as JSON, is a `match --profile` input.

Assumptions (README § Synthetic register): the shares of the county-level divisions follow the size of
their economies (禹州, 长葛, 魏都, 建安 largest); about two thirds of market entities are 个体工商户; industry
shares lean to retail, wholesale, manufacturing (发制品, 电力装备, 陶瓷) and services; headcounts are
log-normal (个体户 1–8 people, companies a long tail), revenue follows headcount (about 30万元 per person,
log-normal), assets and profit follow revenue (a fifth make a loss); 一般纳税人 above about 500万元 a year;
certifications are rare (高企 0.5 % of companies …). Registers lack facts: each fact is missing at a rate
typical of its department's records (rates in `_MISSING`), about 0.3 % of cells hold a bad value, and
a few codes are repeated, wrong or absent, so validation is exercised.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from calculator.core.errors import UserError
from calculator.facts.codes import CHECK_ALPHABET, CHECK_WEIGHTS
from calculator.facts.schema import FactSchema

if TYPE_CHECKING:
    import numpy as np
    import pandas

COUNTIES = {"禹州市": 0.20, "长葛市": 0.16, "魏都区": 0.17, "建安区": 0.14, "襄城县": 0.10, "鄢陵县": 0.09,
            "许昌经济技术开发区": 0.04, "许昌城乡一体化示范区": 0.04, "东城区": 0.025, "许昌高新技术产业开发区": 0.025,
            "许昌市外": 0.01}
DIVISION = {"禹州市": "411081", "长葛市": "411082", "魏都区": "411002", "建安区": "411003", "襄城县": "411025",
            "鄢陵县": "411024", "许昌经济技术开发区": "411071", "许昌城乡一体化示范区": "411072", "东城区": "411073",
            "许昌高新技术产业开发区": "411074", "许昌市外": "410100"}
ENTITIES = {"个体工商户": 0.66, "公司": 0.28, "个人独资企业": 0.025, "合伙企业": 0.01, "农民专业合作社": 0.02,
            "社会组织": 0.003, "企业": 0.002}
INDUSTRIES = {"零售业": 0.24, "批发业": 0.11, "制造业": 0.14, "餐饮业": 0.08, "居民服务修理和其他服务业": 0.08,
              "农林牧渔业": 0.06, "建筑业": 0.05, "租赁和商务服务业": 0.05, "交通运输业": 0.04, "软件和信息技术服务业": 0.02,
              "科学研究和技术服务业": 0.02, "住宿业": 0.02, "文化和体育业": 0.015, "教育": 0.01, "卫生和社会工作": 0.01,
              "仓储业": 0.008, "房地产开发经营": 0.007, "物业管理": 0.006, "娱乐业": 0.005, "邮政业": 0.004,
              "信息传输业": 0.003, "电力热力燃气及水生产和供应业": 0.002, "采矿业": 0.002, "烟草制造业": 0.0005,
              "金融业": 0.0035, "水利环境和公共设施管理业": 0.003, "其他行业": 0.006}
# share of rows where the fact is missing (the department's records do not have it)
_MISSING = {"name": 0.01, "county": 0.02, "entity_type": 0.01, "industry": 0.03, "founded": 0.03, "state_owned": 0.3,
            "employees": 0.12, "revenue": 0.15, "total_assets": 0.25, "taxable_income": 0.3, "taxpayer_type": 0.05,
            "monthly_sales": 0.2, "vat_period": 0.3, "restricted_industry": 0.6, "rd_expense": 0.55, "layoff_rate": 0.4,
            "unemployment_insured": 0.2, "insured_months": 0.35, "insured_employees": 0.3, "unemployment_premium": 0.45}
_GENERIC_MISSING = 0.7
_BAD_SHARE = 0.003
_NAME_WORDS = list("恒达鑫源瑞丰华盛宏远永泰金诚博远聚力天成兴隆德润中原豫新佳顺海")
_TRADE = {"制造业": "机械制造", "零售业": "便利店", "批发业": "商贸", "餐饮业": "餐馆", "软件和信息技术服务业": "网络科技",
          "建筑业": "建筑工程", "农林牧渔业": "种植", "交通运输业": "物流", "居民服务修理和其他服务业": "家政服务"}


def _pick(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    import numpy as np

    names = list(table)
    weights = np.array([table[k] for k in names], dtype=float)
    return np.array(names, dtype=object)[rng.choice(len(names), size=n, p=weights / weights.sum())]


def _missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    out = values.astype(object)
    out[rng.random(len(values)) < share] = None
    return out


def synthesize(rows: int, seed: int, schema: FactSchema) -> pandas.DataFrame:
    """`rows` synthetic enterprises; bad cells are marked in `_bad_<key>` columns (see `write`)."""
    import numpy as np
    import pandas as pd

    if rows < 1:
        raise UserError("行数应为正整数", "--rows must be a positive number")
    rng = np.random.default_rng(seed)
    n = rows
    county = _pick(rng, COUNTIES, n)
    entity = _pick(rng, ENTITIES, n)
    industry = _pick(rng, INDUSTRIES, n)
    individual = entity == "个体工商户"
    company = ~individual
    data: dict[str, Any] = {}
    data["credit_code"] = _codes(rng, county, entity)
    data["name"] = _names(rng, county, industry, individual)
    data["county"], data["entity_type"], data["industry"] = county, entity, industry
    age_years = rng.exponential(7.0, n).clip(0, 35)
    founded = (np.datetime64("2026-11-30") - (age_years * 365.25).astype("timedelta64[D]")).astype("datetime64[D]")
    data["founded"] = pd.Series(founded).dt.date.to_numpy(dtype=object)
    data["state_owned"] = company & (rng.random(n) < 0.02)
    employees = np.where(individual, rng.integers(1, 9, n), np.round(rng.lognormal(2.2, 1.3, n))).clip(1, 50000)
    revenue = np.round(employees * rng.lognormal(np.log(30), 0.8, n), 2).clip(0.5, 5e6)
    assets = np.round(revenue * rng.lognormal(-0.2, 0.7, n), 2)
    margin = rng.normal(0.05, 0.08, n)
    taxable = np.round(revenue * margin, 2)
    general = (revenue > 500) | (rng.random(n) < 0.05)
    data["employees"] = employees.astype("int64")
    data["revenue"], data["total_assets"], data["taxable_income"] = revenue, assets, taxable
    data["taxpayer_type"] = np.where(general, "一般纳税人", "小规模纳税人").astype(object)
    monthly = np.round(revenue / 12 * rng.lognormal(0, 0.15, n), 2)
    data["monthly_sales"] = monthly
    data["vat_period"] = np.where(rng.random(n) < 0.7, "按季", "按月").astype(object)
    data["restricted_industry"] = rng.random(n) < 0.01
    innovative = company & np.isin(industry, ["制造业", "软件和信息技术服务业", "科学研究和技术服务业", "信息传输业"])
    data["rd_expense"] = np.where(innovative & (rng.random(n) < 0.5), np.round(revenue * rng.lognormal(np.log(0.03), 0.6, n), 2), 0.0)
    certified = rng.random((5, n))
    data["cert_hightech"] = innovative & (certified[0] < 0.05)
    data["cert_tech_sme"] = innovative & (certified[1] < 0.08)
    data["cert_innovative_sme"] = company & (certified[2] < 0.01)
    data["cert_specialized_sme"] = company & (certified[3] < 0.004)
    data["cert_little_giant"] = data["cert_specialized_sme"] & (certified[4] < 0.05)
    data["unemployment_insured"] = company & (rng.random(n) < 0.7)
    data["insured_months"] = np.where(data["unemployment_insured"], rng.integers(0, 121, n), 0).astype("int64")
    data["insured_employees"] = np.where(data["unemployment_insured"], np.floor(employees * rng.uniform(0.5, 1, n)), 0).astype("int64")
    data["layoff_rate"] = np.where(rng.random(n) < 0.8, 0.0, np.round(rng.uniform(0, 20, n), 2))
    data["unemployment_premium"] = np.round(data["insured_employees"] * rng.uniform(0.01, 0.03, n), 2)
    frame = pd.DataFrame({key: _missing(rng, np.asarray(values), _MISSING.get(key, 0.0)) if key not in ("credit_code",)
                          else values for key, values in data.items()})
    _generic(frame, rng, schema)
    _split_employees(frame, rng)
    _spoil(frame, rng, schema)
    return frame


def _codes(rng: np.random.Generator, county: np.ndarray, entity: np.ndarray) -> np.ndarray:
    """Valid codes: 9 (工商) + kind (1 enterprise, 2 个体户, 3 合作社) + division + M + 8 random characters + check."""
    import numpy as np

    n = len(county)
    alphabet = np.array(list(CHECK_ALPHABET))
    kinds = np.where(entity == "个体工商户", 2, np.where(entity == "农民专业合作社", 3, 1))
    divisions = np.array([DIVISION[c] for c in COUNTIES])[_index(county, list(COUNTIES))]
    digits = np.array([[int(ch) for ch in d] for d in divisions])            # 6 digits of the division
    tail = rng.integers(0, len(alphabet), (n, 8))
    index = np.column_stack([np.full(n, 9), kinds, digits, np.full(n, CHECK_ALPHABET.index("M")), tail])
    total = index @ np.array(CHECK_WEIGHTS)
    check = (31 - total % 31) % 31
    text = alphabet[np.column_stack([index, check])]
    return np.array(["".join(row) for row in text.tolist()], dtype=object)


def _index(values: np.ndarray, names: list[str]) -> np.ndarray:
    import numpy as np

    lookup = {name: i for i, name in enumerate(names)}
    return np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values))


def _names(rng: np.random.Generator, county: np.ndarray, industry: np.ndarray, individual: np.ndarray) -> np.ndarray:
    import numpy as np

    words = np.array(_NAME_WORDS)
    first, second = words[rng.integers(0, len(words), len(county))], words[rng.integers(0, len(words), len(county))]
    trade = np.array([_TRADE.get(i, "经营") for i in INDUSTRIES])[_index(industry, list(INDUSTRIES))]
    place = np.array([c[:2] for c in COUNTIES])[_index(county, list(COUNTIES))]
    shop = np.char.add(np.char.add(np.char.add(np.char.add(place, first), second), trade), "店（样例）")
    company = np.char.add(np.char.add(np.char.add(np.char.add("许昌", first), second), trade), "有限公司（样例）")
    return np.where(individual, shop, company).astype(object)


def _generic(frame: pandas.DataFrame, rng: np.random.Generator, schema: FactSchema) -> None:
    """Every other field of the schema, by its type (mostly missing: registers rarely hold them)."""
    import numpy as np

    n = len(frame)
    for key, spec in schema.fields.items():
        if key in frame.columns or spec.component or spec.sensitive:
            continue
        if spec.type == "bool":
            values: np.ndarray = rng.random(n) < 0.15
        elif spec.numeric:
            low = 0.0 if spec.minimum is None else max(float(spec.minimum), 0.0)
            high = 1000.0 if spec.maximum is None else min(float(spec.maximum), low + 1000.0)
            raw = low + (high - low) * rng.beta(0.8, 3.0, n)
            values = np.round(raw).astype("int64") if spec.type == "int" else np.round(raw, 2)
        elif spec.type == "choice" and spec.choices:
            values = np.array(spec.choices, dtype=object)[rng.integers(0, len(spec.choices), n)]
        else:
            continue
        frame[key] = _missing(rng, values, _GENERIC_MISSING)


def _split_employees(frame: pandas.DataFrame, rng: np.random.Generator) -> None:
    """A tenth of companies give 从业人数 as 劳动关系职工 + 劳务派遣 instead (composed by the engine)."""
    import numpy as np

    if "employees_contract" not in frame.columns and "employees_dispatched" not in frame.columns:
        n = len(frame)
        split = (frame["entity_type"] == "公司").to_numpy() & (rng.random(n) < 0.1) & frame["employees"].notna().to_numpy()
        total = frame["employees"].to_numpy(dtype=object).copy()
        contract = np.array([None] * n, dtype=object)
        dispatched = np.array([None] * n, dtype=object)
        for i in np.flatnonzero(split):
            part = int(total[i] * 0.85)
            contract[i], dispatched[i] = part, int(total[i]) - part
            total[i] = None
        frame["employees"], frame["employees_contract"], frame["employees_dispatched"] = total, contract, dispatched


def _spoil(frame: pandas.DataFrame, rng: np.random.Generator, schema: FactSchema) -> None:
    """Bad cells (`_bad_<key>`), repeated codes (0.1 %), wrong check characters (0.05 %) and missing codes (0.02 %)."""
    import numpy as np

    n = len(frame)
    for key in ("employees", "revenue", "founded", "industry", "taxpayer_type", "insured_months", "layoff_rate"):
        if key in frame.columns:
            frame[f"_bad_{key}"] = rng.random(n) < _BAD_SHARE
    codes = frame["credit_code"].to_numpy(dtype=object).copy()
    if n > 20:
        repeats = rng.choice(np.arange(1, n), size=max(1, n // 1000), replace=False)
        for i in repeats:
            codes[i] = codes[int(rng.integers(0, i))]
        for i in rng.choice(n, size=max(1, n // 2000), replace=False):
            code = codes[i]
            wrong = CHECK_ALPHABET[(CHECK_ALPHABET.index(code[-1]) + 1) % 31]
            codes[i] = code[:-1] + wrong
        for i in rng.choice(n, size=max(1, n // 5000), replace=False):
            codes[i] = None
    frame["credit_code"] = codes


_TYPES = {"int": "BIGINT", "number": "DOUBLE", "bool": "BOOLEAN", "date": "DATE"}


def _garbage(kind: str, column: str) -> str:
    """A bad cell as people write them: '约85人', '120万元左右', '2019-13-45', '其它（制造业）'."""
    return {"int": f"'约' || CAST({column} AS VARCHAR) || '人'", "number": f"CAST({column} AS VARCHAR) || '万元左右'",
            "date": f"CAST(year({column}) AS VARCHAR) || '-13-45'"}.get(kind, f"'其它（' || {column} || '）'")


def _spoiled(kind: str, column: str) -> str:
    """A bad cell a typed Parquet column can hold: out of the field's range, or not one of its choices."""
    return {"int": f"-1 - {column}", "number": f"-1 - {column}", "date": "DATE '1900-01-01'"}.get(kind, f"{column} || '（其它）'")


def write(frame: pandas.DataFrame, path: Path, schema: FactSchema) -> int:
    """CSV (bad cells as words) or Parquet (typed; bad cells out of range), written by DuckDB; returns rows."""
    import duckdb

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UserError("输出文件应以 .csv 或 .parquet 结尾", "--out must end in .csv or .parquet")
    con = duckdb.connect()
    try:
        con.register("synthetic", frame)
        outputs = []
        for c in (c for c in frame.columns if not c.startswith("_bad_")):
            kind = schema.fields[c].type
            typed = f'CAST("{c}" AS {_TYPES.get(kind, "VARCHAR")})'
            if f"_bad_{c}" not in frame.columns:
                outputs.append(f'{typed} AS "{c}"')
                continue
            bad = _garbage(kind, typed) if suffix == ".csv" else _spoiled(kind, typed)
            good = f"CAST({typed} AS VARCHAR)" if suffix == ".csv" else typed
            outputs.append(f'CASE WHEN "_bad_{c}" AND "{c}" IS NOT NULL THEN {bad} ELSE {good} END AS "{c}"')
        path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path).replace("'", "''")
        options = "(HEADER, DELIMITER ',')" if suffix == ".csv" else "(FORMAT parquet, COMPRESSION zstd)"
        con.execute(f"COPY (SELECT {', '.join(outputs)} FROM synthetic) TO '{target}' {options}")
    finally:
        con.close()
    return len(frame)
