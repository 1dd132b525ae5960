"""Checkpoints of a run: when they are due, what they say, and writing them without ever failing the run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .journal import Journal
from .result import JobStatus, Outcomes
from .stops import StopReason

CheckpointCallback = Callable[[Mapping[str, Any]], None]


class Checkpoints:
    """A checkpoint lists every finished job, so writing one every N jobs made a run O(jobs²). They come every
    `every` finished jobs until 10·N, then at least `spacing` of the finished jobs apart (~60 for 30,000 jobs,
    N=25). Deterministic; the journal, flushed per event, stays the complete record in between."""

    def __init__(
        self, journal: Journal | None, on_checkpoint: CheckpointCallback | None, *, every: int, spacing: float
    ) -> None:
        self._journal = journal
        self._on_checkpoint = on_checkpoint
        self._every = every
        self._spacing = spacing
        self._next = every if every > 0 else 0  # 0: only the final checkpoint
        self.warnings: list[str] = []

    @property
    def wanted(self) -> bool:
        return self._journal is not None or self._on_checkpoint is not None

    def due(self, finished: int) -> bool:
        if not self._next or finished < self._next:
            return False
        step = max(self._every, int(finished * self._spacing))
        while self._next <= finished:
            self._next += step
        return True

    def write(self, outcomes: Outcomes, stop_reason: StopReason | None, *, final: bool) -> None:
        summary = checkpoint_summary(outcomes, stop_reason, final=final)
        try:
            if self._journal is not None:
                self._journal.checkpoint(summary)
            if self._on_checkpoint is not None:
                self._on_checkpoint(summary)
        except Exception as exc:  # a failed upload/write must not abandon jobs in flight
            self.warnings.append(f"checkpoint failed: {type(exc).__name__}: {exc}")


def checkpoint_summary(outcomes: Outcomes, stop_reason: StopReason | None, *, final: bool) -> dict[str, Any]:
    # O(jobs) per checkpoint, like the id lists it writes; spacing keeps the run linear.
    ids = outcomes.ids()
    return {
        "final": final,
        "counts": outcomes.counts(),
        "done": ids[JobStatus.SUCCEEDED],
        "failed": ids[JobStatus.FAILED],
        "skipped": ids[JobStatus.SKIPPED],
        "stopped_reason": stop_reason.value if stop_reason else None,
    }
