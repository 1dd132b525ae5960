"""The forecast's request counts: the sum over a plan equals the per-operation counts merged, kind by kind and in
the order the kinds first appear (the forecast adds them up without a `Requests` per operation)."""

from __future__ import annotations

import itertools

from batch_action.forecast import Requests, operation_requests, operation_total, operations_requests
from batch_action.graph import build_graph
from batch_action.sync.plan import Action, Operation, Plan
from batch_action.sync.render import build_specs
from tests.helpers import doc

DOCS = [
    doc("prds/p.md", "name: p"),
    doc("epics/e/epic.md", "name: e\nprd: p"),
    doc("epics/e/001.md", "name: a\nstatus: done"),
    doc("epics/e/002.md", "name: b\ndepends_on: [001]"),
    doc("epics/e/003.md", "name: c\ndepends_on: [001, 002]"),
]


def test_a_plans_requests_are_its_operations_requests_merged() -> None:
    specs = build_specs(build_graph(DOCS), (), sub_issues=True, dependencies=True)
    keys = sorted(specs)
    counter = itertools.count()
    # Every action on every item, in an order where a kind with nothing to count (a re-link of an item without
    # links) comes before the same kind with something.
    ops = [
        Operation(f"op{next(counter)}", action, "" if action is Action.LABELS else key, "x.md", target="prd")
        for key in keys
        for action in Action
    ]
    expected = Requests()
    for op in ops:
        expected.merge(operation_requests(op, specs.get(op.key)))
        assert operation_total(op, specs.get(op.key)) == operation_requests(op, specs.get(op.key)).total
    found = operations_requests(Plan(ops, [], [], {}), specs)
    assert list(found.content.items()) == list(expected.content.items())
    assert list(found.other.items()) == list(expected.other.items())
    assert found.content["issue creates"] == len(keys) and found.other["closes after create (done items)"] == 1
    assert found.content["re-link writes (at most)"] == 1 + 1 + 2 + 3  # a parent each, and 0, 1, 2 blockers
