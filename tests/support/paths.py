"""Where the tests find the project and their data, wherever a test module sits under tests/."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
DATA = TESTS / "data"
GOLDEN = TESTS / "golden"
KNOWLEDGE = ROOT / "knowledge"
