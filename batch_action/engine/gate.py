"""The gate every attempt passes before it sends: stop and deadline, the governor's limit pause or reserve,
write pacing, and the circuit breaker; and, after the attempt, what its result tells the breaker.

A wait that would outlast `max_limit_wait` (a rate limit's) or the deadline is not slept: the run stops,
resumable, and the attempt is abandoned (`Halted`).
"""

from __future__ import annotations

from collections.abc import Callable

from .breaker import BreakerState, CircuitBreaker
from .failures import Failure
from .governor import Governor, WaitReason
from .graph import Schedulable
from .policy import Attempt
from .stopping import Stopping
from .stops import StopReason


class Halted(Exception):
    """Raised in a worker when the run is stopping before (or between) attempts."""

    def __init__(self, attempt: Attempt) -> None:
        super().__init__("run stopping")
        self.attempt = attempt


class Gate:
    def __init__(
        self,
        *,
        governor: Governor,
        breaker: CircuitBreaker,
        stopping: Stopping,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        max_limit_wait: float,
    ) -> None:
        self.governor = governor
        self.breaker = breaker
        self.stopping = stopping
        self._clock = clock
        self._sleep = sleep
        self._max_limit_wait = max_limit_wait

    def admit(self, job: Schedulable, attempt: Attempt) -> bool:
        """Wait until this attempt may send; returns whether it is the breaker's probe. Raises `Halted`."""
        token_taken = False
        while True:
            if self.stopping.stopped():
                raise Halted(attempt)
            # The bucket the job spends (a GraphQL job names "graphql"; others spend the REST "core" bucket).
            until, why = self.governor.ready_at(getattr(job, "resource", None))
            if why is not None:
                self._wait_until(until, why, attempt, limit=True)
                continue
            if job.creates_content and not token_taken:
                token_taken = True
                delay = self.governor.reserve_write()
                if delay > 0.001:  # an effectively unpaced rate (e.g. 1e9/min) is not worth a sleep call
                    self._wait_until(self._clock() + delay, WaitReason.WRITE_PACING, attempt, limit=False)
                    continue
            permit = self.breaker.acquire()
            if permit.tripped:
                self.stopping.request(StopReason.BREAKER)
                raise Halted(attempt)
            if not permit.allowed:
                assert permit.retry_at is not None
                self._wait_until(permit.retry_at, WaitReason.BREAKER, attempt, limit=False)
                continue
            return permit.probe

    def record(self, failure: Failure | None, *, probe: bool) -> None:
        """An admitted attempt ended (`failure` None: it succeeded); a tripped breaker stops the run."""
        if failure is None:
            self.breaker.record_success(probe=probe)
            return
        self.breaker.record_failure(failure.cls, probe=probe)
        if self.breaker.state is BreakerState.TRIPPED:
            self.stopping.request(StopReason.BREAKER)

    def _wait_until(self, until: float, why: WaitReason, attempt: Attempt, *, limit: bool) -> None:
        seconds = until - self._clock()
        if seconds <= 0:
            return
        if limit and seconds > self._max_limit_wait:
            self.stopping.request(StopReason.RATE_LIMIT)
            raise Halted(attempt)
        deadline = self.stopping.deadline
        if deadline is not None and until > deadline:
            self.stopping.request(StopReason.DEADLINE)
            raise Halted(attempt)
        self.governor.record_wait(why.value, seconds)
        self._sleep(seconds)
