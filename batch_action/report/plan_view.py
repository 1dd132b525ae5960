"""The plan as a person reads it: what happens to each issue, grouped PRD > epic > task, titles first.

`plan.json` lists operations; a reader wants items. Each item of the plan becomes one line (its title, then
every write it gets, then its file), under its PRD and epic; a PRD or epic with nothing to do is still shown
when one of its tasks has, so the tree stays readable. The same view feeds the log and the report, which show
the first `PLAN_ITEMS_SHOWN` lines: only those are made (all 10,000 of a large plan held 4.6 MB, for nothing).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from batch_action.graph import GraphPicture
from batch_action.sync.plan import Action, Operation, Plan
from batch_action.sync.render import IssueSpec

PLAN_ITEMS_SHOWN = 500  # the log and the report list this many items; plan.json has every operation


@dataclass(frozen=True)
class ItemLine:
    key: str
    kind: str  # "prd", "epic", "task", or "removed" for the issue of a deleted file
    title: str
    path: str
    depth: int  # 0 PRD, 1 epic, 2 task
    steps: tuple[str, ...]  # what happens to its issue, in order; empty: nothing (shown for its children)


@dataclass(frozen=True)
class PlanView:
    labels: tuple[str, ...]  # the styled labels made when missing
    items: tuple[ItemLine, ...]  # the first lines of the tree (at most the `shown` that `plan_view` was given)
    item_count: int  # the lines of the whole tree
    creates: int
    closed_after_create: Mapping[str, int]  # by kind: issues closed right after their create (done status)
    updates: int
    relinks: int
    closes: int
    parent_links: int
    blocker_links: int
    unchanged: int
    out_of_scope: int
    project: int = 0  # items the project board needs work on

    @property
    def operations(self) -> int:
        return len(self.labels) + self.creates + self.updates + self.relinks + self.closes + self.links + self.project

    @property
    def links(self) -> int:
        return self.parent_links + self.blocker_links

    def summary(self) -> str:
        """One sentence: how many issues get which writes."""
        if not self.operations:
            return f"nothing to do ({self.unchanged} unchanged, {self.out_of_scope} out of scope)"
        parts = []
        if self.creates:
            closed = ""
            if closed_count := sum(self.closed_after_create.values()):
                closed = f" ({closed_count} of them closed right after: done status)"
            parts.append(f"{self.creates} issues to create{closed}")
        for count, what in (
            (self.updates, "to update"),
            (self.relinks, "to re-link"),
            (self.closes, "to close (file removed)"),
            (self.project, "to put on the project or change there"),
        ):
            if count:
                parts.append(f"{count} {what}")
        if self.links:
            parts.append(f"{self.parent_links} sub-issue links and {self.blocker_links} blocked-by links")
        if self.labels:
            parts.append(f"{len(self.labels)} labels to make when missing")
        return "; ".join(parts) + f"; {self.unchanged} unchanged, {self.out_of_scope} out of scope"


def plan_view(
    plan: Plan, specs: Mapping[str, IssueSpec], picture: GraphPicture, *, shown: int = PLAN_ITEMS_SHOWN
) -> PlanView:
    """The view of `plan`, with the first `shown` lines of its tree made."""
    titles = {key: title for key, _, title in picture.nodes}
    kinds = picture.kinds
    parents = _parents(picture)
    ops_of: dict[str, list[Operation]] = {}
    labels: list[str] = []
    closed: Counter[str] = Counter()
    for op in plan.operations:
        if op.action is Action.LABELS:
            labels.append(op.target or "")
            continue
        ops_of.setdefault(op.key, []).append(op)
        if op.action is Action.CREATE and (spec := specs.get(op.key)) is not None and spec.closed:
            closed[kinds.get(op.key, "removed")] += 1

    def line(key: str, kind: str, title: str, depth: int) -> ItemLine:
        spec = specs.get(key)
        return ItemLine(key, kind, title, spec.path if spec else "", depth, _steps(ops_of.get(key, []), spec, titles))

    in_tree = set(ops_of)
    for key in list(in_tree):  # the PRD and epic above an item with writes, for context
        parent = parents.get(key)
        while parent is not None and parent not in in_tree:
            in_tree.add(parent)
            parent = parents.get(parent)
    children: dict[str | None, list[str]] = {}
    for key in in_tree:
        if key in kinds:
            children.setdefault(parents.get(key) if parents.get(key) in in_tree else None, []).append(key)
    removed = sorted(key for key in ops_of if key not in kinds)  # issues of deleted files: no title but the key

    def natural(key: str) -> tuple[object, ...]:
        return _natural(kinds[key], titles[key], key)

    # Depth first, each node's children sorted when it is reached, until `shown` lines are made.
    items: list[ItemLine] = []
    stack = [(key, 0) for key in reversed(sorted(children.get(None, []), key=natural))]
    while stack and len(items) < shown:
        key, depth = stack.pop()
        items.append(line(key, kinds[key], titles[key], depth))
        stack.extend((child, depth + 1) for child in reversed(sorted(children.get(key, []), key=natural)))
    items.extend(line(key, "removed", key, 0) for key in removed[: max(0, shown - len(items))])
    return PlanView(
        labels=tuple(labels),
        items=tuple(items),
        item_count=sum(len(keys) for keys in children.values()) + len(removed),
        creates=plan.count(Action.CREATE),
        closed_after_create=dict(closed),
        updates=plan.count(Action.UPDATE),
        relinks=plan.count(Action.RELINK),
        closes=plan.count(Action.CLOSE),
        parent_links=plan.count(Action.LINK_PARENT),
        blocker_links=plan.count(Action.LINK_BLOCKER),
        unchanged=len(plan.unchanged),
        out_of_scope=len(plan.out_of_scope),
        project=plan.count(Action.PROJECT),
    )


def _steps(ops: list[Operation], spec: IssueSpec | None, titles: Mapping[str, str]) -> tuple[str, ...]:
    """What happens to one item's issue, in the order of its operations; its blockers said once, at the end."""
    said: list[str] = []
    blockers: list[str] = []
    for op in ops:
        if op.action is Action.CREATE:
            said.append(f"create (type {spec.issue_type})" if spec is not None and spec.issue_type else "create")
            if spec is not None and spec.closed:
                said.append(f"then close it (status: {spec.status})")
        elif op.action is Action.UPDATE:
            said.append(f"update #{op.number} ({op.reason})")
        elif op.action is Action.RELINK:
            said.append(f"re-link #{op.number} ({op.reason})")
        elif op.action is Action.CLOSE:
            said.append(f"close #{op.number} as not planned ({op.reason})")
        elif op.action is Action.LINK_PARENT:
            said.append(f"sub-issue of {titles.get(op.target or '', op.target)}")
        elif op.action is Action.LINK_BLOCKER:
            blockers.append(_short(op.key, op.target or ""))
        elif op.action is Action.LIST_CHILDREN:
            said.append("list its sub-issues in the body (no sub-issues on this server)")
        elif op.action is Action.PROJECT:
            said.append(f"project: {op.reason}")
    if blockers:
        said.append("blocked by " + ", ".join(blockers))
    return tuple(said)


def _parents(picture: GraphPicture) -> dict[str, str]:
    keys = [key for key, _, _ in picture.nodes]
    edges = picture.edges
    return {keys[edges[at + 1]]: keys[edges[at]] for at in range(0, len(edges), 3) if edges[at + 2]}


_RANK = {"prd": 0, "epic": 1, "task": 2}


def _natural(kind: str, title: str, key: str) -> tuple[object, ...]:
    """PRDs and epics by title; tasks by file name, numbers as numbers (`2` before `10`, `002` before `87`)."""
    name = key.rsplit("/", 1)[-1] if kind == "task" else title.casefold()
    parts = [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in _PARTS.findall(name)]
    return (_RANK.get(kind, 3), parts)


_PARTS = re.compile(r"\d+|\D+")


def _short(key: str, other: str) -> str:
    """A blocker as its `depends_on` would name it: the file name in the same epic, else `epic/name`."""
    mine, theirs = key.split(":", 1)[-1].rsplit("/", 1), other.split(":", 1)[-1].rsplit("/", 1)
    return theirs[-1] if mine[0] == theirs[0] else "/".join(theirs)
