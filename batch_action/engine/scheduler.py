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

import heapq
import queue
import random as _random
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from .breaker import BreakerState, CircuitBreaker
from .failures import LIMIT_CLASSES, Classifier, Failure, FailureClass
from .governor import Governor, GovernorSettings, HasHeaders, WaitReason, is_limit_wait
from .journal import Journal
from .policy import Attempt, GaveUp, RetryNotice, RetrySettings, standard_retrier
from .progress import ProgressReporter, ProgressSink, ProgressSnapshot
from .stops import StopReason


class Schedulable(Protocol):
    """What the engine reads of a job. `Job` is the plain one; a caller may pass its own objects (the sync passes
    its plan operations, so a 30,000-operation run does not hold a second object per operation)."""

    @property
    def id(self) -> str: ...  # deterministic, unique, e.g. "create:task:auth/001"
    @property
    def deps(self) -> tuple[str, ...]: ...  # must have SUCCEEDED first; a failed/skipped dep => this is skipped
    @property
    def writes(self) -> bool: ...  # sends a write (POST/PATCH/DELETE)
    @property
    def creates_content(self) -> bool: ...  # paced by the writes-per-minute token bucket
    @property
    def label(self) -> str: ...  # human handle for logs/annotations, e.g. the source file path
    @property
    def order(self) -> int: ...  # lower first among ready jobs


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


class JobStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_RUN = "not_run"


@dataclass(frozen=True, slots=True)
class JobOutcome:
    job: Schedulable
    status: JobStatus
    # What execute returned (SUCCEEDED), kept only when the engine has no journal: otherwise the journal's
    # "done" line has it (load_journal), and keeping every result to the end cost ~250 bytes a job.
    result: object = None
    failure: Failure | None = None  # the last failure (FAILED)
    attempts: int = 0
    reason: str = ""  # FAILED: why it gave up; SKIPPED / NOT_RUN: why it did not run


@dataclass(frozen=True)
class RunResult:
    outcomes: Mapping[str, JobOutcome]  # every job, in input order
    stopped_reason: StopReason | None
    resumable: bool
    counts: Mapping[str, int]  # total, succeeded, failed, skipped, not_run
    retries: int
    retries_by_class: Mapping[str, int]
    waited: Mapping[str, float]  # seconds by reason: "retry:<class>", "pause", "primary-reserve", ...
    limit_wait: float  # seconds waited because of GitHub's rate limits
    limit_hits: int
    peak_concurrency: int
    final_concurrency: int
    final_writes_per_minute: float
    elapsed: float
    breaker_state: str
    warnings: tuple[str, ...] = ()

    def with_status(self, status: JobStatus) -> list[JobOutcome]:
        return [o for o in self.outcomes.values() if o.status is status]

    @property
    def succeeded(self) -> list[JobOutcome]:
        return self.with_status(JobStatus.SUCCEEDED)

    @property
    def failed(self) -> list[JobOutcome]:
        return self.with_status(JobStatus.FAILED)

    @property
    def skipped(self) -> list[JobOutcome]:
        return self.with_status(JobStatus.SKIPPED)

    @property
    def not_run(self) -> list[JobOutcome]:
        return self.with_status(JobStatus.NOT_RUN)


@dataclass(frozen=True)
class EngineSettings:
    max_concurrency: int = 4
    max_retries: int = 5
    writes_per_minute: float = 20.0
    write_burst: int = 1
    checkpoint_every: int = 25  # 0: only the final checkpoint
    # A checkpoint lists every finished job, so writing one every N jobs made a run O(jobs²) (1,200 of them,
    # up to 1 MB each, for 30,000 jobs). So they are also at least this fraction of the finished jobs apart:
    # every N until 10·N jobs, then 10 % further each time (~60 for 30,000 jobs, N=25). Deterministic; the
    # journal, flushed per event, stays the complete record in between.
    checkpoint_spacing: float = 0.1
    stop_on_error: bool = False
    deadline: float | None = None  # absolute clock time
    max_limit_wait: float = 900.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    breaker_max_probes: int = 3
    quiet_period: float = 60.0  # AIMD: time without a limit hit before concurrency/rate grow back
    progress_interval: float = 5.0
    retry: RetrySettings = field(default_factory=RetrySettings)  # backoff table; the two knobs above win

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.writes_per_minute <= 0:
            raise ValueError("writes_per_minute must be > 0")


CheckpointCallback = Callable[[Mapping[str, Any]], None]


class _Halted(Exception):
    """Raised in a worker when the run is stopping before (or between) attempts."""

    def __init__(self, attempt: Attempt) -> None:
        super().__init__("run stopping")
        self.attempt = attempt


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
        self.governor = governor or Governor(
            GovernorSettings(
                max_concurrency=s.max_concurrency,
                writes_per_minute=s.writes_per_minute,
                write_burst=s.write_burst,
                quiet_period=s.quiet_period,
            ),
            clock=clock,
        )
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
    def __init__(self, engine: Engine, jobs: list[Schedulable], execute: Execute) -> None:
        self.e = engine
        self.s = engine.settings
        self.jobs = jobs
        self.execute = execute
        self.clock = engine._clock
        self.governor = engine.governor
        self.journal = engine.journal
        s = self.s
        self.breaker = CircuitBreaker(
            threshold=s.breaker_threshold,
            cooldown=s.breaker_cooldown,
            max_failed_probes=s.breaker_max_probes,
            clock=engine._clock,
        )
        self.retrier = standard_retrier(
            replace(s.retry, max_retries=s.max_retries, max_limit_wait=s.max_limit_wait),
            classifier=engine.classifier,
            clock=engine._clock,
            sleep=engine.sleep,
            random=engine._random,
            deadline=s.deadline,
        )
        self.stats = _Stats()
        self.lock = threading.Lock()
        self.stop_reason: StopReason | None = None
        # Everything per job is kept by its index in `jobs`, in lists and flat arrays: no dict by id, no object
        # per job beyond its outcome (a 10,000-item run has ~31,000 jobs).
        self.outcomes: list[JobOutcome | None] = [None] * len(jobs)
        self.status_counts: Counter[str] = Counter()  # of self.outcomes, kept as they are set: O(1) progress
        self.results: queue.Queue[tuple[int, JobOutcome]] = queue.Queue()
        self.warnings: list[str] = []
        self.waiting = array("i", [0]) * len(jobs)  # deps not yet succeeded
        # Dependents of job i, in input order: dependents[dependents_at[i] : dependents_at[i + 1]].
        self.dependents_at = array("i", [0]) * (len(jobs) + 1)
        self.dependents = array("i")
        self._build_graph()
        snap = self.governor.snapshot()
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
        self.next_checkpoint = s.checkpoint_every if s.checkpoint_every > 0 else 0

    # -- graph -----------------------------------------------------------------------------------------------

    def _build_graph(self) -> None:
        index = {j.id: i for i, j in enumerate(self.jobs)}  # only while building: ~60 bytes a job
        if len(index) != len(self.jobs):
            dupes = sorted(i for i, n in Counter(j.id for j in self.jobs).items() if n > 1)
            raise ValueError(f"duplicate job ids: {', '.join(dupes)}")
        # Edges (dep, dependent), dependents in input order, in two flat arrays: not ~100 bytes of tuple each.
        edge_dep, edge_job = array("i"), array("i")
        for i, j in enumerate(self.jobs):
            deps = set(j.deps)
            if j.id in deps:
                raise ValueError(f"job {j.id} depends on itself")
            # Not `deps - index.keys()`: a set minus a keys view copies the set and walks every key of the
            # view, which made validation O(jobs²) (about 100 s for the 30,000 jobs of a 10,000-item tree).
            unknown = sorted(d for d in deps if d not in index)
            if unknown:
                raise ValueError(f"job {j.id} depends on unknown job(s): {', '.join(unknown)}")
            self.waiting[i] = len(deps)
            for dep in deps:
                edge_dep.append(index[dep])
                edge_job.append(i)
        del index
        # Counting sort by dep; stable, so each job's dependents stay in input order.
        at = self.dependents_at
        for d in edge_dep:
            at[d + 1] += 1
        for k in range(len(self.jobs)):
            at[k + 1] += at[k]
        fill = at[:-1]
        self.dependents = array("i", [0]) * len(edge_dep)
        for d, i in zip(edge_dep, edge_job, strict=True):
            self.dependents[fill[d]] = i
            fill[d] += 1
        del edge_dep, edge_job, fill
        # Kahn: anything left over sits on a cycle.
        left = self.waiting[:]
        free = [i for i, j in enumerate(self.jobs) if not j.deps]
        seen = 0
        while free:
            i = free.pop()
            seen += 1
            for d in self._dependents_of(i):
                left[d] -= 1
                if left[d] == 0:
                    free.append(d)
        if seen != len(self.jobs):
            cyclic = sorted(j.id for j, n in zip(self.jobs, left, strict=True) if n > 0)
            raise ValueError(f"dependency cycle among jobs: {', '.join(cyclic[:20])}")

    def _dependents_of(self, i: int) -> array[int]:
        return self.dependents[self.dependents_at[i] : self.dependents_at[i + 1]]

    # -- stopping --------------------------------------------------------------------------------------------

    def request_stop(self, reason: StopReason) -> None:
        with self.lock:
            if self.stop_reason is None:
                self.stop_reason = reason
        self.e._halt.set()

    def halted(self) -> bool:
        if self.e._halt.is_set():
            return True
        if self.e.stop_event.is_set():
            self.request_stop(StopReason.SIGNAL)
            return True
        return False

    def _check_deadline(self) -> bool:
        d = self.s.deadline
        if d is not None and self.clock() >= d:
            self.request_stop(StopReason.DEADLINE)
            return True
        return False

    # -- main loop -------------------------------------------------------------------------------------------

    def run(self) -> RunResult:
        started = self.clock()
        ready: list[int] = []  # heap of _ready_key()s
        for i, j in enumerate(self.jobs):
            if self.journal is not None:
                # Flushed once, below: nothing has been sent yet, so a crash here loses nothing.
                self.journal.append("planned", j.id, flush=False, label=j.label or None, deps=list(j.deps) or None)
            if not j.deps:
                heapq.heappush(ready, self._ready_key(i))
        if self.journal is not None:
            self.journal.sync()
        if self.reporter is not None:
            self.reporter.start(f"up to {self.s.max_concurrency} at once")
        pool = _pool(self.s.max_concurrency)
        try:
            while True:
                if not self.halted() and not self._check_deadline():
                    cap = min(self.s.max_concurrency, self.governor.effective_concurrency)
                    while ready and self.in_flight < cap:
                        i = heapq.heappop(ready) % len(self.jobs)
                        self.in_flight += 1
                        self.peak = max(self.peak, self.in_flight)
                        pool.submit(self._work, i)
                if self.in_flight == 0:
                    break
                try:
                    i, outcome = self.results.get(timeout=self.e._poll)
                except queue.Empty:
                    self._progress()
                    continue
                self.in_flight -= 1
                self._finish(i, outcome, ready)
        except BaseException:
            self.request_stop(StopReason.SIGNAL)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return self._result(started)

    def _ready_key(self, i: int) -> int:
        # Sorts like (order, index): lowest order first, then input order. One int, not a tuple: while the
        # creates of a large run go first, ~20,000 link jobs wait in the heap.
        return self.jobs[i].order * len(self.jobs) + i

    def _finish(self, i: int, outcome: JobOutcome, ready: list[int]) -> None:
        job = outcome.job
        self._set_outcome(i, outcome)
        if outcome.status is JobStatus.NOT_RUN:
            self._progress()
            return  # its dependents stay undecided and end as not_run
        self.finished += 1
        if outcome.status is JobStatus.SUCCEEDED:
            for d in self._dependents_of(i):
                self.waiting[d] -= 1
                if self.waiting[d] == 0 and self.outcomes[d] is None:
                    heapq.heappush(ready, self._ready_key(d))
        elif outcome.status is JobStatus.FAILED:
            assert outcome.failure is not None
            self._skip_dependents(i, f"dependency {job.id} failed ({outcome.failure.cls})")
            if self.s.stop_on_error:
                self.request_stop(StopReason.STOP_ON_ERROR)
        self._maybe_checkpoint()
        self._progress()

    def _skip_dependents(self, root: int, why: str) -> None:
        stack = [(d, why) for d in self._dependents_of(root)]
        while stack:
            i, reason = stack.pop()
            if self.outcomes[i] is not None:
                continue
            jid = self.jobs[i].id
            self._set_outcome(i, JobOutcome(self.jobs[i], JobStatus.SKIPPED, reason=reason))
            self.finished += 1
            if self.journal is not None:
                self.journal.append("skipped", jid, message=reason)
            stack.extend((d, f"dependency {jid} was skipped ({reason})") for d in self._dependents_of(i))

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
            self._gate(job, attempt, probe)
            last[0] = attempt.number
            if self.journal is not None:
                self.journal.append("started", job.id, attempt=attempt.number)

        def after_attempt(attempt: Attempt, failure: Failure | None) -> None:
            was_probe, probe[0] = probe[0], False
            if failure is None:
                self.breaker.record_success(probe=was_probe)
                return
            self.breaker.record_failure(failure.cls, probe=was_probe)
            if self.breaker.state is BreakerState.TRIPPED:
                self.request_stop(StopReason.BREAKER)

        def before_sleep(notice: RetryNotice) -> None:
            f = notice.failure
            with self.stats.lock:
                self.stats.retries[f.cls.value] += 1
            self.governor.record_wait(f"retry:{f.cls.value}", notice.delay)
            if f.cls in LIMIT_CLASSES:
                self.governor.on_failure(f, until=self.clock() + notice.delay)
            if self.journal is not None:
                self.journal.append(
                    "failed",
                    job.id,
                    attempt=notice.attempt,
                    final=False,
                    retry_in=round(notice.delay, 3),
                    **_failure_fields(f),
                )

        try:
            value = self.retrier.call(
                lambda attempt: self.execute(job, attempt),
                writes=job.writes,
                halted=self.halted,
                before_attempt=before_attempt,
                after_attempt=after_attempt,
                before_sleep=before_sleep,
            )
        except GaveUp as g:
            if g.stop_run is not None:
                self.request_stop(g.stop_run)
            if g.failure.fatal_for_run:
                self.request_stop(StopReason.AUTH)
            if self.journal is not None:
                self.journal.append(
                    "failed",
                    job.id,
                    attempt=g.attempts,
                    final=True,
                    reason=g.reason,
                    **_failure_fields(g.failure),
                )
            return JobOutcome(job, JobStatus.FAILED, failure=g.failure, attempts=g.attempts, reason=g.reason)
        except _Halted as h:
            prev = h.attempt.previous
            if prev is None:
                return JobOutcome(job, JobStatus.NOT_RUN, reason=self._not_run_reason())
            n = h.attempt.number - 1
            if self.journal is not None:
                self.journal.append("failed", job.id, attempt=n, final=True, reason="halted", **_failure_fields(prev))
            return JobOutcome(job, JobStatus.FAILED, failure=prev, attempts=n, reason="halted")
        if self.journal is not None:
            self.journal.append("done", job.id, attempt=last[0], result=value)
            value = None  # journaled: see JobOutcome.result
        return JobOutcome(job, JobStatus.SUCCEEDED, result=value, attempts=last[0])

    def _gate(self, job: Schedulable, attempt: Attempt, probe: list[bool]) -> None:
        """Wait until this attempt may send: stop/deadline, limit pause or reserve, write pacing, breaker."""
        token_taken = False
        while True:
            if self.halted() or self._check_deadline():
                raise _Halted(attempt)
            until, why = self.governor.ready_at()
            if why is not None:
                self._wait_until(until, why, attempt, limit=True)
                continue
            if job.creates_content and not token_taken:
                token_taken = True
                delay = self.governor.reserve_write()
                if delay > 0.001:  # an effectively unpaced rate (e.g. 1e9/min) is not worth a sleep call
                    self._wait_until(self.clock() + delay, WaitReason.WRITE_PACING, attempt, limit=False)
                    continue
            permit = self.breaker.acquire()
            if permit.tripped:
                self.request_stop(StopReason.BREAKER)
                raise _Halted(attempt)
            if not permit.allowed:
                assert permit.retry_at is not None
                self._wait_until(permit.retry_at, WaitReason.BREAKER, attempt, limit=False)
                continue
            probe[0] = permit.probe
            return

    def _wait_until(self, until: float, why: WaitReason, attempt: Attempt, *, limit: bool) -> None:
        seconds = until - self.clock()
        if seconds <= 0:
            return
        if limit and seconds > self.s.max_limit_wait:
            self.request_stop(StopReason.RATE_LIMIT)
            raise _Halted(attempt)
        if self.s.deadline is not None and until > self.s.deadline:
            self.request_stop(StopReason.DEADLINE)
            raise _Halted(attempt)
        self.governor.record_wait(why.value, seconds)
        self.e.sleep(seconds)

    # -- reporting -------------------------------------------------------------------------------------------

    def _not_run_reason(self) -> str:
        return f"the run stopped ({self.stop_reason or 'stop'}) before it started"

    def _set_outcome(self, i: int, outcome: JobOutcome) -> None:
        old = self.outcomes[i]
        if old is not None:
            self.status_counts[old.status.value] -= 1
        self.outcomes[i] = outcome
        self.status_counts[outcome.status.value] += 1

    def _counts(self) -> dict[str, int]:
        # Called after every finished job (progress): counting self.outcomes here made a run O(jobs²).
        c = self.status_counts
        return {
            "total": len(self.jobs),
            **{st.value: c.get(st.value, 0) for st in JobStatus},
        }

    def _summary(self, *, final: bool) -> dict[str, Any]:
        # One pass over the jobs, in input order. Checkpoints are spaced (see EngineSettings), so this stays
        # O(jobs) per checkpoint like the id lists it writes, not the O(jobs²) of one per N jobs.
        ids: dict[JobStatus, list[str]] = {st: [] for st in JobStatus}
        for j, o in zip(self.jobs, self.outcomes, strict=True):
            if o is not None:
                ids[o.status].append(j.id)
        return {
            "final": final,
            "counts": self._counts(),
            "done": ids[JobStatus.SUCCEEDED],
            "failed": ids[JobStatus.FAILED],
            "skipped": ids[JobStatus.SKIPPED],
            "stopped_reason": self.stop_reason.value if self.stop_reason else None,
        }

    def _maybe_checkpoint(self) -> None:
        if self.next_checkpoint and self.finished >= self.next_checkpoint:
            step = max(self.s.checkpoint_every, int(self.finished * self.s.checkpoint_spacing))
            while self.next_checkpoint <= self.finished:
                self.next_checkpoint += step
            self._checkpoint(final=False)

    def _checkpoint(self, *, final: bool) -> None:
        summary = self._summary(final=final)
        try:
            if self.journal is not None:
                self.journal.checkpoint(summary)
            if self.e._on_checkpoint is not None:
                self.e._on_checkpoint(summary)
        except Exception as exc:  # a failed upload/write must not abandon jobs in flight
            self.warnings.append(f"checkpoint failed: {type(exc).__name__}: {exc}")

    def _waited(self) -> dict[str, float]:
        now = self.governor.snapshot().waited
        out = {k: v - self.waited0.get(k, 0.0) for k, v in now.items()}
        return {k: round(v, 3) for k, v in sorted(out.items()) if v > 0}

    def _snapshot(self) -> ProgressSnapshot:
        c = self._counts()
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
        )

    def _progress(self) -> None:
        if self.reporter is not None and self.reporter.due(self.finished, self.in_flight):
            self.reporter.update(self._snapshot(), force=True)

    def _result(self, started: float) -> RunResult:
        undecided = [i for i, o in enumerate(self.outcomes) if o is None]
        if undecided:
            done = {
                j.id
                for j, o in zip(self.jobs, self.outcomes, strict=True)
                if o is not None and o.status is JobStatus.SUCCEEDED
            }
            for i in undecided:
                j = self.jobs[i]
                blocked = [d for d in j.deps if d not in done]
                why = f"dependency {blocked[0]} did not run" if blocked else self._not_run_reason()
                self._set_outcome(i, JobOutcome(j, JobStatus.NOT_RUN, reason=why))
        ordered: dict[str, JobOutcome] = {}
        for j, o in zip(self.jobs, self.outcomes, strict=True):
            assert o is not None
            ordered[j.id] = o
        if self.stop_reason is not None and self.journal is not None:
            not_run = [j.id for j in self.jobs if ordered[j.id].status is JobStatus.NOT_RUN]
            self.journal.append("stopped", reason=self.stop_reason.value, not_run=not_run)
        if self.journal is not None or self.e._on_checkpoint is not None:
            self._checkpoint(final=True)
        waited = self._waited()
        snap = self.governor.snapshot()
        failed_retryably = any(
            o.status is JobStatus.FAILED and o.failure is not None and o.failure.retryable for o in ordered.values()
        )
        any_not_run = any(o.status is JobStatus.NOT_RUN for o in ordered.values())
        with self.stats.lock:
            retries = dict(sorted(self.stats.retries.items()))
        result = RunResult(
            outcomes=ordered,
            stopped_reason=self.stop_reason,
            resumable=self.stop_reason is not None or failed_retryably or any_not_run,
            counts=self._counts(),
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
            warnings=tuple(self.warnings),
        )
        if self.reporter is not None:
            self.reporter.finish(self._snapshot(), result.stopped_reason)
        return result


def _failure_fields(f: Failure) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "class": f.cls.value,
        "status": f.status,
        "message": f.message,
        "retryable": f.retryable,
        "outcome_unknown": f.outcome_unknown,
    }
    return fields


def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine-worker")
