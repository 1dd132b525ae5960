"""What a run did, item by item: the engine's job outcomes folded into counts, failures and per-item outcomes.

Pure: the report, the outputs and the exit code are all made from an `Outcome`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from batch_action.engine.scheduler import JobStatus, RunResult
from batch_action.sync.plan import Action, Operation, Plan


@dataclass
class Outcome:
    counts: dict[str, int]
    resumable: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)  # key -> created/updated/unchanged/failed/pending…
    stopped_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # engine and performance figures


_FAILED, _PENDING, _CREATED, _CLOSED = 8, 4, 2, 1
_SAID = ((_FAILED, "failed"), (_PENDING, "pending"), (_CREATED, "created"), (_CLOSED, "closed"))


def summarise(plan: Plan, result: RunResult | None, *, unchanged: int, unreadable: int, skipped: int) -> Outcome:
    """An item failed when one of its jobs failed, is pending when one was skipped or never ran, and was
    otherwise created, closed or updated. A stop of the whole run (a bad token) fails only the jobs in flight
    when it came (label jobs belong to no item); the items it left are pending, and the run is resumable."""
    # What each item's jobs did, as flags in one small int per item (a list of its jobs each cost 2.5 MB at
    # 29,000 jobs, at the run's fullest).
    did: dict[str, int] = {}
    failures: list[dict[str, Any]] = []
    if result is not None:
        for job_outcome in result.outcomes.values():
            op = job_outcome.job
            assert isinstance(op, Operation)
            status = job_outcome.status
            if status is JobStatus.FAILED:
                flag = _FAILED
            elif status is JobStatus.SUCCEEDED:
                flag = _CREATED if op.action is Action.CREATE else _CLOSED if op.action is Action.CLOSE else 0
            else:  # skipped, not run
                flag = _PENDING
            did[op.key] = did.get(op.key, 0) | flag
            if status is JobStatus.FAILED and job_outcome.failure is not None:
                failure = job_outcome.failure
                failures.append(
                    {
                        "path": op.path,
                        "operation": op.id,
                        "class": str(failure.cls),
                        "message": failure.message,
                        "status": failure.status,
                        "attempts": job_outcome.attempts,
                    }
                )
    outcomes: dict[str, str] = dict(plan.outcome)
    counts = {"created": 0, "updated": 0, "closed": 0, "failed": 0, "pending": 0}
    for key, flags in did.items():
        if not key:
            continue
        # The most telling first: a failed job, then one that did not run, then what the rest wrote.
        outcomes[key] = next((said for flag, said in _SAID if flags & flag), "updated")
        counts[outcomes[key]] += 1
    counts["failed"] += unreadable
    counts["unchanged"] = unchanged
    counts["skipped"] = skipped
    extra: dict[str, Any] = {}
    if result is not None:
        extra["engine"] = {
            "retries": result.retries,
            "retries_by_class": dict(result.retries_by_class),
            "waited_seconds": dict(result.waited),
            "limit_wait_seconds": result.limit_wait,
            "limit_hits": result.limit_hits,
            "peak_concurrency": result.peak_concurrency,
            "final_concurrency": result.final_concurrency,
            "final_writes_per_minute": result.final_writes_per_minute,
            "elapsed_seconds": result.elapsed,
            "breaker": result.breaker_state,
            "jobs": dict(result.counts),
            "warnings": list(result.warnings),
        }
    return Outcome(
        counts=counts,
        resumable=bool(result and result.resumable) or counts["pending"] > 0,
        failures=failures,
        outcomes=outcomes,
        stopped_reason=str(result.stopped_reason) if result and result.stopped_reason else None,
        extra=extra,
    )


def followed_by(first: Outcome, then: Outcome) -> Outcome:
    """A second pass over items the first one wrote (parents listing their sub-issues, once the run learnt the
    server has none): an item keeps its first outcome unless the second pass failed it or left it pending."""
    counts, outcomes = dict(first.counts), dict(first.outcomes)
    for key, now in then.outcomes.items():
        was = outcomes.get(key)
        if now in ("failed", "pending") and was != now:
            if was in counts:
                counts[was] -= 1
            counts[now] = counts.get(now, 0) + 1
            outcomes[key] = now
    return Outcome(
        counts,
        resumable=first.resumable or then.resumable,
        failures=first.failures + then.failures,
        outcomes=outcomes,
        stopped_reason=first.stopped_reason or then.stopped_reason,
        extra=first.extra,
    )


def merge_counts(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    merged = dict(a)
    for key in ("created", "updated", "closed", "failed"):
        merged[key] = merged.get(key, 0) + b.get(key, 0)
    return merged


def replay_section(replayed: Outcome) -> str:
    extra = replayed.extra
    lines = [
        "### Replay",
        "",
        f"Resumed from the checkpoint of commit `{extra.get('commit', '')[:12] or 'unknown'}`: "
        f"{len(extra.get('done', []))} operations were already done, {len(extra.get('landed', []))} had landed "
        f"without being recorded, {extra.get('operations', 0)} were run now.",
    ]
    superseded = extra.get("superseded", [])
    if superseded:
        lines += ["", f"Superseded by a newer sync, left alone ({len(superseded)}):", ""]
        lines += [f"- `{op_id}`" for op_id in superseded]
    return "\n".join(lines)
