"""Shared HTTP plumbing: retries (the engine's retrier), auth that cannot leak, URL redaction and streamed downloads."""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Callable
from typing import IO, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import requests
import tenacity
from requests.auth import AuthBase
from requests.models import PreparedRequest

from batch_action.engine.failures import Failure, FailureClass, classify_standard
from batch_action.engine.policy import GaveUp, Retrier, RetryNotice
from batch_action.engine.stops import stop_after_retries

from .errors import (
    ArtifactIntegrityError,
    ArtifactNetworkError,
    ArtifactNotFoundError,
    ArtifactPermissionError,
    ArtifactServiceError,
    ArtifactTooLargeError,
)
from .limits import MAX_DOWNLOAD_BYTES

log = logging.getLogger("batch_action.artifacts")

T = TypeVar("T")
Sleep = Callable[[float], None]
Mask = Callable[[str], None]

# The official Twirp client: 5 attempts, 3 s then x1.5 each time, on these statuses.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 5
BASE_DELAY = 3.0
MULTIPLIER = 1.5
TIMEOUT = (30.0, 300.0)
USER_AGENT = "batch-action-artifacts/1"
# Errors where nothing usable came back; requests wraps resets and refusals in ConnectionError.
NETWORK_ERRORS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_SPOOL_MAX = 32 * 1024 * 1024
_CHUNK = 1024 * 1024
_AZURE_CODE = re.compile(r"<Code>([^<]{1,100})</Code>")


class TransientError(Exception):
    """Raised by a retried operation to ask for another attempt."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def classify_transient(exc: BaseException, *, writes: bool, now: float) -> Failure:
    """The transport's `Classifier`: a `TransientError` is a service answer worth another attempt, or no answer."""
    if not isinstance(exc, TransientError):
        return classify_standard(exc, writes=writes, now=now)
    cls = FailureClass.CONNECTION if exc.status is None else FailureClass.SERVER
    return Failure.of(cls, exc.status, str(exc), writes=writes)


def run_with_retries(op: Callable[[], T], *, what: str, sleep: Sleep, attempts: int = MAX_ATTEMPTS) -> T:
    """`op` until it returns, raises anything but `TransientError` (passed on unchanged), or has failed
    `attempts` times. No jitter, so that runs are reproducible."""
    retrier = Retrier(
        classify_transient,
        stop=stop_after_retries(attempts - 1),
        wait=tenacity.wait_exponential(multiplier=BASE_DELAY, exp_base=MULTIPLIER),
        sleep=sleep,
        retry_on=(TransientError,),
    )

    def log_retry(notice: RetryNotice) -> None:
        log.info(
            "%s: attempt %d of %d failed (%s); retrying in %.2f s",
            what,
            notice.attempt,
            attempts,
            notice.failure.message,
            notice.delay,
        )

    try:
        return retrier.call(lambda _attempt: op(), before_sleep=log_retry)
    except GaveUp as gave_up:
        last = gave_up.failure
        message = f"{what} failed after {gave_up.attempts} attempts: {last.message}"
    if last.status is None:
        # Nothing came back at all: a network problem rather than a service answer.
        raise ArtifactNetworkError(message)
    raise ArtifactServiceError(message, status=last.status)


class NoAuth(AuthBase):
    """Set as a session's auth so requests never adds credentials (e.g. from ~/.netrc) for a signed URL."""

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        r.headers.pop("Authorization", None)
        return r


class HeaderAuth(AuthBase):
    """`Authorization: <scheme> <token>`; kept out of session.headers so the token never shows in a repr."""

    def __init__(self, scheme: str, token: str) -> None:
        self._value = f"{scheme} {token}"
        self._scheme = scheme

    def __repr__(self) -> str:
        return f"HeaderAuth({self._scheme!r}, '***')"

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        r.headers["Authorization"] = self._value
        return r


def new_session(auth: AuthBase) -> requests.Session:
    session = requests.Session()
    session.auth = auth
    session.headers["User-Agent"] = USER_AGENT
    return session


def redact_url(url: str) -> str:
    """scheme://host/path only: a signed URL's query is a credential."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def signed_url_secrets(url: str) -> list[str]:
    """The URL itself plus its `sig`, decoded and encoded, as the toolkit's maskSigUrl does."""
    secrets = [url]
    query = urlsplit(url).query
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "sig" and value:
            secrets += [value, quote(value, safe="")]
    for raw in query.split("&"):
        key, _, value = raw.partition("=")
        if key == "sig" and value:
            secrets.append(value)
    return list(dict.fromkeys(secrets))


def azure_error_code(body: bytes) -> str:
    match = _AZURE_CODE.search(body[:4096].decode("utf-8", "replace"))
    return match.group(1) if match else ""


def raise_for_blob_status(resp: requests.Response, what: str, url: str) -> None:
    """Map a blob host answer that is neither success nor retryable to a typed error."""
    code = azure_error_code(resp.content)
    detail = f"{what}: {redact_url(url)} answered {resp.status_code}" + (f" {code}" if code else "")
    if resp.status_code == 403:
        raise ArtifactPermissionError(f"{detail}; the signed URL was refused (it may have expired)")
    if resp.status_code == 404:
        raise ArtifactNotFoundError(detail)
    raise ArtifactServiceError(detail, status=resp.status_code, code=code or None)


def fetch_to_spool(
    session: requests.Session, url: str, *, what: str, sleep: Sleep, max_bytes: int = MAX_DOWNLOAD_BYTES
) -> tuple[IO[bytes], int, str]:
    """GET `url` without following redirects into a spooled file; returns (file at 0, size, sha256 hex).

    A body past `max_bytes` is refused (`ArtifactTooLargeError`, not retried) as soon as the header announces it,
    or else once that many bytes have come: reading stops there.
    """

    def too_large(size: str) -> ArtifactTooLargeError:
        return ArtifactTooLargeError(f"{what}: the artifact is too large ({size} bytes, the limit is {max_bytes})")

    def attempt() -> tuple[IO[bytes], int, str]:
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX)  # noqa: SIM115 - returned open
        try:
            try:
                resp = session.get(url, stream=True, allow_redirects=False, timeout=TIMEOUT)
            except NETWORK_ERRORS as exc:
                raise TransientError(type(exc).__name__) from None
            with resp:
                if resp.status_code in RETRYABLE_STATUSES:
                    raise TransientError(f"HTTP {resp.status_code}", resp.status_code)
                if resp.status_code != 200:
                    raise_for_blob_status(resp, what, url)
                announced = resp.headers.get("Content-Length", "")
                if announced.isdigit() and int(announced) > max_bytes:
                    raise too_large(announced)
                digest = hashlib.sha256()
                size = 0
                try:
                    for chunk in resp.iter_content(_CHUNK):
                        size += len(chunk)
                        if size > max_bytes:
                            raise too_large(f"over {max_bytes}")
                        digest.update(chunk)
                        spool.write(chunk)
                except NETWORK_ERRORS as exc:
                    raise TransientError(f"{type(exc).__name__} while reading the body") from None
            spool.seek(0)
            return spool, size, digest.hexdigest()
        except BaseException:
            spool.close()
            raise

    return run_with_retries(attempt, what=what, sleep=sleep)


def check_digest(expected: str | None, actual_hex: str, what: str) -> None:
    """`expected` is `sha256:<hex>` (or absent, when the service does not know it)."""
    if not expected:
        return
    algo, _, value = expected.partition(":")
    if algo.lower() != "sha256" or not value:
        log.debug("%s: digest %r has an unknown form; not checked", what, expected)
        return
    if value.lower() != actual_hex:
        raise ArtifactIntegrityError(f"{what}: sha256 mismatch (expected {value.lower()}, got {actual_hex})")
