"""Knowledge management: hostile uploads refused, good ones stored and ingested, catalog report, login."""
from __future__ import annotations

import io
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

import calculator.policy.catalog as catalog_module
from calculator import admin
from calculator.core.config import Settings
from calculator.core.errors import UserError
from calculator.policy.catalog import CatalogError, load_catalog

MD = "# 许昌市测试惠企政策\n\n第一条 对注册在许昌的测试企业给予一次性奖补五万元。\n".encode()


def _docx(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _real_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("第一条 测试条款。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _refused(filename: str, data: bytes, *words: str) -> str:
    with pytest.raises(UserError) as caught:
        admin.validate_upload(filename, data)
    message = str(caught.value)
    assert " / " in message and "\n" not in message  # one line, Chinese then English
    for word in words:
        assert word in message, message
    return message


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("UPLOADS_DIR", raising=False)
    folder = tmp_path / "docs"
    (folder / "official").mkdir(parents=True)
    (folder / "official" / "existing.md").write_text("# 已有文档\n\n正文。", encoding="utf-8")
    return folder


# ---------------------------------------------------------------- names

@pytest.mark.parametrize(("given", "safe"), [
    ("../../etc/passwd.md", "passwd.md"),
    ("C:\\x\\..\\y.txt", "y.txt"),
    ("/abs/path/政策 文件.PDF", "政策_文件.pdf"),
    (".hidden.md", "hidden.md"),
    ("README.md", "upload-README.md"),          # would be skipped by the corpus scanner as a note
    ("evil\u202etxt.md", "eviltxt.md"),           # right-to-left override removed
    ("许昌市惠企政策（2024）.docx", "许昌市惠企政策(2024).docx"),
])
def test_safe_names(given: str, safe: str) -> None:
    assert admin.safe_name(given) == safe


def test_traversal_cannot_leave_the_uploads_folder(docs: Path) -> None:
    path = admin.save_upload(admin.validate_upload("../../../../tmp/evil.md", MD), docs)
    assert path.resolve().is_relative_to((docs / "uploads").resolve()) and path.name == "evil.md"
    _refused("../../etc/passwd", b"root:x:0:0", "扩展名")  # no extension left: not an allowed type


def test_collisions_get_a_suffix_across_the_whole_corpus(docs: Path) -> None:
    first = admin.save_upload(admin.validate_upload("通知.md", MD), docs)
    second = admin.save_upload(admin.validate_upload("通知.md", MD), docs)
    clash = admin.save_upload(admin.validate_upload("existing.md", MD), docs)  # doc ids are file stems
    assert (first.name, second.name, clash.name) == ("通知.md", "通知-2.md", "existing-2.md")
    assert first.read_bytes() == MD


# ---------------------------------------------------------------- content

def test_allowed_types_pass() -> None:
    assert admin.validate_upload("a.md", MD).suffix == ".md"
    assert admin.validate_upload("a.txt", "第一条 正文".encode("gb18030")).size > 0
    assert admin.validate_upload("a.html", "<html><body><p>正文</p></body></html>".encode()).name == "a.html"
    assert admin.validate_upload("a.pdf", b"%PDF-1.7\n%...").suffix == ".pdf"
    assert admin.validate_upload("a.docx", _real_docx()).suffix == ".docx"


@pytest.mark.parametrize(("filename", "data", "word"), [
    ("setup.exe", b"MZ\x90\x00", "不支持"),
    ("script.sh", b"#!/bin/sh\nrm -rf /", "不支持"),
    ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00", "可执行"),       # an executable renamed
    ("run.md", b"#!/usr/bin/env python\nprint(1)", "可执行"),
    ("report.pdf", "不是PDF".encode(), "PDF"),
    ("report.pdf", _docx({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<t/>"}), "PDF"),
    ("paper.docx", MD, "Word"),
    ("paper.docx", _docx({"a.txt": b"x"}), "word/document.xml"),
    ("paper.docx", b"PK\x03\x04garbage", "Word"),
    ("macro.docx", _docx({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<t/>",
                          "word/vbaProject.bin": b"\x00"}), "宏"),
    ("scan.md", b"%PDF-1.4 binary", "不是文本"),
    ("blob.txt", bytes(range(256)) * 40, "不是文本"),
])
def test_wrong_extension_or_content_is_refused(filename: str, data: bytes, word: str) -> None:
    _refused(filename, data, word)


def test_zip_bomb_is_refused() -> None:
    bomb = _docx({"[Content_Types].xml": b"<t/>", "word/document.xml": b"<w>" + b"0" * (60 * 1024 * 1024) + b"</w>"})
    assert len(bomb) < 200 * 1024  # 60 MB of text packed into ~60 KB
    _refused("bomb.docx", bomb, "压缩炸弹")
    many = _docx({"[Content_Types].xml": b"<t/>", "word/document.xml": b"<w/>",
                  **{f"word/media/{i}.bin": b"" for i in range(2500)}}, zipfile.ZIP_STORED)
    _refused("many.docx", many, "条目过多")


def test_empty_and_oversize_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _refused("empty.md", b"", "为空")
    _refused("blank.txt", b"  \n\t ", "为空")
    too_big = b"a" * (admin.max_upload_bytes() + 1)
    assert admin.max_upload_bytes() == 10 * 1024 * 1024  # the default
    _refused("big.txt", too_big, "过大")
    monkeypatch.setenv("UPLOAD_MAX_MB", "0.001")
    _refused("small.md", MD * 20, "过大")


# ---------------------------------------------------------------- ingest

@pytest.mark.slow
def test_good_upload_is_ingested_and_searchable(docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.delenv("CHROMA_HOST", raising=False)
    (docs / "official" / "broken.pdf").write_bytes(b"%PDF-1.4 not really")  # a bad file already in the corpus
    saved = admin.save_upload(admin.validate_upload("许昌测试奖补.md", MD), docs)
    assert admin.start_ingest(docs, Settings(data_dir=data_dir)) is True
    status = admin.wait_ingest(timeout=300)
    assert status.state == "done", status.error
    report = status.report or {}
    assert report["documents"] == 2 and report["passages"] > 0 and report["seconds"] > 0
    assert [f["file"].endswith("broken.pdf") and f["reason"] for f in report["failures"]] == ["unreadable"]
    assert status.progress == 1.0 and status.to_json()["state_label"] == "已完成"

    from calculator.search.retrieve import search

    hits = search("测试企业一次性奖补", k=3)
    assert hits and hits[0].doc_id == saved.stem


def test_one_ingest_at_a_time_and_failures_are_reported(docs: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow_build(docs_dir, settings, progress):  # type: ignore[no-untyped-def]
        progress("embed", 3, 10)
        release.wait(10)
        raise UserError("另一个导入任务正在运行，请稍后再试", "another ingest is running; try again later")

    monkeypatch.setattr("calculator.search.index.build", slow_build)
    assert admin.start_ingest(docs, Settings(data_dir=tmp_path / "data")) is True
    try:
        assert admin.start_ingest(docs) is False
        running = admin.ingest_status()
        assert running.state == "running"
    finally:
        release.set()
    failed = admin.wait_ingest(timeout=10)
    assert failed.state == "failed" and "another ingest is running" in failed.error


# ---------------------------------------------------------------- catalog report

def test_corrupt_catalog_is_reported_and_the_last_good_one_served(tmp_path: Path, project_root: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(project_root / "knowledge", knowledge, ignore=shutil.ignore_patterns("uploads"))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setattr(catalog_module, "_cache", {"key": None, "catalog": None, "failed_key": None, "error": None})
    good = load_catalog()
    assert admin.catalog_report()["ok"] is True

    item = knowledge / "policies" / "six_taxes_two_fees.yaml"
    item.write_text(item.read_text(encoding="utf-8").replace("level: national", "level: provincial"), encoding="utf-8")
    report = admin.catalog_report()
    assert report["ok"] is False and report["serving"] == "last_good"
    assert report["serving_count"] == len(good.policies)
    problem = report["problems"][0]
    assert problem["file"].endswith("six_taxes_two_fees.yaml") and problem["path"] == "level"
    assert "six_taxes_two_fees.yaml" in report["message"]
    assert load_catalog() is good

    with pytest.raises(CatalogError, match="six_taxes_two_fees.yaml"):
        load_catalog(strict=True)  # the integrity check itself still fails loudly

    # a process that never loaded a good catalog has nothing to serve
    monkeypatch.setattr(catalog_module, "_cache", {"key": None, "catalog": None, "failed_key": None, "error": None})
    with pytest.raises(CatalogError):
        load_catalog()


# ---------------------------------------------------------------- login

def test_admin_disabled_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADMIN_USER", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    assert admin.admin_enabled() is False
    for user, password in (("admin", "admin"), ("", ""), ("admin", "")):
        assert admin.check_credentials(user, password) is False
    monkeypatch.setenv("ADMIN_USER", "admin")
    monkeypatch.setenv("ADMIN_PASSWORD", "")
    assert admin.admin_enabled() is False and admin.check_credentials("admin", "") is False


def test_wrong_credentials_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_USER", "kb-admin")
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-许昌")
    assert admin.admin_enabled() is True
    assert admin.check_credentials("kb-admin", "s3cret-许昌") is True
    assert admin.check_credentials("kb-admin", "s3cret") is False
    assert admin.check_credentials("KB-ADMIN", "s3cret-许昌") is False
    assert admin.check_credentials("kb-admin", None) is False
    assert admin.check_credentials(None, None) is False
