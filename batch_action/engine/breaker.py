"""Circuit breaker: stop hammering an API that keeps failing the same way.

CLOSED --(N consecutive failures of one counted class)--> OPEN --(cool-down)--> HALF_OPEN (one probe)
HALF_OPEN --probe ok--> CLOSED;  --probe failed--> OPEN with the cool-down doubled;
after K failed probes: TRIPPED (the runner ends the run, resumable). Only the probe's result moves HALF_OPEN:
requests already in flight when the breaker opened are ignored, they say nothing about the API now.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from .failures import FailureClass


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"
    TRIPPED = "tripped"


# Failures that say "the API is unwell"; item and auth errors are answers, not outages.
DEFAULT_COUNTED = frozenset(
    {
        FailureClass.CONNECTION,
        FailureClass.TIMEOUT,
        FailureClass.SERVER,
        FailureClass.SECONDARY_LIMIT,
        FailureClass.TOO_MANY,
    }
)


@dataclass(frozen=True)
class Permit:
    """`allowed`: send now (`probe`: this request decides HALF_OPEN). Otherwise ask again at `retry_at`,
    or never when `tripped`."""

    allowed: bool
    probe: bool = False
    retry_at: float | None = None
    tripped: bool = False


class CircuitBreaker:
    def __init__(
        self,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        max_cooldown: float = 480.0,
        max_failed_probes: int = 3,
        probe_poll: float = 1.0,
        counted: Iterable[FailureClass] = DEFAULT_COUNTED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if threshold < 1 or max_failed_probes < 1:
            raise ValueError("threshold and max_failed_probes must be >= 1")
        self.threshold = threshold
        self.base_cooldown = cooldown
        self.max_cooldown = max_cooldown
        self.max_failed_probes = max_failed_probes
        self.probe_poll = probe_poll
        self.counted = frozenset(counted)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._streak_cls: FailureClass | None = None
        self._streak = 0
        self._cooldown = cooldown
        self._open_until = 0.0
        self._probe_out = False
        self._failed_probes = 0
        self.times_opened = 0
        self.last_class: FailureClass | None = None  # the class that opened it, for the report

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state

    @property
    def failed_probes(self) -> int:
        with self._lock:
            return self._failed_probes

    @property
    def cooldown(self) -> float:
        with self._lock:
            return self._cooldown

    def acquire(self) -> Permit:
        now = self._clock()
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return Permit(True)
            if self._state is BreakerState.TRIPPED:
                return Permit(False, tripped=True)
            if self._state is BreakerState.OPEN:
                if now < self._open_until:
                    return Permit(False, retry_at=self._open_until)
                self._state = BreakerState.HALF_OPEN
                self._probe_out = False
            # HALF_OPEN: exactly one probe at a time; the others poll until it reports.
            if self._probe_out:
                return Permit(False, retry_at=now + self.probe_poll)
            self._probe_out = True
            return Permit(True, probe=True)

    def release_probe(self) -> None:
        """The probe was abandoned before sending (e.g. the run is stopping): let another caller probe."""
        with self._lock:
            self._probe_out = False

    def record_success(self, *, probe: bool = False) -> None:
        with self._lock:
            if self._state is BreakerState.CLOSED:
                self._streak, self._streak_cls = 0, None
            elif probe and self._state is BreakerState.HALF_OPEN:
                self._close()

    def record_failure(self, cls: FailureClass, *, probe: bool = False) -> None:
        now = self._clock()
        with self._lock:
            if self._state is BreakerState.CLOSED:
                if cls not in self.counted:
                    self._streak, self._streak_cls = 0, None  # the API answered: the outage streak is broken
                    return
                self._streak = self._streak + 1 if cls is self._streak_cls else 1
                self._streak_cls = cls
                if self._streak >= self.threshold:
                    self._open(now, cls)
            elif probe and self._state is BreakerState.HALF_OPEN:
                if cls not in self.counted:
                    self._close()
                    return
                self._failed_probes += 1
                self._probe_out = False
                if self._failed_probes >= self.max_failed_probes:
                    self._state = BreakerState.TRIPPED
                    return
                self._cooldown = min(self.max_cooldown, self._cooldown * 2)
                self._open(now, cls)

    def _open(self, now: float, cls: FailureClass) -> None:
        self._state = BreakerState.OPEN
        self._open_until = now + self._cooldown
        self.times_opened += 1
        self.last_class = cls

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._streak, self._streak_cls = 0, None
        self._cooldown = self.base_cooldown
        self._failed_probes = 0
        self._probe_out = False
