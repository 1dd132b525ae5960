"""Progress lines for the job log: one every `interval` seconds or every `step` of the total, whichever first.

The engine feeds snapshots; the lines go to a sink (the CLI wraps them in ::group::). Time comes from the
injected clock, so tests see exact lines.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

ProgressSink = Callable[[str], None]


@dataclass(frozen=True)
class ProgressSnapshot:
    total: int
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    retries: int = 0
    in_flight: int = 0
    writes_per_minute: float = 0.0
    limit_wait: float = 0.0  # seconds waited for rate limits so far
    concurrency: int = 0
    paced_left: int = 0  # content-creating jobs not finished yet: the write pacing holds them back

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.skipped


def format_duration(seconds: float) -> str:
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class ProgressReporter:
    def __init__(
        self,
        sink: ProgressSink,
        *,
        total: int,
        clock: Callable[[], float] = time.time,
        interval: float = 5.0,
        step: float = 0.05,
    ) -> None:
        self._sink = sink
        self.total = total
        self._clock = clock
        self.interval = interval
        self._step_jobs = max(1, math.ceil(total * step)) if total else 1
        self._started = clock()
        self._last_line_at = self._started
        self._last_finished = 0

    def start(self, note: str = "") -> None:
        extra = f" ({note})" if note else ""
        self._sink(f"engine: {self.total} job(s) to run{extra}")

    def due(self, finished: int, in_flight: int) -> bool:
        """Whether a line is due, from two numbers: the engine asks after every job and builds a snapshot
        only when the answer is yes."""
        now = self._clock()
        crossed = finished // self._step_jobs > self._last_finished // self._step_jobs
        waited = now - self._last_line_at >= self.interval
        # While stuck on a long wait, still say so every interval.
        return crossed or (waited and (finished != self._last_finished or in_flight > 0))

    def update(self, snap: ProgressSnapshot, *, force: bool = False) -> bool:
        """Emit a line if due; returns whether one was written."""
        if not (force or self.due(snap.finished, snap.in_flight)):
            return False
        now = self._clock()
        self._sink(self.line(snap, now))
        self._last_line_at = now
        self._last_finished = snap.finished
        return True

    def finish(self, snap: ProgressSnapshot, stopped_reason: str | None = None) -> None:
        now = self._clock()
        tail = f"; stopped: {stopped_reason}" if stopped_reason else ""
        self._sink(self.line(snap, now, final=True) + tail)

    def line(self, snap: ProgressSnapshot, now: float, *, final: bool = False) -> str:
        elapsed = now - self._started
        pct = 100.0 * snap.finished / self.total if self.total else 100.0
        parts = [
            f"[{snap.finished}/{self.total} {pct:3.0f}%]",
            f"ok {snap.succeeded}",
            f"failed {snap.failed}",
            f"skipped {snap.skipped}",
            f"retries {snap.retries}",
            # A rate no run reaches means pacing is off (writes-per-minute: 0).
            "writes unpaced" if snap.writes_per_minute >= 1e6 else f"writes {snap.writes_per_minute:.1f}/min",
            f"limit waits {format_duration(snap.limit_wait)}",
        ]
        if final:
            parts.append(f"took {format_duration(elapsed)}")
        else:
            parts.append(f"in flight {snap.in_flight}")
            remaining = self.total - snap.finished
            # The rate so far overstates the pace while the first jobs are labels and a burst of writes: the
            # writes left cannot go faster than their pacing.
            paced = snap.paced_left * 60.0 / snap.writes_per_minute if 0 < snap.writes_per_minute < 1e6 else 0.0
            if snap.finished and remaining > 0:
                parts.append(f"ETA {format_duration(max(elapsed / snap.finished * remaining, paced))}")
            elif remaining > 0:
                parts.append(f"ETA {format_duration(paced)}" if paced else "ETA ?")
        return ", ".join(parts)
