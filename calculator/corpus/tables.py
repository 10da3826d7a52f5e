"""Reference tables of the knowledge folder: industries (GB/T 4754), regions (许昌's counties), 划型标准, the
activities people name (what they do → an industry) and, optionally, the offices an answer refers people to.

They are data in `<KNOWLEDGE_DIR>/data/` and are loaded per folder, so a second knowledge folder in the
same process has its own tables. The fact schema builds choices and derived facts from them; search reads
their aliases to judge which place or industry a question names.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TABLE_FILES = {"industries": "industries.yaml", "regions": "regions.yaml", "size_standards": "sme_size_standards.yaml",
               "activities": "activities.yaml", "offices": "offices.yaml"}
OUTSIDE_XUCHANG = "许昌市外"  # the regions.yaml entry for anywhere outside the city


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@dataclass(frozen=True, eq=False)
class ReferenceTables:
    """The tables as loaded from one data folder."""

    folder: Path
    industries: dict[str, dict[str, Any]]
    regions: dict[str, list[str]]
    size_standards: dict[str, Any]
    activities: dict[str, Any]
    offices: dict[str, Any]      # {default: str, offices: [{name, words}]}; {} when the folder has none

    def office_for(self, *texts: str) -> str:
        """The office to ask about `texts` (a question, then a passage): the first entry one of whose words the
        first text holds, else the second …"""
        for text in texts:
            for entry in self.offices.get("offices") or []:
                if any(word in text for word in entry.get("words", ())):
                    return str(entry["name"])
        return str(self.offices.get("default") or "当地政务服务大厅或 12345 政务服务便民热线")

    def file(self, table: str) -> Path:
        return self.folder / TABLE_FILES[table]


def _mtimes(folder: Path, names: tuple[str, ...]) -> tuple[int, ...]:
    return tuple((folder / name).stat().st_mtime_ns if (folder / name).exists() else 0 for name in names)


def load_tables(folder: Path) -> ReferenceTables:
    """The tables of a data folder (`Settings.tables_dir`); cached until a file changes."""
    folder = folder.resolve()
    return _load(folder, _mtimes(folder, tuple(TABLE_FILES.values())))


@lru_cache(maxsize=8)
def _load(folder: Path, _stamp: tuple[int, ...]) -> ReferenceTables:
    return ReferenceTables(
        folder=folder,
        industries=read_yaml(folder / TABLE_FILES["industries"])["industries"],
        regions=read_yaml(folder / TABLE_FILES["regions"])["regions"],
        size_standards=read_yaml(folder / TABLE_FILES["size_standards"]),
        activities=_optional(folder / TABLE_FILES["activities"]),
        offices=_optional(folder / TABLE_FILES["offices"]),
    )


def _optional(path: Path) -> dict[str, Any]:
    """A table a knowledge folder may leave out (without activities.yaml, industries are read by their aliases;
    without offices.yaml, answers refer people to the default office)."""
    loaded = read_yaml(path) if path.exists() else None
    return loaded if isinstance(loaded, dict) else {}
