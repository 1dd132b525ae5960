"""How long to wait before a retry: a tenacity wait strategy by failure class.

Each retryable class has its own backoff, counted per class within one call. Server-dictated waits follow
GitHub's documented order (github-api.md §1): `retry-after` if present, else `x-ratelimit-reset` when
`x-ratelimit-remaining` is 0, else at least a minute, growing exponentially. Clock and random are injected,
so tests assert exact sequences. Callers that back off by attempt alone use tenacity's own strategies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import tenacity

from .failures import LIMIT_CLASSES, Failure, FailureClass
from .stops import failed_attempt


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


class wait_by_class(tenacity.wait.wait_base):
    def __init__(
        self,
        backoff: Mapping[FailureClass, Backoff] = DEFAULT_BACKOFF,
        *,
        jitter: float = 0.1,  # exponential waits grow by up to this fraction
        limit_jitter: float = 1.0,  # server-dictated waits grow by up to this many seconds
        reset_margin: float = 1.0,  # added to x-ratelimit-reset: clocks differ
        clock: Callable[[], float],
        random: Callable[[], float],  # in [0, 1)
    ) -> None:
        self.backoff = backoff
        self.jitter = jitter
        self.limit_jitter = limit_jitter
        self.reset_margin = reset_margin
        self.clock = clock
        self.random = random

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        attempt = failed_attempt(retry_state)
        return self.delay(attempt.failure, attempt.nth, self.clock())

    def delay(self, failure: Failure, nth: int, now: float) -> float:
        """Seconds to wait before retrying after the `nth` failure of `failure.cls` within one call."""
        cls = failure.cls
        if cls in LIMIT_CLASSES:
            if failure.retry_after is not None:
                return failure.retry_after + self.limit_jitter * self.random()
            exhausted = failure.remaining == 0 or cls is FailureClass.PRIMARY_LIMIT
            if exhausted and failure.reset_at is not None:
                return max(0.0, failure.reset_at - now) + self.reset_margin + self.limit_jitter * self.random()
        backoff = self.backoff.get(cls)
        if backoff is None:
            return 0.0
        return min(backoff.cap, backoff.raw(nth) * (1.0 + self.jitter * self.random()))
