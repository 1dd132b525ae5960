"""What a run will cost and how long it will take, worked out from the plan before anything is sent.

A dry run prints it (README "Forecast"). A real run uses the same `split` to decide how much of its plan the
primary budget pays for: when `GET /rate_limit` (free) says the budget left will not carry the whole plan, the
run does the items it can finish (in the work order, `priority.py`: removed files' closes, PRDs, epics, then
tasks by priority and by how many tasks they unblock, never before their blockers; each item whole) and stops
resumable. A dry run computes the budget the real run will see at that point
(what is left now, less the listing and the lease the real run spends before it) and calls the same function,
so the items it names for the first run are the ones the real run finishes.

Requests per operation (sync/apply.py): a create is one POST (a done item one PATCH more, to close it); a link is
one POST; an update or a close one PATCH; a label job one POST when the label is missing (the listing of labels
is read once); a re-link reads its blocked-by links and its parent's sub-issues, then adds what is missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from batch_action.engine.governor import GovernorSettings
from batch_action.sync.plan import Action, Operation, Plan
from batch_action.sync.render import IssueSpec

GITHUB_CONTENT_PER_MINUTE = 80  # github-api.md §1: content-generating requests, secondary limits
GITHUB_CONTENT_PER_HOUR = 500
GITHUB_TOKEN_PER_HOUR = 1_000  # GITHUB_TOKEN's primary budget, per repository
LEASE_TAKE, LEASE_RELEASE = 1, 1  # create and delete of the lease label (sync/lease.py)
LEASE_RENEW_SECONDS = 60.0
# Under the lease the real run reads one page of the issues changed since its listing (run/apply.py); only when
# another run wrote meanwhile does it read and plan everything again, and then this forecast is stale anyway.
LEASE_LOOK = 1
# With the look, a plan that makes labels lists the repository's labels (run/apply.py), before the budget's split.
LABEL_LISTING = 1


@dataclass(frozen=True)
class Budget:
    """The primary (core) budget: `remaining` of `limit` until `reset_at` (epoch seconds)."""

    limit: int
    remaining: int
    reset_at: float | None = None
    measured: bool = True  # False: not read (no token), assumed to be GITHUB_TOKEN's fresh hour

    @property
    def reserve(self) -> int:
        """What the engine keeps back before it stops (engine/governor.py `reserve_for`)."""
        settings = GovernorSettings()
        return max(settings.reserve_min, int(self.limit * settings.reserve_fraction))


ASSUMED_BUDGET = Budget(GITHUB_TOKEN_PER_HOUR, GITHUB_TOKEN_PER_HOUR, measured=False)


@dataclass
class Requests:
    """Requests by kind: `content` are the content-creating ones (GitHub's 80 a minute, 500 an hour)."""

    content: dict[str, int] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int = 1, *, content: bool = False) -> None:
        if count:
            into = self.content if content else self.other
            into[kind] = into.get(kind, 0) + count

    def merge(self, other: Requests) -> None:
        for kind, count in other.content.items():
            self.add(kind, count, content=True)
        for kind, count in other.other.items():
            self.add(kind, count)

    @property
    def total(self) -> int:
        return sum(self.content.values()) + sum(self.other.values())

    @property
    def content_total(self) -> int:
        return sum(self.content.values())


def _costs(op: Operation, spec: IssueSpec | None) -> tuple[tuple[str, int, bool], ...]:
    """(kind, requests, content-creating) of one operation when nothing fails: tuples, not a `Requests` per
    operation (a forecast of 30,000 operations made 90,000 of them)."""
    action = op.action
    if action is Action.LABELS:
        return (("label creates (when missing)", 1, True),)
    if action is Action.CREATE:
        if spec is not None and spec.closed:
            return (("issue creates", 1, True), ("closes after create (done items)", 1, False))
        return (("issue creates", 1, True),)
    if action is Action.LINK_PARENT:
        return (("sub-issue links", 1, True),)
    if action is Action.LINK_BLOCKER:
        return (("blocked-by links", 1, True),)
    if action is Action.UPDATE:
        return (("issue updates", 1, False),)
    if action is Action.CLOSE:
        return (("closes of removed files", 1, False),)
    if action is Action.RELINK:
        links = (1 if spec is not None and spec.parent else 0) + (len(spec.blockers) if spec is not None else 0)
        return (("re-link reads", 2, False), ("re-link writes (at most)", links, True))
    if action is Action.PROJECT:
        # `target` is "add; Status, Priority" (projects/changes.py `ItemWork.summary`): an add is one request of
        # one mutation; the field writes one request of a mutation each (aliased). GraphQL has its own budget,
        # counted here with REST's (the report's project section counts the mutations).
        parts = (op.target or "").split("; ")
        add = parts[0] == "add"
        fields = parts[1] if add and len(parts) > 1 else "" if add else parts[0]
        return (
            ("project item adds (GraphQL)", int(add), True),
            ("project field writes (GraphQL, one request an item)", int(bool(fields)), True),
        )
    return ()


def operation_total(op: Operation, spec: IssueSpec | None) -> int:
    """`operation_requests(op, spec).total`, without building it."""
    return sum(count for _, count, _ in _costs(op, spec))


def operation_requests(op: Operation, spec: IssueSpec | None) -> Requests:
    """The most requests one operation sends when nothing fails."""
    cost = Requests()
    for kind, count, content in _costs(op, spec):
        cost.add(kind, count, content=content)
    return cost


def core_requests(op: Operation, spec: IssueSpec | None) -> int:
    """What an operation spends of the REST (core) budget the split is made for: a project operation spends
    GraphQL's own budget instead (its waits are the engine's, on the `graphql` bucket)."""
    return 0 if op.resource is not None else operation_total(op, spec)


@dataclass(frozen=True)
class Split:
    """What one run with `budget` does of a plan: the operations of the items it pays for, and the rest."""

    operations: list[Operation]
    first_items: list[str]  # item keys the run finishes, in plan order
    deferred_items: list[str]  # item keys left for later runs
    usable: int  # requests the budget pays for once the reserve and the lease's end are kept back
    planned: int  # the requests of the operations kept
    deferred_requests: int = 0  # the (core) requests of the deferred items' operations

    @property
    def whole(self) -> bool:
        return not self.deferred_items


def after_apply_requests(seconds: float) -> int:
    """What a run with writes still sends after its last operation: the lease's renewals (one a minute of the
    run, and one spare) and its release."""
    return int(seconds // LEASE_RENEW_SECONDS) + 1 + LEASE_RELEASE


def split(plan: Plan, specs: Mapping[str, IssueSpec], budget: Budget, *, seconds: float) -> Split:
    """The items of `plan` that `budget` pays for, whole items in plan order (a prefix: every item's parent and
    blockers come before it, so each kept link has its issues). `seconds`: the run's forecast duration."""
    usable = max(0, budget.remaining - budget.reserve - after_apply_requests(seconds))
    labels = [op for op in plan.operations if op.action is Action.LABELS]
    cost = len(labels)  # a create for each missing label (the run lists them before this split: LABEL_LISTING)
    by_item: dict[str, list[Operation]] = {}
    for op in sorted((op for op in plan.operations if op.action is not Action.LABELS), key=lambda op: op.order):
        by_item.setdefault(op.key, []).append(op)
    kept: list[Operation] = list(labels)
    first: list[str] = []
    deferred: list[str] = []
    left = 0
    for key, ops in by_item.items():
        needed = sum(core_requests(op, specs.get(key)) for op in ops)
        if not deferred and cost + needed <= usable:
            cost += needed
            kept.extend(ops)
            first.append(key)
        else:
            deferred.append(key)
            left += needed
    if not first:  # nothing fits: the labels alone are not worth a run
        kept, cost = [], 0
    order = {op.id: index for index, op in enumerate(plan.operations)}
    kept.sort(key=lambda op: order[op.id])
    return Split(kept, first, deferred, usable, cost, left)


@dataclass(frozen=True)
class Forecast:
    requests: Requests
    writes_per_minute: int  # the `writes-per-minute` input (0: unpaced)
    budget: Budget
    split: Split
    runs: int  # runs needed at this budget, then a full one per reset

    @property
    def seconds(self) -> float:
        """The apply phase's length as the pacing sets it: the content-creating requests at `writes-per-minute`."""
        return paced_seconds(self.requests.content_total, self.writes_per_minute)


def paced_seconds(content: int, writes_per_minute: float) -> float:
    return content * 60.0 / writes_per_minute if writes_per_minute else 0.0


def hourly_seconds(content: int) -> float:
    """The least time GitHub's 500 content requests an hour allow, at 80 a minute within each hour."""
    if content <= GITHUB_CONTENT_PER_HOUR:
        return content * 60.0 / GITHUB_CONTENT_PER_MINUTE
    hours, rest = divmod(content, GITHUB_CONTENT_PER_HOUR)
    return hours * 3600.0 + rest * 60.0 / GITHUB_CONTENT_PER_MINUTE


def operations_requests(plan: Plan, specs: Mapping[str, IssueSpec]) -> Requests:
    counts: dict[tuple[str, bool], int] = {}
    for op in plan.operations:
        for kind, count, content in _costs(op, specs.get(op.key)):
            if count:  # as `Requests.add`: a kind first counted here takes its place in the order here
                counts[kind, content] = counts.get((kind, content), 0) + count
    requests = Requests()
    for (kind, content), count in counts.items():
        requests.add(kind, count, content=content)
    return requests


def run_split(plan: Plan, specs: Mapping[str, IssueSpec], budget: Budget, *, writes_per_minute: int) -> Split:
    """The real run's split, with the budget it reads just before its first write (`run/apply.keep_to_budget`)."""
    return _split_paced(plan, specs, budget, operations_requests(plan, specs), writes_per_minute)


def _split_paced(
    plan: Plan, specs: Mapping[str, IssueSpec], budget: Budget, operations: Requests, writes_per_minute: int
) -> Split:
    """`run_split` with the plan's `operations_requests` already counted."""
    return split(plan, specs, budget, seconds=paced_seconds(operations.content_total, writes_per_minute))


def forecast(
    plan: Plan,
    specs: Mapping[str, IssueSpec],
    *,
    budget: Budget,
    reads: int,
    writes_per_minute: int,
) -> Forecast:
    """The real run of `plan`, forecast from a dry run whose look at GitHub (the listing, and a read of each issue
    a `github:` field names) cost `reads` requests, with `budget` left after them."""
    requests = Requests()
    requests.add("reads of the issues (listing, adoptions)", reads)
    writes = bool(plan.operations)
    if writes:
        # The real run lists, takes the lease, then looks for changes before its writes (README "One sync").
        requests.add("changes since the listing, under the lease", LEASE_LOOK)
        requests.add("lease take and release", LEASE_TAKE + LEASE_RELEASE)
    labels_listed = plan.count(Action.LABELS) > 0
    if labels_listed:
        requests.add("label listing", LABEL_LISTING)
    operations = operations_requests(plan, specs)  # counted once: the split below paces the same requests
    requests.merge(operations)
    seconds = paced_seconds(requests.content_total, writes_per_minute)
    if writes:
        requests.add("lease renewals", int(seconds // LEASE_RENEW_SECONDS))
    # What the real run will have left at its first write: this budget less its listing, lease, look and labels.
    spent_before = (reads + LEASE_TAKE + LEASE_LOOK + (LABEL_LISTING if labels_listed else 0)) if writes else reads
    at_apply = Budget(budget.limit, max(0, budget.remaining - spent_before), budget.reset_at, budget.measured)
    first = _split_paced(plan, specs, at_apply, operations, writes_per_minute)
    return Forecast(requests, writes_per_minute, budget, first, _runs(first, budget, spent_before, seconds))


def _runs(first: Split, budget: Budget, spent_before: int, seconds: float) -> int:
    """Runs needed: this one, then one per full budget, each spending `spent_before` before its split."""
    if first.whole:
        return 1
    left = first.deferred_requests  # summed by the split, item by item, as it deferred them
    per_run = budget.limit - budget.reserve - spent_before - after_apply_requests(seconds)
    return 1 + (math.ceil(left / per_run) if per_run > 0 else 1)
