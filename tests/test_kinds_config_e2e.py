"""Sync by kind and the config file, end to end through `cli.main` against the fake GitHub (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_action.inputs import INPUTS
from batch_action.sync.render import SYNC_LABEL
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, Workspace, by_key, run_sync, writes

TOTAL = {"prd": 7, "epic": 7, "task": 30}  # the example tree


def kinds_of(gh: FakeGitHub) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in by_key(gh):
        kind = key.split(":", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


@pytest.mark.parametrize("kinds", ["prd", "epic", "task", "prd,epic", "epic,task", "prd,task"])
def test_each_subset_syncs_only_its_kinds(tmp_path: Path, kinds: str) -> None:
    ws = Workspace(tmp_path / "ws")
    chosen = kinds.split(",")
    with FakeGitHub(token=TOKEN) as gh:
        result = run_sync(gh, ws.path, tmp_path / "run", kinds=kinds)
        assert result.code == 0, result.log
        assert kinds_of(gh) == {kind: TOTAL[kind] for kind in chosen}
        issues = by_key(gh)
        if "task" in chosen and "epic" not in chosen:
            # No epic issue exists: no task is made a sub-issue, and none is listed as one.
            assert not any(issue.get("parent_issue_url") for issue in issues.values())
        again = run_sync(gh, ws.path, tmp_path / "again", kinds=kinds)
        assert again.code == 0 and again.outputs["created"] == "0" and again.outputs["updated"] == "0"


def test_switching_subsets_between_runs_closes_nothing_and_links_once_both_exist(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as gh:
        tasks = run_sync(gh, ws.path, tmp_path / "tasks", kinds="task")
        assert tasks.code == 0, tasks.log
        epics = run_sync(gh, ws.path, tmp_path / "epics", kinds="prd,epic")
        assert epics.code == 0, epics.log
        assert epics.outputs["closed"] == "0", "the tasks' issues are out of scope, not removed"
        assert all(issue["state"] == "open" or issue["state_reason"] != "not_planned" for issue in gh.issues())
        assert kinds_of(gh) == TOTAL
        everything = run_sync(gh, ws.path, tmp_path / "all")
        assert everything.code == 0, everything.log
        assert everything.outputs["closed"] == "0" and everything.outputs["created"] == "0"
        parents = {key: issue.get("parent_issue_url") for key, issue in by_key(gh).items()}
        assert all(parents[key] for key in parents if key.startswith("task:")), "the tasks now are sub-issues"
        before = len(writes(gh))
        final = run_sync(gh, ws.path, tmp_path / "final", kinds="epic")
        assert final.code == 0 and final.outputs["closed"] == "0"
        assert len(writes(gh)) == before, "a synced tree with fewer kinds writes nothing"
        assert not any(issue["state_reason"] == "not_planned" for issue in gh.issues())


def test_a_bad_kinds_value_is_an_input_error(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as gh:
        result = run_sync(gh, ws.path, tmp_path / "run", kinds="prd,tsak")
    assert result.code == 2
    assert "input `kinds`: 'tsak' is not a kind; use prd, epic or task, comma-separated (did you mean 'task'?)" in (
        result.log
    )


def write_config(ws: Workspace, text: str, name: str = ".github/issue-sync.yml") -> None:
    path = ws.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    ws.commit("config")


def test_the_config_file_sets_inputs_and_the_look_and_the_workflow_wins(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    write_config(
        ws,
        "kinds: [prd, epic]\n"
        "labels: [planning]\n"
        "kind-labels:\n  epic: [roadmap]\n"
        "titles:\n  prd: 'Product: {title}'\n"
        "close-statuses: [complete, completed, closed, done, in-progress]\n",
    )
    with FakeGitHub(token=TOKEN) as gh:
        # The harness gives scope=all and the like; `kinds` and `labels` are left to the file.
        result = run_sync(gh, ws.path, tmp_path / "run")
        assert result.code == 0, result.log
        issues = by_key(gh)
        assert kinds_of(gh) == {"prd": 7, "epic": 7}
        assert issues["prd:auth"]["title"] == "Product: auth"
        labels = {label["name"] for label in issues["epic:billing"]["labels"]}
        assert {"epic", SYNC_LABEL, "planning", "roadmap"} <= labels
        assert issues["epic:billing"]["state"] == "closed", "in-progress closes an issue, as the file says"
        # An input the workflow gives wins over the file; one equal to its default does not count as given.
        wins = run_sync(gh, ws.path, tmp_path / "wins", kinds="task", labels="")
        assert wins.code == 0, wins.log
        assert kinds_of(gh) == TOTAL
        task = by_key(gh)["task:billing/003"]
        assert "planning" in {label["name"] for label in task["labels"]}, "labels='' is the default: the file's"
        same = run_sync(gh, ws.path, tmp_path / "same", kinds="prd,epic,task")
        assert same.outputs["created"] == "0" and same.outputs["updated"] == "0"


def test_problems_in_the_config_file_name_file_line_and_key(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    write_config(ws, "# settings\nscope: sometimes\nmax-concurency: 4\nmax-concurrency: 99\n")
    with FakeGitHub(token=TOKEN) as gh:
        result = run_sync(gh, ws.path, tmp_path / "run", scope="")
    assert result.code == 2, result.log
    errors = "\n".join(result.errors)
    assert ".github/issue-sync.yml:3: key `max-concurency`: is not a key of the config file; did you mean " in errors
    assert ".github/issue-sync.yml:2: key `scope`: 'sometimes' is not one of 'changed', 'all'" in errors
    assert ".github/issue-sync.yml:4: key `max-concurrency`: 99 is out of range; use 1 to 32" in errors
    assert "did you mean `max-concurrency`?" in errors


def test_a_named_config_file_must_exist_and_the_default_one_may_not(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with FakeGitHub(token=TOKEN) as gh:
        assert run_sync(gh, ws.path, tmp_path / "none", dry_run="true").code == 0
        missing = run_sync(gh, ws.path, tmp_path / "named", dry_run="true", config="ci/sync.yml")
    assert missing.code == 2
    assert "input `config`: file 'ci/sync.yml' does not exist in the workspace" in missing.log


SAMPLE = {  # a value for every input a file may set, different from its default
    "repository": "octo/repo",
    "api-url": "",  # filled in below with the fake's URL
    "path": ".claude",
    "scope": "all",
    "base-sha": "",
    "dry-run": "true",
    "max-concurrency": "3",
    "max-retries": "2",
    "request-timeout": "7",
    "writes-per-minute": "0",
    "checkpoint-every": "5",
    "close-removed": "false",
    "sub-issues": "false",
    "dependencies": "false",
    "labels": "from-file",
    "replay": "",
    "artifact-name": "from-file",
    "upload-artifacts": "false",
    "retention-days": "3",
    "output-dir": "",
    "stop-on-error": "true",
    "deadline-minutes": "9",
    "mentions": "keep",
    "lease-wait-minutes": "1",
    "kinds": "prd",
    "issue-types": "prd=Feature",
    "project": "https://github.com/orgs/octo/projects/5",
    "project-fields": "Status=status",
}


def test_every_input_but_the_token_and_config_is_settable_in_the_file(tmp_path: Path) -> None:
    from batch_action.settings import load_settings

    settable = {spec.name for spec in INPUTS} - {"github-token", "project-token", "config"}
    assert set(SAMPLE) == settable, "a new input needs a sample value here"
    ws = Workspace(tmp_path / "ws")
    values = {**SAMPLE, "base-sha": ws.head(), "output-dir": "out", "replay": "123"}
    write_config(ws, "".join(f"{name}: '{value}'\n" for name, value in values.items() if value))
    env = {"GITHUB_WORKSPACE": str(ws.path), "INPUT_GITHUB-TOKEN": TOKEN, "GITHUB_REPOSITORY": "octo/other"}
    # What the runner gives a container for inputs the workflow left out: their defaults.
    env.update({f"INPUT_{spec.name.upper()}": spec.default for spec in INPUTS if spec.name != "github-token"})
    settings = load_settings(env, [])
    shown = {
        "scope": settings.scope,
        "dry-run": str(settings.dry_run).lower(),
        "max-concurrency": str(settings.max_concurrency),
        "max-retries": str(settings.max_retries),
        "request-timeout": str(settings.request_timeout),
        "writes-per-minute": str(settings.writes_per_minute),
        "checkpoint-every": str(settings.checkpoint_every),
        "close-removed": str(settings.close_removed).lower(),
        "sub-issues": str(settings.sub_issues).lower(),
        "dependencies": str(settings.dependencies).lower(),
        "labels": ",".join(settings.labels),
        "replay": settings.replay,
        "artifact-name": settings.artifact_name,
        "upload-artifacts": str(settings.upload_artifacts).lower(),
        "retention-days": str(settings.retention_days),
        "stop-on-error": str(settings.stop_on_error).lower(),
        "deadline-minutes": f"{settings.deadline_minutes:g}",
        "mentions": settings.mentions,
        "lease-wait-minutes": f"{settings.lease_wait_minutes:g}",
        "kinds": ",".join(sorted(kind.value for kind in settings.kinds)),
        "repository": settings.repository,
        "base-sha": settings.base_sha,
        "path": settings.relative_path,
        "issue-types": ",".join(f"{kind.value}={name}" for kind, name in settings.issue_types.items()),
        "project": settings.project_url,
        "project-fields": settings.project_fields,
    }
    assert shown == {name: values[name] for name in shown}
    assert settings.output_dir == ws.path / "out" and settings.config == ".github/issue-sync.yml"
