"""The workflow the README's Quick start offers (users copy it) passes zizmor and actionlint (issue 16, item 9).

The block is taken from README.md itself, so the test follows every edit of it. A missing linter fails under
CI=true and skips elsewhere, as in test_workflow_lint.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_workflow_lint import REPO, _actionlint, _output, _run, _zizmor


def readme_workflow(tmp_path: Path) -> Path:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### In a workflow", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's 'In a workflow' section has a ```yaml block"
    path = tmp_path / ".github" / "workflows" / "sync-planning-issues.yml"
    path.parent.mkdir(parents=True)
    path.write_text(block.group(1), encoding="utf-8")
    return path


def test_the_readme_workflow_passes_zizmor(tmp_path: Path) -> None:
    result = _zizmor(readme_workflow(tmp_path))
    assert result.returncode == 0, _output(result)


def test_the_readme_workflow_passes_actionlint(tmp_path: Path) -> None:
    workflow = readme_workflow(tmp_path)
    result = _run([_actionlint(), str(workflow)])
    assert result.returncode == 0 and f"{workflow.name}:" not in result.stdout, _output(result)
