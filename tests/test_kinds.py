"""Sync by kind (batch_action/sync/kinds.py, and its part in the plan): items of other kinds are out of scope,
never closed, and linked to only when their issues exist."""

from __future__ import annotations

from batch_action.graph import build_graph
from batch_action.model import Kind
from batch_action.sync.kinds import ALL_KINDS, kind_of_key, parse_kinds, select_kinds
from batch_action.sync.plan import Action, Observed, Scope, make_plan
from batch_action.sync.render import IssueSpec, build_specs
from batch_action.sync.tracker import RemoteIssue
from tests.helpers import doc
from tests.test_plan import synced

DOCS = [
    doc("prds/p.md", "name: p"),
    doc("epics/e/epic.md", "name: e\nprd: p"),
    doc("epics/e/001.md", "name: a"),
    doc("epics/e/002.md", "name: b\ndepends_on: [001]"),
]
PRD, EPIC = frozenset({Kind.PRD}), frozenset({Kind.EPIC})
TASKS = frozenset({Kind.TASK})


def specs() -> tuple[dict[str, IssueSpec], dict[str, int]]:
    graph = build_graph(DOCS)
    return build_specs(graph, (), sub_issues=True, dependencies=True), graph.order()


def plan_for(kinds: frozenset[Kind], observed: Observed | None = None, scope: Scope | None = None):  # type: ignore[no-untyped-def]
    all_specs, order = specs()
    observed = observed or Observed()
    chosen = select_kinds(all_specs, observed.issues, kinds)
    return chosen, make_plan(chosen, observed, scope or Scope(None), order=order, close_removed=True, kinds=kinds)


def test_parse_kinds_accepts_names_plurals_and_any_case() -> None:
    assert parse_kinds("prd,epic,task") == (ALL_KINDS, [])
    assert parse_kinds(" PRDs , Epics ") == (frozenset({Kind.PRD, Kind.EPIC}), [])
    assert parse_kinds("task,,") == (TASKS, [])


def test_parse_kinds_names_the_closest_kind_for_a_misspelt_one() -> None:
    kinds, problems = parse_kinds("prd,tsak")
    assert kinds == PRD
    assert problems == [
        "input `kinds`: 'tsak' is not a kind; use prd, epic or task, comma-separated (did you mean 'task'?)"
    ]
    assert parse_kinds(" , ")[1] == [
        "input `kinds`: names no kind; use prd, epic or task, comma-separated (e.g. prd,epic)"
    ]


def test_kind_of_key() -> None:
    assert kind_of_key("task:e/001") is Kind.TASK
    assert kind_of_key("prd:p") is Kind.PRD
    assert kind_of_key("group:epic:e/2") is Kind.EPIC  # a grouping issue is of its parent's kind
    assert kind_of_key("other:x") is None


def test_with_every_kind_nothing_changes() -> None:
    all_specs, _ = specs()
    assert select_kinds(all_specs, {}, ALL_KINDS) == all_specs


def test_only_the_selected_kinds_are_created_the_rest_is_out_of_scope() -> None:
    for kinds in (PRD, EPIC, TASKS, PRD | EPIC, EPIC | TASKS, PRD | TASKS):
        chosen, plan = plan_for(kinds)
        created = {op.key for op in plan.operations if op.action is Action.CREATE}
        assert created == {key for key, spec in chosen.items() if spec.kind in kinds}, kinds
        assert set(plan.out_of_scope) == set(chosen) - created
        assert all(plan.outcome[key] == "out-of-scope" for key in plan.out_of_scope)
        assert all(op.key in created for op in plan.operations if op.action is not Action.LABELS)


def test_links_to_an_unselected_item_without_an_issue_are_not_made() -> None:
    chosen, plan = plan_for(TASKS)
    assert chosen["task:e/001"].parent is None, "the epic has no issue and is not synced: no sub-issue link"
    assert chosen["task:e/002"].blockers == ("task:e/001",), "a selected blocker is linked (it is created)"
    actions = {(op.action, op.key) for op in plan.operations}
    assert (Action.LINK_PARENT, "task:e/001") not in actions
    assert (Action.LINK_BLOCKER, "task:e/002") in actions


def test_links_to_an_unselected_item_whose_issue_exists_are_made() -> None:
    all_specs, _ = specs()
    epic = RemoteIssue(7, 1007, "e", all_specs["epic:e"].marker(), "open")
    observed = Observed(issues={"epic:e": epic}, digests={"epic:e": all_specs["epic:e"].digest})
    chosen, plan = plan_for(TASKS, observed)
    assert chosen["task:e/001"].parent == "epic:e"
    assert chosen["task:e/001"].links_digest == all_specs["task:e/001"].links_digest
    links = [op for op in plan.operations if op.action is Action.LINK_PARENT]
    assert {op.key for op in links} == {"task:e/001", "task:e/002"} and all(op.target == "epic:e" for op in links)
    assert all(op.deps == ("create:" + op.key,) for op in links), "the epic's issue exists: nothing to wait for"
    assert "epic:e" in plan.out_of_scope, "an existing issue of an unselected kind is not touched either"


def test_a_dropped_link_changes_the_links_digest_so_a_later_run_makes_it() -> None:
    all_specs, _ = specs()
    chosen, _ = plan_for(TASKS)
    assert chosen["task:e/001"].links_digest != all_specs["task:e/001"].links_digest
    # The run with every kind then sees the task's marker differ in its links: it re-links and rewrites it.
    observed = synced({key: spec for key, spec in chosen.items() if spec.kind is Kind.TASK})
    plan = make_plan(all_specs, observed, Scope(None), order=specs()[1], close_removed=True)
    assert {(op.action, op.key) for op in plan.operations} >= {
        (Action.CREATE, "prd:p"),
        (Action.CREATE, "epic:e"),
        (Action.RELINK, "task:e/001"),
        (Action.UPDATE, "task:e/001"),
    }


def test_an_unselected_kind_is_never_closed_not_even_when_its_file_is_removed() -> None:
    all_specs, order = specs()
    observed = synced(all_specs)
    gone = {key: observed.issues[key] for key in ("epic:e", "task:e/002")}
    left = {key: spec for key, spec in all_specs.items() if key not in gone}
    removed = Observed(
        issues={k: v for k, v in observed.issues.items() if k not in gone},
        digests=observed.digests,
        links=observed.links,
        orphans=gone,
    )
    for scope in (Scope(None), Scope(frozenset(), frozenset(gone))):
        plan = make_plan(left, removed, scope, order=order, close_removed=True, kinds=PRD | TASKS)
        closes = {op.key for op in plan.operations if op.action is Action.CLOSE}
        assert closes == {"task:e/002"}, "the task's issue closes; the epic's is not synced, so stays open"


def test_switching_subsets_between_runs_closes_nothing() -> None:
    all_specs, order = specs()
    observed = synced(all_specs)
    for kinds in (PRD, EPIC | TASKS, TASKS, PRD | EPIC):
        chosen = select_kinds(all_specs, observed.issues, kinds)
        plan = make_plan(chosen, observed, Scope(None), order=order, close_removed=True, kinds=kinds)
        assert plan.operations == [], f"{sorted(kinds)}: every issue exists and is up to date"
        assert sorted(plan.unchanged + plan.out_of_scope) == sorted(all_specs)
