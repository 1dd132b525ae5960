"""Issue sync end to end: `cli.main` with INPUT_* settings, real PyGithub over HTTP, the loopback fake GitHub."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_action.sync.github_tracker import GitHubTracker
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, Workspace, by_key, is_lease_write, run_sync, writes

Factory = Callable[..., FakeGitHub]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def test_first_sync_makes_the_tree_into_issues(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    result = run_sync(gh, ws.path, tmp_path / "run1")
    assert result.code == 0, result.log
    issues = by_key(gh)
    assert len(issues) == 44 == int(result.outputs["created"])
    task = issues["task:billing/011"]
    assert task["title"] == "End-to-end billing test suite"
    assert {label["name"] for label in task["labels"]} == {"task", "issue-sync", "epic:billing"}
    epic = issues["epic:billing"]
    assert epic["title"] == "Epic: billing" and {lb["name"] for lb in epic["labels"]} >= {
        "epic",
        "epic:billing",
    }
    # parents: PRD <- epic <- task
    assert gh.parent_of(task["number"]) == epic["number"]
    assert gh.parent_of(epic["number"]) == issues["prd:billing"]["number"]
    # blocked-by from depends_on (the fan-in), and #N links in the body
    blockers = {issues[f"task:billing/{n}"]["number"] for n in ("008", "009", "010")}
    assert set(gh.blocked_by(task["number"])) == blockers
    for n in ("008", "009", "010"):
        assert f"#{issues[f'task:billing/{n}']['number']}" in task["body"]
    assert (
        "[.claude/epics/billing/011.md](https://github.com/octo/repo/blob/HEAD/.claude/epics/billing/011.md)"
        in task["body"]
    )
    # done statuses close with reason completed; open ones stay open
    assert issues["task:billing/001"]["state"] == "closed" and issues["task:billing/001"]["state_reason"] == "completed"
    assert issues["task:billing/004"]["state"] == "open"
    # the stale `depends_on: [001]` in auth/002 became a link to the renamed 87.md's issue
    assert set(gh.blocked_by(issues["task:auth/002"]["number"])) == {issues["task:auth/87"]["number"]}
    assert result.outputs["resumable"] == "false"


def test_rerun_with_nothing_changed_makes_no_write(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    assert run_sync(gh, ws.path, tmp_path / "run1").code == 0
    gh.clear_requests()
    for scope in ("all", "changed"):
        result = run_sync(gh, ws.path, tmp_path / f"again-{scope}", scope=scope, base_sha=ws.head())
        assert result.code == 0, result.log
        assert writes(gh) == []
        assert len(gh.requests) <= math.ceil(44 / 100) + 5
        assert result.outputs["created"] == "0" and result.outputs["updated"] == "0"
        gh.clear_requests()


def test_editing_one_body_is_exactly_one_update(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    assert run_sync(gh, ws.path, tmp_path / "run1").code == 0
    before = ws.head()
    path = ws.path / ".claude/epics/search/004.md"
    path.write_text(path.read_text() + "\nOne more acceptance criterion.\n")
    ws.commit("edit one task")
    number = by_key(gh)["task:search/004"]["number"]
    gh.clear_requests()
    result = run_sync(gh, ws.path, tmp_path / "run2", scope="changed", base_sha=before)
    assert result.code == 0, result.log
    assert writes(gh) == [("PATCH", f"/repos/octo/repo/issues/{number}")]
    assert "One more acceptance criterion." in gh.issue(number)["body"]  # type: ignore[index]
    assert result.outputs["updated"] == "1"


def test_deleting_a_task_closes_its_issue(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    assert run_sync(gh, ws.path, tmp_path / "run1").code == 0
    before = ws.head()
    number = by_key(gh)["task:billing/007"]["number"]
    (ws.path / ".claude/epics/billing/007.md").unlink()
    ws.commit("drop a task")
    gh.clear_requests()
    result = run_sync(gh, ws.path, tmp_path / "run2", scope="changed", base_sha=before)
    assert result.code == 0, result.log
    assert writes(gh) == [("PATCH", f"/repos/octo/repo/issues/{number}")]
    assert gh.issue(number)["state"] == "closed"  # type: ignore[index]
    assert result.outputs["closed"] == "1"


def test_an_epic_whose_prd_is_deleted_leaves_the_prd_issue(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    assert run_sync(gh, ws.path, tmp_path / "run1").code == 0
    issues = by_key(gh)
    prd, epic = issues["prd:billing"]["number"], issues["epic:billing"]["number"]
    assert gh.parent_of(epic) == prd
    (ws.path / ".claude/prds/billing.md").unlink()
    ws.commit("drop a PRD")
    gh.clear_requests()
    result = run_sync(gh, ws.path, tmp_path / "run2")
    assert result.code == 0, result.log
    assert gh.parent_of(epic) is None and gh.issue(prd)["state"] == "closed"  # type: ignore[index]
    assert sorted(writes(gh)) == sorted(
        [
            ("DELETE", f"/repos/octo/repo/issues/{prd}/sub_issue"),
            ("PATCH", f"/repos/octo/repo/issues/{epic}"),  # its body no longer links the PRD
            ("PATCH", f"/repos/octo/repo/issues/{prd}"),  # closed: its file is gone
        ]
    )
    # A person puts the epic back under an issue of the sync's: the file did not change, so that stays.
    GitHubTracker(TOKEN, "octo/repo", gh.base_url).add_sub_issue(prd, issues["epic:billing"]["id"])
    gh.clear_requests()
    assert run_sync(gh, ws.path, tmp_path / "run3").code == 0
    assert gh.parent_of(epic) == prd and writes(gh) == []


def test_renaming_a_task_keeps_its_issue(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    assert run_sync(gh, ws.path, tmp_path / "run1").code == 0
    before = ws.head()
    old = by_key(gh)["task:search/004"]
    ws.git("mv", ".claude/epics/search/004.md", f".claude/epics/search/{old['number']}.md")
    ws.commit("rename like CCPM does after a sync")
    gh.clear_requests()
    result = run_sync(gh, ws.path, tmp_path / "run2", scope="changed", base_sha=before)
    assert result.code == 0, result.log
    after = by_key(gh)
    assert f"task:search/{old['number']}" in after and "task:search/004" not in after
    assert after[f"task:search/{old['number']}"]["number"] == old["number"]
    assert all(method != "POST" or "/issues" not in path or path.count("/") > 4 for method, path in writes(gh))
    assert len(gh.issues()) == 44


@pytest.mark.parametrize("skip", [0, 20, 43])
def test_a_lost_create_response_leaves_no_duplicate(
    fake_github: Factory, ws: Workspace, tmp_path: Path, skip: int
) -> None:
    gh = fake_github(token=TOKEN)
    gh.fault("POST", r"^/repos/octo/repo/issues$", action="commit_then_drop", skip=skip)
    first = run_sync(gh, ws.path, tmp_path / "run1")
    assert first.code == 0, first.log
    assert len(by_key(gh)) == 44 and len(gh.issues()) == 44
    second = run_sync(gh, ws.path, tmp_path / "run2")
    assert second.code == 0 and len(gh.issues()) == 44
    assert second.outputs["created"] == "0"


def test_files_with_ccpm_github_urls_adopt_their_issues(fake_github: Factory, ws: Workspace, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    for n in range(1, 88):  # issues #1..#87 exist, as CCPM created them; 86 is the auth epic, 87 a task
        gh.seed_issue(f"Old issue {n}", "made by CCPM")
    result = run_sync(gh, ws.path, tmp_path / "run1")
    assert result.code == 0, result.log
    issues = by_key(gh)
    assert issues["epic:auth"]["number"] == 86 and issues["task:auth/87"]["number"] == 87
    assert issues["task:csv-export/002"]["number"] == 1  # `github: 1`
    assert len(gh.issues()) == 87 + 44 - 3
    assert run_sync(gh, ws.path, tmp_path / "run2").outputs["updated"] == "0"


def labels_by_key(gh: FakeGitHub) -> dict[str, set[str]]:
    return {key: {label["name"] for label in issue["labels"]} for key, issue in by_key(gh).items()}


def label_posts(gh: FakeGitHub) -> list[str]:
    return sorted(
        r.body["name"]
        for r in gh.requests
        if (r.method, r.path) == ("POST", "/repos/octo/repo/labels") and not is_lease_write(r)
    )


def test_epic_labels_are_made_by_github_on_first_use_with_no_request_each(
    fake_github: Factory, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN)  # makes a missing label named in a write, as github.com does
    result = run_sync(gh, ws.path, tmp_path / "run")
    assert result.code == 0, result.log
    labels = labels_by_key(gh)
    assert labels["task:billing/011"] == {"task", "issue-sync", "epic:billing"}
    assert sum(1 for names in labels.values() if any(n.startswith("epic:") for n in names)) > 30
    # Only the styled labels cost a request, once each; no label is re-added to an issue.
    assert label_posts(gh) == ["epic", "issue-sync", "prd", "task"]
    assert gh.count("POST", r"/issues/\d+/labels$") == 0


@pytest.mark.parametrize("unknown_labels", ["drop", "reject"])
def test_a_repository_that_does_not_make_labels_on_first_use_still_gets_every_label(
    fake_github: Factory, tmp_path: Path, unknown_labels: str
) -> None:
    """GitHub's making of a missing label is undocumented: a write may instead drop the label or be refused."""
    expected = fake_github(token=TOKEN)
    assert run_sync(expected, Workspace(tmp_path / "a").path, tmp_path / "run-a").code == 0
    gh = fake_github(token=TOKEN, unknown_labels=unknown_labels)
    result = run_sync(gh, Workspace(tmp_path / "b").path, tmp_path / "run-b", max_concurrency="1")
    assert result.code == 0, result.log
    assert labels_by_key(gh) == labels_by_key(expected)
    # The first drop or refusal teaches the run: from then on each label is made, once, before a write names it.
    assert label_posts(gh) == sorted(expected.labels())
    assert gh.count("POST", r"/issues/\d+/labels$") == (1 if unknown_labels == "drop" else 0)
    assert gh.count("POST", r"/repos/octo/repo/issues$", status=422) == (1 if unknown_labels == "reject" else 0)
    assert int(result.outputs["created"]) == 44 == len(by_key(gh))


@pytest.mark.parametrize("unknown_labels", ["drop", "reject"])
def test_with_concurrent_writers_each_label_is_still_made_once(
    fake_github: Factory, ws: Workspace, tmp_path: Path, unknown_labels: str
) -> None:
    gh = fake_github(token=TOKEN, unknown_labels=unknown_labels, latency=0.01)
    # `team` is on every issue, so the first creates (the PRDs, in parallel) all find it missing at once.
    result = run_sync(gh, ws.path, tmp_path / "run", max_concurrency="8", labels="team")
    assert result.code == 0, result.log
    made = label_posts(gh)
    assert len(made) == len(set(made)) and "team" in made
    assert all(
        any(n.startswith("epic:") for n in names) for key, names in labels_by_key(gh).items() if "prd:" not in key
    )
    assert len(by_key(gh)) == 44 == len(gh.issues())


def test_labels_github_will_not_keep_fail_the_item_and_say_why(
    fake_github: Factory, ws: Workspace, tmp_path: Path
) -> None:
    gh = fake_github(token=TOKEN, unknown_labels="drop")
    # A token without push access: GitHub keeps no label it is asked to add.
    gh.fault("POST", r"/issues/\d+/labels$", status=200, body=[], times=None)
    result = run_sync(gh, ws.path, tmp_path / "run", max_concurrency="1")
    assert result.code == 1
    failed = [line for line in result.log.splitlines() if "the token needs permission to label issues" in line]
    assert failed and failed[0].startswith("::error file=.claude/") and "GitHub left the labels epic:" in failed[0]
    assert (result.outputs["failed"], result.outputs["skipped"]) == ("1", "8")
    assert len(by_key(gh)) == len(gh.issues())
    # Once the token may label issues, a re-run finds that issue (it has the sync label and the marker) and makes
    # the rest: no second issue for the item, and its epic label is put on (its marker said "not confirmed").
    gh.clear_faults()
    again = run_sync(gh, ws.path, tmp_path / "again", max_concurrency="1")
    assert again.code == 0, again.log
    assert len(by_key(gh)) == len(gh.issues()) == 44
    assert all(
        any(n.startswith("epic:") for n in names) for key, names in labels_by_key(gh).items() if "prd:" not in key
    )
