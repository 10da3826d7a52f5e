"""User-facing errors: one line, Chinese then English, never a traceback."""
from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or setup that they can fix; shown as one bilingual line."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


class ServiceUnavailable(UserError):
    """A service answers depend on (the Chroma server) is down or unreachable: worth retrying later, and
    nothing else is affected (matching needs no index), so callers word it for users and carry on."""
