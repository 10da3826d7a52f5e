"""The chat's words as data (calculator/chat_words.yaml): question markers, messages, quick replies."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

WORDS_FILE = Path(__file__).with_name("chat_words.yaml")


@lru_cache(maxsize=1)
def chat_words() -> dict[str, Any]:
    with WORDS_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def message(name: str, **values: Any) -> str:
    """One of the assistant's fixed messages, with {placeholders} filled."""
    return str(chat_words()["messages"][name]).format(**values)
