"""Quirks of real public trees (formats.md §4), each with its own fixture, through parsing, graph and observe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from batch_action.graph import build_graph
from batch_action.model import Severity
from batch_action.parsing.frontmatter import split
from batch_action.sync.observe import list_synced, observe
from batch_action.sync.render import DONE_STATUSES, build_specs
from batch_action.sync.tracker import RemoteIssue
from tests.helpers import doc


@pytest.mark.parametrize(
    ("status", "closed"),
    [
        ("closed", True),
        ("completed", True),
        ("complete", True),
        ("done", True),
        ("open", False),
        ("in-progress", False),
        ("in_progress", False),
        ("pending", False),
        ("not-started", False),
        ("ready", False),
        ("blocked", False),
        ("", False),
    ],
)
def test_status_vocabulary_maps_to_issue_state(status: str, closed: bool) -> None:
    front = f"name: x\nstatus: {status}" if status else "name: x"
    task = doc("epics/e/001.md", front)
    assert (task.status in DONE_STATUSES) is closed


def test_numbers_reused_across_epics_resolve_within_their_own_epic() -> None:
    docs = [
        doc("epics/a/epic.md", "name: a"),
        doc("epics/a/001.md", "name: a1"),
        doc("epics/a/002.md", "name: a2\ndepends_on: [001]"),
        doc("epics/b/epic.md", "name: b"),
        doc("epics/b/001.md", "name: b1"),
        doc("epics/b/002.md", "name: b2\ndepends_on: [001]"),
    ]
    graph = build_graph(docs)
    assert graph.blockers("task:a/002") == ["task:a/001"] and graph.blockers("task:b/002") == ["task:b/001"]


def test_unsynced_001_next_to_synced_87_and_a_stale_reference() -> None:
    docs = [
        doc("epics/e/epic.md", "name: e"),
        doc("epics/e/001.md", "name: first, never synced"),
        doc("epics/e/87.md", "name: second, synced\ngithub: https://github.com/octo/repo/issues/87"),
        doc("epics/e/003.md", "name: third\ndepends_on: [001, 002]"),
    ]
    graph = build_graph(docs)
    # 001 still exists; 002 was renamed to 87.md (the only renamed file fills the only gap)
    assert graph.blockers("task:e/003") == ["task:e/001", "task:e/87"]
    assert [n.severity for n in graph.notes] == [Severity.NOTICE]


def test_invented_fields_and_the_alternative_schema() -> None:
    task = doc(
        "epics/e/008.md",
        "id: 008\ntitle: Alternative schema\ndependencies: [001, 002]\ntask-id: T-8\nestimated-hours: 3\n"
        "priority: high\neffort: M\ntype: task\nassignee: sam\nepic: e\ngithub_issue: null\nimported: true\nsize: L",
    )
    assert task.title == "Alternative schema" and task.depends_on == ("001", "002")
    assert task.ident == "008" and task.github_number is None
    values = split("---\ntask-id: T-8\nestimated-hours: 3\n---\n").values
    assert values["task-id"] == "T-8" and values["estimated-hours"] == "3"


def test_timestamps_without_z_stay_as_written() -> None:
    values = split("---\nname: x\ncreated: 2025-09-01T10:00:00\nupdated: 2025-09-01 10:00\n---\n").values
    assert values["created"] == "2025-09-01T10:00:00" and values["updated"] == "2025-09-01 10:00"


class _Tracker:
    """Just enough of a tracker for observe(): an empty listing and issues by number."""

    def __init__(self, issues: dict[int, RemoteIssue]) -> None:
        self.issues = issues
        self.gets: list[int] = []

    def list_synced(self, label: str, since: float | None = None) -> Iterator[RemoteIssue]:
        return iter(())

    def listed_at(self) -> float | None:
        return None

    def get_issue(self, number: int) -> RemoteIssue | None:
        self.gets.append(number)
        return self.issues.get(number)


def test_url_to_a_renamed_repository_adopts_only_when_the_issue_matches() -> None:
    docs = [
        doc("epics/e/epic.md", "name: e"),
        doc("epics/e/12.md", "name: Same title\ngithub: https://github.com/octo/old-name/issues/12"),
        doc("epics/e/13.md", "name: Another title\ngithub: https://github.com/octo/old-name/issues/13"),
    ]
    graph = build_graph(docs)
    specs = build_specs(graph, (), sub_issues=True, dependencies=True)
    tracker = _Tracker(
        {
            12: RemoteIssue(12, 9012, "Same title", "", "open"),
            13: RemoteIssue(13, 9013, "Something else", "", "open"),
        }
    )
    seen = observe(tracker, list_synced(tracker), specs, graph.documents, "octo/repo")  # type: ignore[arg-type]
    assert seen.adopted == {"task:e/12": 12}
    [problem] = seen.problems
    assert problem.path == ".claude/epics/e/13.md" and problem.line == 3 and "octo/old-name" in problem.message
    assert sorted(tracker.gets) == [12, 13]
