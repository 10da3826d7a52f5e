"""Scale path: the same ingest and search code against a real `chroma run` server on loopback."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path):
    executable = Path(sys.executable).with_name("chroma")
    if not executable.exists():
        executable = Path(shutil.which("chroma") or "chroma")
    port = _free_port()
    log = open(tmp_path / "chroma.log", "w")
    server = subprocess.Popen([str(executable), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chroma run did not start: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_ingest_and_search_through_server(chroma_server: int, tmp_path: Path, project_root: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.config import get_settings
    from calculator.index import build, chroma_client, current_generation
    from calculator.retrieve import search

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("cn_2023_19_small_scale_vat.md", "cn_unemployment_insurance_job_stability.md"):
        shutil.copy(project_root / "knowledge" / "docs" / "facts" / name, docs / name)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(chroma_server))

    report = build(docs)
    assert report.embedded == report.passages > 0
    settings = get_settings()
    generation = current_generation(settings)
    assert generation.manifest["store"] == f"http://127.0.0.1:{chroma_server}"
    assert not (tmp_path / "data" / "chroma").exists()  # vectors live on the server
    assert generation.collection in [c.name for c in chroma_client(settings).list_collections()]

    hits = search("稳岗返还中小微企业返还比例", k=3)
    assert hits[0].doc_id == "cn_unemployment_insurance_job_stability" and hits[0].dense_rank is not None
    assert build(docs).up_to_date
