"""Trees that meet GitHub's hard limits (issue 15), end to end against the fake GitHub, which enforces each limit
as github.com does and counts every 422: the run plans within the limits, so no limit is ever hit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import requests

from batch_action.graph import build_graph
from batch_action.parsing.load import load_tree, read_body
from batch_action.sync.render import build_specs, render_body, source_url
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, RunResult, Workspace, by_key, run_sync, writes

Factory = Callable[..., FakeGitHub]


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def epic_files(epic: str, tasks: Iterable[str], *, prd: str | None = None) -> dict[str, str]:
    files = {f"epics/{epic}/epic.md": f"---\nname: {epic}\nstatus: open\n" + (f"prd: {prd}\n" if prd else "") + "---\n"}
    for task in tasks:
        files[f"epics/{epic}/{task}.md"] = f"---\nname: Task {task} of {epic}\nstatus: open\n---\n\nDo {task}.\n"
    return files


def workspace(tmp_path: Path, files: dict[str, str]) -> Workspace:
    return Workspace(tmp_path / "ws", write_tree(tmp_path / "tree", files))


def notices(result: RunResult) -> list[dict[str, Any]]:
    return [p for p in result.report()["problems"] if p["severity"] == "notice"]


def synced_twice(gh: FakeGitHub, ws: Workspace, tmp_path: Path, **inputs: str) -> RunResult:
    """A first sync and a re-run; both succeed, the re-run writes nothing, and no limit was hit on the way."""
    first = run_sync(gh, ws.path, tmp_path / "run1", **inputs)
    assert first.code == 0, first.errors or first.log[-3000:]
    assert first.outputs["failed"] == "0"
    gh.clear_requests()
    again = run_sync(gh, ws.path, tmp_path / "run2", **inputs)
    assert again.code == 0, again.errors
    assert writes(gh) == [] and int(again.outputs["unchanged"]) == len(by_key(gh))
    assert gh.stats.get("unprocessable", 0) == 0, "a 422: the run met a limit it should have planned for"
    return first


def test_a_long_body_with_many_blockers_fits_and_links_fifty(fake_github: Factory, tmp_path: Path) -> None:
    files: dict[str, str] = {}
    for e in range(10):
        files |= epic_files(f"e{e}", (f"{n:03d}" for n in range(1, 101)))
    blockers = ", ".join(f"e{e}/{n:03d}" for e in range(10) for n in range(1, 101))
    text = "".join(f"Line {n} of a long specification.\n" for n in range(2_500))
    assert len(text) > 70_000
    files |= epic_files("big", [])
    files["epics/big/001.md"] = f"---\nname: Huge task\nstatus: open\ndepends_on: [{blockers}]\n---\n\n{text}"
    gh = fake_github(token=TOKEN)
    ws = workspace(tmp_path, files)
    first = synced_twice(gh, ws, tmp_path)
    issues = by_key(gh)
    huge = issues["task:big/001"]
    assert len(huge["body"]) <= 65_536
    assert huge["body"].startswith("Line 0 of a long specification.")
    assert (
        "the rest is in [.claude/epics/big/001.md](https://github.com/octo/repo/blob/HEAD/.claude/epics/big/001.md)"
        in (huge["body"])
    )
    linked = gh.blocked_by(huge["number"])
    assert len(linked) == 50
    for e in range(10):
        for n in range(1, 101):
            assert f"#{issues[f'task:e{e}/{n:03d}']['number']}" in huge["body"]
    said = [p for p in notices(first) if p["path"] == ".claude/epics/big/001.md"]
    assert len(said) == 2, said  # one for the cut body, one for the blockers past 50
    assert any("950" in p["message"] for p in said)


def test_a_long_title_is_cut_with_a_notice_naming_the_file(fake_github: Factory, tmp_path: Path) -> None:
    files = epic_files("web", ["001"])
    files["epics/web/001.md"] = f"---\nname: {'A' * 300}\nstatus: open\n---\n\nBody.\n"
    gh = fake_github(token=TOKEN)
    first = synced_twice(gh, workspace(tmp_path, files), tmp_path)
    assert len(by_key(gh)["task:web/001"]["title"]) == 256
    said = [p for p in notices(first) if p["path"] == ".claude/epics/web/001.md"]
    assert len(said) == 1 and "300" in said[0]["message"] and "256" in said[0]["message"]


def test_long_epic_names_sharing_a_prefix_get_distinct_short_labels(fake_github: Factory, tmp_path: Path) -> None:
    shared = "payments-platform-migration-to-the-new-ledger-"  # 46 characters
    one, two = shared + "a" * 14, shared + "b" * 14
    files = epic_files(one, ["001"]) | epic_files(two, ["001"])
    gh = fake_github(token=TOKEN)
    first = synced_twice(gh, workspace(tmp_path, files), tmp_path)
    issues = by_key(gh)

    def epic_label(key: str) -> str:
        (label,) = [lb["name"] for lb in issues[key]["labels"] if lb["name"].startswith("epic:")]
        return label

    assert epic_label(f"epic:{one}") == epic_label(f"task:{one}/001")
    assert epic_label(f"epic:{two}") == epic_label(f"task:{two}/001")
    assert epic_label(f"epic:{one}") != epic_label(f"epic:{two}")
    assert all(len(epic_label(f"epic:{name}")) <= 50 for name in (one, two))
    said = " ".join(p["message"] for p in notices(first))
    assert epic_label(f"epic:{one}") in said and epic_label(f"epic:{two}") in said
    assert epic_label(f"epic:{one}") in first.summary


def test_more_than_100_labels_from_the_input_is_a_settings_error(fake_github: Factory, tmp_path: Path) -> None:
    gh = fake_github(token=TOKEN)
    ws = workspace(tmp_path, epic_files("web", ["001"]))
    result = run_sync(gh, ws.path, tmp_path / "run", labels=",".join(f"team-{n}" for n in range(120)))
    assert result.code == 2
    assert any("labels" in line and "100" in line for line in result.errors), result.errors
    assert gh.requests == []


@pytest.mark.parametrize("tasks", [105, 500])
def test_a_large_epic_reaches_every_task_through_native_sub_issues(
    fake_github: Factory, tmp_path: Path, tasks: int
) -> None:
    files = {"prds/billing.md": "---\nname: billing\nstatus: open\n---\n"}
    files |= epic_files("billing", (f"{n:03d}" for n in range(1, tasks + 1)), prd="billing")
    gh = fake_github(token=TOKEN)
    synced_twice(gh, workspace(tmp_path, files), tmp_path)
    issues = by_key(gh)
    epic = issues["epic:billing"]["number"]
    for n in range(1, tasks + 1):
        number = issues[f"task:billing/{n:03d}"]["number"]
        parent = gh.parent_of(number)
        assert parent == epic or gh.parent_of(parent) == epic, f"task {n:03d} is not under the epic"  # type: ignore[arg-type]
    assert len(gh.sub_issues_of(epic)) <= 100


def test_an_epic_synced_before_grouping_with_100_tasks_linked_converges(fake_github: Factory, tmp_path: Path) -> None:
    """The state the action left before it planned for the limit: every task has its issue (marker naming the
    epic as parent), the epic holds 100 of them, and 5 failed `link-parent` on every run."""
    files = {"prds/billing.md": "---\nname: billing\nstatus: open\n---\n"}
    files |= epic_files("billing", (f"{n:03d}" for n in range(1, 106)), prd="billing")
    ws = workspace(tmp_path, files)
    gh = fake_github(token=TOKEN)
    tree = load_tree(ws.path / ".claude", ws.path)
    old = build_specs(build_graph(tree.documents), (), sub_issues=True, dependencies=True)
    numbers: dict[str, int] = {}
    ids: dict[str, int] = {}
    for key, spec in old.items():
        body = read_body(ws.path / ".claude", ws.path, spec.path, spec.body_digest)
        url = source_url("https://github.com", "octo/repo", spec.path)
        seeded = gh.seed_issue(spec.title, render_body(spec, body, numbers, source_url=url), spec.labels)
        numbers[key], ids[key] = seeded["number"], seeded["id"]
    linked = ["epic:billing", *(f"task:billing/{n:03d}" for n in range(6, 106))]
    for key in linked:
        parent = numbers[old[key].parent]  # type: ignore[index]
        reply = requests.post(
            f"{gh.base_url}/repos/octo/repo/issues/{parent}/sub_issues",
            json={"sub_issue_id": ids[key]},
            headers={"Authorization": f"token {TOKEN}"},
            timeout=5,
        )
        assert reply.ok
    epic = numbers["epic:billing"]
    assert len(gh.sub_issues_of(epic)) == 100
    gh.clear_requests()
    synced_twice(gh, ws, tmp_path)
    issues = by_key(gh)  # no duplicate
    assert len(issues) == 105 + 2 + 1  # the tasks, PRD and epic, one grouping issue
    for n in range(1, 106):
        parent = gh.parent_of(numbers[f"task:billing/{n:03d}"])
        assert parent == epic or gh.parent_of(parent) == epic  # type: ignore[arg-type]
    assert issues["group:epic:billing/1"]["title"] == "Epic: billing — tasks 100\u2013105"
