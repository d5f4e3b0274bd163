"""Layering: imports point down, read from the source with `ast`, so an arrow pointing up fails here first."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def imports(path: Path) -> Iterator[tuple[ast.stmt, set[str]]]:
    """Each import statement of a file and the modules it may load, type-checking-only imports included."""
    package = ".".join(path.relative_to(SRC).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield node, {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            # `from tenantedge import settings` loads the module tenantedge.settings.
            yield node, {module, *(f"{module}.{alias.name}" for alias in node.names)}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("tenantedge.http", "tenantedge.settings"),  # the hot path is given plain values, never the Settings
        ("tenantedge.content", "tenantedge.render"),  # the data layer hands data to the renderer, never drives it
    ],
    ids=["http-without-settings", "content-without-render"],
)
def test_no_import_points_up(package: str, forbidden: str) -> None:
    modules = sorted(SRC.joinpath(*package.split(".")).rglob("*.py"))
    assert modules, f"{package}: no modules found"
    wrong = [
        f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)}"
        for path in modules
        for node, names in imports(path)
        if any(name == forbidden or name.startswith(forbidden + ".") for name in names)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", ["tenantedge/app.py", "tenantedge/admin/wiring.py"])
def test_the_wiring_asks_no_store_what_it_is(module: str) -> None:
    """Every store implements the whole TenantStore protocol, so the wiring never branches on a store's class."""
    tree = ast.parse(SRC.joinpath(module).read_text())
    branches = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
    ]
    assert branches == []
