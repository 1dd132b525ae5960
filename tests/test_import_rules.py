"""The layout's import rules, read from each module's syntax tree (nothing is imported to check them).

1. pure core: parsing bytes → documents, the graph, the scope, the plan, the render, canonical JSON and digests
   (and the data they share: model, limits, the tracker port's types, inputs) import no I/O module and, of this
   package, only each other: nothing from report/, engine/, run/, the adapters or the file system.
2. pure decisions: the replay's decisions and the forecast import no I/O module (they may read engine types).
3. engine/ imports only the standard library, tenacity and itself (also tests/test_engine_imports.py).
4. PyGithub, requests and urllib3 are imported only by the adapters (a few sync modules still catch PyGithub's
   exception: listed below, to be removed, and the test fails once one no longer needs its entry).
5. only the composition root (cli.py) imports the PyGithub adapter and builds the run's effects.
6. the run's phases (run/) build no effect: no clock, sleep, thread, signal or process of their own.

A failure names the rule, the module, the line and the import.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "batch_action"

PURE_CORE = frozenset(
    {
        "batch_action.canonical",
        "batch_action.graph",
        "batch_action.inputs",
        "batch_action.limits",
        "batch_action.model",
        "batch_action.parsing.documents",
        "batch_action.parsing.frontmatter",
        "batch_action.scope",
        "batch_action.sync.features",
        "batch_action.sync.fit",
        "batch_action.sync.mentions",
        "batch_action.sync.plan",
        "batch_action.sync.render",
        "batch_action.sync.tracker",
    }
)
PURE_DECISIONS = frozenset({"batch_action.resume.decide", "batch_action.forecast", "batch_action.outcome"})
# Modules that touch files, processes, sockets, clocks or signals. `pathlib` is allowed for PurePosixPath only.
IO_MODULES = frozenset(
    {
        "asyncio",
        "concurrent",
        "fcntl",
        "glob",
        "http",
        "io",
        "mmap",
        "os",
        "resource",
        "select",
        "shutil",
        "signal",
        "socket",
        "ssl",
        "subprocess",
        "tempfile",
        "time",
        "urllib.request",
        "github",
        "requests",
        "urllib3",
    }
)
HTTP_LIBRARIES = frozenset({"github", "requests", "urllib3"})
ADAPTERS = frozenset({"batch_action.sync.github_tracker", "batch_action.sync.github_failures"})
ADAPTER_PACKAGES = ("batch_action.artifacts.",)
# Sync modules that still catch `github.GithubException` (the port should name its own errors): to be removed.
KNOWN_LEAKS = frozenset({"batch_action.sync.apply", "batch_action.sync.observe", "batch_action.sync.refusals"})
COMPOSITION_ROOT = "batch_action.cli"
EFFECTS = frozenset({"time", "threading", "signal", "subprocess", "socket"})


@dataclass(frozen=True)
class Import:
    line: int
    module: str  # absolute: a relative import is resolved against the importing module
    names: tuple[str, ...] = ()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> list[Import]:
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.append(Import(node.lineno, base, tuple(alias.name for alias in node.names)))
    return found


def calls_open(name: str) -> list[int]:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    ]


def is_io(item: Import) -> bool:
    if item.module == "pathlib":
        return not set(item.names) <= {"PurePosixPath", "PurePath"}
    return any(item.module == io or item.module.startswith(io + ".") for io in IO_MODULES)


def own(item: Import) -> str | None:
    """The package module an import names (`from batch_action.sync import plan` names batch_action.sync.plan)."""
    if item.module != "batch_action" and not item.module.startswith("batch_action."):
        return None
    for candidate in (f"{item.module}.{n}" for n in item.names):
        if candidate in MODULES:
            return candidate
    return item.module


def broken(rule: str, name: str, item: Import, why: str) -> str:
    return f"rule {rule}: {name} (line {item.line}) imports {item.module}: {why}"


@pytest.mark.parametrize("name", sorted(PURE_CORE))
def test_rule_1_the_pure_core_imports_no_io_and_only_the_core(name: str) -> None:
    assert name in MODULES, f"rule 1 names {name}, which does not exist: update the list"
    problems = [broken("1 (pure core)", name, item, "an I/O module") for item in imports(name) if is_io(item)]
    for item in imports(name):
        target = own(item)
        if target is not None and target not in PURE_CORE:
            problems.append(broken("1 (pure core)", name, item, "not part of the pure core"))
    problems += [f"rule 1 (pure core): {name} (line {line}) calls open()" for line in calls_open(name)]
    # Importing a module runs its package's __init__ too: that must be pure as well.
    package = name.rpartition(".")[0]
    if package != "batch_action":
        problems += [
            broken("1 (pure core)", package, item, "a package __init__ the pure core runs")
            for item in imports(package)
            if is_io(item) or ((target := own(item)) is not None and target not in PURE_CORE)
        ]
    assert problems == []


@pytest.mark.parametrize("name", sorted(PURE_DECISIONS))
def test_rule_2_the_pure_decisions_import_no_io(name: str) -> None:
    problems = [broken("2 (pure decisions)", name, item, "an I/O module") for item in imports(name) if is_io(item)]
    problems += [
        broken("2 (pure decisions)", name, item, "an adapter")
        for item in imports(name)
        if (target := own(item)) in ADAPTERS or (target or "").startswith(ADAPTER_PACKAGES)
    ]
    problems += [f"rule 2 (pure decisions): {name} (line {line}) calls open()" for line in calls_open(name)]
    assert problems == []


def test_rule_3_the_engine_imports_only_stdlib_tenacity_and_itself() -> None:
    allowed = frozenset(sys.stdlib_module_names) | {"tenacity"}
    problems = [
        broken("3 (engine)", name, item, "outside the standard library, tenacity and engine/")
        for name in MODULES
        if name.startswith("batch_action.engine")
        for item in imports(name)
        if not item.module.startswith("batch_action.engine") and item.module.partition(".")[0] not in allowed
    ]
    assert problems == []


def test_rule_4_http_libraries_only_in_the_adapters() -> None:
    problems = []
    leaking = set()
    for name in MODULES:
        for item in imports(name):
            if item.module.partition(".")[0] not in HTTP_LIBRARIES:
                continue
            if name in ADAPTERS or name.startswith(ADAPTER_PACKAGES):
                continue
            if name in KNOWN_LEAKS:
                leaking.add(name)
                continue
            problems.append(broken("4 (HTTP libraries in adapters)", name, item, "not an adapter"))
    assert problems == []
    assert leaking == KNOWN_LEAKS, f"no longer imports an HTTP library, drop from KNOWN_LEAKS: {KNOWN_LEAKS - leaking}"


def test_rule_5_only_the_composition_root_builds_the_adapter_and_the_runtime() -> None:
    problems = []
    for name in MODULES:
        if name == COMPOSITION_ROOT:
            continue
        for item in imports(name):
            if own(item) == "batch_action.sync.github_tracker":
                problems.append(broken("5 (composition root)", name, item, "only cli.py builds the PyGithub adapter"))
            if own(item) == COMPOSITION_ROOT:
                problems.append(broken("5 (composition root)", name, item, "nothing depends on the entry point"))
    source = {name: MODULES[name].read_text(encoding="utf-8") for name in MODULES}
    problems += [
        f"rule 5 (composition root): {name} builds a Runtime(...)"
        for name, text in source.items()
        if name not in (COMPOSITION_ROOT, "batch_action.runtime") and "Runtime(" in text
    ]
    assert problems == []


def test_rule_6_the_run_phases_build_no_effect() -> None:
    problems = [
        broken("6 (run phases)", name, item, "a clock, thread, signal or process: take it from the Runtime")
        for name in MODULES
        if name == "batch_action.run" or name.startswith("batch_action.run.")
        for item in imports(name)
        if item.module.partition(".")[0] in EFFECTS
        or own(item) in ADAPTERS
        or own(item) in ("batch_action.discovery.git", "batch_action.artifacts.client")
    ]
    assert problems == []


def test_the_rules_see_relative_from_and_pathlib_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "batch_action" / "sync" / "m.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "import os\nfrom pathlib import Path\nfrom pathlib import PurePosixPath\nfrom . import apply\n"
        "from ..report import markdown\nopen('x')\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "batch_action")
    monkeypatch.setitem(MODULES, "batch_action.sync.m", fake)
    found = imports("batch_action.sync.m")
    assert [item.module for item in found] == ["os", "pathlib", "pathlib", "batch_action.sync", "batch_action.report"]
    assert [is_io(item) for item in found] == [True, True, False, False, False]
    assert own(found[3]) == "batch_action.sync.apply" and own(found[4]) == "batch_action.report.markdown"
    assert calls_open("batch_action.sync.m") == [6]
