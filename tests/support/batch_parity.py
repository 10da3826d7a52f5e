"""Parity between the batch compiler and `match_profile`: profiles written as a register, judged both ways.

`judge_profiles` writes the profiles as a register CSV (a vague value as `<key>_min/_max/_min_open/_max_open`
columns), loads it through the real ingestion, runs the compiled catalog on the chosen engine and
returns each row's verdicts. `mismatches` compares them with the per-profile engine and names, for each
difference, the row, the item and the first condition whose outcome differs.
"""
from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path
from typing import Any

from sqlglot import exp

from calculator.core.vocabulary import MET, NOT_MET
from calculator.facts.codes import with_check
from calculator.facts.profile import validate_profile
from calculator.policy.catalog import Catalog
from calculator.policy.match import match_profile
from calculator.policy.rules.tree import Trace
from calculator.registry.compiler import STATUS_OF, CompiledCatalog, CompiledPolicy, compile_catalog
from calculator.registry.engine import DuckDBEngine, Engine
from calculator.registry.facts import interval_columns
from calculator.registry.register import Register, RegisterSummary, load_register


def code(i: int) -> str:
    return with_check(f"91411000MA{i:07d}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_register(profiles: list[dict[str, Any]], catalog: Catalog, path: Path, intervals: bool = True) -> list[str]:
    """The profiles as one register CSV (every schema field a column); returns their codes in order."""
    schema = catalog.schema
    vague = {k for p in profiles for k, v in p.items() if isinstance(v, dict)}
    header = ["credit_code"]
    for key, spec in schema.fields.items():
        if key == "credit_code":
            continue
        header.append(key)
        if spec.numeric and intervals and key in vague:   # a register has interval columns only where it needs them
            header += [f"{key}_{part}" for part in ("min", "max", "min_open", "max_open")]
    codes = [code(i) for i in range(len(profiles))]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for credit_code, profile in zip(codes, profiles):
            row: dict[str, str] = {"credit_code": credit_code}
            for key, value in profile.items():
                if isinstance(value, dict):
                    for part in ("min", "max", "min_open", "max_open"):
                        row[f"{key}_{part}"] = _cell(value.get(part))
                else:
                    row[key] = _cell(value)
            writer.writerow([row.get(h, "") for h in header])
    return codes


def canonical(profile: Any, catalog: Catalog) -> dict[str, Any]:
    """A profile as keys and plain values (labels, certification lists and intervals resolved)."""
    return validate_profile(profile, catalog.schema).model_dump(exclude_none=True)


def load(profiles: list[dict[str, Any]], catalog: Catalog, folder: Path, engine: Engine | None = None,
         intervals: bool = True) -> tuple[Engine, Register, list[str]]:
    """Through the real ingestion: the profiles as a register CSV, read and validated."""
    folder.mkdir(parents=True, exist_ok=True)
    engine = engine or DuckDBEngine(folder)
    codes = write_register([canonical(p, catalog) for p in profiles], catalog, folder / "register.csv", intervals)
    return engine, load_register([str(folder / "register.csv")], engine, catalog.schema, folder), codes


def typed_columns(catalog: Catalog, intervals: bool = True) -> dict[str, str]:
    """The normalized register's columns and types (what ingestion produces), every field present."""
    columns: dict[str, str] = {}
    for key, spec in catalog.schema.fields.items():
        if spec.numeric and intervals:
            lo, hi, lo_open, hi_open = interval_columns(key)
            columns.update({lo: "DOUBLE", hi: "DOUBLE", lo_open: "BOOLEAN", hi_open: "BOOLEAN"})
        else:
            columns[key] = {"int": "DOUBLE", "number": "DOUBLE", "bool": "BOOLEAN", "date": "DATE"}.get(spec.type, "VARCHAR")
    return columns


def load_typed(profiles: list[dict[str, Any]], catalog: Catalog, engine: DuckDBEngine, intervals: bool = True,
               table: str = "register") -> tuple[Register, list[str]]:
    """Straight into a typed `register` table (no CSV), as ingestion would leave it: fast, for many examples."""
    columns = typed_columns(catalog, intervals)
    engine.con.execute(f'CREATE OR REPLACE TABLE "{table}" (' + ", ".join(f'"{c}" {t}' for c, t in columns.items()) + ")")
    codes = [code(i) for i in range(len(profiles))]
    rows = []
    for credit_code, profile in zip(codes, profiles):
        values: dict[str, Any] = {"credit_code": credit_code}
        for key, value in canonical(profile, catalog).items():
            spec = catalog.schema.fields[key]
            if spec.numeric and intervals:
                lo, hi, lo_open, hi_open = interval_columns(key)
                if isinstance(value, dict) and not (value.get("min") == value.get("max") and value.get("min") is not None):
                    values.update({lo: -math.inf if value.get("min") is None else value["min"],
                                   hi: math.inf if value.get("max") is None else value["max"],
                                   lo_open: bool(value.get("min_open")), hi_open: bool(value.get("max_open"))})
                else:
                    number = value["min"] if isinstance(value, dict) else value
                    values.update({lo: float(number), hi: float(number), lo_open: False, hi_open: False})
            elif key != "credit_code":
                values[key] = value
        rows.append([values.get(c) for c in columns])
    if rows:
        import pandas

        frame = pandas.DataFrame(rows, columns=list(columns), dtype=object)
        engine.con.register("_typed_rows", frame)
        casts = ", ".join(f'CAST("{c}" AS {t})' for c, t in columns.items())
        engine.con.execute(f'INSERT INTO "{table}" SELECT {casts} FROM _typed_rows')
        engine.con.unregister("_typed_rows")
    summary = RegisterSummary([])
    return Register(engine, catalog.schema, list(columns), summary, b"", table), codes


_texts: dict[tuple[int, str, str], tuple[CompiledCatalog, str, list[str]]] = {}


def judged(engine: Engine, register: Register, compiled: CompiledCatalog) -> dict[str, dict[str, Any]]:
    """credit_code → {column: value} of the wide verdict table (the query's text is kept per catalog)."""
    key = (id(compiled), register.table, engine.dialect)
    if key not in _texts or _texts[key][0] is not compiled:
        query = compiled.query(register.source, keep=("credit_code",))
        _texts[key] = (compiled, query.sql(engine.dialect), [s.alias_or_name for s in query.expressions])
    _, text, names = _texts[key]
    return {row[0]: dict(zip(names, row)) for row in engine.fetch(text)}


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def expected(result: Any) -> tuple[str, str, float | None, float | None, float | None]:
    """(status, missing, amount, low, high) as the per-profile engine gives them (amounts unrounded)."""
    amount = result.amount
    value = low = high = None
    if amount is not None:
        if amount.value is not None:
            value = low = high = amount.value
        elif amount.is_range:
            low, high = amount.low, amount.high
    return result.status, ";".join(result.missing), value, low, high


def mismatches(profiles: list[Any], codes: list[str], rows: dict[str, dict[str, Any]],
               compiled: CompiledCatalog, today: date, engine: Engine, register: Register) -> list[str]:
    catalog = compiled.catalog
    out: list[str] = []
    by_id = {c.policy.id: c for c in compiled.policies}
    for index, (profile, credit_code) in enumerate(zip(profiles, codes)):
        report = match_profile(profile, catalog, today)
        row = rows[credit_code]
        for result in report.results:
            c = by_id.get(result.policy.id)
            if c is None:
                continue
            amount = row[c.column("amount")]
            low, high = row[c.column("low")], row[c.column("high")]
            got = (STATUS_OF[row[c.column("status")]], c.decode(row[c.column("missing")]), amount,
                   amount if low is None else low, amount if high is None else high)
            want = expected(result)
            if got[:2] != want[:2] or not all(_close(g, w) for g, w in zip(got[2:], want[2:])):
                where = first_difference(engine, register, compiled, c, credit_code, result.trace)
                out.append(f"row {index} ({credit_code}) item {result.policy.id}: batch {got} vs per-profile {want}; "
                           f"first differing condition: {where}; profile {profile}")
    return out


def first_difference(engine: Engine, register: Register, compiled: CompiledCatalog, policy: CompiledPolicy,
                     credit_code: str, trace: Trace) -> str:
    """The first condition (in trace order) whose batch outcome differs from the per-profile one."""
    query = compiled.query(register.source, keep=("credit_code",), debug=policy)
    query = query.where(exp.EQ(this=exp.column("credit_code", quoted=True), expression=exp.Literal.string(credit_code)))
    values = engine.fetch(exp.select("*").from_(exp.Subquery(this=query, alias="d")).where(
        exp.EQ(this=exp.column("credit_code"), expression=exp.Literal.string(credit_code))))[0][1:]
    traces: list[Trace] = []

    def walk(t: Trace) -> None:
        traces.append(t)
        for child in t.children:
            walk(child)
    walk(trace)
    differing = []
    for (node, _), value, t in zip(policy.nodes, values, traces):
        outcome = MET if value is True else NOT_MET if value is False else "unknown"
        if outcome != t.outcome:
            differing.append((not t.children, f"{getattr(node, 'id', '') or node.path} “{t.text}”: batch {outcome}, "
                                              f"per-profile {t.outcome}"))
    leaves = [text for leaf, text in differing if leaf]
    if leaves or differing:
        return (leaves or [text for _, text in differing])[0]
    return "no condition differs (the amount or the missing facts differ)"


def run_parity(profiles: list[dict[str, Any]], catalog: Catalog, today: date, folder: Path,
               engine: Engine | None = None, intervals: bool = True,
               compiled: CompiledCatalog | None = None) -> list[str]:
    engine, register, codes = load(profiles, catalog, folder, engine, intervals)
    compiled = compiled or compile_catalog(catalog, today, register.columns)
    rows = judged(engine, register, compiled)
    return mismatches(profiles, codes, rows, compiled, today, engine, register)



