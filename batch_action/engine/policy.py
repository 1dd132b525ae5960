"""The retry policy: tenacity is the only retry layer (PyGithub runs with `retry=None`).

Each retryable failure class has its own backoff. Server-dictated waits follow GitHub's documented order:
`retry-after` if present, else `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else at least a minute,
growing exponentially. A limit wait longer than `max_limit_wait` (or past the deadline) is not slept: the call
gives up with `stop_run` set, so the runner can end the run resumable instead of idling for an hour.

Sleep, clock and random are injected, so tests assert exact backoff sequences without sleeping.
"""

from __future__ import annotations

import random as _random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

import tenacity

from .failures import LIMIT_CLASSES, Classifier, Failure, FailureClass

T = TypeVar("T")


class StopReason(StrEnum):
    """Why a run ended before every job was tried."""

    SIGNAL = "signal"
    DEADLINE = "deadline"
    BREAKER = "breaker"
    RATE_LIMIT = "rate-limit"
    STOP_ON_ERROR = "stop-on-error"
    AUTH = "auth"


@dataclass(frozen=True)
class Attempt:
    """Passed to the execute callable: which attempt this is and how the previous one failed."""

    number: int  # 1-based
    previous: Failure | None = None


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: base * factor**(n-1), capped; n counts failures of this class within one job."""

    base: float
    factor: float = 2.0
    cap: float = 60.0

    def raw(self, nth: int) -> float:
        return float(min(self.cap, self.base * self.factor ** max(0, nth - 1)))


DEFAULT_BACKOFF: Mapping[FailureClass, Backoff] = MappingProxyType(
    {
        FailureClass.CONNECTION: Backoff(1.0, 2.0, 30.0),
        FailureClass.TIMEOUT: Backoff(1.0, 2.0, 30.0),
        FailureClass.SERVER: Backoff(2.0, 2.0, 60.0),
        FailureClass.TOO_MANY: Backoff(5.0, 2.0, 120.0),
        # GitHub: "wait for at least one minute before retrying ... an exponentially increasing amount".
        FailureClass.SECONDARY_LIMIT: Backoff(60.0, 2.0, 600.0),
        FailureClass.PRIMARY_LIMIT: Backoff(60.0, 2.0, 600.0),
    }
)


@dataclass(frozen=True)
class RetrySettings:
    max_retries: int = 5  # retries after the first attempt, all classes together
    max_limit_wait: float = 900.0  # a longer rate-limit wait ends the run (resumable) instead
    jitter: float = 0.1  # exponential waits grow by up to this fraction (random in [0, 1))
    limit_jitter: float = 1.0  # server-dictated waits grow by up to this many seconds
    reset_margin: float = 1.0  # added to x-ratelimit-reset: clocks differ
    backoff: Mapping[FailureClass, Backoff] = field(default_factory=lambda: DEFAULT_BACKOFF)


@dataclass(frozen=True)
class RetryNotice:
    """Given to `before_sleep`: attempt `attempt` failed with `failure`; the next one starts in `delay` s."""

    attempt: int
    failure: Failure
    delay: float


class GaveUp(Exception):
    """The call failed for good.

    `reason`: "not-retryable" | "max-retries" | "halted" (stop requested) | "limit-wait" (a rate-limit wait
    longer than max_limit_wait) | "deadline". `stop_run` is set when the whole run should stop.
    """

    def __init__(self, failure: Failure, attempts: int, reason: str, stop_run: StopReason | None = None) -> None:
        super().__init__(f"{failure.cls}: {failure.message} (after {attempts} attempt(s), {reason})")
        self.failure = failure
        self.attempts = attempts
        self.reason = reason
        self.stop_run = stop_run


class _AttemptFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _failure_of(rs: tenacity.RetryCallState) -> Failure:
    assert rs.outcome is not None
    exc = rs.outcome.exception()
    assert isinstance(exc, _AttemptFailed)
    return exc.failure


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _AttemptFailed) and exc.failure.retryable


class RetryPolicy:
    def __init__(
        self,
        settings: RetrySettings | None = None,
        *,
        classifier: Classifier,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.settings = settings or RetrySettings()
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._classify = classifier

    def delay(self, failure: Failure, nth: int, now: float) -> float:
        """Seconds to wait before retrying after the `nth` failure of `failure.cls` within one job."""
        s = self.settings
        cls = failure.cls
        if cls in LIMIT_CLASSES:
            if failure.retry_after is not None:
                return failure.retry_after + s.limit_jitter * self._random()
            exhausted = failure.remaining == 0 or cls is FailureClass.PRIMARY_LIMIT
            if exhausted and failure.reset_at is not None:
                return max(0.0, failure.reset_at - now) + s.reset_margin + s.limit_jitter * self._random()
        backoff = s.backoff.get(cls)
        if backoff is None:
            return 0.0
        raw = backoff.raw(nth)
        return min(backoff.cap, raw * (1.0 + s.jitter * self._random()))

    def call(
        self,
        fn: Callable[[Attempt], T],
        *,
        writes: bool,
        before_attempt: Callable[[Attempt], None] | None = None,
        after_attempt: Callable[[Attempt, Failure | None], None] | None = None,
        before_sleep: Callable[[RetryNotice], None] | None = None,
        halted: Callable[[], bool] | None = None,
        deadline: float | None = None,
    ) -> T:
        """Run `fn` under the policy; returns its value or raises `GaveUp`.

        `before_attempt` may raise to abandon the call (the exception propagates unchanged);
        `after_attempt` sees each attempt's failure (None on success) before the retry decision;
        `halted()` true means: no new attempt and no new sleep.
        """
        s = self.settings
        is_halted = halted or (lambda: False)
        counts: Counter[FailureClass] = Counter()
        decision: dict[str, object] = {}

        def wait(rs: tenacity.RetryCallState) -> float:
            f = _failure_of(rs)
            return self.delay(f, counts[f.cls], self._clock())

        def stop(rs: tenacity.RetryCallState) -> bool:
            # tenacity computes the wait first, so the upcoming sleep is known here.
            f = _failure_of(rs)
            if is_halted():
                decision["reason"] = "halted"
                return True
            if rs.attempt_number > s.max_retries:
                decision["reason"] = "max-retries"
                return True
            pause = rs.upcoming_sleep
            if f.cls in LIMIT_CLASSES and pause > s.max_limit_wait:
                decision.update(reason="limit-wait", stop_run=StopReason.RATE_LIMIT)
                return True
            if deadline is not None and self._clock() + pause > deadline:
                decision["reason"] = "deadline"
                if f.cls in LIMIT_CLASSES:
                    decision["stop_run"] = StopReason.DEADLINE
                return True
            return False

        def notify(rs: tenacity.RetryCallState) -> None:
            if before_sleep is not None:
                before_sleep(RetryNotice(rs.attempt_number, _failure_of(rs), rs.upcoming_sleep))

        retrying = tenacity.Retrying(
            sleep=self._sleep,
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception(_retryable),
            before_sleep=notify,
            reraise=True,
        )
        previous: Failure | None = None
        attempts = 0
        result: list[T] = []
        try:
            for attempt_manager in retrying:
                with attempt_manager:
                    attempts = attempt_manager.retry_state.attempt_number
                    if previous is not None and is_halted():
                        # A stop came during the sleep: do not start another attempt.
                        raise GaveUp(previous, attempts - 1, "halted")
                    attempt = Attempt(attempts, previous)
                    if before_attempt is not None:
                        before_attempt(attempt)
                    try:
                        value = fn(attempt)
                    except Exception as exc:
                        failure = self._classify(exc, writes=writes, now=self._clock())
                        counts[failure.cls] += 1
                        previous = failure
                        if after_attempt is not None:
                            after_attempt(attempt, failure)
                        raise _AttemptFailed(failure) from exc
                    if after_attempt is not None:
                        after_attempt(attempt, None)
                    result.append(value)
        except _AttemptFailed as exc:
            f = exc.failure
            reason = str(decision.get("reason") or ("not-retryable" if not f.retryable else "max-retries"))
            stop_run = decision.get("stop_run")
            assert stop_run is None or isinstance(stop_run, StopReason)
            raise GaveUp(f, attempts, reason, stop_run) from exc.__cause__
        return result[0]
