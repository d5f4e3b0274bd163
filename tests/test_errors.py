"""errors.py is the one exception hierarchy: no module defines an exception of its own, and the tree is drawn."""

from __future__ import annotations

import ast
import inspect

import tenantedge.errors as errors
from tests.server import ROOT


def _defined_exceptions() -> dict[str, str]:
    """Every class in src/ whose bases look like exceptions, by name, with the file that defines it."""
    found: dict[str, str] = {}
    known = {name for name, value in vars(errors).items() if inspect.isclass(value) and issubclass(value, Exception)}
    for path in (ROOT / "src" / "tenantedge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases}
            if bases & (known | {"Exception", "ValueError", "RuntimeError", "LookupError", "KeyError"}):
                found[node.name] = str(path.relative_to(ROOT))
    return found


def test_every_exception_lives_in_errors_py() -> None:
    outside = {name: where for name, where in _defined_exceptions().items() if not where.endswith("errors.py")}
    assert outside == {}


def test_the_docstring_draws_every_class() -> None:
    doc = errors.__doc__ or ""
    classes = [name for name, value in vars(errors).items() if inspect.isclass(value) and issubclass(value, Exception)]
    assert len(classes) >= 13
    assert [name for name in classes if name not in doc] == []
