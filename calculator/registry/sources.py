"""Register extracts as the engine can read them: CSV in any common encoding, XLSX and Parquet, and which
of their columns are which facts.

DuckDB reads only UTF-8 CSV and no XLSX offline, so a GBK/GB18030 file is transcoded and an XLSX sheet is
written as UTF-8 CSV in the run's work folder first (the originals are never touched). A column is named
by the fact's key (`employees`) or its Chinese label (`从业人数`); a vague value comes as a pair
`<key or label>_min` / `_max` (optionally `_min_open` / `_max_open`). Anything else is reported, not used.
"""
from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from calculator.core.errors import UserError
from calculator.facts.schema import FactSchema

REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)   # hdfs://, s3a://, gs://, abfs://, file://
PARTS = ("min", "max", "min_open", "max_open")
CODE = "credit_code"
_CHUNK = 1 << 20


@dataclass
class Source:
    """One extract: where it is, how to read it, and what its columns mean."""

    label: str                 # the file name shown in reports (never a path with user folders)
    path: str                  # what the engine reads (a transcoded copy for GBK CSV and XLSX)
    kind: str                  # csv | parquet
    view: str = ""
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)   # header → (field key, part)
    unknown: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)                  # header → engine type


def is_remote(path: str) -> bool:
    return bool(REMOTE.match(path))


def prepare(path: str, work: Path, index: int) -> Source:
    """A readable copy of one extract (or the extract itself) and its kind; unreadable files are one clear line."""
    label = path.rstrip("/").rsplit("/", 1)[-1]
    lowered = path.lower()
    if is_remote(path):
        return Source(label, path, "csv" if lowered.endswith((".csv", ".txt")) else "parquet")
    local = Path(path)
    if not local.exists():
        raise UserError(f"找不到登记表文件：{label}", f"register file not found: {label}")
    if local.is_dir():
        if not any(local.glob("*.parquet")):
            raise UserError(f"文件夹中没有 Parquet 文件：{label}", f"no Parquet files in the folder {label}")
        return Source(label, str(local / "*.parquet"), "parquet")
    suffix = local.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return Source(label, str(local), "parquet")
    if suffix in (".xlsx", ".xlsm"):
        return Source(label, str(_xlsx_to_csv(local, work / f"source{index}.csv")), "csv")
    if suffix in (".csv", ".txt", ".tsv"):
        return Source(label, str(_utf8(local, work / f"source{index}.csv")), "csv")
    raise UserError(f"不支持的登记表格式：{label}（可用 CSV、XLSX、Parquet）",
                    f"unsupported register format: {label} (CSV, XLSX or Parquet)")


def _utf8(path: Path, copy: Path) -> Path:
    """The file itself when it is UTF-8 (a BOM is fine), else a UTF-8 copy (GB18030 covers GBK and GB2312)."""
    encoding = _encoding(path)
    if encoding == "utf-8":
        return path
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as source, copy.open("w", encoding="utf-8", newline="") as target:
        while chunk := source.read(_CHUNK):
            target.write(decoder.decode(chunk))
        target.write(decoder.decode(b"", final=True))
    return copy


def _encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(_CHUNK)
    if not head:
        raise UserError(f"登记表为空：{path.name}", f"the register file is empty: {path.name}")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "gb18030"):
        return "gb18030"
    import charset_normalizer

    best = charset_normalizer.from_bytes(head).best()
    if best is None or not _decodes(path, best.encoding):
        raise UserError(f"无法识别登记表的文字编码：{path.name}", f"cannot tell the text encoding of {path.name}")
    return str(best.encoding)


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _xlsx_to_csv(path: Path, copy: Path) -> Path:
    """The first sheet as UTF-8 CSV: dates as YYYY-MM-DD, numbers exactly, empty cells empty."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise UserError(f"无法读取 XLSX 文件：{path.name}", f"cannot read the XLSX file {path.name}") from None
    try:
        sheet = book.worksheets[0]
        with copy.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            for row in sheet.iter_rows(values_only=True):
                if row and any(cell is not None for cell in row):
                    writer.writerow([_cell(cell) for cell in row])
    finally:
        book.close()
    return copy


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _clean(header: str) -> str:
    return unicodedata.normalize("NFKC", header).strip().lstrip("\ufeff").strip()


def map_columns(source: Source, headers: list[tuple[str, str]], schema: FactSchema) -> None:
    """Which header is which fact (by key or Chinese label, with _min/_max parts); the rest is reported."""
    names: dict[str, str] = {}
    for key, spec in schema.fields.items():
        names[key.lower()] = key
        names[_clean(spec.label)] = key
    for header, kind in headers:
        if header == "_row":
            continue
        cleaned = _clean(header)
        target = names.get(cleaned) or names.get(cleaned.lower())
        part = "value"
        if target is None:
            for suffix in sorted(PARTS, key=len, reverse=True):
                stem = cleaned[: -len(suffix) - 1] if cleaned.lower().endswith("_" + suffix) else ""
                found = names.get(stem) or names.get(stem.lower()) if stem else None
                if found and schema.fields[found].numeric:
                    target, part = found, suffix
                    break
        if target is None:
            source.unknown.append(header)
            continue
        if any(existing == (target, part) for existing in source.columns.values()):
            raise UserError(f"{source.label} 中“{schema.label(target)}”出现了两列", f"{source.label} has two columns for {target}")
        source.columns[header] = (target, part)
        source.types[header] = kind
    if CODE not in {target for target, _ in source.columns.values()}:
        raise UserError(f"{source.label} 没有“统一社会信用代码”列（列名可用 credit_code 或 {schema.label(CODE)}）",
                        f"{source.label} has no credit_code column")
