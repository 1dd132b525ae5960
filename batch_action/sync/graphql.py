"""GraphQL replies read the way the engine reads REST ones.

GitHub answers most GraphQL failures with HTTP 200 and an `errors` list (github-api.md §1: "primary → status 200
with error; secondary → 200 or 403"). `check_reply` turns such a reply into a `GithubException` whose status and
message the REST classifier (`sync.github_failures`) already understands, so retries, waits, the governor's
pauses and the run's stop work for GraphQL exactly as for REST: `RATE_LIMITED` is a primary limit (of the
`graphql` bucket the headers name), a "secondary rate limit" message a secondary one, `NOT_FOUND` a 404,
`FORBIDDEN` (e.g. "Resource not accessible by integration") a 403, anything else a refusal of this item (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from github.GithubException import GithubException
from github.Requester import Requester

__all__ = ["GraphQLError", "check_reply", "error_types"]

_PRIMARY_PREFIX = "API rate limit exceeded"
_SECONDARY_PREFIX = "You have exceeded a secondary rate limit"


class GraphQLError(GithubException):
    """A GraphQL reply with `errors`, as a `GithubException` of the status the errors amount to."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]], headers: Mapping[str, Any]) -> None:
        super().__init__(status, {"message": message, "errors": errors}, dict(headers), message)
        self.errors = errors

    @property
    def types(self) -> set[str]:
        return error_types(self.errors)


def error_types(errors: list[dict[str, Any]]) -> set[str]:
    return {str(error.get("type")) for error in errors if error.get("type")}


def check_reply(headers: Mapping[str, Any], reply: object) -> dict[str, Any]:
    """The reply's `data`, or `GraphQLError` when it carries errors (partial data is not used: a query the
    action sends either answers whole or fails)."""
    if not isinstance(reply, dict):
        raise GraphQLError(502, "the GraphQL reply is not a JSON object", [], headers)
    raw = reply.get("errors")
    errors = [error for error in raw if isinstance(error, dict)] if isinstance(raw, list) else []
    if raw:
        messages = [str(error.get("message") or "") for error in errors] or ["(no message)"]
        message = "; ".join(dict.fromkeys(messages))[:1_000]
        types = error_types(errors)
        if "RATE_LIMITED" in types or any(Requester.isPrimaryRateLimitError(text) for text in messages):
            if not Requester.isPrimaryRateLimitError(message):
                message = f"{_PRIMARY_PREFIX} (GraphQL): {message}"
            raise GraphQLError(403, message, errors, headers)
        if any("secondary rate limit" in text.lower() for text in messages):
            if not Requester.isSecondaryRateLimitError(message):
                message = f"{_SECONDARY_PREFIX} (GraphQL): {message}"
            raise GraphQLError(403, message, errors, headers)
        if "NOT_FOUND" in types:
            raise GraphQLError(404, message, errors, headers)
        if "FORBIDDEN" in types or any("not accessible" in text.lower() for text in messages):
            raise GraphQLError(403, message, errors, headers)
        raise GraphQLError(422, message, errors, headers)
    data = reply.get("data")
    if not isinstance(data, dict):
        raise GraphQLError(502, "the GraphQL reply holds no data", [], headers)
    return data
