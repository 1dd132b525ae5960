"""The runner end to end with a fake execute and a fake clock (its sleep advances time: nothing sleeps).

Threads are real, but tests synchronise with events, never with timing.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from batch_action.engine import (
    Attempt,
    Engine,
    EngineSettings,
    Failure,
    FailureClass,
    GovernorSettings,
    Job,
    JobStatus,
    Journal,
    ProgressReporter,
    ProgressSnapshot,
    RunResult,
    StopReason,
    format_duration,
    load_journal,
)
from batch_action.sync.tracker import Response
from tests.engine_faults import (
    Fault,
    classify_faults,
    not_found,
    primary_limit,
    read_timeout,
    secondary_limit,
    server_error,
)

NOW = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self._now = now
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(round(float(seconds), 6))
            self._now += float(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


GOVERNOR_FIELDS = frozenset(f.name for f in dataclasses.fields(GovernorSettings))


def make_engine(
    clock: FakeClock,
    *,
    journal: Journal | None = None,
    progress: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
    on_checkpoint: Callable[[Mapping[str, Any]], None] | None = None,
    **settings: Any,
) -> Engine:
    settings.setdefault("max_concurrency", 1)
    governed = {key: settings.pop(key) for key in list(settings) if key in GOVERNOR_FIELDS}
    return Engine(
        EngineSettings(GovernorSettings(**governed), **settings),
        classifier=classify_faults,
        clock=clock,
        sleep=clock.sleep,
        random=lambda: 0.0,
        journal=journal,
        progress=progress,
        stop_event=stop_event,
        on_checkpoint=on_checkpoint,
    )


class Recorder:
    """An execute that records calls; `script[job_id]` is a list of exceptions to raise before succeeding."""

    def __init__(self, script: Mapping[str, list[BaseException]] | None = None) -> None:
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.calls: list[tuple[str, Attempt]] = []
        self.lock = threading.Lock()

    @property
    def order(self) -> list[str]:
        return [jid for jid, a in self.calls if a.number == 1]

    def __call__(self, job: Job, attempt: Attempt) -> object:
        with self.lock:
            self.calls.append((job.id, attempt))
            errors = self.script.get(job.id)
            err = errors.pop(0) if errors else None
        if err is not None:
            raise err
        return {"id": job.id}


def statuses(result: RunResult) -> dict[str, str]:
    return {jid: o.status.value for jid, o in result.outcomes.items()}


# -- scheduling ---------------------------------------------------------------------------------------------


def test_dependencies_run_first_in_deterministic_order() -> None:
    clock = FakeClock()
    jobs = [Job("c", deps=("b",)), Job("b", deps=("a",)), Job("a"), Job("d")]
    ex = Recorder()
    result = make_engine(clock).run(jobs, ex)
    assert ex.order == ["a", "b", "c", "d"]
    assert list(result.outcomes) == ["c", "b", "a", "d"]  # input order
    assert all(o.status is JobStatus.SUCCEEDED for o in result.outcomes.values())
    assert result.outcomes["a"].result == {"id": "a"} and result.outcomes["a"].attempts == 1
    assert result.stopped_reason is None and not result.resumable
    assert result.counts == {"total": 4, "succeeded": 4, "failed": 0, "skipped": 0, "not_run": 0}


def test_lower_order_first_among_ready_jobs() -> None:
    clock = FakeClock()
    jobs = [Job("x", order=3), Job("y", order=1), Job("z", order=2), Job("w", order=1)]
    ex = Recorder()
    make_engine(clock).run(jobs, ex)
    assert ex.order == ["y", "w", "z", "x"]  # ties keep input order


def test_negative_orders_and_deps_keep_order_then_input_order() -> None:
    # label operations (no item key) have a negative order; the ready heap must still sort (order, input index).
    clock = FakeClock()
    jobs = [
        Job("p", order=5),
        Job("q", order=-10, deps=("p",)),
        Job("r", order=-3),
        Job("s", order=-10),
        Job("t", order=0, deps=("s", "r")),
        Job("u", order=-10),
    ]
    ex = Recorder()
    make_engine(clock).run(jobs, ex)
    assert ex.order == ["s", "u", "r", "t", "p", "q"]


def test_jobs_and_outcomes_have_no_per_instance_dict() -> None:
    # ~31,000 of each for 10,000 items: slots keep them small.
    assert not hasattr(Job("a"), "__dict__")
    result = make_engine(FakeClock()).run([Job("a")], Recorder())
    assert not hasattr(result.outcomes["a"], "__dict__")


def test_same_order_every_time_at_concurrency_one() -> None:
    jobs = [Job(f"j{i}", order=i % 3, deps=(f"j{i - 5}",) if i >= 5 else ()) for i in range(15)]
    orders = []
    for _ in range(3):
        ex = Recorder()
        make_engine(FakeClock()).run(jobs, ex)
        orders.append(ex.order)
    assert orders[0] == orders[1] == orders[2]


def test_a_job_starts_as_soon_as_its_deps_succeed_not_wave_by_wave() -> None:
    clock = FakeClock()
    c_started = threading.Event()

    def execute(job: Job, attempt: Attempt) -> object:
        if job.id == "a":
            # Would deadlock (and time out) if c waited for the whole first wave.
            return c_started.wait(timeout=5)
        if job.id == "c":
            c_started.set()
        return None

    result = make_engine(clock, max_concurrency=2).run([Job("a"), Job("b"), Job("c", deps=("b",))], execute)
    assert result.outcomes["a"].result is True


def test_concurrency_ceiling_is_never_exceeded() -> None:
    clock = FakeClock()
    lock = threading.Lock()
    state = {"active": 0, "peak": 0}
    full = threading.Event()

    def execute(job: Job, attempt: Attempt) -> object:
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
            if state["active"] == 3:
                full.set()
        full.wait(timeout=5)  # the first three wait for each other: the ceiling is reached, deterministically
        with lock:
            state["active"] -= 1
        return None

    result = make_engine(clock, max_concurrency=3).run([Job(f"j{i}") for i in range(12)], execute)
    assert state["peak"] == 3
    assert result.peak_concurrency == 3
    assert result.counts["succeeded"] == 12


def test_skip_on_failed_dependency_transitively() -> None:
    clock = FakeClock()
    jobs = [Job("a"), Job("b", deps=("a",)), Job("c", deps=("b",)), Job("d")]
    ex = Recorder({"a": [not_found()]})
    result = make_engine(clock).run(jobs, ex)
    assert statuses(result) == {"a": "failed", "b": "skipped", "c": "skipped", "d": "succeeded"}
    a = result.outcomes["a"]
    assert a.failure is not None and a.failure.cls is FailureClass.ITEM and a.attempts == 1
    assert a.reason == "not-retryable"
    assert "dependency a failed (item)" in result.outcomes["b"].reason
    assert "dependency b was skipped" in result.outcomes["c"].reason
    assert [jid for jid, _ in ex.calls] == ["a", "d"]
    assert result.stopped_reason is None and not result.resumable  # an item error will not heal by itself


def test_bug_in_execute_fails_the_job_only() -> None:
    clock = FakeClock()
    ex = Recorder({"a": [KeyError("number")]})
    result = make_engine(clock).run([Job("a"), Job("b")], ex)
    assert statuses(result) == {"a": "failed", "b": "succeeded"}
    assert result.outcomes["a"].failure is not None
    assert result.outcomes["a"].failure.cls is FailureClass.BUG
    assert len(ex.calls) == 2


# -- retries ------------------------------------------------------------------------------------------------


def test_retries_then_success() -> None:
    clock = FakeClock()
    ex = Recorder({"a": [server_error(), server_error()]})
    result = make_engine(clock).run([Job("a")], ex)
    a = result.outcomes["a"]
    assert a.status is JobStatus.SUCCEEDED and a.attempts == 3
    assert clock.sleeps == [2, 4]
    assert result.retries == 2 and result.retries_by_class == {"server": 2}
    assert result.waited == {"retry:server": 6}
    assert result.limit_wait == 0


def test_retries_exhausted_is_resumable() -> None:
    clock = FakeClock()
    ex = Recorder({"a": [server_error()] * 10})
    result = make_engine(clock, max_retries=2).run([Job("a")], ex)
    a = result.outcomes["a"]
    assert a.status is JobStatus.FAILED and a.attempts == 3 and a.reason == "max-retries"
    assert result.resumable and result.stopped_reason is None


def test_outcome_unknown_is_passed_in_attempt_previous() -> None:
    clock = FakeClock()
    ex = Recorder({"create": [read_timeout()]})
    make_engine(clock).run([Job("create", writes=True, creates_content=True)], ex)
    (_, first), (_, second) = ex.calls
    assert first.previous is None
    assert second.number == 2 and second.previous is not None
    assert second.previous.outcome_unknown and second.previous.cls is FailureClass.TIMEOUT


def test_reads_never_have_unknown_outcome() -> None:
    clock = FakeClock()
    ex = Recorder({"list": [read_timeout()]})
    make_engine(clock).run([Job("list", writes=False)], ex)
    prev = ex.calls[1][1].previous
    assert prev is not None and not prev.outcome_unknown


# -- stopping -----------------------------------------------------------------------------------------------


def test_stop_event_mid_run_leaves_not_run_jobs(tmp_path: Path) -> None:
    clock = FakeClock()
    stop = threading.Event()
    journal = Journal(tmp_path / "journal.jsonl", clock=clock)

    def execute(job: Job, attempt: Attempt) -> object:
        if job.id == "c":
            stop.set()  # SIGTERM while c is in flight
        return {"n": job.id}

    jobs = [Job(x) for x in "abcde"] + [Job("f", deps=("e",))]
    result = make_engine(clock, journal=journal, stop_event=stop).run(jobs, execute)
    journal.close()
    assert statuses(result) == {
        "a": "succeeded",
        "b": "succeeded",
        "c": "succeeded",  # in flight: it finishes
        "d": "not_run",
        "e": "not_run",
        "f": "not_run",
    }
    assert result.stopped_reason is StopReason.SIGNAL
    assert result.resumable
    assert "signal" in result.outcomes["d"].reason
    assert "dependency e did not run" in result.outcomes["f"].reason

    # Journal consistency: every started job has its final line; nothing is left unfinished.
    st = load_journal(tmp_path / "journal.jsonl")
    assert st.unfinished == {}
    assert st.done == {"a": {"n": "a"}, "b": {"n": "b"}, "c": {"n": "c"}}
    assert st.not_started == ["d", "e", "f"]
    assert st.stopped_reason == "signal"
    cp = json.loads((tmp_path / "checkpoint.json").read_text())
    assert cp["final"] is True and cp["done"] == ["a", "b", "c"] and cp["stopped_reason"] == "signal"
    assert cp["counts"]["not_run"] == 3


def test_stop_cuts_retries_short(tmp_path: Path) -> None:
    clock = FakeClock()
    stop = threading.Event()
    journal = Journal(tmp_path / "journal.jsonl", clock=clock)

    def execute(job: Job, attempt: Attempt) -> object:
        stop.set()
        raise server_error()

    result = make_engine(clock, journal=journal, stop_event=stop).run([Job("a"), Job("b")], execute)
    journal.close()
    a = result.outcomes["a"]
    assert a.status is JobStatus.FAILED and a.reason == "halted" and a.attempts == 1
    assert clock.sleeps == []  # no retry sleep after the stop
    assert result.outcomes["b"].status is JobStatus.NOT_RUN
    assert result.resumable
    st = load_journal(tmp_path / "journal.jsonl")
    assert st.unfinished == {} and set(st.failed) == {"a"}


def test_stop_requested_before_the_run_runs_nothing() -> None:
    stop = threading.Event()
    stop.set()
    ex = Recorder()
    result = make_engine(FakeClock(), stop_event=stop).run([Job("a")], ex)
    assert ex.calls == [] and result.stopped_reason is StopReason.SIGNAL and result.resumable


def test_deadline_stops_scheduling() -> None:
    clock = FakeClock()

    def execute(job: Job, attempt: Attempt) -> object:
        clock.advance(6)
        return None

    result = make_engine(clock, deadline=NOW + 10).run([Job("a"), Job("b"), Job("c")], execute)
    assert statuses(result) == {"a": "succeeded", "b": "succeeded", "c": "not_run"}
    assert result.stopped_reason is StopReason.DEADLINE and result.resumable


def test_stop_on_error() -> None:
    clock = FakeClock()
    ex = Recorder({"b": [not_found()]})
    result = make_engine(clock, stop_on_error=True).run([Job("a"), Job("b"), Job("c")], ex)
    assert statuses(result) == {"a": "succeeded", "b": "failed", "c": "not_run"}
    assert result.stopped_reason is StopReason.STOP_ON_ERROR and result.resumable


def test_auth_failure_stops_the_run() -> None:
    clock = FakeClock()
    ex = Recorder({"a": [Fault(FailureClass.AUTH, 401, "Bad credentials (HTTP 401): check the token")]})
    result = make_engine(clock).run([Job("a"), Job("b"), Job("c")], ex)
    assert statuses(result) == {"a": "failed", "b": "not_run", "c": "not_run"}
    assert result.stopped_reason is StopReason.AUTH and result.resumable
    failure = result.outcomes["a"].failure
    assert failure is not None and failure.fatal_for_run and "token" in failure.message


def test_breaker_opens_on_a_run_of_failures_and_ends_resumable() -> None:
    clock = FakeClock()
    ex = Recorder({f"j{i:02d}": [server_error()] for i in range(20)})
    jobs = [Job(f"j{i:02d}") for i in range(20)]
    result = make_engine(clock, max_retries=0, breaker_threshold=5, breaker_cooldown=30).run(jobs, ex)
    # 5 failures open it; 3 probes (after 30, 60, 120 s) fail; then it trips.
    assert result.counts["failed"] == 8 and result.counts["not_run"] == 12
    assert result.stopped_reason is StopReason.BREAKER and result.resumable
    assert result.breaker_state == "tripped"
    assert result.waited == {"breaker": 210}
    assert len(ex.calls) == 8


def test_breaker_recovers_when_the_probe_succeeds() -> None:
    clock = FakeClock()
    script: dict[str, list[BaseException]] = {f"j{i}": [server_error()] for i in range(5)}
    result = make_engine(clock, max_retries=0).run([Job(f"j{i}") for i in range(8)], Recorder(script))
    assert result.counts == {"total": 8, "succeeded": 3, "failed": 5, "skipped": 0, "not_run": 0}
    assert result.breaker_state == "closed" and result.stopped_reason is None
    assert result.waited == {"breaker": 30}


# -- limits -------------------------------------------------------------------------------------------------


def test_primary_limit_far_away_stops_the_run_resumable() -> None:
    clock = FakeClock()
    ex = Recorder({"a": [primary_limit(NOW + 3600)]})
    result = make_engine(clock, max_limit_wait=900).run([Job("a"), Job("b")], ex)
    assert statuses(result) == {"a": "failed", "b": "not_run"}
    assert result.stopped_reason is StopReason.RATE_LIMIT and result.resumable
    assert clock.sleeps == []


def test_secondary_limit_pauses_and_halves_concurrency_and_write_rate() -> None:
    clock = FakeClock()
    ex = Recorder({"a": [secondary_limit(60)]})
    engine = make_engine(clock, max_concurrency=4, writes_per_minute=20, quiet_period=600)
    result = engine.run([Job("a")], ex)
    assert result.outcomes["a"].status is JobStatus.SUCCEEDED
    assert clock.sleeps == [60]
    assert result.final_concurrency == 2 and result.final_writes_per_minute == 10
    clock.advance(600)  # a quiet period later, one worker and 10 % of write rate come back
    assert engine.governor.effective_concurrency == 3 and engine.governor.writes_per_minute == 11
    assert result.limit_hits == 1
    assert result.waited == {"retry:secondary-limit": 60} and result.limit_wait == 60


def test_low_remaining_waits_for_reset_before_the_next_job() -> None:
    clock = FakeClock()
    engine = make_engine(clock)

    def execute(job: Job, attempt: Attempt) -> object:
        headers = {
            "x-ratelimit-limit": "1000",
            "x-ratelimit-remaining": "5",
            "x-ratelimit-reset": str(int(NOW) + 100),
        }
        if job.id == "a":
            engine.observe(Response("GET", "/x", 200, headers))
        return None

    result = engine.run([Job("a"), Job("b")], execute)
    assert statuses(result) == {"a": "succeeded", "b": "succeeded"}
    assert result.waited == {"primary-reserve": 101} and result.limit_wait == 101


def test_low_remaining_with_a_far_reset_stops_instead_of_sleeping() -> None:
    clock = FakeClock()
    engine = make_engine(clock, max_limit_wait=900)

    def execute(job: Job, attempt: Attempt) -> object:
        headers = {
            "x-ratelimit-limit": "1000",
            "x-ratelimit-remaining": "3",
            "x-ratelimit-reset": str(int(NOW) + 3000),
        }
        engine.observe(Response("GET", "/x", 200, headers))
        return None

    result = engine.run([Job("a"), Job("b")], execute)
    assert statuses(result) == {"a": "succeeded", "b": "not_run"}
    assert result.stopped_reason is StopReason.RATE_LIMIT and clock.sleeps == []


def test_content_creating_writes_are_paced() -> None:
    clock = FakeClock()
    jobs = [Job(f"c{i}", creates_content=True) for i in range(3)] + [Job("patch", creates_content=False)]
    result = make_engine(clock, writes_per_minute=20).run(jobs, Recorder())
    assert clock.sleeps == [3, 3]  # first create immediate; the plain PATCH is not paced
    assert result.waited == {"write-pacing": 6} and result.limit_wait == 0


# -- journal, checkpoints, progress -------------------------------------------------------------------------


def test_journal_records_attempts_and_retries(tmp_path: Path) -> None:
    clock = FakeClock()
    journal = Journal(tmp_path / "journal.jsonl", clock=clock)
    ex = Recorder({"a": [server_error()], "b": [not_found()]})
    make_engine(clock, journal=journal).run([Job("a", label="docs/a.md"), Job("b"), Job("c", deps=("b",))], ex)
    journal.close()
    entries = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()]
    events = [(e["event"], e.get("job"), e.get("attempt")) for e in entries]
    assert events[:3] == [("planned", "a", None), ("planned", "b", None), ("planned", "c", None)]
    assert entries[0]["label"] == "docs/a.md"
    assert ("failed", "a", 1) in events and ("started", "a", 2) in events and ("done", "a", 2) in events
    retry = next(e for e in entries if e["event"] == "failed" and e["job"] == "a")
    assert retry["final"] is False and retry["retry_in"] == 2 and retry["class"] == "server"
    final = next(e for e in entries if e["event"] == "failed" and e["job"] == "b")
    assert final["final"] is True and final["class"] == "item"
    assert ("skipped", "c", None) in events
    st = load_journal(tmp_path / "journal.jsonl")
    assert set(st.done) == {"a"} and set(st.failed) == {"b"} and set(st.skipped) == {"c"} and not st.unfinished


def test_with_a_journal_results_are_in_the_journal_not_kept_in_outcomes(tmp_path: Path) -> None:
    clock = FakeClock()
    journal = Journal(tmp_path / "journal.jsonl", clock=clock)
    result = make_engine(clock, journal=journal).run([Job("a"), Job("b", deps=("a",))], Recorder())
    journal.close()
    assert [o.result for o in result.outcomes.values()] == [None, None]
    assert [o.attempts for o in result.outcomes.values()] == [1, 1]
    assert load_journal(tmp_path / "journal.jsonl").done == {"a": {"id": "a"}, "b": {"id": "b"}}


def test_checkpoint_callback_every_n_finished_jobs_and_at_the_end(tmp_path: Path) -> None:
    clock = FakeClock()
    seen: list[Mapping[str, Any]] = []
    journal = Journal(tmp_path / "journal.jsonl", clock=clock)
    make_engine(clock, journal=journal, checkpoint_every=3, on_checkpoint=seen.append).run(
        [Job(f"j{i}") for i in range(7)], Recorder()
    )
    journal.close()
    assert [(c["final"], c["counts"]["succeeded"]) for c in seen] == [(False, 3), (False, 6), (True, 7)]
    assert load_journal(tmp_path / "journal.jsonl").checkpoints == 3


def test_a_failing_checkpoint_callback_is_a_warning_not_a_crash() -> None:
    def boom(summary: Mapping[str, Any]) -> None:
        raise OSError("upload failed")

    result = make_engine(FakeClock(), checkpoint_every=1, on_checkpoint=boom).run([Job("a")], Recorder())
    assert result.counts["succeeded"] == 1
    assert result.warnings and "upload failed" in result.warnings[0]


def test_progress_lines_go_to_the_sink() -> None:
    clock = FakeClock()
    lines: list[str] = []
    make_engine(clock, progress=lines.append).run([Job(f"j{i}") for i in range(40)], Recorder())
    assert lines[0].startswith("engine: 40 job(s) to run")
    assert lines[-1].startswith("[40/40 100%]") and "ok 40" in lines[-1]
    # every 5 % (2 jobs) plus start and end
    assert 20 <= len(lines) <= 22


def test_progress_reporter_interval_step_and_eta() -> None:
    clock = FakeClock()
    lines: list[str] = []
    p = ProgressReporter(lines.append, total=1000, clock=clock, interval=5.0, step=0.05)
    assert not p.update(ProgressSnapshot(total=1000, succeeded=10))
    clock.advance(5)
    assert p.update(ProgressSnapshot(total=1000, succeeded=10, in_flight=2, writes_per_minute=20, limit_wait=61))
    assert lines[-1] == (
        "[10/1000   1%], ok 10, failed 0, skipped 0, retries 0, writes 20.0/min, limit waits 1m01s, "
        "in flight 2, ETA 8m15s"
    )
    assert not p.update(ProgressSnapshot(total=1000, succeeded=11))
    assert p.update(ProgressSnapshot(total=1000, succeeded=50))  # crossed 5 %
    p.finish(ProgressSnapshot(total=1000, succeeded=50), "signal")
    assert lines[-1].endswith("took 5s; stopped: signal")
    assert format_duration(3725) == "1h02m"


# -- validation and reuse -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jobs", "msg"),
    [
        ([Job("a"), Job("a")], "duplicate"),
        ([Job("a", deps=("zz",))], "unknown"),
        ([Job("a", deps=("a",))], "itself"),
        ([Job("a", deps=("b",)), Job("b", deps=("a",)), Job("c")], "cycle"),
    ],
)
def test_bad_graphs_are_rejected(jobs: list[Job], msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        make_engine(FakeClock()).run(jobs, Recorder())


def test_empty_run_and_engine_reuse() -> None:
    engine = make_engine(FakeClock())
    empty = engine.run([], Recorder())
    assert empty.counts["total"] == 0 and not empty.resumable
    again = engine.run([Job("a")], Recorder())
    assert again.counts["succeeded"] == 1


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        EngineSettings(GovernorSettings(max_concurrency=0))
    with pytest.raises(ValueError):
        EngineSettings(GovernorSettings(writes_per_minute=0))
    with pytest.raises(ValueError):
        EngineSettings(max_retries=-1)


def test_failure_objects_cross_into_outcomes_unchanged() -> None:
    ex = Recorder({"a": [not_found()]})
    result = make_engine(FakeClock()).run([Job("a")], ex)
    failure = result.outcomes["a"].failure
    assert isinstance(failure, Failure) and failure.status == 404


def test_default_sleep_returns_at_once_when_stopping() -> None:
    # The real-time sleep (no injected sleep) wakes on a stop instead of waiting out a backoff.
    stop = threading.Event()
    stop.set()
    engine = Engine(EngineSettings(), classifier=classify_faults, stop_event=stop)
    started = time.monotonic()
    engine.sleep(30)
    assert time.monotonic() - started < 1


def test_outcomes_keep_a_plain_success_as_its_attempts_and_read_it_back_whole() -> None:
    from batch_action.engine.failures import Failure as FailureRecord
    from batch_action.engine.result import JobOutcome, Outcomes

    jobs = [Job(f"j{n}") for n in range(4)]
    outcomes = Outcomes(jobs)
    outcomes.set(0, JobOutcome(jobs[0], JobStatus.SUCCEEDED, attempts=2))  # plain: kept as 2
    outcomes.set(1, JobOutcome(jobs[1], JobStatus.SUCCEEDED, result={"number": 7}, attempts=1))  # a result: whole
    failure = FailureRecord(FailureClass.SERVER, 502, "boom", retryable=True)
    outcomes.set(2, JobOutcome(jobs[2], JobStatus.FAILED, failure=failure, attempts=3, reason="gave up"))
    assert [outcomes.decided(i) for i in range(4)] == [True, True, True, False]
    assert outcomes._by_index[0] == 2  # no object kept for it
    assert outcomes[0] == JobOutcome(jobs[0], JobStatus.SUCCEEDED, attempts=2)
    assert outcomes.counts() == {"total": 4, "succeeded": 2, "failed": 1, "skipped": 0, "not_run": 0}

    settled = outcomes.settle("stopped")
    assert list(settled) == ["j0", "j1", "j2", "j3"] and len(settled) == 4
    assert settled["j1"].result == {"number": 7} and settled["j2"].failure == failure
    assert settled["j3"].status is JobStatus.NOT_RUN and settled["j3"].reason == "stopped"
    assert [o.status for o in settled.values()] == [JobStatus.SUCCEEDED] * 2 + [JobStatus.FAILED, JobStatus.NOT_RUN]
    assert dict(settled.items()) == {job.id: settled[job.id] for job in jobs}
    assert outcomes.ids()[JobStatus.SUCCEEDED] == ["j0", "j1"]
