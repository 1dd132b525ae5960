"""The run's lease on the repository: one sync writes at a time (sync/lease.py holds the protocol)."""

from __future__ import annotations

from batch_action.engine.policy import GaveUp, StopReason
from batch_action.runtime import ReadRetries, Runtime
from batch_action.sync.lease import Lease
from batch_action.sync.tracker import IssueTracker


def make_lease(
    runtime: Runtime, tracker: IssueTracker, *, run_id: str, attempt: int, repository: str, server_url: str
) -> Lease:
    """Its expiry is wall-clock time, as other runs read it."""
    clock, sleep = runtime.timebase()
    return Lease(
        tracker,
        run_id=run_id,
        attempt=attempt,
        clock=clock,
        sleep=sleep,
        stopped=runtime.stop.is_set,
        log=runtime.io.log,
        repository=repository,
        server_url=server_url,
    )


def take_lease(
    runtime: Runtime, lease: Lease, reads: ReadRetries, *, wait_minutes: float, repository: str
) -> str | None:
    """Take the lease, waiting up to `lease-wait-minutes`. None: held; else why the run stops (said as an error)."""
    io = runtime.io
    try:
        waited = reads(lambda: lease.take(wait_minutes * 60), writes=True)
    except GaveUp as exc:
        failure = exc.failure
        io.error(
            f"the run stopped ({failure.cls}) taking the lease on {repository}: {failure.message}. Nothing was written",
            title="issue sync stopped",
        )
        return str(StopReason.AUTH) if failure.fatal_for_run else "lease"
    if waited.taken:
        after = f" after waiting {waited.seconds:.0f} s for run {waited.holder.run_id}" if waited.holder else ""
        io.log(f"lease: took the lease on {repository}{after}")

        def lost() -> None:
            io.error(
                f"the lease on {repository} was lost (it could not be renewed): stopping, resumable",
                title="issue sync stopped",
            )
            runtime.stop.set()

        lease.start_renewing(lost)
        return None
    reason = lease.held_by(waited.holder) if waited.holder else "the lease could not be taken"
    io.error(
        f"{reason}; waited {waited.seconds / 60:.1f} min (`lease-wait-minutes`). Nothing was written: "
        "the next run (or a re-run of this one) does the work. Two syncs of one repository at once would race; "
        "a `concurrency:` group in the workflow keeps them apart",
        title="issue sync waited for another run",
    )
    return "lease"


def release_lease(runtime: Runtime, lease: Lease) -> None:
    try:
        lease.release()
    except Exception as exc:  # never hide how the run ended: the lease expires by itself
        runtime.io.warning(f"the lease could not be released ({type(exc).__name__}); it expires within 3 minutes")
