"""Append-only JSON-lines journal of a run, and the checkpoint summary next to it.

One line per event, written whole and flushed at once, so a killed process loses at most the line being
written (the kernel keeps what was flushed; fsync only matters against power loss, so it is done at
checkpoints and on close, or per entry when asked). `load_journal` tolerates a torn last line and tells, per
job, what is known: done (with result), failed, skipped, started but unfinished (outcome unknown), or never
started.

Events: planned | started | done | failed | skipped | stopped | checkpoint. Common keys: "t" (epoch seconds),
"event", "job", "attempt", "result", "class", "message". A `failed` line has "final": false when a retry
follows.
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

EVENTS = frozenset({"planned", "started", "done", "failed", "skipped", "stopped", "checkpoint"})


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

    def append(self, event: str, job: str | None = None, *, flush: bool = True, **fields: Any) -> None:
        """One line. `flush=False` for a batch the caller flushes itself (`sync()`): each flush is a syscall."""
        if event not in EVENTS:
            raise ValueError(f"unknown journal event {event!r}")
        entry: dict[str, Any] = {"t": round(self._clock(), 3), "event": event}
        if job is not None:
            entry["job"] = job
        entry.update((k, v) for k, v in fields.items() if v is not None)
        line = _COMPACT.encode(entry) + "\n"
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
        counts = summary.get("counts")
        self.append("checkpoint", counts=counts, final=summary.get("final"))
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


def _attempt(entry: Mapping[str, Any]) -> int:
    # A journal may come from a checkpoint of unknown origin: a malformed count is the first attempt, not a crash.
    value = entry.get("attempt")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def load_journal(path: str | os.PathLike[str]) -> JournalState:
    """Read a journal (possibly written by several runs: later lines win). Missing file: empty state."""
    state = JournalState()
    p = Path(path)
    if not p.exists():
        return state
    seen_planned: set[str] = set()
    started: set[str] = set()
    status: dict[str, str] = {}
    attempt: dict[str, int] = {}
    with open(p, encoding="utf-8", errors="replace") as f:
        for raw in f:
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                state.torn_lines += 1
                continue
            if not isinstance(entry, dict):
                state.torn_lines += 1
                continue
            event, job = entry.get("event"), entry.get("job")
            if event == "checkpoint":
                state.checkpoints += 1
                continue
            if event == "stopped":
                reason = entry.get("reason")
                state.stopped_reason = reason if isinstance(reason, str) else None
                continue
            if not isinstance(job, str):
                continue
            if event == "planned":
                if job not in seen_planned:
                    seen_planned.add(job)
                    state.planned.append(job)
            elif event == "started":
                started.add(job)
                status[job] = "started"
                attempt[job] = _attempt(entry)
                state.done.pop(job, None)
                state.failed.pop(job, None)
                state.skipped.pop(job, None)
            elif event == "done":
                started.add(job)
                status[job] = "done"
                state.done[job] = entry.get("result")
                state.failed.pop(job, None)
            elif event == "failed":
                started.add(job)
                fail = JournalFailure(
                    cls=str(entry.get("class", "")),
                    message=str(entry.get("message", "")),
                    attempts=_attempt(entry),
                    retryable=bool(entry.get("retryable", False)),
                    outcome_unknown=bool(entry.get("outcome_unknown", False)),
                )
                if entry.get("final", True):
                    status[job] = "failed"
                    state.failed[job] = fail
                else:
                    status[job] = "retrying"
                    state.unfinished[job] = Unfinished(fail.attempts, fail)
            elif event == "skipped":
                status[job] = "skipped"
                state.skipped[job] = str(entry.get("message", ""))
    for job, st in status.items():
        if st == "started":
            prev = state.unfinished.get(job)
            state.unfinished[job] = Unfinished(attempt.get(job, 1), prev.last_failure if prev else None)
        elif st != "retrying":
            state.unfinished.pop(job, None)
    state.not_started = [j for j in state.planned if j not in started and j not in state.skipped]
    return state
