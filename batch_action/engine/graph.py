"""The jobs' dependencies, by index in the run's job list, and the queue of jobs ready to start.

Everything per job is kept by its index, in flat arrays: no dict by id, no object per edge (a 10,000-item run
has ~31,000 jobs and ~50,000 edges). Building validates the graph: duplicate ids, unknown or self
dependencies and cycles are refused before anything runs.
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Protocol


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


class JobGraph:
    def __init__(self, jobs: Sequence[Schedulable]) -> None:
        self.jobs = jobs
        self.waiting = array("i", [0]) * len(jobs)  # deps not yet succeeded
        # Dependents of job i, in input order: dependents[dependents_at[i] : dependents_at[i + 1]].
        self.dependents_at = array("i", [0]) * (len(jobs) + 1)
        self.dependents = array("i")
        edge_dep, edge_job = self._edges()
        self._index_dependents(edge_dep, edge_job)
        self._refuse_cycles()

    def _edges(self) -> tuple[array[int], array[int]]:
        jobs = self.jobs
        index = {j.id: i for i, j in enumerate(jobs)}  # only while building: ~60 bytes a job
        if len(index) != len(jobs):
            dupes = sorted(i for i, n in Counter(j.id for j in jobs).items() if n > 1)
            raise ValueError(f"duplicate job ids: {', '.join(dupes)}")
        # Edges (dep, dependent), dependents in input order, in two flat arrays: not ~100 bytes of tuple each.
        edge_dep, edge_job = array("i"), array("i")
        for i, j in enumerate(jobs):
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
        return edge_dep, edge_job

    def _index_dependents(self, edge_dep: array[int], edge_job: array[int]) -> None:
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

    def _refuse_cycles(self) -> None:
        # Kahn: anything left over sits on a cycle.
        left = self.waiting[:]
        free = [i for i, j in enumerate(self.jobs) if not j.deps]
        seen = 0
        while free:
            i = free.pop()
            seen += 1
            for d in self.dependents_of(i):
                left[d] -= 1
                if left[d] == 0:
                    free.append(d)
        if seen != len(self.jobs):
            cyclic = sorted(j.id for j, n in zip(self.jobs, left, strict=True) if n > 0)
            raise ValueError(f"dependency cycle among jobs: {', '.join(cyclic[:20])}")

    def dependents_of(self, i: int) -> array[int]:
        return self.dependents[self.dependents_at[i] : self.dependents_at[i + 1]]

    def succeeded(self, i: int) -> Iterator[int]:
        """Job i succeeded: the dependents whose last dependency that was."""
        for d in self.dependents_of(i):
            self.waiting[d] -= 1
            if self.waiting[d] == 0:
                yield d


class ReadyQueue:
    """Jobs free to start: lowest `order` first, then input order."""

    def __init__(self, jobs: Sequence[Schedulable]) -> None:
        self._jobs = jobs
        self._heap: list[int] = []

    def __bool__(self) -> bool:
        return bool(self._heap)

    def push(self, i: int) -> None:
        heapq.heappush(self._heap, self._key(i))

    def pop(self) -> int:
        return heapq.heappop(self._heap) % len(self._jobs)

    def _key(self, i: int) -> int:
        # Sorts like (order, index): lowest order first, then input order. One int, not a tuple: while the
        # creates of a large run go first, ~20,000 link jobs wait in the heap.
        return self._jobs[i].order * len(self._jobs) + i
