"""Structure-aware passages: a citation must point at an article or an outline item, not at "chunk 17".

The document's own structure decides the cuts (markdown headings, 第X编/章/节/条, 一、/（一）/1./(1),
paragraphs); only a paragraph longer than the size limit is cut, and then at sentence ends 。！？；.
Headings are not repeated in passage text: they live in the locator, and `indexed_text` puts the title
and locator in front of the text that is embedded and indexed.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from calculator.corpus.documents import Document

MAX_CHARS = 500        # a passage grows by whole paragraphs up to this size
MIN_CHARS = 160        # below this, a new outline item does not yet start a new passage
HARD_MAX_CHARS = 900   # a single sentence longer than this is cut at commas (or, failing that, hard)
LABEL_CHARS = 24       # headings longer than this are shortened in locators
SEPARATOR = " › "

_NUM = "零〇一二三四五六七八九十百千0-9０-９"
# rank: smaller = higher in the outline. 编/章/节/条 are legal structure; the rest are outline items.
_MARKERS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"第[{_NUM}]+编")),
    (2, re.compile(rf"第[{_NUM}]+章")),
    (3, re.compile(rf"第[{_NUM}]+节")),
    (4, re.compile(rf"第[{_NUM}]+条(?:之[{_NUM}]+)?")),
    (5, re.compile(r"[一二三四五六七八九十]+、")),
    (6, re.compile(rf"[（(][{_NUM}]+[）)]")),
    (7, re.compile(r"\d{1,2}[.．、](?!\d)")),
    (8, re.compile(r"[（(]\d{1,2}[）)]|[①-⑳]")),
)
ARTICLE_RANK = 4
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*)$")
_SENTENCE = re.compile(r".*?(?:[。！？；!?;…]+[”’」』）)]*|$)", re.S)
_CLAUSE = re.compile(r".*?(?:[，、,：:]|$)", re.S)
_FINAL = tuple("。！？；!?;…”’」』")


@dataclass(frozen=True)
class Passage:
    """A citable span of `Document.text`: `doc.text[start:end] == text`."""

    passage_id: str
    doc_id: str
    locator: str
    text: str
    start: int
    end: int
    heading: str = ""   # the full heading path ("第四章 税收优惠 第二十八条"): indexed, not shown


@dataclass
class _Line:
    start: int
    end: int
    text: str
    paragraph: int          # index of the blank-line separated paragraph it belongs to
    heading: bool = False   # structure only: goes to the locator, not into passage text
    rank: int = 0           # outline rank of a leading marker or heading (0 = plain text)
    label: str = ""         # how the locator names it ("第二十八条", "二、主要任务", "（三）")
    title: str = ""         # a heading's full text ("第三条 小型微利企业所得税"), for the indexed prefix
    soft_break: bool = False  # a short standalone line (a news title, a byline): a good place to cut


def _marker(text: str) -> tuple[int, str]:
    for rank, pattern in _MARKERS:
        match = pattern.match(text)
        if match:
            return rank, match.group(0)
    return 0, ""


def _short(label: str) -> str:
    label = label.strip()
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"


def _classify(line: _Line, alone: bool) -> _Line:
    """Heading, numbered item or plain text; `alone` = the line is a whole paragraph by itself."""
    md = _MD_HEADING.match(line.text)
    body = md.group(2).strip() if md else line.text.strip()
    rank, marker = _marker(body)
    if md:
        line.heading, line.title = True, body
        line.rank = rank or len(md.group(1))
        line.label = marker if rank and rank <= ARTICLE_RANK else _short(body)
        return line
    short_title = len(body) <= 40 and not body.endswith(_FINAL)
    if rank and rank < ARTICLE_RANK and short_title:
        line.heading, line.rank, line.label, line.title = True, rank, marker, body
    elif rank and rank != ARTICLE_RANK and short_title:
        line.heading, line.rank, line.label, line.title = True, rank, _short(body), body
    elif rank:
        line.rank, line.label = rank, marker
    else:
        line.soft_break = alone and short_title
    return line


def _lines(text: str) -> list[_Line]:
    raw: list[_Line] = []
    paragraph, offset, previous_blank = 0, 0, True
    for chunk in text.split("\n"):
        stripped = chunk.strip()
        if stripped:
            if previous_blank and raw:
                paragraph += 1
            lead = len(chunk) - len(chunk.lstrip())
            raw.append(_Line(offset + lead, offset + lead + len(stripped), stripped, paragraph))
        previous_blank = not stripped
        offset += len(chunk) + 1
    sizes: dict[int, int] = {}
    for line in raw:
        sizes[line.paragraph] = sizes.get(line.paragraph, 0) + 1
    lines = [_classify(line, sizes[line.paragraph] == 1) for line in raw]
    top = [line for line in lines if line.heading and line.text.startswith("# ")]
    if len(top) == 1:  # a single level-1 heading is the document's title, not a section of it
        top[0].rank, top[0].label = 0, ""
    return lines


def _pieces(text: str, start: int) -> Iterator[tuple[int, int]]:
    """Cut an over-long line at sentence ends into spans of at most MAX_CHARS (a giant sentence at commas)."""
    spans: list[tuple[int, int]] = []
    for sentence in _SENTENCE.finditer(text):
        s, e = sentence.span()
        if e == s:
            continue
        if e - s <= HARD_MAX_CHARS:
            spans.append((s, e))
            continue
        for clause in _CLAUSE.finditer(text, s, e):
            cs, ce = clause.span()
            while ce - cs > HARD_MAX_CHARS:  # no punctuation at all: a hard cut is the only option
                spans.append((cs, cs + MAX_CHARS))
                cs += MAX_CHARS
            if ce > cs:
                spans.append((cs, ce))
    piece_start, piece_end = spans[0]
    for s, e in spans[1:]:
        if e - piece_start > MAX_CHARS:
            yield start + piece_start, start + piece_end
            piece_start = s
        piece_end = e
    yield start + piece_start, start + piece_end


class _Builder:
    """Accumulates lines into passages while tracking the outline path for locators."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.passages: list[Passage] = []
        self.path: list[tuple[int, str, str]] = []   # (rank, locator label, full title)
        self.heading = ""
        self.span: tuple[int, int] | None = None
        self.locator = ""
        self.paragraph_count = 0     # paragraphs since the last heading or item (for "第N段")
        self.clause_count = 0        # paragraphs since the last article (for "第N款")
        self.last_paragraph = -1

    def flush(self) -> None:
        if self.span:
            start, end = self.span
            n = len(self.passages) + 1
            self.passages.append(Passage(f"{self.doc.doc_id}#{n}", self.doc.doc_id, self.locator,
                                         self.doc.text[start:end], start, end, self.heading))
        self.span = None

    def enter(self, rank: int, label: str, title: str = "") -> None:
        while self.path and self.path[-1][0] >= rank:
            self.path.pop()
        self.path.append((rank, label, title or label))
        self.paragraph_count = 0
        if rank <= ARTICLE_RANK:
            self.clause_count = 0

    def _locator_here(self, line: _Line) -> str:
        parts = [label for _, label, _ in self.path]
        in_article = any(rank == ARTICLE_RANK for rank, _, _ in self.path)
        if not line.rank:
            if in_article and self.path[-1][0] == ARTICLE_RANK and self.clause_count > 1:
                parts.append(f"第{self.clause_count}款")
            elif not in_article and (self.paragraph_count > 1 or not parts):
                parts.append(f"第{self.paragraph_count}段")
        return SEPARATOR.join(parts) or "全文"

    def add(self, line: _Line, start: int, end: int) -> None:
        if self.span and end - self.span[0] > MAX_CHARS:
            self.flush()
        if not self.span:
            self.span = (start, end)
            self.locator = self._locator_here(line)
            self.heading = " ".join(title for _, _, title in self.path)
        else:
            self.span = (self.span[0], end)

    def line(self, line: _Line) -> None:
        if line.heading:
            self.flush()
            if line.rank:
                self.enter(line.rank, line.label, line.title)
            return
        if line.paragraph != self.last_paragraph:
            self.paragraph_count += 1
            self.clause_count += 1
            self.last_paragraph = line.paragraph
        current = self.span[1] - self.span[0] if self.span else 0
        if line.rank:
            if line.rank <= 5 or current >= MIN_CHARS:
                self.flush()
            self.enter(line.rank, line.label)
            self.paragraph_count = self.clause_count = 1
        elif line.soft_break and current >= MIN_CHARS:
            self.flush()
        if line.end - line.start <= MAX_CHARS:
            self.add(line, line.start, line.end)
            return
        for index, (start, end) in enumerate(_pieces(line.text, line.start)):
            if index:
                self.flush()
            self.add(line, start, end)


def split(doc: Document) -> list[Passage]:
    """Passages in document order with human locators and exact character offsets."""
    builder = _Builder(doc)
    for line in _lines(doc.text):
        builder.line(line)
    builder.flush()
    return builder.passages


def indexed_text(doc_title: str, locator: str, text: str) -> str:
    """What is embedded and indexed: short title and locator in front, so both help matching."""
    title = doc_title if len(doc_title) <= 40 else doc_title[:39] + "…"
    return f"{title}｜{locator}\n{text}"
