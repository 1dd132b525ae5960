"""Every circuit-breaker transition, with an injected clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from batch_action.engine.breaker import BreakerState, CircuitBreaker, Permit
from batch_action.engine.failures import FailureClass

NOW = 1_700_000_000.0
SERVER = FailureClass.SERVER


@dataclass
class Clock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


def state(b: CircuitBreaker) -> BreakerState:
    return b.state  # a call, so mypy does not keep a narrowed property across transitions


def breaker(clock: Clock, **kw: object) -> CircuitBreaker:
    return CircuitBreaker(clock=clock, **kw)  # type: ignore[arg-type]


def open_it(b: CircuitBreaker, n: int = 5) -> None:
    for _ in range(n):
        b.record_failure(SERVER)


def test_closed_allows_and_counts_consecutive_failures() -> None:
    b = breaker(Clock())
    assert b.acquire() == Permit(True)
    open_it(b, 4)
    assert state(b) is BreakerState.CLOSED
    b.record_failure(SERVER)
    assert state(b) is BreakerState.OPEN
    assert b.times_opened == 1 and b.last_class is SERVER


def test_success_resets_the_streak() -> None:
    b = breaker(Clock())
    open_it(b, 4)
    b.record_success()
    open_it(b, 4)
    assert state(b) is BreakerState.CLOSED


def test_a_different_class_restarts_the_streak() -> None:
    b = breaker(Clock())
    open_it(b, 4)
    b.record_failure(FailureClass.TIMEOUT)
    open_it(b, 4)
    assert state(b) is BreakerState.CLOSED
    b.record_failure(SERVER)
    assert state(b) is BreakerState.OPEN


def test_uncounted_classes_break_the_streak() -> None:
    b = breaker(Clock())
    open_it(b, 4)
    b.record_failure(FailureClass.ITEM)  # a 404 is an answer: the API is up
    open_it(b, 4)
    assert state(b) is BreakerState.CLOSED
    for _ in range(10):
        b.record_failure(FailureClass.ITEM)
    assert state(b) is BreakerState.CLOSED


def test_open_refuses_until_the_cooldown_ends() -> None:
    clock = Clock()
    b = breaker(clock, cooldown=30)
    open_it(b)
    assert b.acquire() == Permit(False, retry_at=NOW + 30)
    clock.now = NOW + 29.9
    assert not b.acquire().allowed


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    b = breaker(clock, cooldown=30, probe_poll=1.0)
    open_it(b)
    clock.now = NOW + 30
    assert b.acquire() == Permit(True, probe=True)
    assert state(b) is BreakerState.HALF_OPEN
    assert b.acquire() == Permit(False, retry_at=NOW + 31)


def test_probe_success_closes_and_resets_cooldown() -> None:
    clock = Clock()
    b = breaker(clock, cooldown=30)
    open_it(b)
    clock.now = NOW + 30
    b.acquire()
    b.record_failure(SERVER, probe=True)  # cooldown doubles to 60
    assert b.cooldown == 60
    clock.now = NOW + 90
    assert b.acquire().probe
    b.record_success(probe=True)
    assert state(b) is BreakerState.CLOSED
    assert b.cooldown == 30 and b.failed_probes == 0
    assert b.acquire() == Permit(True)


def test_probe_failure_reopens_with_doubled_cooldown() -> None:
    clock = Clock()
    b = breaker(clock, cooldown=30)
    open_it(b)
    clock.now = NOW + 30
    b.acquire()
    b.record_failure(SERVER, probe=True)
    assert state(b) is BreakerState.OPEN
    assert b.failed_probes == 1
    assert b.acquire() == Permit(False, retry_at=NOW + 30 + 60)


def test_probe_answered_with_an_item_error_closes() -> None:
    clock = Clock()
    b = breaker(clock)
    open_it(b)
    clock.now = NOW + 30
    b.acquire()
    b.record_failure(FailureClass.ITEM, probe=True)
    assert state(b) is BreakerState.CLOSED


def test_k_failed_probes_trip_for_good() -> None:
    clock = Clock()
    b = breaker(clock, cooldown=30, max_failed_probes=3)
    open_it(b)
    waits = []
    for _ in range(3):
        permit = b.acquire()
        assert not permit.allowed and permit.retry_at is not None
        waits.append(permit.retry_at - clock.now)
        clock.now = permit.retry_at
        assert b.acquire().probe
        b.record_failure(SERVER, probe=True)
    assert waits == [30, 60, 120]
    assert state(b) is BreakerState.TRIPPED
    assert b.acquire() == Permit(False, tripped=True)
    b.record_success(probe=True)  # nothing brings it back
    assert state(b) is BreakerState.TRIPPED


def test_cooldown_is_capped() -> None:
    clock = Clock()
    b = breaker(clock, cooldown=100, max_cooldown=150, max_failed_probes=5)
    open_it(b)
    for _ in range(3):
        clock.now += 1000
        b.acquire()
        b.record_failure(SERVER, probe=True)
    assert b.cooldown == 150


def test_results_of_requests_already_in_flight_are_ignored_while_open() -> None:
    clock = Clock()
    b = breaker(clock)
    open_it(b)
    b.record_success()  # started before the breaker opened
    b.record_failure(SERVER)
    assert state(b) is BreakerState.OPEN
    clock.now = NOW + 30
    b.acquire()
    b.record_success(probe=False)
    assert state(b) is BreakerState.HALF_OPEN


def test_released_probe_can_be_taken_again() -> None:
    clock = Clock()
    b = breaker(clock)
    open_it(b)
    clock.now = NOW + 30
    assert b.acquire().probe
    b.release_probe()
    assert b.acquire().probe


def test_bad_settings() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=0)
