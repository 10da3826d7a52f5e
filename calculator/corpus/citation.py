"""Clause references (as written in the catalog) and resolved citations (as shown to users).

A `ClauseRef` is what a YAML file says: document, locator, verbatim quote. Resolving it against the
corpus checks the quote and adds what a reader needs: title, 文号, kind and where it sits in the text.
A citation of a project summary (kind: summary) always carries "摘要，以原文为准".
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from calculator.core.errors import LocatedError
from calculator.core.textnorm import locate
from calculator.core.vocabulary import SUMMARY_NOTE, citation_line

if TYPE_CHECKING:
    from calculator.corpus.documents import Document

@dataclass(frozen=True)
class ClauseRef:
    doc: str
    locator: str
    quote: str

    @classmethod
    def from_yaml(cls, raw: Any, where: str) -> "ClauseRef":
        """Build from a `{doc, locator, quote}` mapping; `where` names the place for error messages."""
        if not isinstance(raw, Mapping):
            raise LocatedError("引用应为 {doc, locator, quote}", "citation must be a mapping", where)
        missing = [k for k in ("doc", "locator", "quote") if not str(raw.get(k) or "").strip()]
        if missing:
            raise LocatedError(f"引用缺少 {', '.join(missing)}", f"citation lacks {', '.join(missing)}", where)
        extra = set(raw) - {"doc", "locator", "quote"}
        if extra:
            raise LocatedError(f"引用含未知键 {sorted(extra)}", f"unknown citation keys {sorted(extra)}", where)
        return cls(str(raw["doc"]).strip(), str(raw["locator"]).strip(), str(raw["quote"]).strip())


class QuoteNotFound(LocatedError):
    """A catalog quote is not in its document: the citation would be a fabrication, so loading fails.
    `path` is "doc" (no such document) or "quote" (not found in it)."""


class SummaryMark:
    """For anything shown with its document's `kind`: a project summary must say so wherever it appears."""

    kind: str

    @property
    def is_summary(self) -> bool:
        return self.kind == "summary"

    @property
    def note(self) -> str:
        return SUMMARY_NOTE if self.is_summary else ""


@dataclass(frozen=True)
class Citation(SummaryMark):
    doc_id: str
    doc_title: str
    doc_number: str
    locator: str
    quote: str
    kind: str = ""
    start: int | None = None
    end: int | None = None

    def label(self) -> str:
        """One line for people: 《title》文号 locator（摘要，以原文为准）."""
        return citation_line(self.doc_title, self.doc_number, self.locator, self.is_summary)

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "doc_title": self.doc_title,
            "doc_number": self.doc_number,
            "locator": self.locator,
            "quote": self.quote,
            "summary": self.is_summary,
            "note": self.note,
            "start": self.start,
            "end": self.end,
        }


def resolve(ref: ClauseRef, docs: Mapping[str, "Document"]) -> Citation:
    """Check `ref` against the corpus and return the citation; raise QuoteNotFound when it does not hold."""
    doc = docs.get(ref.doc)
    if doc is None:
        raise QuoteNotFound(f"文档 {ref.doc} 不在知识库中", f"document {ref.doc!r} is not in the knowledge base", "doc")
    span = locate(doc.text, ref.quote)
    if span is None:
        raise QuoteNotFound(f"引文在 {ref.doc} 中找不到：“{ref.quote[:40]}”", f"quote not found verbatim in {ref.doc!r}", "quote")
    return Citation(ref.doc, doc.title, doc.doc_number, ref.locator, ref.quote, doc.kind, span[0], span[1])
