"""The runner: executes a job graph with bounded concurrency, retries, rate limits, a breaker and a journal.

It knows nothing about issues: the sync layer hands it `Job`s and an `execute(job, attempt)` callable. A job
starts as soon as all its deps succeeded (lowest `order` first among ready jobs, then input order), never more
than the governor's effective concurrency (<= max_concurrency) at once. The caller's thread schedules; a
ThreadPool of max_concurrency workers executes (each worker thread can keep its own API client).

Stopping (signal, deadline, breaker, rate limit, stop-on-error, auth): nothing new is scheduled, in-flight
jobs finish their current attempt but start no new retry sleep, the journal gets a final checkpoint, and the
result says resumable.
"""

from __future__ import annotations

import queue
import random as _random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from .breaker import CircuitBreaker
from .checkpoints import CheckpointCallback, Checkpoints
from .events import Done, Failed, FailureRecord, Planned, Skipped, Started, Stopped
from .failures import LIMIT_CLASSES, Classifier, Failure, FailureClass
from .gate import Gate, Halted
from .governor import Governor, GovernorSettings, HasHeaders, is_limit_wait
from .graph import JobGraph, ReadyQueue, Schedulable
from .journal import Journal
from .policy import Attempt, GaveUp, RetryNotice, RetrySettings, standard_retrier
from .progress import ProgressReporter, ProgressSink, ProgressSnapshot
from .result import JobOutcome, JobStatus, Outcomes, RunResult, resumable
from .stopping import Stopping
from .stops import StopReason

__all__ = [
    "CheckpointCallback",
    "Engine",
    "EngineSettings",
    "Execute",
    "Job",
    "JobOutcome",
    "JobStatus",
    "RunResult",
    "Schedulable",
    "SkippingClock",
]


# slots: a run of 10,000 items holds ~31,000 of each; without them every instance carries its own dict.
@dataclass(frozen=True, slots=True)
class Job:
    id: str
    deps: tuple[str, ...] = ()
    writes: bool = True
    creates_content: bool = False
    label: str = ""
    order: int = 0


Execute = Callable[[Any, Attempt], object]  # called with the jobs given to `Engine.run`


@dataclass(frozen=True)
class EngineSettings:
    """The run's knobs. Concurrency, write pacing and their AIMD recovery are the governor's own settings, held
    here once (`governor`), not declared twice."""

    governor: GovernorSettings = field(default_factory=GovernorSettings)
    max_retries: int = 5
    checkpoint_every: int = 25  # 0: only the final checkpoint
    checkpoint_spacing: float = 0.1  # and at least this fraction of the finished jobs apart (checkpoints.py)
    stop_on_error: bool = False
    deadline: float | None = None  # absolute clock time
    max_limit_wait: float = 900.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    breaker_max_probes: int = 3
    progress_interval: float = 5.0
    retry: RetrySettings = field(default_factory=RetrySettings)  # backoff table; the two knobs above win

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")

    @property
    def max_concurrency(self) -> int:
        return self.governor.max_concurrency

    @property
    def writes_per_minute(self) -> float:
        return self.governor.writes_per_minute


@dataclass
class _Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    retries: Counter[str] = field(default_factory=Counter)


class SkippingClock:
    """A wall clock paired with an injected sleep that may return early (tests scale time with it).

    The engine re-checks every wait against its clock (a limit pause, a reset, the breaker's cool-down). With
    the real clock and a scaled sleep those would still lie ahead after each sleep, and the engine would wait
    them out in real time, in thousands of tiny sleeps. Here a sleep of s seconds moves the clock to at least
    s past when it began, whatever it really took; sleeps in parallel threads do not add up.
    """

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float] = time.time) -> None:
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._ahead = 0.0

    def time(self) -> float:
        with self._lock:
            return self._clock() + self._ahead

    def sleep(self, seconds: float) -> None:
        wake = self.time() + seconds
        self._sleep(seconds)
        with self._lock:
            self._ahead = max(self._ahead, wake - self._clock())


class Engine:
    """Build once per action run; `run()` may be called for several phases, one at a time (the governor's
    view of the rate limits persists between them; the breaker and the statistics are per run)."""

    def __init__(
        self,
        settings: EngineSettings | None = None,
        *,
        classifier: Classifier,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] = _random.random,
        journal: Journal | None = None,
        progress: ProgressSink | None = None,
        stop_event: threading.Event | None = None,
        on_checkpoint: CheckpointCallback | None = None,
        governor: Governor | None = None,
        poll_interval: float = 0.2,
    ) -> None:
        self.settings = s = settings or EngineSettings()
        self.classifier = classifier
        self._clock = clock
        self._sleep_fn = sleep
        self._random = random
        self.journal = journal
        self._progress_sink = progress
        self.stop_event = stop_event or threading.Event()
        self._on_checkpoint = on_checkpoint
        self._poll = poll_interval
        self.governor = governor or Governor(s.governor, clock=clock)
        self._halt = threading.Event()

    def observe(self, response: HasHeaders) -> None:
        """The adapter's response listener: feed every HTTP response's headers to the governor."""
        self.governor.observe(response)

    def pace_write(self) -> None:
        """For a job that sends several content-creating writes: wait for a write token before each one."""
        self.sleep(self.governor.reserve_write())

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._sleep_fn is not None:
            self._sleep_fn(seconds)
            return
        # Real time: wake early when the run stops, so a signal does not wait out a backoff.
        end = time.monotonic() + seconds
        while not self._halt.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            if self.stop_event.is_set():
                return
            self._halt.wait(min(left, 0.25))

    def run(self, jobs: Sequence[Schedulable], execute: Execute) -> RunResult:
        self._halt = threading.Event()
        return _Run(self, list(jobs), execute).run()


class _Run:
    """One `Engine.run`: the scheduling loop in the caller's thread, and each job's attempts in a worker."""

    def __init__(self, engine: Engine, jobs: list[Schedulable], execute: Execute) -> None:
        s = engine.settings
        self.settings = s
        self.jobs = jobs
        self.execute = execute
        self.clock = engine._clock
        self.poll = engine._poll
        self.journal = engine.journal
        self.governor = engine.governor
        self.graph = JobGraph(jobs)
        self.outcomes = Outcomes(jobs)
        self.results: queue.Queue[tuple[int, JobOutcome]] = queue.Queue()
        self.stopping = Stopping(engine._halt, engine.stop_event, clock=engine._clock, deadline=s.deadline)
        self.breaker = CircuitBreaker(
            threshold=s.breaker_threshold,
            cooldown=s.breaker_cooldown,
            max_failed_probes=s.breaker_max_probes,
            clock=engine._clock,
        )
        self.gate = Gate(
            governor=engine.governor,
            breaker=self.breaker,
            stopping=self.stopping,
            clock=engine._clock,
            sleep=engine.sleep,
            max_limit_wait=s.max_limit_wait,
        )
        self.retrier = standard_retrier(
            replace(s.retry, max_retries=s.max_retries, max_limit_wait=s.max_limit_wait),
            classifier=engine.classifier,
            clock=engine._clock,
            sleep=engine.sleep,
            random=engine._random,
            deadline=s.deadline,
        )
        self.checkpoints = Checkpoints(
            engine.journal, engine._on_checkpoint, every=s.checkpoint_every, spacing=s.checkpoint_spacing
        )
        self.stats = _Stats()
        snap = engine.governor.snapshot()
        self.waited0 = snap.waited
        self.hits0 = snap.limit_hits
        self.reporter = (
            ProgressReporter(engine._progress_sink, total=len(jobs), clock=engine._clock, interval=s.progress_interval)
            if engine._progress_sink is not None
            else None
        )
        self.in_flight = 0
        self.peak = 0
        self.finished = 0

    # -- main loop -------------------------------------------------------------------------------------------

    def run(self) -> RunResult:
        started = self.clock()
        ready = ReadyQueue(self.jobs)
        self._plan(ready)
        if self.reporter is not None:
            self.reporter.start(f"up to {self.settings.max_concurrency} at once")
        pool = _pool(self.settings.max_concurrency)
        try:
            while True:
                if not self.stopping.stopped():
                    self._start_ready(ready, pool)
                if self.in_flight == 0:
                    break
                try:
                    i, outcome = self.results.get(timeout=self.poll)
                except queue.Empty:
                    self._progress()
                    continue
                self.in_flight -= 1
                self._finish(i, outcome, ready)
        except BaseException:
            self.stopping.request(StopReason.SIGNAL)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return self._result(started)

    def _plan(self, ready: ReadyQueue) -> None:
        for i, j in enumerate(self.jobs):
            if self.journal is not None:
                # Flushed once, below: nothing has been sent yet, so a crash here loses nothing.
                self.journal.write(Planned(j.id, j.label or None, tuple(j.deps)), flush=False)
            if not j.deps:
                ready.push(i)
        if self.journal is not None:
            self.journal.sync()

    def _start_ready(self, ready: ReadyQueue, pool: ThreadPoolExecutor) -> None:
        cap = min(self.settings.max_concurrency, self.governor.effective_concurrency)
        while ready and self.in_flight < cap:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            pool.submit(self._work, ready.pop())

    def _finish(self, i: int, outcome: JobOutcome, ready: ReadyQueue) -> None:
        self.outcomes.set(i, outcome)
        if outcome.status is JobStatus.NOT_RUN:
            self._progress()
            return  # its dependents stay undecided and end as not_run
        self.finished += 1
        if outcome.status is JobStatus.SUCCEEDED:
            for d in self.graph.succeeded(i):
                if not self.outcomes.decided(d):
                    ready.push(d)
        elif outcome.status is JobStatus.FAILED:
            assert outcome.failure is not None
            self._skip_dependents(i, f"dependency {outcome.job.id} failed ({outcome.failure.cls})")
            if self.settings.stop_on_error:
                self.stopping.request(StopReason.STOP_ON_ERROR)
        if self.checkpoints.due(self.finished):
            self.checkpoints.write(self.outcomes, self.stopping.reason, final=False)
        self._progress()

    def _skip_dependents(self, root: int, why: str) -> None:
        stack = [(d, why) for d in self.graph.dependents_of(root)]
        while stack:
            i, reason = stack.pop()
            if self.outcomes.decided(i):
                continue
            jid = self.jobs[i].id
            self.outcomes.set(i, JobOutcome(self.jobs[i], JobStatus.SKIPPED, reason=reason))
            self.finished += 1
            if self.journal is not None:
                self.journal.write(Skipped(jid, reason))
            stack.extend((d, f"dependency {jid} was skipped ({reason})") for d in self.graph.dependents_of(i))

    # -- worker ----------------------------------------------------------------------------------------------

    def _work(self, i: int) -> None:
        job = self.jobs[i]
        try:
            outcome = self._attempts(job)
        except BaseException as exc:  # an engine bug must not leave the scheduler waiting forever
            failure = Failure(FailureClass.BUG, None, f"engine error: {type(exc).__name__}: {exc}")
            outcome = JobOutcome(job, JobStatus.FAILED, failure=failure, reason="engine-error")
            self.results.put((i, outcome))
            if not isinstance(exc, Exception):
                raise
            return
        self.results.put((i, outcome))

    def _attempts(self, job: Schedulable) -> JobOutcome:
        probe = [False]
        last = [0]

        def before_attempt(attempt: Attempt) -> None:
            probe[0] = self.gate.admit(job, attempt)
            last[0] = attempt.number
            if self.journal is not None:
                self.journal.write(Started(job.id, attempt.number))

        def after_attempt(attempt: Attempt, failure: Failure | None) -> None:
            was_probe, probe[0] = probe[0], False
            self.gate.record(failure, probe=was_probe)

        def before_sleep(notice: RetryNotice) -> None:
            self._retrying(job, notice)

        try:
            value = self.retrier.call(
                lambda attempt: self.execute(job, attempt),
                writes=job.writes,
                halted=self.stopping.halted,
                before_attempt=before_attempt,
                after_attempt=after_attempt,
                before_sleep=before_sleep,
            )
        except GaveUp as g:
            return self._gave_up(job, g)
        except Halted as h:
            return self._halted(job, h.attempt)
        if self.journal is not None:
            self.journal.write(Done(job.id, last[0], value))
            value = None  # journaled: see JobOutcome.result
        return JobOutcome(job, JobStatus.SUCCEEDED, result=value, attempts=last[0])

    def _retrying(self, job: Schedulable, notice: RetryNotice) -> None:
        f = notice.failure
        with self.stats.lock:
            self.stats.retries[f.cls.value] += 1
        self.governor.record_wait(f"retry:{f.cls.value}", notice.delay)
        if f.cls in LIMIT_CLASSES:
            self.governor.on_failure(f, until=self.clock() + notice.delay)
        if self.journal is not None:
            self.journal.write(Failed(job.id, notice.attempt, _record(f), final=False, retry_in=notice.delay))

    def _gave_up(self, job: Schedulable, g: GaveUp) -> JobOutcome:
        if g.stop_run is not None:
            self.stopping.request(g.stop_run)
        if g.failure.fatal_for_run:
            self.stopping.request(StopReason.AUTH)
        if self.journal is not None:
            self.journal.write(Failed(job.id, g.attempts, _record(g.failure), reason=g.reason))
        return JobOutcome(job, JobStatus.FAILED, failure=g.failure, attempts=g.attempts, reason=g.reason)

    def _halted(self, job: Schedulable, attempt: Attempt) -> JobOutcome:
        prev = attempt.previous
        if prev is None:
            return JobOutcome(job, JobStatus.NOT_RUN, reason=self._not_run_reason())
        n = attempt.number - 1
        if self.journal is not None:
            self.journal.write(Failed(job.id, n, _record(prev), reason="halted"))
        return JobOutcome(job, JobStatus.FAILED, failure=prev, attempts=n, reason="halted")

    # -- reporting -------------------------------------------------------------------------------------------

    def _not_run_reason(self) -> str:
        return f"the run stopped ({self.stopping.reason or 'stop'}) before it started"

    def _waited(self) -> dict[str, float]:
        now = self.governor.snapshot().waited
        out = {k: v - self.waited0.get(k, 0.0) for k, v in now.items()}
        return {k: round(v, 3) for k, v in sorted(out.items()) if v > 0}

    def _snapshot(self) -> ProgressSnapshot:
        c = self.outcomes.counts()
        with self.stats.lock:
            retries = sum(self.stats.retries.values())
        return ProgressSnapshot(
            total=len(self.jobs),
            succeeded=c[JobStatus.SUCCEEDED.value],
            failed=c[JobStatus.FAILED.value],
            skipped=c[JobStatus.SKIPPED.value],
            retries=retries,
            in_flight=self.in_flight,
            writes_per_minute=self.governor.writes_per_minute,
            limit_wait=sum(v for k, v in self._waited().items() if is_limit_wait(k)),
            concurrency=self.governor.effective_concurrency,
            paced_left=sum(
                1 for i, job in enumerate(self.jobs) if job.creates_content and not self.outcomes.decided(i)
            ),
        )

    def _progress(self) -> None:
        if self.reporter is not None and self.reporter.due(self.finished, self.in_flight):
            self.reporter.update(self._snapshot(), force=True)

    def _result(self, started: float) -> RunResult:
        ordered = self.outcomes.settle(self._not_run_reason())
        stop_reason = self.stopping.reason
        if stop_reason is not None and self.journal is not None:
            not_run = [job_id for job_id, o in ordered.items() if o.status is JobStatus.NOT_RUN]
            self.journal.write(Stopped(stop_reason.value, tuple(not_run)))
        if self.checkpoints.wanted:
            self.checkpoints.write(self.outcomes, stop_reason, final=True)
        waited = self._waited()
        snap = self.governor.snapshot()
        with self.stats.lock:
            retries = dict(sorted(self.stats.retries.items()))
        result = RunResult(
            outcomes=ordered,
            stopped_reason=stop_reason,
            resumable=resumable(ordered, stop_reason),
            counts=self.outcomes.counts(),
            retries=sum(retries.values()),
            retries_by_class=retries,
            waited=waited,
            limit_wait=round(sum(v for k, v in waited.items() if is_limit_wait(k)), 3),
            limit_hits=snap.limit_hits - self.hits0,
            peak_concurrency=self.peak,
            final_concurrency=snap.effective_concurrency,
            final_writes_per_minute=snap.writes_per_minute,
            elapsed=round(self.clock() - started, 3),
            breaker_state=self.breaker.state.value,
            warnings=tuple(self.checkpoints.warnings),
        )
        if self.reporter is not None:
            self.reporter.finish(self._snapshot(), result.stopped_reason)
        return result


def _record(f: Failure) -> FailureRecord:
    return FailureRecord(f.cls.value, f.message, f.status, f.retryable, f.outcome_unknown)


def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine-worker")
