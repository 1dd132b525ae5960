"""What the engine's tests raise: a `Fault` names its failure class and the facts a server would have sent, and
`classify_faults` is the engine's `Classifier` for it. The engine's rules are tested on failure classes, not on
what one HTTP library raises (that is tests/test_github_failures.py)."""

from __future__ import annotations

from batch_action.engine.failures import Failure, FailureClass, classify_standard


class Fault(Exception):
    def __init__(
        self,
        cls: FailureClass,
        status: int | None = None,
        message: str = "",
        *,
        retry_after: float | None = None,
        reset_at: float | None = None,
        remaining: int | None = None,
        sent: bool = True,
    ) -> None:
        super().__init__(message or cls.value)
        self.cls = cls
        self.status = status
        self.message = message or cls.value
        self.retry_after = retry_after
        self.reset_at = reset_at
        self.remaining = remaining
        self.sent = sent


def classify_faults(exc: BaseException, *, writes: bool, now: float) -> Failure:
    if not isinstance(exc, Fault):
        return classify_standard(exc, writes=writes, now=now)
    return Failure.of(
        exc.cls,
        exc.status,
        exc.message,
        writes=writes,
        sent=exc.sent,
        retry_after=exc.retry_after,
        reset_at=exc.reset_at,
        remaining=exc.remaining,
    )


def server_error(status: int = 502) -> Fault:
    return Fault(FailureClass.SERVER, status, "Server Error")


def not_found() -> Fault:
    return Fault(FailureClass.ITEM, 404, "Not Found")


def read_timeout() -> Fault:
    return Fault(FailureClass.TIMEOUT, None, "read timed out")


def connection_error() -> Fault:
    return Fault(FailureClass.CONNECTION, None, "Connection aborted.")


def secondary_limit(
    retry_after: float | None = None, *, reset_at: float | None = None, remaining: int | None = None
) -> Fault:
    return Fault(
        FailureClass.SECONDARY_LIMIT,
        403,
        "You have exceeded a secondary rate limit.",
        retry_after=retry_after,
        reset_at=reset_at,
        remaining=remaining,
    )


def primary_limit(reset_at: float) -> Fault:
    return Fault(FailureClass.PRIMARY_LIMIT, 403, "API rate limit exceeded", reset_at=reset_at, remaining=0)
