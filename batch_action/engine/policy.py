"""The one retry loop: tenacity, with the stop and wait strategies its caller composes and the caller's
`Classifier` for what the call raises. PyGithub runs with `retry=None`: this is the only retry layer.

Jobs and the listing before the engine starts use `standard_retrier` (per-class backoff, server-dictated limit
waits, bounded by retries, `max_limit_wait` and the deadline); the artifact transport composes its own from
tenacity's strategies. A limit wait longer than `max_limit_wait` (or past the deadline) is not slept: the call
gives up with `stop_run` set, so the runner can end the run resumable instead of idling for an hour.

Sleep, clock and random are injected, so tests assert exact backoff sequences without sleeping.
"""

from __future__ import annotations

import random as _random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import tenacity

from .failures import Classifier, Failure, FailureClass
from .stops import (
    FailedAttempt,
    FirstStop,
    Stop,
    StopReason,
    failed_attempt,
    stop_after_retries,
    stop_limit_wait_over,
    stop_past_deadline,
    stop_when_halted,
)
from .waits import DEFAULT_BACKOFF, Backoff, wait_by_class

T = TypeVar("T")
Wait = Callable[[tenacity.RetryCallState], float]

__all__ = ["Attempt", "GaveUp", "Retrier", "RetryNotice", "RetrySettings", "StopReason", "standard_retrier"]


@dataclass(frozen=True)
class Attempt:
    """Passed to the called function: which attempt this is and how the previous one failed."""

    number: int  # 1-based
    previous: Failure | None = None


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

    `reason`: "not-retryable", or the `Stop.reason` that ended it: "max-retries" | "halted" (stop requested) |
    "limit-wait" (a rate-limit wait longer than max_limit_wait) | "deadline". `stop_run` is set when the whole
    run should stop.
    """

    def __init__(self, failure: Failure, attempts: int, reason: str, stop_run: StopReason | None = None) -> None:
        super().__init__(f"{failure.cls}: {failure.message} (after {attempts} attempt(s), {reason})")
        self.failure = failure
        self.attempts = attempts
        self.reason = reason
        self.stop_run = stop_run


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, FailedAttempt) and exc.failure.retryable


def _never() -> bool:
    return False


class Retrier:
    """Calls a function until it succeeds, its failure is not retryable, or `stop` fires.

    Exceptions of `retry_on` types are classified; anything else (a caller's own typed errors, or what
    `before_attempt` raises) propagates unchanged, unretried. Thread-safe: each call keeps its own state.
    """

    def __init__(
        self,
        classifier: Classifier,
        *,
        stop: Stop | FirstStop,
        wait: Wait,
        sleep: Callable[[float], None],
        clock: Callable[[], float] = time.time,
        retry_on: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        self._classify = classifier
        self._stops = stop.named if isinstance(stop, FirstStop) else (stop,)
        self._wait = wait
        self._sleep = sleep
        self._clock = clock
        self._retry_on = retry_on

    def call(
        self,
        fn: Callable[[Attempt], T],
        *,
        writes: bool = False,
        halted: Callable[[], bool] | None = None,
        before_attempt: Callable[[Attempt], None] | None = None,
        after_attempt: Callable[[Attempt, Failure | None], None] | None = None,
        before_sleep: Callable[[RetryNotice], None] | None = None,
    ) -> T:
        """Run `fn`; returns its value or raises `GaveUp`.

        `halted()` true means: no new attempt and no new sleep. `before_attempt` may raise to abandon the call;
        `after_attempt` sees each attempt's failure (None on success) before the retry decision.
        """
        is_halted = halted or _never
        stop = FirstStop(stop_when_halted(is_halted), *self._stops)
        counts: Counter[FailureClass] = Counter()
        fired: list[Stop] = []

        def should_stop(state: tenacity.RetryCallState) -> bool:
            first = stop.first(state)  # tenacity has computed the wait: the upcoming sleep is known here
            if first is not None:
                fired.append(first)
            return first is not None

        def notify(state: tenacity.RetryCallState) -> None:
            if before_sleep is not None:
                before_sleep(RetryNotice(state.attempt_number, failed_attempt(state).failure, state.upcoming_sleep))

        retrying = tenacity.Retrying(
            sleep=self._sleep,
            stop=should_stop,
            wait=self._wait,
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
                        raise GaveUp(previous, attempts - 1, stop_when_halted.reason)
                    attempt = Attempt(attempts, previous)
                    if before_attempt is not None:
                        before_attempt(attempt)
                    try:
                        value = fn(attempt)
                    except self._retry_on as exc:
                        failure = self._classify(exc, writes=writes, now=self._clock())
                        counts[failure.cls] += 1
                        previous = failure
                        if after_attempt is not None:
                            after_attempt(attempt, failure)
                        raise FailedAttempt(failure, counts[failure.cls]) from exc
                    if after_attempt is not None:
                        after_attempt(attempt, None)
                    result.append(value)
        except FailedAttempt as exc:
            failure = exc.failure
            if not fired:
                raise GaveUp(failure, attempts, "not-retryable") from exc.__cause__
            raise GaveUp(failure, attempts, fired[-1].reason, fired[-1].stop_run(failure)) from exc.__cause__
        return result[0]


def standard_retrier(
    settings: RetrySettings,
    *,
    classifier: Classifier,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    random: Callable[[], float] = _random.random,
    deadline: float | None = None,
) -> Retrier:
    """The retries of the engine's jobs and of the reads before it starts."""
    stop = stop_after_retries(settings.max_retries) | stop_limit_wait_over(settings.max_limit_wait)
    if deadline is not None:
        stop |= stop_past_deadline(deadline, clock)
    wait = wait_by_class(
        settings.backoff,
        jitter=settings.jitter,
        limit_jitter=settings.limit_jitter,
        reset_margin=settings.reset_margin,
        clock=clock,
        random=random,
    )
    return Retrier(classifier, stop=stop, wait=wait, sleep=sleep, clock=clock)
