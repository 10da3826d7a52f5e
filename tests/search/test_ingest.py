"""Ingest: incremental by content hash, crash-safe generations, one clear line per bad file."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from calculator.core.config import Settings
from calculator.search.index import (
    GENERATIONS,
    build,
    chroma_client,
    collection_prefix,
    current_generation,
    open_index,
)

SMALL_CORPUS = ("facts/cn_2023_19_small_scale_vat.md", "facts/cn_2016_32_hightech_enterprise.md",
                "facts/cn_unemployment_insurance_job_stability.md", "official/henan_reg_sme_promotion_implementation.md")

pytestmark = pytest.mark.slow


@pytest.fixture
def small_docs(tmp_path: Path, project_root: Path) -> Path:
    docs = tmp_path / "docs"
    for relative in SMALL_CORPUS:
        target = docs / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(project_root / "knowledge" / "docs" / relative, target)
    return docs


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(path))
    monkeypatch.delenv("CHROMA_HOST", raising=False)
    return path


def _cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CHROMA_HOST"}
    env.update(DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", **extra)
    return env


def _collections(data_dir: Path) -> list[str]:
    settings = Settings(data_dir=data_dir)
    prefix = collection_prefix(settings)
    return [c.name for c in chroma_client(settings).list_collections() if c.name.startswith(prefix)]


def test_incremental_reuses_unchanged_documents(small_docs: Path, data_dir: Path) -> None:
    from calculator.search.retrieve import search

    started = time.perf_counter()
    first = build(small_docs)
    first_seconds = time.perf_counter() - started
    assert first.embedded == first.passages > 0 and first.reused == 0 and len(first.changed) == 4

    started = time.perf_counter()
    again = build(small_docs)
    rerun_seconds = time.perf_counter() - started
    print(f"\nfirst ingest {first_seconds:.2f} s ({first.embedded} passages embedded), "
          f"unchanged re-run {rerun_seconds:.2f} s ({again.embedded} embedded)")
    assert again.up_to_date and again.embedded == 0 and len(again.unchanged) == 4
    assert again.generation == first.generation

    vat = small_docs / "facts" / "cn_2023_19_small_scale_vat.md"
    vat.write_text(vat.read_text(encoding="utf-8") + "\n\n## 第四条 补充\n- 测试用补充条款：蓝鲸增值税试点。\n", encoding="utf-8")
    changed = build(small_docs)
    manifest = current_generation(Settings(data_dir=data_dir)).manifest
    vat_passages = len(manifest["documents"]["cn_2023_19_small_scale_vat"]["passages"])
    assert changed.changed == ["cn_2023_19_small_scale_vat"] and changed.embedded == vat_passages
    assert changed.reused == changed.passages - vat_passages
    assert any("蓝鲸增值税试点" in hit.text for hit in search("蓝鲸增值税试点", k=3))

    (small_docs / "facts" / "cn_2016_32_hightech_enterprise.md").unlink()
    removed = build(small_docs)
    assert removed.removed == ["cn_2016_32_hightech_enterprise"] and removed.embedded == 0
    assert all(hit.doc_id != "cn_2016_32_hightech_enterprise" for hit in search("高新技术企业认定条件", k=10))
    assert len(list((data_dir / GENERATIONS).iterdir())) == 1 and len(_collections(data_dir)) == 1


def test_crash_mid_ingest_keeps_previous_generation(small_docs: Path, data_dir: Path, project_root: Path) -> None:
    from calculator.search.retrieve import search

    before = build(small_docs)
    # removing a document needs a new generation but no embedding, so the subprocess stays quick
    (small_docs / "facts" / "cn_unemployment_insurance_job_stability.md").unlink()
    process = subprocess.Popen([sys.executable, "ingest.py", str(small_docs)], cwd=project_root,
                               env=_cli_env(data_dir, CALCULATOR_INGEST_PAUSE_S="600"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        for line in process.stderr:  # wait until the new generation is half written
            if "INGEST_PAUSED" in line or time.monotonic() > deadline:
                break
        assert process.poll() is None, "ingest ended before it reached the pause point"
        assert len(list((data_dir / GENERATIONS).iterdir())) == 2  # the half-made generation exists
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    assert current_generation(Settings(data_dir=data_dir)).name == before.generation
    hits = search("稳岗返还中小微企业返还标准", k=3)
    assert open_index().generation.name == before.generation
    assert hits[0].doc_id == "cn_unemployment_insurance_job_stability"  # still served by the old generation

    after = build(small_docs)  # the next run cleans up and completes
    assert after.generation != before.generation and after.removed == ["cn_unemployment_insurance_job_stability"]
    assert [p.name for p in (data_dir / GENERATIONS).iterdir()] == [after.generation]
    assert len(_collections(data_dir)) == 1
    assert all(h.doc_id != "cn_unemployment_insurance_job_stability" for h in search("稳岗返还中小微企业返还标准", k=3))


def test_bad_files_named_rest_ingested_exit_1(small_docs: Path, data_dir: Path, project_root: Path) -> None:
    build(small_docs)  # so that the command below has nothing to embed and stays quick
    (small_docs / "empty.txt").write_bytes(b"")
    (small_docs / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (small_docs / "table.xlsx").write_bytes(b"PK\x03\x04")
    result = subprocess.run([sys.executable, "ingest.py", str(small_docs)], cwd=project_root,
                            env=_cli_env(data_dir), capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("跳过 ")]
    assert len(lines) == 3
    for name, reason in (("empty.txt", "文件为空"), ("photo.txt", "二进制"), ("table.xlsx", "不支持的文件类型")):
        assert any(name in line and reason in line for line in lines), (name, lines)
    summary = result.stdout.strip().splitlines()[-1]
    assert "文档 4 篇" in summary and "失败 3" in summary
    manifest = current_generation(Settings(data_dir=data_dir)).manifest
    assert len(manifest["documents"]) == 4


def test_missing_folder_is_a_usage_error(tmp_path: Path, data_dir: Path, project_root: Path) -> None:
    result = subprocess.run([sys.executable, "ingest.py", str(tmp_path / "nowhere")], cwd=project_root,
                            env=_cli_env(data_dir), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "nowhere" in result.stderr


def test_manifest_records_hashes_and_passages(small_docs: Path, data_dir: Path) -> None:
    build(small_docs)
    generation = current_generation(Settings(data_dir=data_dir))
    manifest = json.loads((generation.path / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["documents"]["cn_2023_19_small_scale_vat"]
    assert len(entry["sha256"]) == 64 and entry["passages"][0] == "cn_2023_19_small_scale_vat#1"
    assert manifest["model"] == "bundled" and manifest["dimension"] == 384 and manifest["store"] == "embedded"
