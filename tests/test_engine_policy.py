"""The tenacity-based retrier: exact backoff per class, server-dictated waits, bounds, composed stops. No sleeping."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from batch_action.engine.failures import FailureClass
from batch_action.engine.policy import (
    Attempt,
    GaveUp,
    Retrier,
    RetryNotice,
    RetrySettings,
    StopReason,
    standard_retrier,
)
from batch_action.engine.stops import FirstStop, stop_after_retries, stop_limit_wait_over, stop_past_deadline
from batch_action.engine.waits import wait_by_class
from tests.engine_faults import (
    Fault,
    classify_faults,
    connection_error,
    not_found,
    primary_limit,
    read_timeout,
    secondary_limit,
    server_error,
)

NOW = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(float(seconds), 6))
        self.now += float(seconds)


def policy(clock: FakeClock, *, r: float = 0.0, deadline: float | None = None, **settings: object) -> Retrier:
    return standard_retrier(
        RetrySettings(**settings),  # type: ignore[arg-type]
        classifier=classify_faults,
        clock=clock,
        sleep=clock.sleep,
        random=lambda: r,
        deadline=deadline,
    )


def failing(errors: list[BaseException], result: object = "ok") -> tuple[Callable[[Attempt], object], list[Attempt]]:
    """A callable that raises the given errors in turn, then returns `result`; it records its attempts."""
    seen: list[Attempt] = []

    def fn(attempt: Attempt) -> object:
        seen.append(attempt)
        if len(seen) <= len(errors):
            raise errors[len(seen) - 1]
        return result

    return fn, seen


def test_server_backoff_sequence_exact() -> None:
    clock = FakeClock()
    fn, seen = failing([server_error() for _ in range(5)])
    assert policy(clock, max_retries=5).call(fn, writes=False) == "ok"
    assert clock.sleeps == [2, 4, 8, 16, 32]
    assert [a.number for a in seen] == [1, 2, 3, 4, 5, 6]
    assert seen[0].previous is None
    assert all(a.previous is not None and a.previous.cls is FailureClass.SERVER for a in seen[1:])


def test_server_backoff_with_deterministic_jitter_and_cap() -> None:
    clock = FakeClock()
    fn, _ = failing([server_error() for _ in range(7)])
    policy(clock, r=0.5, jitter=0.1, max_retries=7).call(fn, writes=False)
    # raw 2,4,8,16,32,60(cap),60 each * 1.05, then capped at 60
    assert clock.sleeps == [2.1, 4.2, 8.4, 16.8, 33.6, 60, 60]


@pytest.mark.parametrize(
    "make",
    [connection_error, read_timeout],
    ids=["connection", "timeout"],
)
def test_connection_and_timeout_backoff_exact(make: Callable[[], BaseException]) -> None:
    clock = FakeClock()
    fn, _ = failing([make() for _ in range(6)])
    policy(clock, max_retries=6).call(fn, writes=True)
    assert clock.sleeps == [1, 2, 4, 8, 16, 30]


def test_too_many_without_retry_after_backoff_exact() -> None:
    clock = FakeClock()
    err = Fault(FailureClass.TOO_MANY, 429, "Too Many Requests")
    fn, _ = failing([err] * 6)
    policy(clock, max_retries=6).call(fn, writes=True)
    assert clock.sleeps == [5, 10, 20, 40, 80, 120]


def test_too_many_honours_retry_after() -> None:
    clock = FakeClock()
    err = Fault(FailureClass.TOO_MANY, 429, "Too Many Requests", retry_after=7)
    fn, _ = failing([err, err])
    policy(clock).call(fn, writes=True)
    assert clock.sleeps == [7, 7]


def test_secondary_retry_after_honoured_with_limit_jitter() -> None:
    clock = FakeClock()
    fn, _ = failing([secondary_limit(60)])
    policy(clock, r=0.5, limit_jitter=1.0).call(fn, writes=True)
    assert clock.sleeps == [60.5]


def test_secondary_remaining_zero_waits_for_reset() -> None:
    clock = FakeClock()
    fn, _ = failing([secondary_limit(reset_at=NOW + 100, remaining=0)])
    policy(clock).call(fn, writes=True)
    assert clock.sleeps == [101]  # reset + 1 s margin


def test_secondary_without_headers_waits_a_minute_then_exponential() -> None:
    clock = FakeClock()
    fn, _ = failing([secondary_limit() for _ in range(5)])
    policy(clock, max_retries=5, max_limit_wait=900).call(fn, writes=True)
    assert clock.sleeps == [60, 120, 240, 480, 600]


def test_primary_limit_waits_until_reset_plus_one() -> None:
    clock = FakeClock()
    fn, _ = failing([primary_limit(NOW + 300)])
    policy(clock).call(fn, writes=False)
    assert clock.sleeps == [301]


def test_primary_limit_too_far_stops_the_run_instead_of_sleeping() -> None:
    clock = FakeClock()
    fn, seen = failing([primary_limit(NOW + 3600)])
    with pytest.raises(GaveUp) as info:
        policy(clock, max_limit_wait=900).call(fn, writes=False)
    assert clock.sleeps == []
    assert len(seen) == 1
    assert info.value.reason == "limit-wait"
    assert info.value.stop_run is StopReason.RATE_LIMIT
    assert info.value.failure.cls is FailureClass.PRIMARY_LIMIT


def test_primary_limit_past_the_deadline_stops_the_run() -> None:
    clock = FakeClock()
    fn, _ = failing([primary_limit(NOW + 300)])
    with pytest.raises(GaveUp) as info:
        policy(clock, deadline=NOW + 120).call(fn, writes=False)
    assert clock.sleeps == []
    assert info.value.stop_run is StopReason.DEADLINE


def test_ordinary_backoff_past_the_deadline_gives_up_the_job_only() -> None:
    clock = FakeClock()
    fn, _ = failing([server_error(), server_error()])
    with pytest.raises(GaveUp) as info:
        policy(clock, deadline=NOW + 3).call(fn, writes=False)
    assert clock.sleeps == [2]
    assert info.value.reason == "deadline" and info.value.stop_run is None


def test_max_retries_bounds_attempts() -> None:
    clock = FakeClock()
    fn, seen = failing([server_error() for _ in range(10)])
    with pytest.raises(GaveUp) as info:
        policy(clock, max_retries=3).call(fn, writes=False)
    assert len(seen) == 4
    assert clock.sleeps == [2, 4, 8]
    assert info.value.attempts == 4 and info.value.reason == "max-retries"


def test_max_retries_zero_means_one_attempt() -> None:
    clock = FakeClock()
    fn, seen = failing([server_error()])
    with pytest.raises(GaveUp):
        policy(clock, max_retries=0).call(fn, writes=False)
    assert len(seen) == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (not_found(), FailureClass.ITEM),
        (Fault(FailureClass.ITEM, 422, "Validation Failed"), FailureClass.ITEM),
        (Fault(FailureClass.AUTH, 401, "Bad credentials"), FailureClass.AUTH),
        (ValueError("bad"), FailureClass.BUG),
    ],
)
def test_non_retryable_classes_are_not_retried(exc: BaseException, cls: FailureClass) -> None:
    clock = FakeClock()
    fn, seen = failing([exc])
    with pytest.raises(GaveUp) as info:
        policy(clock).call(fn, writes=True)
    assert len(seen) == 1 and clock.sleeps == []
    assert info.value.failure.cls is cls
    assert info.value.reason == "not-retryable"
    assert isinstance(info.value.__cause__, type(exc))


def test_each_class_counts_its_own_backoff() -> None:
    clock = FakeClock()
    fn, _ = failing([server_error(), connection_error(), server_error(), connection_error()])
    policy(clock).call(fn, writes=False)
    assert clock.sleeps == [2, 1, 4, 2]


def test_outcome_unknown_reaches_the_next_attempt() -> None:
    clock = FakeClock()
    fn, seen = failing([read_timeout()], result={"number": 12})
    assert policy(clock).call(fn, writes=True) == {"number": 12}
    assert seen[1].previous is not None
    assert seen[1].previous.outcome_unknown and seen[1].previous.cls is FailureClass.TIMEOUT


def test_hooks_see_every_attempt_and_every_retry() -> None:
    clock = FakeClock()
    fn, _ = failing([server_error(), server_error()])
    before: list[int] = []
    after: list[tuple[int, str | None]] = []
    notices: list[RetryNotice] = []
    policy(clock).call(
        fn,
        writes=False,
        before_attempt=lambda a: before.append(a.number),
        after_attempt=lambda a, f: after.append((a.number, f.cls.value if f else None)),
        before_sleep=notices.append,
    )
    assert before == [1, 2, 3]
    assert after == [(1, "server"), (2, "server"), (3, None)]
    assert [(n.attempt, n.delay) for n in notices] == [(1, 2.0), (2, 4.0)]


def test_halt_means_no_new_sleep() -> None:
    clock = FakeClock()
    fn, seen = failing([server_error(), server_error()])
    with pytest.raises(GaveUp) as info:
        policy(clock).call(fn, writes=False, halted=lambda: len(seen) >= 1)
    assert clock.sleeps == [] and len(seen) == 1
    assert info.value.reason == "halted"
    assert info.value.failure.retryable


def test_halt_during_a_sleep_means_no_new_attempt() -> None:
    clock = FakeClock()
    stop = {"now": False}

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        stop["now"] = True  # the signal arrives while we sleep

    fn, seen = failing([server_error(), server_error()])
    p = standard_retrier(RetrySettings(), classifier=classify_faults, clock=clock, sleep=sleep, random=lambda: 0.0)
    with pytest.raises(GaveUp) as info:
        p.call(fn, writes=False, halted=lambda: stop["now"])
    assert len(seen) == 1 and clock.sleeps == [2]
    assert info.value.reason == "halted" and info.value.attempts == 1


def test_before_attempt_exception_propagates_unchanged() -> None:
    class Abort(Exception):
        pass

    def gate(attempt: Attempt) -> None:
        raise Abort

    clock = FakeClock()
    fn, seen = failing([])
    with pytest.raises(Abort):
        policy(clock).call(fn, writes=False, before_attempt=gate)
    assert seen == []


def test_delay_is_pure_given_random() -> None:
    wait = wait_by_class(clock=FakeClock(), random=lambda: 0.0)
    f = classify_faults(server_error(), writes=False, now=NOW)
    assert [wait.delay(f, n, NOW) for n in (1, 2, 3, 10)] == [2, 4, 8, 60]


def test_stops_compose_in_order_and_the_first_that_fires_names_the_reason() -> None:
    clock = FakeClock()
    stop = stop_after_retries(1) | stop_limit_wait_over(100) | stop_past_deadline(NOW + 30, clock)
    assert isinstance(stop, FirstStop)
    assert [s.reason for s in stop.named] == ["max-retries", "limit-wait", "deadline"]
    retrier = Retrier(classify_faults, stop=stop, wait=lambda state: 50.0, sleep=clock.sleep, clock=clock)
    fn, seen = failing([secondary_limit(), secondary_limit()])
    with pytest.raises(GaveUp) as info:
        retrier.call(fn, writes=True)
    # a 50 s wait: under the limit-wait bound, but past the deadline, and a limit's: the run stops
    assert len(seen) == 1 and clock.sleeps == []
    assert info.value.reason == "deadline" and info.value.stop_run is StopReason.DEADLINE


def test_exceptions_outside_retry_on_pass_unchanged() -> None:
    class Typed(Exception):
        pass

    clock = FakeClock()
    retrier = Retrier(
        classify_faults, stop=stop_after_retries(3), wait=lambda state: 1.0, sleep=clock.sleep, retry_on=(Fault,)
    )
    fn, seen = failing([server_error(), Typed("no")])
    with pytest.raises(Typed):
        retrier.call(fn)
    assert len(seen) == 2 and clock.sleeps == [1.0]
