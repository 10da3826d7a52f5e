"""Scale path: the same ingest and search code against a real `chroma run` server on loopback."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from apprunner import chroma_server as running_chroma

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    with running_chroma(tmp_path / "chroma") as server:
        yield server.port


def test_ingest_and_search_through_server(chroma_server: int, tmp_path: Path, project_root: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from calculator.core.config import get_settings
    from calculator.search.index import build, chroma_client, current_generation
    from calculator.search.retrieve import search

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("cn_2023_19_small_scale_vat.md", "cn_unemployment_insurance_job_stability.md"):
        shutil.copy(project_root / "knowledge" / "docs" / "facts" / name, docs / name)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(chroma_server))
    monkeypatch.setenv("DENSE_SEARCH", "always")  # the bundled model cannot read the Chinese query: ask the server anyway

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
