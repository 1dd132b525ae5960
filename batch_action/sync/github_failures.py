"""How the engine should read what PyGithub, requests and urllib3 raise: the `Classifier` of the GitHub adapter.

The classes follow GitHub's documented rate-limit rules (github-api.md §1) and what PyGithub 2.10 actually
raises with `retry=None` (pygithub.md §2): 403 vs 429 is not a reliable discriminator, the body message and
the `x-ratelimit-*` / `retry-after` headers are. `RateLimitExceededException.message` is None, so the text
is read from `.data["message"]`.
"""

from __future__ import annotations

import email.utils
import socket
from collections.abc import Mapping
from typing import Any

import requests
import urllib3.exceptions
from github import GithubException
from github.Requester import Requester

from batch_action.engine.failures import Failure, FailureClass, classify_standard


def classify_github(exc: BaseException, *, writes: bool, now: float) -> Failure:
    """The engine's `Classifier` for jobs and reads through the PyGithub adapter."""
    if isinstance(exc, GithubException):
        return _classify_http(exc.status, exc.headers or {}, _github_message(exc), writes=writes, now=now)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        resp = exc.response
        headers = {k.lower(): v for k, v in resp.headers.items()}
        return _classify_http(resp.status_code, headers, _requests_message(resp), writes=writes, now=now)
    if isinstance(exc, requests.RequestException):
        return _classify_transport(exc, writes=writes)
    # requests' exceptions are OSErrors too, so they had to come first.
    return classify_standard(exc, writes=writes, now=now)


def _classify_http(status: int, headers: Mapping[str, str], message: str, *, writes: bool, now: float) -> Failure:
    h = {k.lower(): v for k, v in headers.items()}
    retry_after = parse_retry_after(h.get("retry-after"), now)
    reset_at = _float(h.get("x-ratelimit-reset"))
    remaining = _int(h.get("x-ratelimit-remaining"))
    resource = h.get("x-ratelimit-resource")
    text = message or "(no message)"

    def limit(cls: FailureClass) -> Failure:
        return Failure.of(
            cls,
            status,
            f"{text} (HTTP {status})",
            writes=writes,
            retry_after=retry_after,
            reset_at=reset_at,
            remaining=remaining,
            resource=resource,
        )

    if status in (403, 429):
        # A 403 is only a limit when the message or headers say so; otherwise it is a permission problem.
        if Requester.isSecondaryRateLimitError(message) or (status == 403 and retry_after is not None):
            return limit(FailureClass.SECONDARY_LIMIT)
        if remaining == 0 or Requester.isPrimaryRateLimitError(message):
            return limit(FailureClass.PRIMARY_LIMIT)
        if status == 429:
            return limit(FailureClass.TOO_MANY)  # retry-after, if sent, is still honoured by the policy
        need = "issues: write" if writes else "issues: read"
        return Failure.of(
            FailureClass.AUTH,
            status,
            f"{text} (HTTP 403): the token lacks a permission this call needs; grant `{need}` "
            "(e.g. `permissions: issues: write` in the workflow) or a token with access to the repository",
            writes=writes,
        )
    if status == 401:
        return Failure.of(
            FailureClass.AUTH,
            status,
            f"{text} (HTTP 401): the token is missing, invalid, expired or revoked; check the `github-token` input",
            writes=writes,
        )
    if status == 404:
        return Failure.of(
            FailureClass.ITEM,
            status,
            f"{text} (HTTP 404): the object does not exist, or the token cannot see it",
            writes=writes,
        )
    if status == 410:
        return Failure.of(FailureClass.ITEM, status, f"{text} (HTTP 410): gone (are issues disabled?)", writes=writes)
    if status == 422:
        return Failure.of(FailureClass.ITEM, status, f"{text} (HTTP 422)", writes=writes)
    if 500 <= status <= 599:
        return Failure.of(FailureClass.SERVER, status, f"{text} (HTTP {status})", writes=writes)
    return Failure.of(FailureClass.BUG, status, f"{text} (HTTP {status})", writes=writes)


def _classify_transport(exc: requests.RequestException, *, writes: bool) -> Failure:
    if isinstance(exc, requests.ConnectTimeout):
        # Never connected, so nothing was sent: a write is safe to repeat.
        return Failure.of(FailureClass.TIMEOUT, None, f"connect timed out: {exc}", writes=writes, sent=False)
    if isinstance(exc, requests.Timeout):
        return Failure.of(FailureClass.TIMEOUT, None, f"timed out waiting for the response: {exc}", writes=writes)
    if isinstance(exc, requests.ConnectionError):
        if _never_connected(exc):
            return Failure.of(FailureClass.CONNECTION, None, f"could not connect: {exc}", writes=writes, sent=False)
        return Failure.of(FailureClass.CONNECTION, None, f"connection lost: {exc}", writes=writes)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return Failure.of(FailureClass.CONNECTION, None, f"response cut short: {exc}", writes=writes)
    if isinstance(exc, requests.exceptions.RetryError):
        # Only when someone left urllib3 retries on: they were exhausted on a status we cannot see.
        text = str(exc)
        if "403" in text or "429" in text:
            return Failure.of(FailureClass.SECONDARY_LIMIT, None, f"retries exhausted: {text}", writes=writes)
        return Failure.of(FailureClass.SERVER, None, f"retries exhausted: {text}", writes=writes)
    return Failure.of(FailureClass.BUG, None, f"{type(exc).__name__}: {exc}", writes=writes)


_NO_CONNECTION = (
    urllib3.exceptions.NewConnectionError,  # refused, DNS (NameResolutionError is a subclass)
    urllib3.exceptions.ConnectTimeoutError,
    ConnectionRefusedError,
    socket.gaierror,
)


def _never_connected(exc: BaseException) -> bool:
    """True when the chain shows the TCP connection was never made (refused, DNS, connect timeout)."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, _NO_CONNECTION):
            return True
        if isinstance(e, BaseException):
            stack.extend(a for a in e.args if isinstance(a, BaseException))
            stack.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
    return False


def _github_message(exc: GithubException) -> str:
    # RateLimitExceededException / BadCredentialsException carry the text only in .data.
    if exc.message:
        return exc.message
    data = exc.data
    if isinstance(data, dict):
        msg = data.get("message")
        text = str(msg) if msg else ""
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            details = "; ".join(_error_detail(e) for e in errors[:3])
            text = f"{text}: {details}" if text else details
        return text
    return str(data) if data else ""


def _error_detail(err: object) -> str:
    if isinstance(err, dict):
        parts = [str(err[k]) for k in ("resource", "field", "code", "message") if err.get(k)]
        return " ".join(parts)
    return str(err)


def _requests_message(resp: requests.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.reason or ""
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return resp.reason or ""


def parse_retry_after(value: str | None, now: float) -> float | None:
    """`retry-after` is seconds (what GitHub sends) or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    seconds = _float(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    f = _float(value)
    return None if f is None else int(f)
