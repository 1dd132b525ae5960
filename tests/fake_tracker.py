"""An in-memory `IssueTracker` (the port in batch_action/sync/tracker.py), for fast unit tests of the sync.

Beside the loopback fake GitHub (tests/fake_github), which tests the PyGithub adapter over real HTTP, this one
tests what sits above the port: the Applier, observe, the lease, a whole run through `cli.main(...,
tracker_factory=...)`. It keeps issues, labels, sub-issue and blocked-by links, and every call in `calls`.

Scripted faults:
- `fail(method, error, times=1)`: the next `times` calls of `method` raise `error` (e.g. `http_error(502)`), before
  doing anything;
- `lose_create_responses(times=1)`: the next creates land, then raise `TimeoutError` as if the answer was lost
  (what must never become a duplicate issue);
- `read_only=True`: any write is refused with `ReadOnlyViolation` and recorded in `violations` (a dry run must
  leave that list empty even if the code under test swallowed the error).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from github.GithubException import GithubException

from batch_action.sync.tracker import IssueFields, RateLimit, RemoteIssue, RemoteLabel

WRITES = frozenset(
    {
        "create_label",
        "update_label",
        "delete_label",
        "create_issue",
        "update_issue",
        "add_labels",
        "add_sub_issue",
        "remove_sub_issue",
        "add_blocked_by",
        "remove_blocked_by",
    }
)


class ReadOnlyViolation(AssertionError):
    """A write was sent to a tracker in read-only mode."""


def http_error(status: int, message: str = "", headers: dict[str, str] | None = None) -> GithubException:
    """What the PyGithub adapter raises for an HTTP error: the classifier reads status, message and headers."""
    return GithubException(status, {"message": message or f"HTTP {status}"}, headers or {})


@dataclass
class _Issue:
    number: int
    id: int
    title: str
    body: str
    labels: list[str]
    state: str = "open"
    state_reason: str | None = None
    type: str | None = None  # the issue type's name
    assignees: tuple[str, ...] = ()


@dataclass
class FakeTracker:
    read_only: bool = False
    sub_issues: bool = True  # False: the server has no sub-issue endpoints (404), as an old GHES
    dependencies: bool = True
    rate: RateLimit | None = field(default_factory=lambda: RateLimit(5000, 4990, 4_102_444_800.0))
    issues: dict[int, _Issue] = field(default_factory=dict)
    labels: dict[str, RemoteLabel] = field(default_factory=dict)  # lower-case name -> label
    parents: dict[int, int] = field(default_factory=dict)  # child number -> parent number
    blockers: dict[int, set[int]] = field(default_factory=dict)  # number -> blocker numbers
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _faults: dict[str, list[BaseException]] = field(default_factory=dict)
    _lost_creates: int = 0
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- scripting ------------------------------------------------------------------------------------------
    def fail(self, method: str, error: BaseException, times: int = 1) -> None:
        self._faults.setdefault(method, []).extend([error] * times)

    def lose_create_responses(self, times: int = 1) -> None:
        self._lost_creates += times

    def seed(self, title: str, body: str, labels: Iterable[str] = (), state: str = "open") -> RemoteIssue:
        """An issue that exists before the test (made by a person, or an earlier sync)."""
        with self._lock:
            number = next(self._numbers)
            self.issues[number] = _Issue(number, 1000 + number, title, body, list(labels), state)
            return self._remote(self.issues[number])

    def writes(self) -> list[tuple[str, tuple[object, ...]]]:
        return [call for call in self.calls if call[0] in WRITES]

    def _call(self, method: str, *args: object) -> None:
        with self._lock:
            self.calls.append((method, args))
            if self.read_only and method in WRITES:
                self.violations.append(f"{method}{args}")
                raise ReadOnlyViolation(f"write in read-only mode: {method}{args}")
            queued = self._faults.get(method)
            if queued:
                raise queued.pop(0)

    def _remote(self, issue: _Issue) -> RemoteIssue:
        children = [child for child, parent in self.parents.items() if parent == issue.number]
        return RemoteIssue(
            number=issue.number,
            id=issue.id,
            title=issue.title,
            body=issue.body,
            state=issue.state,
            labels=tuple(issue.labels),
            state_reason=issue.state_reason,
            html_url=f"https://github.com/octo/repo/issues/{issue.number}",
            parent_number=self.parents.get(issue.number) if self.sub_issues else None,
            blocked_by_total=len(self.blockers.get(issue.number, ())) if self.dependencies else None,
            sub_issues_total=len(children) if self.sub_issues else None,
            node_id=f"I_fake{issue.id}",
            type=issue.type,
        )

    def _issue(self, number: int) -> _Issue:
        if number not in self.issues:
            raise http_error(404, "Not Found")
        return self.issues[number]

    def _by_id(self, id_: int) -> _Issue:
        for issue in self.issues.values():
            if issue.id == id_:
                return issue
        raise http_error(422, "Validation Failed")

    def _need(self, feature_present: bool) -> None:
        if not feature_present:
            raise http_error(404, "Not Found")

    def _make_labels(self, names: Iterable[str]) -> list[str]:
        """GitHub makes a label on first use in an issue write."""
        kept = []
        for name in names:
            self.labels.setdefault(name.lower(), RemoteLabel(name))
            kept.append(self.labels[name.lower()].name)
        return list(dict.fromkeys(kept))

    # -- the port -------------------------------------------------------------------------------------------
    def rate_limit(self) -> RateLimit | None:
        self._call("rate_limit")
        return self.rate

    def list_synced(self, label: str, since: float | None = None) -> Iterator[RemoteIssue]:
        # No update times kept: with `since`, every issue counts as changed (a superset, as a lagging server).
        self._call("list_synced", label)
        with self._lock:
            found = [
                self._remote(issue)
                for issue in sorted(self.issues.values(), key=lambda i: i.number)
                if label.lower() in {name.lower() for name in issue.labels}
            ]
        return iter(found)

    def listed_at(self) -> float | None:
        return None  # no server clock: a run on this tracker plans again under the lease

    def get_issue(self, number: int) -> RemoteIssue | None:
        self._call("get_issue", number)
        with self._lock:
            return self._remote(self.issues[number]) if number in self.issues else None

    def list_labels(self) -> list[str]:
        self._call("list_labels")
        with self._lock:
            return [label.name for label in self.labels.values()]

    def create_label(self, name: str, color: str, description: str = "") -> bool:
        self._call("create_label", name, color, description)
        with self._lock:
            if name.lower() in self.labels:
                return False
            self.labels[name.lower()] = RemoteLabel(name, description)
            return True

    def get_label(self, name: str) -> RemoteLabel | None:
        self._call("get_label", name)
        with self._lock:
            return self.labels.get(name.lower())

    def update_label(
        self, name: str, *, new_name: str | None = None, description: str | None = None
    ) -> RemoteLabel | None:
        self._call("update_label", name, new_name, description)
        with self._lock:
            label = self.labels.get(name.lower())
            if label is None or (
                new_name is not None and new_name.lower() != name.lower() and new_name.lower() in self.labels
            ):
                return None
            updated = RemoteLabel(new_name or label.name, label.description if description is None else description)
            del self.labels[name.lower()]
            self.labels[updated.name.lower()] = updated
            return updated

    def delete_label(self, name: str) -> bool:
        self._call("delete_label", name)
        with self._lock:
            return self.labels.pop(name.lower(), None) is not None

    def create_issue(
        self,
        title: str,
        body: str,
        labels: Iterable[str],
        assignees: Iterable[str] = (),
        *,
        issue_type: str | None = None,
    ) -> RemoteIssue:
        names = tuple(labels)
        self._call("create_issue", title, names)
        with self._lock:
            number = next(self._numbers)
            self.issues[number] = _Issue(
                number,
                1000 + number,
                title,
                body,
                self._make_labels(names),
                type=issue_type,
                assignees=tuple(assignees),
            )
            created = self._remote(self.issues[number])
            if self._lost_creates:
                self._lost_creates -= 1
                raise TimeoutError("the response to the create was lost")
            return created

    def update_issue(self, number: int, fields: IssueFields) -> RemoteIssue:
        self._call("update_issue", number, fields)
        with self._lock:
            issue = self._issue(number)
            changes = {
                name: value
                for name, value in (("title", fields.title), ("body", fields.body), ("state", fields.state))
                if value is not None
            }
            for name, value in changes.items():
                setattr(issue, name, value)
            if fields.labels is not None:
                issue.labels = self._make_labels(fields.labels)
            if fields.assignees is not None:
                issue.assignees = fields.assignees
            if fields.state is not None:
                issue.state_reason = fields.state_reason if fields.state == "closed" else None
            if fields.type is not None:
                issue.type = fields.type or None
            return self._remote(issue)

    def add_labels(self, number: int, labels: Iterable[str]) -> tuple[str, ...]:
        names = tuple(labels)
        self._call("add_labels", number, names)
        with self._lock:
            issue = self._issue(number)
            issue.labels = list(dict.fromkeys([*issue.labels, *self._make_labels(names)]))
            return tuple(issue.labels)

    def list_sub_issues(self, number: int) -> list[RemoteIssue]:
        self._call("list_sub_issues", number)
        self._need(self.sub_issues)
        with self._lock:
            self._issue(number)
            return [self._remote(self.issues[c]) for c, p in sorted(self.parents.items()) if p == number]

    def get_parent(self, number: int) -> RemoteIssue | None:
        self._call("get_parent", number)
        self._need(self.sub_issues)
        with self._lock:
            parent = self.parents.get(self._issue(number).number)
            return self._remote(self.issues[parent]) if parent is not None else None

    def add_sub_issue(self, parent_number: int, child_id: int) -> None:
        self._call("add_sub_issue", parent_number, child_id)
        self._need(self.sub_issues)
        with self._lock:
            self._issue(parent_number)
            self.parents[self._by_id(child_id).number] = parent_number

    def remove_sub_issue(self, parent_number: int, child_id: int) -> None:
        self._call("remove_sub_issue", parent_number, child_id)
        self._need(self.sub_issues)
        with self._lock:
            child = self._by_id(child_id).number
            if self.parents.get(child) == parent_number:
                del self.parents[child]

    def list_blocked_by(self, number: int) -> list[RemoteIssue]:
        self._call("list_blocked_by", number)
        self._need(self.dependencies)
        with self._lock:
            self._issue(number)
            return [self._remote(self.issues[b]) for b in sorted(self.blockers.get(number, ()))]

    def add_blocked_by(self, number: int, blocker_id: int) -> None:
        self._call("add_blocked_by", number, blocker_id)
        self._need(self.dependencies)
        with self._lock:
            self._issue(number)
            self.blockers.setdefault(number, set()).add(self._by_id(blocker_id).number)

    def remove_blocked_by(self, number: int, blocker_id: int) -> None:
        self._call("remove_blocked_by", number, blocker_id)
        self._need(self.dependencies)
        with self._lock:
            self.blockers.get(number, set()).discard(self._by_id(blocker_id).number)

    # -- views for assertions ---------------------------------------------------------------------------------
    def remote(self, number: int) -> RemoteIssue:
        with self._lock:
            return replace(self._remote(self._issue(number)))
