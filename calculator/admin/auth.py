"""Admin login: credentials only from the environment (ADMIN_USER, ADMIN_PASSWORD), never a default.

With either unset or empty the admin area is disabled and every login is refused, so a deployment that
forgot to configure it is closed, not open with a well-known password. Comparison is constant-time over
digests (equal length whatever the input) so response time does not reveal how much of a guess was right.
`check_credentials` has the (username, password) signature Gradio's `launch(auth=...)` expects.
"""
from __future__ import annotations

import hashlib
import hmac

from calculator.core.config import get_settings


def _configured() -> tuple[str, str]:
    settings = get_settings()
    return settings.admin_user, settings.admin_password


def admin_enabled() -> bool:
    user, password = _configured()
    return bool(user.strip()) and bool(password)


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def check_credentials(user: object, password: object) -> bool:
    """True only for the configured user and password; False when admin is disabled or input is odd."""
    if not admin_enabled() or not isinstance(user, str) or not isinstance(password, str):
        return False
    expected_user, expected_password = _configured()
    user_ok = hmac.compare_digest(_digest(user), _digest(expected_user.strip()))
    password_ok = hmac.compare_digest(_digest(password), _digest(expected_password))
    return user_ok & password_ok
