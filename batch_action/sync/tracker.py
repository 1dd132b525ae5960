"""The port between the sync and an issue tracker. The planner and the engine only ever see this.

`GitHubTracker` (PyGithub) implements it for real; tests may use the loopback fake GitHub server behind the
real adapter, or a small in-memory double.

Issues are named by their per-repository `number`; sub-issue and blocked-by links need the database `id`,
so every `RemoteIssue` carries both. PyGithub objects never cross this boundary: only plain values do, which
is what lets each worker thread own its own client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RemoteIssue:
    number: int
    id: int
    title: str
    body: str
    state: str  # "open" | "closed"
    labels: tuple[str, ...] = ()
    state_reason: str | None = None
    html_url: str = ""
    # What the listing says about links, when the API includes it (None: unknown). They let a plain re-run see a
    # link that an interrupted run never made, without one request per issue.
    parent_number: int | None = None
    blocked_by_total: int | None = None
    # Sub-issues GitHub holds under this issue, closed ones included (they count toward its 100).
    sub_issues_total: int | None = None
    node_id: str = ""  # the GraphQL id: what a project item is made from
    type: str | None = None  # the issue type's name (organisations only), None when it has none


@dataclass(frozen=True, slots=True)
class RemoteLabel:
    name: str
    description: str = ""


@dataclass(frozen=True)
class IssueFields:
    """What the sync writes to an issue. `None` means: leave as it is."""

    title: str | None = None
    body: str | None = None
    labels: tuple[str, ...] | None = None
    state: str | None = None  # "open" | "closed"
    state_reason: str | None = None  # "completed" | "not_planned" | "reopened"
    type: str | None = None  # an issue type's name; "" clears it (sent as null)
    assignees: tuple[str, ...] | None = None  # replaces the whole set


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The primary (core) budget as `GET /rate_limit` reports it: `remaining` of `limit` until `reset_at`."""

    limit: int
    remaining: int
    reset_at: float


@dataclass(frozen=True)
class Response:
    """What the adapter saw of one HTTP response: fed to the rate-limit governor and the report."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0


ResponseListener = Callable[[Response], None]


class IssueTracker(Protocol):
    """Everything the sync needs from GitHub. Every method is one logical call (one request, or a paginated read)."""

    def rate_limit(self) -> RateLimit | None:
        """The core budget left, from `GET /rate_limit` (which costs none of it); None where limits are off."""
        ...

    def list_synced(self, label: str, since: float | None = None) -> Iterator[RemoteIssue]:
        """Every issue (open and closed, pull requests skipped) that carries `label`, in pages of 100; with
        `since` (epoch seconds, the server's clock) only those updated at or after it (GitHub's `since`)."""
        ...

    def listed_at(self) -> float | None:
        """The server's time (its `Date`) when this thread's latest `list_synced` read its first page; None if
        unknown (a listing read ahead in another thread leaves this thread's as it was)."""
        ...

    def get_issue(self, number: int) -> RemoteIssue | None:
        """One issue by number, or None when it does not exist (404/410) or is a pull request."""
        ...

    def list_labels(self) -> list[str]:
        """The names of the repository's labels (paginated)."""
        ...

    def create_label(self, name: str, color: str, description: str = "") -> bool:
        """One POST; False when the label already exists (someone made it meanwhile). Atomic: of two runs
        creating the same name, exactly one gets True."""
        ...

    def get_label(self, name: str) -> RemoteLabel | None:
        """One label by name, or None when the repository has none of that name."""
        ...

    def update_label(
        self, name: str, *, new_name: str | None = None, description: str | None = None
    ) -> RemoteLabel | None:
        """One PATCH; the label as it is afterwards, or None when no label has `name` or `new_name` is taken."""
        ...

    def delete_label(self, name: str) -> bool:
        """One DELETE; False when no label has that name."""
        ...

    def create_issue(
        self,
        title: str,
        body: str,
        labels: Iterable[str],
        assignees: Iterable[str] = (),
        *,
        issue_type: str | None = None,
    ) -> RemoteIssue:
        """POST a new issue (with `issue_type`'s name, unless None). Never retried by the adapter: an unknown
        outcome must be reconciled by marker."""
        ...

    def update_issue(self, number: int, fields: IssueFields) -> RemoteIssue: ...

    def add_labels(self, number: int, labels: Iterable[str]) -> tuple[str, ...]:
        """Add labels to an issue (one POST); the issue's labels afterwards."""
        ...

    def list_sub_issues(self, number: int) -> list[RemoteIssue]: ...

    def get_parent(self, number: int) -> RemoteIssue | None:
        """The issue `number` is a sub-issue of, or None."""
        ...

    def add_sub_issue(self, parent_number: int, child_id: int) -> None:
        """Link `child_id` (database id) under the parent; an existing identical link counts as success."""
        ...

    def remove_sub_issue(self, parent_number: int, child_id: int) -> None: ...

    def list_blocked_by(self, number: int) -> list[RemoteIssue]: ...

    def add_blocked_by(self, number: int, blocker_id: int) -> None:
        """Record that issue `number` is blocked by the issue with database id `blocker_id` (idempotent)."""
        ...

    def remove_blocked_by(self, number: int, blocker_id: int) -> None: ...
