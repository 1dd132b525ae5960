"""Fitting items within GitHub's hard limits, as pure planning: titles, labels, blockers and bodies."""

from __future__ import annotations

from dataclasses import replace

from batch_action import limits
from batch_action.graph import build_graph
from batch_action.sync.fit import group_children
from batch_action.sync.plan import Observed
from batch_action.sync.render import IssueSpec, _digest, body_room, build_specs, epic_label, render_body
from batch_action.sync.tracker import RemoteIssue
from tests.helpers import doc

URL = "https://github.com/octo/repo/blob/HEAD/.claude/epics/e/001.md"


def test_every_limit_names_its_source() -> None:
    assert all(limit.value > 0 and limit.source for limit in limits.ALL)


def test_epic_labels_are_kept_short_stable_and_distinct() -> None:
    assert epic_label("billing") == "epic:billing"
    assert epic_label("x" * 45) == "epic:" + "x" * 45  # exactly 50: unchanged
    one, two = "y" * 46, "y" * 45 + "z"
    assert len(epic_label(one)) == len(epic_label(two)) == 50
    assert epic_label(one) != epic_label(two) and epic_label(one) == epic_label("y" * 46)


def test_blockers_past_fifty_are_listed_and_items_under_it_keep_their_digests() -> None:
    docs = [doc("epics/e/epic.md", "name: e")]
    docs += [doc(f"epics/e/{n:03d}.md", f"name: t{n}") for n in range(1, 61)]
    docs.append(doc("epics/e/100.md", "name: many\ndepends_on: [" + ", ".join(f"{n:03d}" for n in range(1, 61)) + "]"))
    docs.append(doc("epics/e/101.md", "name: few\ndepends_on: [001, 002]"))
    specs = build_specs(build_graph(docs), (), sub_issues=True, dependencies=True)
    many, few = specs["task:e/100"], specs["task:e/101"]
    assert len(many.blockers) == 50 and len(many.listed_blockers) == 10
    assert few.listed_blockers == ()
    # the links digest of an item under the limit is made of what it always was
    assert few.links_digest == _digest({"parent": "epic:e", "blockers": ("task:e/001", "task:e/002")})


def test_a_body_is_cut_so_that_text_metadata_and_marker_fit() -> None:
    spec = build_specs(build_graph([doc("epics/e/001.md", "name: a")]), (), sub_issues=True, dependencies=True)[
        "task:e/001"
    ]
    room = body_room(spec, URL)
    exact = render_body(spec, "a" * room, {}, source_url=URL)
    assert exact.startswith("a" * room) and len(exact) <= limits.BODY_CHARS.value
    over = render_body(spec, ("line\n" * 20_000)[: room + 1], {}, source_url=URL)
    assert len(over) <= limits.BODY_CHARS.value and f"the rest is in [.claude/epics/e/001.md]({URL})" in over
    assert render_body(spec, "short", {}, source_url=URL).startswith("short\n\n---\n")


def test_whether_a_body_is_cut_does_not_depend_on_issue_numbers() -> None:
    docs = [doc("epics/e/epic.md", "name: e"), doc("epics/e/001.md", "name: a"), doc("epics/e/002.md", "name: b")]
    spec = replace(
        build_specs(build_graph(docs), (), sub_issues=True, dependencies=True)["task:e/002"], blockers=("task:e/001",)
    )
    text = "b" * body_room(spec, URL)
    for numbers in ({}, {"epic:e": 1, "task:e/001": 9_999_999_999}):
        body = render_body(spec, text, numbers, source_url=URL)
        assert body.startswith(text + "\n\n---\n") and len(body) <= limits.BODY_CHARS.value


def _epic_specs(tasks: int) -> dict[str, IssueSpec]:
    docs = [doc("epics/e/epic.md", "name: e")] + [
        doc(f"epics/e/{n:03d}.md", f"name: t{n}") for n in range(1, tasks + 1)
    ]
    return build_specs(build_graph(docs), (), sub_issues=True, dependencies=True)


def test_a_parent_over_100_children_keeps_99_and_groups_the_rest_stably() -> None:
    assert group_children(_epic_specs(100), Observed()).specs == _epic_specs(100)  # at the limit: as it was
    grouped = group_children(_epic_specs(101), Observed()).specs
    parents = {key: spec.parent for key, spec in grouped.items() if key.startswith("task:")}
    assert [k for k, p in parents.items() if p == "group:epic:e/1"] == ["task:e/100", "task:e/101"]
    assert sum(p == "epic:e" for p in parents.values()) == 99 and grouped["group:epic:e/1"].parent == "epic:e"
    big = group_children(_epic_specs(500), Observed()).specs
    under_epic = [k for k, s in big.items() if s.parent == "epic:e"]
    assert len(under_epic) == 100 and all(
        sum(s.parent == g for s in big.values()) <= 100 for g in under_epic if g.startswith("group:")
    )


def test_slots_github_fills_with_other_issues_count() -> None:
    specs = _epic_specs(90)
    epic = RemoteIssue(1, 11, "", "", "open", sub_issues_total=20)  # 20 closed children of deleted files
    grouped = group_children(specs, Observed(issues={"epic:e": epic}))
    assert "group:epic:e/1" in grouped.specs
    assert sum(s.parent == "epic:e" for s in grouped.specs.values()) == 80  # 79 tasks and the group
