"""A server without sub-issues or dependencies, piece by piece: the verdict (once, thread-safe), the probe before
planning, the plan without those links, the parent's task list and its digest, the links that end as shown in the
body, and the checkpoint keeping the list."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from github.GithubException import GithubException

from batch_action.engine.policy import Attempt
from batch_action.graph import build_graph
from batch_action.resume.state import load_state, write_state
from batch_action.sync.apply import Applier, IssueRegistry
from batch_action.sync.features import Feature, ServerFeatures
from batch_action.sync.observe import probe_features
from batch_action.sync.plan import Action, Observed, Operation, Scope, make_plan
from batch_action.sync.render import build_specs, read_marker, render_body, with_children_listed
from batch_action.sync.tracker import RemoteIssue
from tests.fake_tracker import FakeTracker
from tests.helpers import doc

DOCS = [
    doc("epics/e/epic.md", "name: e"),
    doc("epics/e/001.md", "name: a\nstatus: done"),
    doc("epics/e/002.md", "name: Ask @lead\ndepends_on: [001]"),
]
BOTH = frozenset(Feature)


def specs_and_order(docs=DOCS):  # type: ignore[no-untyped-def]
    graph = build_graph(docs)
    return build_specs(graph, (), sub_issues=True, dependencies=True), graph.order()


def not_found() -> GithubException:
    return GithubException(404, {"message": "Not Found"}, None)


# -- the verdict


def test_links_that_get_the_404_at_once_all_end_as_missing_after_one_read_of_the_issue() -> None:
    said: list[Feature] = []
    features = ServerFeatures(said.append)
    reads: list[int] = []
    start = threading.Barrier(8)
    verdicts: list[bool] = []

    def issue_exists() -> bool:
        reads.append(1)
        return True

    def link() -> None:
        start.wait()
        verdicts.append(features.confirm_missing(Feature.SUB_ISSUES, issue_exists))

    threads = [threading.Thread(target=link) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verdicts == [True] * 8 and len(reads) == 1 and said == [Feature.SUB_ISSUES]
    assert not features.has(Feature.SUB_ISSUES) and features.has(Feature.DEPENDENCIES)


def test_a_404_for_an_issue_that_is_gone_is_no_verdict() -> None:
    features = ServerFeatures()
    assert features.confirm_missing(Feature.DEPENDENCIES, lambda: False) is False
    assert features.has(Feature.DEPENDENCIES) and not features.decided(Feature.DEPENDENCIES)


def test_the_probe_trusts_the_listings_summaries_and_reads_once_without_them() -> None:
    summarised = RemoteIssue(3, 30, "", "", "open", sub_issues_total=0, blocked_by_total=0)
    bare = RemoteIssue(3, 30, "", "", "open")
    for listed, answers, calls, missing in [
        ([summarised], False, [], frozenset()),  # github.com: no request at all
        ([bare], True, ["sub_issues #3", "blocked_by #3"], frozenset()),  # a hint, disproved
        ([bare], False, ["sub_issues #3", "blocked_by #3"], BOTH),
        ([], False, [], frozenset()),  # nothing listed: the first link decides
    ]:
        tracker, features = FakeTracker(sub_issues=answers, dependencies=answers), ServerFeatures()
        for title in ("one", "two", "three"):
            tracker.seed(title, "")  # issue #3 exists
        probe_features(tracker, listed, features, list(Feature))
        probe_features(tracker, listed, features, list(Feature))  # decided: no request
        asked = [f"{name.removeprefix('list_')} #{args[0]}" for name, args in tracker.calls]
        assert asked == calls and features.missing == missing


# -- the plan and the bodies


def test_without_the_features_no_link_is_planned_and_a_new_parent_lists_its_new_children_after_them() -> None:
    specs, order = specs_and_order()
    specs = with_children_listed(specs)
    plan = make_plan(specs, Observed(), Scope(None), order=order, close_removed=True, missing=BOTH)
    ops = {op.id: op for op in plan.operations}
    assert not {op.action for op in plan.operations} & {Action.LINK_PARENT, Action.LINK_BLOCKER, Action.RELINK}
    assert set(ops["list-children:epic:e"].deps) == {"create:epic:e", "create:task:e/001", "create:task:e/002"}
    assert "create:epic:e" in ops["create:task:e/001"].deps  # the child's body names its parent


def test_an_unchanged_tree_plans_nothing_and_a_missing_parent_link_is_no_reason_to_relink() -> None:
    specs, order = specs_and_order()
    specs = with_children_listed(specs)
    issues = {
        key: RemoteIssue(n, 1000 + n, "", spec.marker(), spec.state, blocked_by_total=len(spec.blockers))
        for n, (key, spec) in enumerate(sorted(specs.items()), 1)
    }  # dependencies summarised, no parent: a server with dependencies and without sub-issues
    observed = Observed(
        issues=issues,
        digests={key: spec.digest for key, spec in specs.items()},
        links={key: spec.links_digest for key, spec in specs.items()},
    )
    missing = frozenset({Feature.SUB_ISSUES})
    assert make_plan(specs, observed, Scope(None), order=order, close_removed=True, missing=missing).operations == []
    assert make_plan(specs, observed, Scope(None), order=order, close_removed=True).count(Action.RELINK) == 2


def test_the_parents_digest_follows_its_rendered_list_and_nothing_else() -> None:
    plain, _ = specs_and_order()
    listed = with_children_listed(plain)
    assert {k: s for k, s in listed.items() if k != "epic:e"} == {k: s for k, s in plain.items() if k != "epic:e"}
    assert listed["epic:e"].digest != plain["epic:e"].digest  # only the parent's, only on such a server
    body_changed = [DOCS[0], replace(DOCS[1], body_digest="f" * 32), DOCS[2]]
    renamed = [DOCS[0], doc("epics/e/001.md", "name: a, renamed\nstatus: done"), DOCS[2]]
    reopened = [DOCS[0], doc("epics/e/001.md", "name: a\nstatus: open"), DOCS[2]]
    digest = listed["epic:e"].digest
    assert with_children_listed(specs_and_order(body_changed)[0])["epic:e"].digest == digest
    assert with_children_listed(specs_and_order(renamed)[0])["epic:e"].digest != digest
    assert with_children_listed(specs_and_order(reopened)[0])["epic:e"].digest != digest


def test_a_parents_body_lists_its_children_as_a_task_list() -> None:
    specs = with_children_listed(specs_and_order()[0])
    numbers = {"task:e/001": 12, "task:e/002": 13}
    body = render_body(specs["epic:e"], "Text.", numbers, source_url="u")
    assert "**Sub-issues:**\n- [x] #12 a\n- [ ] #13 Ask `@lead`\n" in body  # a title in a body notifies no one
    assert read_marker(body) is not None and read_marker(body).digest == specs["epic:e"].digest  # type: ignore[union-attr]
    assert "Sub-issues" not in render_body(specs_and_order()[0]["epic:e"], "Text.", numbers, source_url="u")


# -- the links


class LinkTracker:
    def __init__(self, *, exists: bool) -> None:
        self.exists = exists
        self.calls: list[str] = []

    def add_sub_issue(self, parent_number: int, child_id: int) -> None:
        self.calls.append(f"link #{parent_number}")
        raise not_found()

    def add_blocked_by(self, number: int, blocker_id: int) -> None:
        self.calls.append(f"block #{number}")
        raise not_found()

    def get_issue(self, number: int) -> RemoteIssue | None:
        self.calls.append(f"get #{number}")
        return RemoteIssue(number, number * 10, "", "", "open") if self.exists else None


def applier_for(tracker: LinkTracker, features: ServerFeatures) -> Applier:
    specs, _ = specs_and_order()
    registry = IssueRegistry({key: RemoteIssue(n, n * 10, "", "", "open") for n, key in enumerate(sorted(specs), 1)})
    return Applier(specs, tracker, registry, str, str, features=features)  # type: ignore[arg-type]


def test_a_link_to_a_missing_endpoint_ends_shown_in_the_body_and_the_next_sends_nothing() -> None:
    tracker, features = LinkTracker(exists=True), ServerFeatures()
    applier = applier_for(tracker, features)
    first = Operation("link-parent:task:e/001", Action.LINK_PARENT, "task:e/001", "p", target="epic:e")
    second = Operation("link-parent:task:e/002", Action.LINK_PARENT, "task:e/002", "p", target="epic:e")
    assert applier(first, Attempt(1))["shown_in_body"] is True  # type: ignore[index]
    assert applier(second, Attempt(1))["shown_in_body"] is True  # type: ignore[index]
    assert tracker.calls == ["link #1", "get #1"]  # one 404, one read to prove the issue is there, then nothing
    blocker = Operation("link-blocker:x", Action.LINK_BLOCKER, "task:e/002", "p", target="task:e/001")
    assert applier(blocker, Attempt(1))["shown_in_body"] is True  # type: ignore[index]
    relink = Operation("relink:task:e/002", Action.RELINK, "task:e/002", "p", number=3)
    assert applier(relink, Attempt(1))["shown_in_body"] == ["sub-issues", "issue dependencies"]  # type: ignore[index]
    assert tracker.calls == ["link #1", "get #1", "block #3", "get #3"]


def test_a_404_because_the_issue_is_gone_still_fails_the_item() -> None:
    tracker, features = LinkTracker(exists=False), ServerFeatures()
    op = Operation("link-parent:task:e/001", Action.LINK_PARENT, "task:e/001", "p", target="epic:e")
    with pytest.raises(GithubException):
        applier_for(tracker, features)(op, Attempt(1))
    assert features.has(Feature.SUB_ISSUES)


def test_a_checkpoint_keeps_the_list(tmp_path: Path) -> None:
    specs = with_children_listed(specs_and_order()[0])
    write_state(tmp_path, commit="c", repository="o/r", operations=[], specs=specs, remote_digests={}, body_of=str)
    assert (
        load_state(tmp_path).specs["epic:e"].children
        == specs["epic:e"].children
        == (
            ("task:e/001", "a", True),
            ("task:e/002", "Ask @lead", False),
        )
    )
