"""What a failed attempt is, to the engine: a `FailureClass` and the facts the retry and rate-limit rules read.

The engine does not know which library raised what. A `Classifier` turns an exception into a `Failure`; the
adapter that raised it provides one (`batch_action.sync.github_failures` for PyGithub, the artifacts transport
for its own). `Failure.of` holds the rules every classifier shares: which classes are retried, which end the
run, and when a write's outcome is unknown.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class FailureClass(StrEnum):
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    SERVER = "server"
    SECONDARY_LIMIT = "secondary-limit"
    PRIMARY_LIMIT = "primary-limit"
    TOO_MANY = "too-many"
    AUTH = "auth"
    ITEM = "item"
    BUG = "bug"


RETRYABLE_CLASSES = frozenset(
    {
        FailureClass.CONNECTION,
        FailureClass.TIMEOUT,
        FailureClass.SERVER,
        FailureClass.SECONDARY_LIMIT,
        FailureClass.PRIMARY_LIMIT,
        FailureClass.TOO_MANY,
    }
)
# Rate-limit classes: the whole API is unavailable to us, not just this request.
LIMIT_CLASSES = frozenset({FailureClass.SECONDARY_LIMIT, FailureClass.PRIMARY_LIMIT, FailureClass.TOO_MANY})
# The request may have been handled although no answer came: a write may have landed.
_UNKNOWN_OUTCOME_CLASSES = frozenset({FailureClass.CONNECTION, FailureClass.TIMEOUT, FailureClass.SERVER})


@dataclass(frozen=True)
class Failure:
    """One failed attempt, classified. Plain values only, so it can cross threads and go into the journal."""

    cls: FailureClass
    status: int | None
    message: str
    retry_after: float | None = None  # seconds, from `retry-after`
    reset_at: float | None = None  # epoch seconds, from `x-ratelimit-reset`
    retryable: bool = False
    fatal_for_run: bool = False
    outcome_unknown: bool = False  # a write may have landed although we saw an error
    remaining: int | None = None  # `x-ratelimit-remaining`, when sent
    resource: str | None = None  # `x-ratelimit-resource`, when sent

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "class": self.cls.value,
            "status": self.status,
            "message": self.message,
            "retryable": self.retryable,
            "outcome_unknown": self.outcome_unknown,
        }
        if self.fatal_for_run:
            out["fatal_for_run"] = True
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        if self.reset_at is not None:
            out["reset_at"] = self.reset_at
        return out

    @staticmethod
    def of(
        failure_class: FailureClass,
        status: int | None,
        message: str,
        *,
        writes: bool,
        sent: bool = True,
        retry_after: float | None = None,
        reset_at: float | None = None,
        remaining: int | None = None,
        resource: str | None = None,
    ) -> Failure:
        """A failure of `failure_class`, with the flags the class implies. `writes`: the attempt sends
        POST/PATCH/DELETE; `sent`: its request may have reached the server (False: refused, never connected)."""
        return Failure(
            cls=failure_class,
            status=status,
            message=message,
            retry_after=retry_after,
            reset_at=reset_at,
            retryable=failure_class in RETRYABLE_CLASSES,
            fatal_for_run=failure_class is FailureClass.AUTH,
            outcome_unknown=writes and sent and failure_class in _UNKNOWN_OUTCOME_CLASSES,
            remaining=remaining,
            resource=resource,
        )


class JobError(Exception):
    """Raised by an execute callable to report a failure of a known class (ITEM: "parent issue missing")."""

    def __init__(self, cls: FailureClass, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.cls = cls
        self.status = status
        self.message = message


class Classifier(Protocol):
    """Exception -> `Failure`, for one attempt. `writes`: the attempt sends POST/PATCH/DELETE; `now`: epoch
    seconds, for server-dictated waits given as dates."""

    def __call__(self, exc: BaseException, *, writes: bool, now: float) -> Failure: ...


def classify_standard(exc: BaseException, *, writes: bool, now: float) -> Failure:
    """The classes the engine can tell without an adapter: a `JobError` keeps its class, the standard library's
    socket errors are transport failures, anything else is a bug. Adapters' classifiers end with this."""
    if isinstance(exc, JobError):
        return Failure.of(exc.cls, exc.status, exc.message, writes=writes)
    if isinstance(exc, socket.timeout | TimeoutError):
        return Failure.of(FailureClass.TIMEOUT, None, f"timed out: {exc}", writes=writes)
    if isinstance(exc, ConnectionRefusedError | socket.gaierror):
        return Failure.of(FailureClass.CONNECTION, None, f"could not connect: {exc}", writes=writes, sent=False)
    if isinstance(exc, ConnectionError):
        return Failure.of(FailureClass.CONNECTION, None, f"connection lost: {exc}", writes=writes)
    return Failure.of(FailureClass.BUG, None, f"{type(exc).__name__}: {exc}", writes=writes)
