"""The task graph: parents, dependency resolution, dangling references, cycles, waves and exports."""

from __future__ import annotations

import json
from pathlib import Path

from batch_action.canonical import dumps_json
from batch_action.graph import DEPENDS, PARENT, build_graph
from batch_action.model import Severity
from batch_action.report.mermaid import mermaid, overview
from tests.helpers import doc


def base() -> list:  # type: ignore[type-arg]
    return [
        doc("prds/auth.md", "name: auth"),
        doc("epics/auth/epic.md", "name: auth\nprd: .claude/prds/auth.md"),
        doc("epics/auth/001.md", "name: one"),
        doc("epics/auth/002.md", "name: two\ndepends_on: [001]"),
        doc("epics/auth/003.md", "name: three\ndepends_on: [1, 002]"),
        doc("epics/auth/004.md", "name: fan-in\ndepends_on: [001, 002, 003]"),
    ]


def test_parent_edges_and_dependency_edges() -> None:
    g = build_graph(base())
    assert g.parent("epic:auth") == "prd:auth" and g.parent("task:auth/001") == "epic:auth"
    assert g.blockers("task:auth/003") == ["task:auth/001", "task:auth/002"]
    assert g.blockers("task:auth/004") == ["task:auth/001", "task:auth/002", "task:auth/003"]
    assert g.graph.has_edge("task:auth/001", "task:auth/002")
    assert g.edge_kind("task:auth/001", "task:auth/002") == DEPENDS
    assert g.edge_kind("epic:auth", "task:auth/002") == PARENT
    assert g.problems == []


def test_waves_follow_parents_and_dependencies() -> None:
    g = build_graph(base())
    assert g.waves() == [
        ["prd:auth"],
        ["epic:auth"],
        ["task:auth/001"],
        ["task:auth/002"],
        ["task:auth/003"],
        ["task:auth/004"],
    ]
    order = g.order()
    assert order["prd:auth"] < order["epic:auth"] < order["task:auth/001"] < order["task:auth/004"]


def test_dangling_reference_is_a_warning_with_file_and_line() -> None:
    g = build_graph([*base(), doc("epics/auth/005.md", "name: five\nstatus: open\ndepends_on: [999]")])
    [problem] = g.problems
    assert (problem.path, problem.line, problem.severity) == (
        ".claude/epics/auth/005.md",
        4,
        Severity.WARNING,
    )
    assert "`999`" in problem.message and g.blockers("task:auth/005") == []


def test_cycle_is_reported_and_its_edges_dropped() -> None:
    docs = [
        doc("epics/e/epic.md", "name: e"),
        doc("epics/e/001.md", "name: a\ndepends_on: [002]"),
        doc("epics/e/002.md", "name: b\ndepends_on: [001]"),
        doc("epics/e/003.md", "name: c\ndepends_on: [001]"),
    ]
    g = build_graph(docs)
    [problem] = g.problems
    assert problem.severity == Severity.ERROR and problem.line == 3 and "cycle" in problem.message
    assert g.blockers("task:e/001") == [] and g.blockers("task:e/002") == []
    assert g.blockers("task:e/003") == ["task:e/001"]  # edges outside the cycle stay
    assert len(g.waves()) == 3


def test_stale_reference_after_ccpm_rename_resolves_when_unambiguous() -> None:
    docs = [
        doc("epics/e/epic.md", "name: e"),
        doc("epics/e/87.md", "name: first\ngithub: https://github.com/octo/repo/issues/87"),
        doc("epics/e/88.md", "name: second\ngithub: https://github.com/octo/repo/issues/88"),
        doc("epics/e/003.md", "name: third\ndepends_on: [001, 002]"),
    ]
    g = build_graph(docs)
    assert g.blockers("task:e/003") == ["task:e/87", "task:e/88"]
    assert [n.severity for n in g.notes] == [Severity.NOTICE, Severity.NOTICE] and g.problems == []


def test_references_by_issue_number_and_autopm_id() -> None:
    docs = [
        doc("epics/e/epic.md", "name: e"),
        doc("epics/e/001.md", "name: a\ngithub: https://github.com/octo/repo/issues/120"),
        doc("epics/e/task-002.md", "id: task-e-002\ntitle: b\ndependencies: [120]"),
        doc("epics/e/task-003.md", "id: task-e-003\ntitle: c\ndependencies: [task-e-002]"),
    ]
    g = build_graph(docs)
    assert g.blockers("task:e/task-002") == ["task:e/001"]
    assert g.blockers("task:e/task-003") == ["task:e/task-002"]


def test_exports() -> None:
    g = build_graph(base())
    data = json.loads(dumps_json(g.to_json()))  # what task-graph.json holds
    assert {n["id"] for n in data["nodes"]} >= {"prd:auth", "task:auth/004"}
    assert len(data["edges"]) == 5 + 6 and data["waves"][0] == ["prd:auth"]
    drawn = mermaid(g.picture(), {"task:auth/001": "failed"})
    assert drawn.startswith("flowchart TD\n") and ":::failed" in drawn and "-.->|blocks|" in drawn


def test_overview_draws_prds_and_epics_each_epic_coloured_by_its_most_serious_task() -> None:
    g = build_graph(base())
    picture = g.picture()
    # The failed task comes after a created one: the most serious outcome wins, not the first seen.
    drawn = overview(picture, {"task:auth/001": "created", "task:auth/002": "failed", "epic:auth": "created"})
    node_lines = [line for line in drawn.splitlines() if ":::" in line]
    assert node_lines == ['  n0(["Epic: auth"]):::failed', '  n1[["PRD: auth"]]:::prd']  # a failed task shows
    assert [line for line in drawn.splitlines() if "-->" in line] == ["  n1 --> n0"]
    assert "|blocks|" not in drawn  # dependencies are between tasks, so none is drawn
    assert picture.kinds["task:auth/001"] == "task" and len(mermaid(picture)) > len(drawn)


def test_a_reference_two_files_match_is_reported_as_ambiguous_naming_both() -> None:
    docs = [
        doc("epics/e/epic.md", "name: e"),
        doc("epics/e/007.md", "name: seven"),
        doc("epics/e/0007.md", "name: seven again"),
        doc("epics/e/010.md", "name: ten\ndepends_on: [7]"),
    ]
    g = build_graph(docs)
    [problem] = g.problems
    assert problem.severity == Severity.WARNING and problem.line == 3
    assert "ambiguous" in problem.message and "matches no task" not in problem.message
    assert ".claude/epics/e/007.md" in problem.message and ".claude/epics/e/0007.md" in problem.message
    assert g.blockers("task:e/010") == []


def test_the_drawing_is_written_whole_and_returned_only_when_mermaid_can_show_it(tmp_path: Path) -> None:
    from batch_action.report.mermaid import mermaid_lines
    from batch_action.run.finish import write_drawing

    picture = build_graph(base()).picture()
    whole = mermaid(picture, {"task:auth/001": "failed"})
    path, shown = write_drawing(tmp_path / "small.mmd", mermaid_lines(picture, {"task:auth/001": "failed"}))
    assert path.read_text() == whole and shown == whole
    plain = mermaid(picture)
    path, shown = write_drawing(tmp_path / "large.mmd", mermaid_lines(picture), limit=len(plain) - 1)
    assert path.read_text() == plain and shown is None
