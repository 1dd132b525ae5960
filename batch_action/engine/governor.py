"""The rate-limit governor: shared by all workers, it decides how long a job waits before its next request.

* Primary limits: `observe()` reads `x-ratelimit-*` from every response, per bucket (`x-ratelimit-resource`).
  When a bucket's `remaining` drops under a reserve, requests wait for its reset, or the run stops (resumable)
  when the reset is further away than `max_limit_wait`: the caller decides, `ready_at()` only says when.
* Content-creating writes pass a token bucket (GitHub: ~80 content-creating requests/min documented,
  ~20 issues/min observed), first write immediate, small burst.
* AIMD on secondary limits: a hit pauses everyone for the wait and halves concurrency and write rate; each
  quiet period without a hit gives back one worker and 10 % of write rate, up to the configured values.

Thread-safe; time comes from an injected clock (epoch seconds: `x-ratelimit-reset` is epoch seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from .failures import Failure, FailureClass


class HasHeaders(Protocol):
    """Anything with response headers; `batch_action.sync.tracker.Response` fits."""

    @property
    def headers(self) -> Mapping[str, str]: ...


class WaitReason(StrEnum):
    PAUSE = "pause"  # everybody waits out a secondary limit another worker hit
    RESERVE = "primary-reserve"  # a bucket is nearly empty: wait for its reset
    WRITE_PACING = "write-pacing"  # token bucket for content-creating writes
    BREAKER = "breaker"  # circuit open
    # Retry sleeps after a failure are recorded under "retry:<class>".


LIMIT_WAIT_REASONS = frozenset({WaitReason.PAUSE.value, WaitReason.RESERVE.value})


def is_limit_wait(reason: str) -> bool:
    """Waits caused by GitHub's rate limits (as opposed to our own pacing or backoff after errors)."""
    if reason in LIMIT_WAIT_REASONS:
        return True
    return reason.startswith("retry:") and reason[6:] in {
        FailureClass.PRIMARY_LIMIT.value,
        FailureClass.SECONDARY_LIMIT.value,
        FailureClass.TOO_MANY.value,
    }


@dataclass(frozen=True)
class GovernorSettings:
    max_concurrency: int = 4
    writes_per_minute: float = 20.0
    write_burst: int = 1
    quiet_period: float = 60.0  # AIMD: time without a limit hit before concurrency/rate grow back
    reserve_min: int = 10
    reserve_fraction: float = 0.02
    min_writes_per_minute: float = 1.0
    increase_fraction: float = 0.1
    reset_margin: float = 1.0
    resource: str = "core"  # the bucket jobs are assumed to spend

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if self.writes_per_minute <= 0:
            raise ValueError("writes_per_minute must be > 0")


@dataclass(frozen=True)
class Bucket:
    resource: str
    limit: int
    remaining: int
    reset_at: float
    used: int | None = None


@dataclass(frozen=True)
class GovernorSnapshot:
    effective_concurrency: int
    writes_per_minute: float
    limit_hits: int
    waited: dict[str, float]
    buckets: dict[str, Bucket]
    paused_until: float


class Governor:
    def __init__(self, settings: GovernorSettings | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = s = settings or GovernorSettings()
        if s.max_concurrency < 1 or s.writes_per_minute <= 0:
            raise ValueError("max_concurrency must be >= 1 and writes_per_minute > 0")
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, Bucket] = {}
        self._concurrency = s.max_concurrency
        self._rate = float(s.writes_per_minute)
        self._tokens = float(max(1, s.write_burst))
        self._tokens_at = clock()
        self._paused_until = 0.0
        self._last_hit: float | None = None
        self._last_change = clock()
        self._limit_hits = 0
        self._hits_by_class: dict[str, int] = {}
        self._waited: dict[str, float] = {}

    # -- observing -------------------------------------------------------------------------------------------

    def observe(self, response: HasHeaders) -> None:
        """Called (from any worker thread) with every HTTP response; reads the x-ratelimit-* headers."""
        h = {k.lower(): v for k, v in response.headers.items()}
        try:
            limit = int(h["x-ratelimit-limit"])
            remaining = int(h["x-ratelimit-remaining"])
            reset_at = float(h["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return  # GHES with limits off, or a response without the headers
        resource = h.get("x-ratelimit-resource") or self.settings.resource
        used = h.get("x-ratelimit-used")
        bucket = Bucket(resource, limit, remaining, reset_at, int(used) if used and used.isdigit() else None)
        with self._lock:
            old = self._buckets.get(resource)
            # Responses from parallel workers arrive out of order: within one window keep the lowest count.
            if old is not None and old.reset_at == reset_at and old.remaining < remaining:
                return
            if old is not None and reset_at < old.reset_at and old.reset_at > self._clock():
                return  # a late response from the previous window
            self._buckets[resource] = bucket

    def reserve_for(self, bucket: Bucket) -> int:
        return max(self.settings.reserve_min, int(bucket.limit * self.settings.reserve_fraction))

    def on_failure(self, failure: Failure, until: float) -> None:
        """A request hit a limit; `until` is when its retry will go. Pause everyone and back off (AIMD)."""
        now = self._clock()
        with self._lock:
            if failure.cls is FailureClass.PRIMARY_LIMIT:
                self._count_hit(failure.cls)
                self._paused_until = max(self._paused_until, until)
                resource = failure.resource or self.settings.resource
                old = self._buckets.get(resource)
                if failure.reset_at is not None:
                    limit = old.limit if old else 0
                    self._buckets[resource] = Bucket(resource, limit, 0, failure.reset_at)
            elif failure.cls in (FailureClass.SECONDARY_LIMIT, FailureClass.TOO_MANY):
                self._count_hit(failure.cls)
                # Requests already in flight when the first hit came are the same episode: halve once.
                if now >= self._paused_until:
                    self._concurrency = max(1, self._concurrency // 2)
                    self._rate = max(self.settings.min_writes_per_minute, self._rate / 2)
                self._paused_until = max(self._paused_until, until)
                self._last_hit = now
                self._last_change = now

    def _count_hit(self, cls: FailureClass) -> None:
        self._limit_hits += 1
        self._hits_by_class[cls.value] = self._hits_by_class.get(cls.value, 0) + 1

    # -- deciding --------------------------------------------------------------------------------------------

    def ready_at(self, resource: str | None = None) -> tuple[float, WaitReason | None]:
        """When the next request may go: (time, why) or (now, None). Does not reserve anything."""
        now = self._clock()
        with self._lock:
            self._maintain(now)
            if self._paused_until > now:
                return self._paused_until, WaitReason.PAUSE
            b = self._buckets.get(resource or self.settings.resource)
            if b is not None and b.reset_at > now and b.remaining < self.reserve_for(b):
                return b.reset_at + self.settings.reset_margin, WaitReason.RESERVE
            return now, None

    def reserve_write(self) -> float:
        """Take a write token; returns the seconds to wait before sending (0 = now). Deterministic."""
        now = self._clock()
        with self._lock:
            self._maintain(now)
            per_second = self._rate / 60.0
            burst = float(max(1, self.settings.write_burst))
            self._tokens = min(burst, self._tokens + (now - self._tokens_at) * per_second)
            self._tokens_at = now
            self._tokens -= 1.0
            # A negative balance is a queue of reservations: each waits for its own token.
            return 0.0 if self._tokens >= 0 else -self._tokens / per_second

    def _maintain(self, now: float) -> None:
        """Additive increase: one step per quiet period since the last hit or increase."""
        s = self.settings
        if self._last_hit is None:
            return
        while now - self._last_change >= s.quiet_period:
            if self._concurrency >= s.max_concurrency and self._rate >= s.writes_per_minute:
                return
            self._last_change += s.quiet_period
            self._concurrency = min(s.max_concurrency, self._concurrency + 1)
            self._rate = min(float(s.writes_per_minute), self._rate * (1.0 + s.increase_fraction))

    # -- accounting and reporting ----------------------------------------------------------------------------

    def record_wait(self, reason: str, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._waited[reason] = self._waited.get(reason, 0.0) + seconds

    @property
    def effective_concurrency(self) -> int:
        with self._lock:
            self._maintain(self._clock())
            return self._concurrency

    @property
    def writes_per_minute(self) -> float:
        with self._lock:
            self._maintain(self._clock())
            return self._rate

    @property
    def limit_hits(self) -> int:
        with self._lock:
            return self._limit_hits

    def snapshot(self) -> GovernorSnapshot:
        with self._lock:
            self._maintain(self._clock())
            return GovernorSnapshot(
                effective_concurrency=self._concurrency,
                writes_per_minute=self._rate,
                limit_hits=self._limit_hits,
                waited=dict(self._waited),
                buckets=dict(self._buckets),
                paused_until=self._paused_until,
            )

    def hits_by_class(self) -> dict[str, int]:
        with self._lock:
            return dict(self._hits_by_class)
