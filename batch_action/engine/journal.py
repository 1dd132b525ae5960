"""Append-only JSON-lines journal of a run, and the checkpoint summary next to it.

One line per event, written whole and flushed at once, so a killed process loses at most the line being
written (the kernel keeps what was flushed; fsync only matters against power loss, so it is done at
checkpoints and on close, or per entry when asked). `load_journal` tolerates a torn last line and tells, per
job, what is known: done (with result), failed, skipped, started but unfinished (outcome unknown), or never
started.

The events are the typed classes of `engine.events` (planned, started, done, failed, skipped, stopped,
checkpoint): the scheduler writes them, and `load_journal` is a fold over them as they are read back.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .events import CheckpointNoted, Done, Event, Failed, Planned, Skipped, Started, Stopped, event_json, read_event


class Journal:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        checkpoint_path: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
        fsync_every_entry: bool = False,
    ) -> None:
        self.path = Path(path)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else self.path.with_name("checkpoint.json")
        self._clock = clock
        self._fsync_each = fsync_every_entry
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (kept open)
        # A previous run killed mid-line left no newline: start on a fresh line, never glue onto the torn one.
        self._file.seek(0, os.SEEK_END)
        if self._file.tell() > 0:
            self._file.seek(self._file.tell() - 1)
            if self._file.read(1) != "\n":
                self._file.write("\n")
                self._file.flush()

    def write(self, event: Event, *, flush: bool = True) -> None:
        """One line. `flush=False` for a batch the caller flushes itself (`sync()`): each flush is a syscall."""
        line = _COMPACT.encode(event_json(event, self._clock())) + "\n"
        with self._lock:
            if self._file is None:
                raise ValueError("journal is closed")
            self._file.write(line)
            if not flush:
                return
            self._file.flush()
            if self._fsync_each:
                os.fsync(self._file.fileno())

    def checkpoint(self, summary: Mapping[str, Any]) -> None:
        """Write checkpoint.json atomically (tmp + rename) and note it in the journal."""
        data = {"t": round(self._clock(), 3), **summary}
        tmp = self.checkpoint_path.with_name(self.checkpoint_path.name + ".tmp")
        # One key per line, each value on one line by the C encoder: `indent=` would take json's pure-Python
        # encoder, whose cost for the id lists of a 30,000-job run was most of a checkpoint's. Written key by
        # key: joining first held several copies of the ~1 MB id lists at the end of a 30,000-job run.
        with open(tmp, "w", encoding="utf-8") as f:
            sep = "{\n"
            for key in sorted(data):
                f.write(f"{sep} {json.dumps(str(key), ensure_ascii=False)}: ")
                _write_one_line(f, data[key])
                sep = ",\n"
            f.write("\n}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.checkpoint_path)
        counts, final = summary.get("counts"), summary.get("final")
        self.write(
            CheckpointNoted(counts if isinstance(counts, Mapping) else None, final if isinstance(final, bool) else None)
        )
        self.sync()

    def sync(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fallback(value: object) -> object:
    # Results should be JSON-able; anything else is kept readable rather than failing the run.
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    return repr(value)


_ONE_LINE = json.JSONEncoder(default=_fallback, ensure_ascii=False, sort_keys=True)
# What json.dumps(..., default=_fallback, ensure_ascii=False, separators=(",", ":")) builds on every call.
_COMPACT = json.JSONEncoder(default=_fallback, ensure_ascii=False, separators=(",", ":"))


_SLICE = 1000


def _write_one_line(f: IO[str], value: object) -> None:
    """`f.write(_ONE_LINE.encode(value))`, byte for byte, but a long list by slices: encoded at once, each of
    its items is a string of its own until the join (~3 MB for the 30,000 ids of a large run's checkpoint)."""
    if not isinstance(value, list) or len(value) <= _SLICE:
        f.write(_ONE_LINE.encode(value))
        return
    f.write("[")
    for k in range(0, len(value), _SLICE):
        if k:
            f.write(", ")
        f.write(_ONE_LINE.encode(value[k : k + _SLICE])[1:-1])
    f.write("]")


@dataclass(frozen=True)
class JournalFailure:
    cls: str
    message: str
    attempts: int
    retryable: bool
    outcome_unknown: bool


@dataclass(frozen=True)
class Unfinished:
    """Started but no final line: the process died mid-job. For a write, the outcome is unknown."""

    attempt: int
    last_failure: JournalFailure | None = None


@dataclass
class JournalState:
    planned: list[str] = field(default_factory=list)
    done: dict[str, Any] = field(default_factory=dict)  # job id -> result
    failed: dict[str, JournalFailure] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # job id -> reason
    unfinished: dict[str, Unfinished] = field(default_factory=dict)
    not_started: list[str] = field(default_factory=list)
    stopped_reason: str | None = None
    torn_lines: int = 0  # unreadable lines skipped (normally at most the last one)
    checkpoints: int = 0


def load_journal(path: str | os.PathLike[str]) -> JournalState:
    """Read a journal (possibly written by several runs: later lines win). Missing file: empty state."""
    fold = _Fold()
    p = Path(path)
    if not p.exists():
        return fold.state
    with open(p, encoding="utf-8", errors="replace") as f:
        for raw in f:
            if not raw.strip():
                continue
            try:
                event = read_event(json.loads(raw))
            except json.JSONDecodeError:
                event = None
            if event is None:
                fold.state.torn_lines += 1
            else:
                fold.apply(event)
    return fold.finish()


class _Fold:
    """What the events read so far say about each job; `finish` settles the jobs still in flight."""

    def __init__(self) -> None:
        self.state = JournalState()
        self._planned: set[str] = set()
        self._started: set[str] = set()
        self._status: dict[str, str] = {}  # job -> started | done | failed | retrying | skipped
        self._attempt: dict[str, int] = {}

    def apply(self, event: Event) -> None:
        state = self.state
        if isinstance(event, CheckpointNoted):
            state.checkpoints += 1
        elif isinstance(event, Stopped):
            state.stopped_reason = event.reason
        elif isinstance(event, Planned):
            if event.job not in self._planned:
                self._planned.add(event.job)
                state.planned.append(event.job)
        elif isinstance(event, Started):
            self._started.add(event.job)
            self._status[event.job] = "started"
            self._attempt[event.job] = event.attempt
            state.done.pop(event.job, None)
            state.failed.pop(event.job, None)
            state.skipped.pop(event.job, None)
        elif isinstance(event, Done):
            self._started.add(event.job)
            self._status[event.job] = "done"
            state.done[event.job] = event.result
            state.failed.pop(event.job, None)
        elif isinstance(event, Failed):
            self._started.add(event.job)
            record = event.failure
            fail = JournalFailure(record.cls, record.message, event.attempt, record.retryable, record.outcome_unknown)
            if event.final:
                self._status[event.job] = "failed"
                state.failed[event.job] = fail
            else:
                self._status[event.job] = "retrying"
                state.unfinished[event.job] = Unfinished(fail.attempts, fail)
        elif isinstance(event, Skipped):
            self._status[event.job] = "skipped"
            state.skipped[event.job] = event.message

    def finish(self) -> JournalState:
        state = self.state
        for job, status in self._status.items():
            if status == "started":
                prev = state.unfinished.get(job)
                state.unfinished[job] = Unfinished(self._attempt.get(job, 1), prev.last_failure if prev else None)
            elif status != "retrying":
                state.unfinished.pop(job, None)
        state.not_started = [j for j in state.planned if j not in self._started and j not in state.skipped]
        return state
