"""When to give up retrying: tenacity stop strategies that also say why.

Each is a small `tenacity.stop.stop_base`; the caller composes them with `|`, and the composition remembers
nothing: `first(state)` names the strategy that fires (the first one given), so `GaveUp` can say why and
whether the whole run should stop. They read the classified failure of the attempt that just failed
(`failed_attempt`) and `upcoming_sleep`, which tenacity computes before it asks whether to stop.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from enum import StrEnum

import tenacity

from .failures import LIMIT_CLASSES, Failure


class StopReason(StrEnum):
    """Why a run ended before every job was tried."""

    SIGNAL = "signal"
    DEADLINE = "deadline"
    BREAKER = "breaker"
    RATE_LIMIT = "rate-limit"
    STOP_ON_ERROR = "stop-on-error"
    AUTH = "auth"


class FailedAttempt(Exception):
    """What tenacity sees of a failed attempt: its classified failure, and how many failures of that class the
    call has had so far (each class backs off on its own count)."""

    def __init__(self, failure: Failure, nth: int) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.nth = nth


def failed_attempt(state: tenacity.RetryCallState) -> FailedAttempt:
    assert state.outcome is not None
    exc = state.outcome.exception()
    assert isinstance(exc, FailedAttempt)
    return exc


class Stop(tenacity.stop.stop_base):
    """A stop strategy with a name: `reason` goes into `GaveUp.reason`."""

    reason: str

    @abc.abstractmethod
    def __call__(self, retry_state: tenacity.RetryCallState) -> bool: ...

    def stop_run(self, failure: Failure) -> StopReason | None:
        """Whether giving up for this reason should end the whole run (None: only this call fails)."""
        return None

    def __or__(self, other: tenacity.stop.stop_base) -> FirstStop:
        assert isinstance(other, Stop)
        return FirstStop(self, other)


class FirstStop(tenacity.stop.stop_any):
    """Stops when any of `stops` does; `first()` tells which one, in the order given."""

    def __init__(self, *stops: Stop) -> None:
        super().__init__(*stops)
        self.named = stops

    def first(self, retry_state: tenacity.RetryCallState) -> Stop | None:
        return next((stop for stop in self.named if stop(retry_state)), None)

    def __or__(self, other: tenacity.stop.stop_base) -> FirstStop:
        assert isinstance(other, Stop)
        return FirstStop(*self.named, other)


class stop_when_halted(Stop):
    """The run is stopping: no new sleep (and, checked again after each sleep, no new attempt)."""

    reason = "halted"

    def __init__(self, halted: Callable[[], bool]) -> None:
        self.halted = halted

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.halted()


class stop_after_retries(Stop):
    """At most `retries` retries after the first attempt, whatever the classes."""

    reason = "max-retries"

    def __init__(self, retries: int) -> None:
        self.retries = retries

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return retry_state.attempt_number > self.retries


class stop_limit_wait_over(Stop):
    """A rate-limit wait longer than `seconds` is not slept: the run ends, resumable, instead of idling."""

    reason = "limit-wait"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        limited = failed_attempt(retry_state).failure.cls in LIMIT_CLASSES
        return limited and retry_state.upcoming_sleep > self.seconds

    def stop_run(self, failure: Failure) -> StopReason | None:
        return StopReason.RATE_LIMIT


class stop_past_deadline(Stop):
    """The retry would start after `deadline` (clock time). Ends the run when the wait is a rate limit's,
    which every other job would hit too; an ordinary backoff fails this call only."""

    reason = "deadline"

    def __init__(self, deadline: float, clock: Callable[[], float]) -> None:
        self.deadline = deadline
        self.clock = clock

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.clock() + retry_state.upcoming_sleep > self.deadline

    def stop_run(self, failure: Failure) -> StopReason | None:
        return StopReason.DEADLINE if failure.cls in LIMIT_CLASSES else None
