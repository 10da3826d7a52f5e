"""Text normalisation shared by quote verification, retrieval evaluation and search."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC, lower case, no whitespace: the form in which a question's words are looked up in passages."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def squash(text: str) -> str:
    """NFKC (full/half width) and no whitespace: the form in which quotes and key phrases are compared."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=64)
def _squashed_with_map(text: str) -> tuple[str, tuple[int, ...]]:
    """The squashed text plus, for each of its characters, the index of the source character."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for norm in unicodedata.normalize("NFKC", ch):
            if not norm.isspace():
                out.append(norm)
                where.append(i)
    return "".join(out), tuple(where)


def locate(document_text: str, quote: str) -> tuple[int, int] | None:
    """Character span of `quote` in `document_text`, ignoring whitespace and width; None when absent.

    The span lets a citation be shown in place, highlighted in its document.
    """
    q = squash(quote)
    if not q:
        return None
    squashed, where = _squashed_with_map(document_text)
    i = squashed.find(q)
    if i < 0:
        return None
    return where[i], where[i + len(q) - 1] + 1


def contains_quote(document_text: str, quote: str) -> bool:
    """True when `quote` appears verbatim in `document_text`, ignoring whitespace and width differences."""
    return locate(document_text, quote) is not None
