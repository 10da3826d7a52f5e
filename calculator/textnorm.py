"""Text normalisation shared by quote verification, retrieval evaluation and search."""
from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")


def squash(text: str) -> str:
    """NFKC (full/half width) and no whitespace: the form in which quotes and key phrases are compared."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def contains_quote(document_text: str, quote: str) -> bool:
    """True when `quote` appears verbatim in `document_text`, ignoring whitespace and width differences."""
    q = squash(quote)
    return bool(q) and q in squash(document_text)
