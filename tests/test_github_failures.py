"""The GitHub adapter's classifier: what PyGithub / requests raise (pygithub.md §2 table) into failure classes."""

from __future__ import annotations

import http.client

import pytest
import requests
import urllib3.exceptions
from github import GithubException
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededException,
    UnknownObjectException,
)

from batch_action.engine.failures import Failure, FailureClass, JobError
from batch_action.sync.github_failures import classify_github, parse_retry_after

NOW = 1_700_000_000.0
SECONDARY_MSG = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
PRIMARY_MSG = "API rate limit exceeded for installation ID 1."


def _c(exc: BaseException, *, writes: bool = True) -> Failure:
    return classify_github(exc, writes=writes, now=NOW)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable_and_unknown_for_writes(status: int) -> None:
    exc = GithubException(status, {"message": "Server Error"}, {}, "Server Error")
    f = _c(exc)
    assert f.cls is FailureClass.SERVER
    assert f.status == status
    assert f.retryable and not f.fatal_for_run
    assert f.outcome_unknown
    assert not _c(exc, writes=False).outcome_unknown


def test_secondary_limit_403_with_retry_after_message_in_data() -> None:
    # RateLimitExceededException: .message is None, the text is in .data.
    exc = RateLimitExceededException(403, {"message": SECONDARY_MSG}, {"retry-after": "60"})
    assert exc.message is None
    f = _c(exc)
    assert f.cls is FailureClass.SECONDARY_LIMIT
    assert f.retry_after == 60.0
    assert "secondary rate limit" in f.message
    assert f.retryable and not f.outcome_unknown


def test_secondary_limit_without_retry_after() -> None:
    f = _c(RateLimitExceededException(403, {"message": SECONDARY_MSG}, {}))
    assert f.cls is FailureClass.SECONDARY_LIMIT
    assert f.retry_after is None


def test_secondary_limit_on_429_plain_github_exception() -> None:
    f = _c(GithubException(429, {"message": SECONDARY_MSG}, {}, SECONDARY_MSG))
    assert f.cls is FailureClass.SECONDARY_LIMIT


def test_403_with_only_retry_after_is_secondary() -> None:
    f = _c(GithubException(403, {"message": "slow down"}, {"retry-after": "30"}, "slow down"))
    assert f.cls is FailureClass.SECONDARY_LIMIT
    assert f.retry_after == 30.0


def test_primary_limit_by_remaining_zero() -> None:
    headers = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "1700003600",
        "x-ratelimit-resource": "core",
    }
    f = _c(RateLimitExceededException(403, {"message": PRIMARY_MSG}, headers))
    assert f.cls is FailureClass.PRIMARY_LIMIT
    assert f.reset_at == 1_700_003_600.0
    assert f.remaining == 0
    assert f.resource == "core"
    assert f.retryable


def test_primary_limit_on_429_by_message() -> None:
    f = _c(GithubException(429, {"message": PRIMARY_MSG}, {}, PRIMARY_MSG))
    assert f.cls is FailureClass.PRIMARY_LIMIT


@pytest.mark.parametrize("headers", [{}, {"retry-after": "7"}])
def test_429_otherwise_is_too_many(headers: dict[str, str]) -> None:
    f = _c(GithubException(429, {"message": "Too Many Requests"}, headers, "Too Many Requests"))
    assert f.cls is FailureClass.TOO_MANY
    assert f.retryable
    assert f.retry_after == (7.0 if headers else None)


def test_401_is_auth_and_fatal_for_the_run() -> None:
    exc = BadCredentialsException(401, {"message": "Bad credentials"}, {})
    f = _c(exc)
    assert f.cls is FailureClass.AUTH
    assert f.fatal_for_run and not f.retryable
    assert "Bad credentials" in f.message and "token" in f.message


def test_403_not_a_limit_is_auth_naming_the_permission() -> None:
    msg = "Resource not accessible by integration"
    f = _c(GithubException(403, {"message": msg}, {"x-ratelimit-remaining": "900"}, msg))
    assert f.cls is FailureClass.AUTH
    assert f.fatal_for_run
    assert "issues: write" in f.message
    assert msg in f.message
    assert "issues: read" in _c(GithubException(403, {"message": msg}, {}, msg), writes=False).message


@pytest.mark.parametrize("status", [404, 410, 422])
def test_item_errors_fail_the_job_only(status: int) -> None:
    exc = (
        UnknownObjectException(404, {"message": "Not Found"}, {})
        if status == 404
        else GithubException(status, {"message": "nope"}, {}, "nope")
    )
    f = _c(exc)
    assert f.cls is FailureClass.ITEM
    assert not f.retryable and not f.fatal_for_run and not f.outcome_unknown


def test_422_details_from_errors_list() -> None:
    data = {"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists"}]}
    f = _c(GithubException(422, data, {}))
    assert "Validation Failed" in f.message and "already_exists" in f.message


def test_other_4xx_is_a_bug() -> None:
    f = _c(GithubException(400, {"message": "Problems parsing JSON"}, {}, "Problems parsing JSON"))
    assert f.cls is FailureClass.BUG
    assert not f.retryable and not f.fatal_for_run


def test_refused_connection_is_connection_but_known_not_sent() -> None:
    reason = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: refused")  # type: ignore[arg-type]
    exc = requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]
    f = _c(exc)
    assert f.cls is FailureClass.CONNECTION
    assert f.retryable
    assert not f.outcome_unknown  # nothing reached the server


def test_lost_response_is_connection_with_unknown_outcome() -> None:
    inner = http.client.RemoteDisconnected("Remote end closed connection without response")
    exc = requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", inner))
    f = _c(exc)
    assert f.cls is FailureClass.CONNECTION
    assert f.outcome_unknown
    assert not _c(exc, writes=False).outcome_unknown


def test_connection_reset_is_unknown_outcome() -> None:
    exc = requests.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    )
    f = _c(exc)
    assert f.cls is FailureClass.CONNECTION and f.outcome_unknown


def test_read_timeout_is_timeout_with_unknown_outcome() -> None:
    f = _c(requests.exceptions.ReadTimeout("read timed out"))
    assert f.cls is FailureClass.TIMEOUT
    assert f.retryable and f.outcome_unknown


def test_connect_timeout_was_never_sent() -> None:
    f = _c(requests.exceptions.ConnectTimeout("connect timed out"))
    assert f.cls is FailureClass.TIMEOUT
    assert not f.outcome_unknown


def test_builtin_transport_errors() -> None:
    assert _c(TimeoutError("t")).cls is FailureClass.TIMEOUT
    assert _c(ConnectionResetError("r")).outcome_unknown
    refused = _c(ConnectionRefusedError("no"))
    assert refused.cls is FailureClass.CONNECTION and not refused.outcome_unknown


def test_anything_else_is_a_bug_not_retried() -> None:
    f = _c(KeyError("number"))
    assert f.cls is FailureClass.BUG
    assert not f.retryable and not f.fatal_for_run and not f.outcome_unknown
    assert "KeyError" in f.message


def test_job_error_keeps_its_class() -> None:
    f = _c(JobError(FailureClass.ITEM, "parent issue missing"))
    assert f.cls is FailureClass.ITEM and f.message == "parent issue missing"
    assert _c(JobError(FailureClass.SERVER, "flaky")).retryable


def test_requests_http_error_with_response() -> None:
    resp = requests.Response()
    resp.status_code = 503
    resp._content = b'{"message": "unavailable"}'
    f = _c(requests.HTTPError(response=resp))
    assert f.cls is FailureClass.SERVER and "unavailable" in f.message


def test_retry_after_parsing() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", NOW) == pytest.approx(1_700_000_060 - NOW)


def test_failure_to_json_is_plain() -> None:
    f = _c(RateLimitExceededException(403, {"message": SECONDARY_MSG}, {"retry-after": "5"}))
    j = f.to_json()
    assert j["class"] == "secondary-limit" and j["retry_after"] == 5.0 and j["status"] == 403
