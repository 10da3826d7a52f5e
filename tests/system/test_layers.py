"""The stages of calculator/ import only downward: read every import (AST, lazy and TYPE_CHECKING ones too).

core < corpus < facts, search < policy < officials, dialogue; present reads reports as data and never
reaches the engine; the shells (commands, ui, api, admin, the package entry points) may import anything.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from paths import ROOT

PACKAGE = ROOT / "calculator"
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "corpus": {"core"},
    "facts": {"core", "corpus"},
    "search": {"core", "corpus"},
    "policy": {"core", "corpus", "facts"},
    "officials": {"core", "corpus", "facts", "policy"},
    "dialogue": {"core", "corpus", "facts", "policy", "search"},
    "present": {"core", "corpus", "facts"},
    "admin": {"core", "corpus", "search", "policy"},
}
SHELLS = {"commands", "ui", "api", "__main__", "__init__"}


def _stage(module: Path) -> str:
    return module.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported_stages(module: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{module}: relative import at line {node.lineno}; write calculator.<stage>…")
        for name in names:
            parts = name.split(".")
            if parts[0] == "calculator" and len(parts) > 1:
                out.append((node.lineno, parts[1]))
            elif name == "calculator" and isinstance(node, ast.ImportFrom):
                out += [(node.lineno, a.name) for a in node.names]
    return out


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _stage(p) not in SHELLS)


def test_every_stage_is_known() -> None:
    stages = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.name != "__pycache__"} - SHELLS
    stages.discard("py.typed")
    assert stages == set(ALLOWED), f"a stage without a layering rule: {sorted(stages ^ set(ALLOWED))}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down(module: Path) -> None:
    stage = _stage(module)
    wrong = [(line, target) for line, target in _imported_stages(module)
             if target != stage and target not in ALLOWED[stage]]
    assert not wrong, f"{module.relative_to(ROOT)} ({stage}) imports a higher or sibling stage: {wrong}"


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    """The rule can fail: a policy module importing search is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("from calculator.search.retrieve import search\n", encoding="utf-8")
    assert _imported_stages(bad) == [(1, "search")] and "search" not in ALLOWED["policy"]
