"""Documents with provenance: read any supported file, decode it, repair layout damage, attach metadata.

Every later step (passages, citations, quote checks) points into `Document.text`, so cleaning happens
once, here, and is deterministic. Bad files raise `DocumentError` with a one-line bilingual reason so
that ingest can name the file and carry on with the rest.
"""
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.core.vocabulary import (
    COMPLETENESS_LABEL,
    DOCUMENT_KIND_LABEL,
    EXPIRED,
    NOT_STATED,
    NOT_YET,
    SUMMARY_NOTE,
    validity_state,
)

log = logging.getLogger(__name__)

SKIPPED_NAMES = frozenset({"INDEX.md", "README.md", "META.yaml"})  # corpus notes, not documents
META_FILE = "META.yaml"  # per-folder metadata for files that cannot carry front-matter (seeds/)

DOCUMENT_FIELDS = ("title", "doc_number", "issuer", "issued", "valid_from", "valid_until", "level",
                  "kind", "completeness", "note", "caveat", "source", "superseded_by")
DATE_FIELDS = ("issued", "valid_from", "valid_until")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Day = date  # the class (inside Document, `date` is its method)
_LEADING_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?(?![\d])")


@dataclass(frozen=True)
class Document:
    """One source text and where it came from; `text` is the cleaned text all offsets refer to."""

    doc_id: str
    title: str
    text: str
    sha256: str
    path: str
    doc_number: str = ""
    issuer: str = ""
    issued: str = ""
    valid_from: str = ""
    valid_until: str = ""
    level: str = ""
    kind: str = "policy"
    completeness: str = ""
    note: str = ""
    caveat: str = ""
    source: str = ""
    superseded_by: str = ""   # the text that replaced this one (e.g. 2023年第19号 → 2026年第10号)
    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_summary(self) -> bool:
        """The project's own summary of a text it does not hold: citations must say so."""
        return self.kind == "summary"

    def date(self, name: str) -> date | None:
        """`issued`, `valid_from` or `valid_until` as a date; None when not stated as one."""
        value = getattr(self, name)
        return date.fromisoformat(value) if _ISO_DATE.match(value) else None

    def validity_words(self, today: Day) -> tuple[str, bool]:
        """(how a reader is told whether this text is in force on `today`, whether it has expired or been
        replaced): 已到期（2020-12-31）, 已被取代：…, 尚未生效（…起）, 有效期至 2027-12-31 or 有效期未载明."""
        start, until = self.date("valid_from"), self.date("valid_until")
        state = validity_state(start, until, today)
        if state == EXPIRED and until is not None:
            return f"已到期（{until.isoformat()}）", True
        if self.superseded_by:
            return f"已被取代：{superseded_words(self.superseded_by)}", True
        if state == NOT_YET and start is not None:
            return f"尚未生效（{start.isoformat()}起）", False
        return (f"有效期至 {until.isoformat()}" if until else f"有效期{NOT_STATED}"), False

    def shown(self) -> dict[str, str]:
        """Provenance in Chinese for people: every missing value is 未载明, never a curator's English remark
        (`note` and `source` are for maintainers and are not shown)."""
        def day(name: str) -> str:   # a full date, else the leading year/month of a remark ("2023-03 (interviews…)")
            found = _LEADING_DATE.match(getattr(self, name))
            return found.group() if found else NOT_STATED
        kind = DOCUMENT_KIND_LABEL.get(self.kind, NOT_STATED)
        return {"title": self.title, "doc_number": self.doc_number or NOT_STATED,
                "issuer": self.issuer if _has_cjk(self.issuer) else NOT_STATED,
                "kind": f"{kind}（{SUMMARY_NOTE}）" if self.is_summary else kind,
                "completeness": COMPLETENESS_LABEL.get(self.completeness, "原文未入库" if self.is_summary else NOT_STATED),
                "issued": day("issued"), "valid_from": day("valid_from"), "valid_until": day("valid_until"),
                "superseded_by": superseded_words(self.superseded_by), "caveat": self.caveat}
    def metadata(self) -> dict[str, str]:
        """Provenance as flat strings (travels with every passage into the index)."""
        return {"doc_id": self.doc_id, **{name: getattr(self, name) for name in DOCUMENT_FIELDS}}


class DocumentError(UserError):
    """A file that cannot become a Document; `reason` is a stable code, zh/en a one-line explanation."""

    def __init__(self, path: Path | str, reason: str, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.path = Path(path)
        self.reason = reason


# ---------------------------------------------------------------- reading and decoding

def max_document_bytes() -> int:
    """`MAX_DOCUMENT_MB` (default 20): larger files are refused before they are read into memory."""
    return int(get_settings().max_document_mb * 1024 * 1024)


def _read_bytes(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise DocumentError(path, "oversized",
                                f"文件过大（{size / 1048576:.1f} MB，上限 {limit / 1048576:.1f} MB，可用 MAX_DOCUMENT_MB 调整）",
                                f"file too large ({size / 1048576:.1f} MB, limit {limit / 1048576:.1f} MB, see MAX_DOCUMENT_MB)")
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, "unreadable", f"无法读取文件（{exc.strerror or exc}）",
                            f"cannot read the file ({exc.strerror or exc})") from exc
    if not raw.strip():
        raise _empty(path)
    return raw


def _empty(path: Path, zh: str = "文件为空", en: str = "the file is empty") -> DocumentError:
    return DocumentError(path, "empty", zh, en)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(raw: bytes, path: Path) -> str:
    """UTF-8 first, then GB18030 (superset of GBK/GB2312), then charset-normalizer; reject garbage.

    Government files are mostly UTF-8 or GBK. GB18030 accepts many byte sequences, so a decode that
    succeeds is still checked for plausibility (common characters, no control bytes) before it is used.
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return _checked(raw.decode(encoding, errors="replace"), path)
    if b"\x00" in raw[:8192] or len(_CONTROL.findall(raw[:8192].decode("latin-1"))) > 0.05 * min(len(raw), 8192):
        raise DocumentError(path, "binary", "文件是二进制内容，不是文本", "the file is binary, not text")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or _plausible_chinese(text):
            return _checked(text, path)
    import charset_normalizer  # only for the rare file that is neither UTF-8 nor GB18030

    best = charset_normalizer.from_bytes(raw).best()
    if best is None:
        raise _undecodable(path)
    return _checked(str(best), path)


def _undecodable(path: Path) -> DocumentError:
    return DocumentError(path, "undecodable", "无法识别文字编码（不是 UTF-8/GBK/GB18030，或内容是乱码）",
                         "cannot decode the text (not UTF-8/GBK/GB18030, or garbled)")


def _plausible_chinese(text: str) -> bool:
    """Real GBK text is overwhelmingly GB2312 characters; other encodings read as GB18030 are not."""
    cjk = [ch for ch in text[:20000] if "\u3400" <= ch <= "\u9fff" or "\ue000" <= ch <= "\uf8ff"]
    if not cjk:
        return True
    sample = "".join(cjk)
    uncommon = sample.encode("gb2312", errors="replace").count(b"?")
    return uncommon <= 0.2 * len(cjk)


_GARBAGE = re.compile(r"[\ufffd\ue000-\uf8ff\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u00c0-\u024f]")


def _checked(text: str, path: Path) -> str:
    visible = len(text) - sum(ch.isspace() for ch in text)
    if visible == 0:
        raise _empty(path)
    if len(_GARBAGE.findall(text)) > 0.05 * visible:
        raise _undecodable(path)
    return text


# ---------------------------------------------------------------- format readers (→ markdown-ish text)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)


def _read_text_file(raw: bytes, path: Path) -> tuple[str, dict[str, Any]]:
    text = decode_text(raw, path).replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        meta = {}
    return text[match.end():], meta if isinstance(meta, dict) else {}


def _read_docx(raw: bytes, path: Path) -> tuple[str, dict[str, Any]]:
    import io

    import docx  # python-docx

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises zip/XML errors of several types
        raise DocumentError(path, "unreadable", f"无法读取 Word 文件（{type(exc).__name__}）",
                            f"cannot read the Word file ({type(exc).__name__})") from exc
    blocks: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        level = _heading_level(paragraph.style.name if paragraph.style is not None else "")
        blocks.append(f"{'#' * level} {text}" if level else text)
    for table in document.tables:
        for row in table.rows:
            blocks.append("| " + " | ".join(cell.text.strip() for cell in row.cells) + " |")
    meta = {"title": document.core_properties.title} if document.core_properties.title else {}
    return "\n\n".join(blocks), meta


def _heading_level(style_name: str) -> int:
    match = re.match(r"(?:Heading|标题)\s*(\d)", style_name or "")
    return int(match.group(1)) if match else (1 if style_name == "Title" else 0)


def _read_pdf(raw: bytes, path: Path) -> tuple[str, dict[str, Any]]:
    import io

    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.get("/Title") if reader.metadata else "") or ""
    except Exception as exc:  # pypdf raises many error types for damaged files
        raise DocumentError(path, "unreadable", f"无法读取 PDF（{type(exc).__name__}）",
                            f"cannot read the PDF ({type(exc).__name__})") from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise _empty(path, "PDF 没有文字层（可能是扫描件，需要先做文字识别）",
                     "the PDF has no text layer (scanned? run OCR first)")
    return text, ({"title": str(title)} if title else {})


_HTML_BLOCKS = ("p", "div", "li", "tr", "section", "article", "table", "blockquote", "pre", "ul", "ol")


def _read_html(raw: bytes, path: Path) -> tuple[str, dict[str, Any]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(raw, path), "lxml")
    for tag in soup(["script", "style", "nav", "noscript", "template", "iframe"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    if soup.head:
        soup.head.decompose()
    for level in range(1, 7):  # headings become markdown so the splitter sees the structure
        for tag in soup.find_all(f"h{level}"):
            tag.insert_before(f"\n\n{'#' * level} ")
            tag.insert_after("\n\n")
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_after("\n\n")
    return soup.get_text(""), ({"title": title} if title else {})


Reader = Callable[[bytes, Path], tuple[str, dict[str, Any]]]
_READERS: dict[str, Reader] = {
    ".txt": _read_text_file, ".md": _read_text_file, ".markdown": _read_text_file,
    ".docx": _read_docx, ".pdf": _read_pdf, ".html": _read_html, ".htm": _read_html,
}
SUPPORTED_SUFFIXES = tuple(_READERS)


# ---------------------------------------------------------------- cleaning

_CJK = r"\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’—…·"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}0-9%])|(?<=[{_CJK}0-9%])[ \t\u3000]+(?=[{_CJK}])")
_CHINESE_NUM = "零〇一二三四五六七八九十百千0-9０-９"
_ARTICLE_LEAD = re.compile(rf"^(#+[ \t]*)?(第[{_CHINESE_NUM}]+[编章节条款])[ \t\u3000]+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_EMPHASIS = re.compile(r"\*\*")
_SENTENCE_END = tuple("。！？；!?;…") + ("。”", "！”", "？”", "。」", "：”")
_COMMA_LIKE = tuple("，、,（(《“‘—")
# A line that starts one of these is structure, never the tail of the previous sentence.
_BLOCK_START = re.compile(
    rf"^(#|[-*+] |\||>|\d{{4}}年\d{{1,2}}月\d{{1,2}}日|第[{_CHINESE_NUM}]+[编章节条款]|[一二三四五六七八九十]+、"
    rf"|[（(][{_CHINESE_NUM}]+[）)]|\d+[.、．](?!\d)|[①-⑳])")


def clean_text(text: str) -> str:
    """NFC, no markdown emphasis or comments, CJK spacing and mid-sentence line breaks repaired."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _EMPHASIS.sub("", _HTML_COMMENT.sub("", text)).replace("\ufeff", "")
    lines = [_remove_cjk_spaces(line.rstrip()) for line in text.split("\n")]
    paragraphs = _paragraphs(lines)
    merged: list[list[str]] = []
    for para in paragraphs:
        if merged and _continues_across_blank(merged[-1], para):
            merged[-1] = merged[-1] + para
        else:
            merged.append(para)
    return "\n\n".join(_join_lines(para) for para in merged).strip()


def _remove_cjk_spaces(line: str) -> str:
    """Chinese has no spaces between words: spaces between CJK characters are layout damage.

    The space after a leading 第X条/第X章 marker is the one deliberate exception and is kept.
    """
    lead = _ARTICLE_LEAD.match(line)
    keep = line[:lead.end()] if lead else ""
    return keep + _SPACE_IN_CJK.sub("", line[len(keep):])


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def _is_structural(line: str) -> bool:
    return bool(_BLOCK_START.match(line.lstrip()))


def _breaks_sentence(previous: str, following: str) -> bool:
    """True when `previous` stops mid-sentence and `following` carries on (no heading, list or table)."""
    prev = previous.strip()
    if not prev or prev.endswith(_SENTENCE_END) or prev.startswith(("#", "|")) or _is_structural(following):
        return False
    is_heading = _is_structural(prev) and len(prev) <= 40 and not prev.endswith(_COMMA_LIKE)
    return not is_heading


def _continues_across_blank(previous: list[str], following: list[str]) -> bool:
    """A blank line inside a sentence (page or column break) versus a real paragraph break.

    Titles, bylines and header lines also lack final punctuation, so a blank line is only bridged when
    the text before it is clearly body text: it ends with a comma-like mark, was wrapped over several
    lines, already contains a finished sentence, or is a long line with a comma.
    """
    last = previous[-1].strip()
    if last.endswith(("：", ":")) or not _breaks_sentence(last, following[0]):
        return False
    body_like = len(previous) >= 3 or any(mark in last for mark in "。！？；") \
        or (len(last) >= 40 and ("，" in last or "," in last))
    return last.endswith(_COMMA_LIKE) or body_like


def _join_lines(lines: list[str]) -> str:
    out = lines[0]
    for line in lines[1:]:
        if _breaks_sentence(out.rsplit("\n", 1)[-1], line):
            nxt = line.strip()
            latin_pair = out[-1:].isascii() and out[-1:].isalnum() and nxt[:1].isascii() and nxt[:1].isalnum()
            out += (" " if latin_pair else "") + nxt
        else:
            out += "\n" + line
    return out


# ---------------------------------------------------------------- metadata

def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value).strip()


def _infer_kind(title: str) -> str:
    """Without a declared kind, a title says what a text is (…法 → law; 条例/办法/规定/细则 → regulation)."""
    if re.search(r"条例|办法|规定|细则", title):
        return "regulation"
    return "law" if title.endswith("法") else "policy"


_ASCII_REMARK = re.compile(r"\s*\([^)]*[A-Za-z][^)]*\).*$")
_ASCII_TAIL = re.compile(r"\s*[;；,，]\s*[^\u4e00-\u9fff]*?[A-Za-z]{2,}.*$")


def _clean_doc_number(value: str) -> str:
    """A 文号 or "": curators' English remarks ("not stated …", "(per the text header)", "…号; file name
    indicates a 2019 revision") are not part of it."""
    value = _ASCII_TAIL.sub("", _ASCII_REMARK.sub("", value)).strip()
    return value if re.search(r"[\u4e00-\u9fff]", value) else ""


_ASCII_ASIDE = re.compile(r"\s*[（(][^（）()]*[A-Za-z][^（）()]*[）)]")
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")


def _has_cjk(value: str) -> bool:
    return bool(_CJK_CHAR.search(value))


def superseded_words(value: str) -> str:
    """What replaced a document, for people: the Chinese name without file paths or English asides
    ("财政部 税务总局公告2026年第10号（official/cn_2026_10_vat_transition.md）" → "财政部 税务总局公告2026年第10号")."""
    words = _ASCII_ASIDE.sub("", value).strip()
    return words if _has_cjk(words) else ("已被新文件取代" if value.strip() else "")


def _first_title(text: str) -> str:
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:80]
    return ""


def _folder_meta(path: Path, cache: dict[Path, dict[str, Any]]) -> dict[str, Any]:
    meta_path = path.parent / META_FILE
    if meta_path not in cache:
        try:
            loaded = yaml.safe_load(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            log.warning("ignoring unreadable %s: %s", meta_path, exc)
            loaded = {}
        cache[meta_path] = loaded if isinstance(loaded, dict) else {}
    entry = cache[meta_path].get(path.name) or {}
    return dict(entry) if isinstance(entry, dict) else {}


def load_document(path: Path | str, *, _meta_cache: dict[Path, dict[str, Any]] | None = None) -> Document:
    """Read, decode, clean and describe one file; raises DocumentError with the reason it cannot."""
    path = Path(path)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise DocumentError(path, "unsupported", f"不支持的文件类型“{suffix or path.name}”（支持 {' '.join(SUPPORTED_SUFFIXES)}）",
                            f"unsupported file type '{suffix or path.name}' (supported: {' '.join(SUPPORTED_SUFFIXES)})")
    raw = _read_bytes(path, max_document_bytes())
    body, meta = reader(raw, path)
    folder_meta = _folder_meta(path, _meta_cache if _meta_cache is not None else {})
    meta = {**folder_meta, **meta}
    if "date" in meta and "issued" not in meta:
        meta["issued"] = meta["date"]
    text = clean_text(body)
    if not text:
        raise _empty(path, "清理后没有正文", "no text left after cleaning")
    title = _as_text(meta.get("title")) or _first_title(text) or path.stem
    fields = {name: _as_text(meta.get(name)) for name in DOCUMENT_FIELDS if name not in ("title", "kind")}
    fields["doc_number"] = _clean_doc_number(fields["doc_number"])
    kind = _as_text(meta.get("kind")) or _infer_kind(title)
    extra = {str(k): _as_text(v) for k, v in meta.items() if k not in DOCUMENT_FIELDS and k != "date"}
    return Document(doc_id=path.stem, title=title, text=text, sha256=hashlib.sha256(raw).hexdigest(),
                    path=str(path), kind=kind, extra=extra, **fields)


# ---------------------------------------------------------------- corpus

@dataclass(frozen=True)
class CorpusScan:
    """Everything found under a folder: the documents that loaded and the files that did not."""

    documents: dict[str, Document]
    failures: list[DocumentError]


def corpus_files(docs_dir: Path | str) -> list[Path]:
    """Candidate document files (recursive, sorted; notes, META.yaml and hidden files left out)."""
    root = Path(docs_dir)
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and p.name not in SKIPPED_NAMES
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def scan_corpus(docs_dir: Path | str) -> CorpusScan:
    """Load every file; a bad file becomes a failure entry instead of stopping the others."""
    documents: dict[str, Document] = {}
    failures: list[DocumentError] = []
    meta_cache: dict[Path, dict[str, Any]] = {}
    for path in corpus_files(docs_dir):
        try:
            doc = load_document(path, _meta_cache=meta_cache)
        except DocumentError as exc:
            failures.append(exc)
            continue
        if doc.doc_id in documents:
            failures.append(DocumentError(path, "duplicate", f"文档编号“{doc.doc_id}”与 {documents[doc.doc_id].path} 重复",
                                          f"document id '{doc.doc_id}' duplicates {documents[doc.doc_id].path}"))
            continue
        documents[doc.doc_id] = doc
    return CorpusScan(documents, failures)


def load_corpus(docs_dir: Path | str) -> dict[str, Document]:
    """doc_id → Document for every readable file; unreadable ones are logged and left out."""
    scan = scan_corpus(docs_dir)
    for failure in scan.failures:
        log.warning("skipped %s: %s", failure.path, failure.en)
    return scan.documents
