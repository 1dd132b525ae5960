"""The rate-limit governor: buckets from headers, reserve waits, write token bucket, AIMD. Injected clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from batch_action.engine.failures import Failure, FailureClass
from batch_action.engine.governor import Governor, GovernorSettings, WaitReason, is_limit_wait
from batch_action.sync.tracker import Response

NOW = 1_700_000_000.0


@dataclass
class Clock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Headers:
    headers: Mapping[str, str] = field(default_factory=dict)


def rl(remaining: int, *, limit: int = 1000, reset: float = NOW + 600, resource: str = "core") -> Response:
    return Response(
        method="GET",
        url="https://api.github.com/repos/o/r/issues",
        status=200,
        headers={
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(int(reset)),
            "x-ratelimit-used": str(limit - remaining),
            "x-ratelimit-resource": resource,
        },
    )


def gov(clock: Clock, **kw: object) -> Governor:
    return Governor(GovernorSettings(**kw), clock=clock)  # type: ignore[arg-type]


def limit_failure(cls: FailureClass, **kw: object) -> Failure:
    return Failure(cls, 403, "limit", retryable=True, **kw)  # type: ignore[arg-type]


def test_observe_tracks_each_bucket() -> None:
    clock = Clock()
    g = gov(clock)
    g.observe(rl(900))
    g.observe(rl(25, limit=30, resource="search"))
    b = g.snapshot().buckets
    assert b["core"].remaining == 900 and b["core"].limit == 1000 and b["core"].used == 100
    assert b["search"].remaining == 25


def test_out_of_order_responses_keep_the_lowest_remaining() -> None:
    clock = Clock()
    g = gov(clock)
    g.observe(rl(500))
    g.observe(rl(510))  # a slower response from earlier
    assert g.snapshot().buckets["core"].remaining == 500
    g.observe(rl(999, reset=NOW + 4200))  # the next window
    assert g.snapshot().buckets["core"].remaining == 999


def test_responses_without_headers_are_ignored() -> None:
    g = gov(Clock())
    g.observe(Headers({"content-type": "application/json"}))
    g.observe(Headers({"X-RateLimit-Limit": "x", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "1"}))
    assert g.snapshot().buckets == {}
    assert g.ready_at() == (NOW, None)


def test_header_names_are_case_insensitive() -> None:
    g = gov(Clock())
    g.observe(Headers({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "1700000100"}))
    assert g.ready_at() == (NOW + 101, WaitReason.RESERVE)


def test_reserve_is_max_of_ten_and_two_percent() -> None:
    clock = Clock()
    g = gov(clock)
    g.observe(rl(10, limit=1000))  # reserve 20 for a 1,000/h GITHUB_TOKEN
    assert g.ready_at() == (NOW + 601, WaitReason.RESERVE)
    g2 = gov(clock)
    g2.observe(rl(15, limit=60))  # reserve 10
    assert g2.ready_at() == (NOW, None)
    g3 = gov(clock)
    g3.observe(rl(99, limit=5000))  # reserve 100
    assert g3.ready_at()[1] is WaitReason.RESERVE


def test_reserve_wait_ends_once_reset_has_passed() -> None:
    clock = Clock()
    g = gov(clock)
    g.observe(rl(0, reset=NOW + 30))
    assert g.ready_at() == (NOW + 31, WaitReason.RESERVE)
    clock.now = NOW + 31
    assert g.ready_at() == (NOW + 31, None)


def test_other_buckets_do_not_block_core() -> None:
    g = gov(Clock())
    g.observe(rl(0, limit=30, resource="search"))
    assert g.ready_at() == (NOW, None)
    assert g.ready_at("search")[1] is WaitReason.RESERVE


def test_write_token_bucket_first_immediate_then_paced() -> None:
    clock = Clock()
    g = gov(clock, writes_per_minute=20, write_burst=1)
    assert [g.reserve_write() for _ in range(4)] == [0.0, 3.0, 6.0, 9.0]
    clock.now += 12  # all reservations served: bucket back to empty, then one token in 3 s
    assert g.reserve_write() == pytest.approx(0.0)
    assert g.reserve_write() == pytest.approx(3.0)


def test_write_burst_allows_a_few_at_once() -> None:
    g = gov(Clock(), writes_per_minute=30, write_burst=3)
    assert [g.reserve_write() for _ in range(5)] == [0.0, 0.0, 0.0, 2.0, 4.0]


def test_secondary_limit_pauses_everyone_and_halves() -> None:
    clock = Clock()
    g = gov(clock, max_concurrency=8, writes_per_minute=20)
    g.on_failure(limit_failure(FailureClass.SECONDARY_LIMIT, retry_after=60.0), until=NOW + 60)
    assert g.effective_concurrency == 4
    assert g.writes_per_minute == 10
    assert g.ready_at() == (NOW + 60, WaitReason.PAUSE)
    assert g.limit_hits == 1
    assert g.hits_by_class() == {"secondary-limit": 1}


def test_hits_during_the_pause_are_one_episode() -> None:
    clock = Clock()
    g = gov(clock, max_concurrency=8, writes_per_minute=20)
    g.on_failure(limit_failure(FailureClass.SECONDARY_LIMIT), until=NOW + 60)
    clock.now = NOW + 1
    g.on_failure(limit_failure(FailureClass.SECONDARY_LIMIT), until=NOW + 61)  # was in flight already
    assert (g.effective_concurrency, g.writes_per_minute) == (4, 10)
    assert g.ready_at() == (NOW + 61, WaitReason.PAUSE)
    assert g.limit_hits == 2


def test_aimd_floors_at_one() -> None:
    clock = Clock()
    g = gov(clock, max_concurrency=3, writes_per_minute=3)
    for _ in range(5):
        g.on_failure(limit_failure(FailureClass.TOO_MANY), until=clock.now)
    assert g.effective_concurrency == 1
    assert g.writes_per_minute == 1.0


def test_additive_increase_after_quiet_periods() -> None:
    clock = Clock()
    g = gov(clock, max_concurrency=8, writes_per_minute=20, quiet_period=60)
    g.on_failure(limit_failure(FailureClass.SECONDARY_LIMIT), until=NOW + 60)
    clock.now = NOW + 59
    assert (g.effective_concurrency, g.writes_per_minute) == (4, 10)
    clock.now = NOW + 60
    assert g.effective_concurrency == 5 and g.writes_per_minute == pytest.approx(11)
    clock.now = NOW + 120
    assert g.effective_concurrency == 6 and g.writes_per_minute == pytest.approx(12.1)
    clock.now = NOW + 3600
    assert (g.effective_concurrency, g.writes_per_minute) == (8, 20)


def test_a_new_hit_restarts_the_quiet_period() -> None:
    clock = Clock()
    g = gov(clock, max_concurrency=8, quiet_period=60)
    g.on_failure(limit_failure(FailureClass.SECONDARY_LIMIT), until=NOW)
    clock.now = NOW + 50
    g.on_failure(limit_failure(FailureClass.SECONDARY_LIMIT), until=NOW + 50)
    assert g.effective_concurrency == 2
    clock.now = NOW + 100
    assert g.effective_concurrency == 2
    clock.now = NOW + 110
    assert g.effective_concurrency == 3


def test_primary_limit_pauses_and_empties_the_bucket_without_aimd() -> None:
    clock = Clock()
    g = gov(clock, max_concurrency=4)
    g.observe(rl(400))
    failure = limit_failure(FailureClass.PRIMARY_LIMIT, reset_at=NOW + 200, remaining=0, resource="core")
    g.on_failure(failure, until=NOW + 201)
    assert g.effective_concurrency == 4
    assert g.snapshot().buckets["core"].remaining == 0
    assert g.ready_at() == (NOW + 201, WaitReason.PAUSE)


def test_waits_are_accounted_by_reason() -> None:
    g = gov(Clock())
    g.record_wait("pause", 10)
    g.record_wait("pause", 5)
    g.record_wait("write-pacing", 3)
    g.record_wait("retry:server", 0)
    assert g.snapshot().waited == {"pause": 15, "write-pacing": 3}


def test_limit_wait_reasons() -> None:
    assert is_limit_wait("pause") and is_limit_wait("primary-reserve")
    assert is_limit_wait("retry:secondary-limit") and is_limit_wait("retry:too-many")
    assert not is_limit_wait("retry:server") and not is_limit_wait("write-pacing") and not is_limit_wait("breaker")


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        gov(Clock(), max_concurrency=0)
