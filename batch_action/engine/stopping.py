"""How a run stops: the first reason wins, and every worker sees it at once.

A stop (signal, deadline, breaker, rate limit, stop-on-error, auth) schedules nothing new; in-flight jobs finish
their current attempt but start no new retry sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .stops import StopReason


class Stopping:
    def __init__(
        self,
        halt: threading.Event,
        stop_event: threading.Event,
        *,
        clock: Callable[[], float],
        deadline: float | None,
    ) -> None:
        self._halt = halt  # set by the run itself; the engine's real-time sleep wakes on it
        self._stop_event = stop_event  # set from outside: a signal
        self._clock = clock
        self.deadline = deadline
        self._lock = threading.Lock()
        self.reason: StopReason | None = None

    def request(self, reason: StopReason) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
        self._halt.set()

    def halted(self) -> bool:
        if self._halt.is_set():
            return True
        if self._stop_event.is_set():
            self.request(StopReason.SIGNAL)
            return True
        return False

    def past_deadline(self) -> bool:
        if self.deadline is not None and self._clock() >= self.deadline:
            self.request(StopReason.DEADLINE)
            return True
        return False

    def stopped(self) -> bool:
        """Whether nothing new may start: stopped, or the deadline has come."""
        return self.halted() or self.past_deadline()
