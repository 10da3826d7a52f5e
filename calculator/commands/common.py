"""What several commands share: reading --today and a profile file, writing an output file.

Each failure is one bilingual UserError (the dispatcher prints it and exits 2), never a traceback.
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from calculator.core.errors import UserError


def parse_today(raw: str | None, option: str = "--today") -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise UserError(f"日期格式应为 YYYY-MM-DD：{raw}", f"{option} must be YYYY-MM-DD, got {raw!r}") from None


MAX_PROFILE_CHARS = 1_000_000  # a profile is a few KB: a bigger file is the wrong file, and is not read whole


def read_profile(source: str) -> Any:
    """The JSON object in a file or on stdin ('-'); every failure is one clear line."""
    name = "标准输入" if source == "-" else source
    try:
        if source == "-":
            raw = sys.stdin.read(MAX_PROFILE_CHARS + 1)
        else:
            with open(source, encoding="utf-8-sig") as handle:
                raw = handle.read(MAX_PROFILE_CHARS + 1)
    except FileNotFoundError:
        raise UserError(f"找不到画像文件：{source}", f"profile file not found: {source}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"无法读取画像文件：{name}", f"cannot read the profile {source}: {exc}") from None
    if len(raw) > MAX_PROFILE_CHARS:
        raise UserError(f"画像文件过大（超过 {MAX_PROFILE_CHARS:,} 字符）：{name}",
                        f"the profile is larger than {MAX_PROFILE_CHARS:,} characters: {source}")
    if not raw.strip():
        raise UserError(f"画像为空：{name}", f"the profile is empty: {source}")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(f"画像不是有效的 JSON（第{exc.lineno}行第{exc.colno}列）：{name}",
                        f"the profile is not valid JSON (line {exc.lineno}, column {exc.colno}): {source}") from None
    except RecursionError:
        raise UserError(f"画像 JSON 嵌套过深：{name}", f"the profile JSON is nested too deeply: {source}") from None


def write_output(path: Path, data: bytes) -> None:
    """Write a file the user asked for; a bad path is one bilingual line, not a traceback."""
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True)
        path.write_bytes(data)
    except OSError as exc:
        raise UserError(f"无法写入文件 {path}（{exc.strerror or exc}）", f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"已写出 / written: {path}", file=sys.stderr)
