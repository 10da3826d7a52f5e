"""The docs and the code agree, in both directions (the datasette way): settings, modules, commands.

A setting in the README table that no code reads, a module docs/ARCHITECTURE.md names that does not
exist, a CLI command the README shows that the dispatcher does not know, or the reverse of any of
these, fails here, so the docs cannot drift from the code they describe.
"""
from __future__ import annotations

import re

from paths import ROOT

from calculator.__main__ import COMMANDS

README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
# Switches of third-party libraries that the app sets for itself (offline, quiet): not our settings.
LIBRARY_SWITCHES = {"ANONYMIZED_TELEMETRY", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS",
                    "TRANSFORMERS_VERBOSITY", "GRADIO_ANALYTICS_ENABLED"}
_READ = re.compile(r"""(?:_env|_number|_optional_number|_path|_flag|_choice|getenv|environ\.get|environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _settings_read_by_code() -> set[str]:
    names: set[str] = set()
    for path in [*(ROOT / "calculator").rglob("*.py"), ROOT / "app.py"]:
        names |= set(_READ.findall(path.read_text(encoding="utf-8")))
    return names - LIBRARY_SWITCHES


def _settings_in_readme() -> set[str]:
    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return {name for row in table.splitlines() if row.startswith("| `")
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_setting_is_documented_and_every_documented_setting_is_read() -> None:
    code, docs = _settings_read_by_code(), _settings_in_readme()
    assert code - docs == set(), f"settings read by the code but missing from the README table: {sorted(code - docs)}"
    assert docs - code == set(), f"settings in the README table that no code reads: {sorted(docs - code)}"


def _modules() -> set[str]:
    package = ROOT / "calculator"
    return {str(p.relative_to(package)) for p in package.rglob("*.py") if p.name != "__init__.py"
            and p.parent.name not in ("commands", "ui", "admin") and p.name != "__main__.py"}


def test_every_module_is_in_the_architecture_map_and_every_mapped_module_exists() -> None:
    named = set(re.findall(r"`((?:core|corpus|facts|search|policy|dialogue|officials|present|api)/[a-z_/]+\.py)`", ARCHITECTURE))
    packages = set(re.findall(r"`((?:facts|present)/[a-z_]+)/`", ARCHITECTURE))   # a documented sub-package
    covered = named | {m for m in _modules() if any(m.startswith(p + "/") for p in packages)}
    assert _modules() - covered == set(), f"modules missing from docs/ARCHITECTURE.md: {sorted(_modules() - covered)}"
    missing = {m for m in named if not (ROOT / "calculator" / m).exists()}
    assert not missing, f"docs/ARCHITECTURE.md names modules that do not exist: {sorted(missing)}"


def test_every_cli_command_is_in_the_readme_and_every_readme_command_exists() -> None:
    shown = set(re.findall(r"python -m calculator ([a-z]+)", README))
    assert set(COMMANDS) - shown == set(), f"commands missing from the README: {sorted(set(COMMANDS) - shown)}"
    assert shown - set(COMMANDS) == set(), f"the README shows commands that do not exist: {sorted(shown - set(COMMANDS))}"


def test_the_checks_can_fail() -> None:
    """Each comparison above would see a difference (they are not vacuous)."""
    assert "KNOWLEDGE_DIR" in _settings_in_readme() and "KNOWLEDGE_DIR" in _settings_read_by_code()
    assert "policy/match.py" in _modules() and "match" in COMMANDS
