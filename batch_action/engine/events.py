"""The journal's events, typed: what the scheduler writes and what a later run reads back are the same classes.

Each event is one JSON line: `{"t": …, "event": NAME, "job": …, …fields}`; a field that is None is left out. A
journal may come from a checkpoint of unknown origin, so `read_event` never raises: a line it cannot make sense
of is None (the loader counts it as torn), and a wrongly typed field gets its harmless default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """What the journal keeps of a failed attempt (the engine's `Failure`, as plain values)."""

    cls: str
    message: str
    status: int | None = None
    retryable: bool = False
    outcome_unknown: bool = False

    def fields(self) -> dict[str, Any]:
        return {
            "class": self.cls,
            "status": self.status,
            "message": self.message,
            "retryable": self.retryable,
            "outcome_unknown": self.outcome_unknown,
        }

    @classmethod
    def read(cls, entry: Mapping[str, Any]) -> FailureRecord:
        status = entry.get("status")
        return cls(
            cls=str(entry.get("class", "")),
            message=str(entry.get("message", "")),
            status=status if _is_int(status) else None,
            retryable=bool(entry.get("retryable", False)),
            outcome_unknown=bool(entry.get("outcome_unknown", False)),
        )


@dataclass(frozen=True, slots=True)
class Planned:
    NAME: ClassVar[str] = "planned"
    job: str
    label: str | None = None
    deps: tuple[str, ...] = ()

    def fields(self) -> dict[str, Any]:
        return {"label": self.label or None, "deps": list(self.deps) or None}

    @classmethod
    def read(cls, job: str, entry: Mapping[str, Any]) -> Planned:
        label, deps = entry.get("label"), entry.get("deps")
        return cls(
            job,
            label if isinstance(label, str) else None,
            tuple(d for d in deps if isinstance(d, str)) if isinstance(deps, list) else (),
        )


@dataclass(frozen=True, slots=True)
class Started:
    NAME: ClassVar[str] = "started"
    job: str
    attempt: int = 1

    def fields(self) -> dict[str, Any]:
        return {"attempt": self.attempt}

    @classmethod
    def read(cls, job: str, entry: Mapping[str, Any]) -> Started:
        return cls(job, _attempt(entry))


@dataclass(frozen=True, slots=True)
class Done:
    NAME: ClassVar[str] = "done"
    job: str
    attempt: int = 1
    result: Any = None  # the job's JSON-able result (an issue's number and id, say)

    def fields(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "result": self.result}

    @classmethod
    def read(cls, job: str, entry: Mapping[str, Any]) -> Done:
        return cls(job, _attempt(entry), entry.get("result"))


@dataclass(frozen=True, slots=True)
class Failed:
    """An attempt that failed: `final` when no retry follows (then `reason` says why the engine gave up)."""

    NAME: ClassVar[str] = "failed"
    job: str
    attempt: int
    failure: FailureRecord
    final: bool = True
    reason: str | None = None
    retry_in: float | None = None

    def fields(self) -> dict[str, Any]:
        retry_in = round(self.retry_in, 3) if self.retry_in is not None else None
        return {"attempt": self.attempt, "final": self.final, "reason": self.reason, "retry_in": retry_in} | (
            self.failure.fields()
        )

    @classmethod
    def read(cls, job: str, entry: Mapping[str, Any]) -> Failed:
        reason, retry_in = entry.get("reason"), entry.get("retry_in")
        return cls(
            job,
            _attempt(entry),
            FailureRecord.read(entry),
            final=bool(entry.get("final", True)),
            reason=reason if isinstance(reason, str) else None,
            retry_in=float(retry_in) if isinstance(retry_in, int | float) and not isinstance(retry_in, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class Skipped:
    NAME: ClassVar[str] = "skipped"
    job: str
    message: str = ""

    def fields(self) -> dict[str, Any]:
        return {"message": self.message}

    @classmethod
    def read(cls, job: str, entry: Mapping[str, Any]) -> Skipped:
        return cls(job, str(entry.get("message", "")))


@dataclass(frozen=True, slots=True)
class Stopped:
    """The run stopped early; `not_run` are the jobs it never started."""

    NAME: ClassVar[str] = "stopped"
    reason: str | None
    not_run: tuple[str, ...] = ()

    def fields(self) -> dict[str, Any]:
        return {"reason": self.reason, "not_run": list(self.not_run)}

    @classmethod
    def read(cls, entry: Mapping[str, Any]) -> Stopped:
        reason, not_run = entry.get("reason"), entry.get("not_run")
        jobs = tuple(j for j in not_run if isinstance(j, str)) if isinstance(not_run, list) else ()
        return cls(reason if isinstance(reason, str) else None, jobs)


@dataclass(frozen=True, slots=True)
class CheckpointNoted:
    """checkpoint.json was written (its counts, and whether it was the run's last)."""

    NAME: ClassVar[str] = "checkpoint"
    counts: Mapping[str, int] | None = None
    final: bool | None = None

    def fields(self) -> dict[str, Any]:
        return {"counts": self.counts, "final": self.final}

    @classmethod
    def read(cls, entry: Mapping[str, Any]) -> CheckpointNoted:
        counts, final = entry.get("counts"), entry.get("final")
        return cls(counts if isinstance(counts, dict) else None, final if isinstance(final, bool) else None)


JobEvent = Planned | Started | Done | Failed | Skipped
Event = JobEvent | Stopped | CheckpointNoted
_JOB_EVENTS: dict[str, type[Planned] | type[Started] | type[Done] | type[Failed] | type[Skipped]] = {
    kind.NAME: kind for kind in (Planned, Started, Done, Failed, Skipped)
}
NAMES = frozenset({*_JOB_EVENTS, Stopped.NAME, CheckpointNoted.NAME})


def event_json(event: Event, t: float) -> dict[str, Any]:
    """The journal line of `event` at epoch time `t`, as a dict (keys in the order they are written)."""
    entry: dict[str, Any] = {"t": round(t, 3), "event": event.NAME}
    job = getattr(event, "job", None)
    if job is not None:
        entry["job"] = job
    entry.update((key, value) for key, value in event.fields().items() if value is not None)
    return entry


def read_event(entry: object) -> Event | None:
    """One parsed journal line as its event, or None when it is not one (unknown event, no job id)."""
    if not isinstance(entry, dict):
        return None
    name = entry.get("event")
    if name == Stopped.NAME:
        return Stopped.read(entry)
    if name == CheckpointNoted.NAME:
        return CheckpointNoted.read(entry)
    kind = _JOB_EVENTS.get(name) if isinstance(name, str) else None
    job = entry.get("job")
    if kind is None or not isinstance(job, str):
        return None
    return kind.read(job, entry)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _attempt(entry: Mapping[str, Any]) -> int:
    # A malformed count is the first attempt, not a crash.
    value = entry.get("attempt")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1
