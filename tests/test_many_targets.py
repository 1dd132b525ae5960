"""Many targets (issue 18): the example workflow `examples/workflows/many-targets.yml` syncs each planning folder of
a monorepo to its own repository, one matrix job per pair, each with its own artifacts name and its own lease.

The README's "Many targets" section shows the file as it is; the linters pass it; and each matrix entry, run
through `cli.main` against the fake GitHub with the inputs the workflow gives, fills its own repository only.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from batch_action.sync.lease import LEASE_LABEL
from batch_action.sync.render import read_marker
from tests.fake_github import FakeGitHub
from tests.sync_harness import ROOT, TOKEN, Workspace, run_sync
from tests.test_workflow_lint import _actionlint, _output, _run, _zizmor

WORKFLOW = ROOT / "examples" / "workflows" / "many-targets.yml"


def matrix() -> list[dict[str, str]]:
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["sync"]
    entries: list[dict[str, str]] = job["strategy"]["matrix"]["include"]
    return entries


def step_inputs(entry: dict[str, str]) -> dict[str, str]:
    """The sync step's `with:`, each `${{ matrix.x }}` filled in from `entry` (the token is the test's)."""
    job: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())["jobs"]["sync"]
    [step] = [step for step in job["steps"] if step.get("id") == "sync"]
    filled = {
        name: re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: entry[m.group(1)], str(value))
        for name, value in step["with"].items()
        if name != "github-token"
    }
    return {name.replace("-", "_"): value for name, value in filled.items()}


def test_the_readme_shows_the_example_workflow_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Many targets", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None and block.group(1) == WORKFLOW.read_text(), "README block == examples/workflows file"


def test_each_target_has_its_own_artifacts_lease_and_concurrency_group() -> None:
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["sync"]
    entries = matrix()
    assert len(entries) >= 2
    assert len({entry["repository"] for entry in entries}) == len(entries), "one folder per repository"
    assert len({step_inputs(entry)["artifact_name"] for entry in entries}) == len(entries)
    assert "matrix.repository" in job["concurrency"]["group"] and job["strategy"]["fail-fast"] is False


def test_the_example_workflow_passes_zizmor(tmp_path: Path) -> None:
    copy = tmp_path / ".github" / "workflows" / WORKFLOW.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(WORKFLOW, copy)
    result = _zizmor(copy)
    assert result.returncode == 0, _output(result)


def test_the_example_workflow_passes_actionlint(tmp_path: Path) -> None:
    copy = tmp_path / ".github" / "workflows" / WORKFLOW.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(WORKFLOW, copy)
    result = _run([_actionlint(), str(copy)])
    assert result.returncode == 0 and f"{copy.name}:" not in result.stdout, _output(result)


def test_each_matrix_job_syncs_its_folder_to_its_repository(tmp_path: Path) -> None:
    entries = matrix()
    source = ROOT / "examples" / ".claude"
    ws = Workspace(tmp_path / "ws", source=source)
    for entry in entries:  # the monorepo: one planning folder per app, each a copy of the example tree
        shutil.copytree(source, ws.path / entry["path"])
    shutil.rmtree(ws.path / ".claude")
    ws.commit("apps")
    repositories = [entry["repository"] for entry in entries]
    with FakeGitHub(token=TOKEN, repos=repositories) as gh:
        for entry in entries:
            inputs = step_inputs(entry)
            result = run_sync(gh, ws.path, tmp_path / entry["name"], **inputs)
            assert result.code == 0, result.log
            assert result.outputs["created"] == "44"
        for entry in entries:
            repository = entry["repository"]
            issues = by_key_in(gh, repository)
            assert len(issues) == 44, f"{repository}: its own folder's items, once each"
            assert all(entry["path"] in issue["body"] for issue in issues.values()), "linked to its own folder"
            lease_writes = [
                r for r in gh.requests if r.method == "POST" and r.path == f"/repos/{repository}/labels"
                and isinstance(r.body, dict) and r.body.get("name") == LEASE_LABEL
            ]  # fmt: skip
            assert len(lease_writes) == 1, f"{repository}: its own lease, taken once"
        second = run_sync(gh, ws.path, tmp_path / "again", **step_inputs(entries[0]))
        assert second.code == 0 and second.outputs["created"] == "0", "a re-run of one target changes nothing"
        assert len(by_key_in(gh, entries[1]["repository"])) == 44


def by_key_in(gh: FakeGitHub, repository: str) -> dict[str, dict[str, Any]]:
    """Issues of `repository` by marker key; fails on a duplicate."""
    found: dict[str, dict[str, Any]] = {}
    for issue in gh.issues(repository):
        marker = read_marker(issue.get("body"))
        if marker is not None:
            assert marker.key not in found, f"{repository}: duplicate issue for {marker.key}"
            found[marker.key] = issue
    return found
