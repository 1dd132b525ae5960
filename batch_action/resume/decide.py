"""The pure decisions of a replay: which stored operations are still to do, given the journal and what GitHub
shows now.

An operation whose write landed (the issue's marker already shows the stored digest) is not repeated; one whose
issue was changed since by a newer successful sync is reported as superseded and left alone. An issue number the
checkpoint names (in an operation or its journal) is used only when the listing shows that issue carrying that
item's marker; anything else is dropped with a reason (the plan after the replay decides).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from batch_action.engine.journal import JournalState
from batch_action.resume.state import StoredState, shown
from batch_action.sync.plan import Action, Observed, Operation

MAX_LISTED = 20  # unconfirmed issue numbers named one by one in the log; a forged checkpoint may hold thousands


@dataclass
class ReplayPlan:
    operations: list[Operation]
    landed: list[str] = field(default_factory=list)  # op ids whose write is already on GitHub
    superseded: list[str] = field(default_factory=list)  # op ids a newer sync overtook
    done: list[str] = field(default_factory=list)  # op ids the journal records as done
    unconfirmed: list[str] = field(default_factory=list)  # why an issue number the checkpoint names is not used


def plan_replay(stored: StoredState, journal: JournalState, observed: Observed) -> ReplayPlan:
    """The stored operations still to do, given the journal and what GitHub shows now."""
    result = ReplayPlan([])
    for op_id, value in journal.done.items():
        # The journal's numbers are never used (the listing gives every number a replay writes to); one the listing
        # contradicts is named, as a sign of a stale or forged checkpoint.
        if isinstance(value, dict) and ":" in op_id and "id" in value:
            key = op_id.split(":", 1)[1]
            if (why := _unconfirmed(observed, key, value.get("number"), orphans=False)) is not None:
                result.unconfirmed.append(f"the journal's #{shown(value.get('number'))} for {shown(key)}: {why}")
    kept: dict[str, Operation] = {}
    superseded_keys: set[str] = set()
    for op in stored.operations:
        if op.id in journal.done:
            result.done.append(op.id)
            continue
        if op.number is not None:
            why = _unconfirmed(observed, op.key, op.number, orphans=op.action is Action.CLOSE)
            if why is not None:
                result.unconfirmed.append(f"{shown(op.id)} names #{op.number}: {why}")
                continue
        spec = stored.specs.get(op.key)
        remote = observed.issues.get(op.key)
        now_digest = observed.digests.get(op.key)
        if op.action is Action.CREATE and remote is not None and spec is not None:
            # The create landed (its response was lost, or the run died right after it).
            if now_digest != spec.digest:
                result.superseded.append(op.id)
                superseded_keys.add(op.key)
                continue
            result.landed.append(op.id)
            if spec.closed and remote.state == "open":  # died between the create and its closing PATCH
                kept[op.id] = Operation(
                    op.id, Action.UPDATE, op.key, op.path, op.deps, number=remote.number, reason="finish closing"
                )
            continue
        if op.action is Action.LINK_PARENT and remote is not None and op.target is not None:
            parent = observed.issues.get(op.target)
            if parent is not None and remote.parent_number == parent.number:
                result.landed.append(op.id)
                continue
        if op.action is Action.UPDATE and spec is not None:
            if now_digest == spec.digest:
                result.landed.append(op.id)
                continue
            if now_digest != stored.remote_digests.get(op.key, ""):
                result.superseded.append(op.id)
                superseded_keys.add(op.key)
                continue
        if op.action is Action.CLOSE:
            issue = remote or observed.orphans.get(op.key)
            if issue is None or issue.state == "closed":
                result.landed.append(op.id)
                continue
        kept[op.id] = op
    for op_id, op in list(kept.items()):
        if op.key in superseded_keys:
            del kept[op_id]  # the newer sync owns this item's links too
            result.superseded.append(op_id)
    result.operations = [replace(op, deps=tuple(d for d in op.deps if d in kept)) for op in kept.values()]
    return result


def _unconfirmed(observed: Observed, key: str, number: object, *, orphans: bool) -> str | None:
    """Why the listing does not show issue `number` carrying the marker of `key` (None: it does). A close may
    name an orphan: an issue whose file is gone."""
    issue = observed.issues.get(key) or (observed.orphans.get(key) if orphans else None)
    if issue is not None and issue.number == number:
        return None
    shows = f"#{issue.number}" if issue is not None else "no issue"
    return f"not confirmed by the listing, which shows {shows} for {shown(key)}"
