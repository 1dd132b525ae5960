"""A server without sub-issues or dependencies (GHES, or a repository with the feature off; github-api.md §6),
end to end: the whole example synced against the fake served under `/api/v3` (GHES's REST root) with those
endpoints removed, through the `api-url` input. The run learns it once, stops calling the endpoint, and shows the
relation in the issue bodies; no item fails, and the re-run writes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, RunResult, Workspace, by_key, run_sync, writes

Factory = Callable[..., FakeGitHub]
SUB_ISSUES = r"/sub_issues?$|/parent$"
DEPENDENCIES = r"/dependencies/"


def ghes(fake_github: Factory, **features: bool) -> FakeGitHub:
    gh = fake_github(token=TOKEN, api_prefix="/api/v3", **features)
    assert gh.base_url.endswith("/api/v3")
    return gh


def synced(gh: FakeGitHub, ws: Workspace, out: Path) -> RunResult:
    result = run_sync(gh, ws.path, out)
    assert result.code == 0, result.errors or result.log[-3000:]
    assert result.outputs["failed"] == "0"
    assert gh.stats.get("unprocessable", 0) == 0, "a 422: the run met a limit"
    return result


def said_once(result: RunResult, feature: str) -> None:
    lines = [line for line in result.log.splitlines() if f"{feature} are not available" in line]
    assert len(lines) == 1, lines
    assert f"{feature} are not available" in result.summary


def task_list(body: str) -> list[tuple[str, int]]:
    return [(box, int(number)) for box, number in re.findall(r"^- \[([ x])\] #(\d+) ", body, re.M)]


@pytest.mark.parametrize(
    ("sub_issues", "dependencies"), [(False, False), (False, True), (True, False)], ids=["neither", "deps", "subs"]
)
def test_the_example_syncs_on_a_server_without_the_feature(
    fake_github: Factory, tmp_path: Path, sub_issues: bool, dependencies: bool
) -> None:
    gh = ghes(fake_github, sub_issues=sub_issues, dependencies=dependencies)
    ws = Workspace(tmp_path / "ws")
    first = synced(gh, ws, tmp_path / "run1")
    issues = by_key(gh)
    numbers = {key: issue["number"] for key, issue in issues.items()}
    # Learnt once: after the first 404s (as many as were in flight together), the endpoint is not called again.
    for missing, pattern, name in ((not sub_issues, SUB_ISSUES, "sub-issues"), (not dependencies, DEPENDENCIES, "")):
        if missing:
            assert gh.count(path_regex=pattern) <= 4, gh.count(path_regex=pattern)
            said_once(first, name or "issue dependencies")
    epic = issues["epic:billing"]
    tasks = {key: issue for key, issue in issues.items() if key.startswith("task:billing/")}
    if sub_issues:
        assert sorted(gh.sub_issues_of(epic["number"])) == sorted(t["number"] for t in tasks.values())
        assert task_list(epic["body"]) == []
    else:
        # The parent lists its children as a task list, a closed one ticked; each child names its parent.
        listed = dict((number, box) for box, number in task_list(epic["body"]))
        assert set(listed) == {t["number"] for t in tasks.values()}
        assert all(listed[t["number"]] == ("x" if t["state"] == "closed" else " ") for t in tasks.values())
        assert f"- [ ] #{epic['number']} " in issues["prd:billing"]["body"]
        assert all(f"**Parent:** #{epic['number']}" in t["body"] for t in tasks.values())
        assert "x" in listed.values() or not any(t["state"] == "closed" for t in tasks.values())
    blocked = issues["task:auth/006"]
    for blocker in ("task:auth/002", "task:auth/003"):
        assert f"#{numbers[blocker]}" in blocked["body"]  # listed in the body whatever the server
    if dependencies:
        blockers = sorted(numbers[key] for key in ("task:auth/002", "task:auth/003"))
        assert sorted(gh.blocked_by(blocked["number"])) == blockers

    gh.clear_requests()
    again = synced(gh, ws, tmp_path / "run2")
    assert writes(gh) == []
    assert int(again.outputs["unchanged"]) == len(issues)
    # The re-run learns it before planning, with one probe of a listed issue per missing feature.
    assert gh.count(path_regex=SUB_ISSUES) == (0 if sub_issues else 1)
    assert gh.count(path_regex=DEPENDENCIES) == (0 if dependencies else 1)


def test_a_later_change_updates_the_parents_task_list_without_link_calls(fake_github: Factory, tmp_path: Path) -> None:
    gh = ghes(fake_github, sub_issues=False, dependencies=False)
    ws = Workspace(tmp_path / "ws")
    synced(gh, ws, tmp_path / "run1")
    claude = ws.path / ".claude"
    (claude / "epics/billing/012.md").write_text(
        "---\nname: Refund webhooks\nstatus: open\ndepends_on: [011]\n---\n\nHandle refunds.\n"
    )
    task = claude / "epics/billing/004.md"
    task.write_text(re.sub(r"(?m)^status: .*$", "status: closed", task.read_text(), count=1))
    (claude / "epics/payments/").mkdir()
    (claude / "epics/payments/epic.md").write_text("---\nname: payments\nstatus: open\nprd: billing\n---\n")
    (claude / "epics/payments/001.md").write_text("---\nname: Card vault\nstatus: open\n---\n\nStore cards.\n")
    ws.commit("a new task, one closed, a new epic with a task")
    gh.clear_requests()
    synced(gh, ws, tmp_path / "run2")
    issues = by_key(gh)
    new, epic = issues["task:billing/012"], issues["epic:billing"]
    listed = dict((number, box) for box, number in task_list(epic["body"]))
    assert listed[new["number"]] == " " and listed[issues["task:billing/004"]["number"]] == "x"
    assert f"#{issues['task:billing/011']['number']}" in new["body"]
    assert f"**Parent:** #{epic['number']}" in new["body"]
    # A new parent lists its new children too (written once more after they exist).
    payments = issues["epic:payments"]
    assert task_list(payments["body"]) == [(" ", issues["task:payments/001"]["number"])]
    assert (" ", payments["number"]) in task_list(issues["prd:billing"]["body"])
    # One probe each before planning, and no link call after it: nothing 404s.
    assert gh.count(path_regex=SUB_ISSUES) == 1 and gh.count(path_regex=DEPENDENCIES) == 1
    assert gh.count(status=404) == 2
    gh.clear_requests()
    synced(gh, ws, tmp_path / "run3")
    assert writes(gh) == []
