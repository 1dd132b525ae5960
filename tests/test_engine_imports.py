"""The engine is generic: its modules import the standard library, tenacity and each other, nothing else.
What an adapter's library raises reaches it through the adapter's `Classifier`."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "batch_action" / "engine"
ALLOWED = frozenset(sys.stdlib_module_names) | {"tenacity"}
HTTP_LIBRARIES = frozenset({"github", "requests", "urllib3"})


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import; a relative import is named `.`, inside the package."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." if node.level else node.module or ""))
    return found


def outside_engine(module: str) -> bool:
    if module == "." or module == "batch_action.engine" or module.startswith("batch_action.engine."):
        return False
    return module.partition(".")[0] not in ALLOWED


@pytest.mark.parametrize("path", sorted(ENGINE.glob("*.py")), ids=lambda p: p.name)
def test_engine_modules_import_only_stdlib_tenacity_and_the_engine(path: Path) -> None:
    bad = [f"{path.name}:{line} imports {module}" for line, module in imported(path) if outside_engine(module)]
    assert bad == []


def test_the_rule_sees_every_kind_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os, requests\nfrom github.Requester import Requester\nfrom . import governor\n")
    assert [m for _, m in imported(module) if outside_engine(m)] == ["requests", "github.Requester"]


def test_engine_tests_raise_no_http_library_exceptions() -> None:
    tests = [*sorted(Path(__file__).parent.glob("test_engine_*.py")), Path(__file__).parent / "engine_faults.py"]
    bad = [
        f"{path.name}:{line} imports {module}"
        for path in tests
        for line, module in imported(path)
        if module.partition(".")[0] in HTTP_LIBRARIES
    ]
    assert bad == []
