"""A generic batch engine: runs a graph of API operations with bounded concurrency, classified retries
(tenacity), a rate-limit governor, a circuit breaker, a JSON-lines journal and graceful stop.

It knows nothing about documents or issues: callers give it `Job`s, an `execute(job, attempt)` callable and a
`Classifier` for what that callable raises. It imports only the standard library and tenacity
(tests/test_engine_imports.py).
"""

from .breaker import BreakerState, CircuitBreaker, Permit
from .checkpoints import CheckpointCallback
from .failures import LIMIT_CLASSES, RETRYABLE_CLASSES, Classifier, Failure, FailureClass, JobError, classify_standard
from .governor import Bucket, Governor, GovernorSettings, GovernorSnapshot, WaitReason, is_limit_wait
from .graph import Schedulable
from .journal import Journal, JournalFailure, JournalState, Unfinished, load_journal
from .policy import Attempt, GaveUp, Retrier, RetryNotice, RetrySettings, standard_retrier
from .progress import ProgressReporter, ProgressSink, ProgressSnapshot, format_duration
from .result import JobOutcome, JobStatus, RunResult
from .scheduler import Engine, EngineSettings, Execute, Job, SkippingClock
from .stops import FirstStop, Stop, StopReason, stop_after_retries, stop_limit_wait_over, stop_past_deadline
from .waits import DEFAULT_BACKOFF, Backoff, wait_by_class

__all__ = [
    "DEFAULT_BACKOFF",
    "LIMIT_CLASSES",
    "RETRYABLE_CLASSES",
    "Attempt",
    "Backoff",
    "BreakerState",
    "Bucket",
    "CheckpointCallback",
    "CircuitBreaker",
    "Classifier",
    "Engine",
    "EngineSettings",
    "Execute",
    "Failure",
    "FailureClass",
    "FirstStop",
    "GaveUp",
    "Governor",
    "GovernorSettings",
    "GovernorSnapshot",
    "Job",
    "JobError",
    "JobOutcome",
    "JobStatus",
    "Journal",
    "JournalFailure",
    "JournalState",
    "Permit",
    "ProgressReporter",
    "ProgressSink",
    "ProgressSnapshot",
    "Retrier",
    "RetryNotice",
    "RetrySettings",
    "RunResult",
    "Schedulable",
    "SkippingClock",
    "Stop",
    "StopReason",
    "Unfinished",
    "WaitReason",
    "classify_standard",
    "format_duration",
    "is_limit_wait",
    "load_journal",
    "standard_retrier",
    "stop_after_retries",
    "stop_limit_wait_over",
    "stop_past_deadline",
    "wait_by_class",
]
