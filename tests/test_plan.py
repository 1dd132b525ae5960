"""Planning: desired versus observed, as typed operations."""

from __future__ import annotations

from dataclasses import replace

from batch_action.graph import build_graph
from batch_action.sync.plan import Observed, Scope, make_plan
from batch_action.sync.render import build_specs, read_marker, render_body
from batch_action.sync.tracker import RemoteIssue
from tests.helpers import doc

DOCS = [
    doc("epics/e/epic.md", "name: e"),
    doc("epics/e/001.md", "name: a"),
    doc("epics/e/002.md", "name: b\ndepends_on: [001]"),
]


def specs_and_order(docs=DOCS):  # type: ignore[no-untyped-def]
    graph = build_graph(docs)
    return build_specs(graph, (), sub_issues=True, dependencies=True), graph.order()


def synced(specs, **overrides):  # type: ignore[no-untyped-def]
    """The observed state right after a complete sync of `specs`."""
    issues = {
        key: RemoteIssue(n, 1000 + n, s.title, s.marker(), s.state)
        for n, (key, s) in enumerate(sorted(specs.items()), 1)
    }
    issues.update(overrides)
    return Observed(
        issues=issues,
        digests={k: read_marker(i.body).digest for k, i in issues.items()},  # type: ignore[union-attr]
        links={k: read_marker(i.body).links for k, i in issues.items()},  # type: ignore[union-attr]
    )


def test_first_sync_creates_everything_then_links() -> None:
    specs, order = specs_and_order()
    plan = make_plan(specs, Observed(), Scope(None), order=order, close_removed=True)
    assert [op.id for op in plan.operations] == [
        "labels:epic",
        "labels:issue-sync",
        "labels:task",
        "create:epic:e",
        "create:task:e/001",
        "link-parent:task:e/001",
        "create:task:e/002",
        "link-parent:task:e/002",
        "link-blocker:task:e/002<-task:e/001",
    ]
    ops = {op.id: op for op in plan.operations}
    # an item waits for its own styled labels and for the issues its body links to, nothing else (GitHub makes
    # `epic:e` when the first create names it)
    assert specs["task:e/002"].labels == ("task", "issue-sync", "epic:e")
    assert ops["create:task:e/002"].deps == (
        "labels:task",
        "labels:issue-sync",
        "create:epic:e",
        "create:task:e/001",
    )
    assert ops["link-blocker:task:e/002<-task:e/001"].deps == ("create:task:e/002", "create:task:e/001")


def test_nothing_changed_means_no_operation_at_all() -> None:
    specs, order = specs_and_order()
    plan = make_plan(specs, synced(specs), Scope(None), order=order, close_removed=True)
    assert plan.operations == [] and len(plan.unchanged) == 3


def test_changed_body_is_exactly_one_update() -> None:
    specs, order = specs_and_order()
    observed = synced(specs)
    edited = [*DOCS[:2], doc("epics/e/002.md", "name: b\ndepends_on: [001]", body="New body.\n")]
    new_specs, _ = specs_and_order(edited)
    plan = make_plan(new_specs, observed, Scope(None), order=order, close_removed=True)
    assert [op.id for op in plan.operations] == [
        "labels:issue-sync",
        "labels:task",
        "update:task:e/002",
    ]


def test_changed_dependencies_relink() -> None:
    specs, order = specs_and_order()
    edited = [*DOCS[:2], doc("epics/e/002.md", "name: b")]
    new_specs, _ = specs_and_order(edited)
    plan = make_plan(new_specs, synced(specs), Scope(None), order=order, close_removed=True)
    assert [op.id for op in plan.operations] == [
        "labels:issue-sync",
        "labels:task",
        "update:task:e/002",
        "relink:task:e/002",
    ]


def test_issue_closed_by_hand_is_left_alone_until_its_file_changes() -> None:
    specs, order = specs_and_order()
    observed = synced(specs)
    closed = replace(observed.issues["task:e/001"], state="closed")
    plan = make_plan(specs, synced(specs, **{"task:e/001": closed}), Scope(None), order=order, close_removed=True)
    assert plan.operations == []


def test_removed_file_closes_its_issue_under_both_scopes() -> None:
    specs, order = specs_and_order()
    observed = synced(specs)
    fewer = {k: v for k, v in specs.items() if k != "task:e/002"}
    orphaned = Observed(
        issues={k: v for k, v in observed.issues.items() if k != "task:e/002"},
        digests=observed.digests,
        links=observed.links,
        orphans={"task:e/002": observed.issues["task:e/002"]},
    )
    plan_all = make_plan(fewer, orphaned, Scope(None), order=order, close_removed=True)
    assert [(op.id, op.number) for op in plan_all.operations] == [("close:task:e/002", 3)]
    plan_changed = make_plan(
        fewer, orphaned, Scope(frozenset(), frozenset({"task:e/002"})), order=order, close_removed=True
    )
    assert [op.id for op in plan_changed.operations] == ["close:task:e/002"]
    assert make_plan(fewer, orphaned, Scope(None), order=order, close_removed=False).operations == []


def test_changed_scope_still_creates_what_an_earlier_run_left_undone() -> None:
    specs, order = specs_and_order()
    observed = synced(specs)
    missing = Observed(
        issues={k: v for k, v in observed.issues.items() if k != "task:e/002"},
        digests=observed.digests,
        links=observed.links,
    )
    plan = make_plan(specs, missing, Scope(frozenset()), order=order, close_removed=True)
    assert [op.id for op in plan.operations] == [
        "labels:issue-sync",
        "labels:task",
        "create:task:e/002",
        "link-parent:task:e/002",
        "link-blocker:task:e/002<-task:e/001",
    ]
    assert plan.out_of_scope == ["epic:e", "task:e/001"]


def test_listing_that_shows_a_missing_link_triggers_relink() -> None:
    specs, order = specs_and_order()
    observed = synced(specs)
    no_parent = replace(observed.issues["task:e/002"], parent_number=None, blocked_by_total=1)
    plan = make_plan(specs, synced(specs, **{"task:e/002": no_parent}), Scope(None), order=order, close_removed=True)
    assert [op.id for op in plan.operations] == ["relink:task:e/002"]


def test_body_has_metadata_links_and_marker() -> None:
    specs, _ = specs_and_order()
    body = render_body(specs["task:e/002"], "Body.", {"epic:e": 5, "task:e/001": 6}, source_url="https://x/y")
    assert "**Parent:** #5" in body and "**Depends on:** #6" in body and "[.claude/epics/e/002.md](https://x/y)" in body
    marker = read_marker(body)
    assert marker and marker.key == "task:e/002" and marker.digest == specs["task:e/002"].digest


def test_the_logged_plan_shows_at_most_500_items_then_a_count() -> None:
    from batch_action.report.markdown import plan_lines
    from batch_action.report.plan_view import ItemLine, PlanView

    view = PlanView((), (), 505, 505, {}, 0, 0, 0, 0, 0, 0, 0)
    items = tuple(
        ItemLine(f"task:e/{i:03}", "task", f"Task {i}", f".claude/epics/e/{i:03}.md", 0, ("create",))
        for i in range(500)
    )
    lines = plan_lines(replace(view, items=items), ".claude")
    assert lines[0] == "plan: 505 issues to create; 0 unchanged, 0 out of scope"
    assert lines[2] == "- Task 0 — create  (epics/e/000.md)" and lines[501] == "- Task 499 — create  (epics/e/499.md)"
    assert lines[502] == "  … and 5 more items (every operation is in plan.json)"


def test_a_label_job_paces_its_create_and_nothing_else() -> None:
    from batch_action.engine.policy import Attempt
    from batch_action.sync.apply import Applier, IssueRegistry
    from batch_action.sync.plan import Action, Operation

    calls: list[str] = []

    class Labels:  # the two tracker calls a label job makes
        def list_labels(self) -> list[str]:
            calls.append("list")
            return ["Exists"]

        def create_label(self, name: str, color: str) -> bool:
            calls.append(f"create {name}")
            return True

    applier = Applier({}, Labels(), IssueRegistry({}), str, str, pace=lambda: calls.append("pace"))  # type: ignore[arg-type]
    for label in ("exists", "a", "b"):
        applier(Operation(f"labels:{label}", Action.LABELS, "", "", target=label), Attempt(1))
    # one listing for all label jobs; the pacer right before each POST, and not for a label that exists
    assert calls == ["list", "pace", "create a", "pace", "create b"]


def test_a_relink_without_parent_removes_only_a_parent_link_the_sync_made() -> None:
    from batch_action.engine.policy import Attempt
    from batch_action.sync.apply import Applier, IssueRegistry
    from batch_action.sync.plan import Action, Operation
    from tests.fake_tracker import FakeTracker

    specs, _ = specs_and_order()
    orphan = specs["epic:e"]
    assert orphan.parent is None and orphan.blockers == ()
    ours = "<!-- issue-sync:v1 key=prd:p digest=00 -->"
    for body, manage, expected in [
        (ours, True, ["get_parent", "remove_sub_issue"]),
        ("chosen by a person", True, ["get_parent"]),
        (ours, False, []),  # `sub-issues: false`: parents are not the sync's business
    ]:
        tracker = FakeTracker()
        parent, me = tracker.seed("a parent", body), tracker.seed("Epic: e", "")
        tracker.parents[me.number] = parent.number
        relink = Operation("relink:epic:e", Action.RELINK, "epic:e", "epics/e/epic.md", number=me.number)
        applier = Applier({"epic:e": orphan}, tracker, IssueRegistry({"epic:e": me}), str, str, manage_parents=manage)
        applier(relink, Attempt(1))
        calls = [name for name, _ in tracker.calls if name in ("get_parent", "remove_sub_issue")]
        assert calls == expected, body
        assert (me.number in tracker.parents) is (expected != ["get_parent", "remove_sub_issue"])


def test_changed_scope_finishes_half_done_items_but_leaves_a_parent_a_person_chose() -> None:
    specs, order = specs_and_order()
    observed = synced(specs)
    nothing_changed = Scope(frozenset())
    epic = observed.issues["epic:e"].number
    linked = {k: replace(i, parent_number=epic, blocked_by_total=0) for k, i in observed.issues.items()}
    linked["epic:e"] = replace(linked["epic:e"], parent_number=None)
    linked["task:e/002"] = replace(linked["task:e/002"], blocked_by_total=1)
    complete = synced(specs, **linked)
    assert make_plan(specs, complete, nothing_changed, order=order, close_removed=True).operations == []

    never_linked = synced(specs, **{**linked, "task:e/001": replace(linked["task:e/001"], parent_number=None)})
    plan = make_plan(specs, never_linked, nothing_changed, order=order, close_removed=True)
    assert [op.id for op in plan.operations] == ["relink:task:e/001"]

    moved = synced(specs, **{**linked, "task:e/001": replace(linked["task:e/001"], parent_number=99)})
    assert make_plan(specs, moved, nothing_changed, order=order, close_removed=True).operations == []
    assert [op.id for op in make_plan(specs, moved, Scope(None), order=order, close_removed=True).operations] == [
        "relink:task:e/001"
    ]

    # an update that never landed (the marker still has the old digest), and a marker left unconfirmed
    stale = Observed(complete.issues, {**complete.digests, "task:e/001": "1234", "epic:e": "0" * 16}, complete.links)
    plan = make_plan(specs, stale, nothing_changed, order=order, close_removed=True)
    assert [(op.id, op.reason) for op in plan.operations if op.key] == [
        ("update:epic:e", "finish: GitHub had left labels off the issue"),
        ("update:task:e/001", "file changed"),
    ]


def test_an_update_waits_for_its_relink_so_its_marker_is_written_last() -> None:
    specs, order = specs_and_order()
    edited = [*DOCS[:2], doc("epics/e/002.md", "name: b")]
    new_specs, _ = specs_and_order(edited)
    ops = {
        op.id: op for op in make_plan(new_specs, synced(specs), Scope(None), order=order, close_removed=True).operations
    }
    assert "relink:task:e/002" in ops["update:task:e/002"].deps
    assert "update:task:e/002" not in ops["relink:task:e/002"].deps


def test_the_plan_view_makes_only_the_lines_shown_in_the_order_of_the_whole_tree() -> None:
    from batch_action.report.plan_view import plan_view

    docs = [doc("prds/p.md", "name: p"), doc("epics/e/epic.md", "name: e\nprd: p")]
    docs += [doc(f"epics/e/{n}.md", f"name: t{n}" + ("\nstatus: done" if n % 4 == 0 else "")) for n in range(1, 13)]
    graph = build_graph(docs)
    specs = build_specs(graph, (), sub_issues=True, dependencies=True)
    plan = make_plan(specs, Observed(), Scope(None), order=graph.order(), close_removed=True)
    whole = plan_view(plan, specs, graph.picture(), shown=100)
    first = plan_view(plan, specs, graph.picture(), shown=5)
    # PRD, epic, then tasks by number (2 before 10), each line made as the whole view makes it
    assert [item.key for item in whole.items][:5] == ["prd:p", "epic:e", "task:e/1", "task:e/2", "task:e/3"]
    assert first.items == whole.items[:5] and [item.depth for item in first.items] == [0, 1, 2, 2, 2]
    assert first.item_count == whole.item_count == len(whole.items) == 14
    assert first.closed_after_create == whole.closed_after_create == {"task": 3}  # tasks 4, 8, 12 are done
    assert first.summary() == whole.summary() and "(3 of them closed right after: done status)" in first.summary()


def test_the_registry_keeps_graphql_ids_only_when_asked_for_them() -> None:
    from batch_action.sync.apply import IssueRegistry

    listed = RemoteIssue(1, 10, "t", "", "open", node_id="I_1")
    created = RemoteIssue(2, 20, "t", "", "open", node_id="I_2")
    for keeps in (True, False):
        registry = IssueRegistry({"task:e/001": listed}, node_ids=keeps)
        registry.put("task:e/002", 2, 20)
        registry.saw("task:e/002", created)
        assert registry.get("task:e/002") is not None and registry.manages(20)  # numbers and ids, either way
        assert [registry.node_id("task:e/001"), registry.node_id("task:e/002")] == (
            ["I_1", "I_2"] if keeps else [None, None]
        )
