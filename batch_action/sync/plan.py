"""Desired state versus observed state, as typed operations. Pure and deterministic.

Rules (README "How the sync decides"):
- An item with no issue is created, then linked to its parent (sub-issue) and blockers (blocked-by).
- An item whose content digest differs from its issue's marker is updated (one PATCH: title, body, labels,
  state); a different links digest also re-links it. Equal digests mean no write at all, even when the issue was
  edited or closed by hand on GitHub: the file is the source of truth only when it changes.
- A removed file closes its issue (`close-removed`); a renamed one keeps it.
- An item of a kind the `kinds` input leaves out is out of scope: never created, updated or closed
  (`sync.kinds`).
- Whatever the scope, an item an earlier run left half done is finished: no issue yet, a marker whose digests
  differ from the file (an update that never landed, labels the marker says were not confirmed), a parent or
  blocked-by link the listing shows was never made, a done item never closed. Only the listing tells, so an item
  that is complete costs no request. `scope: changed` differs from `all` in what it re-imposes on an unchanged
  file: nothing a person chose (another parent, a reopened issue), and only the files git reports deleted close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from batch_action.limits import SUB_ISSUES_PER_PARENT
from batch_action.model import Kind
from batch_action.sync.features import Feature
from batch_action.sync.kinds import ALL_KINDS, selected
from batch_action.sync.render import STYLED_LABELS, UNCONFIRMED_DIGEST, IssueSpec
from batch_action.sync.tracker import RemoteIssue


class Action(StrEnum):
    LABELS = "labels"
    CREATE = "create"
    UPDATE = "update"
    CLOSE = "close"
    LINK_PARENT = "link-parent"
    LINK_BLOCKER = "link-blocker"
    RELINK = "relink"
    LIST_CHILDREN = "list-children"  # without sub-issues: a new parent's body, written again once its children exist
    PROJECT = "project"  # put the issue on the `project` board and set the fields the file changed


@dataclass(frozen=True, slots=True)
class Operation:
    """One write of the plan; also the engine's job for it (`engine.Schedulable`): its id, deps and order."""

    id: str
    action: Action
    key: str  # the item's key ("" for a label operation)
    path: str  # the source file, for logs and annotations
    deps: tuple[str, ...] = ()
    number: int | None = None  # the existing issue, when there is one
    target: str | None = None  # the parent or blocker key of a link; the label of a label operation
    reason: str = ""
    order: int = 0  # scheduling position among ready operations: the item's graph position, then the action

    @property
    def writes(self) -> bool:
        return True

    @property
    def creates_content(self) -> bool:
        """Counted by GitHub's content-creation limit, so paced by `writes-per-minute`."""
        return self.action in _CREATES_CONTENT

    @property
    def label(self) -> str:
        return self.path

    @property
    def resource(self) -> str | None:
        """The primary-limit bucket the operation spends: GraphQL's for the project's, else REST's (None)."""
        return "graphql" if self.action is Action.PROJECT else None


_CREATES_CONTENT = frozenset({Action.CREATE, Action.LINK_PARENT, Action.LINK_BLOCKER, Action.PROJECT})
# Among ready operations, in one item's position: labels first, then close, create, update, the links.
_ACTION_RANK = {
    Action.LABELS: 0,
    Action.CLOSE: 1,
    Action.CREATE: 2,
    Action.UPDATE: 3,
    Action.LINK_PARENT: 4,
    Action.LINK_BLOCKER: 5,
    Action.RELINK: 6,
    Action.LIST_CHILDREN: 7,
    Action.PROJECT: 8,
}


@dataclass(frozen=True)
class Observed:
    """The remote state, read once: issues by item key (found by marker, rename or adoption)."""

    issues: Mapping[str, RemoteIssue] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)  # key -> content digest in the marker ("" = none)
    links: Mapping[str, str] = field(default_factory=dict)  # key -> links digest in the marker
    orphans: Mapping[str, RemoteIssue] = field(default_factory=dict)  # marker keys with no file any more
    # key -> the project field hashes the marker records as written (None: none, or an unconfirmed write)
    fields: Mapping[str, frozenset[str] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    changed: frozenset[str] | None  # item keys whose files changed; None = every item
    removed: frozenset[str] = frozenset()  # keys whose files git reports deleted


@dataclass
class Plan:
    operations: list[Operation]
    unchanged: list[str]
    out_of_scope: list[str]
    outcome: dict[str, str]  # key -> "create" | "update" | "close" | "relink" | "unchanged" | "out-of-scope"

    def count(self, action: Action) -> int:
        return sum(1 for op in self.operations if op.action is action)

    def to_json(self) -> dict[str, object]:
        """plan.json's content; operations as a generator, made while the file is written."""
        return {
            "operations": (_operation_json(op) for op in self.operations),
            "unchanged": self.unchanged,
            "out_of_scope": self.out_of_scope,
            "counts": {action.value: self.count(action) for action in Action},
        }


def _operation_json(op: Operation) -> dict[str, object]:
    data: dict[str, object] = {"action": op.action.value}
    for name in Operation.__slots__:
        value = getattr(op, name)
        if value not in (None, "", ()) and name != "action":
            data[name] = value
    return data


def make_plan(
    specs: Mapping[str, IssueSpec],
    observed: Observed,
    scope: Scope,
    *,
    order: Mapping[str, int],
    close_removed: bool,
    missing: frozenset[Feature] = frozenset(),
    project: Mapping[str, tuple[str, str]] | None = None,
    kinds: frozenset[Kind] = ALL_KINDS,
) -> Plan:
    """`missing`: the link features this server lacks; no link to them is planned (the bodies show them).
    `project`: item key -> (what, why) of the items the project board needs work on (projects/changes.py): a
    `project` operation each, after the create, before the update (whose marker records what it wrote).
    `kinds`: the kinds synced (`sync.kinds`); an item of another kind is out of scope, whatever else holds, and
    the specs given link to one only when its issue exists (`select_kinds` made them so)."""
    project = project or {}
    ops: list[Operation] = []
    outcome: dict[str, str] = {}
    unchanged: list[str] = []
    out_of_scope: list[str] = []
    creating: set[str] = set()
    keys = sorted(specs, key=lambda k: (order.get(k, len(order)), k))

    def position(key: str, action: Action) -> int:
        return order.get(key, -1) * 10 + _ACTION_RANK[action]

    create_ids: dict[str, tuple[str, ...]] = {}  # one id string per item, however many jobs wait for it

    def create_dep(key: str | None) -> tuple[str, ...]:
        if key not in creating:
            return ()
        found = create_ids.get(key)
        if found is None:
            found = create_ids[key] = (f"{Action.CREATE}:{key}",)
        return found

    # First pass: which items need an issue, an update, a re-link, or nothing.
    work: list[tuple[IssueSpec, RemoteIssue | None, bool, bool]] = []  # (spec, remote, update, relink)
    for key in keys:
        spec = specs[key]
        if spec.kind not in kinds:
            out_of_scope.append(key)
            outcome[key] = "out-of-scope"
            continue
        remote = observed.issues.get(key)
        if remote is None:
            creating.add(key)
            work.append((spec, None, False, False))
            continue
        in_scope = scope.changed is None or key in scope.changed
        links_changed = observed.links.get(key) != spec.links_digest
        # The body shows parent and blockers as #N links, so a links change rewrites the body too.
        update = observed.digests.get(key) != spec.digest or links_changed or _never_closed(spec, remote)
        relink = len(missing) < len(Feature) and (
            links_changed or _links_look_wrong(spec, remote, observed, missing, parent_moved_counts=in_scope)
        )
        if update or relink or key in project:
            work.append((spec, remote, update, relink))
        elif in_scope:
            unchanged.append(key)
            outcome[key] = "unchanged"
        else:
            out_of_scope.append(key)
            outcome[key] = "out-of-scope"

    # One job per styled label (kinds, sync label) an item about to be written uses: made in parallel, each item
    # waits only for its own, and one that exists costs no write (the listing is read once, by the first job).
    # Other labels are made by GitHub when a write first names them (`apply.Labels` checks that it did).
    labelled = sorted(
        {
            label
            for spec, remote, update, _ in work
            if remote is None or update
            for label in spec.labels
            if label in STYLED_LABELS
        }
    )
    label_ids = {label: f"{Action.LABELS}:{label}" for label in labelled}
    ops.extend(
        Operation(label_ids[label], Action.LABELS, "", "", target=label, reason="make sure the label exists", order=-10)
        for label in labelled
    )

    making_room = _making_room(work, observed)
    for spec, remote, update, relink in work:
        refs = [spec.parent, *spec.blockers, *spec.listed_blockers]  # the body links to each
        room = making_room.get(spec.parent or "", ())
        ref_deps = tuple(d for ref in refs for d in create_dep(ref))
        # A body listing its children waits for theirs; a new parent cannot (they wait for it): it lists them after.
        child_deps = tuple(d for child, _, _ in spec.children for d in create_dep(child))
        label_dep = (
            tuple(label_ids[label] for label in spec.labels if label in label_ids) if remote is None or update else ()
        )
        board = project.get(spec.key)
        board_id = f"{Action.PROJECT}:{spec.key}"
        if remote is None:
            own = create_dep(spec.key)
            if board is not None:
                ops.append(_board_op(board_id, spec, board, own, None, position(spec.key, Action.PROJECT)))
            ops.append(
                Operation(
                    own[0],
                    Action.CREATE,
                    spec.key,
                    spec.path,
                    label_dep + ref_deps,
                    reason="no issue yet",
                    order=position(spec.key, Action.CREATE),
                )
            )
            outcome[spec.key] = "create"
            if child_deps:
                ops.append(
                    Operation(
                        f"{Action.LIST_CHILDREN}:{spec.key}",
                        Action.LIST_CHILDREN,
                        spec.key,
                        spec.path,
                        own + child_deps,
                        reason="list its sub-issues in the body",
                        order=position(spec.key, Action.LIST_CHILDREN),
                    )
                )
            if spec.parent and Feature.SUB_ISSUES not in missing:
                ops.append(
                    Operation(
                        f"{Action.LINK_PARENT}:{spec.key}",
                        Action.LINK_PARENT,
                        spec.key,
                        spec.path,
                        own + create_dep(spec.parent) + room,
                        target=spec.parent,
                        reason="sub-issue of its parent",
                        order=position(spec.key, Action.LINK_PARENT),
                    )
                )
            for blocker in spec.blockers if Feature.DEPENDENCIES not in missing else ():
                ops.append(
                    Operation(
                        f"{Action.LINK_BLOCKER}:{spec.key}<-{blocker}",
                        Action.LINK_BLOCKER,
                        spec.key,
                        spec.path,
                        own + create_dep(blocker),
                        target=blocker,
                        reason="depends_on",
                        order=position(spec.key, Action.LINK_BLOCKER),
                    )
                )
            continue
        relink_id = f"{Action.RELINK}:{spec.key}"
        if board is not None:
            ops.append(_board_op(board_id, spec, board, (), remote.number, position(spec.key, Action.PROJECT)))
        if update:
            ops.append(
                Operation(
                    f"{Action.UPDATE}:{spec.key}",
                    Action.UPDATE,
                    spec.key,
                    spec.path,
                    # After the re-link: the marker's links digest is then written only once the links are made,
                    # so a run killed in between leaves a marker the next run sees as not done.
                    label_dep
                    + ref_deps
                    + child_deps
                    + ((relink_id,) if relink else ())
                    + ((board_id,) if board is not None else ()),
                    number=remote.number,
                    reason=_update_reason(spec, remote, observed),
                    order=position(spec.key, Action.UPDATE),
                )
            )
        outcome[spec.key] = "update" if update or board is not None else "relink"
        if relink:
            ops.append(
                Operation(
                    relink_id,
                    Action.RELINK,
                    spec.key,
                    spec.path,
                    ref_deps + room,
                    number=remote.number,
                    reason=(
                        "parent or depends_on changed"
                        if observed.links.get(spec.key) != spec.links_digest
                        else "the listing shows a missing link"
                    ),
                    order=position(spec.key, Action.RELINK),
                )
            )

    removed = set(scope.removed) if scope.changed is not None else set(observed.orphans)
    if close_removed:
        for key in sorted(removed):
            issue = observed.orphans.get(key) or observed.issues.get(key)
            if key in specs or issue is None or issue.state == "closed" or not selected(key, kinds):
                continue
            ops.append(
                Operation(
                    f"{Action.CLOSE}:{key}",
                    Action.CLOSE,
                    key,
                    key,
                    number=issue.number,
                    reason="file removed",
                    order=position(key, Action.CLOSE),
                )
            )
            outcome[key] = "close"
    return Plan(ops, unchanged, out_of_scope, outcome)


def _making_room(
    work: list[tuple[IssueSpec, RemoteIssue | None, bool, bool]], observed: Observed
) -> dict[str, tuple[str, ...]]:
    """Parent key -> the re-links that take sub-issues out of it, for each parent that is full until they do.

    When a parent's children move under grouping issues (`sync.fit`), GitHub holds the old links until each
    moves: a link into a parent at its 100 waits for the moves out of it.
    """
    number_to_key = {issue.number: key for key, issue in observed.issues.items()}
    leaving: dict[str, list[str]] = {}
    arriving: dict[str, int] = {}
    for spec, remote, _, relink in work:
        was = number_to_key.get(remote.parent_number) if remote is not None and remote.parent_number else None
        if spec.parent and spec.parent != was:
            arriving[spec.parent] = arriving.get(spec.parent, 0) + 1
        if was is not None and was != spec.parent and relink:
            leaving.setdefault(was, []).append(f"{Action.RELINK}:{spec.key}")
    room: dict[str, tuple[str, ...]] = {}
    for parent, moves in leaving.items():
        held = observed.issues[parent].sub_issues_total
        if held is not None and held + arriving.get(parent, 0) > SUB_ISSUES_PER_PARENT.value:
            room[parent] = tuple(moves)
    return room


def _never_closed(spec: IssueSpec, remote: RemoteIssue) -> bool:
    """A done item whose issue was never closed: the run that created it stopped before the closing PATCH.

    Issues are created open and closed by a second request; the marker written by the first already carries the
    digest, so only the state tells. An issue a person reopened says `state_reason: reopened` and is left alone.
    """
    return spec.closed and remote.state == "open" and remote.state_reason is None


def _update_reason(spec: IssueSpec, remote: RemoteIssue, observed: Observed) -> str:
    digest = observed.digests.get(spec.key)
    if not digest:
        return "adopt an existing issue"
    if spec.issue_type is not None and (remote.type or "").lower() != spec.issue_type.lower():
        return f"issue type {remote.type or 'none'} -> {spec.issue_type}"
    if digest == UNCONFIRMED_DIGEST:
        return "finish: GitHub had left labels off the issue"
    if digest == spec.digest and observed.links.get(spec.key) == spec.links_digest:
        return "finish closing: the run that created the issue stopped before closing it"
    return "file changed, or the sub-issues its body lists" if spec.children else "file changed"


def _links_look_wrong(
    spec: IssueSpec, remote: RemoteIssue, observed: Observed, missing: frozenset[Feature], *, parent_moved_counts: bool
) -> bool:
    """What the listing says about links, when it says anything, against what the files state.

    This is how a plain re-run notices a link that an interrupted run never made, without a request per issue:
    no parent at all, or fewer blocked-by links than the file names. A parent other than the file's counts only
    when `parent_moved_counts` (the file is in scope): for an unchanged file it may be a person's choice. A feature
    the server lacks has no links to miss.
    """
    if remote.blocked_by_total is None:
        return False  # the API told us nothing about links
    if spec.parent and Feature.SUB_ISSUES not in missing:
        if remote.parent_number is None:
            return True
        parent = observed.issues.get(spec.parent)
        if parent_moved_counts and parent is not None and parent.number != remote.parent_number:
            return True
    return Feature.DEPENDENCIES not in missing and remote.blocked_by_total < len(spec.blockers)


def _board_op(
    op_id: str, spec: IssueSpec, board: tuple[str, str], deps: tuple[str, ...], number: int | None, order: int
) -> Operation:
    """An item's `project` operation (`board`: what, why): after its create (`deps`), or on its issue (`number`)."""
    what, why = board
    return Operation(op_id, Action.PROJECT, spec.key, spec.path, deps, number, what, why, order)
