"""统一社会信用代码 (GB 32100-2015): the check every field declared `validator: credit_code` gets."""
from __future__ import annotations

CHECK_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CHECK_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_ok(code: str) -> bool:
    """GB 32100-2015: 18 characters from a 31-letter alphabet, the last a mod-31 check character."""
    if len(code) != 18 or any(c not in CHECK_ALPHABET for c in code):
        return False
    total = sum(CHECK_ALPHABET.index(c) * w for c, w in zip(code[:17], CHECK_WEIGHTS))
    return CHECK_ALPHABET[(31 - total % 31) % 31] == code[17]


def with_check(first17: str) -> str:
    """The 18-character code whose check character completes these 17 (for synthetic registers and tests)."""
    total = sum(CHECK_ALPHABET.index(c) * w for c, w in zip(first17, CHECK_WEIGHTS))
    return first17 + CHECK_ALPHABET[(31 - total % 31) % 31]
