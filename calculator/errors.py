"""User-facing errors: one line, Chinese then English, never a traceback."""
from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or setup that they can fix; shown as one bilingual line."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
