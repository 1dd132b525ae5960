"""Every HTTP response the run saw, summarised: requests by endpoint, method and status; latencies; timeline.

The GitHub adapter calls `RequestLog.record` for each response (from worker threads). Only small numbers are
kept per request, so 10,000 items cost little memory.
"""

from __future__ import annotations

import math
import re
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from batch_action.sync.tracker import RateLimit, Response

_NUMBER_RE = re.compile(r"/\d+(?=/|$)")
_REPO_RE = re.compile(r"^/(?:api/v3/)?repos/[^/]+/[^/]+")
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def endpoint(url: str) -> str:
    """`https://api.github.com/repos/o/r/issues/12/sub_issues?x=1` -> `/repos/{o}/{r}/issues/{n}/sub_issues`."""
    path = urlsplit(url).path or url
    path = _REPO_RE.sub("/repos/{o}/{r}", path)
    return _NUMBER_RE.sub("/{n}", path)


@dataclass
class RequestLog:
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    by_call: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    # Plain doubles (8 bytes each), not a list of float objects (32): one entry per request of the run.
    latencies: array[float] = field(default_factory=lambda: array("d"))
    write_times: array[float] = field(default_factory=lambda: array("d"))  # seconds since start, per write
    limit_responses: int = 0
    # The primary budget as GitHub reported it, per `x-ratelimit-resource`: (limit, remaining, reset epoch or
    # None) of its current window, as the latest replies report it.
    budgets: dict[str, tuple[int, int, float | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def record(self, response: Response) -> None:
        method = response.method.upper()
        key = (method, endpoint(response.url), response.status)
        now = self.clock() - self.started
        limited = response.status in (403, 429) and (
            "retry-after" in response.headers or response.headers.get("x-ratelimit-remaining") == "0"
        )
        budget = _budget(response.headers)
        with self._lock:
            self.by_call[key] += 1
            self.latencies.append(response.elapsed)
            if method in WRITE_METHODS:
                self.write_times.append(now)
            if limited:
                self.limit_responses += 1
            if budget is not None:
                resource, limit, remaining, reset = budget
                # A later reset is a new window. Within one, replies arrive out of order from several threads:
                # the lowest remaining is the latest truth.
                seen = self.budgets.get(resource)
                if seen is None or _later(reset, seen[2]) or (not _later(seen[2], reset) and remaining < seen[1]):
                    self.budgets[resource] = (limit, remaining, reset)

    def latest_budget(self, resource: str = "core") -> RateLimit | None:
        """The budget as the replies seen so far report it (the same bucket `GET /rate_limit` reads, without
        the request); None before any reply carried it."""
        with self._lock:
            seen = self.budgets.get(resource)
        if seen is None:
            return None
        limit, remaining, reset = seen
        return RateLimit(limit, remaining, reset) if reset is not None else None  # no reset: nothing to plan with

    @property
    def total(self) -> int:
        return sum(self.by_call.values())

    @property
    def writes(self) -> int:
        return sum(n for (method, _, _), n in self.by_call.items() if method in WRITE_METHODS)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            latencies = sorted(self.latencies)
            rows = sorted(self.by_call.items())
            writes = array("d", self.write_times)  # a copy of doubles, not of float objects (4 times the size)
        return {
            "total": sum(n for _, n in rows),
            "reads": sum(n for (m, _, _), n in rows if m not in WRITE_METHODS),
            "writes": sum(n for (m, _, _), n in rows if m in WRITE_METHODS),
            "limit_responses": self.limit_responses,
            "by_endpoint": [{"method": m, "endpoint": e, "status": s, "count": n} for (m, e, s), n in rows],
            "latency_seconds": {f"p{p}": round(_percentile(latencies, p), 4) for p in (50, 90, 95, 99)}
            | {"max": round(latencies[-1], 4) if latencies else 0.0},
            "writes_per_minute_timeline": _timeline(writes),
            "rate_limits": {r: {"limit": lim, "remaining": rem} for r, (lim, rem, _) in sorted(self.budgets.items())},
        }


def _budget(headers: Mapping[str, str]) -> tuple[str, int, int, float | None] | None:
    """(resource, limit, remaining, reset epoch or None when absent) from a reply's headers; untrusted, so None
    when any of them is malformed."""
    try:
        limit, remaining = int(headers["x-ratelimit-limit"]), int(headers["x-ratelimit-remaining"])
    except (KeyError, ValueError):
        return None
    text = headers.get("x-ratelimit-reset")
    try:
        reset = float(text) if text is not None else None
    except ValueError:
        return None
    if reset is not None and not math.isfinite(reset):
        return None
    return headers.get("x-ratelimit-resource", "core"), limit, remaining, reset


def _later(reset: float | None, than: float | None) -> bool:
    """Whether `reset` names a later window than `than` (a reply without one is taken as the same window)."""
    return reset is not None and than is not None and reset > than


def _percentile(values: list[float], p: int) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[index]


def _timeline(write_times: Sequence[float], buckets: int = 12) -> list[dict[str, float]]:
    """Writes per minute over the run, in up to `buckets` equal slices (for the throughput picture)."""
    if not write_times:
        return []
    end = max(write_times)
    width = max(end / buckets, 1.0)
    counts = Counter(min(int(t // width), buckets - 1) for t in write_times)
    return [
        {"t": round(i * width, 2), "writes_per_minute": round(counts.get(i, 0) * 60.0 / width, 1)}
        for i in range(min(buckets, int(end // width) + 1))
    ]
