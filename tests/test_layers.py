"""The import direction of DESIGN.md, enforced: dsl is pure; the engine has no SQL; operators
see only digpy.spi; nothing below the CLI imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# package prefix -> module prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "digpy/dsl": ("digpy.engine", "digpy.store", "digpy.agent", "digpy.scheduler", "digpy.cli",
                  "sqlalchemy"),
    "digpy/engine": ("digpy.store.sql", "digpy.cli", "sqlalchemy"),
    "digpy/model": ("digpy.engine", "digpy.store", "digpy.cli", "sqlalchemy"),
    "digpy/spi": ("digpy.engine", "digpy.store", "digpy.agent", "digpy.scheduler", "digpy.cli",
                  "sqlalchemy"),
    "digpy/store": ("digpy.engine", "digpy.agent", "digpy.cli"),
    "digpy/agent": ("digpy.cli",),
    "digpy/scheduler": ("digpy.cli",),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_each_layer_imports_only_the_layers_below_it(folder: str) -> None:
    assert _violations(folder, FORBIDDEN[folder]) == []


def test_operators_import_only_the_spi_from_digpy() -> None:
    bad = []
    for path in sorted((REPO / "operators").rglob("*.py")):
        for name in _imports(path):
            if name.startswith("digpy.") and not name.startswith("digpy.spi"):
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert bad == []
