"""What a run tells its caller: each job's outcome, and the run's figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass
from enum import StrEnum

from .failures import Failure
from .graph import Schedulable
from .stops import StopReason


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


class Outcomes:
    """Each job's outcome by its index (None: undecided), with counts by status kept as they are set: progress
    asks after every finished job, and counting the list there made a run O(jobs²).

    A plain success (result journaled, nothing to say) is kept as its attempt count, a small int the interpreter
    shares, and made a `JobOutcome` again when read: most jobs end so, and an object each cost 2.3 MB at
    29,000 jobs."""

    def __init__(self, jobs: Sequence[Schedulable]) -> None:
        self.jobs = jobs
        self._by_index: list[JobOutcome | int | None] = [None] * len(jobs)
        self._counts: Counter[str] = Counter()

    def __getitem__(self, i: int) -> JobOutcome | None:
        kept = self._by_index[i]
        if isinstance(kept, int):
            return JobOutcome(self.jobs[i], JobStatus.SUCCEEDED, attempts=kept)
        return kept

    def decided(self, i: int) -> bool:
        return self._by_index[i] is not None

    def set(self, i: int, outcome: JobOutcome) -> None:
        old = self._by_index[i]
        if old is not None:
            self._counts[_status(old).value] -= 1
        plain = (
            outcome.status is JobStatus.SUCCEEDED
            and outcome.result is None
            and outcome.failure is None
            and not outcome.reason
            and outcome.job is self.jobs[i]
        )
        self._by_index[i] = outcome.attempts if plain else outcome
        self._counts[outcome.status.value] += 1

    def counts(self) -> dict[str, int]:
        return {"total": len(self.jobs), **{st.value: self._counts.get(st.value, 0) for st in JobStatus}}

    def ids(self) -> dict[JobStatus, list[str]]:
        """Decided job ids by status, in input order: one pass over the jobs."""
        ids: dict[JobStatus, list[str]] = {st: [] for st in JobStatus}
        for j, o in zip(self.jobs, self._by_index, strict=True):
            if o is not None:
                ids[_status(o)].append(j.id)
        return ids

    def settle(self, not_run_reason: str) -> Mapping[str, JobOutcome]:
        """Every undecided job did not run; returns all outcomes by id, in input order."""
        undecided = [i for i, o in enumerate(self._by_index) if o is None]
        if undecided:
            done = {j.id for j, o in zip(self.jobs, self._by_index, strict=True) if o is not None and _succeeded(o)}
            for i in undecided:
                j = self.jobs[i]
                blocked = [d for d in j.deps if d not in done]
                why = f"dependency {blocked[0]} did not run" if blocked else not_run_reason
                self.set(i, JobOutcome(j, JobStatus.NOT_RUN, reason=why))
        return SettledOutcomes(self)


class SettledOutcomes(Mapping[str, JobOutcome]):
    """Every job's outcome by id, in input order, read from `Outcomes` as asked for (not one object a job)."""

    def __init__(self, outcomes: Outcomes) -> None:
        self._outcomes = outcomes
        self._index: dict[str, int] | None = None  # made on the first lookup by id

    def __getitem__(self, job_id: str) -> JobOutcome:
        if self._index is None:
            self._index = {job.id: i for i, job in enumerate(self._outcomes.jobs)}
        found = self._outcomes[self._index[job_id]]
        assert found is not None  # settled: every job is decided
        return found

    def __iter__(self) -> Iterator[str]:
        return (job.id for job in self._outcomes.jobs)

    def __len__(self) -> int:
        return len(self._outcomes.jobs)

    def values(self) -> ValuesView[JobOutcome]:
        return _InOrder(self)

    def items(self) -> ItemsView[str, JobOutcome]:
        return _PairsInOrder(self)

    def _each(self) -> Iterator[JobOutcome]:
        outcomes = self._outcomes
        for i in range(len(outcomes.jobs)):
            found = outcomes[i]
            assert found is not None
            yield found


class _InOrder(ValuesView[JobOutcome]):
    """The values without a lookup by id each."""

    _mapping: SettledOutcomes

    def __iter__(self) -> Iterator[JobOutcome]:
        return self._mapping._each()


class _PairsInOrder(ItemsView[str, JobOutcome]):
    _mapping: SettledOutcomes

    def __iter__(self) -> Iterator[tuple[str, JobOutcome]]:
        return ((outcome.job.id, outcome) for outcome in self._mapping._each())


def _status(kept: JobOutcome | int) -> JobStatus:
    return JobStatus.SUCCEEDED if isinstance(kept, int) else kept.status


def _succeeded(kept: JobOutcome | int) -> bool:
    return _status(kept) is JobStatus.SUCCEEDED


def resumable(outcomes: Mapping[str, JobOutcome], stopped_reason: StopReason | None) -> bool:
    """A later run could finish the work: the run stopped early, a job failed retryably, or a job did not run."""
    return stopped_reason is not None or any(_unfinished(o) for o in outcomes.values())


def _unfinished(o: JobOutcome) -> bool:
    if o.status is JobStatus.NOT_RUN:
        return True
    return o.status is JobStatus.FAILED and o.failure is not None and o.failure.retryable
