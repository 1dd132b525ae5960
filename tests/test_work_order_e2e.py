"""The work order end to end (issue 18): with a primary budget too small for the whole tree, the first run
creates the PRDs, the epics and the most urgent tasks (front-matter `priority`, a blocker lifted to the rank of
what waits for it), exactly the items its dry run's forecast named, in that order; the run after the budget's
reset creates the rest, with no duplicate."""

from __future__ import annotations

from pathlib import Path

from batch_action.graph import build_graph
from batch_action.parsing.load import load_tree
from tests.fake_github import FakeGitHub
from tests.sync_harness import TOKEN, Workspace, by_key, run_sync

TASKS = {
    "a/001": "priority: P3",
    "a/002": "priority: P0",
    "a/003": "priority: low\ndepends_on: [002]",
    "a/004": "priority: P1",
    "b/001": "priority: medium",
    "b/002": "priority: critical",
    "b/003": "priority: P4",
    "b/004": "priority: high\ndepends_on: [001]",
    "b/005": "",
}


def planning_tree(root: Path) -> Path:
    claude = root / ".claude"
    (claude / "prds").mkdir(parents=True)
    for prd in ("p1", "p2"):
        (claude / "prds" / f"{prd}.md").write_text(f"---\nname: {prd}\nstatus: backlog\n---\nA PRD.\n")
    for epic, prd in (("a", "p1"), ("b", "p2")):
        (claude / "epics" / epic).mkdir(parents=True)
        (claude / "epics" / epic / "epic.md").write_text(
            f"---\nname: {epic}\nprd: {prd}\nstatus: open\n---\nAn epic.\n"
        )
    for where, front in TASKS.items():
        text = f"---\nname: task {where}\nstatus: open\n{front}\n---\nA task.\n".replace("\n\n---", "\n---")
        (claude / "epics" / f"{where}.md").write_text(text)
    return claude


def test_a_short_budget_does_prds_epics_and_the_most_urgent_tasks_first(tmp_path: Path) -> None:
    source = planning_tree(tmp_path / "source")
    ws = Workspace(tmp_path / "ws", source=source)
    graph = build_graph(load_tree(ws.path / ".claude", ws.path).documents)
    order = graph.order()
    expected = sorted(order, key=order.__getitem__)
    # PRDs, epics, then P0 and critical; b/001 (medium) ranks as P1, as the high b/004 waits for it, and before
    # a/004 (P1) as it unblocks a task; then medium (b/005 has no field), P3, low, P4.
    assert [key.split(":", 1)[1] for key in expected] == [
        "p1", "p2", "a", "b", "a/002", "b/002", "b/001", "a/004", "b/004", "b/005", "a/001", "a/003", "b/003",
    ]  # fmt: skip

    with FakeGitHub(token=TOKEN, primary_limit=40, reset_in=3600) as gh:
        dry = run_sync(gh, ws.path, tmp_path / "dry", dry_run="true")
        assert dry.code == 0, dry.log
        forecast = dry.report()["forecast"]
        first = forecast["first_run"]
        assert forecast["runs"] == 2 and first == expected[:10], "the forecast names the work order's first items"

        real = run_sync(gh, ws.path, tmp_path / "real")
        assert real.code == 1 and real.outputs["resumable"] == "true", real.log
        assert real.report()["stopped_reason"] == "rate-limit"
        made = by_key(gh)
        assert sorted(made) == sorted(first), "the real run does what its dry run said"
        assert real.report()["counts"]["pending"] == len(expected) - len(first)

        gh.reset_primary()
        rest = run_sync(gh, ws.path, tmp_path / "rest")
        assert rest.code == 0, rest.log
        assert sorted(by_key(gh)) == sorted(expected), "every item once: by_key fails on a duplicate"
        assert rest.report()["counts"]["created"] == len(expected) - len(first)
