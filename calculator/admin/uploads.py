"""Uploaded documents: refuse anything that is not what it claims to be, then store it under a safe name.

An upload is hostile until shown otherwise: its name may climb out of the folder ("../../etc/passwd"),
hide itself (".x.md"), shadow a corpus note (README.md) or another document's id; its bytes may be an
executable renamed .pdf, a zip bomb renamed .docx, or not text at all. Each check below answers one of
those with a one-line Chinese + English reason. The type is decided by the extension AND the content.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from calculator.core.config import get_settings
from calculator.core.errors import UserError
from calculator.corpus.documents import SKIPPED_NAMES, corpus_files, decode_text

ALLOWED = {".txt": "text", ".md": "text", ".html": "text", ".pdf": "pdf", ".docx": "docx"}
# .docx (zip) limits: real Word files are a few dozen entries and compress text ~5-20×.
DOCX_MAX_ENTRIES = 2000
DOCX_MAX_UNCOMPRESSED = 200 * 1024 * 1024
DOCX_MAX_RATIO = 200
MAX_STEM = 80
MAX_STEM_BYTES = 200   # file systems allow 255 bytes per name: room for "-12" and the suffix (𠀀 is 4 bytes)
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!")
_UNSAFE = re.compile(r"[<>:\"/\\|?*]+|\s+")


@dataclass(frozen=True)
class SafeUpload:
    """An upload that passed every check: a safe file name and the bytes to store."""

    name: str
    suffix: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def max_upload_bytes() -> int:
    """`UPLOAD_MAX_MB` (default 10)."""
    return int(get_settings().upload_max_mb * 1024 * 1024)


def safe_name(filename: str) -> str:
    """The last path component (either separator), NFKC-normalised, without control, format (e.g.
    right-to-left override) or reserved characters, leading dots or spaces; Chinese kept; long stems
    shortened; corpus note names (README.md …) avoided."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFKC", filename or ""))[-1]
    base = "".join(ch for ch in base if not unicodedata.category(ch).startswith("C"))  # bidi overrides, NUL …
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem.strip(" ._")[:MAX_STEM]
    while len(stem.encode()) > MAX_STEM_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" ._") or "upload"
    name = f"{stem}.{suffix.lower()}" if suffix else stem
    return f"upload-{name}" if name in SKIPPED_NAMES else name


def _refuse(zh: str, en: str) -> UserError:
    return UserError(f"上传被拒绝：{zh}", f"upload refused: {en}")


def _check_docx(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse("不是有效的 Word（.docx）文件", "not a valid Word (.docx) file") from None
    if len(entries) > DOCX_MAX_ENTRIES:
        raise _refuse(f"Word 文件内部条目过多（{len(entries)} 个）", f"too many entries inside the .docx ({len(entries)})")
    names = {e.filename for e in entries}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise _refuse("不是有效的 Word（.docx）文件（缺少 word/document.xml）", "not a Word document (no word/document.xml)")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse("Word 文件含宏代码", "the .docx contains macros")
    total = sum(e.file_size for e in entries)
    packed = sum(e.compress_size for e in entries) or 1
    worst = max((e.file_size / max(e.compress_size, 1) for e in entries), default=0)
    if total > DOCX_MAX_UNCOMPRESSED or total / packed > DOCX_MAX_RATIO or worst > DOCX_MAX_RATIO:
        raise _refuse(f"Word 文件解压后异常膨胀（{total / 1048576:.0f} MB，压缩比 {max(worst, total / packed):.0f}:1），疑似压缩炸弹",
                      f"the .docx expands abnormally ({total / 1048576:.0f} MB, ratio {max(worst, total / packed):.0f}:1): zip bomb?")


def _sniff(data: bytes) -> str:
    """What the bytes are, whatever the name says."""
    if data.startswith(_EXECUTABLE_MAGIC):
        return "executable"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    return "text"


def validate_upload(filename: str, data: bytes) -> SafeUpload:
    """Check type (extension and content), size, emptiness and name; raise UserError with the reason."""
    name = safe_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED:
        raise _refuse(f"不支持的文件类型“{suffix or '无扩展名'}”（允许 {' '.join(ALLOWED)}）",
                      f"file type '{suffix or 'none'}' not allowed (allowed: {' '.join(ALLOWED)})")
    limit = max_upload_bytes()
    if len(data) > limit:
        raise _refuse(f"文件过大（{len(data) / 1048576:.1f} MB，上限 {limit / 1048576:.0f} MB）",
                      f"file too large ({len(data) / 1048576:.1f} MB, limit {limit / 1048576:.0f} MB)")
    if not data.strip():
        raise _refuse("文件为空", "the file is empty")
    kind, expected = _sniff(data), ALLOWED[suffix]
    if kind == "executable":
        raise _refuse("文件是可执行程序或脚本", "the file is an executable or a script")
    if expected == "docx":
        if kind != "zip":
            raise _refuse("扩展名为 .docx，但内容不是 Word 文件", "named .docx but the content is not a Word file")
        _check_docx(data)
    elif expected == "pdf":
        if kind != "pdf":
            raise _refuse("扩展名为 .pdf，但内容不是 PDF（应以 %PDF 开头）", "named .pdf but the content is not a PDF (no %PDF header)")
    else:
        if kind != "text" or b"\x00" in data[:8192]:
            raise _refuse(f"扩展名为 {suffix}，但内容不是文本", f"named {suffix} but the content is not text")
        try:
            decode_text(data, Path(name))
        except UserError as exc:
            raise _refuse(exc.zh, exc.en) from None
    return SafeUpload(name, suffix, data)


def uploads_dir(docs_dir: Path | str | None = None) -> Path:
    """`UPLOADS_DIR`, else `<docs>/uploads` (inside the corpus, so the next ingest picks uploads up)."""
    settings = get_settings()
    return settings.uploads_dir or Path(docs_dir or settings.docs_dir) / "uploads"


def save_upload(upload: SafeUpload, docs_dir: Path | str | None = None) -> Path:
    """Store the upload without overwriting anything. The file stem is the document id, which must be
    unique in the whole corpus, so a clash with any document gets '-2', '-3' …"""
    docs = Path(docs_dir or get_settings().docs_dir)
    folder = uploads_dir(docs)
    folder.mkdir(parents=True, exist_ok=True)
    taken = {p.stem for p in corpus_files(docs)} if docs.is_dir() else set()
    taken |= {p.stem for p in folder.iterdir()}
    stem = Path(upload.name).stem
    for n in range(1, 10_000):
        candidate = stem if n == 1 else f"{stem}-{n}"
        if candidate in taken:
            continue
        path = folder / f"{candidate}{upload.suffix}"
        try:
            with open(path, "xb") as handle:  # exclusive create: a concurrent upload of the same name loses here
                handle.write(upload.data)
        except FileExistsError:
            continue
        return path
    raise _refuse("同名文件过多", "too many files with this name")
