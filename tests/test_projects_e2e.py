"""Issue types and a Projects (v2) board, end to end: `cli.main` against the fake GitHub (REST and GraphQL).

The example tree is synced with `issue-types` and a `project`; then re-runs that change nothing, one file's
status, a person's change on the board, a token that cannot write the project, and a personal repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_action.model import Kind
from batch_action.projects.mapping import status_option
from tests.fake_github import FakeGitHub, Grant
from tests.fake_github.graphql import FakeProject
from tests.sync_harness import TOKEN, RunResult, Workspace, by_key, run_sync, writes

Factory = Callable[..., FakeGitHub]
PROJECT_TOKEN = "project-t0ken-for-tests"
PROJECT_URL = "https://github.com/orgs/octo/projects/7"
ITEMS = 44  # the example tree's items (51 files, 7 of them no items)
TYPES = "prd=Feature,epic=Epic,task=Task"
FIELDS = [
    ("Priority", "SINGLE_SELECT", ["High", "Medium", "Low"]),
    ("Estimate", "NUMBER", []),
    ("Start date", "DATE", []),
    ("Target date", "DATE", []),
]
_STATUS_RE = re.compile(r"^status:\s*(.+?)\s*$", re.MULTILINE)


def board_fake(fake_github: Factory, **kwargs: Any) -> tuple[FakeGitHub, FakeProject]:
    settings: dict[str, Any] = {
        "token": TOKEN,
        "grant": Grant(projects="none"),  # github-token is GITHUB_TOKEN-like: it cannot reach the project
        "tokens": {PROJECT_TOKEN: Grant(projects="write")},
        "issue_types": {"octo": ["Task", "Bug", "Feature", "Epic"]},
    }
    gh = fake_github(**{**settings, **kwargs})
    return gh, gh.graphql.add_project("octo", 7, fields=FIELDS)


def sync(gh: FakeGitHub, ws: Workspace, out: Path, **inputs: str) -> RunResult:
    settings = {"issue_types": TYPES, "project": PROJECT_URL, "project_token": PROJECT_TOKEN, **inputs}
    return run_sync(gh, ws.path, out, **settings)


def rest_writes(gh: FakeGitHub) -> list[tuple[str, str]]:
    """The run's REST writes (GraphQL queries are POSTs too: their mutations are counted apart)."""
    return [write for write in writes(gh) if write[1] != "/graphql"]


def graphql_mutations(gh: FakeGitHub) -> list[str]:
    return [name for name, _ in gh.graphql.mutations]


def test_first_sync_puts_every_issue_on_the_board_with_its_type_and_fields(
    fake_github: Factory, tmp_path: Path
) -> None:
    gh, project = board_fake(fake_github)
    ws = Workspace(tmp_path / "ws")
    result = sync(gh, ws, tmp_path / "first")
    assert result.code == 0, result.log
    issues = by_key(gh)
    assert len(issues) == ITEMS
    kinds = {"prd": "Feature", "epic": "Epic", "task": "Task"}
    for key, issue in issues.items():
        assert issue["type"]["name"] == kinds[key.split(":", 1)[0]], key
        values = gh.graphql.values_of(project, issue["id"])
        assert values is not None, f"{key} is not on the board"
        assert values["Status"] in ("Todo", "In Progress", "Done")
    # Status follows the file: each issue's Status is the option its file's status maps to.
    for key, issue in issues.items():
        path = ws.path / re.sub(r"^.*Source:\*\* \[([^\]]+)\].*$", r"\1", issue["body"], flags=re.DOTALL)
        found = _STATUS_RE.search(path.read_text(encoding="utf-8")) if path.is_file() else None
        status = found.group(1).lower() if found else "open"
        assert gh.graphql.values_of(project, issue["id"])["Status"] == status_option(status), key
    adds = graphql_mutations(gh).count("addProjectV2ItemById")
    assert adds == ITEMS
    # The example tree's one `priority: high` and `priority: medium` land on the options of those names.
    shown = [gh.graphql.values_of(project, issue["id"]) or {} for issue in issues.values()]
    assert sorted(values["Priority"] for values in shown if "Priority" in values) == ["High", "Medium"]
    assert "### Issue types and project" in result.summary


def test_a_re_run_with_nothing_changed_costs_the_board_listing_and_no_mutation(
    fake_github: Factory, tmp_path: Path
) -> None:
    gh, _ = board_fake(fake_github)
    ws = Workspace(tmp_path / "ws")
    assert sync(gh, ws, tmp_path / "first").code == 0
    gh.clear_requests()
    gh.graphql.mutations.clear()
    again = sync(gh, ws, tmp_path / "again")
    assert again.code == 0, again.log
    assert graphql_mutations(gh) == []
    assert rest_writes(gh) == []
    posts = [r for r in gh.requests if r.path == "/graphql"]
    assert len(posts) == 1  # 44 items: the lookup's first page holds them all
    assert again.outputs["unchanged"] == str(ITEMS)


def test_one_changed_status_is_one_field_mutation_and_its_issue_update(fake_github: Factory, tmp_path: Path) -> None:
    gh, project = board_fake(fake_github)
    ws = Workspace(tmp_path / "ws")
    assert sync(gh, ws, tmp_path / "first").code == 0
    task = ws.path / ".claude" / "epics" / "auth" / "003.md"
    text = task.read_text(encoding="utf-8")
    assert _STATUS_RE.search(text) is not None
    task.write_text(_STATUS_RE.sub("status: in-progress", text, count=1), encoding="utf-8")
    base = ws.head()
    ws.commit("start auth/003")
    gh.clear_requests()
    gh.graphql.mutations.clear()
    result = sync(gh, ws, tmp_path / "second", scope="changed", base_sha=base)
    assert result.code == 0, result.log
    assert graphql_mutations(gh) == ["updateProjectV2ItemFieldValue"]
    issue = by_key(gh)["task:auth/003"]
    assert [w for w in rest_writes(gh) if w[0] == "PATCH"] == [("PATCH", f"/repos/octo/repo/issues/{issue['number']}")]
    assert gh.graphql.values_of(project, issue["id"])["Status"] == "In Progress"
    # The type was unchanged: the update did not send it.
    patch = next(r for r in gh.requests if r.method == "PATCH")
    assert "type" not in patch.body


def test_a_persons_change_on_the_board_survives_a_re_run(fake_github: Factory, tmp_path: Path) -> None:
    gh, project = board_fake(fake_github)
    ws = Workspace(tmp_path / "ws")
    assert sync(gh, ws, tmp_path / "first").code == 0
    issue = by_key(gh)["task:auth/002"]
    gh.graphql.set_value(project, issue["id"], "Status", "Done")
    gh.graphql.set_value(project, issue["id"], "Priority", "Low")
    gh.graphql.mutations.clear()
    result = sync(gh, ws, tmp_path / "again")
    assert result.code == 0, result.log
    assert graphql_mutations(gh) == []
    kept = gh.graphql.values_of(project, issue["id"]) or {}
    assert (kept["Status"], kept["Priority"]) == ("Done", "Low")


def test_a_token_that_cannot_reach_the_project_is_one_error_naming_project_token_and_nothing_is_written(
    fake_github: Factory, tmp_path: Path
) -> None:
    gh, project = board_fake(fake_github)
    ws = Workspace(tmp_path / "ws")
    result = sync(gh, ws, tmp_path / "first", project_token="")  # github-token is GITHUB_TOKEN-like
    assert result.code == 2, result.log
    assert len(result.errors) == 1 and "project-token" in result.errors[0], result.errors
    assert "actions/create-github-app-token" in result.errors[0]
    assert gh.issues() == [] and rest_writes(gh) == [] and project.items == []


def test_a_token_that_may_read_but_not_write_the_project_stops_before_any_write(
    fake_github: Factory, tmp_path: Path
) -> None:
    gh, project = board_fake(fake_github, tokens={PROJECT_TOKEN: Grant(projects="read")})
    result = sync(gh, Workspace(tmp_path / "ws"), tmp_path / "first")
    assert result.code == 2
    assert len(result.errors) == 1 and "cannot write the project" in result.errors[0]
    assert gh.issues() == [] and project.items == []


def test_a_personal_repository_gets_no_types_and_one_notice(fake_github: Factory, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN, repos=["mona/plans"], users=["mona"])
    ws = Workspace(tmp_path / "ws")
    result = run_sync(gh, ws.path, tmp_path / "first", repository="mona/plans", issue_types=TYPES)
    assert result.code == 0, result.log
    notices = [line for line in result.log.splitlines() if line.startswith("::notice") and "issue types" in line]
    assert len(notices) == 1 and "mona is not an organisation" in notices[0]
    assert all(issue["type"] is None for issue in gh.issues("mona/plans"))
    assert not any(isinstance(r.body, dict) and "type" in r.body for r in gh.requests)


def test_an_unknown_type_name_is_exit_2_naming_the_valid_ones(fake_github: Factory, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    result = run_sync(gh, Workspace(tmp_path / "ws").path, tmp_path / "out", issue_types="prd=Initiative,task=Task")
    assert result.code == 2
    assert len(result.errors) == 1
    assert "prd='Initiative' is not an issue type of octo; its types are Bug, Feature, Task" in result.errors[0]
    assert gh.issues() == []


def test_a_type_github_dropped_fails_the_item_naming_the_permission(fake_github: Factory, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN, grant=Grant(push=False))
    result = run_sync(gh, Workspace(tmp_path / "ws").path, tmp_path / "out", issue_types="task=Task")
    assert result.code == 1
    dropped = [line for line in result.errors if "left the issue type 'Task' off" in line]
    assert dropped and "push access" in dropped[0]
    # Their markers say the write was not confirmed: the next run writes them again.
    assert result.outputs["failed"] != "0"


def test_turning_types_on_rewrites_each_issue_once_and_leaving_them_off_rewrites_none(
    fake_github: Factory, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN)
    ws = Workspace(tmp_path / "ws")
    assert run_sync(gh, ws.path, tmp_path / "plain").code == 0
    gh.clear_requests()
    assert run_sync(gh, ws.path, tmp_path / "plain-again").outputs["unchanged"] == str(ITEMS)
    assert rest_writes(gh) == []
    typed = run_sync(gh, ws.path, tmp_path / "typed", issue_types="task=Task")
    assert typed.code == 0, typed.log
    tasks = [k for k in by_key(gh) if k.startswith(f"{Kind.TASK}:")]
    assert typed.outputs["updated"] == str(len(tasks))
    gh.clear_requests()
    assert run_sync(gh, ws.path, tmp_path / "typed-again", issue_types="task=Task").outputs["unchanged"] == str(ITEMS)
    assert rest_writes(gh) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("Status=status,Size=effort", "has no field 'Size'; the fields it can set are Estimate, Priority"),
        ("Status=status,Title=priority", "a title field, which the action cannot set"),
    ],
)
def test_unknown_project_fields_are_exit_2_naming_the_valid_ones(
    fake_github: Factory, tmp_path: Path, fields: str, message: str
) -> None:
    gh, project = board_fake(fake_github)
    result = sync(gh, Workspace(tmp_path / "ws"), tmp_path / "out", project_fields=fields)
    assert result.code == 2
    assert any(message in line for line in result.errors), result.errors
    assert gh.issues() == [] and project.items == []


def test_an_option_the_board_lacks_is_exit_2_naming_its_options(fake_github: Factory, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN, tokens={PROJECT_TOKEN: Grant()})
    project = gh.graphql.add_project("octo", 7, fields=[("Priority", "SINGLE_SELECT", ["P0", "P1"])])
    result = sync(gh, Workspace(tmp_path / "ws"), tmp_path / "out", issue_types="")
    assert result.code == 2
    bad = [line for line in result.errors if "`priority: high` has no option" in line]
    assert bad and "its options are P0, P1" in bad[0]
    assert gh.issues() == [] and project.items == []


def test_a_dry_run_shows_the_types_and_the_board_work_and_writes_nothing(fake_github: Factory, tmp_path: Path) -> None:
    gh, project = board_fake(fake_github)
    ws = Workspace(tmp_path / "ws")
    assert sync(gh, ws, tmp_path / "first").code == 0
    issue = by_key(gh)["task:auth/003"]
    gh.set_issue_type(issue["number"], "Bug")  # a person retyped it: the file's type comes back only on a change
    task = ws.path / ".claude" / "epics" / "auth" / "003.md"
    task.write_text(_STATUS_RE.sub("status: done", task.read_text(encoding="utf-8"), count=1), encoding="utf-8")
    ws.commit("auth/003 done")
    gh.clear_requests()
    gh.graphql.mutations.clear()
    dry = sync(gh, ws, tmp_path / "dry", dry_run="true")
    assert dry.code == 0, dry.log
    assert rest_writes(gh) == [] and graphql_mutations(gh) == []
    assert "issue type Bug -> Task" in dry.log
    assert "project: Status: Todo -> Done" in dry.log
    assert "### Issue types and project" in dry.summary and "Status 1" in dry.summary
    assert gh.graphql.values_of(project, issue["id"])["Status"] == "Todo"
