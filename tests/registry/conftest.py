"""One Spark session for the whole test run (its start costs seconds), created only if a Spark test runs."""
from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Any:
    from calculator.registry.engine import spark_session

    return spark_session()
