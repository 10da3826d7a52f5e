"""User-facing errors: one line, Chinese then English, never a traceback."""
from __future__ import annotations

from typing import Any


class UserError(Exception):
    """A problem with the user's input or setup that they can fix; shown as one bilingual line."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


class LocatedError(UserError):
    """A problem at a place in a data file: `file` and the dotted `path` into it (conditions.all[1].op).

    One carrier for every catalog, condition, formula, parameter and quote error, so messages are built
    once in both languages and located as they travel up (`within`), never split apart again.
    """

    def __init__(self, zh: str, en: str, path: str = "", file: str = "") -> None:
        super().__init__(zh, en)
        self.path, self.file = path, file

    def within(self, path: str = "", file: str = "") -> "LocatedError":
        """The same error placed inside `path` (a prefix) and/or `file`."""
        inner = self.path
        joined = f"{path}.{inner}" if path and inner and not inner.startswith("[") else f"{path}{inner}"
        return LocatedError(self.zh, self.en, joined if path else inner, file or self.file)

    def line(self) -> str:
        return ": ".join(x for x in (self.file, self.path, self.en) if x)

    def line_zh(self) -> str:
        return ": ".join(x for x in (self.file, self.path, self.zh) if x)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "path": self.path, "zh": self.zh, "en": self.en}

    def __str__(self) -> str:
        return f"{self.path}: {self.en}" if self.path else self.en


class ServiceUnavailable(UserError):
    """A service answers depend on (the Chroma server) is down or unreachable: worth retrying later, and
    nothing else is affected (matching needs no index), so callers word it for users and carry on."""
